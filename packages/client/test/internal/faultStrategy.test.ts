import { assert, describe, it } from "@effect/vitest"
import * as FaultStrategy from "../../src/internal/faultStrategy.ts"

describe("faultStrategy", () => {
  it("maps a latency to Java's not-available duration (the vectors of its tables)", () => {
    const vectors: ReadonlyArray<readonly [number, number]> = [
      [0, 0], [99, 0], [549, 0], [550, 2000], [1799, 2000], [1800, 5000], [3000, 6000], [4999, 6000],
      [FaultStrategy.ISOLATION_LATENCY, 10000], [15000, 30000], [60000, 30000]
    ]
    for (const [latency, duration] of vectors) assert.strictEqual(FaultStrategy.notAvailableDuration(latency), duration, `${latency} ms`)
  })

  it("isolates a broker for 10 s after a failure and never shortens its unavailability", () => {
    const faults = FaultStrategy.make()
    assert.isTrue(faults.isAvailable("a", 0))
    faults.update("a", 5, true, true, 1000)
    assert.isFalse(faults.isAvailable("a", 10_999))
    assert.isTrue(faults.isAvailable("a", 11_000))
    // A fast success later does not shorten an unavailability still running.
    faults.update("a", 20_000, false, true, 2000)
    faults.update("a", 1, false, true, 3000)
    assert.isFalse(faults.isAvailable("a", 31_999))
    assert.isTrue(faults.isAvailable("a", 32_000))
  })

  it("marks a broker that answered with an error code unreachable until a later success", () => {
    const faults = FaultStrategy.make()
    faults.update("a", 10, true, false, 0)
    assert.isFalse(faults.isReachable("a"))
    faults.update("a", 10, false, true, 20_000)
    assert.isTrue(faults.isReachable("a"))
    assert.isTrue(faults.isReachable("unknown"))
  })
})
