import { assert, describe, expect, it } from "@effect/vitest"
import { RemotingCommand } from "@effect-rocketmq/remoting"
import { Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import * as zlib from "node:zlib"
import * as Broker from "../src/Broker.ts"
import * as Heartbeat from "../src/Heartbeat.ts"
import * as Message from "../src/Message.ts"
import * as Properties from "../src/Properties.ts"
import * as StoredMessage from "../src/StoredMessage.ts"
import * as Fake from "./support/FakeRemotingClient.ts"
import { sampleFrame } from "./support/samples.ts"

const BROKER = "127.0.0.1:10911"
const ext = (request: RemotingCommand.RemotingCommand) => ({ ...request.extFields })

const pullHeader = { suggestWhichBrokerId: "0", nextBeginOffset: "5", minOffset: "0", maxOffset: "5" }

describe("Broker.createTopic", () => {
  it.effect("sends 17 with BROKER.md's fields and defaults, and takes 0 'not set any response code' as success (golden create-topic-17)", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.replay(sampleFrame("create-topic-17")))
      yield* Broker.createTopic(BROKER, "TestTopic").pipe(Effect.provide(fake.layer))
      const { address, request } = fake.sent[0]!
      assert.strictEqual(address, BROKER)
      assert.strictEqual(request.code, 17)
      expect(ext(request)).toEqual({
        topic: "TestTopic",
        defaultTopic: "TBW102",
        readQueueNums: "4",
        writeQueueNums: "4",
        perm: "6",
        topicFilterType: "SINGLE_TAG",
        topicSysFlag: "0",
        order: "false"
      })
    }))

  it.effect("takes queue counts, perm, order and attributes from the options", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0))
      yield* Broker.createTopic(BROKER, "T", { queueNums: 8, writeQueueNums: 2, perm: 4, order: true, attributes: "+message.type=NORMAL" })
        .pipe(Effect.provide(fake.layer))
      expect(ext(fake.sent[0]!.request)).toMatchObject({
        readQueueNums: "8",
        writeQueueNums: "2",
        perm: "4",
        order: "true",
        attributes: "+message.type=NORMAL"
      })
    }))

  it.effect("fails with RemoteError carrying codes, names and remark on a refusal", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(29, { remark: "The topic[TBW102] is conflict with system topic." }))
      const error = yield* Effect.flip(Broker.createTopic(BROKER, "TBW102").pipe(Effect.provide(fake.layer)))
      expect(error).toMatchObject({
        _tag: "RemoteError",
        address: BROKER,
        requestCode: 17,
        requestName: "UPDATE_AND_CREATE_TOPIC",
        responseCode: 29,
        responseName: "INVALID_PARAMETER",
        remark: "The topic[TBW102] is conflict with system topic."
      })
      expect(error.message).toContain(BROKER)
    }))
})

