import { describe, expect, it } from "@effect/vitest"
import type * as Broker from "../../src/Broker.ts"
import * as PullOutcome from "../../src/internal/consumer/pullOutcome.ts"

const offsets = { nextBeginOffset: 40n, minOffset: 0n, maxOffset: 40n, suggestWhichBrokerId: 0 }
type M = { readonly offset: number; readonly tag: string }
const found = (messages: ReadonlyArray<M>, undecodable: ReadonlyArray<M> = []) =>
  ({ _tag: "Found", ...offsets, messages, undecodable }) as unknown as Broker.PullResult
const run = (result: Broker.PullResult) =>
  PullOutcome.fromResult(
    result,
    (m: M) => m.tag === "a",
    (m: M) => m.offset,
    (r) => r as unknown as { messages: ReadonlyArray<M>; undecodable: ReadonlyArray<M> }
  )

describe("PullOutcome", () => {
  it("hands out the messages that pass the exact filter and moves to nextBeginOffset", () => {
    expect(run(found([{ offset: 1, tag: "a" }, { offset: 2, tag: "b" }, { offset: 3, tag: "a" }])))
      .toEqual({ _tag: "Consume", messages: [1, 3], undecodable: [], nextOffset: 40n })
  })

  it("keeps records that could not be decoded apart, so they are held and not skipped", () => {
    expect(run(found([{ offset: 1, tag: "b" }], [{ offset: 2, tag: "a" }, { offset: 3, tag: "b" }])))
      .toEqual({ _tag: "Consume", messages: [], undecodable: [2], nextOffset: 40n })
  })

  it("treats a FOUND whose messages were all filtered out, NO_NEW_MSG and NO_MATCHED_MSG as empty at nextBeginOffset", () => {
    expect(run(found([{ offset: 1, tag: "b" }]))).toEqual({ _tag: "Empty", nextOffset: 40n })
    expect(run({ _tag: "NoNewMsg", ...offsets })).toEqual({ _tag: "Empty", nextOffset: 40n })
    expect(run({ _tag: "NoMatchedMsg", ...offsets })).toEqual({ _tag: "Empty", nextOffset: 40n })
  })

  it("reports OFFSET_ILLEGAL with the broker's corrected offset", () => {
    expect(run({ _tag: "OffsetIllegal", ...offsets, nextBeginOffset: 7n })).toEqual({ _tag: "OffsetIllegal", nextOffset: 7n })
  })

  it("retries after 20 ms on the broker's FLOW_CONTROL and after 1 s on any other failure", () => {
    expect(PullOutcome.fromError({ _tag: "RemoteError", responseCode: 215 })).toEqual({ _tag: "Retry", delayMillis: 20 })
    expect(PullOutcome.fromError({ _tag: "RemoteError", responseCode: 24 })).toEqual({ _tag: "Retry", delayMillis: 1000 })
    expect(PullOutcome.fromError({ _tag: "RequestTimeout" })).toEqual({ _tag: "Retry", delayMillis: 1000 })
  })
})
