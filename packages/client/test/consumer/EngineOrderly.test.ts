import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Random } from "effect"
import { TestClock } from "effect/testing"
import * as MQ from "../../src/MessageQueue.ts"
import * as FakeCluster from "./support/FakeCluster.ts"
import { settle, start } from "./support/engine.ts"

const ORDERLY = { consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET", orderly: true } as const
const key = (queueId: number) => MQ.key(MQ.make("T", "broker-a", queueId))
const body = (bytes: Uint8Array) => Number(new TextDecoder().decode(bytes))

describe("Consumer engine (orderly)", () => {
  it.effect("hands each queue's messages out one at a time in queue order, whatever the handlers' speed", () =>
    Effect.gen(function*() {
      const cluster = FakeCluster.make({ T: { brokers: ["broker-a"], queues: 4 } })
      for (let i = 0; i < 200; i++) cluster.append("T", "broker-a", i % 4, `${i}`)
      const { close, consumer } = yield* start(cluster, "c1", ORDERLY)
      const perQueue = new Map<number, Array<number>>()
      let inFlight = new Set<number>()
      let overlapped = false
      yield* Effect.forkChild(consumer.run((d) =>
        Effect.gen(function*() {
          if (inFlight.has(d.queue.queueId)) overlapped = true
          inFlight.add(d.queue.queueId)
          yield* Effect.sleep(`${yield* Random.nextIntBetween(1, 20)} millis`)
          inFlight = new Set([...inFlight].filter((q) => q !== d.queue.queueId))
          perQueue.set(d.queue.queueId, [...(perQueue.get(d.queue.queueId) ?? []), body(d.message.body)])
        }), { concurrency: 8 }))
      for (let i = 0; i < 200; i++) {
        yield* settle
        yield* TestClock.adjust("20 millis")
      }
      assert.isFalse(overlapped)
      for (let q = 0; q < 4; q++) {
        expect(perQueue.get(q)).toEqual(Array.from({ length: 50 }, (_, i) => i * 4 + q))
      }
      expect([...cluster.state.locks.keys()].sort()).toEqual([key(0), key(1), key(2), key(3)])
      yield* close
      assert.strictEqual(cluster.state.locks.size, 0)
      for (let q = 0; q < 4; q++) assert.strictEqual(cluster.state.offsets.get(key(q)), 50n)
    }), 30_000)

  it.effect("suspends a queue after a failure and retries the same message before the next, counting each retry", () =>
    Effect.gen(function*() {
      const cluster = FakeCluster.make({ T: { brokers: ["broker-a"], queues: 1 } })
      for (let i = 0; i < 3; i++) cluster.append("T", "broker-a", 0, `${i}`)
      const { close, consumer } = yield* start(cluster, "c1", ORDERLY)
      const seen: Array<string> = []
      yield* Effect.forkChild(consumer.run((d) => {
        seen.push(`${body(d.message.body)}#${d.message.reconsumeTimes}`)
        return body(d.message.body) === 1 && d.message.reconsumeTimes < 2 ? Effect.fail("later") : Effect.void
      }))
      yield* settle
      expect(seen).toEqual(["0#0", "1#0"])
      yield* TestClock.adjust("999 millis")
      yield* settle
      expect(seen).toEqual(["0#0", "1#0"])
      yield* TestClock.adjust("1 millis")
      yield* settle
      expect(seen).toEqual(["0#0", "1#0", "1#1"])
      yield* TestClock.adjust("1 second")
      yield* settle
      expect(seen).toEqual(["0#0", "1#0", "1#1", "1#2", "2#0"])
      assert.strictEqual(cluster.state.sentBack.length, 0)
      yield* close
      assert.strictEqual(cluster.state.offsets.get(key(0)), 3n)
    }), 30_000)

  it.effect("sends a message to the DLQ once maxReconsumeTimes is set and reached, then goes on", () =>
    Effect.gen(function*() {
      const cluster = FakeCluster.make({ T: { brokers: ["broker-a"], queues: 1 }, "%RETRY%g": { brokers: ["broker-a"], queues: 1 } })
      for (let i = 0; i < 2; i++) cluster.append("T", "broker-a", 0, `${i}`)
      const { close, consumer } = yield* start(cluster, "c1", { ...ORDERLY, maxReconsumeTimes: 1 })
      const seen: Array<string> = []
      yield* Effect.forkChild(consumer.run((d) => {
        seen.push(`${body(d.message.body)}#${d.message.reconsumeTimes}`)
        return body(d.message.body) === 0 ? Effect.fail("poison") : Effect.void
      }))
      yield* settle
      yield* TestClock.adjust("1 second")
      yield* settle
      expect(seen).toEqual(["0#0", "0#1", "1#0"])
      assert.strictEqual(cluster.state.dlq.length, 1)
      yield* close
    }), 30_000)

  it.effect("does not consume a queue another client holds the lock of, and takes it once the lock is free", () =>
    Effect.gen(function*() {
      const cluster = FakeCluster.make({ T: { brokers: ["broker-a"], queues: 1 } })
      cluster.append("T", "broker-a", 0, "0")
      cluster.state.locks.set(key(0), "someone-else")
      const { close, consumer } = yield* start(cluster, "c1", ORDERLY)
      const seen: Array<number> = []
      yield* Effect.forkChild(consumer.run((d) => Effect.sync(() => seen.push(body(d.message.body)))))
      yield* settle
      yield* TestClock.adjust("5 seconds")
      yield* settle
      expect(seen).toEqual([])
      expect(yield* consumer.assignment).toEqual([])
      cluster.state.locks.delete(key(0))
      yield* TestClock.adjust("1 second")
      yield* settle
      expect(seen).toEqual([0])
      yield* close
    }), 30_000)
})
