import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import * as fc from "fast-check"
import * as Headers from "../../src/Headers.ts"
import * as PullHeader from "../../src/internal/pullHeader.ts"

const int32 = fc.integer({ min: -2147483648, max: 2147483647 })
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
const safe = fc.maxSafeInteger()
// Mostly valid values, sometimes one just out of range or of the wrong kind.
const intOrNot = fc.oneof({ weight: 8, arbitrary: int32 }, fc.constantFrom(2147483648, 1.5, Number.NaN))
const longOrNot = fc.oneof({ weight: 8, arbitrary: int64 }, fc.constant(2n ** 63n))
const safeOrNot = fc.oneof({ weight: 8, arbitrary: safe }, fc.constantFrom(2 ** 53, 0.5))

const request = fc.record({
  consumerGroup: fc.string(),
  topic: fc.string(),
  queueId: intOrNot,
  queueOffset: longOrNot,
  maxMsgNums: intOrNot,
  sysFlag: intOrNot,
  commitOffset: longOrNot,
  suspendTimeoutMillis: safeOrNot,
  subscription: fc.string(),
  subVersion: safeOrNot,
  expressionType: fc.constantFrom("TAG", "SQL92"),
  maxMsgBytes: intOrNot
}, { requiredKeys: ["consumerGroup", "topic", "queueId", "queueOffset", "maxMsgNums", "sysFlag", "commitOffset", "suspendTimeoutMillis", "subVersion"] })

// Decimal text, sometimes not decimal or beyond its type's range.
const text = (valid: fc.Arbitrary<string>) =>
  fc.oneof({ weight: 8, arbitrary: valid }, fc.constantFrom("", "1e3", " 7", "0x10", "9223372036854775808", "2147483648", "+5", "-0", "007"))
const response = fc.record({
  suggestWhichBrokerId: text(safe.map(String)),
  nextBeginOffset: text(int64.map(String)),
  minOffset: text(int64.map(String)),
  maxOffset: text(int64.map(String)),
  offsetDelta: text(int64.map(String)),
  topicSysFlag: text(int32.map(String)),
  groupSysFlag: text(int32.map(String)),
  forbiddenType: text(int32.map(String)),
  other: fc.string()
}, { requiredKeys: [] })

describe("PullHeader", () => {
  it("encodes every request the schema encodes to the same fields in the same order, and declines the rest (property)", () =>
    fc.assert(
      fc.property(request, (r) => {
        const fast = PullHeader.encodeRequest(r as PullHeader.Request)
        const schema = Effect.runSyncExit(Headers.PullMessageRequestHeader.encode(r as PullHeader.Request))
        if (Exit.isFailure(schema)) return assert.isUndefined(fast)
        assert.isDefined(fast)
        expect(Object.entries(fast!)).toEqual(Object.entries(schema.value))
      }),
      { numRuns: 2000 }
    ))

  it("decodes every response the schema decodes to the same offsets, and declines the rest (property)", () =>
    fc.assert(
      fc.property(response, (fields) => {
        const fast = PullHeader.decodeResponse(fields)
        const schema = Effect.runSyncExit(Headers.PullMessageResponseHeader.decode(fields))
        if (Exit.isFailure(schema)) return assert.isUndefined(fast)
        assert.isDefined(fast)
        const { maxOffset, minOffset, nextBeginOffset, suggestWhichBrokerId } = schema.value
        expect(fast).toEqual({ suggestWhichBrokerId, nextBeginOffset, minOffset, maxOffset })
      }),
      { numRuns: 2000 }
    ))
})
