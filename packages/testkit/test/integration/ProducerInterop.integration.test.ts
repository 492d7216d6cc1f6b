/**
 * The Producer and the official Java client (5.3.3, driven by scripts/java) on the real broker:
 * what our producer sends — ZLIB, LZ4 and ZSTD bodies, a batch, properties, a delay, a committed
 * transaction — Java reads intact; and what Java's producer sends — a delay, a transaction, a
 * batch, an LZ4 body — our pull decodes intact.
 */
import { Broker, Message, Producer, Properties } from "@effect-rocketmq/client"
import type { StoredMessage } from "@effect-rocketmq/client"
import { assert, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as JavaClient from "../../../../scripts/java/JavaClient.ts"
import { cluster, createTopic, poll, runId, skipReason, startProducer } from "./support.ts"

const real = cluster()
const reason = real === undefined ? skipReason() : JavaClient.missing()

const producer = (options?: Partial<Producer.ProducerOptions>) => startProducer(real!, "interop_pg", options)

const text = (size: number, seed: number) => new TextEncoder().encode(`seed ${seed} `.padEnd(size, "lorem ipsum dolor sit amet "))

describe.skipIf(reason !== undefined)(`the Producer with the Java client${reason === undefined ? "" : ` (skipped: ${reason})`}`, () => {
  const namesrvAddr = real!.namesrvAddr

  beforeAll(() => Effect.runPromise(JavaClient.build), 180_000)

  it.live("what our producer sends — compressed bodies, a batch, properties, a delay, a transaction — Java's pull reads intact", () =>
    Effect.gen(function*() {
      const topic = `interop_producer_${runId()}`
      // The transaction goes to a queue the producer picks: a topic of its own keeps it out of the
      // queues whose exact contents are checked below.
      const txTopic = `${topic}_tx`
      const { instance, producer: zlib } = yield* producer()
      yield* instance.provide(createTopic(real!.brokerAddr, topic))
      yield* instance.provide(createTopic(real!.brokerAddr, txTopic))
      const queue = (queueId: number) => ({ queue: { topic, brokerName: "broker-a", queueId } })
      const sent: Array<{ readonly msgId: string; readonly body: Uint8Array; readonly properties: Record<string, string> }> = []
      // Queue 0: one body per compression type, and a plain one.
      for (const [i, compressType] of (["ZLIB", "LZ4", "ZSTD"] as const).entries()) {
        const { producer: p } = yield* producer({ compressType })
        const body = text(6000, i)
        const result = yield* p.send(Message.make(topic, body, { tags: compressType, keys: `c${i}`, properties: { type: compressType } }), queue(0))
        sent.push({ msgId: result.msgId, body, properties: { type: compressType } })
      }
      const plain = yield* zlib.send(Message.make(topic, "plain \u00e9\u00e8 \u{1F680}", { properties: { "名前": "値" } }), queue(0))
      sent.push({ msgId: plain.msgId, body: new TextEncoder().encode("plain \u00e9\u00e8 \u{1F680}"), properties: { "名前": "値" } })
      // Queue 1: a batch.
      const batch = yield* zlib.sendBatch(Array.from({ length: 5 }, (_, i) => Message.make(topic, `batch ${i}`, { keys: `b${i}` })), queue(1))
      // Queue 2: a delayed message (level 1: 1 s).
      const delayed = yield* zlib.send(Message.make(topic, "delayed", { delayLevel: 1 }), queue(2))
      // A committed transaction (any queue).
      const tx = yield* zlib.sendInTransaction(Message.make(txTopic, "transactional", { keys: "tx" }), () => Effect.succeed("COMMIT" as const))

      const q0 = yield* JavaClient.pull({ namesrvAddr, topic, queueId: 0, to: 4, waitMs: 15_000 })
      expect(q0.messages.map((m) => m.msgId)).toEqual(sent.map((s) => s.msgId))
      for (const [i, message] of q0.messages.entries()) {
        assert.deepStrictEqual(new Uint8Array(message.body!), sent[i]!.body, `body ${i}`)
        for (const [k, v] of Object.entries(sent[i]!.properties)) assert.strictEqual(message.properties[k], v)
      }
      const q1 = yield* JavaClient.pull({ namesrvAddr, topic, queueId: 1, to: 5, waitMs: 15_000 })
      expect(q1.messages.map((m) => m.msgId)).toEqual(batch.msgIds)
      expect(q1.messages.map((m) => Buffer.from(m.body!).toString())).toEqual(Array.from({ length: 5 }, (_, i) => `batch ${i}`))
      const q2 = yield* JavaClient.pull({ namesrvAddr, topic, queueId: 2, to: 1, waitMs: 20_000 })
      assert.strictEqual(q2.messages[0]?.msgId, delayed.msgId)
      assert.isAtLeast(q2.messages[0]!.storeTimestamp - q2.messages[0]!.bornTimestamp, 1000)
      const all = yield* JavaClient.pull({ namesrvAddr, topic: txTopic, waitMs: 5_000 })
      const txMessage = all.messages.find((m) => m.msgId === tx.msgId)
      assert.strictEqual(txMessage && Buffer.from(txMessage.body!).toString(), "transactional")
    }), 240_000)

  it.live("what Java's producer sends — a delay, a committed transaction, a batch, an LZ4 body — our pull decodes intact", () =>
    Effect.gen(function*() {
      const topic = `interop_java_producer_${runId()}`
      // The transaction goes to a queue Java picks: a topic of its own keeps it out of the queues
      // whose exact contents are checked below.
      const txTopic = `${topic}_tx`
      const { instance } = yield* producer()
      yield* instance.provide(createTopic(real!.brokerAddr, topic))
      yield* instance.provide(createTopic(real!.brokerAddr, txTopic))
      // A queue's messages from offset 0, pulled again (at most 30 s) until `done` holds.
      const pullUntil = (queueId: number, done: (messages: ReadonlyArray<StoredMessage.StoredMessage>) => boolean, of = topic) =>
        poll(
          30,
          Effect.map(
            instance.provide(Broker.pullMessage(real!.brokerAddr, { consumerGroup: `interop_${runId()}`, topic: of, queueId, queueOffset: 0n })),
            (r): ReadonlyArray<StoredMessage.StoredMessage> => (r._tag === "Found" ? r.messages : [])
          ),
          done
        )
      const pullAll = (queueId: number, count: number) => pullUntil(queueId, (messages) => messages.length >= count)
      const delayed = yield* JavaClient.produce({ namesrvAddr, topic, queueId: 0, bodies: ["java delayed"], delayLevel: 1 })
      // (Java's batch ids are not compared: a 5.3.3 broker stores Java's batch id on every element.)
      yield* JavaClient.produce({ namesrvAddr, topic, queueId: 1, count: 4, batch: 4, bodies: ["java batch {i}"], properties: { n: "{i}" } })
      const lz4 = yield* JavaClient.produce({ namesrvAddr, topic, queueId: 2, bodySizes: [9000], compressType: "LZ4" })
      const tx = yield* JavaClient.produce({ namesrvAddr, topic: txTopic, bodies: ["java transactional"], transaction: "COMMIT" })

      const [d] = yield* pullAll(0, 1)
      assert.strictEqual(d && new TextDecoder().decode(d.body), "java delayed")
      assert.strictEqual(d!.msgId, delayed.sent[0]!.msgId)
      const b = yield* pullAll(1, 4)
      expect(b.map((m) => new TextDecoder().decode(m.body))).toEqual([0, 1, 2, 3].map((i) => `java batch ${i}`))
      expect(b.map((m) => Properties.get(m.properties, "n"))).toEqual(["0", "1", "2", "3"])
      const [l] = yield* pullAll(2, 1)
      assert.deepStrictEqual(l!.body, JavaClient.generatedBody(0, 9000))
      assert.strictEqual(l!.msgId, lz4.sent[0]!.msgId)
      const isTx = (m: StoredMessage.StoredMessage) => new TextDecoder().decode(m.body) === "java transactional"
      const t = yield* pullUntil(tx.sent[0]!.queueId ?? 0, (messages) => messages.some(isTx), txTopic)
      assert.strictEqual(t.find(isTx)?.msgId, tx.sent[0]!.msgId)
    }), 240_000)
})
