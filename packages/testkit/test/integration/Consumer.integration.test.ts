/**
 * The Consumer against a real Apache RocketMQ 5.3.3: a group of two of our consumers sharing
 * 10,000 messages, a member leaving mid-stream, retries and the DLQ as the broker names them, and
 * orderly consumption. Every consumer has its own client instance (its own client id), as two
 * processes would.
 */
import { type Consumer, MessageQueue, Offsets } from "@effect-rocketmq/client"
import { assert, describe, expect, it } from "@effect/vitest"
import { RemotingClient } from "@effect-rocketmq/remoting"
import { Deferred, Effect, Random } from "effect"
import { produce, setUp, startConsumer } from "./consumers.ts"
import { cluster, poll, runId, skipReason } from "./support.ts"

const real = cluster()

const indexOf = (delivery: Consumer.Delivery) => Number(new TextDecoder().decode(delivery.message.body))

const keys = (queues: ReadonlyArray<MessageQueue.MessageQueue>) => queues.map(MessageQueue.key).sort()

describe.skipIf(real === undefined)(`Consumer against a real broker${real === undefined ? ` (skipped: ${skipReason()})` : ""}`, () => {
  const remoting = () => RemotingClient.layer({ nameServerAddresses: real!.namesrvAddr, defaultTimeout: "10 seconds" })

  it.live("a group of two consumers handles 10,000 messages, each once, none by both while membership is steady", () =>
    Effect.gen(function*() {
      const id = runId()
      const topic = `consumer_pair_${id}`
      const group = `pair_${id}`
      yield* setUp(real!, topic, group, 8)
      const options = { consumerGroup: group, subscriptions: { [topic]: "*" }, consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" } as const
      const a = yield* startConsumer(real!, `a${id}`, options)
      const b = yield* startConsumer(real!, `b${id}`, options)
      // Steady membership: both members see both, and their shares of the topic split its 8 queues.
      const split = yield* poll(60, Effect.all([a.consumer.assignment, b.consumer.assignment]), ([qa, qb]) => {
        const ta = qa.filter((q) => q.topic === topic)
        const tb = qb.filter((q) => q.topic === topic)
        return ta.length > 0 && tb.length > 0 && ta.length + tb.length === 8
      })
      const [qa, qb] = split.map((qs) => keys(qs.filter((q) => q.topic === topic)))
      assert.strictEqual(qa!.length + qb!.length, 8)
      assert.strictEqual(new Set([...qa!, ...qb!]).size, 8)
      const by = new Map<number, Array<string>>()
      const record = (who: string) => (d: Consumer.Delivery) =>
        Effect.sync(() => by.set(indexOf(d), [...(by.get(indexOf(d)) ?? []), who]))
      yield* Effect.forkChild(a.consumer.run(record("a")))
      yield* Effect.forkChild(b.consumer.run(record("b")))
      yield* produce(real!, topic, 0, 10_000, 8)
      yield* poll(90, Effect.sync(() => by.size), (n) => n === 10_000)
      assert.strictEqual(by.size, 10_000)
      const twice = [...by.entries()].filter(([, who]) => who.length > 1)
      expect(twice).toEqual([])
      const handledBy = new Set([...by.values()].map((who) => who[0]))
      expect([...handledBy].sort()).toEqual(["a", "b"])
      yield* a.close
      yield* b.close
    }).pipe(Effect.provide(remoting()), Effect.scoped), 300_000)

  it.live("when a member leaves mid-stream the other takes its queues and nothing is lost", () =>
    Effect.gen(function*() {
      const id = runId()
      const topic = `consumer_leave_${id}`
      const group = `leave_${id}`
      yield* setUp(real!, topic, group, 8)
      const options = { consumerGroup: group, subscriptions: { [topic]: "*" }, consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" } as const
      const a = yield* startConsumer(real!, `a${id}`, options)
      const b = yield* startConsumer(real!, `b${id}`, options)
      yield* poll(60, Effect.all([a.consumer.assignment, b.consumer.assignment]), ([qa, qb]) =>
        qa.some((q) => q.topic === topic) && qb.some((q) => q.topic === topic))
      const handled = new Set<number>()
      const halfway = yield* Deferred.make<void>()
      yield* Effect.forkChild(a.consumer.run((d) => Effect.sync(() => handled.add(indexOf(d)))))
      yield* Effect.forkChild(b.consumer.run((d) =>
        Effect.gen(function*() {
          handled.add(indexOf(d))
          if (handled.size >= 2_000) yield* Deferred.succeed(halfway, undefined)
          yield* Effect.sleep(`${yield* Random.nextIntBetween(0, 3)} millis`)
        }), { concurrency: 4 }))
      yield* Effect.forkChild(produce(real!, topic, 0, 5_000, 8))
      yield* Deferred.await(halfway)
      yield* b.close
      const all = yield* poll(90, Effect.sync(() => handled.size), (n) => n === 5_000)
      assert.strictEqual(all, 5_000)
      const owned = yield* poll(30, a.consumer.assignment, (qs) => qs.filter((q) => q.topic === topic).length === 8)
      assert.strictEqual(owned.filter((q) => q.topic === topic).length, 8)
      yield* a.close
    }).pipe(Effect.provide(remoting()), Effect.scoped), 180_000)

  it.live("a failing message comes back from %RETRY%<group> under its own topic with a growing count, then lands in %DLQ%<group>", () =>
    Effect.gen(function*() {
      const id = runId()
      const topic = `consumer_retry_${id}`
      const group = `retry_${id}`
      yield* setUp(real!, topic, group, 1)
      const a = yield* startConsumer(real!, `a${id}`, {
        consumerGroup: group,
        subscriptions: { [topic]: "*" },
        consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
        maxReconsumeTimes: 2
      })
      const seen: Array<{ topic: string; queue: string; reconsumeTimes: number; at: number }> = []
      yield* Effect.forkChild(a.consumer.run((d) => {
        seen.push({ topic: d.message.topic, queue: d.queue.topic, reconsumeTimes: d.message.reconsumeTimes, at: Date.now() })
        // Delay level 1 (1 s) keeps the test short; the broker still counts and moves to the DLQ.
        return d.nack({ delayLevel: 1 })
      }))
      yield* produce(real!, topic, 0, 1, 1)
      yield* poll(60, Effect.sync(() => seen.length), (n) => n >= 3)
      expect(seen.map((s) => s.reconsumeTimes)).toEqual([0, 1, 2])
      expect(seen.map((s) => s.topic)).toEqual([topic, topic, topic])
      expect(seen.map((s) => s.queue)).toEqual([topic, `%RETRY%${group}`, `%RETRY%${group}`])
      assert.isAtLeast(seen[1]!.at - seen[0]!.at, 900)
      const dlq = yield* poll(30, Effect.result(Offsets.getMaxOffset(real!.brokerAddr, { topic: `%DLQ%${group}`, queueId: 0 })),
        (r) => r._tag === "Success" && r.success === 1n)
      assert.isTrue(dlq._tag === "Success" && dlq.success === 1n, "one message in the DLQ")
      yield* a.close
    }).pipe(Effect.provide(remoting()), Effect.scoped), 120_000)

  it.live("a message the broker retries by itself waits at least its delay level's 10 s", () =>
    Effect.gen(function*() {
      const id = runId()
      const topic = `consumer_delay_${id}`
      const group = `delay_${id}`
      yield* setUp(real!, topic, group, 1)
      const a = yield* startConsumer(real!, `a${id}`, { consumerGroup: group, subscriptions: { [topic]: "*" }, consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" })
      const at: Array<number> = []
      yield* Effect.forkChild(a.consumer.run(() => Effect.suspend(() => (at.push(Date.now()), at.length === 1 ? Effect.fail("once") : Effect.void))))
      yield* produce(real!, topic, 0, 1, 1)
      yield* poll(60, Effect.sync(() => at.length), (n) => n >= 2)
      assert.strictEqual(at.length, 2)
      assert.isAtLeast(at[1]! - at[0]!, 9_000)
      yield* a.close
    }).pipe(Effect.provide(remoting()), Effect.scoped), 120_000)

  it.live("orderly consumption hands each queue's messages out in queue order", () =>
    Effect.gen(function*() {
      const id = runId()
      const topic = `consumer_orderly_${id}`
      const group = `orderly_${id}`
      yield* setUp(real!, topic, group, 4)
      yield* produce(real!, topic, 0, 2_000, 4)
      const a = yield* startConsumer(real!, `a${id}`, {
        consumerGroup: group,
        subscriptions: { [topic]: "*" },
        consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
        orderly: true
      })
      const perQueue = new Map<number, Array<bigint>>()
      yield* Effect.forkChild(a.consumer.run((d) =>
        Effect.gen(function*() {
          yield* Effect.sleep(`${yield* Random.nextIntBetween(0, 2)} millis`)
          perQueue.set(d.queue.queueId, [...(perQueue.get(d.queue.queueId) ?? []), d.message.queueOffset])
        }), { concurrency: 8 }))
      yield* poll(90, Effect.sync(() => [...perQueue.values()].reduce((n, xs) => n + xs.length, 0)), (n) => n >= 2_000)
      for (let q = 0; q < 4; q++) {
        expect(perQueue.get(q)).toEqual(Array.from({ length: 500 }, (_, i) => BigInt(i)))
      }
      yield* a.close
    }).pipe(Effect.provide(remoting()), Effect.scoped), 180_000)
})
