import { assert, describe, expect, it } from "@effect/vitest"
import { RemotingCommand } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import * as Admin from "../src/Admin.ts"
import * as Fake from "./support/FakeRemotingClient.ts"
import { sampleFrame } from "./support/samples.ts"

const BROKER = "127.0.0.1:10911"
const ext = (request: RemotingCommand.RemotingCommand) => ({ ...request.extFields })

describe("Admin.createTopic", () => {
  it.effect("sends 17 with the fields and defaults of Java's admin tool within its 5 s timeout, and takes 0 'not set any response code' as success (golden create-topic-17)", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.replay(sampleFrame("create-topic-17")))
      yield* Admin.createTopic(BROKER, "TestTopic").pipe(Effect.provide(fake.layer))
      const { address, request, timeoutMillis } = fake.sent[0]!
      assert.strictEqual(address, BROKER)
      assert.strictEqual(timeoutMillis, 5000)
      assert.strictEqual(request.code, 17)
      expect(ext(request)).toEqual({
        topic: "TestTopic",
        defaultTopic: "TBW102",
        readQueueNums: "4",
        writeQueueNums: "4",
        perm: "6",
        topicFilterType: "SINGLE_TAG",
        topicSysFlag: "0",
        order: "false"
      })
    }))

  it.effect("takes queue counts, perm, order and attributes from the options", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0))
      yield* Admin.createTopic(BROKER, "T", { queueNums: 8, writeQueueNums: 2, perm: 4, order: true, attributes: "+message.type=NORMAL" })
        .pipe(Effect.provide(fake.layer))
      expect(ext(fake.sent[0]!.request)).toMatchObject({
        readQueueNums: "8",
        writeQueueNums: "2",
        perm: "4",
        order: "true",
        attributes: "+message.type=NORMAL"
      })
    }))

  it.effect("fails with RemoteError carrying codes, names and remark on a refusal", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(29, { remark: "The topic[TBW102] is conflict with system topic." }))
      const error = yield* Effect.flip(Admin.createTopic(BROKER, "TBW102").pipe(Effect.provide(fake.layer)))
      expect(error).toMatchObject({
        _tag: "RemoteError",
        address: BROKER,
        requestCode: 17,
        requestName: "UPDATE_AND_CREATE_TOPIC",
        responseCode: 29,
        responseName: "INVALID_PARAMETER",
        remark: "The topic[TBW102] is conflict with system topic."
      })
      expect(error.message).toContain(BROKER)
    }))
})

describe("Admin.createSubscriptionGroup", () => {
  it.effect("sends 200 with the whole SubscriptionGroupConfig JSON, Java's defaults filled in, within 5 s", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0))
      yield* Admin.createSubscriptionGroup(BROKER, "cg").pipe(Effect.provide(fake.layer))
      const { request, timeoutMillis } = fake.sent[0]!
      expect([request.code, timeoutMillis, { ...request.extFields }]).toEqual([200, 5000, {}])
      expect(JSON.parse(new TextDecoder().decode(request.body))).toEqual({
        groupName: "cg",
        consumeEnable: true,
        consumeFromMinEnable: true,
        consumeBroadcastEnable: true,
        consumeMessageOrderly: false,
        retryQueueNums: 1,
        retryMaxTimes: 16,
        brokerId: 0,
        whichBrokerWhenConsumeSlowly: 1,
        notifyConsumerIdsChangedEnable: true,
        groupSysFlag: 0,
        consumeTimeoutMinute: 15
      })
    }))

  it.effect("takes settings over the defaults and refuses an empty name or a fractional count before sending", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0))
      yield* Admin.createSubscriptionGroup(BROKER, "cg", { settings: { retryMaxTimes: 3, consumeMessageOrderly: true, attributes: { a: "b" } } })
        .pipe(Effect.provide(fake.layer))
      expect(JSON.parse(new TextDecoder().decode(fake.sent[0]!.request.body))).toMatchObject({
        retryMaxTimes: 3,
        consumeMessageOrderly: true,
        attributes: { a: "b" }
      })
      const empty = yield* Effect.flip(Admin.createSubscriptionGroup(BROKER, "").pipe(Effect.provide(fake.layer)))
      expect(empty).toMatchObject({ _tag: "InvalidRequest", operation: "createSubscriptionGroup" })
      const fractional = yield* Effect.flip(Admin.createSubscriptionGroup(BROKER, "cg", { settings: { retryMaxTimes: 1.5 } }).pipe(Effect.provide(fake.layer)))
      expect(fractional).toMatchObject({ _tag: "InvalidRequest", operation: "createSubscriptionGroup" })
      assert.strictEqual(fake.sent.length, 1)
      const refused = yield* Effect.flip(Admin.createSubscriptionGroup(BROKER, "cg").pipe(
        Effect.provide(Fake.make(Fake.answer(16, { remark: "no permission" })).layer)
      ))
      expect(refused).toMatchObject({ _tag: "RemoteError", requestName: "UPDATE_AND_CREATE_SUBSCRIPTIONGROUP", responseName: "NO_PERMISSION" })
    }))
})

