/**
 * The Producer's batches, transactions and delayed messages, on the embedded broker (delays and
 * transaction check-back run on its Clock, driven by TestClock).
 */
import { RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { assert, describe, expect, it } from "@effect/vitest"
import { Deferred, Effect } from "effect"
import * as Admin from "../src/Admin.ts"
import * as Message from "../src/Message.ts"
import * as Properties from "../src/Properties.ts"
import type * as Producer from "../src/Producer.ts"
import { advance, answer, BROKER_A, embedded, eventually, sendsTo, storeFirst, twoBrokers } from "./support/cluster.ts"
import { producerOn } from "./support/producer.ts"

const TOPIC = "Orders"

const bodies = (count: number, size: number) =>
  Array.from({ length: count }, (_, i) => Message.make(TOPIC, new Uint8Array(size).fill(i + 1), { keys: `k${i}`, properties: { i: String(i) } }))

describe("Producer batches", () => {
  it.effect("sends a batch in one request and returns every msgId, stored in order in one queue", () =>
    Effect.gen(function*() {
      const { fixture, recorder, broker } = yield* embedded()
      const { producer, instance } = yield* producerOn(fixture)
      yield* instance.provide(Admin.createTopic(BROKER_A, TOPIC, { queueNums: 4 }))
      const result = yield* producer.sendBatch(bodies(10, 100))
      assert.strictEqual(result.requests.length, 1)
      assert.strictEqual(recorder.of(RequestCode.SEND_BATCH_MESSAGE).length, 1)
      const queueId = result.requests[0]!.messageQueue.queueId
      const stored = broker.messages(TOPIC, queueId)
      expect(stored.map((m) => m.msgId)).toEqual(result.msgIds)
      expect(stored.map((m) => Properties.get(m.properties, "i"))).toEqual(Array.from({ length: 10 }, (_, i) => String(i)))
    }))

  it.effect("splits a batch over maxMessageSize into requests that each fit, in order, none compressed", () =>
    Effect.gen(function*() {
      const { fixture, recorder, broker } = yield* embedded()
      const { producer, instance } = yield* producerOn(fixture, { maxMessageSize: 5000 })
      yield* instance.provide(Admin.createTopic(BROKER_A, TOPIC, { queueNums: 1 }))
      const result = yield* producer.sendBatch(bodies(10, 1500))
      const requests = recorder.of(RequestCode.SEND_BATCH_MESSAGE)
      assert.strictEqual(requests.length, 4, "3 + 3 + 3 + 1 messages of ~1.6 KB under 5000 bytes")
      for (const request of requests) {
        assert.isAtMost(request.body!.length, 5000)
        assert.strictEqual(request.extFields.f, "0")
      }
      expect(result.requests.map((r) => r.msgIds.length)).toEqual([3, 3, 3, 1])
      expect(broker.messages(TOPIC, 0).map((m) => m.msgId)).toEqual(result.msgIds)
    }))

  it.effect("reports which ids were stored when a later request of a split batch fails", () =>
    Effect.gen(function*() {
      const { fixture, a, b } = yield* twoBrokers(TOPIC)
      a.behavior = storeFirst(1, answer(ResponseCode.MESSAGE_ILLEGAL))
      b.behavior = storeFirst(1, answer(ResponseCode.MESSAGE_ILLEGAL))
      const { producer } = yield* producerOn(fixture, { maxMessageSize: 5000 })
      const error = yield* Effect.flip(producer.sendBatch(bodies(9, 1500)))
      assert.strictEqual(error._tag, "BatchPartlySent")
      if (error._tag !== "BatchPartlySent") return
      // The first request (3 messages) went to one broker, the second to the other (round-robin).
      assert.strictEqual(error.sent.length + error.notSent.length, 9)
      assert.includeMembers([3, 6], [error.sent.length])
      assert.isTrue(error.mayHaveReachedPeer)
    }))

  it.effect("refuses a batch Java refuses before any I/O", () =>
    Effect.gen(function*() {
      const { fixture, recorder } = yield* embedded()
      const { producer } = yield* producerOn(fixture)
      const error = yield* Effect.flip(producer.sendBatch([Message.make(TOPIC, "a"), Message.make("Other", "b")]))
      assert.strictEqual(error._tag, "InvalidMessage")
      assert.strictEqual(recorder.received.length, 0)
    }))
})

describe("Producer transactions", () => {
  const settings = { transactionTimeout: "1 second", transactionCheckInterval: "5 seconds" } as const
  const stored = (broker: { readonly queueSize: (t: string, q: number) => number }) =>
    [0, 1, 2, 3].reduce((n, q) => n + broker.queueSize(TOPIC, q), 0)

  const transactional = (resolution: Producer.TransactionResolution, checker?: Producer.ProducerOptions["checkTransaction"]) =>
    Effect.gen(function*() {
      const cluster = yield* embedded(settings)
      const { producer, instance } = yield* producerOn(cluster.fixture, { checkTransaction: checker })
      yield* instance.provide(Admin.createTopic(BROKER_A, TOPIC, { queueNums: 4 }))
      const result = yield* producer.sendInTransaction(Message.make(TOPIC, "order 1"), () => Effect.succeed(resolution))
      return { ...cluster, result, producer }
    })

  it.effect("makes a committed message visible and leaves no half message", () =>
    Effect.gen(function*() {
      const { broker, result, recorder } = yield* transactional("COMMIT")
      assert.strictEqual(result.resolution, "COMMIT")
      assert.isTrue(yield* eventually(Effect.sync(() => stored(broker) === 1)))
      assert.strictEqual(broker.halfMessages().length, 0)
      const [half] = sendsTo(recorder, BROKER_A)
      const properties = Properties.decode(half!.extFields.i ?? "")
      expect([properties.TRAN_MSG, properties.PGROUP, Number(half!.extFields.f) & 0x4]).toEqual(["true", "PG", 4])
      const [end] = recorder.of(RequestCode.END_TRANSACTION)
      expect(end!.extFields).toMatchObject({ producerGroup: "PG", commitOrRollback: "8", fromTransactionCheck: "false", msgId: result.msgId })
    }))

  it.effect("never delivers a rolled-back message", () =>
    Effect.gen(function*() {
      const { broker } = yield* transactional("ROLLBACK")
      assert.isTrue(yield* eventually(Effect.sync(() => broker.halfMessages().length === 0)))
      yield* advance("60 seconds")
      assert.strictEqual(stored(broker), 0)
    }))

  it.effect("resolves an UNKNOWN transaction through the broker's check-back to the producer's checker", () =>
    Effect.gen(function*() {
      const checked = yield* Deferred.make<Producer.TransactionCheck>()
      const { broker, result, recorder } = yield* transactional("UNKNOWN", (check) =>
        Effect.as(Deferred.succeed(checked, check), "COMMIT" as const))
      assert.strictEqual(result.resolution, "UNKNOWN")
      yield* advance("1 second")
      assert.strictEqual(stored(broker), 0, "invisible until resolved")
      yield* advance("5 seconds")
      const check = yield* Deferred.await(checked)
      assert.strictEqual(check.transactionId, result.msgId)
      assert.strictEqual(check.message.topic, TOPIC)
      assert.isTrue(yield* eventually(Effect.sync(() => stored(broker) === 1)))
      const ends = recorder.of(RequestCode.END_TRANSACTION)
      expect(ends.map((e) => [e.extFields.commitOrRollback, e.extFields.fromTransactionCheck])).toEqual([["0", "false"], ["8", "true"]])
    }))

  it.effect("ends a failing local transaction UNKNOWN, with the failure in the remark and the result", () =>
    Effect.gen(function*() {
      const { fixture, recorder } = yield* embedded(settings)
      const { producer } = yield* producerOn(fixture)
      const result = yield* producer.sendInTransaction(Message.make(TOPIC, "x"), () => Effect.fail(new Error("db down")))
      assert.strictEqual(result.resolution, "UNKNOWN")
      assert.include(result.localTransactionError, "db down")
      const [end] = recorder.of(RequestCode.END_TRANSACTION)
      assert.include(end!.remark, "executeLocalTransactionBranch exception: db down")
    }))

  it.effect("refuses a delay level on a transactional message", () =>
    Effect.gen(function*() {
      const { fixture } = yield* embedded()
      const { producer } = yield* producerOn(fixture)
      const error = yield* Effect.flip(producer.sendInTransaction(Message.make(TOPIC, "x", { delayLevel: 3 }), () => Effect.succeed("COMMIT" as const)))
      assert.strictEqual(error._tag, "InvalidMessage")
    }))
})

describe("Producer delayed messages", () => {
  it.effect("delivers a delay-level message exactly at its due time (level 2: 5 s)", () =>
    Effect.gen(function*() {
      const { fixture, broker } = yield* embedded()
      const { producer, instance } = yield* producerOn(fixture)
      yield* instance.provide(Admin.createTopic(BROKER_A, TOPIC, { queueNums: 1 }))
      yield* advance("10 seconds")
      yield* producer.send(Message.make(TOPIC, "later", { delayLevel: 2 }))
      assert.strictEqual(broker.queueSize(TOPIC, 0), 0)
      yield* advance("4999 millis")
      assert.strictEqual(broker.queueSize(TOPIC, 0), 0, "not before 5 s")
      yield* advance("1 millis")
      assert.isTrue(yield* eventually(Effect.sync(() => broker.queueSize(TOPIC, 0) === 1)))
    }))

  it.effect("delivers a 5.x timer message no earlier than deliverAfter, at the broker's next whole second", () =>
    Effect.gen(function*() {
      const { fixture, broker } = yield* embedded()
      const { producer, instance } = yield* producerOn(fixture)
      yield* instance.provide(Admin.createTopic(BROKER_A, TOPIC, { queueNums: 1 }))
      yield* producer.send(Message.make(TOPIC, "later", { deliverAfter: "3500 millis" }))
      const [scheduled] = broker.scheduled()
      // The broker's timer wheel delivers the slot after TIMER_OUT_MS: the time rounded up to a whole second.
      assert.strictEqual(scheduled!.dueAt, 4000)
      assert.strictEqual(Properties.get(scheduled!.message.properties, "TIMER_OUT_MS"), "3000")
      yield* advance("3999 millis")
      assert.strictEqual(broker.queueSize(TOPIC, 0), 0)
      yield* advance("1 millis")
      assert.isTrue(yield* eventually(Effect.sync(() => broker.queueSize(TOPIC, 0) === 1)))
    }))
})
