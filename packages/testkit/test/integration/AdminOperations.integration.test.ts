/**
 * The admin operations against a real Apache RocketMQ 5.3.3: topics listed by cluster and deleted
 * from the broker and the name server, consumer groups created, listed and deleted, consume stats
 * (fastjson's queue-keyed offset table) and the broker's runtime info.
 */
import { Admin, Broker, Message, NameServer, Offsets } from "@effect-rocketmq/client"
import { assert, describe, expect, it } from "@effect/vitest"
import { RemotingClient } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import { BROKER_NAME, CLUSTER_NAME, cluster, createTopic, poll, runId, skipReason } from "./support.ts"

const real = cluster()

const clientLayer = () => RemotingClient.layer({ nameServerAddresses: real!.namesrvAddr, defaultTimeout: "10 seconds" })

describe.skipIf(real === undefined)(`admin operations against a real broker${real === undefined ? ` (skipped: ${skipReason()})` : ""}`, () => {
  it.live("a topic is listed by its cluster, and once deleted from the broker and the name server it has no route", () =>
    Effect.gen(function*() {
      const broker = real!.brokerAddr
      const topic = `OpsAdminTopic_${runId()}`
      yield* createTopic(broker, topic)
      expect((yield* NameServer.getTopicsByCluster(CLUSTER_NAME)).topicList).toContain(topic)
      expect((yield* NameServer.getAllTopicList()).topicList).toContain(topic)

      yield* Admin.deleteTopicInBroker(broker, topic)
      yield* NameServer.deleteTopicInNameServer(topic, { address: real!.namesrvAddr })
      const route = yield* poll(10, Effect.result(NameServer.getRouteInfoByTopic(topic)), (r) => r._tag === "Failure")
      assert.strictEqual(route._tag, "Failure")
      expect(route._tag === "Failure" ? route.failure._tag : "").toBe("TopicNotExist")
      expect((yield* NameServer.getAllTopicList()).topicList).not.toContain(topic)
      // Deleting what is gone succeeds, on both sides.
      yield* Admin.deleteTopicInBroker(broker, topic)
      yield* NameServer.deleteTopicInNameServer(topic, { clusterName: CLUSTER_NAME })
    }).pipe(Effect.provide(clientLayer())))

  it.live("a consumer group is created with its settings, listed among the broker's groups, and deleted", () =>
    Effect.gen(function*() {
      const broker = real!.brokerAddr
      const group = `ops_admin_group_${runId()}`
      yield* Admin.createSubscriptionGroup(broker, group, { settings: { retryMaxTimes: 5, consumeMessageOrderly: true } })
      const groups = yield* Admin.getAllSubscriptionGroup(broker)
      const created = groups.find((g) => g.groupName === group)
      expect(created).toMatchObject({
        groupName: group,
        retryMaxTimes: 5,
        consumeMessageOrderly: true,
        consumeEnable: true,
        retryQueueNums: 1,
        brokerId: 0
      })
      // The broker's own groups are listed too, and the list is sorted.
      expect(groups.map((g) => g.groupName)).toContain("TOOLS_CONSUMER")
      expect(groups.map((g) => g.groupName)).toEqual([...groups.map((g) => g.groupName)].sort())

      yield* Admin.deleteSubscriptionGroup(broker, group, { cleanOffset: true })
      const after = yield* Admin.getAllSubscriptionGroup(broker)
      assert.isUndefined(after.find((g) => g.groupName === group))
      yield* Admin.deleteSubscriptionGroup(broker, group)
    }).pipe(Effect.provide(clientLayer())))

  it.live("consume stats give every queue's max offset and the group's committed offset: the lag", () =>
    Effect.gen(function*() {
      const broker = real!.brokerAddr
      const topic = `OpsLag_${runId()}`
      const group = `ops_lag_${runId()}`
      yield* createTopic(broker, topic)
      yield* Admin.createSubscriptionGroup(broker, group)
      // Queue q gets q + 2 messages; the group commits q of them (queue 0: nothing committed).
      for (const queueId of [0, 1, 2, 3]) {
        yield* Effect.forEach(Array.from({ length: queueId + 2 }, (_, i) => i), (i) =>
          Broker.sendMessage(broker, Message.make(topic, `m${i}`), { queueId }))
        if (queueId > 0) {
          yield* Offsets.updateConsumerOffset(broker, { consumerGroup: group, topic, queueId, commitOffset: BigInt(queueId) })
        }
      }
      const stats = yield* poll(10, Admin.getConsumeStats(broker, group, { topic }), (s) =>
        s.queues.length === 4 && s.queues.every((q) => q.brokerOffset === BigInt(q.queue.queueId + 2)))
      expect(stats.queues.map((q) => [q.queue.topic, q.queue.brokerName, q.queue.queueId, q.brokerOffset, q.consumerOffset])).toEqual([
        [topic, BROKER_NAME, 0, 2n, 0n],
        [topic, BROKER_NAME, 1, 3n, 1n],
        [topic, BROKER_NAME, 2, 4n, 2n],
        [topic, BROKER_NAME, 3, 5n, 3n]
      ])
      // The store time of the last consumed message, when there is one.
      assert.strictEqual(stats.queues[0]!.lastTimestamp, 0)
      for (const q of stats.queues.slice(1)) {
        assert.isAbove(q.lastTimestamp, Date.now() - 120_000)
        assert.isTrue(q.pullOffset >= q.consumerOffset)
      }
      const lag = stats.queues.reduce((sum, q) => sum + (q.brokerOffset - q.consumerOffset), 0n)
      assert.strictEqual(lag, 8n)
      // Without a topic: the topics the group committed offsets for.
      const all = yield* Admin.getConsumeStats(broker, group)
      expect(all.queues.map((q) => q.queue.topic)).toContain(topic)
      // A group the broker has never seen has no rows.
      expect((yield* Admin.getConsumeStats(broker, `ops_nobody_${runId()}`)).queues).toEqual([])
    }).pipe(Effect.provide(clientLayer())))

  it.live("the broker's runtime info names its version", () =>
    Effect.gen(function*() {
      const info = yield* Admin.getBrokerRuntimeInfo(real!.brokerAddr)
      assert.strictEqual(info["brokerVersionDesc"], "V5_3_3")
      assert.isDefined(info["putTps"])
    }).pipe(Effect.provide(clientLayer())))
})
