import { assert, describe, expect, it } from "@effect/vitest"
import { RemotingCommand } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import * as zlib from "node:zlib"
import * as Broker from "../src/Broker.ts"
import * as Heartbeat from "../src/Heartbeat.ts"
import * as Message from "../src/Message.ts"
import * as MessageBatch from "../src/MessageBatch.ts"
import * as Properties from "../src/Properties.ts"
import * as StoredMessage from "../src/StoredMessage.ts"
import * as Fake from "./support/FakeRemotingClient.ts"
import { sampleFrame } from "./support/samples.ts"

const BROKER = "127.0.0.1:10911"
const ext = (request: RemotingCommand.RemotingCommand) => ({ ...request.extFields })

const pullHeader = { suggestWhichBrokerId: "0", nextBeginOffset: "5", minOffset: "0", maxOffset: "5" }

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

  /** A stored record of TestTopic at `queueOffset` with tag `tag`. */
  const record = (queueOffset: bigint, tag: string, body: Uint8Array = new Uint8Array([1]), sysFlag = 0) =>
    StoredMessage.encode({
      queueId: 0,
      flag: 0,
      queueOffset,
      commitLogOffset: queueOffset * 100n,
      sysFlag,
      bornTimestamp: 0,
      bornHost: { host: "127.0.0.1", port: 1 },
      storeTimestamp: 0,
      storeHost: { host: "127.0.0.1", port: 10911 },
      reconsumeTimes: 0,
      preparedTransactionOffset: 0n,
      body,
      topic: "TestTopic",
      properties: Properties.fromEntries([["TAGS", tag]])
    })


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
        messages: undefined,
        undecodable: []
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
      const body = Buffer.concat([yield* record(0n, "a"), yield* record(1n, "b"), yield* record(2n, "c")])
      const layer = Fake.make(Fake.answer(0, { extFields: pullHeader, body })).layer
      const filtered = yield* Broker.pullMessage(BROKER, { ...pull, subscription: "a || c" }).pipe(Effect.provide(layer))
      assert.isTrue(filtered._tag === "Found" && filtered.messages.map((m) => m.queueOffset).join() === "0,2")
      const unfiltered = yield* Broker.pullMessage(BROKER, { ...pull, subscription: "a || c", filterTags: false }).pipe(
        Effect.provide(layer)
      )
      assert.isTrue(unfiltered._tag === "Found" && unfiltered.messages.length === 3)
    }))

  it.effect("returns a record whose body cannot be decompressed apart, with its offset and error, and decodes the ones around it", () =>
    Effect.gen(function*() {
      const corrupt = new Uint8Array([9, 9, 9, 9])
      const body = Buffer.concat([
        yield* record(0n, "a", new TextEncoder().encode("zero"), 0),
        yield* record(1n, "a", corrupt, 0x101),
        yield* record(2n, "a", zlib.deflateSync(new TextEncoder().encode("two")), 0x301),
        yield* record(3n, "b", corrupt, 0x201)
      ])
      const layer = Fake.make(Fake.answer(0, { extFields: { ...pullHeader, nextBeginOffset: "4" }, body })).layer
      const result = yield* Broker.pullMessage(BROKER, pull).pipe(Effect.provide(layer))
      assert.strictEqual(result._tag, "Found")
      if (result._tag !== "Found") return
      assert.deepStrictEqual(result.messages.map((m) => new TextDecoder().decode(m.body)), ["zero", "two"])
      assert.deepStrictEqual(result.undecodable.map((m) => [m.queueOffset, m.sysFlag, m.error.reason]), [
        [1n, 0x101, "DecompressFailed"],
        [3n, 0x201, "DecompressFailed"]
      ])
      assert.deepStrictEqual(result.undecodable[0]!.body, corrupt)
      assert.strictEqual(result.nextBeginOffset, 4n)
      const tagged = yield* Broker.pullMessage(BROKER, { ...pull, subscription: "a" }).pipe(Effect.provide(layer))
      assert.isTrue(tagged._tag === "Found" && tagged.undecodable.length === 1 && tagged.messages.length === 2)
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

describe("Broker.heartbeat", () => {
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
})

describe("Broker.unregisterClient", () => {
  it.effect("sends 35 with the client id and the group it leaves, within Java's 3 s", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0))
      yield* Broker.unregisterClient(BROKER, { clientID: "10.0.0.5@1#2", producerGroup: "pg" }).pipe(Effect.provide(fake.layer))
      yield* Broker.unregisterClient(BROKER, { clientID: "10.0.0.5@1#2", consumerGroup: "cg" }).pipe(Effect.provide(fake.layer))
      expect(fake.sent.map((s) => [s.address, s.request.code, s.timeoutMillis, s.oneway])).toEqual([
        [BROKER, 35, 3000, false],
        [BROKER, 35, 3000, false]
      ])
      expect(ext(fake.sent[0]!.request)).toEqual({ clientID: "10.0.0.5@1#2", producerGroup: "pg" })
      expect(ext(fake.sent[1]!.request)).toEqual({ clientID: "10.0.0.5@1#2", consumerGroup: "cg" })
    }))

  it.effect("fails with RemoteError when the broker refuses", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Broker.unregisterClient(BROKER, { clientID: "c" }).pipe(
        Effect.provide(Fake.make(Fake.answer(1, { remark: "boom" })).layer)
      ))
      expect(error).toMatchObject({ _tag: "RemoteError", requestCode: 35, requestName: "UNREGISTER_CLIENT", responseCode: 1, remark: "boom" })
    }))
})

