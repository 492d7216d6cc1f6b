import { assert, describe, expect, it } from "@effect/vitest"
import { Admin, Broker, Properties, StoredMessage, Transaction } from "@effect-rocketmq/client"
import { type Channel, RemotingClient, RemotingCommand, RequestCode } from "@effect-rocketmq/remoting"
import { Effect, Fiber, Layer, Queue } from "effect"
import { TestClock } from "effect/testing"
import * as InMemoryRocketMQ from "../src/InMemoryRocketMQ.ts"

const BROKER = "127.0.0.1:10911"
const utf8 = new TextEncoder()

/** A client whose request handler records what the broker sends it, registered as producer `pg` by a heartbeat. */
const producer = (rmq: InMemoryRocketMQ.InMemoryRocketMQShape, port: number) =>
  Effect.gen(function*() {
    const received = yield* Queue.unbounded<RemotingCommand.RemotingCommand>()
    const handler: Channel.RequestHandlerShape = { handle: (request) => Effect.as(Queue.offer(received, request), undefined) }
    const client = InMemoryRocketMQ.remotingClient(rmq, { requestHandler: handler, clientAddress: `127.0.0.1:${port}` })
    yield* Broker.heartbeat(BROKER, { clientID: `p${port}`, producerDataSet: [{ groupName: "pg" }], consumerDataSet: [] }).pipe(
      Effect.provide(Layer.succeed(RemotingClient.RemotingClient, client))
    )
    return { client, received }
  })

const setup = (options?: InMemoryRocketMQ.Options) =>
  Effect.gen(function*() {
    const rmq = yield* InMemoryRocketMQ.make(options)
    const first = yield* producer(rmq, 50001)
    yield* Admin.createTopic(BROKER, "T", { queueNums: 2 }).pipe(
      Effect.provide(Layer.succeed(RemotingClient.RemotingClient, first.client))
    )
    return { rmq, broker: rmq.broker(), first }
  })

/** A half message as Java's transactional producer sends it: TRAN_MSG, PGROUP and sysFlag PREPARED. */
const sendHalf = (client: RemotingClient.RemotingClientShape, uniqKey: string, extra?: Record<string, string>) =>
  client.invoke(BROKER, RemotingCommand.make({
    code: RequestCode.SEND_MESSAGE_V2,
    extFields: {
      a: "pg",
      b: "T",
      c: "TBW102",
      d: "4",
      e: "1",
      f: "4",
      g: "0",
      h: "0",
      i: Properties.encodeSync({ TRAN_MSG: "true", PGROUP: "pg", UNIQ_KEY: uniqKey, TAGS: "tx", ...extra }) as string
    },
    body: utf8.encode("half")
  }))

const offsetsOf = (answer: RemotingCommand.RemotingCommand) => ({
  tranStateTableOffset: BigInt(answer.extFields["queueOffset"]!),
  commitLogOffset: StoredMessage.parseOffsetMsgId(answer.extFields["msgId"]!)!.commitLogOffset
})

/** END_TRANSACTION as a synchronous call, to see the broker's answer (clients send it oneway). */
const end = (
  client: RemotingClient.RemotingClientShape,
  offsets: { readonly tranStateTableOffset: bigint; readonly commitLogOffset: bigint },
  commitOrRollback: number,
  extra?: Record<string, string>
) =>
  client.invoke(BROKER, RemotingCommand.make({
    code: RequestCode.END_TRANSACTION,
    extFields: {
      producerGroup: "pg",
      tranStateTableOffset: String(offsets.tranStateTableOffset),
      commitLogOffset: String(offsets.commitLogOffset),
      commitOrRollback: String(commitOrRollback),
      fromTransactionCheck: "false",
      msgId: "x",
      ...extra
    }
  }))

