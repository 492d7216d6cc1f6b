/**
 * The in-memory client/server pair: the real RemotingClient and RemotingServer over in-process
 * streams. No sockets are opened, and nothing waits for real time unless a test says so.
 */
import { Channel, RemotingClient, RemotingCommand, RemotingServer } from "@effect-rocketmq/remoting"
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Queue, Scope } from "effect"
import { TestClock } from "effect/testing"
import * as FakeBroker from "../src/FakeBroker.ts"
import * as RemotingTest from "../src/RemotingTest.ts"
import { closedAndClean, failureOf, settle } from "./support/helpers.ts"

const req = (code: number, input?: Omit<RemotingCommand.Input, "code">) => RemotingCommand.make({ code, ...input })

const echo: RemotingServer.Processor = (r) =>
  Effect.succeed(RemotingCommand.response(r, 0, `echo ${r.code}`, { extFields: r.extFields, body: r.body }))

describe("RemotingTest", () => {
  it.effect("the client invokes the server in memory; unknown codes get REQUEST_CODE_NOT_SUPPORTED", () =>
    Effect.gen(function*() {
      const { address, client, server } = yield* RemotingTest.make({ processors: { 10: echo } })
      expect(address).toBe("127.0.0.1:10911")
      const response = yield* client.invoke(address, req(10, { extFields: { topic: "T" } }), 1000)
      expect([response.remark, response.extFields.topic]).toEqual(["echo 10", "T"])
      const unsupported = yield* client.invoke(address, req(11), 1000)
      expect([unsupported.code, unsupported.remark]).toEqual([3, " request type 11 not supported"])
      yield* client.invokeOneway(address, req(10))
      expect((yield* server.connections).length).toBe(1)
      expect(client.diagnostics().channels.map((c) => c.address)).toEqual([address])
    }))

  it.effect("timeouts run on TestClock: a silent processor times the call out exactly at its deadline", () =>
    Effect.gen(function*() {
      const { address, client } = yield* RemotingTest.make({ processors: { 1: FakeBroker.toProcessor(FakeBroker.noReply) } })
      const call = yield* Effect.forkChild(client.invoke(address, req(1), 3000))
      yield* TestClock.adjust(2999)
      expect(call.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust(1)
      const error = failureOf(yield* Fiber.await(call))
      expect(error._tag).toBe("RequestTimeout")
      expect(client.diagnostics().channels.every((c) => c.pending === 0)).toBe(true)
    }))

  it.effect("a bare channel works too, and the server can call the client's request handler", () =>
    Effect.gen(function*() {
      const accepted = yield* Queue.unbounded<RemotingServer.ServerConnection>()
      const test = yield* RemotingTest.make({
        processors: { 1: echo },
        onConnection: (c) => Queue.offer(accepted, c).pipe(Effect.asVoid)
      })
      const channel = yield* test.connect().pipe(
        Effect.provideService(Channel.RequestHandler, {
          handle: (r) => Effect.succeed(RemotingCommand.response(r, 0, `client saw ${r.code}`))
        })
      )
      expect((yield* channel.sendWaitResponse(req(1), 1000)).remark).toBe("echo 1")
      const connection = yield* Queue.take(accepted)
      expect(connection.remoteAddress).toMatch(/^in-memory:\d+$/)
      expect((yield* connection.channel.sendWaitResponse(req(307), 1000)).remark).toBe("client saw 307")
    }))

  it.effect("the RemotingClient's requestHandler answers server-initiated requests", () =>
    Effect.gen(function*() {
      const accepted = yield* Queue.unbounded<RemotingServer.ServerConnection>()
      const { address, client } = yield* RemotingTest.make({
        processors: { 1: echo },
        onConnection: (c) => Queue.offer(accepted, c).pipe(Effect.asVoid),
        client: { requestHandler: { handle: (r) => Effect.succeed(RemotingCommand.response(r, 0, `handled ${r.code}`)) } }
      })
      yield* client.invoke(address, req(1), 1000)
      const connection = yield* Queue.take(accepted)
      expect((yield* connection.channel.sendWaitResponse(req(221), 1000)).remark).toBe("handled 221")
    }))

  it.effect("connecting to an address nobody serves fails at once with ConnectError(Refused)", () =>
    Effect.gen(function*() {
      const network = yield* RemotingTest.makeNetwork
      const error = failureOf(yield* Effect.exit(network.connect({ host: "10.0.0.9", port: 10911 })))
      assert(error._tag === "ConnectError")
      expect([error.reason, error.address]).toEqual(["Refused", "10.0.0.9:10911"])
      const { client } = yield* RemotingTest.make()
      const viaClient = failureOf(yield* Effect.exit(client.invoke("10.0.0.9:10911", req(1), 1000)))
      expect(viaClient._tag).toBe("ConnectError")
    }))

  it.effect("one network serves several addresses; a taken address is refused", () =>
    Effect.gen(function*() {
      const network = yield* RemotingTest.makeNetwork
      yield* network.serve("namesrv:9876", { defaultProcessor: (r) => Effect.succeed(RemotingCommand.response(r, 0, "namesrv")) })
      yield* network.serve("[::1]:10911", { defaultProcessor: (r) => Effect.succeed(RemotingCommand.response(r, 0, "broker")) })
      expect([...(yield* network.addresses)].sort()).toEqual(["[::1]:10911", "namesrv:9876"])
      const taken = failureOf(yield* Effect.exit(network.serve("namesrv:9876")))
      assert(taken._tag === "ServerListenError")
      const client = yield* RemotingClient.make({ channelFactory: network.connect, nameServerAddresses: "namesrv:9876" })
      expect((yield* client.invokeNameServer(req(106), 1000)).remark).toBe("namesrv")
      expect((yield* client.invoke("[::1]:10911", req(10), 1000)).remark).toBe("broker")
    }))

  it.effect("the server closing a connection (FIN) or resetting it (RST) fails the caller at once and leaves nothing behind", () =>
    Effect.gen(function*() {
      for (const [behavior, expected] of [[FakeBroker.close, "ClosedByPeer"], [FakeBroker.reset, "ConnectionReset"]] as const) {
        const network = yield* RemotingTest.makeNetwork
        const server = yield* network.serve("broker:10911", {
          processors: { 1: FakeBroker.toProcessor(behavior) }
        })
        const channel = yield* network.connect({ host: "broker", port: 10911 })
        const error = failureOf(yield* Effect.exit(channel.sendWaitResponse(req(1), 60_000)))
        assert(error._tag === "ChannelClosed")
        expect(error.cause._tag).toBe(expected)
        const clean = yield* closedAndClean(channel)
        expect([clean.pending, clean.healthy]).toEqual([0, false])
        yield* settle(() => Effect.runSync(server.connections).length === 0)
      }
    }))

  it.effect("the client retries once on GO_AWAY over a new in-memory connection", () =>
    Effect.gen(function*() {
      const { address, client, server } = yield* RemotingTest.make({
        processors: { 1: FakeBroker.toProcessor(FakeBroker.sequence(FakeBroker.goAway, FakeBroker.reply())) }
      })
      expect((yield* client.invoke(address, req(1), 1000)).code).toBe(0)
      yield* settle(() => Effect.runSync(server.connections).length === 1)
      expect((yield* server.connections)[0]!.id).toBe(2)
    }))

  it.effect("closing the scope shuts the server and the client down", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const test = yield* RemotingTest.make({ processors: { 1: echo } }).pipe(Scope.provide(scope))
      const channel = yield* test.connect()
      yield* test.client.invoke(test.address, req(1), 1000)
      yield* Scope.close(scope, Exit.void)
      expect((yield* closedAndClean(channel)).reason._tag).toBe("ClosedByPeer")
      expect(yield* test.network.addresses).toEqual([])
      expect(failureOf(yield* Effect.exit(test.client.invoke(test.address, req(1), 1000)))._tag).toBe("RemotingClientShutDown")
    }))

  it.effect("the layer provides RemotingClient and RemotingServer", () =>
    Effect.gen(function*() {
      const client = yield* RemotingClient.RemotingClient
      const server = yield* RemotingServer.RemotingServer
      expect((yield* client.invoke(server.address, req(5), 1000)).remark).toBe("echo 5")
    }).pipe(Effect.provide(RemotingTest.layer({ address: "broker-a:10911", processors: { 5: echo } }))))
})
