/**
 * `Producer.sendAll`: each message sent as `send` sends it (queue choice, retries, validation,
 * metrics), with the first attempts going out together per broker. Two scripted brokers in front of
 * the embedded cluster; time is TestClock's.
 */
import { ResponseCode } from "@effect-rocketmq/remoting"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Metric, Result, Scope } from "effect"
import * as ClientInstance from "../src/ClientInstance.ts"
import * as Message from "../src/Message.ts"
import * as Producer from "../src/Producer.ts"
import { advance, after, answer, BROKER_A, BROKER_B, eventually, sendsTo, stored, twoBrokers } from "./support/cluster.ts"
import { instanceOn, producerOn } from "./support/producer.ts"

const TOPIC = "Orders"

const messages = (count: number, topic = TOPIC) => Array.from({ length: count }, (_, i) => Message.make(topic, `m${i}`, { keys: `k${i}` }))

const counter = (metric: Metric.Metric<number, unknown>, topic = TOPIC) =>
  Effect.map(Metric.value(Metric.withAttributes(metric, { topic })), (state) => (state as { readonly count: number }).count)

const isolated = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provideService(effect, Metric.MetricRegistry, new Map())

const sent = (outcomes: ReadonlyArray<Result.Result<Producer.SendResult, Producer.SendError>>) =>
  outcomes.map((outcome) => {
    assert(Result.isSuccess(outcome), Result.isFailure(outcome) ? outcome.failure.message : "")
    return outcome.success
  })

