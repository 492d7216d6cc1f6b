/**
 * The README's InMemoryRocketMQ examples, run as written.
 */
import { Admin, Broker, Message } from "@effect-rocketmq/client"
import { RemotingClient, RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import * as InMemoryRocketMQ from "../src/InMemoryRocketMQ.ts"

it.effect("README: a delayed message shows up when its level is due", () =>
  Effect.gen(function*() {
    const rmq = yield* InMemoryRocketMQ.make()
    const broker = rmq.broker()
    yield* Effect.gen(function*() {
      yield* Admin.createTopic(broker.address(), "Orders", { queueNums: 1 })
      yield* Broker.sendMessage(broker.address(), Message.make("Orders", "paid", { delayLevel: 2 }), { queueId: 0 })
    }).pipe(Effect.provideService(RemotingClient.RemotingClient, InMemoryRocketMQ.remotingClient(rmq)))

    expect(broker.queueSize("Orders", 0)).toBe(0)
    yield* TestClock.adjust("5 seconds")
    expect(broker.messages("Orders", 0).map((m) => m.queueOffset)).toEqual([0n])
  }))

it.effect("README: a stopped broker leaves the routes and refuses connections", () =>
  Effect.gen(function*() {
    const rmq = yield* InMemoryRocketMQ.make({ brokers: 2 })
    const client = InMemoryRocketMQ.remotingClient(rmq)
    const b = rmq.broker("broker-b")!
    yield* Admin.createTopic(b.address(), "T", { queueNums: 1 }).pipe(Effect.provideService(RemotingClient.RemotingClient, client))
    yield* b.stop
    const refused = yield* Effect.flip(client.invoke(b.address(), RemotingCommand.make({ code: RequestCode.GET_MAX_OFFSET })))
    expect(refused._tag).toBe("ConnectError")
    yield* b.start
    expect(b.topic("T")?.readQueueNums).toBe(1)
  }))

it.effect("README: override answers one code differently until restored, in front of the broker's processor", () =>
  Effect.gen(function*() {
    const rmq = yield* InMemoryRocketMQ.make()
    const broker = rmq.broker()
    const provide = Effect.provideService(RemotingClient.RemotingClient, InMemoryRocketMQ.remotingClient(rmq))
    const seen: Array<string> = []
    const own = broker.processors.get(RequestCode.SEND_MESSAGE_V2)!
    broker.override(RequestCode.SEND_MESSAGE_V2, (request) => Effect.succeed(RemotingCommand.response(request, ResponseCode.SYSTEM_BUSY, "busy")))
    const busy = yield* Effect.flip(Broker.sendMessage(broker.address(), Message.make("T", "x")).pipe(provide))
    expect(busy).toMatchObject({ _tag: "RemoteError", responseName: "SYSTEM_BUSY" })
    broker.override(RequestCode.SEND_MESSAGE_V2, (request, context) => {
      seen.push(request.extFields["b"]!)
      return own(request, context)
    })
    yield* Broker.sendMessage(broker.address(), Message.make("T", "x")).pipe(provide)
    broker.override(RequestCode.SEND_MESSAGE_V2, undefined)
    yield* Broker.sendMessage(broker.address(), Message.make("T", "y")).pipe(provide)
    expect(seen).toEqual(["T"])
    expect(broker.queueSize("T", 0) + broker.queueSize("T", 1) + broker.queueSize("T", 2) + broker.queueSize("T", 3)).toBe(2)
  }))
