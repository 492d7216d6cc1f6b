import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, expect, it } from "@effect/vitest"
import { RemotingClient } from "@effect-rocketmq/remoting"
import { InMemoryRocketMQ } from "@effect-rocketmq/testkit"
import { Clock, Context, Effect, Exit, Fiber, FileSystem, Layer, Scope } from "effect"
import { TestClock } from "effect/testing"
import * as Admin from "../src/Admin.ts"
import * as Broker from "../src/Broker.ts"
import * as ClientInstance from "../src/ClientInstance.ts"
import * as Consumer from "../src/Consumer.ts"
import * as Message from "../src/Message.ts"
import * as MessageQueue from "../src/MessageQueue.ts"

const BROKER = "127.0.0.1:10911"

/** Lets every ready fiber run; the clock does not move. */
const settle = Effect.forEach(Array.from({ length: 60 }), () => Effect.yieldNow, { discard: true })

/** The embedded cluster on an in-memory network, a producer-side client, and consumers in their own scopes. */
const cluster = (options?: InMemoryRocketMQ.Options) =>
  Effect.gen(function*() {
    const rmq = yield* InMemoryRocketMQ.make(options)
    const net = yield* InMemoryRocketMQ.network(rmq)
    const client = yield* RemotingClient.make({ channelFactory: net.channelFactory, nameServerAddresses: net.nameServerAddress })
    const provide = Effect.provide(Layer.succeed(RemotingClient.RemotingClient, client))
    const send = (topic: string, queueId: number, body: string, tags?: string) =>
      Broker.sendMessage(BROKER, Message.make(topic, body, tags === undefined ? {} : { tags }), { queueId }).pipe(provide)
    const consumer = (instanceName: string, options: Consumer.Options) =>
      Effect.gen(function*() {
        const scope = yield* Scope.fork(yield* Effect.scope)
        const layer = Consumer.layer(options).pipe(Layer.provide(ClientInstance.layer({
          nameServerAddresses: net.nameServerAddress,
          instanceName,
          remoting: { channelFactory: net.channelFactory }
        })))
        const context = yield* Layer.build(layer).pipe(Scope.provide(scope))
        // Closing waits (on the clock) for handed-out messages and does real I/O (offset files):
        // move the clock in small steps and give real time to the I/O in between.
        const close = Effect.gen(function*() {
          const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void), { startImmediately: true })
          for (let step = 0; step < 100 && closing.pollUnsafe() === undefined; step++) {
            yield* settle
            yield* TestClock.withLive(Effect.sleep("2 millis"))
            yield* TestClock.adjust("100 millis")
          }
          yield* Fiber.join(closing)
        })
        return { consumer: Context.get(context, Consumer.Consumer), close }
      })
    const createTopic = (topic: string, queueNums: number) => Admin.createTopic(BROKER, topic, { queueNums }).pipe(provide)
    return { rmq, net, send, consumer, createTopic }
  })

const body = (d: Consumer.Delivery) => new TextDecoder().decode(d.message.body)

