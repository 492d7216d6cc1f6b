import { describe, expect, it } from "@effect/vitest"
import * as StartOffset from "../../src/internal/consumer/startOffset.ts"

const found = (offset: bigint) => ({ _tag: "Found", offset }) as const
const none = { _tag: "NotFound" } as const
const failed = { _tag: "Failed", error: "timeout" } as const

describe("StartOffset", () => {
  it("starts from the stored offset whatever consumeFromWhere says", () => {
    for (const from of ["LAST_OFFSET", "FIRST_OFFSET", "TIMESTAMP"] as const) {
      expect(StartOffset.decide(found(12n), from, false)).toEqual({ _tag: "Offset", offset: 12n })
    }
  })

  it("applies consumeFromWhere only when none is stored, with Java's retry-topic exceptions", () => {
    expect(StartOffset.decide(none, "LAST_OFFSET", false)).toEqual({ _tag: "MaxOffset" })
    expect(StartOffset.decide(none, "LAST_OFFSET", true)).toEqual({ _tag: "Offset", offset: 0n })
    expect(StartOffset.decide(none, "FIRST_OFFSET", false)).toEqual({ _tag: "Offset", offset: 0n })
    expect(StartOffset.decide(none, "TIMESTAMP", false)).toEqual({ _tag: "Timestamp" })
    expect(StartOffset.decide(none, "TIMESTAMP", true)).toEqual({ _tag: "MaxOffset" })
    expect(StartOffset.decide(found(-1n), "FIRST_OFFSET", false)).toEqual({ _tag: "Offset", offset: 0n })
  })

  it("does not start a queue whose stored offset could not be read, instead of resetting it", () => {
    for (const from of ["LAST_OFFSET", "FIRST_OFFSET", "TIMESTAMP"] as const) {
      expect(StartOffset.decide(failed, from, false)).toEqual({ _tag: "Unknown", error: "timeout" })
    }
    expect(StartOffset.decide(found(-2n), "FIRST_OFFSET", false)._tag).toBe("Unknown")
  })
})