describe("Broker.sendMessage", () => {
  it.effect("sends 310 with short header names a..m, the properties in i and the body, and reads the result (golden send-310)", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1764028800000)
      const fake = Fake.make(Fake.replay(sampleFrame("send-310")))
      const result = yield* Broker.sendMessage(
        BROKER,
        Message.make("TestTopic", "hello rocketmq", { tags: "tagA", keys: "k1", properties: { color: "red" } }),
        { producerGroup: "pg", queueId: 0 }
      ).pipe(Effect.provide(fake.layer))
      const request = fake.sent[0]!.request
      assert.strictEqual(request.code, 310)
      assert.strictEqual(new TextDecoder().decode(request.body), "hello rocketmq")
      const fields = ext(request)
      const uniq = Properties.get(Properties.decode(fields["i"]!), "UNIQ_KEY")!
      assert.match(uniq, /^[0-9A-F]{32}$/)
      expect(fields).toEqual({
        a: "pg",
        b: "TestTopic",
        c: "TBW102",
        d: "4",
        e: "0",
        f: "0",
        g: "1764028800000",
        h: "0",
        i: `TAGS\u0001tagA\u0002KEYS\u0001k1\u0002UNIQ_KEY\u0001${uniq}\u0002color\u0001red\u0002`,
        j: "0",
        k: "false",
        m: "false"
      })
      expect(result).toEqual({
        status: "SEND_OK",
        msgId: uniq,
        offsetMsgId: "7F00000100002A9F0000000000000000",
        topic: "TestTopic",
        queueId: 0,
        queueOffset: 0n,
        transactionId: "C0A80001000018B4AAC2000000000000",
        regionId: "DefaultRegion",
        traceOn: true
      })
    }))

  it.effect("lets the broker pick the queue by default and sends n when a broker name is given", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.replay(sampleFrame("send-310")))
      yield* Broker.sendMessage(BROKER, Message.make("T", "x"), { brokerName: "broker-a", uniqId: "U" }).pipe(Effect.provide(fake.layer))
      expect(ext(fake.sent[0]!.request)).toMatchObject({ a: "DEFAULT_PRODUCER", e: "-1", n: "broker-a", i: "UNIQ_KEY\u0001U\u0002" })
    }))

  it.effect("treats FLUSH_DISK_TIMEOUT, SLAVE_NOT_AVAILABLE and FLUSH_SLAVE_TIMEOUT as sent with that status", () =>
    Effect.gen(function*() {
      const header = { msgId: "7F00000100002A9F0000000000000000", queueId: "1", queueOffset: "9" }
      for (const [code, status] of [[10, "FLUSH_DISK_TIMEOUT"], [11, "SLAVE_NOT_AVAILABLE"], [12, "FLUSH_SLAVE_TIMEOUT"]] as const) {
        const result = yield* Broker.sendMessage(BROKER, Message.make("T", "x")).pipe(
          Effect.provide(Fake.make(Fake.answer(code, { extFields: header })).layer)
        )
        assert.strictEqual(result.status, status)
        assert.strictEqual(result.queueOffset, 9n)
      }
    }))

  it.effect("fails with TopicNotExist for 17 and RemoteError for other codes", () =>
    Effect.gen(function*() {
      const send = (code: number) =>
        Effect.flip(Broker.sendMessage(BROKER, Message.make("T", "x")).pipe(
          Effect.provide(Fake.make(Fake.answer(code, { remark: "r" })).layer)
        ))
      expect(yield* send(17)).toMatchObject({ _tag: "TopicNotExist", topic: "T", responseCode: 17, requestCode: 310 })
      expect(yield* send(14)).toMatchObject({ _tag: "RemoteError", responseName: "SERVICE_NOT_AVAILABLE", remark: "r" })
      expect((yield* send(14)).message).toContain("90% full")
      expect(yield* send(2)).toMatchObject({ _tag: "RemoteError", responseName: "SYSTEM_BUSY" })
    }))

  it.effect("reports a success without the response header fields as ResponseDecodeError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Broker.sendMessage(BROKER, Message.make("T", "x")).pipe(
        Effect.provide(Fake.make(Fake.answer(0, { extFields: { msgId: "x", queueId: "zero" } })).layer)
      ))
      expect(error).toMatchObject({ _tag: "ResponseDecodeError", part: "header" })
      expect(error.message).toContain("SendMessageResponseHeader")
    }))

  it.effect("compresses large bodies with ZLIB when asked, flagging sysFlag 0x301", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.replay(sampleFrame("send-310")))
      const body = new Uint8Array(8192).fill(7)
      yield* Broker.sendMessage(BROKER, Message.make("T", body), { compressOverBytes: 4096 }).pipe(Effect.provide(fake.layer))
      const request = fake.sent[0]!.request
      assert.strictEqual(ext(request)["f"], String(0x301))
      assert.isTrue(zlib.inflateSync(request.body!).equals(Buffer.from(body)))
      yield* Broker.sendMessage(BROKER, Message.make("T", "small"), { compressOverBytes: 4096 }).pipe(Effect.provide(fake.layer))
      assert.strictEqual(ext(fake.sent[1]!.request)["f"], "0")
    }))

  it.effect("fails with InvalidRequest and sends nothing when the message cannot be encoded", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0))
      const send = (message: Message.Message, options?: Broker.SendOptions) =>
        Effect.flip(Broker.sendMessage(BROKER, message, options).pipe(Effect.provide(fake.layer)))
      expect((yield* send(Message.make("T", "x", { properties: { big: "v".repeat(40000) } }))).message).toContain("32767")
      expect((yield* send(Message.make("T", "x", { properties: { KEYS: "k" } }))).message).toContain("system property")
      expect((yield* send(Message.make("T", "x"), { queueId: 1.5 })).message).toContain("SendMessageRequestHeaderV2")
      expect((yield* send(Message.make("", "x"))).message).toContain("topic is empty")
      expect((yield* send(Message.make("T", new Uint8Array(0)))).message).toContain("the body is empty")
      assert.strictEqual(fake.sent.length, 0)
    }))
})

