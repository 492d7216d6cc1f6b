import { assert, describe, expect, it } from "@effect/vitest"
import { RemotingCommand } from "@effect-rocketmq/remoting"
import { Effect, Option } from "effect"
import * as Offsets from "../src/Offsets.ts"
import * as Fake from "./support/FakeRemotingClient.ts"

const BROKER = "127.0.0.1:10911"
const ext = (request: RemotingCommand.RemotingCommand) => ({ ...request.extFields })

describe("Offsets", () => {
  it.effect("getMaxOffset sends 30 {topic, queueId, committed=true} and reads offset", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0, { extFields: { offset: "9007199254740993" } }))
      const offset = yield* Offsets.getMaxOffset(BROKER, { topic: "T", queueId: 2 }).pipe(Effect.provide(fake.layer))
      assert.strictEqual(offset, 9007199254740993n)
      assert.strictEqual(fake.sent[0]!.request.code, 30)
      assert.strictEqual(fake.sent[0]!.timeoutMillis, 6000)
      expect(ext(fake.sent[0]!.request)).toEqual({ topic: "T", queueId: "2", committed: "true" })
    }))

  it.effect("getMinOffset sends 31 {topic, queueId} within Java's 6 s and reads offset", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0, { extFields: { offset: "12" } }))
      const offset = yield* Offsets.getMinOffset(BROKER, { topic: "T", queueId: 3 }).pipe(Effect.provide(fake.layer))
      assert.strictEqual(offset, 12n)
      expect(fake.sent.map((s) => [s.address, s.request.code, s.timeoutMillis, s.oneway])).toEqual([[BROKER, 31, 6000, false]])
      expect(ext(fake.sent[0]!.request)).toEqual({ topic: "T", queueId: "3" })
    }))

  it.effect("searchOffsetByTimestamp sends 29 with the timestamp, and the boundary type only when given", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0, { extFields: { offset: "5" } }))
      const queue = { topic: "T", queueId: 0, timestamp: 1764028800123 }
      assert.strictEqual(yield* Offsets.searchOffsetByTimestamp(BROKER, queue).pipe(Effect.provide(fake.layer)), 5n)
      yield* Offsets.searchOffsetByTimestamp(BROKER, queue, { boundaryType: "UPPER", timeoutMillis: 100 }).pipe(
        Effect.provide(fake.layer)
      )
      expect(fake.sent.map((s) => [s.request.code, s.timeoutMillis])).toEqual([[29, 6000], [29, 100]])
      expect(ext(fake.sent[0]!.request)).toEqual({ topic: "T", queueId: "0", timestamp: "1764028800123" })
      expect(ext(fake.sent[1]!.request)).toEqual({ topic: "T", queueId: "0", timestamp: "1764028800123", boundaryType: "UPPER" })
    }))

  it.effect("offset queries report TOPIC_NOT_EXIST as TopicNotExist and a missing offset field as ResponseDecodeError", () =>
    Effect.gen(function*() {
      const missing = yield* Effect.flip(Offsets.getMinOffset(BROKER, { topic: "Nope", queueId: 0 }).pipe(
        Effect.provide(Fake.make(Fake.answer(17, { remark: "topic[Nope] not exist" })).layer)
      ))
      expect(missing).toMatchObject({ _tag: "TopicNotExist", topic: "Nope", requestCode: 31, requestName: "GET_MIN_OFFSET" })
      const noField = yield* Effect.flip(Offsets.searchOffsetByTimestamp(BROKER, { topic: "T", queueId: 0, timestamp: 0 }).pipe(
        Effect.provide(Fake.make(Fake.answer(0)).layer)
      ))
      expect(noField).toMatchObject({ _tag: "ResponseDecodeError", part: "header", requestCode: 29 })
    }))

  it.effect("queryConsumerOffset sends 14 and gives none for QUERY_NOT_FOUND (22), some for a stored offset", () =>
    Effect.gen(function*() {
      const queue = { consumerGroup: "cg", topic: "T", queueId: 1 }
      const fake = Fake.make(Fake.answer(22, { remark: "Not found, V3_0_6_SNAPSHOT maybe" }))
      const none = yield* Offsets.queryConsumerOffset(BROKER, queue).pipe(Effect.provide(fake.layer))
      assert.isTrue(Option.isNone(none))
      assert.strictEqual(fake.sent[0]!.request.code, 14)
      assert.strictEqual(fake.sent[0]!.timeoutMillis, 5000)
      expect(ext(fake.sent[0]!.request)).toEqual({ consumerGroup: "cg", topic: "T", queueId: "1" })
      const some = yield* Offsets.queryConsumerOffset(BROKER, queue).pipe(
        Effect.provide(Fake.make(Fake.answer(0, { extFields: { offset: "42" } })).layer)
      )
      expect(some).toEqual(Option.some(42n))
      const error = yield* Effect.flip(Offsets.queryConsumerOffset(BROKER, queue).pipe(
        Effect.provide(Fake.make(Fake.answer(1, { remark: "boom" })).layer)
      ))
      expect(error).toMatchObject({ _tag: "RemoteError", responseName: "SYSTEM_ERROR", remark: "boom" })
    }))

  it.effect("updateConsumerOffset sends 15 and checks the answer, or sends it oneway", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0))
      const queue = { consumerGroup: "cg", topic: "T", queueId: 1, commitOffset: 7n }
      yield* Offsets.updateConsumerOffset(BROKER, queue).pipe(Effect.provide(fake.layer))
      yield* Offsets.updateConsumerOffset(BROKER, queue, { oneway: true }).pipe(Effect.provide(fake.layer))
      expect(fake.sent.map((s) => [s.request.code, s.oneway, s.timeoutMillis])).toEqual([[15, false, 5000], [15, true, 5000]])
      expect(ext(fake.sent[0]!.request)).toEqual({ consumerGroup: "cg", topic: "T", queueId: "1", commitOffset: "7" })
      const error = yield* Effect.flip(Offsets.updateConsumerOffset(BROKER, queue).pipe(
        Effect.provide(Fake.make(Fake.answer(26, { remark: "group" })).layer)
      ))
      expect(error).toMatchObject({ _tag: "RemoteError", responseName: "SUBSCRIPTION_GROUP_NOT_EXIST" })
    }))
})
