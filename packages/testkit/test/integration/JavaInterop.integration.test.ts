/**
 * Interop with the official Apache RocketMQ Java client (5.3.3, driven by scripts/java) on the
 * real broker: what Java sends our pull decodes, what we send Java reads, and Java's push
 * consumer and admin tools work against the same cluster. The smoke test of the Java harness.
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Broker, Message, Properties } from "@effect-rocketmq/client"
import { RemotingClient } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import * as JavaClient from "../../../../scripts/java/JavaClient.ts"
import { cluster, createTopic, poll, runId, skipReason } from "./support.ts"

const real = cluster()
const reason = real === undefined ? skipReason() : JavaClient.missing()

describe.skipIf(reason !== undefined)(`interop with the Java client${reason === undefined ? "" : ` (skipped: ${reason})`}`, () => {
  const namesrvAddr = real!.namesrvAddr
  const client = RemotingClient.layer({ nameServerAddresses: namesrvAddr, defaultTimeout: "10 seconds" })

  // The first build fetches the client jars and compiles the driver: up to a minute.
  beforeAll(() => Effect.runPromise(JavaClient.build), 180_000)

  /** Pulls queue `queueId` of `topic` from offset 0 until `count` messages came back (at most 10 s). */
  const pullAll = (topic: string, queueId: number, count: number) =>
    Effect.gen(function*() {
      const result = yield* poll(10, Broker.pullMessage(real!.brokerAddr, {
        consumerGroup: `interop_pull_${runId()}`,
        topic,
        queueId,
        queueOffset: 0n,
        maxMsgNums: 32
      }), (r) => r._tag === "Found" && r.messages.length >= count)
      assert.strictEqual(result._tag, "Found", `pull of ${topic} queue ${queueId}`)
      return result._tag === "Found" ? result.messages : []
    })

  it.live("what the Java producer sends — tags, keys, user properties, a ZLIB-compressed body — our pull decodes intact", () =>
    Effect.gen(function*() {
      const topic = `interop_java_to_ts_${runId()}`
      yield* createTopic(real!.brokerAddr, topic)
      const produced = yield* JavaClient.produce({
        namesrvAddr,
        topic,
        count: 3,
        queueId: 0,
        bodySizes: [64, 5000, 300],
        tags: "Tag{i}",
        keys: "key-{i} other-{i}",
        properties: { order: "o-{i}", region: "eu" },
        echoBody: true
      })
      assert.strictEqual(produced.sent.length, 3)
      const received = yield* pullAll(topic, 0, 3)
      assert.strictEqual(received.length, 3)
      for (const [i, message] of received.entries()) {
        const sent = produced.sent.find((s) => s.index === i)!
        assert.strictEqual(message.msgId, sent.msgId)
        assert.strictEqual(message.offsetMsgId, sent.offsetMsgId)
        assert.deepStrictEqual(message.body, JavaClient.generatedBody(i, [64, 5000, 300][i]!))
        assert.strictEqual(Message.tagsOf(message), `Tag${i}`)
        assert.deepStrictEqual(Message.keysOf(message), [`key-${i}`, `other-${i}`])
        assert.strictEqual(Properties.get(message.properties, "order"), `o-${i}`)
        assert.strictEqual(Properties.get(message.properties, "region"), "eu")
      }
    }).pipe(Effect.provide(client)))

  it.live("what we send, Java's pull reads intact, and a Java push consumer in a group consumes it", () =>
    Effect.gen(function*() {
      const topic = `interop_ts_to_java_${runId()}`
      const group = `interop_group_${runId()}`
      yield* createTopic(real!.brokerAddr, topic)
      const bodies = ["first body", "second body \u00e9\u00e8", "x".repeat(6000)]
      const results = yield* Effect.forEach(bodies, (body, i) =>
        Broker.sendMessage(
          real!.brokerAddr,
          Message.make(topic, body, { tags: "TsTag", keys: [`ts-${i}`], properties: { index: String(i) } }),
          { queueId: 1, compressOverBytes: 4096 }
        ))

      const pulled = yield* JavaClient.pull({ namesrvAddr, topic, queueId: 1, to: 3, waitMs: 10_000 })
      assert.deepStrictEqual(pulled.messages.map((m) => m.msgId), results.map((r) => r.msgId))
      for (const [i, message] of pulled.messages.entries()) {
        assert.strictEqual(Buffer.from(message.body!).toString(), bodies[i])
        assert.strictEqual(message.tags, "TsTag")
        assert.strictEqual(message.keys, `ts-${i}`)
        assert.strictEqual(message.properties.index, String(i))
        assert.strictEqual(message.queueOffset, BigInt(i))
      }

      const consumed = yield* JavaClient.pushConsume({ namesrvAddr, topic, group, from: "first", count: 3, timeout: "60 seconds" })
      assert.sameMembers(consumed.messages.map((m) => m.msgId), results.map((r) => r.msgId))
      assert.deepStrictEqual(
        consumed.messages.map((m) => Buffer.from(m.body!).toString()).sort(),
        [...bodies].sort()
      )
      const allocation = consumed.rebalances.find((r) => r.topic === topic)
      assert.deepStrictEqual(allocation?.consumerIds, [consumed.clientId])
      assert.sameMembers(allocation!.allocated.map((q) => q.queueId), [0, 1, 2, 3])
    }).pipe(Effect.provide(client)))

  it.live("Java's admin API sees a running Java push consumer: its connection and its running info", () =>
    Effect.scoped(Effect.gen(function*() {
      const topic = `interop_admin_${runId()}`
      const group = `interop_admin_group_${runId()}`
      yield* createTopic(real!.brokerAddr, topic).pipe(Effect.provide(client))
      const consumer = yield* JavaClient.pushConsumer({ namesrvAddr, topic, group })
      yield* consumer.allocation(topic)
      const connections = yield* JavaClient.consumerConnections({ namesrvAddr, group })
      assert.deepStrictEqual(connections.connections.map((c) => c.clientId), [consumer.clientId])
      assert.strictEqual(connections.messageModel, "CLUSTERING")
      const info = yield* JavaClient.consumerRunningInfo({ namesrvAddr, group, clientId: consumer.clientId })
      assert.includeMembers(info.subscriptions.map((s) => s.topic), [topic, `%RETRY%${group}`])
      assert.strictEqual(info.properties.PROP_CONSUME_TYPE, "CONSUME_PASSIVELY")
      const stopped = yield* consumer.stop
      assert.strictEqual(stopped.exitCode, 0)
      assert.strictEqual(stopped.summary.reason, "stop")
    })))
})
