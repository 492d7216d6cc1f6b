import { assert, describe, expect, it } from "@effect/vitest"
import { Admin, Broker, Properties } from "@effect-rocketmq/client"
import { RemotingClient, RemotingCommand, RequestCode } from "@effect-rocketmq/remoting"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import * as InMemoryRocketMQ from "../src/InMemoryRocketMQ.ts"

const BROKER = "127.0.0.1:10911"
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes)
const utf8 = new TextEncoder()

const setup = (options?: InMemoryRocketMQ.Options) =>
  Effect.gen(function*() {
    const rmq = yield* InMemoryRocketMQ.make(options)
    const client = InMemoryRocketMQ.remotingClient(rmq)
    yield* Admin.createTopic(BROKER, "T", { queueNums: 2 }).pipe(
      Effect.provide(Layer.succeed(RemotingClient.RemotingClient, client))
    )
    return { rmq, client, broker: rmq.broker() }
  })

/** A SEND_MESSAGE_V2 with exactly these properties (so system ones such as timers can be set). */
const send = (
  client: RemotingClient.RemotingClientShape,
  properties: Record<string, string>,
  header?: Record<string, string>,
  body: Uint8Array = utf8.encode("body"),
  code: number = RequestCode.SEND_MESSAGE_V2
) =>
  client.invoke(BROKER, RemotingCommand.make({
    code,
    extFields: {
      a: "pg",
      b: "T",
      c: "TBW102",
      d: "4",
      e: "1",
      f: "0",
      g: "0",
      h: "0",
      i: Properties.encodeSync(properties) as string,
      ...header
    },
    body
  }))

/** One element of a SEND_BATCH_MESSAGE body, encoded as Java's `MessageDecoder.encodeMessages`. */
const element = (body: string, flag: number, properties: Record<string, string>) => {
  const b = utf8.encode(body)
  const p = utf8.encode(Properties.encodeSync(properties) as string)
  const out = Buffer.alloc(20 + b.length + 2 + p.length)
  out.writeInt32BE(out.length, 0)
  out.writeInt32BE(flag, 12)
  out.writeInt32BE(b.length, 16)
  out.set(b, 20)
  out.writeInt16BE(p.length, 20 + b.length)
  out.set(p, 22 + b.length)
  return out
}

