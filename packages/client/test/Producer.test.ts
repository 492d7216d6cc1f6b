import { RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Metric, Scope } from "effect"
import * as Admin from "../src/Admin.ts"
import * as Broker from "../src/Broker.ts"
import * as ClientInstance from "../src/ClientInstance.ts"
import * as Message from "../src/Message.ts"
import * as Producer from "../src/Producer.ts"
import * as Properties from "../src/Properties.ts"
import * as StoredMessage from "../src/StoredMessage.ts"
import {
  advance,
  after,
  answer,
  BROKER_A,
  BROKER_B,
  embedded,
  eventually,
  routeOf,
  sendsTo,
  stored,
  twoBrokers
} from "./support/cluster.ts"
import { instanceOn, producerOn } from "./support/producer.ts"

const TOPIC = "Orders"

const propertiesOf = (request: { readonly extFields: { readonly [k: string]: string } }) =>
  Properties.decode(request.extFields.i ?? "")

const counter = (metric: Metric.Metric<number, unknown>, topic = TOPIC) =>
  Effect.map(Metric.value(Metric.withAttributes(metric, { topic })), (state) => (state as { readonly count: number }).count)

const isolated = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provideService(effect, Metric.MetricRegistry, new Map())

describe("Producer", () => {
  describe("queue selection", () => {
    it.effect("sends round-robin over the topic's queues and says where each message went", () =>
      Effect.gen(function*() {
        const { fixture, broker } = yield* embedded()
        const { producer, instance } = yield* producerOn(fixture)
        yield* instance.provide(Admin.createTopic(BROKER_A, TOPIC, { queueNums: 4 }))
        const results = yield* Effect.forEach(Array.from({ length: 8 }, (_, i) => i), (i) =>
          producer.send(Message.make(TOPIC, `m${i}`, { tags: "t", keys: `k${i}` })))
        const queues = results.map((r) => r.messageQueue.queueId)
        for (let i = 1; i < queues.length; i++) assert.strictEqual(queues[i], (queues[i - 1]! + 1) % 4)
        for (const result of results) {
          assert.strictEqual(result.status, "SEND_OK")
          assert.strictEqual(result.messageQueue.brokerName, "broker-a")
          assert.strictEqual(result.msgId.length, 32)
        }
        assert.deepStrictEqual([0, 1, 2, 3].map((q) => broker.queueSize(TOPIC, q)), [2, 2, 2, 2])
      }))

    it.effect("keeps a sharding key on one queue (Java's hash selector: order-1 is queue 2 of 4)", () =>
      Effect.gen(function*() {
        const { fixture, broker } = yield* embedded()
        const { producer, instance } = yield* producerOn(fixture)
        yield* instance.provide(Admin.createTopic(BROKER_A, TOPIC, { queueNums: 4 }))
        const results = yield* Effect.forEach(Array.from({ length: 6 }), () =>
          producer.send(Message.make(TOPIC, "x"), { shardingKey: "order-1" }))
        assert.deepStrictEqual(new Set(results.map((r) => r.messageQueue.queueId)), new Set([2]))
        const other = yield* producer.send(Message.make(TOPIC, "x"), { shardingKey: "order-2" })
        assert.strictEqual(other.messageQueue.queueId, 1)
        assert.strictEqual(broker.queueSize(TOPIC, 2), 6)
      }))

    it.effect("sends to the queue a selector picks, or to the queue given", () =>
      Effect.gen(function*() {
        const { fixture } = yield* embedded()
        const { producer, instance } = yield* producerOn(fixture)
        yield* instance.provide(Admin.createTopic(BROKER_A, TOPIC, { queueNums: 4 }))
        const picked = yield* producer.send(Message.make(TOPIC, "x"), { selector: (queues) => queues[3]! })
        assert.strictEqual(picked.messageQueue.queueId, 3)
        const given = yield* producer.send(Message.make(TOPIC, "x"), { queue: { topic: TOPIC, brokerName: "broker-a", queueId: 1 } })
        assert.strictEqual(given.messageQueue.queueId, 1)
        const wrong = yield* Effect.flip(producer.send(Message.make(TOPIC, "x"), { queue: { topic: "Other", brokerName: "broker-a", queueId: 1 } }))
        assert.strictEqual(wrong._tag, "InvalidMessage")
      }))
  })

  describe("retries", () => {
    it.effect("retries on the other broker after a refused connect", () =>
      isolated(Effect.gen(function*() {
        const { fixture, recorder, a, b } = yield* twoBrokers(TOPIC)
        yield* a.stop
        const { producer } = yield* producerOn(fixture)
        const results = yield* Effect.forEach(Array.from({ length: 6 }), () => producer.send(Message.make(TOPIC, "x")))
        for (const result of results) assert.strictEqual(result.messageQueue.brokerName, "broker-b")
        assert.strictEqual(sendsTo(recorder, BROKER_B).length, 6)
        assert.strictEqual(stored(b.embedded, TOPIC), 6)
        assert.isAtLeast(yield* counter(Producer.sendRetriesTotal), 1)
      })))

    it.effect("retries on the other broker after SYSTEM_BUSY, and the message is stored once", () =>
      Effect.gen(function*() {
        const { fixture, recorder, a } = yield* twoBrokers(TOPIC)
        a.behavior = answer(ResponseCode.SYSTEM_BUSY, "[PC_SYNCHRONIZED]broker busy")
        const { producer } = yield* producerOn(fixture)
        const results = yield* Effect.forEach(Array.from({ length: 6 }), () => producer.send(Message.make(TOPIC, "x")))
        for (const result of results) assert.strictEqual(result.messageQueue.brokerName, "broker-b")
        assert.isAtLeast(sendsTo(recorder, BROKER_A).length, 1)
        assert.strictEqual(sendsTo(recorder, BROKER_B).length, 6)
        // The retry carries the queue and broker name of its own attempt.
        const retried = sendsTo(recorder, BROKER_B)
        for (const request of retried) assert.strictEqual(request.extFields.n, "broker-b")
      }))

    it.effect("does not retry an error Java does not retry (MESSAGE_ILLEGAL) and fails with it", () =>
      isolated(Effect.gen(function*() {
        const { fixture, recorder, a, b } = yield* twoBrokers(TOPIC)
        a.behavior = answer(ResponseCode.MESSAGE_ILLEGAL, "the message is illegal")
        b.behavior = answer(ResponseCode.MESSAGE_ILLEGAL, "the message is illegal")
        const { producer } = yield* producerOn(fixture)
        const error = yield* Effect.flip(producer.send(Message.make(TOPIC, "x")))
        assert.strictEqual(error._tag, "RemoteError")
        assert.strictEqual(sendsTo(recorder, BROKER_A).length + sendsTo(recorder, BROKER_B).length, 1)
        assert.strictEqual(yield* counter(Producer.sendFailuresTotal), 1)
      })))

    it.effect("gives up after 1 + retryTimesWhenSendFailed attempts, alternating brokers, with SendFailed", () =>
      Effect.gen(function*() {
        const { fixture, a, b } = yield* twoBrokers(TOPIC)
        a.behavior = answer(ResponseCode.SYSTEM_BUSY)
        b.behavior = answer(ResponseCode.SYSTEM_BUSY)
        const { producer } = yield* producerOn(fixture)
        const error = yield* Effect.flip(producer.send(Message.make(TOPIC, "x")))
        assert.strictEqual(error._tag, "SendFailed")
        if (error._tag !== "SendFailed") return
        assert.strictEqual(error.attempts, 3)
        assert.notStrictEqual(error.brokers[0], error.brokers[1])
        assert.notStrictEqual(error.brokers[1], error.brokers[2])
        assert.isFalse(error.timedOut)
        assert.isTrue(error.mayHaveReachedPeer)
        assert.strictEqual((error.cause as { readonly _tag: string })._tag, "RemoteError")
        assert.include(error.message, "3 attempt(s)")
      }))

    it.effect("starts no attempt once the send timeout has run out", () =>
      Effect.gen(function*() {
        const { fixture, recorder, a, b } = yield* twoBrokers(TOPIC)
        a.behavior = after("2 seconds", answer(ResponseCode.SYSTEM_BUSY))
        b.behavior = after("2 seconds", answer(ResponseCode.SYSTEM_BUSY))
        const { producer } = yield* producerOn(fixture)
        const fiber = yield* Effect.forkChild(Effect.flip(producer.send(Message.make(TOPIC, "x"))))
        // First attempt answers at 2 s; the second times out at 3 s; no third one starts.
        yield* advance("2 seconds")
        yield* advance("1 second")
        yield* advance("5 seconds")
        const error = yield* Fiber.join(fiber)
        assert.strictEqual(error._tag, "SendFailed")
        if (error._tag !== "SendFailed") return
        assert.strictEqual(error.attempts, 2)
        assert.isTrue(error.timedOut)
        assert.strictEqual((error.cause as { readonly _tag: string })._tag, "RequestTimeout")
        assert.strictEqual(sendsTo(recorder, BROKER_A).length + sendsTo(recorder, BROKER_B).length, 2)
      }))

    it.effect("refreshes the route after a failure, and once broker-a has left it sends only to broker-b", () =>
      Effect.gen(function*() {
        const { fixture, recorder, routes, a } = yield* twoBrokers(TOPIC)
        const { producer, instance } = yield* producerOn(fixture)
        yield* producer.send(Message.make(TOPIC, "warm-up"))
        yield* a.stop
        routes.set(TOPIC, routeOf([{ name: "broker-b", addrs: { "0": BROKER_B } }]))
        const results = yield* Effect.forEach(Array.from({ length: 4 }), () => producer.send(Message.make(TOPIC, "x")))
        for (const result of results) assert.strictEqual(result.messageQueue.brokerName, "broker-b")
        assert.isTrue(yield* eventually(Effect.map(instance.route(TOPIC), (r) => r.publishQueues.every((q) => q.brokerName === "broker-b"))))
        const before = recorder.received.filter((r) => r.address === BROKER_A).length
        yield* Effect.forEach(Array.from({ length: 8 }), () => producer.send(Message.make(TOPIC, "y")))
        assert.strictEqual(recorder.received.filter((r) => r.address === BROKER_A).length, before)
      }))

    it.effect("with latency fault tolerance, avoids a failed broker for 10 s, then uses it again", () =>
      Effect.gen(function*() {
        const { fixture, recorder, a } = yield* twoBrokers(TOPIC)
        a.behavior = answer(ResponseCode.SYSTEM_BUSY)
        const { producer } = yield* producerOn(fixture, { sendLatencyFaultEnable: true })
        // Send until one attempt has hit broker-a (the counter starts at random).
        for (let i = 0; i < 8 && sendsTo(recorder, BROKER_A).length === 0; i++) yield* producer.send(Message.make(TOPIC, "x"))
        assert.strictEqual(sendsTo(recorder, BROKER_A).length, 1)
        yield* Effect.forEach(Array.from({ length: 8 }), () => producer.send(Message.make(TOPIC, "x")))
        assert.strictEqual(sendsTo(recorder, BROKER_A).length, 1, "broker-a is avoided while isolated")
        a.behavior = undefined
        yield* advance("11 seconds")
        yield* Effect.forEach(Array.from({ length: 8 }), () => producer.send(Message.make(TOPIC, "x")))
        assert.isAtLeast(sendsTo(recorder, BROKER_A).length, 2)
      }))
  })

  describe("oneway", () => {
    it.effect("sends oneway: stored once, no answer awaited; a refused broker fails it after one attempt", () =>
      Effect.gen(function*() {
        const { fixture, recorder, a, b } = yield* twoBrokers(TOPIC)
        const { producer } = yield* producerOn(fixture)
        yield* producer.sendOneway(Message.make(TOPIC, "x"), { queue: { topic: TOPIC, brokerName: "broker-b", queueId: 2 } })
        assert.isTrue(yield* eventually(Effect.sync(() => b.embedded.queueSize(TOPIC, 2) === 1)))
        const [oneway] = sendsTo(recorder, BROKER_B)
        assert.isTrue(RemotingCommand.isOneway(oneway!))
        // Both brokers down (and never connected to from this client): one attempt, no retry.
        const down = yield* twoBrokers(TOPIC)
        yield* down.a.stop
        yield* down.b.stop
        const other = yield* producerOn(down.fixture)
        const error = yield* Effect.flip(other.producer.sendOneway(Message.make(TOPIC, "y")))
        assert.strictEqual(error._tag, "SendFailed")
        if (error._tag === "SendFailed") assert.deepStrictEqual([error.attempts, error.mayHaveReachedPeer], [1, false])
        assert.strictEqual(a.embedded.queueSize(TOPIC, 0), 0)
      }))
  })

  describe("validation", () => {
    const invalid = (message: Message.Message) =>
      Effect.gen(function*() {
        const { fixture, recorder } = yield* embedded()
        const { producer } = yield* producerOn(fixture)
        const error = yield* Effect.flip(producer.send(message))
        assert.strictEqual(recorder.received.length, 0, "nothing touched the network")
        assert.strictEqual(error._tag, "InvalidMessage")
        return error as Extract<typeof error, { readonly _tag: "InvalidMessage" }>
      })

    it.effect("refuses a 10 MiB body locally, before any I/O, and says what to change", () =>
      Effect.gen(function*() {
        const error = yield* invalid(Message.make(TOPIC, new Uint8Array(10 * 1024 * 1024)))
        assert.strictEqual(error.reason, "BodyTooLarge")
        assert.include(error.message, "10485760 bytes")
        assert.include(error.message, "maxMessageSize")
        assert.isFalse(error.isRetryable)
        assert.isFalse(error.mayHaveReachedPeer)
      }))

    it.effect("refuses blank, illegal, too long and reserved topics, and empty bodies", () =>
      Effect.gen(function*() {
        assert.strictEqual((yield* invalid(Message.make(" ", "x"))).reason, "Topic")
        assert.include((yield* invalid(Message.make("a/b", "x"))).message, "letters, digits")
        assert.include((yield* invalid(Message.make("t".repeat(128), "x"))).message, "128 characters")
        assert.strictEqual((yield* invalid(Message.make("SCHEDULE_TOPIC_XXXX", "x"))).reason, "TopicForbidden")
        assert.strictEqual((yield* invalid(Message.make(TOPIC, ""))).reason, "Body")
      }))

    it.effect("refuses a delay level together with a delivery time, and bad properties", () =>
      Effect.gen(function*() {
        assert.strictEqual((yield* invalid(Message.make(TOPIC, "x", { delayLevel: 3, deliverAfter: "5 seconds" }))).reason, "Delay")
        assert.strictEqual((yield* invalid(Message.make(TOPIC, "x", { properties: { TAGS: "system" } }))).reason, "Properties")
        assert.strictEqual((yield* invalid(Message.make(TOPIC, "x", { properties: { k: "" } }))).reason, "Properties")
      }))

    it.effect("refuses the DEFAULT_PRODUCER group and a group registered twice", () =>
      Effect.gen(function*() {
        const { fixture } = yield* embedded()
        const reserved = yield* Effect.flip(producerOn(fixture, { group: "DEFAULT_PRODUCER" }))
        assert.strictEqual(reserved._tag, "InvalidProducerOptions")
        const instance = yield* instanceOn(fixture)
        const make = Producer.make({ group: "PG" }).pipe(Effect.provideService(ClientInstance.ClientInstance, instance))
        yield* make
        assert.strictEqual((yield* Effect.flip(make))._tag, "GroupAlreadyRegistered")
      }))
  })

  describe("message content", () => {
    it.effect("compresses bodies of 4096 bytes and more with ZLIB, and the stored message reads back", () =>
      Effect.gen(function*() {
        const { fixture, recorder, broker } = yield* embedded()
        const { producer, instance } = yield* producerOn(fixture)
        yield* instance.provide(Admin.createTopic(BROKER_A, TOPIC, { queueNums: 1 }))
        const big = new Uint8Array(4096).map((_, i) => i % 7)
        yield* producer.send(Message.make(TOPIC, big.subarray(0, 4095)))
        const sent = yield* producer.send(Message.make(TOPIC, big))
        const [small, large] = sendsTo(recorder, BROKER_A)
        assert.strictEqual(Number(small!.extFields.f) & StoredMessage.SysFlag.COMPRESSED, 0)
        assert.strictEqual(Number(large!.extFields.f), StoredMessage.SysFlag.COMPRESSED | StoredMessage.SysFlag.COMPRESSION_ZLIB)
        assert.isBelow(large!.body!.length, 4096)
        const pulled = yield* instance.provide(Broker.pullMessage(BROKER_A, { consumerGroup: "CG", topic: TOPIC, queueId: 0, queueOffset: sent.queueOffset }))
        assert.strictEqual(pulled._tag, "Found")
        if (pulled._tag === "Found") assert.deepStrictEqual(pulled.messages[0]!.body, big)
        assert.strictEqual(broker.queueSize(TOPIC, 0), 2)
      }))

    it.effect("compresses with LZ4 or ZSTD when asked (Java 5.x's flags), and the stored messages read back", () =>
      Effect.gen(function*() {
        for (const [compressType, flag] of [["LZ4", 0x101], ["ZSTD", 0x201]] as const) {
          const { fixture, recorder } = yield* embedded()
          const { producer, instance } = yield* producerOn(fixture, { compressType })
          yield* instance.provide(Admin.createTopic(BROKER_A, TOPIC, { queueNums: 1 }))
          const body = new TextEncoder().encode("lorem ipsum dolor sit amet ".repeat(400))
          const sent = yield* producer.send(Message.make(TOPIC, body))
          assert.strictEqual(Number(sendsTo(recorder, BROKER_A)[0]!.extFields.f), flag, compressType)
          const pulled = yield* instance.provide(Broker.pullMessage(BROKER_A, { consumerGroup: "CG", topic: TOPIC, queueId: 0, queueOffset: sent.queueOffset }))
          assert.strictEqual(pulled._tag, "Found")
          if (pulled._tag === "Found") assert.deepStrictEqual(pulled.messages[0]!.body, body)
        }
      }))

    it.effect("refuses a compression level the type does not take", () =>
      Effect.gen(function*() {
        const { fixture } = yield* embedded()
        const error = yield* Effect.flip(producerOn(fixture, { compressType: "ZLIB", compressLevel: 12 }))
        assert.strictEqual(error._tag, "InvalidProducerOptions")
        assert.include(error.message, "compressLevel")
      }))

    it.effect("sends bodies uncompressed when compression is off", () =>
      Effect.gen(function*() {
        const { fixture, recorder } = yield* embedded()
        const { producer } = yield* producerOn(fixture, { compressBodies: false })
        yield* producer.send(Message.make(TOPIC, new Uint8Array(8192)))
        assert.strictEqual(sendsTo(recorder, BROKER_A)[0]!.extFields.f, "0")
      }))

    it.effect("carries tags, keys, user properties, the delay level and the 5.x timer properties", () =>
      Effect.gen(function*() {
        const { fixture, recorder } = yield* embedded()
        const { producer } = yield* producerOn(fixture)
        yield* producer.send(Message.make(TOPIC, "x", { tags: "TagA", keys: ["k1", "k2"], properties: { color: "red" }, delayLevel: 3 }))
        yield* producer.send(Message.make(TOPIC, "x", { deliverAt: new Date(60_000) }))
        yield* producer.send(Message.make(TOPIC, "x", { deliverAfter: "90 seconds" }))
        const [delayed, at, later] = sendsTo(recorder, BROKER_A).map(propertiesOf)
        expect(delayed).toMatchObject({ TAGS: "TagA", KEYS: "k1 k2", color: "red", DELAY: "3" })
        assert.strictEqual(at!.TIMER_DELIVER_MS, "60000")
        assert.strictEqual(later!.TIMER_DELAY_MS, "90000")
        assert.strictEqual(sendsTo(recorder, BROKER_A)[0]!.extFields.a, "PG")
      }))
  })

  describe("lifecycle", () => {
    it.effect("lets a send in flight finish when the producer closes, and refuses sends after", () =>
      Effect.gen(function*() {
        const { fixture, recorder, a, b } = yield* twoBrokers(TOPIC)
        a.behavior = after("1 second", answer(ResponseCode.SYSTEM_BUSY))
        b.behavior = after("1 second", answer(ResponseCode.SYSTEM_BUSY))
        const instance = yield* instanceOn(fixture)
        const scope = yield* Scope.make()
        const producer = yield* Producer.make({ group: "PG" }).pipe(
          Effect.provideService(ClientInstance.ClientInstance, instance),
          Scope.provide(scope)
        )
        const sending = yield* Effect.forkChild(Effect.flip(producer.send(Message.make(TOPIC, "x"))))
        assert.isTrue(yield* eventually(Effect.sync(() => sendsTo(recorder, BROKER_A).length + sendsTo(recorder, BROKER_B).length === 1)))
        const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
        yield* advance("1 second")
        const error = yield* Fiber.join(sending)
        // The first attempt finished (SYSTEM_BUSY); the closing producer started no second one.
        assert.strictEqual(error._tag, "ProducerClosed")
        if (error._tag === "ProducerClosed") assert.isTrue(error.inFlight)
        yield* Fiber.join(closing)
        const refused = yield* Effect.flip(producer.send(Message.make(TOPIC, "x")))
        assert.strictEqual(refused._tag, "ProducerClosed")
        if (refused._tag === "ProducerClosed") assert.isFalse(refused.inFlight)
      }))

    it.effect("an interrupted send leaves no request pending", () =>
      Effect.gen(function*() {
        const { fixture, a, b } = yield* twoBrokers(TOPIC)
        a.behavior = () => Effect.never
        b.behavior = () => Effect.never
        const { producer, instance } = yield* producerOn(fixture)
        const fiber = yield* Effect.forkChild(producer.send(Message.make(TOPIC, "x")))
        assert.isTrue(yield* eventually(Effect.sync(() => instance.remotingClient.diagnostics().channels.some((c) => c.pending > 0))))
        yield* Fiber.interrupt(fiber)
        const pending = instance.remotingClient.diagnostics().channels.reduce((n, c) => n + c.pending, 0)
        assert.strictEqual(pending, 0)
      }))

    it.effect("counts sent messages and failures by topic", () =>
      isolated(Effect.gen(function*() {
        const { fixture } = yield* embedded()
        const { producer } = yield* producerOn(fixture)
        yield* producer.send(Message.make(TOPIC, "x"))
        yield* producer.send(Message.make(TOPIC, "y"))
        yield* Effect.flip(producer.send(Message.make(TOPIC, "")))
        assert.strictEqual(yield* counter(Producer.messagesSentTotal), 2)
        assert.strictEqual(yield* counter(Producer.sendFailuresTotal), 0, "invalid messages are refused before admission")
        assert.strictEqual(RequestCode.SEND_MESSAGE_V2, 310)
      })))
  })
})
