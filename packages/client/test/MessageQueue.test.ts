import { assert, describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import * as MessageQueue from "../src/MessageQueue.ts"

const mq = MessageQueue.make

describe("MessageQueue", () => {
  it("orders by topic, then broker name, then numeric queue id, as Java's compareTo", () => {
    const sorted = MessageQueue.sort([
      mq("TopicB", "broker-a", 0),
      mq("TopicA", "broker-b", 1),
      mq("TopicA", "broker-a", 10),
      mq("TopicA", "broker-a", 2),
      mq("TopicA", "Broker-z", 0)
    ])
    expect(sorted.map(MessageQueue.key)).toEqual([
      "TopicA@Broker-z@0", // 'B' (66) sorts before 'b' (98), as String.compareTo
      "TopicA@broker-a@2",
      "TopicA@broker-a@10",
      "TopicA@broker-b@1",
      "TopicB@broker-a@0"
    ])
  })

  it("compares strings by UTF-16 code unit, not by locale", () => {
    // U+FF21 (fullwidth A) is one code unit above U+1F600's high surrogate (0xD83D): code-unit order puts the emoji first.
    assert.isBelow(MessageQueue.Order(mq("t", "\u{1F600}", 0), mq("t", "\uFF21", 0)), 0)
  })

  it("reads back every key it writes, whatever the broker name holds", () => {
    fc.assert(fc.property(
      fc.stringMatching(/^[%|a-zA-Z0-9_-]{1,20}$/),
      fc.string({ minLength: 0, maxLength: 20 }),
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      (topic, brokerName, queueId) => {
        const queue = mq(topic, brokerName, queueId)
        const back = MessageQueue.fromKey(MessageQueue.key(queue))
        return back !== undefined && MessageQueue.Equivalence(back, queue)
      }
    ))
  })

  it("refuses text that is not a key", () => {
    for (const text of ["", "t@b", "@b@1", "t@b@x", "t@b@-1", "t@@1x"]) {
      assert.isUndefined(MessageQueue.fromKey(text), text)
    }
  })

  it("treats queues with equal fields as the same queue", () => {
    assert.isTrue(MessageQueue.Equivalence(mq("t", "b", 1), { topic: "t", brokerName: "b", queueId: 1 }))
    assert.isFalse(MessageQueue.Equivalence(mq("t", "b", 1), mq("t", "b", 2)))
  })
})