describe("Producer.sendAll", () => {
  it.effect("stores every message once, round-robin over both brokers' queues, each result in order with its own id", () =>
    isolated(Effect.gen(function*() {
      const { fixture, recorder, a, b } = yield* twoBrokers(TOPIC)
      const { producer } = yield* producerOn(fixture)
      const results = sent(yield* producer.sendAll(messages(16)))
      assert.strictEqual(stored(a.embedded, TOPIC) + stored(b.embedded, TOPIC), 16)
      assert.strictEqual(sendsTo(recorder, BROKER_A).length, 8)
      assert.strictEqual(sendsTo(recorder, BROKER_B).length, 8)
      assert.strictEqual(new Set(results.map((r) => r.msgId)).size, 16)
      // Round-robin: consecutive messages take consecutive queues of the route (4 on each broker).
      const slots = results.map((r) => (r.messageQueue.brokerName === "broker-a" ? 0 : 4) + r.messageQueue.queueId)
      for (let i = 1; i < slots.length; i++) assert.strictEqual(slots[i], (slots[i - 1]! + 1) % 8)
      // Each result names the message it belongs to: its key is on the request that carried its id.
      const requests = [...sendsTo(recorder, BROKER_A), ...sendsTo(recorder, BROKER_B)]
      results.forEach((result, i) => {
        const request = requests.find((r) => r.extFields.i!.includes(result.msgId))!
        assert.include(request.extFields.i, `k${i}`)
      })
      assert.strictEqual(yield* counter(Producer.messagesSentTotal), 16)
    })))

  it.effect("sends messages of several topics in one call, each to its own topic", () =>
    Effect.gen(function*() {
      const { fixture, routes, both, a, b } = yield* twoBrokers(TOPIC)
      routes.set("Payments", both)
      const { producer } = yield* producerOn(fixture)
      const results = sent(yield* producer.sendAll([...messages(4), ...messages(6, "Payments")]))
      assert.deepStrictEqual(results.map((r) => r.topic), [...Array(4).fill(TOPIC), ...Array(6).fill("Payments")])
      assert.strictEqual(stored(a.embedded, "Payments") + stored(b.embedded, "Payments"), 6)
    }))

  it.effect("a first attempt answered SYSTEM_BUSY is retried on the other broker, and the message is stored once", () =>
    isolated(Effect.gen(function*() {
      const { fixture, recorder, a, b } = yield* twoBrokers(TOPIC)
      a.behavior = answer(ResponseCode.SYSTEM_BUSY, "[PC_SYNCHRONIZED]broker busy")
      const { producer } = yield* producerOn(fixture)
      const results = sent(yield* producer.sendAll(messages(8)))
      for (const result of results) assert.strictEqual(result.messageQueue.brokerName, "broker-b")
      assert.strictEqual(stored(b.embedded, TOPIC), 8)
      assert.strictEqual(stored(a.embedded, TOPIC), 0)
      const busy = sendsTo(recorder, BROKER_A).length
      assert.strictEqual(busy, 4)
      assert.strictEqual(yield* counter(Producer.sendRetriesTotal), busy)
      for (const request of sendsTo(recorder, BROKER_B)) assert.strictEqual(request.extFields.n, "broker-b")
    })))

  it.effect("a refused connect sends the messages bound for that broker to the other one", () =>
    Effect.gen(function*() {
      const { fixture, a, b } = yield* twoBrokers(TOPIC)
      yield* a.stop
      const { producer } = yield* producerOn(fixture)
      const results = sent(yield* producer.sendAll(messages(6)))
      for (const result of results) assert.strictEqual(result.messageQueue.brokerName, "broker-b")
      assert.strictEqual(stored(b.embedded, TOPIC), 6)
    }))

  it.effect("an error Java does not retry (MESSAGE_ILLEGAL) fails those messages alone; the others are stored", () =>
    isolated(Effect.gen(function*() {
      const { fixture, recorder, a, b } = yield* twoBrokers(TOPIC)
      a.behavior = answer(ResponseCode.MESSAGE_ILLEGAL, "the message is illegal")
      const { producer } = yield* producerOn(fixture)
      const outcomes = yield* producer.sendAll(messages(8))
      const failed = outcomes.filter(Result.isFailure).map((o) => o.failure)
      assert.strictEqual(failed.length, 4)
      for (const error of failed) assert.strictEqual(error._tag, "RemoteError")
      assert.strictEqual(sendsTo(recorder, BROKER_A).length, 4, "no retry")
      assert.strictEqual(stored(b.embedded, TOPIC), 4)
      assert.strictEqual(yield* counter(Producer.sendFailuresTotal), 4)
      assert.strictEqual(yield* counter(Producer.messagesSentTotal), 4)
    })))

  it.effect("gives up after 1 + retryTimesWhenSendFailed attempts per message, the bulk first attempt counted", () =>
    Effect.gen(function*() {
      const { fixture, recorder, a, b } = yield* twoBrokers(TOPIC)
      a.behavior = answer(ResponseCode.SYSTEM_BUSY)
      b.behavior = answer(ResponseCode.SYSTEM_BUSY)
      const { producer } = yield* producerOn(fixture)
      const outcomes = yield* producer.sendAll(messages(4))
      for (const outcome of outcomes) {
        assert(Result.isFailure(outcome))
        const error = outcome.failure
        assert(error._tag === "SendFailed")
        assert.strictEqual(error.attempts, 3)
        assert.notStrictEqual(error.brokers[0], error.brokers[1])
        assert.notStrictEqual(error.brokers[1], error.brokers[2])
        assert.isTrue(error.mayHaveReachedPeer)
      }
      assert.strictEqual(sendsTo(recorder, BROKER_A).length + sendsTo(recorder, BROKER_B).length, 12)
    }))

  it.effect("one deadline from the call: after a slow first attempt, a retry gets only what is left", () =>
    Effect.gen(function*() {
      const { fixture, recorder, a, b } = yield* twoBrokers(TOPIC)
      a.behavior = after("2 seconds", answer(ResponseCode.SYSTEM_BUSY))
      b.behavior = after("2 seconds", answer(ResponseCode.SYSTEM_BUSY))
      const { producer } = yield* producerOn(fixture)
      const fiber = yield* Effect.forkChild(producer.sendAll(messages(2)))
      yield* advance("2 seconds")
      yield* advance("1 second")
      yield* advance("5 seconds")
      for (const outcome of yield* Fiber.join(fiber)) {
        assert(Result.isFailure(outcome))
        const error = outcome.failure
        assert(error._tag === "SendFailed")
        assert.strictEqual(error.attempts, 2)
        assert.isTrue(error.timedOut)
      }
      assert.strictEqual(sendsTo(recorder, BROKER_A).length + sendsTo(recorder, BROKER_B).length, 4)
    }))

  it.effect("an invalid message fails alone with InvalidMessage, before any I/O; the others are stored", () =>
    Effect.gen(function*() {
      const { fixture, recorder, a, b } = yield* twoBrokers(TOPIC)
      const { producer } = yield* producerOn(fixture)
      const outcomes = yield* producer.sendAll([Message.make(TOPIC, "x"), Message.make(TOPIC, ""), Message.make(TOPIC, "y")])
      assert(Result.isFailure(outcomes[1]!))
      assert.strictEqual(outcomes[1].failure._tag, "InvalidMessage")
      sent([outcomes[0]!, outcomes[2]!])
      assert.strictEqual(sendsTo(recorder, BROKER_A).length + sendsTo(recorder, BROKER_B).length, 2)
      assert.strictEqual(stored(a.embedded, TOPIC) + stored(b.embedded, TOPIC), 2)
      assert.deepStrictEqual(yield* producer.sendAll([]), [])
    }))

  it.effect("interrupting it leaves no request pending and no permit held", () =>
    Effect.gen(function*() {
      const { fixture, a, b } = yield* twoBrokers(TOPIC)
      a.behavior = () => Effect.never
      b.behavior = () => Effect.never
      const { producer, instance } = yield* producerOn(fixture)
      const fiber = yield* Effect.forkChild(producer.sendAll(messages(6)))
      const pending = () => instance.remotingClient.diagnostics().channels.reduce((n, c) => n + c.pending, 0)
      assert.isTrue(yield* eventually(Effect.sync(() => pending() === 6)))
      yield* Fiber.interrupt(fiber)
      assert.strictEqual(pending(), 0)
      const { invokePermits } = instance.remotingClient.diagnostics()
      assert.strictEqual(invokePermits.free, invokePermits.total)
    }))

  it.effect("a closed producer refuses the whole call with ProducerClosed", () =>
    Effect.gen(function*() {
      const { fixture, recorder } = yield* twoBrokers(TOPIC)
      const instance = yield* instanceOn(fixture)
      const scope = yield* Scope.make()
      const producer = yield* Producer.make({ group: "PG" }).pipe(
        Effect.provideService(ClientInstance.ClientInstance, instance),
        Scope.provide(scope)
      )
      yield* Scope.close(scope, Exit.void)
      const refused = yield* Effect.flip(producer.sendAll(messages(3)))
      assert.strictEqual(refused._tag, "ProducerClosed")
      assert.strictEqual(sendsTo(recorder, BROKER_A).length + sendsTo(recorder, BROKER_B).length, 0)
    }))
})
