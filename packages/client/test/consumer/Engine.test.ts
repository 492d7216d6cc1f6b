import { assert, describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Stream } from "effect"
import { TestClock } from "effect/testing"
import * as MQ from "../../src/MessageQueue.ts"
import * as FakeCluster from "./support/FakeCluster.ts"
import { settle, start } from "./support/engine.ts"

const topic = (queues = 4) => FakeCluster.make({ T: { brokers: ["broker-a"], queues }, "%RETRY%g": { brokers: ["broker-a"], queues: 1 } })
const key = (queueId: number, t = "T") => MQ.key(MQ.make(t, "broker-a", queueId))
const FIRST = { consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" } as const

describe("Consumer engine (concurrent)", () => {
  it.effect("hands every message of every queue to run once and commits one past the last on close", () =>
    Effect.gen(function*() {
      const cluster = topic()
      for (let i = 0; i < 40; i++) cluster.append("T", "broker-a", i % 4, `m${i}`)
      const { close, consumer } = yield* start(cluster, "c1", FIRST)
      const seen: Array<string> = []
      const running = yield* Effect.forkChild(consumer.run((d) => Effect.sync(() => seen.push(d.message.msgId))))
      yield* settle
      assert.strictEqual(seen.length, 40)
      assert.strictEqual(new Set(seen).size, 40)
      expect(yield* consumer.assignment).toHaveLength(5)
      yield* close
      yield* Fiber.join(running)
      for (let q = 0; q < 4; q++) assert.strictEqual(cluster.state.offsets.get(key(q)), 10n)
    }), 30_000)

  it.effect("never commits past a message that is not acknowledged yet, and catches up once it is", () =>
    Effect.gen(function*() {
      const cluster = topic(1)
      for (let i = 0; i < 5; i++) cluster.append("T", "broker-a", 0, `m${i}`)
      const { close, consumer, engine } = yield* start(cluster, "c1", FIRST)
      const held: Array<{ ack: Effect.Effect<void>; offset: bigint }> = []
      const reader = yield* Effect.forkChild(
        consumer.stream.pipe(Stream.runForEach((d) => Effect.sync(() => held.push({ ack: d.ack, offset: d.message.queueOffset }))))
      )
      yield* settle
      assert.strictEqual(held.length, 5)
      for (const h of held.filter((h) => h.offset !== 1n)) yield* h.ack
      const queue = MQ.make("T", "broker-a", 0)
      assert.strictEqual(engine.ctx.store.readMemory(queue), 1n)
      yield* held.find((h) => h.offset === 1n)!.ack
      assert.strictEqual(engine.ctx.store.readMemory(queue), 5n)
      yield* close
      yield* Fiber.join(reader)
      assert.strictEqual(cluster.state.offsets.get(key(0)), 5n)
    }), 30_000)

  it.effect("re-checks tags exactly: a message whose tag only shares the hash is skipped, and its offset still committed", () =>
    Effect.gen(function*() {
      const cluster = topic(1)
      cluster.append("T", "broker-a", 0, "a", [["TAGS", "Aa"]])
      cluster.append("T", "broker-a", 0, "b", [["TAGS", "BB"]])
      cluster.append("T", "broker-a", 0, "c", [["TAGS", "Aa"]])
      const { close, consumer } = yield* start(cluster, "c1", { ...FIRST, subscriptions: { T: "Aa" } })
      const bodies: Array<string> = []
      yield* Effect.forkChild(consumer.run((d) => Effect.sync(() => bodies.push(new TextDecoder().decode(d.message.body)))))
      yield* settle
      expect(bodies).toEqual(["a", "c"])
      yield* close
      assert.strictEqual(cluster.state.offsets.get(key(0)), 3n)
    }), 30_000)

  it.effect("long-polls: a message sent after the queue went quiet is handed out without waiting for the poll to expire", () =>
    Effect.gen(function*() {
      const cluster = topic(1)
      const { close, consumer } = yield* start(cluster, "c1", FIRST)
      const got = yield* Deferred.make<string>()
      yield* Effect.forkChild(consumer.run((d) => Deferred.succeed(got, d.message.msgId)))
      yield* settle
      const pullsBefore = cluster.state.pulls.length
      cluster.append("T", "broker-a", 0, "late")
      yield* settle
      assert.isTrue(yield* Deferred.isDone(got))
      // One suspended pull answered by the arrival, then the next pull.
      assert.isAtMost(cluster.state.pulls.length - pullsBefore, 2)
      yield* close
    }), 30_000)

  it.effect("moves the committed offset over an empty queue's NO_NEW_MSG when nothing is held", () =>
    Effect.gen(function*() {
      const cluster = topic(1)
      for (let i = 0; i < 3; i++) cluster.append("T", "broker-a", 0, `m${i}`)
      // No stored offset, CONSUME_FROM_LAST_OFFSET: start at the max offset; nothing to consume.
      const { close, engine } = yield* start(cluster, "c1")
      yield* settle
      yield* TestClock.adjust("15 seconds")
      yield* settle
      assert.strictEqual(engine.ctx.store.readMemory(MQ.make("T", "broker-a", 0)), 3n)
      yield* close
      assert.strictEqual(cluster.state.offsets.get(key(0)), 3n)
    }), 30_000)

  it.effect("bounds what a stalled handler leaves held: pulling pauses at the queue's threshold and nothing else buffers", () =>
    Effect.gen(function*() {
      const cluster = topic(1)
      for (let i = 0; i < 2000; i++) cluster.append("T", "broker-a", 0, `m${i}`)
      const { close, consumer, engine } = yield* start(cluster, "c1", { ...FIRST, pullThresholdForQueue: 100, pullBatchSize: 16 })
      yield* Effect.forkChild(consumer.run(() => Effect.never, { concurrency: 4 }))
      for (let i = 0; i < 20; i++) {
        yield* settle
        yield* TestClock.adjust("1 second")
      }
      // Pulling stops once the bounded hand-off queue is full or, at the latest, once more than the
      // threshold is held (Java's rule, so at most one batch over it); either way nothing grows.
      const held = engine.ctx.entries.get(key(0))!.pq.count
      assert.isAtMost(held, 100 + 16)
      const pulled = cluster.state.pulls.filter((p) => p.key === key(0)).length
      assert.isAtMost(pulled, Math.ceil((100 + 16) / 16) + 1)
      yield* TestClock.adjust("1 minute")
      yield* settle
      assert.strictEqual(engine.ctx.entries.get(key(0))!.pq.count, held)
      assert.strictEqual(cluster.state.pulls.filter((p) => p.key === key(0)).length, pulled)
      yield* close
      assert.strictEqual(cluster.state.offsets.get(key(0)) ?? 0n, 0n)
    }), 30_000)

  it.effect("run's workers finish messages in any order; the committed offset is always the lowest one not yet acknowledged, and each message is handled once", () =>
    Effect.gen(function*() {
      const cluster = topic(1)
      const total = 200
      for (let i = 0; i < total; i++) cluster.append("T", "broker-a", 0, `m${i}`)
      const { close, consumer, engine } = yield* start(cluster, "c1", { ...FIRST, pullBatchSize: 16 })
      // Handler times from a fixed linear congruential sequence: 1 to 40 ms, in no order.
      let seed = 7
      const delays = Array.from({ length: total }, () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 40 + 1)
      const handled = new Array<number>(total).fill(0)
      const acknowledged = new Set<number>()
      const order: Array<number> = []
      yield* Effect.forkChild(consumer.run((d) =>
        Effect.gen(function*() {
          const offset = Number(d.message.queueOffset)
          handled[offset]!++
          yield* Effect.sleep(delays[offset]!)
          acknowledged.add(offset)
          order.push(offset)
        }), { concurrency: 8 }))
      const queue = MQ.make("T", "broker-a", 0)
      for (let step = 0; step < 2000 && acknowledged.size < total; step++) {
        yield* settle
        const committed = engine.ctx.store.readMemory(queue)
        let lowest = 0
        while (acknowledged.has(lowest)) lowest++
        if (committed !== undefined) assert.strictEqual(committed, BigInt(lowest), `after ${order.length} acknowledgements`)
        yield* TestClock.adjust("1 millis")
      }
      assert.strictEqual(acknowledged.size, total)
      expect(handled.every((n) => n === 1)).toBe(true)
      expect(order).not.toEqual([...order].sort((a, b) => a - b))
      yield* close
      assert.strictEqual(cluster.state.offsets.get(key(0)), BigInt(total))
    }), 30_000)

  it.effect("run interrupted with a full hand-off queue returns at once, and the abandoned messages are handed out again", () =>
    Effect.gen(function*() {
      const cluster = topic(1)
      for (let i = 0; i < 300; i++) cluster.append("T", "broker-a", 0, `m${i}`)
      const { close, consumer } = yield* start(cluster, "c1", FIRST)
      // Four handlers stall while the pullers fill the bounded hand-off queue behind them.
      const stalled = yield* Effect.forkChild(consumer.run(() => Effect.never, { concurrency: 4 }))
      for (let i = 0; i < 5; i++) {
        yield* settle
        yield* TestClock.adjust("1 second")
      }
      // Each interrupted handler hands its message back; none may wait for room in the queue.
      const interrupted = yield* Effect.forkChild(Fiber.interrupt(stalled))
      yield* settle
      assert.isDefined(interrupted.pollUnsafe(), "interrupting run waited for room in the full hand-off queue")
      const seen = new Set<string>()
      yield* Effect.forkChild(consumer.run((d) => Effect.sync(() => seen.add(d.message.msgId))))
      for (let i = 0; i < 10 && seen.size < 300; i++) {
        yield* settle
        yield* TestClock.adjust("1 second")
      }
      assert.strictEqual(seen.size, 300)
      yield* close
      assert.strictEqual(cluster.state.offsets.get(key(0)), 300n)
    }), 30_000)

  it.effect("stops every fiber on close: no pull afterwards, readers end, and late acknowledgements change nothing", () =>
    Effect.gen(function*() {
      const cluster = topic(2)
      for (let i = 0; i < 6; i++) cluster.append("T", "broker-a", i % 2, `m${i}`)
      const { close, consumer, engine } = yield* start(cluster, "c1", FIRST)
      const held: Array<Effect.Effect<void>> = []
      const reader = yield* Effect.forkChild(consumer.stream.pipe(Stream.runForEach((d) => Effect.sync(() => held.push(d.ack)))))
      yield* settle
      assert.strictEqual(held.length, 6)
      yield* held[0]!
      yield* close
      yield* Fiber.join(reader)
      const pulls = cluster.state.pulls.length
      yield* TestClock.adjust("2 minutes")
      yield* settle
      assert.strictEqual(cluster.state.pulls.length, pulls)
      assert.strictEqual(engine.ctx.entries.size, 0)
      const stored = new Map(cluster.state.offsets)
      for (const ack of held) yield* ack
      expect(cluster.state.offsets).toEqual(stored)
      // The first message of queue 0 was acknowledged before close; nothing else was.
      assert.strictEqual(cluster.state.offsets.get(key(0)), 1n)
    }), 30_000)

  it.effect("on OFFSET_ILLEGAL drops the queue, persists the broker's offset after 10 s and re-adds the queue from it", () =>
    Effect.gen(function*() {
      const cluster = topic(1)
      for (let i = 0; i < 10; i++) cluster.append("T", "broker-a", 0, `m${i}`)
      cluster.state.offsetIllegal.set(key(0), 7n)
      const { close, consumer } = yield* start(cluster, "c1", FIRST)
      const offsets: Array<bigint> = []
      yield* Effect.forkChild(consumer.run((d) => Effect.sync(() => offsets.push(d.message.queueOffset))))
      yield* settle
      expect(offsets).toEqual([])
      yield* TestClock.adjust("10 seconds")
      yield* settle
      expect(cluster.state.commits[0]).toEqual([key(0), 7n])
      expect(offsets).toEqual([7n, 8n, 9n])
      yield* close
    }), 30_000)

  it.effect("does not start a queue whose stored offset cannot be read, and starts it from the stored offset once it can", () =>
    Effect.gen(function*() {
      const cluster = topic(1)
      for (let i = 0; i < 5; i++) cluster.append("T", "broker-a", 0, `m${i}`)
      cluster.state.offsets.set(key(0), 3n)
      cluster.state.fail.queryOffset = true
      const { close, consumer } = yield* start(cluster, "c1", FIRST)
      const offsets: Array<bigint> = []
      yield* Effect.forkChild(consumer.run((d) => Effect.sync(() => offsets.push(d.message.queueOffset))))
      yield* settle
      expect(yield* consumer.assignment).toEqual([])
      cluster.state.fail.queryOffset = false
      yield* TestClock.adjust("20 seconds")
      yield* settle
      expect(offsets).toEqual([3n, 4n])
      yield* close
    }), 30_000)
})
