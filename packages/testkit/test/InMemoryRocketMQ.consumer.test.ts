import { assert, describe, expect, it } from "@effect/vitest"
import { Admin, Broker, Heartbeat, Message, Offsets, StoredMessage } from "@effect-rocketmq/client"
import { type Channel, RemotingClient, RemotingCommand, RequestCode } from "@effect-rocketmq/remoting"
import { Clock, Effect, Fiber, Layer, Queue } from "effect"
import { TestClock } from "effect/testing"
import * as InMemoryRocketMQ from "../src/InMemoryRocketMQ.ts"

const BROKER = "127.0.0.1:10911"
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes)
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))

const setup = (options?: InMemoryRocketMQ.Options) =>
  Effect.gen(function*() {
    const rmq = yield* InMemoryRocketMQ.make(options)
    const client = InMemoryRocketMQ.remotingClient(rmq)
    const provide = Effect.provide(Layer.succeed(RemotingClient.RemotingClient, client))
    yield* Admin.createTopic(BROKER, "T", { queueNums: 2 }).pipe(provide)
    const call = (code: number, extFields?: Record<string, string>, body?: Uint8Array, version?: number) =>
      client.invoke(BROKER, RemotingCommand.make({ code, extFields, body, ...(version !== undefined ? { version } : {}) }))
    return { rmq, broker: rmq.broker(), client, provide, call }
  })

const pullAll = (provide: <A, E>(effect: Effect.Effect<A, E, RemotingClient.RemotingClient>) => Effect.Effect<A, E>, topic: string, queueId: number) =>
  Effect.map(
    Broker.pullMessage(BROKER, { consumerGroup: "g", topic, queueId, queueOffset: 0n }).pipe(provide),
    (result) => result._tag === "Found" ? result.messages : []
  )

const sendBack = (
  call: (code: number, extFields?: Record<string, string>, body?: Uint8Array, version?: number) => Effect.Effect<RemotingCommand.RemotingCommand, unknown>,
  message: StoredMessage.StoredMessage,
  extra?: Record<string, string>,
  version?: number
) =>
  call(RequestCode.CONSUMER_SEND_MSG_BACK, {
    offset: String(message.commitLogOffset),
    group: "g",
    delayLevel: "0",
    originMsgId: message.msgId,
    originTopic: "T",
    unitMode: "false",
    maxReconsumeTimes: "16",
    ...extra
  }, undefined, version)

