import { assert, describe, expect, it } from "@effect/vitest"
import { RemotingCommand } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import * as ConsumerGroup from "../src/ConsumerGroup.ts"
import * as Fake from "./support/FakeRemotingClient.ts"

const BROKER = "127.0.0.1:10911"
const ext = (request: RemotingCommand.RemotingCommand) => ({ ...request.extFields })
const text = (request: RemotingCommand.RemotingCommand) => new TextDecoder().decode(request.body)

describe("ConsumerGroup.getConsumerListByGroup", () => {
  it.effect("sends 38 {consumerGroup} within Java's 3 s and reads the client ids, duplicates kept", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0, { body: "{\"consumerIdList\":[\"10.0.0.9@2\",\"10.0.0.10@1\",\"10.0.0.9@2\"]}" }))
      const ids = yield* ConsumerGroup.getConsumerListByGroup(BROKER, "cg").pipe(Effect.provide(fake.layer))
      expect(ids).toEqual(["10.0.0.9@2", "10.0.0.10@1", "10.0.0.9@2"])
      expect(fake.sent.map((s) => [s.address, s.request.code, s.timeoutMillis, s.oneway])).toEqual([[BROKER, 38, 3000, false]])
      expect(ext(fake.sent[0]!.request)).toEqual({ consumerGroup: "cg" })
    }))

  it.effect("reports the broker's 'no consumer' answer as RemoteError and a missing or odd body as ResponseDecodeError", () =>
    Effect.gen(function*() {
      const list = (reply: ReturnType<typeof Fake.answer>) =>
        Effect.flip(ConsumerGroup.getConsumerListByGroup(BROKER, "cg").pipe(Effect.provide(Fake.make(reply).layer)))
      expect(yield* list(Fake.answer(1, { remark: "no consumer for this group, cg" }))).toMatchObject({
        _tag: "RemoteError",
        requestName: "GET_CONSUMER_LIST_BY_GROUP",
        responseName: "SYSTEM_ERROR"
      })
      expect(yield* list(Fake.answer(0))).toMatchObject({ _tag: "ResponseDecodeError", part: "body" })
      const odd = yield* list(Fake.answer(0, { body: "{\"consumerIdList\":[1]}" }))
      expect(odd).toMatchObject({ _tag: "ResponseDecodeError", part: "body" })
      expect(odd.message).toContain("GetConsumerListByGroupResponseBody")
    }))
})

describe("ConsumerGroup.consumerSendMessageBack", () => {
  it.effect("sends 36 with Java's fields, unitMode always, a version the broker honours maxReconsumeTimes from, within 5 s", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0))
      yield* ConsumerGroup.consumerSendMessageBack(BROKER, {
        group: "cg",
        commitLogOffset: 9007199254740993n,
        delayLevel: 0,
        originMsgId: "U",
        originTopic: "T",
        maxReconsumeTimes: 16,
        brokerName: "broker-a"
      }).pipe(Effect.provide(fake.layer))
      const { request, timeoutMillis, oneway } = fake.sent[0]!
      expect([request.code, timeoutMillis, oneway]).toEqual([36, 5000, false])
      assert.isAtLeast(request.version, 121)
      expect(ext(request)).toEqual({
        offset: "9007199254740993",
        group: "cg",
        delayLevel: "0",
        originMsgId: "U",
        originTopic: "T",
        unitMode: "false",
        maxReconsumeTimes: "16",
        bname: "broker-a"
      })
      yield* ConsumerGroup.consumerSendMessageBack(BROKER, { group: "cg", commitLogOffset: 1n, delayLevel: -1 }).pipe(Effect.provide(fake.layer))
      expect(ext(fake.sent[1]!.request)).toEqual({ offset: "1", group: "cg", delayLevel: "-1", unitMode: "false" })
    }))

  it.effect("fails with RemoteError on SUBSCRIPTION_GROUP_NOT_EXIST, saying how to create the group", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(ConsumerGroup.consumerSendMessageBack(BROKER, { group: "nope", commitLogOffset: 1n, delayLevel: 0 }).pipe(
        Effect.provide(Fake.make(Fake.answer(26, { remark: "subscription group not exist, nope" })).layer)
      ))
      expect(error).toMatchObject({ _tag: "RemoteError", responseName: "SUBSCRIPTION_GROUP_NOT_EXIST", requestCode: 36 })
      expect(error.message).toContain("Admin.createSubscriptionGroup")
    }))
})

describe("ConsumerGroup locks", () => {
  const lock: ConsumerGroup.LockRequest = {
    consumerGroup: "cg",
    clientId: "c1",
    queues: [{ topic: "T", brokerName: "broker-a", queueId: 0 }, { topic: "T", brokerName: "broker-a", queueId: 3 }]
  }
  const body = "{\"clientId\":\"c1\",\"consumerGroup\":\"cg\",\"mqSet\":[{\"brokerName\":\"broker-a\",\"queueId\":0,\"topic\":\"T\"}," +
    "{\"brokerName\":\"broker-a\",\"queueId\":3,\"topic\":\"T\"}],\"onlyThisBroker\":false}"

  it.effect("lockBatchMQ sends 41 with the LockBatchRequestBody JSON as Java writes it, and reads the locked queues", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0, { body: "{\"lockOKMQSet\":[{\"brokerName\":\"broker-a\",\"queueId\":3,\"topic\":\"T\"}]}" }))
      const locked = yield* ConsumerGroup.lockBatchMQ(BROKER, lock).pipe(Effect.provide(fake.layer))
      expect(locked).toEqual([{ brokerName: "broker-a", queueId: 3, topic: "T" }])
      const { request, timeoutMillis, oneway } = fake.sent[0]!
      expect([request.code, timeoutMillis, oneway, { ...request.extFields }]).toEqual([41, 1000, false, {}])
      assert.strictEqual(text(request), body)
    }))

  it.effect("unlockBatchMQ sends 42 with the same body, sync by default or oneway", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0))
      yield* ConsumerGroup.unlockBatchMQ(BROKER, lock).pipe(Effect.provide(fake.layer))
      yield* ConsumerGroup.unlockBatchMQ(BROKER, { ...lock, onlyThisBroker: true }, { oneway: true }).pipe(Effect.provide(fake.layer))
      expect(fake.sent.map((s) => [s.request.code, s.oneway, s.timeoutMillis])).toEqual([[42, false, 1000], [42, true, 1000]])
      assert.strictEqual(text(fake.sent[0]!.request), body)
      assert.strictEqual(text(fake.sent[1]!.request), body.replace("\"onlyThisBroker\":false", "\"onlyThisBroker\":true"))
      const refused = yield* Effect.flip(ConsumerGroup.unlockBatchMQ(BROKER, lock).pipe(Effect.provide(Fake.make(Fake.answer(1)).layer)))
      expect(refused).toMatchObject({ _tag: "RemoteError", requestName: "UNLOCK_BATCH_MQ" })
    }))

  it.effect("refuses a queue id that is not one, before sending", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0))
      const error = yield* Effect.flip(ConsumerGroup.lockBatchMQ(BROKER, { ...lock, queues: [{ topic: "T", brokerName: "b", queueId: -1 }] })
        .pipe(Effect.provide(fake.layer)))
      expect(error).toMatchObject({ _tag: "InvalidRequest", operation: "lockBatchMQ" })
      assert.strictEqual(fake.sent.length, 0)
    }))
})
