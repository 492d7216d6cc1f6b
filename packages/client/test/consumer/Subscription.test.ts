import { assert, describe, expect, it } from "@effect/vitest"
import * as Subscription from "../../src/internal/consumer/subscription.ts"
import * as Properties from "../../src/Properties.ts"

const withTag = (tag?: string) => ({ properties: Properties.fromEntries(tag === undefined ? [] : [["TAGS", tag]]) })

describe("Subscription", () => {
  it("subscribes %RETRY%<group> with * in clustering mode only, with Java's tag hash codes for the broker", () => {
    const clustering = Subscription.build("g", [["T", "TagA || TagB"]], true, 1700000000000)
    expect(clustering.map((s) => s.data)).toEqual([
      { classFilterMode: false, topic: "T", subString: "TagA || TagB", tagsSet: ["TagA", "TagB"], codeSet: [2598919, 2598920], subVersion: 1700000000000, expressionType: "TAG" },
      { classFilterMode: false, topic: "%RETRY%g", subString: "*", tagsSet: [], codeSet: [], subVersion: 1700000000000, expressionType: "TAG" }
    ])
    expect(Subscription.build("g", [["T", "*"]], false, 1).map((s) => s.topic)).toEqual(["T"])
  })

  it("re-checks tags exactly, since the broker lets tags with the same hash through, and drops untagged messages", () => {
    // "Aa" and "BB" have the same Java hash code (2112).
    const [sub] = Subscription.build("g", [["T", "Aa"]], false, 1)
    assert.isTrue(sub!.accepts(withTag("Aa")))
    assert.isFalse(sub!.accepts(withTag("BB")))
    assert.isFalse(sub!.accepts(withTag()))
    const [all] = Subscription.build("g", [["T", "*"]], false, 1)
    assert.isTrue(all!.all)
    assert.isTrue(all!.accepts(withTag()))
  })

  it("hands a retried message out under its original topic, and leaves other messages alone", () => {
    const retried = { topic: "%RETRY%g", properties: Properties.fromEntries([["RETRY_TOPIC", "Orders"]]) }
    assert.strictEqual(Subscription.originalTopic("g", retried), "Orders")
    assert.strictEqual(Subscription.originalTopic("other", retried), "%RETRY%g")
    assert.strictEqual(Subscription.originalTopic("g", { topic: "%RETRY%g", properties: Properties.fromEntries([]) }), "%RETRY%g")
    assert.strictEqual(Subscription.retryTopic("g"), "%RETRY%g")
    assert.strictEqual(Subscription.dlqTopic("g"), "%DLQ%g")
  })
})