describe("InMemoryRocketMQ consumer features", () => {
  it.effect("creates (200), lists (201) and deletes (207) subscription groups as 5.3.3 writes them", () =>
    Effect.gen(function*() {
      const { broker, call, provide } = yield* setup()
      yield* TestClock.setTime(1_700_000_000_000)
      const created = yield* call(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, undefined, json({ groupName: "made", retryMaxTimes: 3 }))
      expect([created.code, created.remark]).toEqual([0, undefined])
      expect(broker.subscriptionGroup("made")).toMatchObject({ retryMaxTimes: 3, retryQueueNums: 1, consumeEnable: true })
      // A created group takes offsets at once (before it, the broker answers SUBSCRIPTION_GROUP_NOT_EXIST).
      yield* Offsets.updateConsumerOffset(BROKER, { consumerGroup: "made", topic: "T", queueId: 0, commitOffset: 7n }).pipe(provide)
      const all = yield* call(RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG)
      const body = text(all.body)
      expect(body).toContain(`"dataVersion":{"counter":1,"stateVersion":0,"timestamp":1700000000000},"forbiddenTable":{}`)
      expect(body).toContain(
        `"made":{"attributes":{},"brokerId":0,"consumeBroadcastEnable":true,"consumeEnable":true,"consumeFromMinEnable":true,` +
          `"consumeMessageOrderly":false,"consumeTimeoutMinute":15,"groupName":"made","groupRetryPolicy":{"type":"CUSTOMIZED"},` +
          `"groupSysFlag":0,"notifyConsumerIdsChangedEnable":true,"retryMaxTimes":3,"retryQueueNums":1,"whichBrokerWhenConsumeSlowly":1}`
      )
      expect(Object.keys(JSON.parse(body).subscriptionGroupTable)).toEqual(expect.arrayContaining(["TOOLS_CONSUMER", "CID_RMQ_SYS_TRANS", "made"]))
      const deleted = yield* call(RequestCode.DELETE_SUBSCRIPTIONGROUP, { groupName: "made", cleanOffset: "true" })
      expect([deleted.code, deleted.remark]).toEqual([0, undefined])
      assert.isUndefined(broker.subscriptionGroup("made"))
      assert.isUndefined(broker.consumerOffset("made", "T", 0))
      const broken = yield* call(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, undefined, new TextEncoder().encode("{nope"))
      assert.strictEqual(broken.code, 1)
    }))

  it.effect("sends a message back to %RETRY%<group> after Java's growing delays, then to %DLQ%<group> after 16 reconsumes", () =>
    Effect.gen(function*() {
      const { broker, call, provide } = yield* setup()
      yield* Broker.sendMessage(BROKER, Message.make("T", "work", { tags: "job" }), { queueId: 0, uniqId: "U1" }).pipe(provide)
      let current = (yield* pullAll(provide, "T", 0))[0]!
      const originOffsetId = current.offsetMsgId
      const delays: Array<number> = []
      for (let attempt = 0; attempt < 16; attempt++) {
        const answer = yield* sendBack(call, current)
        expect([answer.code, answer.remark]).toEqual([0, undefined])
        const [scheduled] = broker.scheduled()
        const now = yield* Clock.currentTimeMillis
        delays.push(scheduled!.dueAt - now)
        yield* TestClock.adjust(scheduled!.dueAt - now)
        current = broker.messages("%RETRY%g", 0)[attempt]!
        expect([current.reconsumeTimes, current.msgId, current.properties["RETRY_TOPIC"], current.properties["ORIGIN_MESSAGE_ID"]])
          .toEqual([attempt + 1, "U1", "T", originOffsetId])
      }
      expect(delays).toEqual([10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 1200, 1800, 3600, 7200].map((s) => s * 1000))
      expect(current.properties).toMatchObject({ WAIT: "false", TAGS: "job", REAL_TOPIC: "%RETRY%g", DELAY: "18" })
      const last = yield* sendBack(call, current)
      assert.strictEqual(last.code, 0)
      const [dead] = broker.messages("%DLQ%g", 0)
      expect([dead!.reconsumeTimes, dead!.msgId, dead!.properties["DELAY"], dead!.properties["RETRY_TOPIC"]]).toEqual([17, "U1", "0", "T"])
      expect(broker.scheduled()).toEqual([])
    }))

  it.effect("takes the client's delay level and limit, the group's limit from old clients, and -1 as straight to the DLQ", () =>
    Effect.gen(function*() {
      const { broker, call, provide } = yield* setup()
      yield* Broker.sendMessage(BROKER, Message.make("T", "x"), { queueId: 0 }).pipe(provide)
      const [message] = yield* pullAll(provide, "T", 0)
      yield* sendBack(call, message!, { delayLevel: "1" })
      expect(broker.scheduled().map((s) => s.message.queueId)).toEqual([0])
      yield* sendBack(call, message!, { maxReconsumeTimes: "0" })
      assert.strictEqual(broker.queueSize("%DLQ%g", 0), 1)
      // A client older than 121 does not get its limit honoured: the group's 16 applies.
      yield* sendBack(call, message!, { maxReconsumeTimes: "0" }, 100)
      assert.strictEqual(broker.queueSize("%DLQ%g", 0), 1)
      yield* sendBack(call, message!, { delayLevel: "-1" })
      assert.strictEqual(broker.queueSize("%DLQ%g", 0), 2)
      const missing = yield* sendBack(call, { ...message!, commitLogOffset: 123_456n })
      expect([missing.code, missing.remark]).toEqual([1, "look message by offset failed, 123456"])
    }))

  it.effect("locks queues for one client at a time (41), renews and expires locks after 60 s, and unlocks only its own (42)", () =>
    Effect.gen(function*() {
      const { broker, call } = yield* setup()
      const q = (queueId: number) => ({ brokerName: "broker-a", queueId, topic: "T" })
      const lock = (clientId: string, queueIds: ReadonlyArray<number>) =>
        Effect.map(
          call(RequestCode.LOCK_BATCH_MQ, undefined, json({ clientId, consumerGroup: "g", mqSet: queueIds.map(q), onlyThisBroker: false })),
          (r) => [r.code, text(r.body)] as const
        )
      expect(yield* lock("c1", [0, 1])).toEqual([
        0,
        `{"lockOKMQSet":[{"brokerName":"broker-a","queueId":0,"topic":"T"},{"brokerName":"broker-a","queueId":1,"topic":"T"}]}`
      ])
      expect(yield* lock("c2", [0])).toEqual([0, `{"lockOKMQSet":[]}`])
      yield* TestClock.adjust("50 seconds")
      yield* lock("c1", [0])
      yield* TestClock.adjust("20 seconds")
      // Queue 1 was not renewed: expired, so c2 takes it; queue 0 was renewed 20 s ago.
      expect((yield* lock("c2", [0, 1]))[1]).toBe(`{"lockOKMQSet":[{"brokerName":"broker-a","queueId":1,"topic":"T"}]}`)
      const unlockedByOther = yield* call(RequestCode.UNLOCK_BATCH_MQ, undefined, json({ clientId: "c2", consumerGroup: "g", mqSet: [q(0)] }))
      expect([unlockedByOther.code, unlockedByOther.body]).toEqual([0, undefined])
      expect((yield* broker.locks("g")).map((l) => [l.queueId, l.clientId, l.expired])).toEqual([[0, "c1", false], [1, "c2", false]])
      yield* call(RequestCode.UNLOCK_BATCH_MQ, undefined, json({ clientId: "c1", consumerGroup: "g", mqSet: [q(0)] }))
      expect((yield* broker.locks("g")).map((l) => l.clientId)).toEqual(["c2"])
      const bad = yield* call(RequestCode.LOCK_BATCH_MQ, undefined, json({ clientId: 1 }))
      assert.strictEqual(bad.code, 1)
    }))

  it.effect("sends a retry-topic message of a group holding a live orderly lock straight to the DLQ", () =>
    Effect.gen(function*() {
      const { broker, call } = yield* setup()
      yield* call(RequestCode.LOCK_BATCH_MQ, undefined, json({ clientId: "c1", consumerGroup: "g", mqSet: [{ brokerName: "broker-a", queueId: 0, topic: "T" }] }))
      const sent = yield* call(RequestCode.SEND_MESSAGE_V2, { a: "pg", b: "%RETRY%g", c: "TBW102", d: "4", e: "0", f: "0", g: "0", h: "0", j: "1" }, new Uint8Array([1]))
      assert.strictEqual(sent.code, 0)
      expect([broker.queueSize("%RETRY%g", 0), broker.queueSize("%DLQ%g", 0)]).toEqual([0, 1])
    }))

  it.effect("resets offsets in the broker (222, 5.3.3's default): the next pull answers OFFSET_RESET, updates wait for it", () =>
    Effect.gen(function*() {
      const { broker, call, provide } = yield* setup()
      yield* TestClock.setTime(1_000)
      yield* Broker.sendMessage(BROKER, Message.make("T", "a"), { queueId: 0 }).pipe(provide)
      yield* TestClock.setTime(2_000)
      yield* Broker.sendMessage(BROKER, Message.make("T", "b"), { queueId: 0 }).pipe(provide)
      yield* Offsets.updateConsumerOffset(BROKER, { consumerGroup: "g", topic: "T", queueId: 0, commitOffset: 2n }).pipe(
        Effect.catch(() => Effect.void),
        provide
      )
      yield* call(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, undefined, json({ groupName: "g" }))
      yield* Offsets.updateConsumerOffset(BROKER, { consumerGroup: "g", topic: "T", queueId: 0, commitOffset: 2n }).pipe(provide)
      const reset = yield* call(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic: "T", group: "g", queueId: "-1", timestamp: "1500", isForce: "true" })
      expect([reset.code, text(reset.body)]).toEqual([
        0,
        `{"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"T"}:1,{"brokerName":"broker-a","queueId":1,"topic":"T"}:0}}`
      ])
      assert.strictEqual(broker.consumerOffset("g", "T", 0), 1n)
      const ignored = yield* call(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: "g", topic: "T", queueId: "0", commitOffset: "2" })
      expect([ignored.code, ignored.remark]).toEqual([0, "Offset has been previously reset"])
      const pulled = yield* Broker.pullMessage(BROKER, { consumerGroup: "g", topic: "T", queueId: 0, queueOffset: 2n }).pipe(provide)
      expect(pulled).toMatchObject({ _tag: "OffsetIllegal", nextBeginOffset: 1n })
      const taken = yield* call(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: "g", topic: "T", queueId: "0", commitOffset: "2" })
      expect([taken.code, taken.remark]).toEqual([0, undefined])
      const noTopic = yield* call(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic: "X", group: "g", queueId: "-1", timestamp: "0", isForce: "true" })
      expect([noTopic.code, noTopic.remark]).toEqual([17, "Topic X does not exist"])
      const noGroup = yield* call(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic: "T", group: "nope", queueId: "-1", timestamp: "0", isForce: "true" })
      expect([noGroup.code, noGroup.remark]).toEqual([26, "Group nope does not exist"])
    }))

  it.effect("sends RESET_CONSUMER_CLIENT_OFFSET (220) to every member when the broker does not reset offsets itself", () =>
    Effect.gen(function*() {
      const { rmq, call, provide } = yield* setup({ useServerSideResetOffset: false })
      const noMembers = yield* call(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic: "T", group: "g", queueId: "-1", timestamp: "-1", isForce: "true" })
      expect(noMembers.remark).toBe("THe consumer group <g> not exist")
      yield* Effect.forEach([0, 1], (queueId) => Broker.pullMessage(BROKER, { consumerGroup: "g", topic: "T", queueId, queueOffset: 0n, commitOffset: 0n }).pipe(provide))
      const offline = yield* call(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic: "T", group: "g", queueId: "-1", timestamp: "-1", isForce: "true" })
      expect([offline.code, offline.remark]).toEqual([206, "Consumer not online, so can not reset offset, Group: g Topic: T Timestamp: -1"])
      const received = yield* Queue.unbounded<RemotingCommand.RemotingCommand>()
      const handler: Channel.RequestHandlerShape = { handle: (request) => Effect.as(Queue.offer(received, request), undefined) }
      const member = InMemoryRocketMQ.remotingClient(rmq, { requestHandler: handler, clientAddress: "127.0.0.1:50001" })
      yield* Broker.heartbeat(BROKER, {
        clientID: "c1",
        producerDataSet: [],
        consumerDataSet: [{
          groupName: "g",
          consumeType: "CONSUME_PASSIVELY",
          messageModel: "CLUSTERING",
          consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
          subscriptionDataSet: [Heartbeat.subscription("T", "*", 1)],
          unitMode: false
        }]
      }).pipe(Effect.provide(Layer.succeed(RemotingClient.RemotingClient, member)))
      yield* Queue.take(received) // NOTIFY_CONSUMER_IDS_CHANGED for joining
      const reset = yield* call(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, { topic: "T", group: "g", queueId: "-1", timestamp: "-1", isForce: "true" })
      assert.strictEqual(reset.code, 0)
      const told = yield* Queue.take(received)
      expect([told.code, RemotingCommand.isOneway(told), { ...told.extFields }, text(told.body)]).toEqual([
        220,
        true,
        { topic: "T", group: "g", queueId: "-1", timestamp: "-1", isForce: "false" },
        text(reset.body)
      ])
    }))

  it.effect("reports consume stats (208) per queue: broker, consumer and pull offsets and the last consumed time", () =>
    Effect.gen(function*() {
      const { call, provide } = yield* setup()
      yield* TestClock.setTime(5_000)
      yield* Broker.sendMessage(BROKER, Message.make("T", "a"), { queueId: 0 }).pipe(provide)
      yield* TestClock.setTime(6_000)
      yield* Broker.sendMessage(BROKER, Message.make("T", "b"), { queueId: 0 }).pipe(provide)
      yield* Broker.pullMessage(BROKER, { consumerGroup: "g", topic: "T", queueId: 0, queueOffset: 0n, commitOffset: 1n }).pipe(provide)
      const stats = yield* call(RequestCode.GET_CONSUME_STATS, { consumerGroup: "g", topic: "T" })
      assert.strictEqual(
        text(stats.body),
        `{"consumeTps":0.0,"offsetTable":{{"brokerName":"broker-a","queueId":0,"topic":"T"}:{"brokerOffset":2,"consumerOffset":1,` +
          `"lastTimestamp":5000,"pullOffset":2},{"brokerName":"broker-a","queueId":1,"topic":"T"}:{"brokerOffset":0,"consumerOffset":0,` +
          `"lastTimestamp":0,"pullOffset":0}}}`
      )
      const byGroup = yield* call(RequestCode.GET_CONSUME_STATS, { consumerGroup: "g" })
      assert.strictEqual(text(byGroup.body), text(stats.body))
      // A topic list (5.x) is taken as given: a topic the broker does not have is left out.
      const byList = yield* call(RequestCode.GET_CONSUME_STATS, { consumerGroup: "g", topicList: "T;Unknown" })
      assert.strictEqual(text(byList.body), text(stats.body))
    }))

  it.effect("wakes a held pull only for a message its tags match", () =>
    Effect.gen(function*() {
      const { provide } = yield* setup()
      const held = yield* Effect.forkChild(
        Broker.pullMessage(BROKER, { consumerGroup: "g", topic: "T", queueId: 0, queueOffset: 0n, subscription: "a", suspendTimeoutMillis: 15_000 })
          .pipe(provide),
        { startImmediately: true }
      )
      yield* Broker.sendMessage(BROKER, Message.make("T", "b", { tags: "b" }), { queueId: 0 }).pipe(provide)
      yield* TestClock.adjust("1 second")
      assert.isUndefined(held.pollUnsafe())
      yield* Broker.sendMessage(BROKER, Message.make("T", "a", { tags: "a" }), { queueId: 0 }).pipe(provide)
      const woken = yield* Fiber.join(held)
      assert.isTrue(woken._tag === "Found" && woken.messages.length === 1 && text(woken.messages[0]!.body) === "a")
    }))

  it.effect("forwards GET_CONSUMER_RUNNING_INFO (307) and CONSUME_MESSAGE_DIRECTLY (309) to the consumer and returns its answer", () =>
    Effect.gen(function*() {
      const { rmq, call, client, provide } = yield* setup()
      const received = yield* Queue.unbounded<RemotingCommand.RemotingCommand>()
      const handler: Channel.RequestHandlerShape = {
        handle: (request) =>
          Effect.as(
            Queue.offer(received, request),
            request.code === RequestCode.NOTIFY_CONSUMER_IDS_CHANGED || request.extFields["clientId"] === "slow"
              ? undefined
              : RemotingCommand.response(request, 0, undefined, { body: new TextEncoder().encode(`{"answer":${request.code}}`) })
          )
      }
      const member = InMemoryRocketMQ.remotingClient(rmq, { requestHandler: handler, clientAddress: "127.0.0.1:50001" })
      yield* Broker.heartbeat(BROKER, {
        clientID: "c1",
        producerDataSet: [],
        consumerDataSet: [{
          groupName: "g",
          consumeType: "CONSUME_PASSIVELY",
          messageModel: "CLUSTERING",
          consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
          subscriptionDataSet: [Heartbeat.subscription("T", "*", 1)],
          unitMode: false
        }]
      }).pipe(Effect.provide(Layer.succeed(RemotingClient.RemotingClient, member)))
      yield* Queue.take(received)
      const info = yield* call(RequestCode.GET_CONSUMER_RUNNING_INFO, { consumerGroup: "g", clientId: "c1", jstackEnable: "false" })
      expect([info.code, text(info.body)]).toEqual([0, `{"answer":307}`])
      expect({ ...(yield* Queue.take(received)).extFields }).toEqual({ consumerGroup: "g", clientId: "c1", jstackEnable: "false" })
      yield* Broker.sendMessage(BROKER, Message.make("T", "direct"), { queueId: 0 }).pipe(provide)
      const [stored] = rmq.broker().messages("T", 0)
      const direct = yield* call(RequestCode.CONSUME_MESSAGE_DIRECTLY, { consumerGroup: "g", clientId: "c1", msgId: stored!.offsetMsgId, topic: "T" })
      expect([direct.code, text(direct.body)]).toEqual([0, `{"answer":309}`])
      const asked = yield* Queue.take(received)
      expect(asked.extFields).toMatchObject({ brokerName: "broker-a", topicSysFlag: "0", groupSysFlag: "0" })
      expect(text((StoredMessage.decodeSync(asked.body!) as ReadonlyArray<StoredMessage.StoredMessage>)[0]!.body)).toBe("direct")
      const offline = yield* call(RequestCode.GET_CONSUMER_RUNNING_INFO, { consumerGroup: "g", clientId: "c9", jstackEnable: "false" })
      expect([offline.code, offline.remark]).toEqual([1, "The Consumer <g> <c9> not online"])
      // A consumer that does not answer: the broker gives up after 10 s.
      const slow = InMemoryRocketMQ.remotingClient(rmq, { requestHandler: handler, clientAddress: "127.0.0.1:50002" })
      yield* Broker.heartbeat(BROKER, {
        clientID: "slow",
        producerDataSet: [],
        consumerDataSet: [{
          groupName: "g",
          consumeType: "CONSUME_PASSIVELY",
          messageModel: "CLUSTERING",
          consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
          subscriptionDataSet: [Heartbeat.subscription("T", "*", 1)],
          unitMode: false
        }]
      }).pipe(Effect.provide(Layer.succeed(RemotingClient.RemotingClient, slow)))
      const waiting = yield* Effect.forkChild(
        client.invoke(BROKER, RemotingCommand.make({
          code: RequestCode.GET_CONSUMER_RUNNING_INFO,
          extFields: { consumerGroup: "g", clientId: "slow", jstackEnable: "false" }
        }), 15_000),
        { startImmediately: true }
      )
      yield* TestClock.adjust("10 seconds")
      const timedOut = yield* Fiber.join(waiting)
      expect([timedOut.code, timedOut.remark]).toEqual([
        207,
        "consumer <g> <slow> Timeout: RemotingTimeoutException: wait response on the channel <127.0.0.1:50002> timeout, 10000(ms)"
      ])
    }))
})
