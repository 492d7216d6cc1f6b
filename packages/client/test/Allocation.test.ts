import { assert, describe, expect, it } from "@effect/vitest"
import { Result } from "effect"
import * as fc from "fast-check"
import * as Allocation from "../src/Allocation.ts"

const ids = (n: number) => Array.from({ length: n }, (_, i) => `10.0.0.1@c${String(i).padStart(3, "0")}`)
const range = (n: number) => Array.from({ length: n }, (_, i) => i)

const shares = (strategy: Allocation.Strategy, queues: number, clients: number) => {
  const clientIds = ids(clients)
  return clientIds.map((clientId) => {
    const result = strategy.allocate({ consumerGroup: "g", clientId, queues: range(queues), clientIds })
    assert.isTrue(Result.isSuccess(result))
    return Result.getOrThrow(result)
  })
}

describe("Allocation.averagely", () => {
  it("gives every member the share Java's AllocateMessageQueueAveragely gives", () => {
    expect(shares(Allocation.averagely, 8, 3)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7]])
    expect(shares(Allocation.averagely, 3, 5)).toEqual([[0], [1], [2], [], []])
    expect(shares(Allocation.averagely, 10, 4)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7], [8, 9]])
    expect(shares(Allocation.averagely, 5, 2)).toEqual([[0, 1, 2], [3, 4]])
    expect(shares(Allocation.averagely, 16, 5)).toEqual([[0, 1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12], [13, 14, 15]])
    expect(shares(Allocation.averagely, 4, 4)).toEqual([[0], [1], [2], [3]])
    expect(shares(Allocation.averagely, 1, 1)).toEqual([[0]])
  })

  it("gives a member missing from the group's list no queue, as Java does before the broker has its heartbeat", () => {
    const result = Allocation.averagely.allocate({ consumerGroup: "g", clientId: "x", queues: [1, 2], clientIds: ["a"] })
    expect(Result.getOrThrow(result)).toEqual([])
  })

  it("fails with a retryable AllocationError on no queues or no consumers, and a non-retryable one on an empty client id", () => {
    const noQueues = Allocation.averagely.allocate({ consumerGroup: "g", clientId: "a", queues: [], clientIds: ["a"] })
    const noClients = Allocation.averagely.allocate({ consumerGroup: "g", clientId: "a", queues: [1], clientIds: [] })
    const emptyId = Allocation.averagely.allocate({ consumerGroup: "g", clientId: "", queues: [1], clientIds: ["a"] })
    assert.isTrue(Result.isFailure(noQueues) && noQueues.failure.reason === "NoQueues" && noQueues.failure.isRetryable)
    assert.isTrue(Result.isFailure(noClients) && noClients.failure.reason === "NoConsumers")
    assert.isTrue(Result.isFailure(emptyId) && !emptyId.failure.isRetryable && !emptyId.failure.mayHaveReachedPeer)
    if (Result.isFailure(noQueues)) expect(noQueues.failure.message).toContain("no readable queue")
  })

  it("splits any sorted queue list among any sorted member list with no queue twice and none left out (fast-check)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 24 }), (queues, clients) => {
        const all = shares(Allocation.averagely, queues, clients)
        const flat = all.flat()
        // Consecutive ranges in member order, so concatenating the shares gives the queue list back.
        assert.deepStrictEqual(flat, range(queues))
        const sizes = all.map((s) => s.length).filter((n) => n > 0)
        assert.isAtMost(Math.max(...sizes) - Math.min(...sizes), 1)
      }),
      { numRuns: 300 }
    )
  })
})

describe("Allocation.averagelyByCircle", () => {
  it("gives every member the share Java's AllocateMessageQueueAveragelyByCircle gives", () => {
    expect(shares(Allocation.averagelyByCircle, 8, 3)).toEqual([[0, 3, 6], [1, 4, 7], [2, 5]])
    expect(shares(Allocation.averagelyByCircle, 3, 5)).toEqual([[0], [1], [2], [], []])
  })

  it("splits any queue list with no queue twice and none left out (fast-check)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 24 }), (queues, clients) => {
        const flat = shares(Allocation.averagelyByCircle, queues, clients).flat().sort((a, b) => a - b)
        assert.deepStrictEqual(flat, range(queues))
      }),
      { numRuns: 300 }
    )
  })
})

describe("Allocation.sortClientIds", () => {
  it("orders client ids by UTF-16 code unit as Java's String.compareTo, keeping duplicates", () => {
    expect(Allocation.sortClientIds(["10.0.0.9@1", "10.0.0.10@1", "10.0.0.10@1", "B", "a"]))
      .toEqual(["10.0.0.10@1", "10.0.0.10@1", "10.0.0.9@1", "B", "a"])
  })
})
