import { assert, describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { ProcessQueue } from "../../src/internal/consumer/processQueue.ts"

const msg = (offset: number, bytes = 10) => ({ queueOffset: BigInt(offset), body: new Uint8Array(bytes) })
const msgs = (...offsets: ReadonlyArray<number>) => offsets.map((o) => msg(o))

describe("ProcessQueue (concurrent removal)", () => {
  it("commits the lowest offset still held, or one past the newest when empty, as Java's removeMessage", () => {
    const pq = new ProcessQueue(0)
    pq.put(msgs(100, 101, 102, 103))
    assert.strictEqual(pq.remove([101n]), 100n)
    assert.strictEqual(pq.remove([100n]), 102n)
    assert.strictEqual(pq.remove([102n, 103n]), 104n)
    assert.strictEqual(pq.remove([104n]), undefined)
  })

  it("ignores a message it already holds and counts messages and body bytes", () => {
    const pq = new ProcessQueue(0)
    expect(pq.put([msg(5, 3), msg(6, 4)]).length).toBe(2)
    expect(pq.put([msg(6, 4), msg(7, 5)]).map((m) => m.queueOffset)).toEqual([7n])
    assert.strictEqual(pq.count, 3)
    assert.strictEqual(pq.bytes, 12)
    assert.strictEqual(pq.maxSpan, 2n)
    pq.remove([6n])
    assert.strictEqual(pq.count, 2)
    assert.strictEqual(pq.bytes, 8)
    assert.strictEqual(pq.minOffset, 5n)
    assert.strictEqual(pq.maxOffset, 7n)
  })

  it("keeps offsets sorted when a lower offset arrives after higher ones, so it pins the commit", () => {
    const pq = new ProcessQueue(0)
    pq.put(msgs(10, 11))
    pq.put(msgs(4))
    assert.strictEqual(pq.remove([10n, 11n]), 4n)
    assert.strictEqual(pq.remove([4n]), 12n)
  })

  it("accepts an offset again after it was released, and holds it until released again", () => {
    const pq = new ProcessQueue(0)
    pq.put(msgs(1, 2, 3))
    pq.remove([2n])
    expect(pq.put(msgs(2)).length).toBe(1)
    assert.strictEqual(pq.remove([1n, 3n]), 2n)
  })

  it("stays bounded by what it holds over a long run of in-order acknowledgements", () => {
    const pq = new ProcessQueue(0)
    for (let batch = 0; batch < 200; batch++) {
      pq.put(Array.from({ length: 32 }, (_, i) => msg(batch * 32 + i)))
      pq.remove(Array.from({ length: 31 }, (_, i) => BigInt(batch * 32 + i)))
    }
    assert.strictEqual(pq.count, 200)
    expect(pq.messages().length).toBe(200)
    assert.strictEqual(pq.remove([31n]), 63n)
  })

  it("forgets everything on clear", () => {
    const pq = new ProcessQueue(0)
    pq.put(msgs(1, 2))
    pq.clear()
    assert.strictEqual(pq.count, 0)
    assert.strictEqual(pq.bytes, 0)
    assert.strictEqual(pq.remove([1n]), undefined)
  })
})

describe("ProcessQueue (orderly)", () => {
  it("takes the lowest messages, commits one past the last taken, and puts a failed batch back first", () => {
    const pq = new ProcessQueue(0)
    pq.put(msgs(0, 1, 2, 3))
    expect(pq.take(2).map((m) => m.queueOffset)).toEqual([0n, 1n])
    assert.strictEqual(pq.takenCount, 2)
    expect(pq.take(1).map((m) => m.queueOffset)).toEqual([2n])
    pq.putBack()
    assert.strictEqual(pq.takenCount, 0)
    expect(pq.take(2).map((m) => m.queueOffset)).toEqual([0n, 1n])
    assert.strictEqual(pq.commit(), 2n)
    assert.strictEqual(pq.count, 2)
    expect(pq.take(5).map((m) => m.queueOffset)).toEqual([2n, 3n])
    assert.strictEqual(pq.commit(), 4n)
    assert.strictEqual(pq.commit(), undefined)
  })

  it("never commits past a message that arrived below the taken batch and was not consumed", () => {
    const pq = new ProcessQueue(0)
    pq.put(msgs(5, 6))
    pq.take(2)
    pq.put(msgs(3))
    assert.strictEqual(pq.commit(), 3n)
  })
})

describe("ProcessQueue timestamps", () => {
  it("expires a queue not pulled for 120 s and a lock not renewed for 30 s", () => {
    const pq = new ProcessQueue(1_000)
    assert.isFalse(pq.isPullExpired(121_000))
    assert.isTrue(pq.isPullExpired(121_001))
    pq.lastLockTimestamp = 1_000
    assert.isFalse(pq.isLockExpired(31_000))
    assert.isTrue(pq.isLockExpired(31_001))
  })
})

describe("ProcessQueue committed offset", () => {
  it("never passes an unacknowledged message, whatever the order of acknowledgements (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 200 }),
        (n, picks) => {
          const pq = new ProcessQueue(0)
          pq.put(Array.from({ length: n }, (_, i) => msg(i)))
          const outstanding = new Set(Array.from({ length: n }, (_, i) => i))
          let committed = 0n
          for (const pick of picks) {
            if (outstanding.size === 0) break
            const offset = [...outstanding][pick % outstanding.size]!
            outstanding.delete(offset)
            const next = pq.remove([BigInt(offset)])
            assert.isDefined(next)
            // Monotonic, and never above the lowest outstanding offset.
            assert.isTrue(next! >= committed)
            committed = next!
            const lowest = outstanding.size === 0 ? n : Math.min(...outstanding)
            assert.strictEqual(committed, BigInt(lowest))
          }
        }
      ),
      { numRuns: 300 }
    )
  })
})
