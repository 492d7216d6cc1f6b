/**
 * RemotingServer against real loopback clients (Channel.make). Time is TestClock's: processors
 * that "take a while" sleep on it, and shutdown deadlines are driven with TestClock.adjust.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Fiber, Layer, Queue, Schema, Scope } from "effect"
import { TestClock } from "effect/testing"
import * as Channel from "../src/Channel.ts"
import * as RemotingCommand from "../src/RemotingCommand.ts"
import * as RemotingServer from "../src/RemotingServer.ts"
import type * as RpcHook from "../src/RpcHook.ts"
import { failureOf, settle } from "./support/Effects.ts"

const ok = (request: RemotingCommand.RemotingCommand, remark?: string) =>
  Effect.succeed(RemotingCommand.response(request, 0, remark, { extFields: request.extFields, body: request.body }))

const connect = (server: RemotingServer.RemotingServerShape, options?: Partial<Channel.ChannelOptions>) =>
  Channel.make({ host: server.host, port: server.port, ...options })

const req = (code: number, input?: Omit<RemotingCommand.Input, "code">) => RemotingCommand.make({ code, ...input })

class Boom extends Schema.TaggedError<Boom>()("Boom", { what: Schema.String }) {
  override get message() {
    return `the ${this.what} exploded`
  }
}

describe("RemotingServer: dispatch", () => {
  it.effect("hands each request to the processor of its code and answers with the request's opaque and the response bit", () =>
    Effect.gen(function*() {
      const seen: Array<[number, number]> = []
      const server = yield* RemotingServer.make({
        processors: {
          10: (r) => Effect.sync(() => seen.push([10, r.opaque])).pipe(Effect.andThen(ok(r, "ten"))),
          // A processor may build its response any way it likes: the server sets opaque and flag.
          11: (r) => Effect.sync(() => seen.push([11, r.opaque])).pipe(Effect.as(RemotingCommand.make({ code: 0, remark: "eleven", opaque: 999 })))
        }
      })
      expect(server.port).toBeGreaterThan(0)
      expect(server.address).toBe(`127.0.0.1:${server.port}`)
      const channel = yield* connect(server)
      const a = yield* channel.sendWaitResponse(req(10, { extFields: { k: "v" } }), 1000)
      const b = yield* channel.sendWaitResponse(req(11), 1000)
      expect([a.remark, a.extFields.k, RemotingCommand.isResponse(a)]).toEqual(["ten", "v", true])
      expect([b.remark, RemotingCommand.isResponse(b)]).toEqual(["eleven", true])
      expect(seen.map(([code]) => code)).toEqual([10, 11])
      // The client matched both by opaque, so each carried its request's opaque.
      expect(channel.diagnostics().unmatchedResponses).toBe(0)
      expect(yield* channel.pending).toBe(0)
    }))

  it.effect("answers a code without a processor with REQUEST_CODE_NOT_SUPPORTED and Java's remark", () =>
    Effect.gen(function*() {
      const server = yield* RemotingServer.make({ processors: { 10: (r) => ok(r) } })
      const channel = yield* connect(server)
      const response = yield* channel.sendWaitResponse(req(4242), 1000)
      expect(response.code).toBe(3)
      expect(response.remark).toBe(" request type 4242 not supported")
    }))

  it.effect("sends codes without a processor of their own to the default processor", () =>
    Effect.gen(function*() {
      const server = yield* RemotingServer.make({
        processors: new Map([[10, (r: RemotingCommand.RemotingCommand) => ok(r, "own")]]),
        defaultProcessor: (r) => ok(r, `default ${r.code}`)
      })
      const channel = yield* connect(server)
      expect((yield* channel.sendWaitResponse(req(10), 1000)).remark).toBe("own")
      expect((yield* channel.sendWaitResponse(req(77), 1000)).remark).toBe("default 77")
    }))

  it.effect("answers a failing processor with SYSTEM_ERROR and a short description; the connection stays up", () =>
    Effect.gen(function*() {
      const server = yield* RemotingServer.make({
        processors: {
          1: () => Effect.fail(new Boom({ what: "processor" })),
          2: () => Effect.die(new TypeError("x is not a function")),
          3: () => Effect.fail("x".repeat(1000))
        }
      })
      const channel = yield* connect(server)
      const typed = yield* channel.sendWaitResponse(req(1), 1000)
      expect([typed.code, typed.remark]).toEqual([1, "Boom: the processor exploded"])
      const defect = yield* channel.sendWaitResponse(req(2), 1000)
      expect([defect.code, defect.remark]).toEqual([1, "TypeError: x is not a function"])
      const long = yield* channel.sendWaitResponse(req(3), 1000)
      expect(long.code).toBe(1)
      expect(long.remark!.length).toBe(256)
      expect(yield* channel.isHealthy).toBe(true)
      expect(yield* server.inFlight).toBe(0)
    }))

  it.effect("never answers a oneway request, whatever its processor does; a processor's undefined writes nothing", () =>
    Effect.gen(function*() {
      const called: Array<number> = []
      const server = yield* RemotingServer.make({
        processors: {
          1: (r) => Effect.sync(() => called.push(1)).pipe(Effect.andThen(ok(r))),
          2: () => Effect.sync(() => called.push(2)).pipe(Effect.andThen(Effect.fail("no"))),
          3: () => Effect.sync(() => called.push(3)).pipe(Effect.as(undefined)),
          9: (r) => ok(r, "marker")
        }
      })
      const channel = yield* connect(server)
      yield* channel.sendOneway(req(1))
      yield* channel.sendOneway(req(2))
      yield* channel.sendOneway(req(404)) // unknown code, oneway: no REQUEST_CODE_NOT_SUPPORTED either
      const silent = yield* Effect.forkChild(channel.sendWaitResponse(req(3), 500))
      // The marker's answer is written after everything before it was processed and answered.
      expect((yield* channel.sendWaitResponse(req(9), 1000)).remark).toBe("marker")
      yield* settle(() => called.length === 3)
      expect(called.sort()).toEqual([1, 2, 3])
      yield* TestClock.adjust(500)
      expect(failureOf(yield* Fiber.await(silent))._tag).toBe("RequestTimeout")
      // Anything written for the oneways or the silent request would have arrived as unmatched.
      expect(channel.diagnostics().unmatchedResponses).toBe(0)
      expect(yield* channel.pending).toBe(0)
    }))

  it.effect("processes requests concurrently: a slow processor does not hold up others on the same connection", () =>
    Effect.gen(function*() {
      const server = yield* RemotingServer.make({
        processors: { 1: (r) => Effect.sleep(1000).pipe(Effect.andThen(ok(r, "slow"))), 2: (r) => ok(r, "fast") }
      })
      const channel = yield* connect(server)
      const slow = yield* Effect.forkChild(channel.sendWaitResponse(req(1), 5000))
      expect((yield* channel.sendWaitResponse(req(2), 5000)).remark).toBe("fast")
      expect(slow.pollUnsafe()).toBeUndefined()
      expect(yield* server.inFlight).toBe(1)
      yield* TestClock.adjust(1000)
      expect((yield* Fiber.join(slow)).remark).toBe("slow")
      expect(yield* server.inFlight).toBe(0)
    }))

  it.effect("serves many clients at once, each answer on its own connection", () =>
    Effect.gen(function*() {
      const server = yield* RemotingServer.make({ defaultProcessor: (r) => ok(r) })
      const channels = yield* Effect.forEach([0, 1, 2, 3], () => connect(server))
      const results = yield* Effect.forEach(
        Array.from({ length: 400 }, (_, i) => i),
        (i) =>
          channels[i % 4]!.sendWaitResponse(req(10, { extFields: { i: String(i) } }), 5000).pipe(
            Effect.map((r) => r.extFields.i === String(i))
          ),
        { concurrency: "unbounded" }
      )
      expect(results.every((x) => x)).toBe(true)
      expect((yield* server.connections).map((c) => c.id)).toEqual([1, 2, 3, 4])
    }))

  it.effect("processors may require services; the server provides them from where it was made", () =>
    Effect.gen(function*() {
      class Greeting extends Context.Service<Greeting, string>()("test/Greeting") {}
      const processor: RemotingServer.Processor<Greeting> = (r) =>
        Effect.gen(function*() {
          return yield* ok(r, yield* Greeting)
        })
      const server = yield* RemotingServer.make({ processors: { 1: processor } }).pipe(
        Effect.provideService(Greeting, "hello from the context")
      )
      const channel = yield* connect(server)
      expect((yield* channel.sendWaitResponse(req(1), 1000)).remark).toBe("hello from the context")
    }))
})

describe("RemotingServer: hooks", () => {
  it.effect("runs beforeRequest hooks in order, then the processor, then afterResponse hooks in order", () =>
    Effect.gen(function*() {
      const order: Array<string> = []
      const hook = (name: string): RpcHook.RpcHook => ({
        name,
        beforeRequest: (address, request) =>
          Effect.sync(() => {
            order.push(`before ${name} ${address.startsWith("127.0.0.1:")}`)
            return RemotingCommand.withExtFields(request, { [name]: "seen" })
          }),
        afterResponse: (_address, request, response) =>
          Effect.sync(() => {
            order.push(`after ${name}`)
            return RemotingCommand.withExtFields(response, { [`after-${name}`]: Object.keys(request.extFields).sort().join(",") })
          })
      })
      const server = yield* RemotingServer.make({
        hooks: [hook("a"), hook("b")],
        processors: {
          1: (r) =>
            Effect.sync(() => {
              order.push(`processor ${Object.keys(r.extFields).sort().join(",")}`)
              return RemotingCommand.response(r, 0)
            })
        }
      })
      const channel = yield* connect(server)
      const response = yield* channel.sendWaitResponse(req(1), 1000)
      expect(order).toEqual(["before a true", "before b true", "processor a,b", "after a", "after b"])
      expect(response.extFields).toEqual({ "after-a": "a,b", "after-b": "a,b" })
      // Unknown codes are answered before any hook runs, as in Java.
      order.length = 0
      expect((yield* channel.sendWaitResponse(req(2), 1000)).code).toBe(3)
      expect(order).toEqual([])
    }))

  it.effect("a failing hook is answered with SYSTEM_ERROR and the processor does not run", () =>
    Effect.gen(function*() {
      let ran = false
      const server = yield* RemotingServer.make({
        hooks: [{ name: "deny", beforeRequest: () => Effect.fail(new Boom({ what: "hook" })) }],
        processors: { 1: (r) => Effect.sync(() => (ran = true)).pipe(Effect.andThen(ok(r))) }
      })
      const channel = yield* connect(server)
      const response = yield* channel.sendWaitResponse(req(1), 1000)
      expect([response.code, response.remark, ran]).toEqual([1, "Boom: the hook exploded", false])
    }))
})

describe("RemotingServer: server-initiated requests", () => {
  it.effect("a request the server sends reaches the client's RequestHandler and its reply comes back", () =>
    Effect.gen(function*() {
      const accepted = yield* Queue.unbounded<RemotingServer.ServerConnection>()
      const server = yield* RemotingServer.make({ onConnection: (c) => Queue.offer(accepted, c).pipe(Effect.asVoid) })
      const handled: Array<number> = []
      const channel = yield* connect(server).pipe(
        Effect.provideService(Channel.RequestHandler, {
          handle: (r) =>
            Effect.sync(() => {
              handled.push(r.code)
              return RemotingCommand.response(r, 0, `client answered ${r.code}`)
            })
        })
      )
      const connection = yield* Queue.take(accepted)
      expect(connection.remoteAddress).toMatch(/^127\.0\.0\.1:\d+$/)
      expect((yield* server.connections).map((c) => c.id)).toEqual([connection.id])
      const reply = yield* connection.channel.sendWaitResponse(req(307), 1000)
      expect([reply.code, reply.remark]).toEqual([0, "client answered 307"])
      // A oneway one (as CHECK_TRANSACTION_STATE) is handled and not answered.
      yield* connection.channel.sendOneway(req(39))
      yield* settle(() => handled.length === 2)
      expect(handled).toEqual([307, 39])
      expect(connection.channel.diagnostics().unmatchedResponses).toBe(0)
      expect(yield* connection.channel.pending).toBe(0)
      expect(yield* channel.isHealthy).toBe(true)
    }))

  it.effect("a processor can ask the client something before it answers", () =>
    Effect.gen(function*() {
      const server = yield* RemotingServer.make({
        processors: {
          10: (request, { connection }) =>
            connection.channel.sendWaitResponse(req(221), 1000).pipe(
              Effect.map((status) => RemotingCommand.response(request, 0, `client status: ${status.remark}`))
            )
        }
      })
      const channel = yield* connect(server).pipe(
        Effect.provideService(Channel.RequestHandler, {
          handle: (r) => Effect.succeed(RemotingCommand.response(r, 0, "consuming"))
        })
      )
      expect((yield* channel.sendWaitResponse(req(10), 2000)).remark).toBe("client status: consuming")
    }))
})

describe("RemotingServer: connections", () => {
  it.effect("a client going away closes its connection and interrupts its processors", () =>
    Effect.gen(function*() {
      const interrupted = yield* Deferred.make<void>()
      const server = yield* RemotingServer.make({
        processors: { 1: () => Effect.never.pipe(Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined))) }
      })
      const scope = yield* Scope.make()
      const channel = yield* connect(server).pipe(Scope.provide(scope))
      yield* Effect.forkChild(channel.sendWaitResponse(req(1), 60_000))
      yield* settle(() => Effect.runSync(server.inFlight) === 1)
      const [connection] = yield* server.connections
      yield* Scope.close(scope, Exit.void)
      expect((yield* connection!.channel.closed)._tag).toBe("ClosedByPeer")
      yield* Deferred.await(interrupted)
      yield* settle(() => Effect.runSync(server.connections).length === 0 && Effect.runSync(server.inFlight) === 0)
      expect(connection!.channel.diagnostics().fibers.every((f) => f.pollUnsafe() !== undefined)).toBe(true)
    }))

  it.effect("pauseReading stops decoding the client's requests until resumeReading", () =>
    Effect.gen(function*() {
      const server = yield* RemotingServer.make({ defaultProcessor: (r) => ok(r) })
      const channel = yield* connect(server)
      yield* channel.sendWaitResponse(req(1), 1000)
      const [connection] = yield* server.connections
      yield* connection!.pauseReading
      const fiber = yield* Effect.forkChild(channel.sendWaitResponse(req(2), 60_000))
      // Give the request real time to cross the loopback: it must stay unanswered.
      yield* TestClock.withLive(Effect.sleep(50))
      expect(fiber.pollUnsafe()).toBeUndefined()
      yield* connection!.resumeReading
      expect((yield* Fiber.join(fiber)).code).toBe(0)
    }))

  it.effect("listens on IPv6 loopback and names clients [v6]:port", () =>
    Effect.gen(function*() {
      const accepted = yield* Queue.unbounded<RemotingServer.ServerConnection>()
      const server = yield* RemotingServer.make({
        host: "::1",
        defaultProcessor: (r) => ok(r),
        onConnection: (c) => Queue.offer(accepted, c).pipe(Effect.asVoid)
      })
      expect(server.address).toBe(`[::1]:${server.port}`)
      const channel = yield* Channel.make({ host: "::1", port: server.port })
      expect((yield* channel.sendWaitResponse(req(1), 1000)).code).toBe(0)
      expect((yield* Queue.take(accepted)).remoteAddress).toMatch(/^\[::1\]:\d+$/)
    }))

  it.effect("fails with ServerListenError naming the address when the port is taken", () =>
    Effect.gen(function*() {
      const first = yield* RemotingServer.make()
      const error = failureOf(yield* Effect.exit(RemotingServer.make({ port: first.port })))
      assert(error._tag === "ServerListenError")
      expect(error.address).toBe(`127.0.0.1:${first.port}`)
      expect(error.detail).toBe("EADDRINUSE")
      expect(error.message).toContain("Another process holds the port")
    }))

  it.effect("the layer listens while it is alive and closes every connection when released", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(
        RemotingServer.layer({ defaultProcessor: (r) => ok(r), shutdownTimeout: 0 }),
        scope
      )
      const server = Context.get(context, RemotingServer.RemotingServer)
      const channel = yield* connect(server)
      expect((yield* channel.sendWaitResponse(req(1), 1000)).code).toBe(0)
      yield* Scope.close(scope, Exit.void)
      expect((yield* channel.closed)._tag).toBe("ClosedByPeer")
      const refused = failureOf(yield* Effect.exit(connect(server)))
      assert(refused._tag === "ConnectError")
      expect(refused.reason).toBe("Refused")
    }))
})

describe("RemotingServer: shutdown", () => {
  const slowServer = (shutdownTimeout?: number) =>
    Effect.gen(function*() {
      const interrupted: Array<number> = []
      const server = yield* RemotingServer.make({
        shutdownTimeout,
        processors: {
          1: (r) =>
            Effect.sleep(Number(r.extFields.ms ?? 1000)).pipe(
              Effect.andThen(ok(r, "slow done")),
              Effect.onInterrupt(() => Effect.sync(() => interrupted.push(r.opaque)))
            ),
          2: (r) => ok(r, "quick")
        }
      })
      return { server, interrupted }
    })

  it.effect("answers new requests with GO_AWAY when the client's version is above 475, serves older clients, finishes in-flight work, then closes", () =>
    Effect.gen(function*() {
      const { server } = yield* slowServer()
      const channel = yield* connect(server)
      const slow = yield* Effect.forkChild(channel.sendWaitResponse(req(1, { extFields: { ms: "1000" } }), 10_000))
      yield* settle(() => Effect.runSync(server.inFlight) === 1)
      const shutdown = yield* Effect.forkChild(server.shutdown("5 seconds"))
      yield* settle(() => Effect.runSync(server.isShuttingDown))

      const modern = yield* channel.sendWaitResponse(req(2, { version: RemotingCommand.Version.V5_3_3 }), 1000)
      expect([modern.code, modern.remark]).toEqual([1500, "please go away"])
      const justAbove = yield* channel.sendWaitResponse(req(2, { version: 476 }), 1000)
      expect(justAbove.code).toBe(1500)
      const old = yield* channel.sendWaitResponse(req(2, { version: RemotingCommand.Version.V5_3_1 }), 1000)
      expect([old.code, old.remark]).toEqual([0, "quick"])
      // A oneway request gets no GO_AWAY either.
      yield* channel.sendOneway(req(2, { version: 479 }))
      // Unknown codes still get REQUEST_CODE_NOT_SUPPORTED (Java checks the processor first).
      expect((yield* channel.sendWaitResponse(req(99), 1000)).code).toBe(3)

      expect(shutdown.pollUnsafe()).toBeUndefined()
      expect(yield* channel.isHealthy).toBe(true)
      yield* TestClock.adjust(1000)
      expect((yield* Fiber.join(slow)).remark).toBe("slow done")
      yield* Fiber.join(shutdown)
      expect((yield* channel.closed)._tag).toBe("ClosedByPeer")
      expect(channel.diagnostics().unmatchedResponses).toBe(0)
      expect(yield* server.connections).toEqual([])
      expect(yield* server.inFlight).toBe(0)
    }))

  it.effect("stops accepting connections as soon as shutdown starts", () =>
    Effect.gen(function*() {
      const { server } = yield* slowServer()
      const channel = yield* connect(server)
      yield* Effect.forkChild(channel.sendWaitResponse(req(1, { extFields: { ms: "1000" } }), 10_000))
      yield* settle(() => Effect.runSync(server.inFlight) === 1)
      const shutdown = yield* Effect.forkChild(server.shutdown("5 seconds"))
      yield* settle(() => Effect.runSync(server.isShuttingDown))
      const refused = failureOf(yield* Effect.exit(connect(server)))
      assert(refused._tag === "ConnectError")
      expect(refused.reason).toBe("Refused")
      yield* TestClock.adjust(1000)
      yield* Fiber.join(shutdown)
    }))

  it.effect("closes connections at the deadline even when requests are still in flight, interrupting their processors", () =>
    Effect.gen(function*() {
      const { interrupted, server } = yield* slowServer()
      const channel = yield* connect(server)
      const slow = yield* Effect.forkChild(channel.sendWaitResponse(req(1, { extFields: { ms: "60000" } }), 120_000))
      yield* settle(() => Effect.runSync(server.inFlight) === 1)
      const shutdown = yield* Effect.forkChild(server.shutdown(1000))
      yield* TestClock.adjust(999)
      expect(shutdown.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust(1)
      yield* Fiber.join(shutdown)
      const error = failureOf(yield* Fiber.await(slow))
      assert(error._tag === "ChannelClosed")
      expect(["ClosedByPeer", "ConnectionReset"]).toContain(error.cause._tag)
      expect(interrupted.length).toBe(1)
      expect(yield* server.inFlight).toBe(0)
      expect(yield* server.connections).toEqual([])
      expect(yield* channel.pending).toBe(0)
    }))

  it.effect("with nothing in flight, shutdown closes at once without waiting for the deadline", () =>
    Effect.gen(function*() {
      const { server } = yield* slowServer()
      const channels = yield* Effect.forEach([0, 1, 2], () => connect(server))
      yield* Effect.forEach(channels, (c) => c.sendWaitResponse(req(2), 1000))
      const connections = yield* server.connections
      yield* server.shutdown("1 hour") // TestClock never moves: this returns only because nothing was left
      for (const channel of channels) expect((yield* channel.closed)._tag).toBe("ClosedByPeer")
      for (const c of connections) {
        expect(c.channel.diagnostics().closeReason).toBeDefined()
        expect(c.channel.diagnostics().fibers.every((f) => f.pollUnsafe() !== undefined)).toBe(true)
      }
      // Idempotent: a second call returns at once.
      yield* server.shutdown()
    }))

  it.effect("closing the server's scope shuts it down gracefully with the shutdownTimeout option", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const { server } = yield* slowServer(2000).pipe(Scope.provide(scope))
      const channel = yield* connect(server)
      const slow = yield* Effect.forkChild(channel.sendWaitResponse(req(1, { extFields: { ms: "500" } }), 10_000))
      yield* settle(() => Effect.runSync(server.inFlight) === 1)
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
      yield* settle(() => Effect.runSync(server.isShuttingDown))
      yield* TestClock.adjust(500)
      expect((yield* Fiber.join(slow)).remark).toBe("slow done")
      yield* Fiber.join(closing)
      expect((yield* channel.closed)._tag).toBe("ClosedByPeer")
    }))
})
