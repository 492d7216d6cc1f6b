/**
 * The Producer against a real Apache RocketMQ 5.3.3: 10,000 messages with tags, keys and
 * properties come back exactly once by pull, and so do 2,000 sent in bulk (`sendAll`); a batch; an
 * ordered key in one queue; a delayed message no earlier than its delay; transactions committed
 * (visible), rolled back (never) and unknown (resolved by the broker's check-back to our checker).
 */
import { Broker, ClientInstance, Message, Producer, Properties } from "@effect-rocketmq/client"
import type { StoredMessage } from "@effect-rocketmq/client"
import { assert, describe, expect, it } from "@effect/vitest"
import { Deferred, Effect } from "effect"
import { cluster, createTopic, poll, runId, skipReason, startProducer } from "./support.ts"

const real = cluster()

const producer = (options?: Partial<Producer.ProducerOptions>) => startProducer(real!, "it_pg", options)

/** Every message of a queue from offset 0 up to `count` of them (at most `seconds` of polling). */
const pullQueue = (instance: ClientInstance.ClientInstanceShape, topic: string, queueId: number, count: number, seconds = 30) =>
  Effect.gen(function*() {
    const out: Array<StoredMessage.StoredMessage> = []
    const group = `it_pull_${runId()}`
    let offset = 0n
    const until = Date.now() + seconds * 1000
    while (out.length < count && Date.now() < until) {
      const result = yield* instance.provide(Broker.pullMessage(real!.brokerAddr, { consumerGroup: group, topic, queueId, queueOffset: offset }))
      if (result._tag !== "Found") {
        yield* Effect.sleep("100 millis")
        continue
      }
      out.push(...result.messages)
      offset = result.nextBeginOffset
    }
    return out
  })

/** The messages of a queue from offset 0, one pull (none when nothing is there yet). */
const pullOnce = (instance: ClientInstance.ClientInstanceShape, topic: string, queueId: number) =>
  Effect.map(
    instance.provide(Broker.pullMessage(real!.brokerAddr, { consumerGroup: `it_pull_${runId()}`, topic, queueId, queueOffset: 0n })),
    (result): ReadonlyArray<StoredMessage.StoredMessage> => (result._tag === "Found" ? result.messages : [])
  )

const queues = [0, 1, 2, 3]

/**
 * Pulls every queue of `topic` back and checks that message `index` (its `index` property) of
 * `results` came back exactly once, with `check` on each; every one of them must come back.
 */
const eachBackOnce = (
  instance: ClientInstance.ClientInstanceShape,
  topic: string,
  results: ReadonlyArray<Producer.SendResult>,
  check: (message: StoredMessage.StoredMessage, index: number) => void
) =>
  Effect.gen(function*() {
    const perQueue = queues.map((q) => results.filter((r) => r.messageQueue.queueId === q).length)
    const seen = new Uint8Array(results.length)
    for (const queueId of queues) {
      for (const message of yield* pullQueue(instance, topic, queueId, perQueue[queueId]!, 60)) {
        const i = Number(Properties.get(message.properties, "index"))
        assert.strictEqual(seen[i], 0, `message ${i} came back twice`)
        seen[i] = 1
        assert.strictEqual(message.msgId, results[i]!.msgId)
        check(message, i)
      }
    }
    assert.strictEqual(seen.reduce((n, b) => n + b, 0), results.length)
    return perQueue
  })

