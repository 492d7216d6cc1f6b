/**
 * The README's examples, run as written (so the documentation cannot drift from the API).
 */
import { Channel, RemotingClient, RemotingCommand, type RemotingServer } from "@effect-rocketmq/remoting"
import { assert, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import * as FakeBroker from "../src/FakeBroker.ts"
import * as FaultProxy from "../src/FaultProxy.ts"
import * as HostileFrame from "../src/HostileFrame.ts"
import * as RemotingTest from "../src/RemotingTest.ts"

it.effect("README: a silent broker times the call out, and nothing is left pending", () =>
  Effect.gen(function*() {
    const broker = yield* FakeBroker.make({ scripts: { 10: FakeBroker.noReply } })
    const channel = yield* Channel.make({ host: broker.host, port: broker.port })

    const call = yield* Effect.forkChild(channel.sendWaitResponse(RemotingCommand.make({ code: 10 }), 3000))
    yield* broker.waitForRequests(1)
    yield* TestClock.adjust(3000)

    const exit = yield* Fiber.await(call)
    assert(exit._tag === "Failure")
    expect(yield* channel.pending).toBe(0)
  }))

it.effect("README: watching and steering", () =>
  Effect.gen(function*() {
    const broker = yield* FakeBroker.make()
    const client = yield* Channel.make({ host: broker.host, port: broker.port })
    yield* broker.script(10, FakeBroker.replyAfter("1 second"))
    yield* broker.scriptDefault(FakeBroker.goAway)
    expect((yield* client.sendWaitResponse(RemotingCommand.make({ code: 11 }), 1000)).code).toBe(1500)
    const [first] = yield* broker.waitForRequests(1)
    expect(first!.connectionId).toBe(1)
    const connection = yield* broker.connection()
    const status = yield* connection.channel.sendWaitResponse(RemotingCommand.make({ code: 221 }), 1000)
    expect(status.code).toBe(3) // the client has no handler for 221
    expect(yield* broker.serverResponses).toEqual([])
  }))

it.effect("README: my code retries a GO_AWAY", () =>
  Effect.gen(function*() {
    const { address, client } = yield* RemotingTest.make({
      processors: {
        10: FakeBroker.toProcessor(FakeBroker.sequence(FakeBroker.goAway, FakeBroker.reply()))
      }
    })
    const response = yield* client.invoke(address, RemotingCommand.make({ code: 10 }), 3000)
    expect(response.code).toBe(0)
  }))

const program = Effect.gen(function*() {
  const client = yield* RemotingClient.RemotingClient
  return yield* client.invoke("127.0.0.1:10911", RemotingCommand.make({ code: 10 }))
})

it.effect("README: program talks to the in-memory server", () =>
  program.pipe(
    Effect.map((response) => expect(response.remark).toBe("hi")),
    Effect.provide(RemotingTest.layer({
      processors: { 10: (request) => Effect.succeed(RemotingCommand.response(request, 0, "hi")) }
    }))
  ))

it.effect("README: several servers on one network", () =>
  Effect.gen(function*() {
    const nameServerProcessors: RemotingServer.Processors = { 106: (r) => Effect.succeed(RemotingCommand.response(r, 0, "cluster")) }
    const brokerProcessors: RemotingServer.Processors = { 10: (r) => Effect.succeed(RemotingCommand.response(r, 0, "sent")) }
    const network = yield* RemotingTest.makeNetwork
    yield* network.serve("namesrv:9876", { processors: nameServerProcessors })
    yield* network.serve("broker-a:10911", { processors: brokerProcessors })
    const client = yield* RemotingClient.make({ channelFactory: network.connect, nameServerAddresses: "namesrv:9876" })
    expect((yield* client.invokeNameServer(RemotingCommand.make({ code: 106 }), 1000)).remark).toBe("cluster")
    expect((yield* client.invoke("broker-a:10911", RemotingCommand.make({ code: 10 }), 1000)).remark).toBe("sent")
  }))

it.effect("README: a black-holed answer times the call out; the channel stays usable", () =>
  Effect.gen(function*() {
    const broker = yield* FakeBroker.make()
    const proxy = yield* FaultProxy.make({ target: broker.address })
    const channel = yield* Channel.make({ host: proxy.host, port: proxy.port })
    const [connection] = yield* proxy.waitForConnections(1)

    yield* connection!.drop("downstream")
    const call = yield* Effect.forkChild(channel.sendWaitResponse(RemotingCommand.make({ code: 10 }), 3000))
    yield* broker.waitForRequests(1)
    yield* TestClock.adjust(3000)
    assert((yield* Fiber.await(call))._tag === "Failure")

    yield* connection!.pass("downstream")
    expect((yield* channel.sendWaitResponse(RemotingCommand.make({ code: 10 }), 3000)).code).toBe(0)
  }))

it.effect("README: an oversized answer closes only its channel, with a typed error", () =>
  Effect.gen(function*() {
    const broker = yield* FakeBroker.make()
    const proxy = yield* FaultProxy.make({
      target: broker.address,
      downstream: { rewrite: HostileFrame.rewrite("oversized", (_, context) => context.index === 1) }
    })
    const channel = yield* Channel.make({ host: proxy.host, port: proxy.port })
    expect((yield* channel.sendWaitResponse(RemotingCommand.make({ code: 10 }), 3000)).code).toBe(0)
    const second = yield* Effect.flip(channel.sendWaitResponse(RemotingCommand.make({ code: 10 }), 3000))
    assert(second._tag === "ChannelClosed" && second.cause._tag === "FrameDecodeError")
    expect(second.cause.reason).toBe("FrameTooLarge")
  }))