/** A batch element in Java's `MessageDecoder.encodeMessage` layout, written out by hand. */
const javaElement = (flag: number, body: string, properties: string): Buffer => {
  const bodyBytes = Buffer.from(body, "utf8")
  const propertyBytes = Buffer.from(properties, "utf8")
  const out = Buffer.alloc(4 + 4 + 4 + 4 + 4 + bodyBytes.length + 2 + propertyBytes.length)
  let at = out.writeInt32BE(out.length, 0)
  at = out.writeInt32BE(0, at)
  at = out.writeInt32BE(0, at)
  at = out.writeInt32BE(flag, at)
  at = out.writeInt32BE(bodyBytes.length, at)
  at += bodyBytes.copy(out, at)
  at = out.writeInt16BE(propertyBytes.length, at)
  propertyBytes.copy(out, at)
  return out
}

describe("Broker.sendBatchMessage", () => {
  const sendHeader = { msgId: "7F00000100002A9F0000000000000100,7F00000100002A9F0000000000000200", queueId: "2", queueOffset: "7" }

  it.effect("sends 320 with the V2 header and m=true, every message as a Java batch element, and returns every id", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1764028800000)
      const fake = Fake.make(Fake.answer(0, { extFields: sendHeader }))
      const result = yield* Broker.sendBatchMessage(
        BROKER,
        [
          Message.make("T", "one", { tags: "a", keys: ["k1", "k2"], flag: 3 }),
          Message.make("T", "two", { properties: { color: "red" } })
        ],
        { producerGroup: "pg", queueId: 2, brokerName: "broker-a", uniqIds: ["U1", "U2"], batchUniqId: "B" }
      ).pipe(Effect.provide(fake.layer))
      const { request, oneway } = fake.sent[0]!
      assert.isFalse(oneway)
      assert.strictEqual(request.code, 320)
      expect(ext(request)).toEqual({
        a: "pg",
        b: "T",
        c: "TBW102",
        d: "4",
        e: "2",
        f: "0",
        g: "1764028800000",
        h: "0",
        i: "WAIT\u0001true\u0002UNIQ_KEY\u0001B\u0002",
        j: "0",
        k: "false",
        m: "true",
        n: "broker-a"
      })
      const expected = Buffer.concat([
        javaElement(3, "one", "TAGS\u0001a\u0002KEYS\u0001k1 k2\u0002UNIQ_KEY\u0001U1\u0002"),
        javaElement(0, "two", "UNIQ_KEY\u0001U2\u0002color\u0001red\u0002")
      ])
      assert.strictEqual(Buffer.from(request.body!).toString("hex"), expected.toString("hex"))
      expect(result).toEqual({
        status: "SEND_OK",
        msgIds: ["U1", "U2"],
        offsetMsgIds: ["7F00000100002A9F0000000000000100", "7F00000100002A9F0000000000000200"],
        topic: "T",
        queueId: 2,
        queueOffset: 7n,
        batchUniqId: undefined,
        regionId: "DefaultRegion",
        traceOn: true
      })
    }))

  it.effect("gives every message a fresh UNIQ_KEY by default, the batch none, and the batch the messages' WAIT", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0, { extFields: sendHeader }))
      const result = yield* Broker.sendBatchMessage(BROKER, [
        Message.make("T", "x", { waitStoreMsgOk: false }),
        Message.make("T", "y", { waitStoreMsgOk: false })
      ]).pipe(Effect.provide(fake.layer))
      assert.strictEqual(new Set(result.msgIds).size, 2)
      for (const id of result.msgIds) assert.match(id, /^[0-9A-F]{32}$/)
      // A batch UNIQ_KEY would be copied into every element by a 5.3.3 broker and replace their ids.
      expect(ext(fake.sent[0]!.request)).toMatchObject({ a: "DEFAULT_PRODUCER", e: "-1", i: "WAIT\u0001false\u0002", m: "true" })
      const elements = MessageBatch.decodeSync(fake.sent[0]!.request.body!) as ReadonlyArray<MessageBatch.Element>
      expect(elements.map((e) => e.properties)).toEqual([
        { WAIT: "false", UNIQ_KEY: result.msgIds[0] },
        { WAIT: "false", UNIQ_KEY: result.msgIds[1] }
      ])
    }))

  it.effect("maps the answer codes as a single send does", () =>
    Effect.gen(function*() {
      const send = (code: number) =>
        Broker.sendBatchMessage(BROKER, [Message.make("T", "x")]).pipe(
          Effect.provide(Fake.make(Fake.answer(code, { extFields: sendHeader, remark: "r" })).layer)
        )
      assert.strictEqual((yield* send(10)).status, "FLUSH_DISK_TIMEOUT")
      expect(yield* Effect.flip(send(17))).toMatchObject({ _tag: "TopicNotExist", topic: "T", requestCode: 320 })
      expect(yield* Effect.flip(send(13))).toMatchObject({ _tag: "RemoteError", responseName: "MESSAGE_ILLEGAL", requestName: "SEND_BATCH_MESSAGE" })
    }))

  it.effect("refuses what Java refuses in a batch, before sending anything", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0, { extFields: sendHeader }))
      const refuse = (messages: ReadonlyArray<Message.Message>, options?: Broker.BatchSendOptions) =>
        Effect.flip(Broker.sendBatchMessage(BROKER, messages, options).pipe(Effect.provide(fake.layer)))
      const cases: Array<[ReadonlyArray<Message.Message>, Broker.BatchSendOptions | undefined, string]> = [
        [[], undefined, "the batch is empty"],
        [[Message.make("A", "x"), Message.make("B", "x")], undefined, "a batch holds messages of one topic"],
        [[Message.make("A", "x"), Message.make("A", "x", { delayLevel: 2 })], undefined, "delay level 2"],
        [[Message.make("%RETRY%g", "x")], undefined, "retry topic"],
        [[Message.make("A", "x"), Message.make("A", "x", { waitStoreMsgOk: false })], undefined, "waitStoreMsgOk"],
        [[Message.make("A", "x"), Message.make("A", new Uint8Array(0))], undefined, "body of message 1 is empty"],
        [[Message.make("A", "x")], { uniqIds: ["a", "b"] }, "2 uniqIds for 1 messages"],
        [[Message.make("A", new Uint8Array(100))], { maxMessageSize: 100 }, "the batch body is 164 bytes, over the 100-byte limit"],
        [[Message.make("A", "x", { properties: { TAGS: "t" } })], undefined, "message 0: user property \"TAGS\""]
      ]
      for (const [messages, options, expected] of cases) {
        const error = yield* refuse(messages, options)
        expect(error).toMatchObject({ _tag: "InvalidRequest", operation: "sendBatchMessage" })
        expect(error.message).toContain(expected)
      }
      assert.strictEqual(fake.sent.length, 0)
    }))
})