describe.skipIf(real === undefined)(`Producer against a real broker${real === undefined ? ` (skipped: ${skipReason()})` : ""}`, () => {
  it.live("10,000 messages with tags, keys and properties come back exactly once by pull", () =>
    Effect.gen(function*() {
      // A generous budget: CI's 2 cores also run the broker (and other suites).
      const { instance, producer: p } = yield* producer({ sendMsgTimeout: "30 seconds" })
      const topic = `ProducerIt10k_${runId()}`
      yield* instance.provide(createTopic(real!.brokerAddr, topic))
      const total = 10_000
      const results = yield* Effect.forEach(Array.from({ length: total }, (_, i) => i), (i) =>
        p.send(Message.make(topic, `body ${i} ${"·".repeat(i % 50)}`, {
          tags: `tag-${i % 5}`,
          keys: [`key-${i}`, `k${i % 13}`],
          properties: { index: String(i), "名前": `値 ${i}` }
        })), { concurrency: 32 })
      assert.strictEqual(results.filter((r) => r.status === "SEND_OK").length, total)
      const perQueue = yield* eachBackOnce(instance, topic, results, (message, i) => {
        assert.strictEqual(new TextDecoder().decode(message.body), `body ${i} ${"·".repeat(i % 50)}`)
        assert.strictEqual(Message.tagsOf(message), `tag-${i % 5}`)
        assert.deepStrictEqual(Message.keysOf(message), [`key-${i}`, `k${i % 13}`])
        assert.strictEqual(Properties.get(message.properties, "名前"), `値 ${i}`)
      })
      // Round-robin over 4 queues (a retry moves the counter on, so not exactly a quarter each).
      for (const count of perQueue) assert.isAtLeast(count, total / 5)
    }), 300_000)

  it.live("sendAll: 2,000 messages in bulk calls of 500 come back exactly once by pull, each with the msgId its result gave", () =>
    Effect.gen(function*() {
      const { instance, producer: p } = yield* producer({ sendMsgTimeout: "30 seconds" })
      const topic = `ProducerItAll_${runId()}`
      yield* instance.provide(createTopic(real!.brokerAddr, topic))
      const total = 2_000
      const messages = Array.from({ length: total }, (_, i) => Message.make(topic, `bulk ${i}`, { keys: `key-${i}`, properties: { index: String(i) } }))
      const outcomes = yield* Effect.forEach([0, 1, 2, 3], (chunk) => p.sendAll(messages.slice(chunk * 500, chunk * 500 + 500)))
      const results = outcomes.flat().map((outcome, i) => {
        assert(outcome._tag === "Success", `message ${i}: ${outcome._tag === "Failure" ? outcome.failure.message : ""}`)
        return outcome.success
      })
      assert.strictEqual(results.filter((r) => r.status === "SEND_OK").length, total)
      yield* eachBackOnce(instance, topic, results, (message, i) => {
        assert.strictEqual(new TextDecoder().decode(message.body), `bulk ${i}`)
        assert.strictEqual(message.queueId, results[i]!.messageQueue.queueId)
      })
    }), 180_000)

  it.live("a batch comes back with every msgId, in order, in one queue", () =>
    Effect.gen(function*() {
      const { instance, producer: p } = yield* producer()
      const topic = `ProducerItBatch_${runId()}`
      yield* instance.provide(createTopic(real!.brokerAddr, topic))
      const batch = yield* p.sendBatch(Array.from({ length: 50 }, (_, i) => Message.make(topic, `batch ${i}`, { keys: `b${i}` })))
      assert.strictEqual(batch.requests.length, 1)
      const queueId = batch.requests[0]!.messageQueue.queueId
      const pulled = yield* pullQueue(instance, topic, queueId, 50)
      expect(pulled.map((m) => m.msgId)).toEqual(batch.msgIds)
      expect(pulled.map((m) => new TextDecoder().decode(m.body))).toEqual(Array.from({ length: 50 }, (_, i) => `batch ${i}`))
    }))

  it.live("an ordered key stays in one queue, in send order", () =>
    Effect.gen(function*() {
      const { instance, producer: p } = yield* producer()
      const topic = `ProducerItOrder_${runId()}`
      yield* instance.provide(createTopic(real!.brokerAddr, topic))
      const results = yield* Effect.forEach(Array.from({ length: 30 }, (_, i) => i), (i) =>
        p.send(Message.make(topic, `step ${i}`), { shardingKey: "order-1" }))
      assert.deepStrictEqual(new Set(results.map((r) => r.messageQueue.queueId)), new Set([2]))
      const pulled = yield* pullQueue(instance, topic, 2, 30)
      expect(pulled.map((m) => new TextDecoder().decode(m.body))).toEqual(Array.from({ length: 30 }, (_, i) => `step ${i}`))
    }))

  it.live("a delayed message (level 2, 5 s) arrives no earlier than its delay", () =>
    Effect.gen(function*() {
      const { instance, producer: p } = yield* producer()
      const topic = `ProducerItDelay_${runId()}`
      yield* instance.provide(createTopic(real!.brokerAddr, topic))
      const sentAt = Date.now()
      const sent = yield* p.send(Message.make(topic, "later", { delayLevel: 2 }), { queue: { topic, brokerName: "broker-a", queueId: 0 } })
      assert.strictEqual(sent.status, "SEND_OK")
      assert.strictEqual((yield* pullOnce(instance, topic, 0)).length, 0, "not visible right after the send")
      const [message] = yield* pullQueue(instance, topic, 0, 1, 30)
      assert.isDefined(message)
      assert.isAtLeast(Date.now() - sentAt, 5000)
      assert.isAtLeast(message!.storeTimestamp - message!.bornTimestamp, 5000)
      assert.strictEqual(new TextDecoder().decode(message!.body), "later")
    }))

  it.live("transactions: a commit is visible, a rollback never is, and UNKNOWN is resolved by the broker's check-back", () =>
    Effect.gen(function*() {
      const checked = yield* Deferred.make<Producer.TransactionCheck>()
      const { instance, producer: p } = yield* producer({
        checkTransaction: (check) => Effect.as(Deferred.succeed(checked, check), "COMMIT" as const)
      })
      const topic = `ProducerItTx_${runId()}`
      yield* instance.provide(createTopic(real!.brokerAddr, topic))
      const sendTx = (body: string, resolution: Producer.TransactionResolution) =>
        p.sendInTransaction(Message.make(topic, body, { keys: body }), () => Effect.succeed(resolution))
      const committed = yield* sendTx("committed", "COMMIT")
      const rolledBack = yield* sendTx("rolled-back", "ROLLBACK")
      const unknown = yield* sendTx("unknown", "UNKNOWN")
      expect([committed.resolution, rolledBack.resolution, unknown.resolution]).toEqual(["COMMIT", "ROLLBACK", "UNKNOWN"])
      // The broker checks half messages older than 6 s every 30 s (its defaults): up to about a minute.
      const check = yield* Deferred.await(checked).pipe(Effect.timeout("100 seconds"))
      assert.strictEqual(check.transactionId, unknown.msgId)
      const visible = Effect.map(
        Effect.forEach(queues, (q) => pullOnce(instance, topic, q)),
        (lists) => lists.flat().map((m) => new TextDecoder().decode(m.body)).sort()
      )
      expect(yield* poll(30, visible, (bodies) => bodies.length >= 2)).toEqual(["committed", "unknown"])
    }), 240_000)
})
