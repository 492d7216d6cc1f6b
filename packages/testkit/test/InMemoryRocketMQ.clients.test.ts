import { assert, describe, expect, it } from "@effect/vitest"
import { Admin, Broker, Heartbeat, Message, NameServer, Offsets, RouteData } from "@effect-rocketmq/client"
import { type Channel, RemotingClient, RemotingCommand, RequestCode } from "@effect-rocketmq/remoting"
import { Effect, Layer, Queue } from "effect"
import { TestClock } from "effect/testing"
import * as InMemoryRocketMQ from "../src/InMemoryRocketMQ.ts"

const BROKER = "127.0.0.1:10911"
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes)

/** A request handler that records what brokers send and answers nothing (as for oneway requests). */
const recorder = Effect.gen(function*() {
  const received = yield* Queue.unbounded<RemotingCommand.RemotingCommand>()
  const handler: Channel.RequestHandlerShape = {
    handle: (request) => Effect.as(Queue.offer(received, request), undefined)
  }
  return { received, handler }
})

const heartbeatOf = (clientID: string, group: string, messageModel: "CLUSTERING" | "BROADCASTING" = "CLUSTERING") => ({
  clientID,
  producerDataSet: [{ groupName: "pg" }],
  consumerDataSet: [{
    groupName: group,
    consumeType: "CONSUME_PASSIVELY" as const,
    messageModel,
    consumeFromWhere: "CONSUME_FROM_LAST_OFFSET" as const,
    subscriptionDataSet: [Heartbeat.subscription("T", "*", 1), Heartbeat.subscription(`%RETRY%${group}`, "*", 1)],
    unitMode: false
  }]
})

const consumerList = (client: RemotingClient.RemotingClientShape, group: string) =>
  client.invoke(BROKER, RemotingCommand.make({ code: RequestCode.GET_CONSUMER_LIST_BY_GROUP, extFields: { consumerGroup: group } }))

/** Lets the oneway requests a broker forked run, then takes what the client got. */
const notices = (queue: Queue.Queue<RemotingCommand.RemotingCommand>) =>
  Effect.map(Effect.andThen(Effect.repeat(Effect.yieldNow, { times: 10 }), Queue.clear(queue)), (all) =>
    all.filter((r) => r.code === RequestCode.NOTIFY_CONSUMER_IDS_CHANGED).map((r) => [r.extFields["consumerGroup"], RemotingCommand.isOneway(r)]))

