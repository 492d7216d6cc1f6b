import { describe, expect, it } from "@effect/vitest"
import * as FlowControl from "../../src/internal/consumer/flowControl.ts"

const held = (count: number, bytes: number, maxSpan: number) => ({ count, bytes, maxSpan: BigInt(maxSpan) })

describe("FlowControl", () => {
  it("pauses a queue holding more than 1000 messages, more than 100 MiB, or a span over 2000, for 50 ms", () => {
    const d = FlowControl.defaults
    expect(FlowControl.decide(held(1000, 0, 0), d, false)).toEqual({ _tag: "Pull" })
    expect(FlowControl.decide(held(1001, 0, 0), d, false)).toEqual({ _tag: "Wait", millis: 50, reason: "count" })
    expect(FlowControl.decide(held(1, 101 * 1024 * 1024 - 1, 0), d, false)).toEqual({ _tag: "Pull" })
    expect(FlowControl.decide(held(1, 101 * 1024 * 1024, 0), d, false)).toMatchObject({ reason: "size" })
    expect(FlowControl.decide(held(2, 0, 2001), d, false)).toMatchObject({ reason: "span" })
  })

  it("does not limit the span of an orderly queue", () => {
    expect(FlowControl.decide(held(2, 0, 5000), FlowControl.defaults, true)).toEqual({ _tag: "Pull" })
  })

  it("splits topic limits evenly over the topic's queues, at least 1 each", () => {
    const limits = { ...FlowControl.defaults, maxCountPerTopic: 100, maxSizeMiBPerTopic: 10 }
    expect(FlowControl.forQueue(limits, 8)).toMatchObject({ maxCount: 12, maxSizeMiB: 1 })
    expect(FlowControl.forQueue(limits, 400)).toMatchObject({ maxCount: 1, maxSizeMiB: 1 })
    expect(FlowControl.forQueue(FlowControl.defaults, 8)).toEqual(FlowControl.defaults)
  })
})
