import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import { TestClock } from "effect/testing"
import * as Codec from "../src/Codec.ts"
import * as Outbound from "../src/Outbound.ts"
import * as RemotingCommand from "../src/RemotingCommand.ts"
import { ClosedLocally } from "../src/RemotingError.ts"
import * as SendQueue from "../src/SendQueue.ts"

const item = (opaque: number, bodyBytes = 0) =>
  new Outbound.Outbound(
    Codec.prepareFrame(RemotingCommand.make({ code: 10, opaque, body: new Uint8Array(bodyBytes) })),
    10,
    opaque,
    0,
    1000,
    undefined
  )

describe("SendQueue", () => {
  it.effect("holds up to its capacity; the fail-fast offer refuses beyond it", () =>
    Effect.gen(function*() {
      const queue = SendQueue.makeUnsafe({ capacity: 2, address: "127.0.0.1:1" })
      expect(queue.offerUnsafe(item(1))).toBe(true)
      yield* queue.offerOrFail(item(2))
      expect(queue.offerUnsafe(item(3))).toBe(false)
      const error = yield* Effect.flip(queue.offerOrFail(item(4)))
      assert(error._tag === "ChannelSendRequestFailed")
      expect(error.reason).toBe("QueueFull")
      expect(error.opaque).toBe(4)
      expect(error.address).toBe("127.0.0.1:1")
      expect(queue.size()).toBe(2)
    }))

  it.effect("an offer waits for room up to its timeout, then fails with QueueFull", () =>
    Effect.gen(function*() {
      const queue = SendQueue.makeUnsafe({ capacity: 1 })
      queue.offerUnsafe(item(1))
      const waiting = yield* Effect.forkChild(queue.offer(item(2), 100))
      yield* TestClock.adjust(99)
      expect(waiting.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust(1)
      const exit = yield* Fiber.await(waiting)
      assert(Exit.isFailure(exit))
      const error = yield* Effect.flip(Fiber.join(waiting))
      assert(error._tag === "ChannelSendRequestFailed")
      expect(error.reason).toBe("QueueFull")
      // The timed-out item never gets in.
      const batch = yield* queue.take
      expect(batch.map((i) => i.opaque)).toEqual([1])
      expect(queue.size()).toBe(0)
    }))

  it.effect("a waiting offer gets in, in order, as soon as a take makes room", () =>
    Effect.gen(function*() {
      const queue = SendQueue.makeUnsafe({ capacity: 1 })
      queue.offerUnsafe(item(1))
      const a = yield* Effect.forkChild(queue.offer(item(2), 10_000))
      const b = yield* Effect.forkChild(queue.offer(item(3), 10_000))
      yield* Effect.yieldNow
      expect((yield* queue.take).map((i) => i.opaque)).toEqual([1])
      yield* Fiber.join(a)
      expect(b.pollUnsafe()).toBeUndefined()
      expect((yield* queue.take).map((i) => i.opaque)).toEqual([2])
      yield* Fiber.join(b)
      expect((yield* queue.take).map((i) => i.opaque)).toEqual([3])
    }))

  it.effect("take waits for the first item and then takes everything within the batch caps", () =>
    Effect.gen(function*() {
      const queue = SendQueue.makeUnsafe({ capacity: 100, maxBatchFrames: 3, maxBatchBytes: 1_000_000 })
      const taker = yield* Effect.forkChild(queue.take)
      yield* Effect.yieldNow
      expect(taker.pollUnsafe()).toBeUndefined()
      for (let i = 1; i <= 5; i++) queue.offerUnsafe(item(i))
      expect((yield* Fiber.join(taker)).map((i) => i.opaque)).toEqual([1, 2, 3])
      expect((yield* queue.take).map((i) => i.opaque)).toEqual([4, 5])
      const bytes = SendQueue.makeUnsafe({ capacity: 100, maxBatchBytes: 3000 })
      for (let i = 1; i <= 4; i++) bytes.offerUnsafe(item(i, 1000))
      expect((yield* bytes.take).length).toBe(2)
      // One frame is always taken, even above the byte cap.
      const huge = SendQueue.makeUnsafe({ capacity: 10, maxBatchBytes: 10 })
      huge.offerUnsafe(item(1, 100))
      huge.offerUnsafe(item(2, 100))
      expect((yield* huge.take).map((i) => i.opaque)).toEqual([1])
    }))

  it.effect("after shutdown every offer fails at once and waiting offers fail with ChannelClosed, not written", () =>
    Effect.gen(function*() {
      const queue = SendQueue.makeUnsafe({ capacity: 1 })
      queue.offerUnsafe(item(1))
      const waiting = yield* Effect.forkChild(queue.offer(item(2), 60_000))
      yield* Effect.yieldNow
      const reason = new ClosedLocally({ address: "127.0.0.1:1" })
      queue.shutdown(reason)
      const error = yield* Effect.flip(Fiber.join(waiting))
      assert(error._tag === "ChannelClosed")
      expect(error.cause).toBe(reason)
      expect(error.written).toBe(false)
      expect(error.mayHaveReachedPeer).toBe(false)
      expect(queue.isShutdown()).toBe(true)
      expect(queue.offerUnsafe(item(3))).toBe(false)
      expect(queue.offerOrPark(item(4))).toBe(false)
      expect((yield* Effect.flip(queue.offer(item(5), 60_000)))._tag).toBe("ChannelClosed")
      expect((yield* Effect.flip(queue.offerOrFail(item(6))))._tag).toBe("ChannelClosed")
      expect(queue.size()).toBe(0)
    }))
  it.effect("with a direct writer, what is queued in one tick is written in one batch, in order, while the taker stays parked", () =>
    Effect.gen(function*() {
      const queue = SendQueue.makeUnsafe({ capacity: 8 })
      const written: Array<Array<number>> = []
      queue.writeDirectly((batch) => {
        written.push(batch.map((i) => i.opaque))
        return true
      })
      const taker = yield* Effect.forkChild(queue.take)
      yield* Effect.yieldNow
      queue.offerUnsafe(item(1))
      queue.offerUnsafe(item(2))
      queue.offerUnsafe(item(3))
      yield* Effect.promise(() => Promise.resolve()) // the end of the tick
      expect(written).toEqual([[1, 2, 3]])
      expect(queue.size()).toBe(0)
      expect(taker.pollUnsafe()).toBeUndefined()
      queue.offerUnsafe(item(4))
      yield* Effect.promise(() => Promise.resolve())
      expect(written).toEqual([[1, 2, 3], [4]])
      expect(taker.pollUnsafe()).toBeUndefined()
      yield* Fiber.interrupt(taker)
    }))

  it.effect("a direct write that wants a drain wakes the taker with an empty batch, and nothing more is written directly until it takes again", () =>
    Effect.gen(function*() {
      const queue = SendQueue.makeUnsafe({ capacity: 8 })
      const written: Array<Array<number>> = []
      queue.writeDirectly((batch) => {
        written.push(batch.map((i) => i.opaque))
        return false
      })
      const taker = yield* Effect.forkChild(queue.take)
      yield* Effect.yieldNow
      queue.offerUnsafe(item(1))
      yield* Effect.promise(() => Promise.resolve())
      expect(yield* Fiber.join(taker)).toEqual([])
      expect(written).toEqual([[1]])
      // No taker parked: later items wait in the queue for the send fiber, not for a direct write.
      queue.offerUnsafe(item(2))
      queue.offerUnsafe(item(3))
      yield* Effect.promise(() => Promise.resolve())
      expect(written).toEqual([[1]])
      const batch = yield* queue.take
      expect(batch.map((i) => i.opaque)).toEqual([2, 3])
    }))

  it.effect("a direct writer never sees a batch after shutdown", () =>
    Effect.gen(function*() {
      const queue = SendQueue.makeUnsafe({ capacity: 8 })
      const written: Array<number> = []
      queue.writeDirectly((batch) => {
        written.push(batch.length)
        return true
      })
      const taker = yield* Effect.forkChild(queue.take)
      yield* Effect.yieldNow
      queue.offerUnsafe(item(1))
      queue.shutdown(new ClosedLocally({ address: "127.0.0.1:1" }))
      yield* Effect.promise(() => Promise.resolve())
      expect(written).toEqual([])
      expect(queue.offerUnsafe(item(2))).toBe(false)
      yield* Fiber.interrupt(taker)
    }))
})