describe("InMemoryRocketMQ producer features", () => {
  it.effect("stores a batch one record per element, its own flag and properties then the batch's, and lists every msgId", () =>
    Effect.gen(function*() {
      const { broker, client } = yield* setup()
      const body = Buffer.concat([element("one", 7, { UNIQ_KEY: "E1", TAGS: "t1" }), element("two", 8, { UNIQ_KEY: "E2" })])
      const answer = yield* send(client, { WAIT: "true", UNIQ_KEY: "B1" }, { m: "true", e: "0" }, body, RequestCode.SEND_BATCH_MESSAGE)
      assert.strictEqual(answer.code, 0)
      const stored = broker.messages("T", 0)
      expect(answer.extFields["msgId"]).toBe(stored.map((m) => m.offsetMsgId).join(","))
      expect([answer.extFields["queueOffset"], answer.extFields["transactionId"], answer.extFields["MSG_REGION"]]).toEqual([
        "0",
        "B1",
        "DefaultRegion"
      ])
      expect(stored.map((m) => [text(m.body), m.flag, m.queueOffset])).toEqual([["one", 7, 0n], ["two", 8, 1n]])
      // As on 5.3.3 the batch's own UNIQ_KEY follows each element's, so it is the one consumers read.
      expect({ ...stored[0]!.properties }).toEqual({
        UNIQ_KEY: "B1",
        TAGS: "t1",
        WAIT: "true",
        MSG_REGION: "DefaultRegion",
        TRACE_ON: "true",
        CLUSTER: "DefaultCluster"
      })
      expect(stored[1]!.msgId).toBe("B1")
    }))

  it.effect("refuses batches to a retry topic, with a malformed body or over the maximum size", () =>
    Effect.gen(function*() {
      const { client } = yield* setup({ maxMessageSize: 64 })
      const retry = yield* send(client, {}, { m: "true", b: "%RETRY%g", e: "0" }, element("x", 0, {}))
      expect([retry.code, retry.remark]).toEqual([13, "batch request does not support retry group %RETRY%g"])
      const broken = yield* send(client, {}, { m: "true", e: "0" }, new Uint8Array([0, 0, 0, 30, 0, 0]))
      expect([broken.code, broken.remark]).toEqual([1, "java.nio.BufferUnderflowException"])
      const large = yield* send(client, {}, { m: "true", e: "0" }, element("x".repeat(80), 0, {}))
      expect([large.code, large.remark]).toEqual([
        13,
        "the message is illegal, maybe msg body or properties length not matched. msg body length limit 64B, msg properties length limit 32KB."
      ])
    }))

  it.effect("keeps a delayed message in SCHEDULE_TOPIC_XXXX and delivers it exactly when its level is due", () =>
    Effect.gen(function*() {
      const { broker, client } = yield* setup()
      yield* TestClock.setTime(1_000_000)
      const answer = yield* send(client, { DELAY: "3", UNIQ_KEY: "D1", TAGS: "tag" })
      // The answer names the requested queue and the offset in the schedule queue (level 3 → queue 2).
      expect([answer.code, answer.extFields["queueId"], answer.extFields["queueOffset"]]).toEqual([0, "1", "0"])
      assert.strictEqual(broker.queueSize("T", 1), 0)
      const held = broker.messages("SCHEDULE_TOPIC_XXXX", 2)
      expect(held.map((m) => [m.properties["REAL_TOPIC"], m.properties["REAL_QID"], m.properties["DELAY"]])).toEqual([["T", "1", "3"]])
      expect(broker.scheduled().map((s) => s.dueAt)).toEqual([1_010_000])
      const poll = yield* Effect.forkChild(
        Broker.pullMessage(BROKER, { consumerGroup: "g", topic: "T", queueId: 1, queueOffset: 0n, suspendTimeoutMillis: 15_000 })
          .pipe(Effect.provide(Layer.succeed(RemotingClient.RemotingClient, client))),
        { startImmediately: true }
      )
      yield* TestClock.adjust(9_999)
      assert.strictEqual(broker.queueSize("T", 1), 0)
      yield* TestClock.adjust(1)
      const pulled = yield* Fiber.join(poll)
      assert.isTrue(pulled._tag === "Found")
      if (pulled._tag !== "Found") return
      const delivered = pulled.messages[0]!
      expect([delivered.topic, delivered.queueId, delivered.storeTimestamp, delivered.bornTimestamp, delivered.msgId]).toEqual([
        "T",
        1,
        1_010_000,
        0,
        "D1"
      ])
      // Java clears DELAY and sets WAIT=false only on a copy it does not store: 5.3.3 delivers these.
      expect({ ...delivered.properties }).toEqual({
        DELAY: "3",
        REAL_TOPIC: "T",
        REAL_QID: "1",
        TAGS: "tag",
        UNIQ_KEY: "D1",
        MSG_REGION: "DefaultRegion",
        TRACE_ON: "true",
        CLUSTER: "DefaultCluster"
      })
      expect(broker.scheduled()).toEqual([])
    }))

  it.effect("clamps a delay level above the highest to the highest (2 h) and ignores timers next to a level", () =>
    Effect.gen(function*() {
      const { broker, client } = yield* setup()
      yield* send(client, { DELAY: "40", TIMER_DELAY_MS: "1000" })
      const held = broker.messages("SCHEDULE_TOPIC_XXXX", 17)
      expect(held.map((m) => [m.properties["DELAY"], m.properties["TIMER_DELAY_MS"]])).toEqual([["18", undefined]])
      expect(broker.scheduled().map((s) => s.dueAt)).toEqual([7_200_000])
      const bad = yield* send(client, { DELAY: "soon" })
      expect([bad.code, bad.remark]).toEqual([1, `java.lang.NumberFormatException: For input string: "soon"`])
    }))

  it.effect("keeps a timer message in rmq_sys_wheel_timer until the end of its second, with Java's slot in TIMER_OUT_MS", () =>
    Effect.gen(function*() {
      const { broker, client } = yield* setup()
      yield* TestClock.setTime(5_000_250)
      const answer = yield* send(client, { TIMER_DELAY_MS: "2000", UNIQ_KEY: "M1" })
      expect([answer.code, answer.extFields["queueId"]]).toEqual([0, "1"])
      // The recall handle: base64url of "v1 <topic> <broker> <TIMER_OUT_MS + 1> <UNIQ_KEY>".
      expect(Buffer.from(answer.extFields["recallHandle"]!, "base64url").toString()).toBe("v1 T broker-a 5002001 M1")
      const held = broker.messages("rmq_sys_wheel_timer", 0)
      expect(held.map((m) => [m.properties["TIMER_OUT_MS"], m.properties["REAL_TOPIC"], m.properties["REAL_QID"]])).toEqual([
        ["5002000", "T", "1"]
      ])
      yield* TestClock.adjust(2_749)
      assert.strictEqual(broker.queueSize("T", 1), 0)
      yield* TestClock.adjust(1)
      const delivered = broker.messages("T", 1)
      expect(delivered.map((m) => m.storeTimestamp)).toEqual([5_003_000])
      expect(delivered[0]!.properties).toMatchObject({
        TIMER_DELAY_MS: "2000",
        TIMER_OUT_MS: "5002000",
        TIMER_ENQUEUE_MS: "5000000",
        TIMER_DEQUEUE_MS: "5003000",
        REAL_TOPIC: "T",
        REAL_QID: "1"
      })
      assert.isUndefined(delivered[0]!.properties["WAIT"])
    }))

  it.effect("takes TIMER_DELAY_SEC over TIMER_DELAY_MS over TIMER_DELIVER_MS; a time on a whole second is due at that second", () =>
    Effect.gen(function*() {
      const { broker, client } = yield* setup()
      yield* TestClock.setTime(10_000)
      yield* send(client, { TIMER_DELAY_SEC: "3", TIMER_DELAY_MS: "99999", TIMER_DELIVER_MS: "1" })
      yield* send(client, { TIMER_DELIVER_MS: "20000" })
      expect(broker.scheduled().map((s) => [s.dueAt, s.message.properties["TIMER_OUT_MS"]])).toEqual([
        [13_000, "12000"],
        [20_000, "19000"]
      ])
      // A time already past is stored at once as a normal message.
      yield* send(client, { TIMER_DELIVER_MS: "9000" })
      assert.strictEqual(broker.queueSize("T", 1), 1)
    }))

  it.effect("answers timer messages it cannot take as 5.3.3: unparsable or too far (13), wheel off (1)", () =>
    Effect.gen(function*() {
      const { client } = yield* setup({ timerMaxDelay: "1 hour" })
      const illegal =
        "timer message illegal, the delay time should not be bigger than the max delay 3600000ms; or if set del msg, the delay time should be bigger than the current time"
      const unparsable = yield* send(client, { TIMER_DELAY_MS: "later" })
      expect([unparsable.code, unparsable.remark, unparsable.extFields["MSG_REGION"]]).toEqual([13, illegal, "DefaultRegion"])
      const far = yield* send(client, { TIMER_DELAY_SEC: "3601" })
      expect([far.code, far.remark]).toEqual([13, illegal])
      const off = yield* setup({ timerWheelEnable: false })
      const refused = yield* send(off.client, { TIMER_DELAY_SEC: "5" })
      expect([refused.code, refused.remark]).toEqual([1, "accurate timer message is not enabled, timerWheelEnable is false"])
    }))

  it.effect("moves a send to %RETRY%<group> beyond its reconsume limit to %DLQ%<group>, delay -1", () =>
    Effect.gen(function*() {
      const { broker, client } = yield* setup()
      const kept = yield* send(client, { UNIQ_KEY: "R1" }, { b: "%RETRY%g", e: "0", j: "3", l: "3" })
      assert.strictEqual(kept.code, 0)
      assert.strictEqual(broker.queueSize("%RETRY%g", 0), 1)
      const dead = yield* send(client, { UNIQ_KEY: "R2" }, { b: "%RETRY%g", e: "0", j: "4", l: "3" })
      assert.strictEqual(dead.code, 0)
      const dlq = broker.messages("%DLQ%g", 0)
      expect(dlq.map((m) => [m.msgId, m.reconsumeTimes, m.properties["DELAY"]])).toEqual([["R2", 4, "-1"]])
      expect(broker.topic("%DLQ%g")).toMatchObject({ readQueueNums: 1, perm: 6 })
      // Without the request's limit (old clients) the group's retryMaxTimes (16) applies.
      const old = yield* client.invoke(BROKER, RemotingCommand.make({
        code: RequestCode.SEND_MESSAGE_V2,
        version: 100,
        extFields: { a: "pg", b: "%RETRY%g", c: "TBW102", d: "4", e: "0", f: "0", g: "0", h: "0", j: "4", l: "3" },
        body: utf8.encode("x")
      }))
      assert.strictEqual(old.code, 0)
      assert.strictEqual(broker.queueSize("%RETRY%g", 0), 2)
    }))

  it.effect("answers refused sends with the broker's region and trace ext fields, as 5.3.3", () =>
    Effect.gen(function*() {
      const { client } = yield* setup({ autoCreateTopic: false })
      const missing = yield* send(client, {}, { b: "Nope" })
      expect([missing.code, { ...missing.extFields }]).toEqual([17, { MSG_REGION: "DefaultRegion", TRACE_ON: "true" }])
      const queue = yield* send(client, {}, { e: "9" })
      expect([queue.code, queue.remark]).toEqual([
        29,
        "request queueId[9] is illegal, TopicConfig [topicName=T, readQueueNums=2, writeQueueNums=2, perm=RW-, " +
          "topicFilterType=SINGLE_TAG, topicSysFlag=0, order=false, attributes={}] Producer: 127.0.0.1:50000"
      ])
    }))
})