describe("Broker.pullMessage", () => {
  const pull: Broker.PullRequest = { consumerGroup: "cg", topic: "TestTopic", queueId: 0, queueOffset: 0n }

  it.effect("sends 11 with sysFlag 4 and subscription * by default, and decodes a FOUND body (golden pull-11)", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.replay(sampleFrame("pull-11")))
      const result = yield* Broker.pullMessage(BROKER, pull).pipe(Effect.provide(fake.layer))
      const { request, timeoutMillis } = fake.sent[0]!
      assert.strictEqual(request.code, 11)
      assert.isUndefined(timeoutMillis)
      expect(ext(request)).toEqual({
        consumerGroup: "cg",
        topic: "TestTopic",
        queueId: "0",
        queueOffset: "0",
        maxMsgNums: "32",
        sysFlag: "4",
        commitOffset: "0",
        suspendTimeoutMillis: "0",
        subscription: "*",
        subVersion: "0",
        expressionType: "TAG"
      })
      assert.strictEqual(result._tag, "Found")
      if (result._tag !== "Found") return
      expect({ ...result, messages: undefined }).toEqual({
        _tag: "Found",
        nextBeginOffset: 1n,
        minOffset: 0n,
        maxOffset: 1n,
        suggestWhichBrokerId: 0,
        messages: undefined
      })
      assert.strictEqual(result.messages.length, 1)
      assert.strictEqual(new TextDecoder().decode(result.messages[0]!.body), "hello rocketmq")
      assert.strictEqual(result.messages[0]!.msgId, "C0A80001000018B4AAC2000000000000")
    }))

  it.effect("maps 19, 20 and 21 to NoNewMsg, NoMatchedMsg and OffsetIllegal with their offsets", () =>
    Effect.gen(function*() {
      for (const [code, tag] of [[19, "NoNewMsg"], [20, "NoMatchedMsg"], [21, "OffsetIllegal"]] as const) {
        const result = yield* Broker.pullMessage(BROKER, pull).pipe(
          Effect.provide(Fake.make(Fake.answer(code, { extFields: pullHeader })).layer)
        )
        expect(result).toEqual({ _tag: tag, nextBeginOffset: 5n, minOffset: 0n, maxOffset: 5n, suggestWhichBrokerId: 0 })
      }
    }))

  it.effect("fails with RemoteError for other codes, e.g. SUBSCRIPTION_NOT_EXIST (24)", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Broker.pullMessage(BROKER, pull).pipe(
        Effect.provide(Fake.make(Fake.answer(24, { remark: "the consumer's subscription not exist" })).layer)
      ))
      expect(error).toMatchObject({ _tag: "RemoteError", responseCode: 24, responseName: "SUBSCRIPTION_NOT_EXIST", requestCode: 11 })
      expect(error.message).toContain("sysFlag bit 4")
    }))

  it.effect("long-polls with sysFlag bit 2 and a timeout above the suspension; commits an offset with bit 1", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(19, { extFields: pullHeader }))
      yield* Broker.pullMessage(BROKER, { ...pull, suspendTimeoutMillis: 15000, commitOffset: 3n, maxMsgNums: 8 }).pipe(
        Effect.provide(fake.layer)
      )
      const { request, timeoutMillis } = fake.sent[0]!
      expect(ext(request)).toMatchObject({ sysFlag: "7", suspendTimeoutMillis: "15000", commitOffset: "3", maxMsgNums: "8" })
      assert.strictEqual(timeoutMillis, 18000)
    }))

  it.effect("re-filters FOUND messages by exact tag, as Java does after the broker's hash filter", () =>
    Effect.gen(function*() {
      const record = (queueOffset: bigint, tag: string) =>
        StoredMessage.encode({
          queueId: 0,
          flag: 0,
          queueOffset,
          commitLogOffset: queueOffset * 100n,
          sysFlag: 0,
          bornTimestamp: 0,
          bornHost: { host: "127.0.0.1", port: 1 },
          storeTimestamp: 0,
          storeHost: { host: "127.0.0.1", port: 10911 },
          reconsumeTimes: 0,
          preparedTransactionOffset: 0n,
          body: new Uint8Array([1]),
          topic: "TestTopic",
          properties: Properties.fromEntries([["TAGS", tag]])
        })
      const body = Buffer.concat([yield* record(0n, "a"), yield* record(1n, "b"), yield* record(2n, "c")])
      const layer = Fake.make(Fake.answer(0, { extFields: pullHeader, body })).layer
      const filtered = yield* Broker.pullMessage(BROKER, { ...pull, subscription: "a || c" }).pipe(Effect.provide(layer))
      assert.isTrue(filtered._tag === "Found" && filtered.messages.map((m) => m.queueOffset).join() === "0,2")
      const unfiltered = yield* Broker.pullMessage(BROKER, { ...pull, subscription: "a || c", filterTags: false }).pipe(
        Effect.provide(layer)
      )
      assert.isTrue(unfiltered._tag === "Found" && unfiltered.messages.length === 3)
    }))

  it.effect("reports a corrupt body or missing offsets as ResponseDecodeError", () =>
    Effect.gen(function*() {
      const corrupt = yield* Effect.flip(Broker.pullMessage(BROKER, pull).pipe(
        Effect.provide(Fake.make(Fake.answer(0, { extFields: pullHeader, body: new Uint8Array([0, 0, 0, 9, 1]) })).layer)
      ))
      expect(corrupt).toMatchObject({ _tag: "ResponseDecodeError", part: "body" })
      expect(corrupt.message).toContain("stored message at byte 0")
      const noHeader = yield* Effect.flip(Broker.pullMessage(BROKER, pull).pipe(Effect.provide(Fake.make(Fake.answer(19)).layer)))
      expect(noHeader).toMatchObject({ _tag: "ResponseDecodeError", part: "header" })
    }))
})

