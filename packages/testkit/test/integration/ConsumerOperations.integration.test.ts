/**
 * The consumer's broker operations against a real Apache RocketMQ 5.3.3: the member list of a
 * group (and UNREGISTER_CLIENT leaving it), min offset and search by timestamp,
 * CONSUMER_SEND_MSG_BACK to the retry topic and the DLQ (with the request's maxReconsumeTimes
 * honoured), a retry-topic send with reconsume counts, queue locks, and creating a consumer group.
 */
import { Admin, Broker, ClientError, ConsumerGroup, Heartbeat, Message, Offsets } from "@effect-rocketmq/client"
import type { StoredMessage } from "@effect-rocketmq/client"
import { assert, describe, expect, it } from "@effect/vitest"
import { RemotingClient } from "@effect-rocketmq/remoting"
import { Effect, Option } from "effect"
import { BROKER_NAME, cluster, createTopic, poll, runId, skipReason } from "./support.ts"

const real = cluster()

const clientLayer = () => RemotingClient.layer({ nameServerAddresses: real!.namesrvAddr, defaultTimeout: "10 seconds" })

/** A heartbeat that makes `clientID` a member of `group`, subscribed to `topic`. */
const memberOf = (clientID: string, group: string, topic: string): Heartbeat.HeartbeatData => ({
  clientID,
  producerDataSet: [],
  consumerDataSet: [{
    groupName: group,
    consumeType: "CONSUME_PASSIVELY",
    messageModel: "CLUSTERING",
    consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
    subscriptionDataSet: [Heartbeat.subscription(topic, "*", Date.now())],
    unitMode: false
  }]
})

/** The first message of `queueId` at or after `offset` (at most 10 s: dispatch is asynchronous). */
const pullOne = (broker: string, topic: string, queueId: number, offset = 0n) =>
  Effect.gen(function*() {
    const pulled = yield* poll(
      10,
      Broker.pullMessage(broker, { consumerGroup: `ops_reader_${runId()}`, topic, queueId, queueOffset: offset }),
      (r) => r._tag === "Found"
    )
    assert.strictEqual(pulled._tag, "Found", `a message in ${topic} queue ${queueId}`)
    return (pulled as Extract<typeof pulled, { _tag: "Found" }>).messages[0]!
  })

