import { assert, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import * as Message from "../src/Message.ts"
import * as Properties from "../src/Properties.ts"

describe("Message", () => {
  it.effect("makes UNIQ_KEYs in Java's layout: ip, pid, per-process random, ms since month start, counter", () =>
    Effect.gen(function*() {
      const now = new Date(2025, 10, 24, 12, 0, 0, 250).getTime()
      yield* TestClock.setTime(now)
      const a = yield* Message.makeUniqId
      const b = yield* Message.makeUniqId
      assert.match(a, /^[0-9A-F]{32}$/)
      // Same host/process prefix (ip 4 bytes, pid 2, random 4 = 20 hex chars) and same time part.
      assert.strictEqual(a.slice(0, 28), b.slice(0, 28))
      assert.strictEqual(a.slice(8, 12), (process.pid & 0xffff).toString(16).toUpperCase().padStart(4, "0"))
      const sinceMonthStart = now - new Date(2025, 10, 1).getTime()
      assert.strictEqual(parseInt(a.slice(20, 28), 16), sinceMonthStart)
      assert.strictEqual((parseInt(a.slice(28), 16) + 1) & 0xffff, parseInt(b.slice(28), 16))
      // The next month starts counting from zero again.
      yield* TestClock.setTime(new Date(2025, 11, 1, 0, 0, 1).getTime())
      assert.strictEqual(parseInt((yield* Message.makeUniqId).slice(20, 28), 16), 1000)
    }))

  it.effect("builds send properties: TAGS, KEYS space-separated, DELAY, WAIT only when false, UNIQ_KEY, user properties", () =>
    Effect.gen(function*() {
      const properties = yield* Message.toProperties(
        Message.make("T", "b", {
          tags: "tagA",
          keys: ["k1", "k2"],
          delayLevel: 3,
          waitStoreMsgOk: false,
          properties: { color: "red" }
        }),
        "ID"
      )
      expect({ ...properties }).toEqual({ TAGS: "tagA", KEYS: "k1 k2", DELAY: "3", WAIT: "false", UNIQ_KEY: "ID", color: "red" })
      const plain = yield* Message.toProperties(Message.make("T", "b", { waitStoreMsgOk: true }), "ID")
      expect({ ...plain }).toEqual({ UNIQ_KEY: "ID" })
    }))

  it.effect("refuses user properties with system names, empty tags and empty keys", () =>
    Effect.gen(function*() {
      const detail = (m: Message.Message) => Effect.map(Effect.flip(Message.toProperties(m, "ID")), (e) => e.message)
      expect(yield* detail(Message.make("T", "b", { properties: { TAGS: "x" } }))).toContain("system property name")
      expect(yield* detail(Message.make("T", "b", { properties: { UNIQ_KEY: "x" } }))).toContain("UNIQ_KEY")
      expect(yield* detail(Message.make("T", "b", { tags: "" }))).toContain("tags is empty")
      expect(yield* detail(Message.make("T", "b", { keys: ["a", ""] }))).toContain("key is empty")
      expect(yield* detail(Message.make("T", "b", { delayLevel: -1 }))).toContain("delayLevel")
    }))

  it("reads tags, keys and user properties back from a received message", () => {
    const received = { properties: Properties.decode("TAGS\u0001t\u0002KEYS\u0001a  b\u0002UNIQ_KEY\u0001X\u0002color\u0001red\u0002") }
    assert.strictEqual(Message.tagsOf(received), "t")
    expect(Message.keysOf(received)).toEqual(["a", "b"])
    expect({ ...Message.userProperties(received) }).toEqual({ color: "red" })
    assert.isUndefined(Message.tagsOf({ properties: Properties.decode("") }))
    expect(Message.keysOf({ properties: Properties.decode("") })).toEqual([])
  })
})
