import { assert, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fc from "fast-check"
import * as Batch from "../../src/internal/batch.ts"
import * as Message from "../../src/Message.ts"
import * as MessageBatch from "../../src/MessageBatch.ts"

describe("batch", () => {
  it("splits into consecutive runs that each fit the limit, greedily", () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 200 }), fc.integer({ min: 100, max: 1000 }), (sizes, limit) => {
      const ranges = Batch.split(sizes, limit)
      if ("tooLarge" in ranges) return false
      const sum = (start: number, end: number) => sizes.slice(start, end).reduce((a, b) => a + b, 0)
      let next = 0
      for (const [start, end] of ranges) {
        if (start !== next || end <= start || sum(start, end) > limit) return false
        // Greedy: the next element would not have fitted.
        if (end < sizes.length && sum(start, end + 1) <= limit) return false
        next = end
      }
      return next === sizes.length
    }))
  })

  it("names the element that alone is over the limit", () => {
    expect(Batch.split([10, 20, 500, 10], 100)).toEqual({ tooLarge: 2 })
    expect(Batch.split([100, 100, 1], 100)).toEqual([[0, 1], [1, 2], [2, 3]])
  })

  it.effect("frames a batch whose encoded requests stay within maxMessageSize, with one id per message", () =>
    Effect.gen(function*() {
      const messages = Array.from({ length: 10 }, (_, i) => Message.make("T", new Uint8Array(1000).fill(i), { tags: "t" }))
      const { frames, msgIds } = yield* Batch.prepare(messages, 2500)
      assert.strictEqual(msgIds.length, 10)
      assert.strictEqual(new Set(msgIds).size, 10)
      expect(frames.map((f) => f.messages.length)).toEqual([2, 2, 2, 2, 2])
      for (const frame of frames) {
        const body = yield* MessageBatch.encode(frame.messages.map((m, i) => ({
          flag: 0,
          body: m.body,
          properties: Effect.runSync(Message.toProperties(m, frame.uniqIds[i]!))
        })))
        assert.isAtMost(body.length, 2500)
      }
      expect(frames.flatMap((f) => f.uniqIds)).toEqual(msgIds)
    }))

  it.effect("refuses Java's forbidden batches and a message too large for any request, before any I/O", () =>
    Effect.gen(function*() {
      const reason = (messages: ReadonlyArray<Message.Message>, max = 4096) =>
        Effect.map(Effect.flip(Batch.prepare(messages, max)), (error) => [error.reason, error.detail] as const)
      expect((yield* reason([]))[0]).toBe("Batch")
      expect((yield* reason([Message.make("A", "x"), Message.make("B", "x")]))[0]).toBe("Batch")
      expect((yield* reason([Message.make("A", "x", { delayLevel: 2 })]))[0]).toBe("Batch")
      expect((yield* reason([Message.make("%RETRY%g", "x")]))[0]).toBe("Batch")
      expect((yield* reason([Message.make("A", "x"), Message.make("A", "")]))[0]).toBe("Batch")
      const [tooLarge, detail] = yield* reason([Message.make("A", "x"), Message.make("A", new Uint8Array(4090))])
      expect(tooLarge).toBe("BodyTooLarge")
      assert.include(detail, "message 1")
    }))
})
