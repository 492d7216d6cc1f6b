import { assert, describe, expect, it } from "@effect/vitest"
import { Admin, Broker, Message, NameServer, RouteData } from "@effect-rocketmq/client"
import { RemotingClient, RemotingCommand, RequestCode } from "@effect-rocketmq/remoting"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import * as InMemoryRocketMQ from "../src/InMemoryRocketMQ.ts"

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes)

const twoBrokers = Effect.gen(function*() {
  const rmq = yield* InMemoryRocketMQ.make({ brokers: 2 })
  const client = InMemoryRocketMQ.remotingClient(rmq)
  const provide = Effect.provide(Layer.succeed(RemotingClient.RemotingClient, client))
  return { rmq, client, provide }
})

const A = "127.0.0.1:10911"
const B = "127.0.0.1:10921"

describe("InMemoryRocketMQ cluster", () => {
  it.effect("runs several brokers of one cluster, each at its own address, listed by the name server", () =>
    Effect.gen(function*() {
      const { rmq, client } = yield* twoBrokers
      expect(rmq.brokers.map((b) => [b.name, b.address()])).toEqual([["broker-a", A], ["broker-b", B]])
      const info = yield* client.invokeNameServer(RemotingCommand.make({ code: RequestCode.GET_BROKER_CLUSTER_INFO }))
      assert.strictEqual(
        text(info.body),
        `{"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"${A}"},"brokerName":"broker-a","cluster":"DefaultCluster",` +
          `"enableActingMaster":false},"broker-b":{"brokerAddrs":{0:"${B}"},"brokerName":"broker-b","cluster":` +
          `"DefaultCluster","enableActingMaster":false}},"clusterAddrTable":{"DefaultCluster":["broker-a","broker-b"]}}`
      )
    }))

  it.effect("routes a topic to the brokers that have it: created on both, or auto-created on the one a send reached", () =>
    Effect.gen(function*() {
      const { provide } = yield* twoBrokers
      yield* Admin.createTopic(A, "Both", { queueNums: 2 }).pipe(provide)
      yield* Admin.createTopic(B, "Both", { queueNums: 3 }).pipe(provide)
      const both = yield* NameServer.getRouteInfoByTopic("Both").pipe(provide)
      expect(both.queueDatas.map((q) => [q.brokerName, q.writeQueueNums])).toEqual([["broker-a", 2], ["broker-b", 3]])
      expect(RouteData.writeQueues("Both", both).length).toBe(5)
      yield* Broker.sendMessage(B, Message.make("OnlyB", "x")).pipe(provide)
      const onlyB = yield* NameServer.getRouteInfoByTopic("OnlyB").pipe(provide)
      expect(onlyB.brokerDatas.map((b) => b.brokerName)).toEqual(["broker-b"])
    }))

  it.effect("stops a broker: it leaves the routes and refuses connections; started again it comes back with its messages", () =>
    Effect.gen(function*() {
      const { rmq, provide } = yield* twoBrokers
      yield* Admin.createTopic(A, "T", { queueNums: 1 }).pipe(provide)
      yield* Admin.createTopic(B, "T", { queueNums: 1 }).pipe(provide)
      yield* Broker.sendMessage(B, Message.make("T", "kept"), { queueId: 0 }).pipe(provide)
      const b = rmq.broker("broker-b")!
      yield* b.stop
      assert.isFalse(b.isRunning())
      const route = yield* NameServer.getRouteInfoByTopic("T").pipe(provide)
      expect(route.brokerDatas.map((d) => d.brokerName)).toEqual(["broker-a"])
      const refused = yield* Effect.flip(Broker.sendMessage(B, Message.make("T", "lost"), { queueId: 0 }).pipe(provide))
      expect(refused).toMatchObject({ _tag: "ConnectError", reason: "Refused", address: B })
      yield* b.start
      const back = yield* NameServer.getRouteInfoByTopic("T").pipe(provide)
      expect(back.brokerDatas.map((d) => d.brokerName)).toEqual(["broker-a", "broker-b"])
      const pulled = yield* Broker.pullMessage(B, { consumerGroup: "g", topic: "T", queueId: 0, queueOffset: 0n }).pipe(provide)
      assert.isTrue(pulled._tag === "Found" && pulled.messages.length === 1 && text(pulled.messages[0]!.body) === "kept")
    }))

  it.effect("drops a topic whose only broker stopped from the name server, and answers 17 for it", () =>
    Effect.gen(function*() {
      const { rmq, provide } = yield* twoBrokers
      yield* Admin.createTopic(B, "OnB", { queueNums: 1 }).pipe(provide)
      yield* rmq.broker("broker-b")!.stop
      const missing = yield* Effect.flip(NameServer.getRouteInfoByTopic("OnB").pipe(provide))
      expect(missing).toMatchObject({ _tag: "TopicNotExist", topic: "OnB" })
    }))

  it.effect("ends a pull a broker is holding with ChannelClosed when the broker stops", () =>
    Effect.gen(function*() {
      const { rmq, provide } = yield* twoBrokers
      yield* Admin.createTopic(A, "Held", { queueNums: 1 }).pipe(provide)
      const held = yield* Effect.forkChild(
        Broker.pullMessage(A, { consumerGroup: "g", topic: "Held", queueId: 0, queueOffset: 0n, suspendTimeoutMillis: 15_000 })
          .pipe(provide),
        { startImmediately: true }
      )
      yield* TestClock.adjust("1 second")
      yield* rmq.broker().stop
      const exit = yield* Effect.flip(Fiber.join(held))
      expect(exit).toMatchObject({ _tag: "ChannelClosed", address: A, written: true })
    }))

  it.effect("keeps a topic deleted in the name server out of routes until its broker registers again (within 30 s)", () =>
    Effect.gen(function*() {
      const { client, provide } = yield* twoBrokers
      yield* Admin.createTopic(A, "Gone", { queueNums: 1 }).pipe(provide)
      const deleted = yield* client.invokeNameServer(
        RemotingCommand.make({ code: RequestCode.DELETE_TOPIC_IN_NAMESRV, extFields: { topic: "Gone" } })
      )
      assert.strictEqual(deleted.code, 0)
      yield* Effect.flip(NameServer.getRouteInfoByTopic("Gone").pipe(provide))
      yield* TestClock.adjust("30 seconds")
      const again = yield* NameServer.getRouteInfoByTopic("Gone").pipe(provide)
      expect(again.brokerDatas.map((d) => d.brokerName)).toEqual(["broker-a"])
    }))

  it.effect("deletes a topic in a broker (215) but not a system topic, and lists topics by cluster (224)", () =>
    Effect.gen(function*() {
      const { client, provide, rmq } = yield* twoBrokers
      yield* Admin.createTopic(A, "Del", { queueNums: 1 }).pipe(provide)
      yield* Broker.sendMessage(A, Message.make("Del", "x"), { queueId: 0 }).pipe(provide)
      const ok = yield* client.invoke(A, RemotingCommand.make({ code: RequestCode.DELETE_TOPIC_IN_BROKER, extFields: { topic: "Del" } }))
      expect([ok.code, ok.remark]).toEqual([0, undefined])
      assert.isUndefined(rmq.broker().topic("Del"))
      assert.strictEqual(rmq.broker().queueSize("Del", 0), 0)
      const system = yield* client.invoke(A, RemotingCommand.make({ code: RequestCode.DELETE_TOPIC_IN_BROKER, extFields: { topic: "TBW102" } }))
      expect([system.code, system.remark]).toEqual([29, "The topic[TBW102] is conflict with system topic."])
      const byCluster = yield* client.invokeNameServer(
        RemotingCommand.make({ code: RequestCode.GET_TOPICS_BY_CLUSTER, extFields: { cluster: "DefaultCluster" } })
      )
      expect(JSON.parse(text(byCluster.body)).topicList).toEqual(expect.arrayContaining(["TBW102", "broker-a", "broker-b"]))
    }))

  it.effect("starts like a fresh 5.3.3 broker: system topics, and no TBW102 without auto-creation", () =>
    Effect.gen(function*() {
      const rmq = yield* InMemoryRocketMQ.make()
      expect(rmq.broker().topics().map((t) => t.topic)).toEqual(expect.arrayContaining([
        "TBW102",
        "SCHEDULE_TOPIC_XXXX",
        "RMQ_SYS_TRANS_HALF_TOPIC",
        "rmq_sys_wheel_timer",
        "DefaultCluster",
        "broker-a",
        "DefaultCluster_REPLY_TOPIC"
      ]))
      expect(rmq.broker().topic("SCHEDULE_TOPIC_XXXX")?.readQueueNums).toBe(18)
      const strict = yield* InMemoryRocketMQ.make({ autoCreateTopic: false })
      assert.isUndefined(strict.broker().topic("TBW102"))
    }))

  it.effect("refuses options that do not describe a cluster with InvalidOptions", () =>
    Effect.gen(function*() {
      const same = yield* Effect.flip(InMemoryRocketMQ.make({ brokers: ["b", "b"] }))
      expect(same).toMatchObject({ _tag: "InvalidOptions", detail: "two brokers have the same name" })
      const none = yield* Effect.flip(InMemoryRocketMQ.make({ brokers: 0 }))
      expect(none.message).toContain("brokers must be 1 to 26")
      const delays = yield* Effect.flip(InMemoryRocketMQ.make({ messageDelayLevel: "1s 5x" }))
      expect(delays.message).toContain(`messageDelayLevel: "5x" is not a delay`)
    }))

  it.effect("is a service: layer provides it, layerClient provides it with a client", () =>
    Effect.gen(function*() {
      const rmq = yield* InMemoryRocketMQ.InMemoryRocketMQ
      expect(rmq.brokers.map((b) => b.name)).toEqual(["broker-a", "broker-b", "broker-c"])
      const route = yield* NameServer.getRouteInfoByTopic("broker-c")
      assert.strictEqual(RouteData.brokerAddress(route, "broker-c"), "127.0.0.1:10931")
    }).pipe(Effect.provide(InMemoryRocketMQ.layerClient({ brokers: 3 }))))

  it.effect("jumps the clock far ahead without waking an idle broker", () =>
    Effect.gen(function*() {
      yield* InMemoryRocketMQ.make({ brokers: 2 })
      yield* TestClock.setTime(Date.UTC(2030, 0, 1))
    }))

  it.effect("answers GET_BROKER_RUNTIME_INFO (28) with its version, run time, commit-log end and put totals", () =>
    Effect.gen(function*() {
      const { client, provide } = yield* twoBrokers
      yield* Broker.sendMessage(A, Message.make("Rt", "x"), { queueId: 0 }).pipe(provide)
      yield* TestClock.adjust("1 hour")
      yield* TestClock.adjust("123 seconds")
      const info = yield* client.invoke(A, RemotingCommand.make({ code: RequestCode.GET_BROKER_RUNTIME_INFO }))
      const table = JSON.parse(text(info.body)).table
      expect(table).toMatchObject({
        brokerVersionDesc: "V5_3_3",
        brokerVersion: "479",
        runtime: "[ 0 days, 1 hours, 2 minutes, 3 seconds ]",
        putMessageTimesTotal: "1",
        commitLogMinOffset: "0"
      })
      expect(Number(table.commitLogMaxOffset)).toBeGreaterThan(0)
    }))
})
