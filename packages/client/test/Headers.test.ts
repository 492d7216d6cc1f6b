import { assert, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Headers from "../src/Headers.ts"

describe("Headers of requests a broker sends to a client", () => {
  it.effect("CHECK_TRANSACTION_STATE reads the ext fields a 5.3.3 broker sends, offsets beyond 2^53 included", () =>
    Effect.gen(function*() {
      const header = yield* Headers.CheckTransactionStateRequestHeader.decode({
        topic: "RMQ_SYS_TRANS_HALF_TOPIC",
        tranStateTableOffset: "17",
        commitLogOffset: "9007199254740993",
        msgId: "7F00000100002A9F0000000000000100",
        transactionId: "C0A80001000018B4AAC2000000000000",
        offsetMsgId: "7F00000100002A9F0000000000000100",
        bname: "broker-a"
      })
      expect(header).toEqual({
        topic: "RMQ_SYS_TRANS_HALF_TOPIC",
        tranStateTableOffset: 17n,
        commitLogOffset: 9007199254740993n,
        msgId: "7F00000100002A9F0000000000000100",
        transactionId: "C0A80001000018B4AAC2000000000000",
        offsetMsgId: "7F00000100002A9F0000000000000100",
        bname: "broker-a"
      })
      const missing = yield* Effect.flip(Headers.CheckTransactionStateRequestHeader.decode({ tranStateTableOffset: "1" }))
      expect(missing.message).toContain("commitLogOffset")
    }))

  it.effect("RESET_CONSUMER_CLIENT_OFFSET writes Java's keys (isForce, queueId -1) and reads them back", () =>
    Effect.gen(function*() {
      const value = { topic: "T", group: "g", queueId: -1, timestamp: 1764028800000, isForce: true }
      const ext = yield* Headers.ResetOffsetRequestHeader.encode(value)
      expect({ ...ext }).toEqual({ topic: "T", group: "g", queueId: "-1", timestamp: "1764028800000", isForce: "true" })
      expect(yield* Headers.ResetOffsetRequestHeader.decode(ext)).toEqual(value)
      const withOffset = yield* Headers.ResetOffsetRequestHeader.decode({ ...ext, offset: "42" })
      assert.strictEqual(withOffset.offset, 42n)
    }))

  it.effect("NOTIFY_CONSUMER_IDS_CHANGED, GET_CONSUMER_RUNNING_INFO and CONSUME_MESSAGE_DIRECTLY read what Java sends", () =>
    Effect.gen(function*() {
      expect(yield* Headers.NotifyConsumerIdsChangedRequestHeader.decode({ consumerGroup: "g", bname: "broker-a" }))
        .toEqual({ consumerGroup: "g" })
      expect(yield* Headers.GetConsumerRunningInfoRequestHeader.decode({ consumerGroup: "g", clientId: "c", jstackEnable: "false" }))
        .toEqual({ consumerGroup: "g", clientId: "c", jstackEnable: false })
      expect(yield* Headers.GetConsumerRunningInfoRequestHeader.decode({ consumerGroup: "g", clientId: "c" }))
        .toEqual({ consumerGroup: "g", clientId: "c" })
      expect(yield* Headers.ConsumeMessageDirectlyResultRequestHeader.decode({
        consumerGroup: "g",
        clientId: "c",
        msgId: "m",
        brokerName: "broker-a",
        topic: "T",
        topicSysFlag: "0",
        groupSysFlag: "0",
        bname: "broker-a"
      })).toEqual({ consumerGroup: "g", clientId: "c", msgId: "m", brokerName: "broker-a", topic: "T", topicSysFlag: 0, groupSysFlag: 0 })
    }))
})