describe("Admin: listing and deleting", () => {
  it.effect("getAllSubscriptionGroup sends 201 and reads every group of the SubscriptionGroupWrapper, sorted by name", () =>
    Effect.gen(function*() {
      const body = "{\"dataVersion\":{\"counter\":3,\"stateVersion\":0,\"timestamp\":1764028800000}," +
        "\"forbiddenTable\":{},\"subscriptionGroupTable\":{\"zeta\":{\"brokerId\":0,\"consumeBroadcastEnable\":true," +
        "\"consumeEnable\":true,\"consumeFromMinEnable\":true,\"consumeMessageOrderly\":false,\"consumeTimeoutMinute\":15," +
        "\"groupName\":\"zeta\",\"groupRetryPolicy\":{\"type\":\"CUSTOMIZED\"},\"groupSysFlag\":0," +
        "\"notifyConsumerIdsChangedEnable\":true,\"retryMaxTimes\":16,\"retryQueueNums\":1,\"whichBrokerWhenConsumeSlowly\":1}," +
        "\"alpha\":{\"groupName\":\"alpha\",\"retryMaxTimes\":3}}}"
      const fake = Fake.make(Fake.answer(0, { body }))
      const groups = yield* Admin.getAllSubscriptionGroup(BROKER).pipe(Effect.provide(fake.layer))
      expect(groups.map((g) => [g.groupName, g.retryMaxTimes])).toEqual([["alpha", 3], ["zeta", 16]])
      expect(groups[1]).toMatchObject({ consumeEnable: true, consumeTimeoutMinute: 15, brokerId: 0 })
      expect(fake.sent.map((s) => [s.request.code, s.timeoutMillis])).toEqual([[201, 5000]])
    }))

  it.effect("deleteSubscriptionGroup sends 207 {groupName, cleanOffset}, cleanOffset false unless asked", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0))
      yield* Admin.deleteSubscriptionGroup(BROKER, "g").pipe(Effect.provide(fake.layer))
      yield* Admin.deleteSubscriptionGroup(BROKER, "g", { cleanOffset: true }).pipe(Effect.provide(fake.layer))
      expect(fake.sent.map((s) => [s.request.code, { ...s.request.extFields }])).toEqual([
        [207, { groupName: "g", cleanOffset: "false" }],
        [207, { groupName: "g", cleanOffset: "true" }]
      ])
    }))

  it.effect("deleteTopicInBroker sends 215 {topic} and reports a refusal", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0))
      yield* Admin.deleteTopicInBroker(BROKER, "T").pipe(Effect.provide(fake.layer))
      expect(fake.sent.map((s) => [s.request.code, { ...s.request.extFields }, s.timeoutMillis])).toEqual([[215, { topic: "T" }, 5000]])
      const refused = yield* Effect.flip(Admin.deleteTopicInBroker(BROKER, "TBW102").pipe(
        Effect.provide(Fake.make(Fake.answer(29, { remark: "The topic[TBW102] is conflict with system topic." })).layer)
      ))
      expect(refused).toMatchObject({ _tag: "RemoteError", requestName: "DELETE_TOPIC_IN_BROKER", responseName: "INVALID_PARAMETER" })
    }))

  it.effect("getBrokerRuntimeInfo sends 28 and reads the KVTable", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0, { body: "{\"table\":{\"brokerVersionDesc\":\"V5_3_3\",\"putTps\":\"0.0 0.0 0.0\"}}" }))
      const info = yield* Admin.getBrokerRuntimeInfo(BROKER).pipe(Effect.provide(fake.layer))
      expect(info).toEqual({ brokerVersionDesc: "V5_3_3", putTps: "0.0 0.0 0.0" })
      assert.strictEqual(fake.sent[0]!.request.code, 28)
    }))
})

describe("Admin.getConsumeStats", () => {
  // As fastjson writes ConsumeStats: the offset table keyed by MessageQueue objects, not strings.
  const body = "{\"consumeTps\":1.5,\"offsetTable\":{" +
    "{\"brokerName\":\"broker-b\",\"queueId\":0,\"topic\":\"T\"}:{\"brokerOffset\":9,\"consumerOffset\":9,\"lastTimestamp\":1764028800000,\"pullOffset\":9}," +
    "{\"brokerName\":\"broker-a\",\"queueId\":10,\"topic\":\"T\"}:{\"brokerOffset\":7,\"consumerOffset\":2,\"lastTimestamp\":1764028700000,\"pullOffset\":5}," +
    "{\"brokerName\":\"broker-a\",\"queueId\":2,\"topic\":\"T\"}:{\"brokerOffset\":0,\"consumerOffset\":0,\"lastTimestamp\":0,\"pullOffset\":0}}}"

  it.effect("sends 208 {consumerGroup} and reads the queue-keyed offset table into rows sorted by topic, broker and queue id", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0, { body }))
      const stats = yield* Admin.getConsumeStats(BROKER, "cg").pipe(Effect.provide(fake.layer))
      expect(fake.sent.map((s) => [s.request.code, { ...s.request.extFields }, s.timeoutMillis])).toEqual([[208, { consumerGroup: "cg" }, 5000]])
      assert.strictEqual(stats.consumeTps, 1.5)
      expect(stats.queues.map((q) => [q.queue.brokerName, q.queue.queueId, q.brokerOffset, q.consumerOffset, q.pullOffset, q.lastTimestamp]))
        .toEqual([
          ["broker-a", 2, 0n, 0n, 0n, 0],
          ["broker-a", 10, 7n, 2n, 5n, 1764028700000],
          ["broker-b", 0, 9n, 9n, 9n, 1764028800000]
        ])
      yield* Admin.getConsumeStats(BROKER, "cg", { topic: "T" }).pipe(Effect.provide(fake.layer))
      expect({ ...fake.sent[1]!.request.extFields }).toEqual({ consumerGroup: "cg", topic: "T" })
    }))

  it.effect("reports a body whose keys are not message queues as ResponseDecodeError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Admin.getConsumeStats(BROKER, "cg").pipe(
        Effect.provide(Fake.make(Fake.answer(0, { body: "{\"offsetTable\":{\"q0\":{\"brokerOffset\":1,\"consumerOffset\":0}}}" })).layer)
      ))
      expect(error).toMatchObject({ _tag: "ResponseDecodeError", part: "body", requestName: "GET_CONSUME_STATS" })
      expect(error.message).toContain("map key")
    }))
})

