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

