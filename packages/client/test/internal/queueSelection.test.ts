import { assert, describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import * as FaultStrategy from "../../src/internal/faultStrategy.ts"
import * as QueueSelection from "../../src/internal/queueSelection.ts"
import * as MessageQueue from "../../src/MessageQueue.ts"
import { javaHashCode } from "../../src/Heartbeat.ts"

const queues = (brokers: ReadonlyArray<string>, perBroker: number) =>
  brokers.flatMap((b) => Array.from({ length: perBroker }, (_, i) => MessageQueue.make("T", b, i)))

describe("queueSelection", () => {
  it("advances the counter as Java's ThreadLocalIndex: pre-increment, wrap at 32 bits, non-negative", () => {
    const index = QueueSelection.makeIndex(2 ** 31 - 2)
    expect([QueueSelection.next(index), QueueSelection.next(index), QueueSelection.next(index)]).toEqual([2 ** 31 - 1, 0, 1])
  })

  it("goes round-robin over every queue from any start away from the counter's wrap (where Java's skips, too)", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 - 10 }), (seed) => {
      const list = queues(["a", "b"], 3)
      const index = QueueSelection.makeIndex(seed)
      const picked = Array.from({ length: list.length }, () => MessageQueue.key(QueueSelection.select(list, index, undefined)))
      return new Set(picked).size === list.length
    }))
  })

  it("avoids the broker of the failed attempt when another exists, and falls back to it when none does", () => {
    fc.assert(fc.property(fc.integer(), (seed) => {
      const index = QueueSelection.makeIndex(seed)
      const both = queues(["a", "b"], 4)
      const onlyA = queues(["a"], 4)
      return QueueSelection.select(both, index, "a").brokerName === "b" &&
        QueueSelection.select(onlyA, index, "a").brokerName === "a"
    }))
  })

  it("with latency fault tolerance prefers available brokers, then reachable ones, then any", () => {
    const list = queues(["a", "b", "c"], 2)
    const faults = FaultStrategy.make()
    faults.update("a", 0, true, true, 0) // unavailable for 10 s, reachable
    faults.update("b", 0, true, false, 0) // unavailable and unreachable
    const index = QueueSelection.makeIndex(0)
    for (let i = 0; i < 6; i++) {
      assert.strictEqual(QueueSelection.select(list, index, undefined, { faults, now: 5, resetTo: undefined }).brokerName, "c")
    }
    // c failed last: not available → reachable a is next.
    assert.strictEqual(QueueSelection.select(list, index, "c", { faults, now: 5, resetTo: 7 }).brokerName, "a")
    faults.update("a", 0, true, false, 0)
    // Nothing available or reachable but c, which failed last: any queue, c included.
    assert.include(["a", "b", "c"], QueueSelection.select(list, index, "c", { faults, now: 5, resetTo: 3 }).brokerName)
  })

  it("maps a sharding key to |hashCode % size| as Java's SelectMessageQueueByHash", () => {
    const four = queues(["a"], 4)
    const eight = queues(["a", "b"], 4)
    assert.strictEqual(QueueSelection.byHash(four, javaHashCode("order-1")).queueId, 2)
    assert.strictEqual(MessageQueue.key(QueueSelection.byHash(eight, javaHashCode("order-1"))), "T@b@2")
    assert.strictEqual(QueueSelection.byHash(four, javaHashCode("order-2")).queueId, 1)
    assert.strictEqual(QueueSelection.byHash(four, javaHashCode("OrderCreated")).queueId, 2)
  })
})