describe("InMemoryRocketMQ clients", () => {
  it.effect("registers heartbeat groups per connection, answers with the 5.3.3 ext fields and lists consumers (38)", () =>
    Effect.gen(function*() {
      const rmq = yield* InMemoryRocketMQ.make()
      const client = InMemoryRocketMQ.remotingClient(rmq)
      const none = yield* consumerList(client, "g")
      expect([none.code, none.remark]).toEqual([1, "no consumer for this group, g"])
      const answer = yield* client.invoke(BROKER, RemotingCommand.make({
        code: RequestCode.HEART_BEAT,
        body: yield* Heartbeat.encode(heartbeatOf("10.0.0.1@1", "g"))
      }))
      expect([answer.code, answer.remark, { ...answer.extFields }]).toEqual([
        0,
        undefined,
        { IS_SUPPORT_HEART_BEAT_V2: "true", IS_SUB_CHANGE: "true" }
      ])
      const list = yield* consumerList(client, "g")
      assert.strictEqual(text(list.body), `{"consumerIdList":["10.0.0.1@1"]}`)
      expect(rmq.broker().producerGroup("pg")).toEqual(["10.0.0.1@1"])
      // The broker makes the group's retry topic, with the subscription group's one queue.
      expect(rmq.broker().topic("%RETRY%g")).toMatchObject({ readQueueNums: 1, writeQueueNums: 1, perm: 6 })
      expect(rmq.broker().consumerGroup("g")?.subscriptions.map((s) => s.topic)).toEqual(["T", "%RETRY%g"])
    }))

  it.effect("tells every member of a clustering group when a member joins, unregisters or disconnects (40, oneway)", () =>
    Effect.gen(function*() {
      const rmq = yield* InMemoryRocketMQ.make()
      const first = yield* recorder
      const second = yield* recorder
      const one = InMemoryRocketMQ.remotingClient(rmq, { requestHandler: first.handler, clientAddress: "127.0.0.1:50001" })
      const two = InMemoryRocketMQ.remotingClient(rmq, { requestHandler: second.handler, clientAddress: "127.0.0.1:50002" })
      yield* Broker.heartbeat(BROKER, heartbeatOf("c1", "g")).pipe(Effect.provide(Layer.succeed(RemotingClient.RemotingClient, one)))
      expect(yield* notices(first.received)).toEqual([["g", true]])
      // A heartbeat that changes nothing notifies nobody.
      yield* Broker.heartbeat(BROKER, heartbeatOf("c1", "g")).pipe(Effect.provide(Layer.succeed(RemotingClient.RemotingClient, one)))
      expect(yield* notices(first.received)).toEqual([])
      yield* Broker.heartbeat(BROKER, heartbeatOf("c2", "g")).pipe(Effect.provide(Layer.succeed(RemotingClient.RemotingClient, two)))
      expect([yield* notices(first.received), yield* notices(second.received)]).toEqual([[["g", true]], [["g", true]]])
      assert.strictEqual(text((yield* consumerList(one, "g")).body), `{"consumerIdList":["c1","c2"]}`)
      const unregistered = yield* two.invoke(BROKER, RemotingCommand.make({
        code: RequestCode.UNREGISTER_CLIENT,
        extFields: { clientID: "c2", consumerGroup: "g" }
      }))
      expect([unregistered.code, unregistered.remark]).toEqual([0, undefined])
      expect(yield* notices(first.received)).toEqual([["g", true]])
      assert.strictEqual(text((yield* consumerList(one, "g")).body), `{"consumerIdList":["c1"]}`)
      yield* Broker.heartbeat(BROKER, heartbeatOf("c2", "g")).pipe(Effect.provide(Layer.succeed(RemotingClient.RemotingClient, two)))
      yield* notices(first.received)
      yield* two.closeChannel(BROKER)
      expect(yield* notices(first.received)).toEqual([["g", true]])
      expect(rmq.broker().consumerGroup("g")?.members.map((m) => m.clientId)).toEqual(["c1"])
    }))

  it.effect("does not notify members of a broadcasting group", () =>
    Effect.gen(function*() {
      const rmq = yield* InMemoryRocketMQ.make()
      const first = yield* recorder
      const one = InMemoryRocketMQ.remotingClient(rmq, { requestHandler: first.handler })
      const two = InMemoryRocketMQ.remotingClient(rmq, { clientAddress: "127.0.0.1:50002" })
      yield* Broker.heartbeat(BROKER, heartbeatOf("c1", "b", "BROADCASTING")).pipe(Effect.provide(Layer.succeed(RemotingClient.RemotingClient, one)))
      yield* Broker.heartbeat(BROKER, heartbeatOf("c2", "b", "BROADCASTING")).pipe(Effect.provide(Layer.succeed(RemotingClient.RemotingClient, two)))
      expect(yield* notices(first.received)).toEqual([])
      assert.strictEqual(text((yield* consumerList(one, "b")).body), `{"consumerIdList":["c1","c2"]}`)
    }))

  it.effect("expires a connection without a heartbeat for 120 s on the clock, and keeps one that beats", () =>
    Effect.gen(function*() {
      const rmq = yield* InMemoryRocketMQ.make()
      const silent = InMemoryRocketMQ.remotingClient(rmq, { clientAddress: "127.0.0.1:50001" })
      const beating = InMemoryRocketMQ.remotingClient(rmq, { clientAddress: "127.0.0.1:50002" })
      const beat = (client: RemotingClient.RemotingClientShape, id: string) =>
        Broker.heartbeat(BROKER, heartbeatOf(id, "g")).pipe(Effect.provide(Layer.succeed(RemotingClient.RemotingClient, client)))
      yield* beat(silent, "silent")
      yield* beat(beating, "beating")
      for (let i = 0; i < 4; i++) {
        yield* TestClock.adjust("30 seconds")
        yield* beat(beating, "beating")
      }
      yield* TestClock.adjust("10 seconds")
      expect(rmq.broker().consumerGroup("g")?.members.map((m) => m.clientId)).toEqual(["beating"])
      expect(rmq.broker().producerGroup("pg")).toEqual(["beating"])
      yield* TestClock.adjust("130 seconds")
      assert.isUndefined(rmq.broker().consumerGroup("g"))
    }))
})

