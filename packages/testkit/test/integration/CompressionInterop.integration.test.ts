/**
 * Compressed bodies between the official Java client 5.3.3 (scripts/java) and ours, through a
 * real broker: every compression type Java 5.x can send (ZLIB, LZ4, ZSTD), batches and
 * properties, decoded by our pull; and what we compress with each type, read by Java's pull and
 * push consumer.
 */
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { Broker, Compression, Message, Properties, StoredMessage } from "@effect-rocketmq/client"
import { RemotingClient } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import * as JavaClient from "../../../../scripts/java/JavaClient.ts"
import { cluster, createTopic, poll, runId, skipReason } from "./support.ts"

const real = cluster()
const reason = real === undefined ? skipReason() : JavaClient.missing()

describe.skipIf(reason !== undefined)(`compressed bodies between Java and us${reason === undefined ? "" : ` (skipped: ${reason})`}`, () => {
  const namesrvAddr = real!.namesrvAddr
  const client = RemotingClient.layer({ nameServerAddresses: namesrvAddr, defaultTimeout: "10 seconds" })

  beforeAll(() => Effect.runPromise(JavaClient.build), 180_000)

  /** Every message of queue `queueId` of `topic` from offset 0, once `count` are there (at most 15 s). */
  const pullQueue = (topic: string, queueId: number, count: number) =>
    Effect.gen(function*() {
      const result = yield* poll(15, Broker.pullMessage(real!.brokerAddr, {
        consumerGroup: `compression_pull_${runId()}`,
        topic,
        queueId,
        queueOffset: 0n,
        maxMsgNums: 32
      }), (r) => r._tag === "Found" && r.messages.length + r.undecodable.length >= count)
      assert.strictEqual(result._tag, "Found", `pull of ${topic} queue ${queueId}`)
      if (result._tag !== "Found") return []
      assert.deepStrictEqual(result.undecodable.map((m) => m.error.message), [], "no record left undecoded")
      return result.messages
    })

  for (const type of Compression.types) {
    it.live(`what a Java producer compresses with ${type} — compressible, incompressible, under the threshold — our pull decodes intact`, () =>
      Effect.gen(function*() {
        const topic = `compression_${type.toLowerCase()}_${runId()}`
        yield* createTopic(real!.brokerAddr, topic)
        // Compressible text over and under Java's 4096-byte threshold, a large one, and incompressible bytes.
        const bodies = [
          JavaClient.generatedBody(0, 5000),
          JavaClient.generatedBody(1, 100),
          JavaClient.generatedBody(2, 70_000),
          JavaClient.generatedBody(3, 5000, "random")
        ]
        const produced = yield* JavaClient.produce({
          namesrvAddr,
          topic,
          queueId: 0,
          count: bodies.length,
          bodies,
          compressType: type,
          tags: "Z{i}",
          keys: "k{i}",
          properties: { index: "{i}" }
        })
        const received = yield* pullQueue(topic, 0, bodies.length)
        assert.deepStrictEqual(received.map((m) => m.msgId), produced.sent.map((s) => s.msgId))
        for (const [i, message] of received.entries()) {
          assert.deepStrictEqual(message.body, bodies[i])
          assert.strictEqual(Message.tagsOf(message), `Z${i}`)
          assert.deepStrictEqual(Message.keysOf(message), [`k${i}`])
          assert.strictEqual(Properties.get(message.properties, "index"), String(i))
          // Java compresses bodies of 4096 bytes and more; the type stays in sysFlag, COMPRESSED is cleared.
          const typeBits = message.body.length >= 4096 ? Compression.sysFlagOf(type) & StoredMessage.SysFlag.COMPRESSION_TYPE_MASK : 0
          assert.strictEqual(message.sysFlag & StoredMessage.SysFlag.COMPRESSION_TYPE_MASK, typeBits)
          assert.strictEqual(message.sysFlag & StoredMessage.SysFlag.COMPRESSED, 0)
        }
      }).pipe(Effect.provide(client)))
  }

  it.live("what we compress with ZLIB, LZ4 and ZSTD, Java's pull and push consumer read intact", () =>
    Effect.gen(function*() {
      const topic = `compression_to_java_${runId()}`
      const group = `compression_group_${runId()}`
      yield* createTopic(real!.brokerAddr, topic)
      const bodies = [JavaClient.generatedBody(0, 5000), JavaClient.generatedBody(1, 70_000), JavaClient.generatedBody(2, 5000, "random")]
      const sent: Array<{ readonly msgId: string; readonly body: Uint8Array; readonly type: string }> = []
      for (const [queueId, type] of Compression.types.entries()) {
        for (const body of bodies) {
          const compressed = yield* Compression.compress(type, body)
          const result = yield* Broker.sendMessage(
            real!.brokerAddr,
            Message.make(topic, compressed, { tags: type, properties: { type } }),
            { queueId, sysFlag: Compression.sysFlagOf(type) }
          )
          sent.push({ msgId: result.msgId, body, type })
        }
      }
      const bodyOf = new Map(sent.map((s) => [s.msgId, s]))
      const check = (messages: ReadonlyArray<JavaClient.Events.Message>, what: string) => {
        assert.sameMembers(messages.map((m) => m.msgId), [...bodyOf.keys()], what)
        for (const message of messages) {
          const expected = bodyOf.get(message.msgId)!
          assert.deepStrictEqual(message.body, expected.body, `${what}: ${expected.type} body of ${message.msgId}`)
          assert.strictEqual(message.properties.type, expected.type)
          assert.strictEqual(message.sysFlag & 0x1, 0, `${what}: Java clears COMPRESSED once decompressed`)
        }
      }
      const pulled = yield* JavaClient.pull({ namesrvAddr, topic, to: bodies.length, waitMs: 10_000 })
      check(pulled.messages, "Java pull")
      const consumed = yield* JavaClient.pushConsume({ namesrvAddr, topic, group, from: "first", count: sent.length, timeout: "90 seconds" })
      check(consumed.messages, "Java push consumer")
    }).pipe(Effect.provide(client)))

  it.live("a Java batch with tags and user properties decodes element by element, each with its own body and properties", () =>
    Effect.gen(function*() {
      const topic = `compression_batch_${runId()}`
      yield* createTopic(real!.brokerAddr, topic)
      const produced = yield* JavaClient.produce({
        namesrvAddr,
        topic,
        queueId: 2,
        count: 6,
        batch: 6,
        bodies: ["batch element {i}"],
        tags: "B{i%2}",
        properties: { element: "{i}" }
      })
      assert.strictEqual(produced.sent.length, 1)
      assert.strictEqual(produced.sent[0]!.count, 6)
      const received = yield* pullQueue(topic, 2, 6)
      assert.deepStrictEqual(received.map((m) => new TextDecoder().decode(m.body)), [0, 1, 2, 3, 4, 5].map((i) => `batch element ${i}`))
      assert.deepStrictEqual(received.map((m) => Properties.get(m.properties, "element")), ["0", "1", "2", "3", "4", "5"])
      assert.deepStrictEqual(received.map((m) => Message.tagsOf(m)), ["B0", "B1", "B0", "B1", "B0", "B1"])
      assert.deepStrictEqual(received.map((m) => m.queueOffset), [0n, 1n, 2n, 3n, 4n, 5n])
      // A 5.3.3 broker appends the batch's own properties to each element's, so every element
      // reads back with the batch's UNIQ_KEY, not the id Java's SendResult gave it.
      assert.deepStrictEqual(new Set(received.map((m) => m.msgId)).size, 1)
    }).pipe(Effect.provide(client)))
})
