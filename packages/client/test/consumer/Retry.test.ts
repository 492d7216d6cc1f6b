import { assert, describe, expect, it } from "@effect/vitest"
import * as Retry from "../../src/internal/consumer/retry.ts"
import * as Properties from "../../src/Properties.ts"

describe("Retry", () => {
  it("delays the n-th retry by Java's level 3 + n: 10 s, 30 s, 1 min … 2 h, 16 retries in all", () => {
    const delays = Array.from({ length: 16 }, (_, n) => Retry.retryDelay(n))
    expect(delays).toEqual([
      "10 seconds", "30 seconds", "1 minute", "2 minutes", "3 minutes", "4 minutes", "5 minutes", "6 minutes",
      "7 minutes", "8 minutes", "9 minutes", "10 minutes", "20 minutes", "30 minutes", "1 hour", "2 hours"
    ])
    assert.strictEqual(Retry.brokerDelayLevel(40), 18)
    assert.isFalse(Retry.goesToDlq(15, 16))
    assert.isTrue(Retry.goesToDlq(16, 16))
  })

  it("uses 16 concurrently and unbounded orderly when maxReconsumeTimes is left at -1", () => {
    assert.strictEqual(Retry.effectiveMaxReconsumeTimes(-1, false), 16)
    assert.strictEqual(Retry.effectiveMaxReconsumeTimes(-1, true), 2147483647)
    assert.strictEqual(Retry.effectiveMaxReconsumeTimes(3, true), 3)
    assert.strictEqual(Retry.orderlyDecision(2, 3), "retry")
    assert.strictEqual(Retry.orderlyDecision(3, 3), "dlq")
  })

  it("clamps an orderly queue's suspend time to 10 ms … 30 s, -1 meaning the configured default", () => {
    assert.strictEqual(Retry.suspendMillis(-1, 1000), 1000)
    assert.strictEqual(Retry.suspendMillis(1, 1000), 10)
    assert.strictEqual(Retry.suspendMillis(60_000, 1000), 30_000)
  })

  it("builds the fallback retry copy's properties as Java's sendMessageBackAsNormalMessage", () => {
    const message = {
      topic: "Orders",
      msgId: "UNIQ1",
      reconsumeTimes: 2,
      properties: Properties.fromEntries([["TAGS", "a"], ["TRAN_MSG", "true"], ["k", "v"]])
    }
    expect({ ...Retry.fallbackProperties(message, "Orders", 16) }).toEqual({
      TAGS: "a",
      k: "v",
      RETRY_TOPIC: "Orders",
      ORIGIN_MESSAGE_ID: "UNIQ1",
      RECONSUME_TIME: "3",
      MAX_RECONSUME_TIMES: "16",
      DELAY: "5"
    })
    const again = { ...message, properties: Properties.fromEntries([["RETRY_TOPIC", "First"], ["ORIGIN_MESSAGE_ID", "X"]]) }
    expect(Retry.fallbackProperties(again, "Orders", 16)).toMatchObject({ RETRY_TOPIC: "First", ORIGIN_MESSAGE_ID: "X" })
  })
})