describe("Consumer on the embedded broker", () => {
  it.effect("consumes a young topic from its first message (the broker answers offset 0 for a new group) and commits on the broker", () =>
    Effect.gen(function*() {
      const c = yield* cluster()
      yield* c.createTopic("Orders", 4)
      for (let i = 0; i < 40; i++) yield* c.send("Orders", i % 4, `m${i}`)
      const { close, consumer } = yield* c.consumer("c1", { consumerGroup: "g", subscriptions: { Orders: "*" } })
      const seen = new Set<string>()
      yield* Effect.forkChild(consumer.run((d) => Effect.sync(() => seen.add(body(d)))))
      yield* settle
      yield* TestClock.adjust("1 second")
      yield* settle
      assert.strictEqual(seen.size, 40)
      yield* close
      for (let q = 0; q < 4; q++) assert.strictEqual(c.rmq.broker().consumerOffset("g", "Orders", q), 10n)
      assert.deepStrictEqual(c.rmq.broker().consumerGroup("g")?.members ?? [], [])
    }), 30_000)

  it.effect("splits the queues between two members once the broker tells the first that the second joined", () =>
    Effect.gen(function*() {
      const c = yield* cluster()
      yield* c.createTopic("Orders", 4)
      const options = { consumerGroup: "g", subscriptions: { Orders: "*" } }
      const one = yield* c.consumer("c1", options)
      yield* settle
      yield* TestClock.adjust("1 second")
      expect((yield* one.consumer.assignment).filter((q) => q.topic === "Orders")).toHaveLength(4)
      const two = yield* c.consumer("c2", options)
      yield* settle
      yield* TestClock.adjust("2 seconds")
      yield* settle
      const a = (yield* one.consumer.assignment).filter((q) => q.topic === "Orders").map(MessageQueue.key)
      const b = (yield* two.consumer.assignment).filter((q) => q.topic === "Orders").map(MessageQueue.key)
      assert.strictEqual(a.length, 2)
      assert.strictEqual(b.length, 2)
      assert.strictEqual(new Set([...a, ...b]).size, 4)
      expect(c.rmq.broker().consumerGroup("g")?.members.map((m) => m.clientId.split("@")[1]).sort()).toEqual(["c1", "c2"])
      yield* two.close
      yield* one.close
    }), 30_000)

  it.effect("retries a failing message through %RETRY%<group> after 10 s, then 30 s, and puts it in %DLQ%<group>", () =>
    Effect.gen(function*() {
      const c = yield* cluster()
      yield* c.createTopic("Orders", 1)
      yield* c.send("Orders", 0, "poison")
      const { close, consumer } = yield* c.consumer("c1", { consumerGroup: "g", subscriptions: { Orders: "*" }, maxReconsumeTimes: 2 })
      const seen: Array<{ reconsumeTimes: number; topic: string; queue: string; at: number }> = []
      yield* Effect.forkChild(consumer.run((d) =>
        Effect.flatMap(Clock.currentTimeMillis, (at) => {
          seen.push({ reconsumeTimes: d.message.reconsumeTimes, topic: d.message.topic, queue: d.queue.topic, at })
          return Effect.fail("boom")
        })))
      for (let second = 0; second < 60; second++) {
        yield* settle
        yield* TestClock.adjust("1 second")
      }
      expect(seen.map(({ at: _, ...rest }) => rest)).toEqual([
        { reconsumeTimes: 0, topic: "Orders", queue: "Orders" },
        { reconsumeTimes: 1, topic: "Orders", queue: "%RETRY%g" },
        { reconsumeTimes: 2, topic: "Orders", queue: "%RETRY%g" }
      ])
      // Delay levels 3 and 4 of the broker: 10 s, then 30 s.
      expect(seen.slice(1).map((s, i) => s.at - seen[i]!.at)).toEqual([10_000, 30_000])
      assert.strictEqual(c.rmq.broker().queueSize("%DLQ%g", 0), 1)
      yield* close
    }), 30_000)

  it.effect("holds the broker's lock on every queue it consumes in order, and releases them on close", () =>
    Effect.gen(function*() {
      const c = yield* cluster()
      yield* c.createTopic("Orders", 2)
      for (let i = 0; i < 10; i++) yield* c.send("Orders", i % 2, `${i}`)
      const { close, consumer } = yield* c.consumer("c1", { consumerGroup: "g", subscriptions: { Orders: "*" }, orderly: true })
      const perQueue = new Map<number, Array<string>>()
      yield* Effect.forkChild(consumer.run((d) =>
        Effect.sync(() => perQueue.set(d.queue.queueId, [...(perQueue.get(d.queue.queueId) ?? []), body(d)]))))
      yield* settle
      yield* TestClock.adjust("1 second")
      yield* settle
      expect(perQueue.get(0)).toEqual(["0", "2", "4", "6", "8"])
      expect(perQueue.get(1)).toEqual(["1", "3", "5", "7", "9"])
      const locks = yield* c.rmq.broker().locks("g")
      expect(locks.filter((l) => l.topic === "Orders").map((l) => [l.queueId, l.clientId.split("@")[1], l.expired])).toEqual([
        [0, "c1", false],
        [1, "c1", false]
      ])
      yield* close
      expect((yield* c.rmq.broker().locks("g")).filter((l) => l.topic === "Orders")).toEqual([])
    }), 30_000)

  it.effect("keeps a broadcasting member's position in its local file across a restart", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "consumer-" })
      const c = yield* cluster()
      yield* c.createTopic("News", 2)
      for (let i = 0; i < 6; i++) yield* c.send("News", i % 2, `${i}`)
      const options = {
        consumerGroup: "g",
        subscriptions: { News: "*" },
        messageModel: "BROADCASTING",
        consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
        offsetStoreDir: dir
      } as const
      const first = yield* c.consumer("DEFAULT", options)
      const seen: Array<string> = []
      yield* Effect.forkChild(first.consumer.run((d) => Effect.sync(() => seen.push(body(d)))))
      yield* settle
      yield* TestClock.adjust("1 second")
      yield* settle
      assert.strictEqual(seen.length, 6)
      yield* first.close
      assert.strictEqual(c.rmq.broker().consumerOffset("g", "News", 0), undefined)
      for (let i = 6; i < 8; i++) yield* c.send("News", i % 2, `${i}`)
      const again = yield* c.consumer("DEFAULT", options)
      const after: Array<string> = []
      yield* Effect.forkChild(again.consumer.run((d) => Effect.sync(() => after.push(body(d)))))
      yield* settle
      yield* TestClock.adjust("1 second")
      yield* settle
      expect(after.sort()).toEqual(["6", "7"])
      yield* again.close
    }).pipe(Effect.provide(NodeFileSystem.layer)), 30_000)

  it.effect("fails to start with InvalidConsumerOptions naming the option, before touching the network", () =>
    Effect.gen(function*() {
      const c = yield* cluster()
      const error = yield* Effect.flip(c.consumer("c1", { consumerGroup: "bad group", subscriptions: { Orders: "*" } }))
      assert.strictEqual(error._tag, "InvalidConsumerOptions")
      expect(error.message).toContain("consumerGroup")
      const noTopics = yield* Effect.flip(c.consumer("c1", { consumerGroup: "g", subscriptions: {} }))
      expect(noTopics.message).toContain("subscribe to at least one topic")
      const batch = yield* Effect.flip(c.consumer("c1", { consumerGroup: "g", subscriptions: { T: "*" }, pullBatchSize: 0 }))
      expect(batch.message).toContain("pullBatchSize")
    }), 30_000)

  it.effect("refuses a second consumer of the same group on one client instance with GroupAlreadyRegistered", () =>
    Effect.gen(function*() {
      const c = yield* cluster()
      const instance = yield* ClientInstance.make({
        nameServerAddresses: c.net.nameServerAddress,
        instanceName: "same",
        remoting: { channelFactory: c.net.channelFactory }
      })
      const withInstance = Effect.provideService(ClientInstance.ClientInstance, instance)
      const options = { consumerGroup: "g", subscriptions: { Orders: "*" } }
      yield* Consumer.make(options).pipe(withInstance)
      const error = yield* Effect.flip(Consumer.make(options).pipe(withInstance))
      assert.strictEqual(error._tag, "GroupAlreadyRegistered")
      yield* TestClock.adjust("5 seconds")
    }), 30_000)
})
