import { assert, describe, expect, it } from "@effect/vitest"
import { Admin, Broker, Message, Offsets } from "@effect-rocketmq/client"
import { RemotingClient, RemotingCommand, RequestCode } from "@effect-rocketmq/remoting"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"
import * as InMemoryRocketMQ from "../src/InMemoryRocketMQ.ts"
import * as Locks from "../src/internal/rmq/Locks.ts"
import * as Store from "../src/internal/rmq/Store.ts"

const BROKER = "127.0.0.1:10911"

/** The consume queue's search by time, written the slow way: LOWER is the first at or after, UPPER the last at or before. */
const model = (times: ReadonlyArray<number>, timestamp: number, boundary: Store.Boundary): number => {
  if (times.length === 0) return 0
  if (times[times.length - 1]! < timestamp) return boundary === "LOWER" ? times.length : times.length - 1
  if (times[0]! > timestamp) return 0
  if (boundary === "LOWER") return times.findIndex((t) => t >= timestamp)
  let last = 0
  times.forEach((t, i) => {
    if (t <= timestamp) last = i
  })
  return last
}

describe("InMemoryRocketMQ store", () => {
  it("searches a queue by time as Java's consume queue does, for any store times (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 40 }).map((steps) => {
          let t = 1_000
          return steps.map((step) => (t += step))
        }),
        fc.integer({ min: 900, max: 3_100 }),
        fc.constantFrom<Store.Boundary>("LOWER", "UPPER"),
        (times, timestamp, boundary) => {
          expect(Store.searchByTime(times, timestamp, boundary)).toBe(model(times, timestamp, boundary))
        }
      ),
      { numRuns: 500 }
    )
  })

  it.effect("answers SEARCH_OFFSET_BY_TIMESTAMP (29) and GET_MIN_OFFSET (31) with the offsets and remark a 5.3.3 broker gives", () =>
    Effect.gen(function*() {
      const rmq = yield* InMemoryRocketMQ.make()
      const client = InMemoryRocketMQ.remotingClient(rmq)
      const provide = Effect.provide(Layer.succeed(RemotingClient.RemotingClient, client))
      yield* Admin.createTopic(BROKER, "T", { queueNums: 2 }).pipe(provide)
      yield* TestClock.setTime(10_000)
      yield* Broker.sendMessage(BROKER, Message.make("T", "a"), { queueId: 0 }).pipe(provide)
      yield* TestClock.setTime(11_000)
      yield* Broker.sendMessage(BROKER, Message.make("T", "b"), { queueId: 0 }).pipe(provide)
      const search = (timestamp: number, boundaryType: "LOWER" | "UPPER") =>
        Offsets.searchOffsetByTimestamp(BROKER, { topic: "T", queueId: 0, timestamp }, { boundaryType }).pipe(provide)
      // The vectors a real 5.3.3 broker answered for two messages stored 1 s apart.
      expect([
        yield* search(9_999, "LOWER"),
        yield* search(10_000, "LOWER"),
        yield* search(10_001, "LOWER"),
        yield* search(11_005, "LOWER"),
        yield* search(10_001, "UPPER"),
        yield* search(9_995, "UPPER"),
        yield* search(11_005, "UPPER")
      ]).toEqual([0n, 0n, 1n, 2n, 0n, 0n, 1n])
      const min = yield* client.invoke(BROKER, RemotingCommand.make({ code: RequestCode.GET_MIN_OFFSET, extFields: { topic: "T", queueId: "1" } }))
      expect([min.code, min.remark, min.extFields["offset"]]).toEqual([0, "", "0"])
      const emptyQueue = yield* client.invoke(BROKER, RemotingCommand.make({
        code: RequestCode.SEARCH_OFFSET_BY_TIMESTAMP,
        extFields: { topic: "T", queueId: "1", timestamp: "10000" }
      }))
      assert.strictEqual(emptyQueue.extFields["offset"], "0")
    }))

  it.effect("delivers delayed messages of random levels each exactly at its due time, in due order", () =>
    Effect.gen(function*() {
      const rmq = yield* InMemoryRocketMQ.make({ messageDelayLevel: "1s 2s 3s 5s 8s" })
      const provide = Effect.provide(Layer.succeed(RemotingClient.RemotingClient, InMemoryRocketMQ.remotingClient(rmq)))
      yield* Admin.createTopic(BROKER, "D", { queueNums: 1 }).pipe(provide)
      const levels = [5, 1, 3, 3, 2, 4, 1, 5, 2]
      for (const [i, delayLevel] of levels.entries()) {
        yield* Broker.sendMessage(BROKER, Message.make("D", String(i), { delayLevel }), { queueId: 0 }).pipe(provide)
        yield* TestClock.adjust(100)
      }
      yield* TestClock.adjust("10 seconds")
      const delays = [1000, 2000, 3000, 5000, 8000]
      const expected = levels.map((level, i) => ({ i: String(i), due: i * 100 + delays[level - 1]! }))
        .sort((a, b) => a.due - b.due || Number(a.i) - Number(b.i))
      const delivered = rmq.broker().messages("D", 0)
      expect(delivered.map((m) => [new TextDecoder().decode(m.body), m.storeTimestamp])).toEqual(expected.map((e) => [e.i, e.due]))
    }))
})

describe("InMemoryRocketMQ locks", () => {
  type Op =
    | { readonly _tag: "lock"; readonly client: string; readonly queues: ReadonlyArray<number> }
    | { readonly _tag: "unlock"; readonly client: string; readonly queues: ReadonlyArray<number> }
    | { readonly _tag: "wait"; readonly millis: number }

  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ _tag: fc.constant("lock" as const), client: fc.constantFrom("c1", "c2", "c3"), queues: fc.subarray([0, 1, 2, 3]) }),
    fc.record({ _tag: fc.constant("unlock" as const), client: fc.constantFrom("c1", "c2", "c3"), queues: fc.subarray([0, 1, 2, 3]) }),
    fc.record({ _tag: fc.constant("wait" as const), millis: fc.integer({ min: 0, max: 40_000 }) })
  )

  it("never lets two clients hold one queue, and grants what a lock table with 60 s expiry would (fast-check)", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const locks = Locks.make(60_000)
        const model = new Map<number, { client: string; at: number }>()
        let now = 0
        for (const o of ops) {
          if (o._tag === "wait") {
            now += o.millis
            continue
          }
          const queues = o.queues.map((queueId) => ({ brokerName: "b", queueId, topic: "T" }))
          if (o._tag === "unlock") {
            locks.unlock("g", queues, o.client)
            for (const q of o.queues) if (model.get(q)?.client === o.client) model.delete(q)
            continue
          }
          const granted = locks.tryLock("g", queues, o.client, now).map((q) => q.queueId)
          const expected = o.queues.filter((q) => {
            const held = model.get(q)
            return held === undefined || held.client === o.client || now - held.at > 60_000
          })
          expect(granted).toEqual(expected)
          for (const q of expected) model.set(q, { client: o.client, at: now })
        }
        const view = locks.view("g", now)
        expect(new Set(view.map((l) => l.queue.queueId)).size).toBe(view.length)
      }),
      { numRuns: 300 }
    )
  })
})
