/**
 * Every FakeBroker behaviour, seen from a client `Channel`: what the caller gets, and that nothing
 * is left behind (no pending request; after a fatal fault the channel's fibers are done and the
 * broker's side of the connection is gone). Time is TestClock's; the sockets are real loopback.
 */
import { Channel, RemotingCommand } from "@effect-rocketmq/remoting"
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Scope } from "effect"
import { TestClock } from "effect/testing"
import { Buffer } from "node:buffer"
import * as FakeBroker from "../src/FakeBroker.ts"
import { closedAndClean, failureOf, settle } from "./support/helpers.ts"

const req = (code: number, input?: Omit<RemotingCommand.Input, "code">) => RemotingCommand.make({ code, ...input })

const setup = (options?: FakeBroker.FakeBrokerOptions, channel?: Partial<Channel.ChannelOptions>) =>
  Effect.gen(function*() {
    const broker = yield* FakeBroker.make(options)
    const client = yield* Channel.make({ host: broker.host, port: broker.port, ...channel })
    return { broker, client }
  })

/** The broker's end of the client's connection is gone too. */
const brokerSideClosed = (broker: FakeBroker.FakeBrokerShape) =>
  Effect.gen(function*() {
    const connection = yield* broker.connection()
    yield* connection.channel.closed
    yield* settle(() => Effect.runSync(broker.server.connections).length === 0)
    expect(yield* connection.channel.pending).toBe(0)
  })