describe("InMemoryRocketMQ transactions", () => {
  it.effect("keeps a half message invisible in RMQ_SYS_TRANS_HALF_TOPIC until it is committed, as 5.3.3 stores it", () =>
    Effect.gen(function*() {
      const { broker, first } = yield* setup()
      const answer = yield* sendHalf(first.client, "TX1")
      expect([answer.code, answer.extFields["queueId"], answer.extFields["queueOffset"], answer.extFields["transactionId"]])
        .toEqual([0, "1", "0", "TX1"])
      assert.strictEqual(broker.queueSize("T", 1), 0)
      const [half] = broker.messages("RMQ_SYS_TRANS_HALF_TOPIC", 0)
      expect([half!.sysFlag, half!.queueId]).toEqual([0, 0])
      expect(half!.properties).toMatchObject({ REAL_TOPIC: "T", REAL_QID: "1", __transactionId__: "TX1", TRAN_MSG: "true" })
      expect(broker.halfMessages().map((m) => m.msgId)).toEqual(["TX1"])
      const committed = yield* end(first.client, offsetsOf(answer), 8)
      expect([committed.code, committed.remark]).toEqual([0, undefined])
      const [real] = broker.messages("T", 1)
      expect([real!.sysFlag, real!.preparedTransactionOffset, real!.msgId]).toEqual([8, offsetsOf(answer).commitLogOffset, "TX1"])
      // 5.3.3 keeps TRAN_MSG and REAL_TOPIC/REAL_QID on the committed copy.
      expect(real!.properties).toMatchObject({ TRAN_MSG: "true", REAL_TOPIC: "T", REAL_QID: "1", PGROUP: "pg" })
      expect(broker.halfMessages()).toEqual([])
    }))

  it.effect("rolls back for good, refuses a wrong group or offset, and answers nothing to UNKNOWN", () =>
    Effect.gen(function*() {
      const { broker, first } = yield* setup()
      const answer = yield* sendHalf(first.client, "TX2")
      const wrongGroup = yield* end(first.client, offsetsOf(answer), 8, { producerGroup: "other" })
      expect([wrongGroup.code, wrongGroup.remark]).toEqual([1, "The producer group wrong"])
      const wrongOffset = yield* end(first.client, { ...offsetsOf(answer), tranStateTableOffset: 9n }, 8)
      expect([wrongOffset.code, wrongOffset.remark]).toEqual([1, "The transaction state table offset wrong"])
      const nowhere = yield* end(first.client, { tranStateTableOffset: 0n, commitLogOffset: 999_999n }, 8)
      expect([nowhere.code, nowhere.remark]).toEqual([1, "Find prepared transaction message failed"])
      const unknown = yield* Effect.forkChild(end(first.client, offsetsOf(answer), 0), { startImmediately: true })
      yield* TestClock.adjust("3 seconds")
      expect(yield* Effect.flip(Fiber.join(unknown))).toMatchObject({ _tag: "RequestTimeout" })
      const rolledBack = yield* end(first.client, offsetsOf(answer), 12)
      expect([rolledBack.code, rolledBack.remark]).toEqual([0, "not set any response code"])
      assert.strictEqual(broker.queueSize("T", 1), 0)
      expect(broker.halfMessages()).toEqual([])
    }))

  it.effect("stores a half message committed twice twice, as 5.3.3 does", () =>
    Effect.gen(function*() {
      const { broker, first } = yield* setup()
      const answer = yield* sendHalf(first.client, "TX3")
      const provide = Effect.provide(Layer.succeed(RemotingClient.RemotingClient, first.client))
      const request: Transaction.EndTransactionRequest = { producerGroup: "pg", resolution: "COMMIT", msgId: "TX3", ...offsetsOf(answer) }
      yield* Transaction.endTransaction(BROKER, request).pipe(provide)
      yield* Transaction.endTransaction(BROKER, request).pipe(provide)
      expect(broker.messages("T", 1).map((m) => m.msgId)).toEqual(["TX3", "TX3"])
    }))

  it.effect("asks a producer of the group after the check interval, about a new copy; the answer from the check commits", () =>
    Effect.gen(function*() {
      const { broker, first } = yield* setup()
      yield* sendHalf(first.client, "TX4")
      yield* TestClock.adjust("29 seconds")
      assert.strictEqual(yield* Queue.size(first.received), 0)
      yield* TestClock.adjust("1 second")
      const check = yield* Queue.take(first.received)
      assert.isTrue(RemotingCommand.isOneway(check))
      const copy = broker.messages("RMQ_SYS_TRANS_HALF_TOPIC", 0)[1]!
      expect({ ...check.extFields }).toEqual({
        topic: "RMQ_SYS_TRANS_HALF_TOPIC",
        commitLogOffset: String(copy.commitLogOffset),
        offsetMsgId: copy.offsetMsgId,
        msgId: "TX4",
        transactionId: "TX4",
        tranStateTableOffset: "1",
        bname: "broker-a"
      })
      const [body] = StoredMessage.decodeSync(check.body!) as ReadonlyArray<StoredMessage.StoredMessage>
      expect([body!.topic, body!.queueId, body!.queueOffset, body!.commitLogOffset]).toEqual(["T", 1, 1n, copy.commitLogOffset])
      expect(body!.properties).toMatchObject({ TRANSACTION_CHECK_TIMES: "1", WAIT: "false", PGROUP: "pg" })
      const committed = yield* end(first.client, {
        tranStateTableOffset: BigInt(check.extFields["tranStateTableOffset"]!),
        commitLogOffset: BigInt(check.extFields["commitLogOffset"]!)
      }, 8, { fromTransactionCheck: "true" })
      assert.strictEqual(committed.code, 0)
      expect(broker.messages("T", 1).map((m) => [m.msgId, m.properties["TRANSACTION_CHECK_TIMES"]])).toEqual([["TX4", "1"]])
      yield* TestClock.adjust("60 seconds")
      assert.strictEqual(yield* Queue.size(first.received), 0)
    }))

  it.effect("waits transactionTimeout before the first check, asks again each interval, discards after transactionCheckMax", () =>
    Effect.gen(function*() {
      const { broker, first } = yield* setup({ transactionCheckInterval: "1 second", transactionTimeout: "5 seconds", transactionCheckMax: 3 })
      yield* sendHalf(first.client, "TX5")
      yield* TestClock.adjust("4 seconds")
      assert.strictEqual(yield* Queue.size(first.received), 0)
      yield* TestClock.adjust("1 second")
      const checks = [yield* Queue.take(first.received)]
      yield* TestClock.adjust("2 seconds")
      checks.push(...(yield* Queue.clear(first.received)))
      expect(checks.map((c) => c.extFields["tranStateTableOffset"])).toEqual(["1", "2", "3"])
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual(yield* Queue.size(first.received), 0)
      expect(broker.halfMessages()).toEqual([])
      expect(broker.messages("TRANS_CHECK_MAX_TIME_TOPIC", 0).map((m) => [m.msgId, m.properties["TRANSACTION_CHECK_TIMES"]]))
        .toEqual([["TX5", "3"]])
    }))

  it.effect("honours CHECK_IMMUNITY_TIME_IN_SECONDS over a shorter timeout, and takes producers of the group in turn", () =>
    Effect.gen(function*() {
      const { rmq, first } = yield* setup({ transactionCheckInterval: "1 second", transactionTimeout: "1 second" })
      const second = yield* producer(rmq, 50002)
      yield* sendHalf(first.client, "TX6", { CHECK_IMMUNITY_TIME_IN_SECONDS: "10" })
      yield* TestClock.adjust("9 seconds")
      expect([yield* Queue.size(first.received), yield* Queue.size(second.received)]).toEqual([0, 0])
      yield* TestClock.adjust("2 seconds")
      const sizes = [yield* Queue.size(first.received), yield* Queue.size(second.received)]
      expect(sizes).toEqual([1, 1])
    }))

  it.effect("applies a committed message's delay level when it is committed, and refuses halves when told to", () =>
    Effect.gen(function*() {
      const { broker, first } = yield* setup()
      const answer = yield* sendHalf(first.client, "TX7", { DELAY: "2" })
      yield* end(first.client, offsetsOf(answer), 8)
      expect(broker.scheduled().map((s) => [s.message.topic, s.message.msgId])).toEqual([["SCHEDULE_TOPIC_XXXX", "TX7"]])
      yield* TestClock.adjust("5 seconds")
      expect(broker.messages("T", 1).map((m) => m.msgId)).toEqual(["TX7"])
      const strict = yield* setup({ rejectTransactionMessage: true })
      const refused = yield* sendHalf(strict.first.client, "TX8")
      expect([refused.code, refused.remark]).toEqual([16, "the broker[127.0.0.1] sending transaction message is forbidden"])
    }))
})
