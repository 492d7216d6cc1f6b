import { assert, describe, expect, it } from "@effect/vitest"
import { Result } from "effect"
import * as fc from "fast-check"
import * as QueueKeyed from "../../src/internal/consumer/queueKeyed.ts"
import * as RunningInfo from "../../src/internal/consumer/runningInfo.ts"
import * as MQ from "../../src/MessageQueue.ts"

describe("fastjson queue-keyed maps", () => {
  it("reads a ResetOffsetBody as a broker writes it, offsets beyond 2^53 exactly", () => {
    const body = "{\"offsetTable\":{{\"brokerName\":\"broker-a\",\"queueId\":0,\"topic\":\"TopicA\"}:42," +
      "{\"brokerName\":\"broker-b\",\"queueId\":3,\"topic\":\"TopicA\"}:9007199254740993}}"
    expect(Result.getOrThrow(QueueKeyed.parseOffsetTable(body, "offsetTable"))).toEqual([
      { queue: MQ.make("TopicA", "broker-a", 0), offset: 42n },
      { queue: MQ.make("TopicA", "broker-b", 3), offset: 9007199254740993n }
    ])
  })

  it("accepts whitespace and braces inside names, and an absent map as empty", () => {
    const body = "{ \"offsetTable\" : { { \"brokerName\" : \"b}{\", \"queueId\" : 1, \"topic\" : \"T\" } : -1 } }"
    expect(Result.getOrThrow(QueueKeyed.parseOffsetTable(body, "offsetTable"))).toEqual([
      { queue: MQ.make("T", "b}{", 1), offset: -1n }
    ])
    expect(Result.getOrThrow(QueueKeyed.parseOffsetTable("{}", "offsetTable"))).toEqual([])
  })

  it("fails with a reason, never throws, on anything else", () => {
    for (const bad of ["{\"offsetTable\":[]}", "{\"offsetTable\":{{\"topic\":1}:2}}", "{\"offsetTable\":{{\"x\":", "{\"offsetTable\":{{\"brokerName\":\"b\",\"queueId\":0,\"topic\":\"T\"}:\"x\"}}"]) {
      assert.isTrue(Result.isFailure(QueueKeyed.parseOffsetTable(bad, "offsetTable")), bad)
    }
    fc.assert(fc.property(fc.string(), (text) => {
      QueueKeyed.parseOffsetTable(`{"offsetTable":{${text}`, "offsetTable")
    }), { numRuns: 500 })
  })

  it("writes queue-keyed maps that read back to the same entries (fast-check)", () => {
    const queue = fc.record({ topic: fc.string({ minLength: 1 }), brokerName: fc.string(), queueId: fc.nat(1024) })
    fc.assert(fc.property(fc.array(fc.tuple(queue, fc.bigInt({ min: -1n, max: 2n ** 62n }))), (entries) => {
      const text = `{"offsetTable":${RunningInfo.queueKeyed(entries)}}`
      const back = Result.getOrThrow(QueueKeyed.parseOffsetTable(text, "offsetTable"))
      expect(back).toEqual(entries.map(([q, offset]) => ({ queue: MQ.make(q.topic, q.brokerName, q.queueId), offset })))
    }), { numRuns: 300 })
  })
})