describe("InMemoryRocketMQ transports", () => {
  it.effect("serves a real RemotingClient over an in-memory network, and reaches its request handler", () =>
    Effect.gen(function*() {
      const rmq = yield* InMemoryRocketMQ.make({ brokers: 2 })
      const served = yield* InMemoryRocketMQ.network(rmq)
      const first = yield* recorder
      const connect = (requestHandler?: Channel.RequestHandlerShape) =>
        RemotingClient.make({ channelFactory: served.channelFactory, nameServerAddresses: served.nameServerAddress, requestHandler })
      const one = yield* connect(first.handler)
      const provideOne = Effect.provide(Layer.succeed(RemotingClient.RemotingClient, one))
      yield* Admin.createTopic("127.0.0.1:10921", "Net", { queueNums: 1 }).pipe(provideOne)
      const route = yield* NameServer.getRouteInfoByTopic("Net").pipe(provideOne)
      const address = RouteData.brokerAddress(route, "broker-b")!
      yield* Broker.sendMessage(address, Message.make("Net", "over channels"), { queueId: 0 }).pipe(provideOne)
      const pulled = yield* Broker.pullMessage(address, { consumerGroup: "g", topic: "Net", queueId: 0, queueOffset: 0n })
        .pipe(provideOne)
      assert.isTrue(pulled._tag === "Found" && text(pulled.messages[0]!.body) === "over channels")
      yield* Broker.heartbeat(address, heartbeatOf("c1", "g")).pipe(provideOne)
      yield* notices(first.received)
      yield* Effect.scoped(Effect.gen(function*() {
        const two = yield* connect()
        yield* Broker.heartbeat(address, heartbeatOf("c2", "g")).pipe(Effect.provide(Layer.succeed(RemotingClient.RemotingClient, two)))
        const joined = yield* Queue.take(first.received)
        expect([joined.code, joined.extFields["consumerGroup"]]).toEqual([40, "g"])
      }))
      // The second client's scope closed its connection: the broker dropped it and told the first.
      const left = yield* Queue.take(first.received)
      expect([left.code, left.extFields["consumerGroup"]]).toEqual([40, "g"])
      expect(rmq.broker("broker-b")!.consumerGroup("g")?.members.map((m) => m.clientId)).toEqual(["c1"])
    }))

  it.live("serves on loopback TCP: refused while a broker is stopped, served on the same port once started", () =>
    Effect.gen(function*() {
      const served = yield* InMemoryRocketMQ.serve({ brokers: 2 })
      const client = yield* RemotingClient.make({ nameServerAddresses: served.address, connectTimeout: "1 second" })
      const provide = Effect.provide(Layer.succeed(RemotingClient.RemotingClient, client))
      const b = served.rmq.broker("broker-b")!
      const address = b.address()
      assert.notStrictEqual(address, "127.0.0.1:10921")
      yield* Admin.createTopic(address, "Tcp", { queueNums: 1 }).pipe(provide)
      yield* Broker.sendMessage(address, Message.make("Tcp", "before"), { queueId: 0 }).pipe(provide)
      yield* b.stop
      const refused = yield* Effect.flip(Offsets.getMaxOffset(address, { topic: "Tcp", queueId: 0 }).pipe(provide))
      expect(["ConnectError", "ChannelClosed", "ConnectBackoff"]).toContain(refused._tag)
      const info = yield* NameServer.getBrokerClusterInfo().pipe(provide)
      expect(Object.keys(info.brokerAddrTable)).toEqual(["broker-a"])
      yield* b.start
      assert.strictEqual(b.address(), address)
      const max = yield* Offsets.getMaxOffset(address, { topic: "Tcp", queueId: 0 }).pipe(
        Effect.retry({ times: 20 }),
        provide
      )
      assert.strictEqual(max, 1n)
    }))
})
