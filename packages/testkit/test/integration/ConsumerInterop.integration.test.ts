/**
 * Our Consumer and the official Java client (5.3.3) in one consumer group on a real broker: the
 * queues split with no overlap and no gap, every message handled by one of the two, and Java's
 * admin view of consumer running info reading our consumer.
 */
import { MessageQueue } from "@effect-rocketmq/client"
import { assert, beforeAll, describe, expect, it } from "@effect/vitest"
import { RemotingClient } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import * as JavaClient from "../../../../scripts/java/JavaClient.ts"
import { produce, setUp, startConsumer } from "./consumers.ts"
import { cluster, poll, runId, skipReason } from "./support.ts"

const real = cluster()
const java = JavaClient.missing()
const reason = real === undefined ? skipReason() : java

describe.skipIf(reason !== undefined)(`Consumer with Java consumers in one group${reason === undefined ? "" : ` (skipped: ${reason})`}`, () => {
  beforeAll(() => Effect.runPromise(JavaClient.build), 300_000)
  const remoting = () => RemotingClient.layer({ nameServerAddresses: real!.namesrvAddr, defaultTimeout: "10 seconds" })
  const keyOf = (q: { readonly topic: string; readonly brokerName: string; readonly queueId: number }) => MessageQueue.key(q)

  it.live("a Java DefaultMQPushConsumer and ours split the queues with no overlap and no gap, and handle every message between them", () =>
    Effect.gen(function*() {
      const id = runId()
      const topic = `interop_group_${id}`
      const group = `interop_${id}`
      yield* setUp(real!, topic, group, 8)
      const javaConsumer = yield* JavaClient.pushConsumer({ namesrvAddr: real!.namesrvAddr, topic, group, from: "first", withBody: true })
      const ours = yield* startConsumer(real!, `ours${id}`, {
        consumerGroup: group,
        subscriptions: { [topic]: "*" },
        consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET"
      })
      const handled: Array<number> = []
      yield* Effect.forkChild(ours.consumer.run((d) => Effect.sync(() => handled.push(Number(new TextDecoder().decode(d.message.body))))))
      // Steady: Java sees both members and our share is the complement of Java's.
      const split = yield* poll(90, Effect.gen(function*() {
        const theirs = yield* javaConsumer.allocation(topic, "60 seconds")
        const mine = (yield* ours.consumer.assignment).filter((q) => q.topic === topic)
        return { theirs, mine }
      }), ({ mine, theirs }) => theirs.consumerIds.length === 2 && mine.length + theirs.allocated.length === 8)
      const theirKeys = split.theirs.allocated.map(keyOf)
      const myKeys = split.mine.map(keyOf)
      assert.strictEqual(theirKeys.length + myKeys.length, 8, "no gap")
      assert.strictEqual(new Set([...theirKeys, ...myKeys]).size, 8, "no overlap")
      assert.isAbove(theirKeys.length, 0)
      assert.isAbove(myKeys.length, 0)
      yield* produce(real!, topic, 0, 2_000, 8)
      const total = yield* poll(90, Effect.map(javaConsumer.messages, (m) => m.length + handled.length), (n) => n >= 2_000)
      assert.strictEqual(total, 2_000)
      const javaBodies = (yield* javaConsumer.messages).map((m) => Number(new TextDecoder().decode(m.body ?? new Uint8Array(0))))
      const all = [...javaBodies, ...handled].sort((a, b) => a - b)
      expect(all).toEqual(Array.from({ length: 2_000 }, (_, i) => i))
      yield* ours.close
      yield* javaConsumer.stop
    }).pipe(Effect.provide(remoting()), Effect.scoped), 240_000)

  it.live("Java's admin view of consumer running info reads our consumer: its type, queues, subscriptions and rates", () =>
    Effect.gen(function*() {
      const id = runId()
      const topic = `interop_info_${id}`
      const group = `info_${id}`
      yield* setUp(real!, topic, group, 4)
      const ours = yield* startConsumer(real!, `ours${id}`, {
        consumerGroup: group,
        subscriptions: { [topic]: "TagA || t" },
        consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET"
      })
      yield* Effect.forkChild(ours.consumer.run(() => Effect.void))
      yield* produce(real!, topic, 0, 100, 4)
      yield* poll(60, ours.consumer.assignment, (qs) => qs.filter((q) => q.topic === topic).length === 4)
      const info = yield* JavaClient.consumerRunningInfo({ namesrvAddr: real!.namesrvAddr, group, clientId: ours.clientId })
      expect(info.properties).toMatchObject({
        consumerGroup: group,
        messageModel: "CLUSTERING",
        PROP_CONSUME_TYPE: "CONSUME_PASSIVELY",
        PROP_CONSUMEORDERLY: "false"
      })
      expect(info.subscriptions.map((s) => s.topic).sort()).toEqual([`%RETRY%${group}`, topic].sort())
      expect(info.queues.filter((q) => q.topic === topic).map((q) => q.queueId).sort()).toEqual([0, 1, 2, 3])
      assert.isTrue(info.queues.every((q) => !q.dropped))
      assert.isDefined(info.status[topic])
      yield* ours.close
    }).pipe(Effect.provide(remoting()), Effect.scoped), 180_000)
})