describe("Broker.sendMessage for producers and consumers", () => {
  const sendHeader = { msgId: "7F00000100002A9F0000000000000000", queueId: "0", queueOffset: "3" }

  it.effect("sends a transaction's half message: sysFlag bits OR-ed into f, system properties after the message's own", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0, { extFields: { ...sendHeader, transactionId: "U" } }))
      const result = yield* Broker.sendMessage(BROKER, Message.make("T", "x", { tags: "a" }), {
        uniqId: "U",
        producerGroup: "tx",
        sysFlag: StoredMessage.SysFlag.TRANSACTION_PREPARED,
        systemProperties: Properties.fromEntries([["TRAN_MSG", "true"], ["PGROUP", "tx"]])
      }).pipe(Effect.provide(fake.layer))
      expect(ext(fake.sent[0]!.request)).toMatchObject({
        a: "tx",
        f: "4",
        i: "TAGS\u0001a\u0002UNIQ_KEY\u0001U\u0002TRAN_MSG\u0001true\u0002PGROUP\u0001tx\u0002"
      })
      expect([result.msgId, result.transactionId]).toEqual(["U", "U"])
    }))

  it.effect("keeps the caller's sysFlag bits when it compresses, and a UNIQ_KEY among the system properties becomes the message id", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0, { extFields: sendHeader }))
      const result = yield* Broker.sendMessage(BROKER, Message.make("T", new Uint8Array(5000)), {
        compressOverBytes: 4096,
        sysFlag: StoredMessage.SysFlag.TRANSACTION_PREPARED,
        systemProperties: Properties.fromEntries([["UNIQ_KEY", "MINE"]])
      }).pipe(Effect.provide(fake.layer))
      assert.strictEqual(ext(fake.sent[0]!.request)["f"], String(0x4 | 0x1 | 0x300))
      assert.strictEqual(result.msgId, "MINE")
    }))

  it.effect("sends the reconsume count (j) and the maximum (l) of a copy to a retry topic", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0, { extFields: sendHeader }))
      yield* Broker.sendMessage(BROKER, Message.make("%RETRY%g", "x"), { reconsumeTimes: 3, maxReconsumeTimes: 16 })
        .pipe(Effect.provide(fake.layer))
      expect(ext(fake.sent[0]!.request)).toMatchObject({ b: "%RETRY%g", j: "3", l: "16" })
    }))

  it.effect("sendMessageOneway sends the same request oneway and returns the message id", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1764028800000)
      const fake = Fake.make(Fake.answer(0, { extFields: sendHeader }))
      const id = yield* Broker.sendMessageOneway(BROKER, Message.make("T", "x"), { uniqId: "U", queueId: 1, timeoutMillis: 50 })
        .pipe(Effect.provide(fake.layer))
      assert.strictEqual(id, "U")
      expect(fake.sent.map((s) => [s.request.code, s.oneway, s.timeoutMillis])).toEqual([[310, true, 50]])
      expect(ext(fake.sent[0]!.request)).toEqual({
        a: "DEFAULT_PRODUCER",
        b: "T",
        c: "TBW102",
        d: "4",
        e: "1",
        f: "0",
        g: "1764028800000",
        h: "0",
        i: "UNIQ_KEY\u0001U\u0002",
        j: "0",
        k: "false",
        m: "false"
      })
      const refused = yield* Effect.flip(Broker.sendMessageOneway(BROKER, Message.make("T", new Uint8Array(0))).pipe(Effect.provide(fake.layer)))
      expect(refused).toMatchObject({ _tag: "InvalidRequest", operation: "sendMessageOneway" })
      assert.strictEqual(fake.sent.length, 1)
    }))
})