describe("Broker heartbeat and offsets", () => {
  it.effect("heartbeat sends 34 with the HeartbeatData JSON body and returns the broker's version", () =>
    Effect.gen(function*() {
      const fake = Fake.make((request) => RemotingCommand.response(request, 0))
      const data: Heartbeat.HeartbeatData = { clientID: "c@1", producerDataSet: [{ groupName: "pg" }], consumerDataSet: [] }
      const result = yield* Broker.heartbeat(BROKER, data).pipe(Effect.provide(fake.layer))
      const request = fake.sent[0]!.request
      assert.strictEqual(request.code, 34)
      expect(JSON.parse(new TextDecoder().decode(request.body))).toEqual(data)
      assert.strictEqual(result.brokerVersion, 479)
    }))

  it.effect("getMaxOffset sends 30 {topic, queueId, committed=true} and reads offset", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0, { extFields: { offset: "9007199254740993" } }))
      const offset = yield* Broker.getMaxOffset(BROKER, { topic: "T", queueId: 2 }).pipe(Effect.provide(fake.layer))
      assert.strictEqual(offset, 9007199254740993n)
      assert.strictEqual(fake.sent[0]!.request.code, 30)
      expect(ext(fake.sent[0]!.request)).toEqual({ topic: "T", queueId: "2", committed: "true" })
    }))

  it.effect("queryConsumerOffset sends 14 and gives none for QUERY_NOT_FOUND (22), some for a stored offset", () =>
    Effect.gen(function*() {
      const queue = { consumerGroup: "cg", topic: "T", queueId: 1 }
      const fake = Fake.make(Fake.answer(22, { remark: "Not found, V3_0_6_SNAPSHOT maybe" }))
      const none = yield* Broker.queryConsumerOffset(BROKER, queue).pipe(Effect.provide(fake.layer))
      assert.isTrue(Option.isNone(none))
      assert.strictEqual(fake.sent[0]!.request.code, 14)
      expect(ext(fake.sent[0]!.request)).toEqual({ consumerGroup: "cg", topic: "T", queueId: "1" })
      const some = yield* Broker.queryConsumerOffset(BROKER, queue).pipe(
        Effect.provide(Fake.make(Fake.answer(0, { extFields: { offset: "42" } })).layer)
      )
      expect(some).toEqual(Option.some(42n))
      const error = yield* Effect.flip(Broker.queryConsumerOffset(BROKER, queue).pipe(
        Effect.provide(Fake.make(Fake.answer(1, { remark: "boom" })).layer)
      ))
      expect(error).toMatchObject({ _tag: "RemoteError", responseName: "SYSTEM_ERROR", remark: "boom" })
    }))

  it.effect("updateConsumerOffset sends 15 and checks the answer, or sends it oneway", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0))
      const queue = { consumerGroup: "cg", topic: "T", queueId: 1, commitOffset: 7n }
      yield* Broker.updateConsumerOffset(BROKER, queue).pipe(Effect.provide(fake.layer))
      yield* Broker.updateConsumerOffset(BROKER, queue, { oneway: true }).pipe(Effect.provide(fake.layer))
      expect(fake.sent.map((s) => [s.request.code, s.oneway])).toEqual([[15, false], [15, true]])
      expect(ext(fake.sent[0]!.request)).toEqual({ consumerGroup: "cg", topic: "T", queueId: "1", commitOffset: "7" })
      const error = yield* Effect.flip(Broker.updateConsumerOffset(BROKER, queue).pipe(
        Effect.provide(Fake.make(Fake.answer(26, { remark: "group" })).layer)
      ))
      expect(error).toMatchObject({ _tag: "RemoteError", responseName: "SUBSCRIPTION_GROUP_NOT_EXIST" })
    }))
})
