import { assert, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Heartbeat from "../src/Heartbeat.ts"

describe("Heartbeat", () => {
  it("hashes tags as Java's String.hashCode, wrapping at 32 bits", () => {
    assert.strictEqual(Heartbeat.javaHashCode("TagA"), 2598919)
    assert.strictEqual(Heartbeat.javaHashCode("TagB"), 2598920)
    assert.strictEqual(Heartbeat.javaHashCode(""), 0)
    assert.strictEqual(Heartbeat.javaHashCode("polygenelubricants"), -2147483648)
    assert.strictEqual(Heartbeat.javaHashCode("€"), 8364)
  })

  it("builds TAG subscriptions as the Java client does", () => {
    expect(Heartbeat.subscription("T", " TagA || TagB ||  ", 7)).toEqual({
      classFilterMode: false,
      topic: "T",
      subString: "TagA || TagB ||",
      tagsSet: ["TagA", "TagB"],
      codeSet: [2598919, 2598920],
      subVersion: 7,
      expressionType: "TAG"
    })
    expect(Heartbeat.subscription("T", "", 0)).toMatchObject({ subString: "*", tagsSet: [], codeSet: [] })
    expect(Heartbeat.subscription("T", "*", 0)).toMatchObject({ subString: "*", tagsSet: [] })
  })

  it("matches tags exactly; * and empty match everything", () => {
    assert.isTrue(Heartbeat.matchesTag("*", undefined))
    assert.isTrue(Heartbeat.matchesTag("a || b", "b"))
    assert.isFalse(Heartbeat.matchesTag("a || b", "c"))
    assert.isFalse(Heartbeat.matchesTag("a", undefined))
  })

  it.effect("encodes HeartbeatData with Java's key names and reads it back", () =>
    Effect.gen(function*() {
      const data: Heartbeat.HeartbeatData = {
        clientID: "10.0.0.5@1#1",
        producerDataSet: [{ groupName: "pg" }],
        consumerDataSet: [{
          groupName: "cg",
          consumeType: "CONSUME_ACTIVELY",
          messageModel: "CLUSTERING",
          consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
          subscriptionDataSet: [Heartbeat.subscription("T", "TagA", 1700000000123)],
          unitMode: false
        }],
        heartbeatFingerprint: 0,
        withoutSub: false
      }
      const body = yield* Heartbeat.encode(data)
      const json = JSON.parse(new TextDecoder().decode(body))
      expect(Object.keys(json)).toEqual(["clientID", "producerDataSet", "consumerDataSet", "heartbeatFingerprint", "withoutSub"])
      expect(json.consumerDataSet[0].subscriptionDataSet[0]).toMatchObject({ codeSet: [2598919], subVersion: 1700000000123 })
      expect(yield* Heartbeat.decode(body)).toEqual(data)
      const bad = yield* Effect.flip(Heartbeat.encode({ ...data, heartbeatFingerprint: 1.5 }))
      assert.strictEqual(bad._tag, "InvalidRequest")
      assert.strictEqual((yield* Effect.flip(Heartbeat.decode("{\"clientID\":1}")))._tag, "BodyDecodeError")
    }))
})