describe("FakeBroker: answers", () => {
  it.effect("reply answers SUCCESS echoing ext fields and body, or the response given", () =>
    Effect.gen(function*() {
      const { broker, client } = yield* setup({
        scripts: { 2: FakeBroker.reply(17), 3: FakeBroker.reply((r) => RemotingCommand.response(r, 0, `hi ${r.code}`)) }
      })
      const echoed = yield* client.sendWaitResponse(req(1, { extFields: { a: "1" }, body: Buffer.from("body") }), 1000)
      expect([echoed.code, echoed.extFields.a, Buffer.from(echoed.body!).toString()]).toEqual([0, "1", "body"])
      expect((yield* client.sendWaitResponse(req(2), 1000)).code).toBe(17)
      expect((yield* client.sendWaitResponse(req(3), 1000)).remark).toBe("hi 3")
      const received = yield* broker.received
      expect(received.map((r) => [r.request.code, r.connectionId])).toEqual([[1, 1], [2, 1], [3, 1]])
      expect(yield* client.pending).toBe(0)
    }))

  it.effect("replyAfter answers when TestClock reaches the delay, not before", () =>
    Effect.gen(function*() {
      const { broker, client } = yield* setup({ scripts: { 1: FakeBroker.replyAfter("2 seconds") } })
      const fiber = yield* Effect.forkChild(client.sendWaitResponse(req(1), 5000))
      yield* broker.waitForRequests(1)
      yield* TestClock.adjust(1999)
      expect(fiber.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust(1)
      expect((yield* Fiber.join(fiber)).code).toBe(0)
      expect(yield* client.pending).toBe(0)
    }))

  it.effect("noReply leaves the caller to its deadline: RequestTimeout(written), table empty, channel healthy", () =>
    Effect.gen(function*() {
      const { broker, client } = yield* setup({ scripts: { 1: FakeBroker.noReply } })
      const fiber = yield* Effect.forkChild(client.sendWaitResponse(req(1), 3000))
      yield* broker.waitForRequests(1)
      yield* TestClock.adjust(3000)
      const error = failureOf(yield* Fiber.await(fiber))
      assert(error._tag === "RequestTimeout")
      expect(error.written).toBe(true)
      expect(yield* client.pending).toBe(0)
      expect(yield* client.isHealthy).toBe(true)
    }))

  it.effect("replyTwice: the caller gets the first answer, the second is dropped as unmatched", () =>
    Effect.gen(function*() {
      const { client } = yield* setup({ scripts: { 1: FakeBroker.replyTwice(0) } })
      expect((yield* client.sendWaitResponse(req(1), 1000)).code).toBe(0)
      yield* settle(() => client.diagnostics().unmatchedResponses === 1)
      expect(yield* client.pending).toBe(0)
      expect(yield* client.isHealthy).toBe(true)
    }))

  it.effect("replyWithOpaque: the answer matches nothing, the caller times out, the answer is counted unmatched", () =>
    Effect.gen(function*() {
      const { client } = yield* setup({ scripts: { 1: FakeBroker.replyWithOpaque() } })
      const fiber = yield* Effect.forkChild(client.sendWaitResponse(req(1), 1000))
      yield* settle(() => client.diagnostics().unmatchedResponses === 1)
      expect(fiber.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust(1000)
      expect(failureOf(yield* Fiber.await(fiber))._tag).toBe("RequestTimeout")
      expect(yield* client.pending).toBe(0)
      expect(yield* client.isHealthy).toBe(true)
    }))

  it.effect("goAway answers 1500 'please go away'; sequence(goAway, reply()) answers GO_AWAY once, then SUCCESS", () =>
    Effect.gen(function*() {
      const { client } = yield* setup({ scripts: { 1: FakeBroker.goAway, 2: FakeBroker.sequence(FakeBroker.goAway, FakeBroker.reply()) } })
      const away = yield* client.sendWaitResponse(req(1), 1000)
      expect([away.code, away.remark]).toEqual([1500, "please go away"])
      expect((yield* client.sendWaitResponse(req(2), 1000)).code).toBe(1500)
      expect((yield* client.sendWaitResponse(req(2), 1000)).code).toBe(0)
      expect((yield* client.sendWaitResponse(req(2), 1000)).code).toBe(0)
    }))

  it.effect("notSupported and fail answer as a Java server would; script changes behaviour at run time", () =>
    Effect.gen(function*() {
      const { broker, client } = yield* setup({ scripts: { 1: FakeBroker.notSupported, 2: FakeBroker.fail("disk full") } })
      const unsupported = yield* client.sendWaitResponse(req(1), 1000)
      expect([unsupported.code, unsupported.remark]).toEqual([3, " request type 1 not supported"])
      const failed = yield* client.sendWaitResponse(req(2), 1000)
      expect([failed.code, failed.remark]).toEqual([1, "disk full"])
      yield* broker.script(2, FakeBroker.reply())
      expect((yield* client.sendWaitResponse(req(2), 1000)).code).toBe(0)
      yield* broker.scriptDefault(FakeBroker.goAway)
      expect((yield* client.sendWaitResponse(req(99), 1000)).code).toBe(1500)
    }))
})

describe("FakeBroker: the connection breaks", () => {
  const fatal = (behavior: FakeBroker.Behavior) =>
    Effect.gen(function*() {
      const { broker, client } = yield* setup({ scripts: { 1: behavior, 2: FakeBroker.noReply } })
      // A request still waiting when the fault hits fails too, and at once (TestClock never moves).
      const bystander = yield* Effect.forkChild(client.sendWaitResponse(req(2), 60_000))
      yield* broker.waitForRequests(1)
      const error = failureOf(yield* Effect.exit(client.sendWaitResponse(req(1), 60_000)))
      const other = failureOf(yield* Fiber.await(bystander))
      assert(error._tag === "ChannelClosed")
      assert(other._tag === "ChannelClosed")
      expect(other.cause._tag).toBe(error.cause._tag)
      const clean = yield* closedAndClean(client)
      expect(clean.reason._tag).toBe(error.cause._tag)
      expect([clean.pending, clean.queued, clean.healthy]).toEqual([0, 0, false])
      yield* brokerSideClosed(broker)
      // Later requests fail at once with the same cause.
      const later = failureOf(yield* Effect.exit(client.sendWaitResponse(req(1), 60_000)))
      assert(later._tag === "ChannelClosed")
      return error.cause
    })

  it.effect("garbage closes the client's channel with a FrameDecodeError that names HTTP", () =>
    Effect.gen(function*() {
      const cause = yield* fatal(FakeBroker.garbage())
      assert(cause._tag === "FrameDecodeError")
      expect(cause.message).toContain("HTTP")
    }))

  it.effect("oversizedLength closes the client's channel with FrameTooLarge, before any of it is buffered", () =>
    Effect.gen(function*() {
      const cause = yield* fatal(FakeBroker.oversizedLength())
      assert(cause._tag === "FrameDecodeError")
      expect(cause.reason).toBe("FrameTooLarge")
      expect(cause.message).toContain("67108864")
    }))

  it.effect("close (FIN) fails the caller with ChannelClosed(ClosedByPeer) at once", () =>
    Effect.gen(function*() {
      const cause = yield* fatal(FakeBroker.close)
      expect(cause._tag).toBe("ClosedByPeer")
    }))

  it.effect("reset (RST) fails the caller with ChannelClosed(ConnectionReset: ECONNRESET) at once", () =>
    Effect.gen(function*() {
      const cause = yield* fatal(FakeBroker.reset)
      assert(cause._tag === "ConnectionReset")
      expect(cause.detail).toBe("ECONNRESET")
    }))
})

describe("FakeBroker: back-pressure", () => {
  it.effect("stopReading: the client's socket and send queue fill, and the next request fails QueueFull at its deadline", () =>
    Effect.gen(function*() {
      const { broker, client } = yield* setup({ scripts: { 1: FakeBroker.stopReading() } }, { queueCapacity: 2 })
      yield* client.sendOneway(req(1))
      const connection = yield* broker.connection()
      yield* broker.waitForRequests(1)
      const big = (i: number) => req(2, { extFields: { i: String(i) }, body: Buffer.alloc(1 << 20, i) })
      const fibers: Array<Fiber.Fiber<RemotingCommand.RemotingCommand, unknown>> = []
      for (let i = 0; i < 64 && client.diagnostics().queued < 2; i++) {
        fibers.push(yield* Effect.forkChild(client.sendWaitResponse(big(i), 10_000)))
        yield* TestClock.withLive(Effect.sleep(5))
      }
      expect(client.diagnostics().queued).toBe(2)
      expect((yield* broker.received).length).toBe(1) // nothing after the pause was decoded
      const parked = yield* Effect.forkChild(client.sendWaitResponse(req(3), 500))
      yield* TestClock.adjust(500)
      const error = failureOf(yield* Fiber.await(parked))
      assert(error._tag === "ChannelSendRequestFailed")
      expect(error.reason).toBe("QueueFull")
      // The rest expire at their deadlines; the ones still queued were never written.
      yield* TestClock.adjust(10_000)
      const rest = yield* Effect.forEach(fibers, (f) => Fiber.await(f).pipe(Effect.map(failureOf)))
      expect(rest.some((e) => e instanceof Error && (e as { written?: boolean }).written === false)).toBe(true)
      expect(yield* client.pending).toBe(0)
      expect(yield* connection.inFlight).toBe(0)
    }))

  it.effect("pauseReading (read slowly): requests sent meanwhile wait in the socket and are served when reading resumes", () =>
    Effect.gen(function*() {
      const { broker, client } = yield* setup({ scripts: { 1: FakeBroker.pauseReading("1 second") } })
      const first = yield* Effect.forkChild(client.sendWaitResponse(req(1), 5000))
      yield* broker.waitForRequests(1)
      const second = yield* Effect.forkChild(client.sendWaitResponse(req(2), 5000))
      yield* TestClock.withLive(Effect.sleep(30)) // real time for the bytes to reach the broker
      expect((yield* broker.received).length).toBe(1)
      yield* TestClock.adjust(1000)
      expect((yield* Fiber.join(first)).code).toBe(0)
      expect((yield* Fiber.join(second)).code).toBe(0)
      expect((yield* broker.received).map((r) => r.request.code)).toEqual([1, 2])
    }))
})

describe("FakeBroker: server-initiated requests", () => {
  it.effect("serverRequest asks the client first, records its answer, then replies", () =>
    Effect.gen(function*() {
      const { broker, client } = yield* setup(
        {
          scripts: {
            1: FakeBroker.serverRequest(req(307), { timeoutMillis: 1000 }),
            2: FakeBroker.serverRequest(req(39, { extFields: { tx: "1" } }), { oneway: true, then: FakeBroker.reply(0) })
          }
        }
      ).pipe(
        Effect.provideService(Channel.RequestHandler, {
          handle: (r) => Effect.succeed(RemotingCommand.response(r, 0, `client ran ${r.code}`))
        })
      )
      expect((yield* client.sendWaitResponse(req(1), 2000)).code).toBe(0)
      const [answer] = yield* broker.waitForServerResponses(1)
      assert(Exit.isSuccess(answer!))
      expect(answer.value.remark).toBe("client ran 307")
      expect((yield* client.sendWaitResponse(req(2), 2000)).code).toBe(0)
      expect((yield* broker.serverResponses).length).toBe(1) // the oneway one awaits nothing
      const connection = yield* broker.connection()
      expect(connection.channel.diagnostics().unmatchedResponses).toBe(0)
      expect(yield* connection.channel.pending).toBe(0)
    }))

  it.effect("the broker's connections can send requests of their own at any time", () =>
    Effect.gen(function*() {
      const seen: Array<number> = []
      const { broker, client } = yield* setup().pipe(
        Effect.provideService(Channel.RequestHandler, {
          handle: (r) => Effect.sync(() => (seen.push(r.code), RemotingCommand.response(r, 0)))
        })
      )
      yield* client.sendWaitResponse(req(10), 1000)
      const connection = yield* broker.connection()
      expect((yield* connection.channel.sendWaitResponse(req(221), 1000)).code).toBe(0)
      expect(seen).toEqual([221])
    }))
})

describe("FakeBroker: lifecycle", () => {
  it.effect("closing the broker's scope closes every client connection; the port refuses new ones", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const broker = yield* FakeBroker.make({ scripts: { 1: FakeBroker.replyAfter("1 hour") } }).pipe(Scope.provide(scope))
      const client = yield* Channel.make({ host: broker.host, port: broker.port })
      const pending = yield* Effect.forkChild(client.sendWaitResponse(req(1), 7_200_000))
      yield* broker.waitForRequests(1)
      // shutdownTimeout defaults to 0: the scope closes at once even with a behaviour still sleeping.
      yield* Scope.close(scope, Exit.void)
      const error = failureOf(yield* Fiber.await(pending))
      assert(error._tag === "ChannelClosed")
      const clean = yield* closedAndClean(client)
      expect(clean.pending).toBe(0)
      const refused = failureOf(yield* Effect.exit(Channel.make({ host: broker.host, port: broker.port })))
      assert(refused._tag === "ConnectError")
      expect(refused.reason).toBe("Refused")
    }))

  it.effect("the layer provides the FakeBroker service", () =>
    Effect.gen(function*() {
      const broker = yield* FakeBroker.FakeBroker
      const client = yield* Channel.make({ host: broker.host, port: broker.port })
      expect((yield* client.sendWaitResponse(req(1), 1000)).code).toBe(0)
      expect(broker.address).toBe(`127.0.0.1:${broker.port}`)
    }).pipe(Effect.provide(FakeBroker.layer())))
})
