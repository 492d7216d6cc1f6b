/**
 * An outbound entry's stages: the only transitions there are, and what a failure at each stage
 * tells the caller.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Codec from "../src/Codec.ts"
import * as Outbound from "../src/Outbound.ts"
import * as RemotingCommand from "../src/RemotingCommand.ts"
import { ClosedByPeer } from "../src/RemotingError.ts"

const entry = () => new Outbound.Outbound(Codec.prepareFrame(RemotingCommand.make({ code: 10 })), 10, 7, 0, 1000, undefined)
const reason = new ClosedByPeer({ address: "a:1" })

describe("Outbound", () => {
  it("is written at most once, and only from QUEUED", () => {
    const e = entry()
    expect(e.stage).toBe(Outbound.QUEUED)
    expect(e.isWritable()).toBe(true)
    const frame = e.takeFrame()
    expect(frame?.frameLength).toBeGreaterThan(0)
    expect([e.stage, e.frame, e.isWritable(), e.takeFrame()]).toEqual([Outbound.WRITTEN, undefined, false, undefined])
    const parked = entry()
    parked.park()
    expect([parked.stage, parked.takeFrame()]).toEqual([Outbound.WAITING, undefined])
  })

  it("a parked entry gets back in only while still waiting; DONE is terminal", () => {
    const e = entry()
    e.park()
    expect(e.unpark()).toBe(true)
    expect(e.stage).toBe(Outbound.QUEUED)
    e.park()
    e.abandonWait()
    expect([e.stage, e.unpark(), e.isWritable()]).toEqual([Outbound.DONE, false, false])
    const done = entry()
    done.finish()
    done.park()
    expect([done.stage, done.frame, done.takeFrame()]).toEqual([Outbound.DONE, undefined, undefined])
  })

  it("at the deadline: QueueFull while waiting, RequestTimeout saying whether it was written otherwise", () => {
    const waiting = entry()
    waiting.park()
    const full = waiting.deadlineError("a:1")
    expect(full._tag === "ChannelSendRequestFailed" && full.reason).toBe("QueueFull")
    const queued = entry().deadlineError("a:1")
    expect(queued._tag === "RequestTimeout" && [queued.written, queued.mayHaveReachedPeer]).toEqual([false, false])
    const sent = entry()
    sent.takeFrame()
    const late = sent.deadlineError("a:1")
    expect(late._tag === "RequestTimeout" && [late.written, late.mayHaveReachedPeer]).toEqual([true, true])
  })

  it("on close: ChannelClosed written exactly when the frame had been written", () => {
    const queued = entry().closedError("a:1", reason)
    expect([queued.written, queued.opaque, queued.cause]).toEqual([false, 7, reason])
    const sent = entry()
    sent.takeFrame()
    expect(sent.closedError("a:1", reason).written).toBe(true)
    expect(Outbound.closedBeforeQueued("a:1", 10, -1, reason).written).toBe(false)
  })
})
