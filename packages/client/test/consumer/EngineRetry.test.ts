import { assert, describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import * as Retry from "../../src/internal/consumer/retry.ts"
import * as MQ from "../../src/MessageQueue.ts"
import * as FakeCluster from "./support/FakeCluster.ts"
import { settle, start } from "./support/engine.ts"

const cluster = () => FakeCluster.make({ T: { brokers: ["broker-a"], queues: 1 }, "%RETRY%g": { brokers: ["broker-a"], queues: 1 } })
const FIRST = { consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" } as const
const T0 = MQ.key(MQ.make("T", "broker-a", 0))

describe("Consumer engine retries", () => {
  it.effect("retries a failing message with Java's growing delays under its original topic and puts it in the DLQ after 16 retries", () =>
    Effect.gen(function*() {
      const c = cluster()
      c.append("T", "broker-a", 0, "poison")
      // Quiet timers: four hours of virtual time pass.
      const quiet = { rebalanceInterval: "1 hour", persistConsumerOffsetInterval: "1 hour" } as const
      const { close, consumer } = yield* start(c, "c1", { ...FIRST, ...quiet })
      const seen: Array<{ reconsumeTimes: number; at: number; topic: string }> = []
      yield* Effect.forkChild(consumer.run((d) =>
        Effect.flatMap(Clock.currentTimeMillis, (at) => {
          seen.push({ reconsumeTimes: d.message.reconsumeTimes, at, topic: d.message.topic })
          return Effect.fail("boom")
        })
      ))
      yield* settle
      for (let n = 0; n < 16; n++) {
        yield* TestClock.adjust(Retry.retryDelay(n) as Duration.Input)
        yield* settle
      }
      expect(seen.map((s) => s.reconsumeTimes)).toEqual(Array.from({ length: 17 }, (_, i) => i))
      assert.isTrue(seen.every((s) => s.topic === "T"))
      const gaps = seen.slice(1).map((s, i) => s.at - seen[i]!.at)
      expect(gaps).toEqual(Array.from({ length: 16 }, (_, n) => Duration.toMillis(Duration.fromInputUnsafe(Retry.retryDelay(n) as Duration.Input))))
      assert.strictEqual(c.state.dlq.length, 1)
      expect(c.state.sentBack.map((r) => [r.delayLevel, r.maxReconsumeTimes])[0]).toEqual([0, 16])
      yield* close
      assert.strictEqual(c.state.offsets.get(T0), 1n)
    }), 30_000)

  it.effect("sends a copy to the retry topic when the broker refuses the send-back, and counts the message as consumed", () =>
    Effect.gen(function*() {
      const c = cluster()
      c.append("T", "broker-a", 0, "m")
      c.state.fail.sendBack = true
      const { close, consumer, engine } = yield* start(c, "c1", FIRST)
      yield* Effect.forkChild(consumer.run(() => Effect.fail("boom")))
      yield* settle
      assert.strictEqual(c.state.retryCopies.length, 1)
      expect(c.state.retryCopies[0]).toMatchObject({ originalTopic: "T", brokerName: "broker-a", maxReconsumeTimes: 16 })
      assert.strictEqual(engine.ctx.store.readMemory(MQ.make("T", "broker-a", 0)), 1n)
      yield* close
    }), 30_000)

  it.effect("keeps a message whose send-back and retry copy both fail, pins its offset, and hands it out again after 5 s counted as a retry", () =>
    Effect.gen(function*() {
      const c = cluster()
      c.append("T", "broker-a", 0, "m0")
      c.append("T", "broker-a", 0, "m1")
      c.state.fail.sendBack = true
      c.state.fail.retryCopy = true
      const { close, consumer, engine } = yield* start(c, "c1", FIRST)
      const seen: Array<string> = []
      yield* Effect.forkChild(consumer.run((d) => {
        seen.push(`${new TextDecoder().decode(d.message.body)}#${d.message.reconsumeTimes}`)
        return d.message.queueOffset === 0n && d.message.reconsumeTimes === 0 ? Effect.fail("boom") : Effect.void
      }))
      yield* settle
      expect(seen.sort()).toEqual(["m0#0", "m1#0"])
      const queue = MQ.make("T", "broker-a", 0)
      assert.strictEqual(engine.ctx.store.readMemory(queue), 0n)
      yield* TestClock.adjust("4999 millis")
      yield* settle
      assert.strictEqual(seen.length, 2)
      yield* TestClock.adjust("1 millis")
      yield* settle
      expect(seen).toContain("m0#1")
      assert.strictEqual(engine.ctx.store.readMemory(queue), 2n)
      yield* close
    }), 30_000)

  it.effect("sends a message nacked with delay level -1 straight to the DLQ", () =>
    Effect.gen(function*() {
      const c = cluster()
      c.append("T", "broker-a", 0, "m")
      const { close, consumer } = yield* start(c, "c1", FIRST)
      yield* Effect.forkChild(consumer.run((d) => d.nack({ delayLevel: -1 })))
      yield* settle
      assert.strictEqual(c.state.dlq.length, 1)
      assert.strictEqual(c.state.sentBack[0]!.delayLevel, -1)
      yield* close
    }), 30_000)

  it.effect("drops a failed message in broadcasting mode, as Java does, and moves the offset on", () =>
    Effect.gen(function*() {
      const c = cluster()
      c.append("T", "broker-a", 0, "m")
      const { close, consumer, engine } = yield* start(c, "c1", { ...FIRST, messageModel: "BROADCASTING" })
      yield* Effect.forkChild(consumer.run(() => Effect.fail("boom")))
      yield* settle
      assert.strictEqual(c.state.sentBack.length + c.state.retryCopies.length, 0)
      assert.strictEqual(engine.ctx.store.readMemory(MQ.make("T", "broker-a", 0)), 1n)
      yield* close
    }), 30_000)

  it.effect("hands a message out again when the handler running it is interrupted, without counting a retry", () =>
    Effect.gen(function*() {
      const c = cluster()
      c.append("T", "broker-a", 0, "m")
      const { close, consumer } = yield* start(c, "c1", FIRST)
      const first = yield* Effect.forkChild(consumer.run(() => Effect.never, { concurrency: 1 }))
      yield* settle
      yield* Fiber.interrupt(first)
      const seen: Array<number> = []
      yield* Effect.forkChild(consumer.run((d) => Effect.sync(() => seen.push(d.message.reconsumeTimes))))
      yield* settle
      expect(seen).toEqual([0])
      assert.strictEqual(c.state.sentBack.length, 0)
      yield* close
    }), 30_000)

  it.effect("sends back a message whose handler has been stuck past the consume timeout, so its offset is not pinned forever", () =>
    Effect.gen(function*() {
      const c = cluster()
      c.append("T", "broker-a", 0, "stuck")
      c.append("T", "broker-a", 0, "fine")
      const { close, consumer, engine } = yield* start(c, "c1", { ...FIRST, consumeTimeout: "15 minutes" })
      yield* Effect.forkChild(consumer.run((d) => (d.message.queueOffset === 0n ? Effect.never : Effect.void)))
      yield* settle
      const queue = MQ.make("T", "broker-a", 0)
      assert.strictEqual(engine.ctx.store.readMemory(queue), 0n)
      yield* TestClock.adjust("14 minutes")
      yield* settle
      assert.strictEqual(c.state.sentBack.length, 0)
      yield* TestClock.adjust("1 minute")
      yield* settle
      expect(c.state.sentBack.map((r) => [r.message.queueOffset, r.delayLevel])).toEqual([[0n, 3]])
      assert.strictEqual(engine.ctx.store.readMemory(queue), 2n)
      yield* close
    }), 30_000)

  it.effect("moves a record whose body cannot be decoded to the DLQ without handing it out, and only then lets the offset pass it", () =>
    Effect.gen(function*() {
      const c = cluster()
      c.append("T", "broker-a", 0, "m0")
      c.appendUndecodable("T", "broker-a", 0)
      c.append("T", "broker-a", 0, "m2")
      c.state.fail.sendBack = true
      c.state.fail.retryCopy = true
      const { close, consumer, engine } = yield* start(c, "c1", FIRST)
      const seen: Array<string> = []
      yield* Effect.forkChild(consumer.run((d) => Effect.sync(() => seen.push(new TextDecoder().decode(d.message.body)))))
      yield* settle
      expect(seen.sort()).toEqual(["m0", "m2"])
      const queue = MQ.make("T", "broker-a", 0)
      // Neither path to the DLQ works yet: the record stays held and pins the offset.
      assert.strictEqual(engine.ctx.store.readMemory(queue), 1n)
      c.state.fail.sendBack = false
      yield* TestClock.adjust("5 seconds")
      yield* settle
      expect(c.state.sentBack.map((r) => [r.message.queueOffset, r.delayLevel])).toEqual([[1n, -1]])
      assert.strictEqual(c.state.dlq.length, 1)
      assert.strictEqual(engine.ctx.store.readMemory(queue), 3n)
      yield* close
    }), 30_000)

  it.effect("moves an undecodable record of an orderly queue to the DLQ in its turn, keeping the queue's order", () =>
    Effect.gen(function*() {
      const c = cluster()
      c.append("T", "broker-a", 0, "m0")
      c.appendUndecodable("T", "broker-a", 0)
      c.append("T", "broker-a", 0, "m2")
      const { close, consumer } = yield* start(c, "c1", { ...FIRST, orderly: true })
      const seen: Array<string> = []
      yield* Effect.forkChild(consumer.run((d) => Effect.sync(() => seen.push(new TextDecoder().decode(d.message.body)))))
      yield* settle
      yield* TestClock.adjust("1 second")
      yield* settle
      expect(seen).toEqual(["m0", "m2"])
      expect(c.state.sentBack.map((r) => [r.message.queueOffset, r.delayLevel])).toEqual([[1n, -1]])
      yield* close
      assert.strictEqual(c.state.offsets.get(T0), 3n)
    }), 30_000)
})