describe.skipIf(real === undefined)(`consumer operations against a real broker${real === undefined ? ` (skipped: ${skipReason()})` : ""}`, () => {
  it.live("the member list holds every client that heartbeats on its own connection, and UNREGISTER_CLIENT takes one out", () =>
    Effect.gen(function*() {
      const broker = real!.brokerAddr
      const topic = `OpsMembers_${runId()}`
      const group = `ops_members_${runId()}`
      yield* createTopic(broker, topic)
      const [a, b] = [`127.0.0.1@ops_a_${runId()}`, `127.0.0.1@ops_b_${runId()}`]
      // Each member on its own connection, as two processes would be.
      yield* Broker.heartbeat(broker, memberOf(a, group, topic))
      yield* Effect.gen(function*() {
        yield* Broker.heartbeat(broker, memberOf(b, group, topic))
        const both = yield* ConsumerGroup.getConsumerListByGroup(broker, group)
        expect([...both].sort()).toEqual([a, b].sort())
        yield* Broker.unregisterClient(broker, { clientID: b, consumerGroup: group })
        expect(yield* ConsumerGroup.getConsumerListByGroup(broker, group)).toEqual([a])
      }).pipe(Effect.provide(clientLayer()))

      const unknown = yield* Effect.flip(ConsumerGroup.getConsumerListByGroup(broker, `ops_nobody_${runId()}`))
      assert.instanceOf(unknown, ClientError.RemoteError)
      expect(unknown).toMatchObject({ responseName: "SYSTEM_ERROR" })
      expect(unknown.remark).toContain("no consumer for this group")
    }).pipe(Effect.provide(clientLayer())))

  it.live("min offset is 0 on a new queue and search by timestamp finds the first message stored at or after it", () =>
    Effect.gen(function*() {
      const broker = real!.brokerAddr
      const topic = `OpsSearch_${runId()}`
      yield* createTopic(broker, topic)
      const queue = { topic, queueId: 2 }
      assert.strictEqual(yield* Offsets.getMinOffset(broker, queue), 0n)
      const before = Date.now() - 1000
      const first = yield* Broker.sendMessage(broker, Message.make(topic, "0"), { queueId: 2 })
      yield* Effect.sleep("300 millis")
      const between = Date.now()
      yield* Effect.sleep("300 millis")
      yield* Broker.sendMessage(broker, Message.make(topic, "1"), { queueId: 2 })
      yield* Broker.sendMessage(broker, Message.make(topic, "2"), { queueId: 2 })
      yield* pullOne(broker, topic, 2, 2n)
      assert.strictEqual(first.queueOffset, 0n)
      assert.strictEqual(yield* Offsets.searchOffsetByTimestamp(broker, { ...queue, timestamp: before }), 0n)
      assert.strictEqual(yield* Offsets.searchOffsetByTimestamp(broker, { ...queue, timestamp: between }), 1n)
      // No message has that store time: UPPER answers the last one before it.
      assert.strictEqual(yield* Offsets.searchOffsetByTimestamp(broker, { ...queue, timestamp: between }, { boundaryType: "UPPER" }), 0n)
      assert.strictEqual(yield* Offsets.searchOffsetByTimestamp(broker, { ...queue, timestamp: Date.now() + 60_000 }), 3n)
      assert.strictEqual(yield* Offsets.getMinOffset(broker, queue), 0n)
      // A 5.3.3 broker does not check the topic here: a queue it does not have starts and ends at 0.
      assert.strictEqual(yield* Offsets.getMinOffset(broker, { topic: `Missing_${runId()}`, queueId: 0 }), 0n)
    }).pipe(Effect.provide(clientLayer())))

  it.live("a message sent back goes to the retry topic, or to the DLQ when the request's maxReconsumeTimes is reached", () =>
    Effect.gen(function*() {
      const broker = real!.brokerAddr
      const topic = `OpsSendBack_${runId()}`
      const group = `ops_sendback_${runId()}`
      yield* createTopic(broker, topic)
      yield* Admin.createSubscriptionGroup(broker, group)
      const sent = yield* Effect.forEach(["retry me", "dead letter"], (body) =>
        Broker.sendMessage(broker, Message.make(topic, body, { tags: "sb" }), { queueId: 0 }))
      const [retry, dead] = [yield* pullOne(broker, topic, 0, 0n), yield* pullOne(broker, topic, 0, 1n)] as const
      const back = (message: StoredMessage.StoredMessage, delayLevel: number, maxReconsumeTimes: number) =>
        ConsumerGroup.consumerSendMessageBack(broker, {
          group,
          commitLogOffset: message.commitLogOffset,
          delayLevel,
          originMsgId: message.msgId,
          originTopic: topic,
          maxReconsumeTimes,
          brokerName: BROKER_NAME
        })
      // Level 1 (1 s): through the schedule topic into %RETRY%<group>.
      yield* back(retry, 1, 16)
      // reconsumeTimes 0 ≥ maxReconsumeTimes 0: straight to %DLQ%<group> (the group itself allows 16).
      yield* back(dead, 0, 0)

      const dlq = yield* pullOne(broker, `%DLQ%${group}`, 0)
      expect([new TextDecoder().decode(dlq.body), dlq.msgId]).toEqual(["dead letter", sent[1]!.msgId])
      const retried = yield* pullOne(broker, `%RETRY%${group}`, 0)
      expect([new TextDecoder().decode(retried.body), retried.msgId, retried.reconsumeTimes]).toEqual(["retry me", sent[0]!.msgId, 1])
      assert.strictEqual(Message.tagsOf(retried), "sb")
      assert.strictEqual(yield* Offsets.getMaxOffset(broker, { topic: `%DLQ%${group}`, queueId: 0 }), 1n)

    }).pipe(Effect.provide(clientLayer())), { timeout: 60_000 })

  it.live("a send to a retry topic carries the reconsume counts: beyond the maximum it lands in the DLQ", () =>
    Effect.gen(function*() {
      const broker = real!.brokerAddr
      const topic = `OpsRetrySend_${runId()}`
      const group = `ops_retrysend_${runId()}`
      yield* createTopic(broker, topic)
      // The heartbeat of a member creates the group and its retry topic.
      yield* Broker.heartbeat(broker, memberOf(`127.0.0.1@ops_r_${runId()}`, group, topic))
      const retryTopic = `%RETRY%${group}`
      yield* Broker.sendMessage(broker, Message.make(retryTopic, "again"), { queueId: 0, reconsumeTimes: 2, maxReconsumeTimes: 16 })
      yield* Broker.sendMessage(broker, Message.make(retryTopic, "give up"), { queueId: 0, reconsumeTimes: 17, maxReconsumeTimes: 16 })
      const again = yield* pullOne(broker, retryTopic, 0)
      expect([new TextDecoder().decode(again.body), again.reconsumeTimes]).toEqual(["again", 2])
      const dead = yield* pullOne(broker, `%DLQ%${group}`, 0)
      expect([new TextDecoder().decode(dead.body), dead.reconsumeTimes]).toEqual(["give up", 17])
    }).pipe(Effect.provide(clientLayer())))

  it.live("a queue lock belongs to one client until it unlocks, sync or oneway", () =>
    Effect.gen(function*() {
      const broker = real!.brokerAddr
      const topic = `OpsLock_${runId()}`
      const group = `ops_lock_${runId()}`
      yield* createTopic(broker, topic)
      const queues = [0, 1].map((queueId) => ({ topic, brokerName: BROKER_NAME, queueId }))
      const [a, b] = [`127.0.0.1@lock_a_${runId()}`, `127.0.0.1@lock_b_${runId()}`]
      const lock = (clientId: string) =>
        ConsumerGroup.lockBatchMQ(broker, { consumerGroup: group, clientId, queues }, { timeoutMillis: 10_000 }).pipe(
          Effect.map((locked) => locked.map((q) => q.queueId).sort())
        )
      expect(yield* lock(a)).toEqual([0, 1])
      expect(yield* lock(a)).toEqual([0, 1])
      expect(yield* lock(b)).toEqual([])
      yield* ConsumerGroup.unlockBatchMQ(broker, { consumerGroup: group, clientId: b, queues }, { timeoutMillis: 10_000 })
      expect(yield* lock(b)).toEqual([]) // another client's unlock leaves the lock alone
      yield* ConsumerGroup.unlockBatchMQ(broker, { consumerGroup: group, clientId: a, queues }, { timeoutMillis: 10_000 })
      expect(yield* lock(b)).toEqual([0, 1])
      yield* ConsumerGroup.unlockBatchMQ(broker, { consumerGroup: group, clientId: b, queues }, { oneway: true })
      expect(yield* poll(10, lock(a), (ids) => ids.length === 2)).toEqual([0, 1])
    }).pipe(Effect.provide(clientLayer())))

  it.live("a consumer group created with consumeEnable=false may not pull until it is updated", () =>
    Effect.gen(function*() {
      const broker = real!.brokerAddr
      const topic = `OpsGroup_${runId()}`
      const group = `ops_group_${runId()}`
      yield* createTopic(broker, topic)
      yield* Broker.sendMessage(broker, Message.make(topic, "x"), { queueId: 0 })
      yield* pullOne(broker, topic, 0)
      yield* Admin.createSubscriptionGroup(broker, group, { settings: { consumeEnable: false } })
      const pull = Broker.pullMessage(broker, { consumerGroup: group, topic, queueId: 0, queueOffset: 0n })
      const refused = yield* Effect.flip(pull)
      expect(refused).toMatchObject({ _tag: "RemoteError", responseName: "NO_PERMISSION" })
      yield* Admin.createSubscriptionGroup(broker, group)
      assert.strictEqual((yield* pull)._tag, "Found")
      // The group now exists, so an offset can be stored and read back.
      yield* Offsets.updateConsumerOffset(broker, { consumerGroup: group, topic, queueId: 0, commitOffset: 1n })
      expect(yield* Offsets.queryConsumerOffset(broker, { consumerGroup: group, topic, queueId: 0 })).toEqual(Option.some(1n))
    }).pipe(Effect.provide(clientLayer())))
})
