/**
 * The producer's broker operations against a real Apache RocketMQ 5.3.3: SEND_BATCH_MESSAGE,
 * oneway sends, END_TRANSACTION (commit and rollback of half messages) and UNREGISTER_CLIENT.
 */
import { Broker, ClientError, Heartbeat, Message, Offsets, Properties, StoredMessage, Transaction } from "@effect-rocketmq/client"
import { assert, describe, expect, it } from "@effect/vitest"
import { RemotingClient } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import { BROKER_NAME, cluster, createTopic, poll, runId, skipReason } from "./support.ts"

const real = cluster()

const clientLayer = () => RemotingClient.layer({ nameServerAddresses: real!.namesrvAddr, defaultTimeout: "10 seconds" })

/** Pulls `queueId` from `from` until `count` messages came back (at most 10 s: dispatch is asynchronous). */
const pullAll = (broker: string, topic: string, queueId: number, count: number, from = 0n) =>
  Effect.gen(function*() {
    const received: Array<StoredMessage.StoredMessage> = []
    const until = Date.now() + 10_000
    let offset = from
    while (received.length < count && Date.now() < until) {
      const pulled = yield* Broker.pullMessage(broker, { consumerGroup: `ops_pull_${runId()}`, topic, queueId, queueOffset: offset })
      if (pulled._tag === "Found") {
        received.push(...pulled.messages)
        offset = pulled.nextBeginOffset
      } else {
        yield* Effect.sleep("100 millis")
      }
    }
    return received
  })

/**
 * Sends a transaction's half message as Java's producer does: SEND_MESSAGE_V2 with the `TRAN_MSG`
 * and `PGROUP` properties and sysFlag TRANSACTION_PREPARED.
 */
const sendHalf = (broker: string, topic: string, group: string, body: string) =>
  Broker.sendMessage(broker, Message.make(topic, body), {
    queueId: 0,
    producerGroup: group,
    brokerName: BROKER_NAME,
    sysFlag: StoredMessage.SysFlag.TRANSACTION_PREPARED,
    systemProperties: Properties.fromEntries([["TRAN_MSG", "true"], ["PGROUP", group]])
  })

/** The number of END_TRANSACTION outcomes the broker has recorded (its op-half queue's max offset). */
const opCount = (broker: string) => Offsets.getMaxOffset(broker, { topic: "RMQ_SYS_TRANS_OP_HALF_TOPIC", queueId: 0 })

describe.skipIf(real === undefined)(`producer operations against a real broker${real === undefined ? ` (skipped: ${skipReason()})` : ""}`, () => {
  it.live("a batch of 16 messages is stored consecutively in one queue and every id the result gives comes back by pull", () =>
    Effect.gen(function*() {
      const broker = real!.brokerAddr
      const topic = `OpsBatch_${runId()}`
      yield* createTopic(broker, topic)
      const messages = Array.from({ length: 16 }, (_, i) =>
        Message.make(topic, `batch body ${i} ✓`, { tags: `t${i % 3}`, keys: [`k${i}`], properties: { n: String(i), "名": "値" }, flag: i }))
      const first = yield* Broker.sendBatchMessage(broker, messages, { queueId: 1, producerGroup: `ops_pg_${runId()}`, brokerName: BROKER_NAME })
      expect(first).toMatchObject({ status: "SEND_OK", topic, queueId: 1, queueOffset: 0n, batchUniqId: undefined })
      assert.strictEqual(new Set(first.msgIds).size, 16)
      assert.strictEqual(new Set(first.offsetMsgIds).size, 16)
      const second = yield* Broker.sendBatchMessage(broker, messages.slice(0, 3), { queueId: 1 })
      expect([second.queueOffset, second.offsetMsgIds.length]).toEqual([16n, 3])

      const pulled = yield* pullAll(broker, topic, 1, 19)
      assert.strictEqual(pulled.length, 19)
      for (const [i, message] of pulled.slice(0, 16).entries()) {
        assert.strictEqual(message.queueOffset, BigInt(i))
        assert.strictEqual(message.msgId, first.msgIds[i])
        assert.strictEqual(message.offsetMsgId, first.offsetMsgIds[i])
        assert.strictEqual(new TextDecoder().decode(message.body), `batch body ${i} ✓`)
        assert.strictEqual(message.flag, i)
        assert.strictEqual(Message.tagsOf(message), `t${i % 3}`)
        expect(Message.keysOf(message)).toEqual([`k${i}`])
        expect({ ...Message.userProperties(message) }).toEqual({ n: String(i), "名": "値" })
      }
      expect(pulled.slice(16).map((m) => m.msgId)).toEqual(second.msgIds)
      // The batch's own UNIQ_KEY (header `i`) is not given to any element.
      expect(new Set(pulled.map((m) => m.msgId)).size).toBe(19)
    }).pipe(Effect.provide(clientLayer())))

  it.live("a 5.3.3 broker copies a batch UNIQ_KEY into every element, which is why none is sent unless asked for", () =>
    Effect.gen(function*() {
      const broker = real!.brokerAddr
      const topic = `OpsBatchId_${runId()}`
      yield* createTopic(broker, topic)
      const batchUniqId = yield* Message.makeUniqId
      const sent = yield* Broker.sendBatchMessage(broker, [Message.make(topic, "a"), Message.make(topic, "b")], { queueId: 0, batchUniqId })
      const pulled = yield* pullAll(broker, topic, 0, 2)
      expect(pulled.map((m) => m.msgId)).toEqual([batchUniqId, batchUniqId])
      expect(pulled.map((m) => m.msgId)).not.toEqual(sent.msgIds)
    }).pipe(Effect.provide(clientLayer())))

  it.live("a batch over 4 MiB is refused before sending, and a real broker refuses one with SYSTEM_ERROR and stores nothing", () =>
    Effect.gen(function*() {
      const broker = real!.brokerAddr
      const topic = `OpsBatchBig_${runId()}`
      yield* createTopic(broker, topic)
      const big = Array.from({ length: 5 }, () => Message.make(topic, new Uint8Array(1024 * 1024).fill(1)))
      const local = yield* Effect.flip(Broker.sendBatchMessage(broker, big, { queueId: 0 }))
      expect(local).toMatchObject({ _tag: "InvalidRequest", operation: "sendBatchMessage" })
      expect(local.message).toContain("over the 4194304-byte limit")
      const remote = yield* Effect.flip(Broker.sendBatchMessage(broker, big, { queueId: 0, maxMessageSize: Infinity }))
      assert.instanceOf(remote, ClientError.RemoteError)
      expect(remote).toMatchObject({ requestName: "SEND_BATCH_MESSAGE", responseName: "SYSTEM_ERROR" })
      expect(remote.remark).toContain("message body size exceeded")
      assert.strictEqual(yield* Offsets.getMaxOffset(broker, { topic, queueId: 0 }), 0n)
    }).pipe(Effect.provide(clientLayer())))

  it.live("END_TRANSACTION commits a half message into its topic and rolls another back, which never appears", () =>
    Effect.gen(function*() {
      const broker = real!.brokerAddr
      const topic = `OpsTx_${runId()}`
      const group = `ops_tx_${runId()}`
      yield* createTopic(broker, topic)
      const endFor = (half: Broker.SendResult) => ({
        producerGroup: group,
        topic,
        brokerName: BROKER_NAME,
        tranStateTableOffset: half.queueOffset,
        commitLogOffset: StoredMessage.parseOffsetMsgId(half.offsetMsgId)!.commitLogOffset,
        msgId: half.msgId,
        transactionId: half.transactionId
      })

      const committed = yield* sendHalf(broker, topic, group, "commit me")
      assert.strictEqual(committed.transactionId, committed.msgId, "the broker names the transaction by the UNIQ_KEY")
      // A half message is invisible in its topic.
      yield* Effect.sleep("300 millis")
      assert.strictEqual(yield* Offsets.getMaxOffset(broker, { topic, queueId: 0 }), 0n)
      const opsBefore = yield* opCount(broker)
      yield* Transaction.endTransaction(broker, { ...endFor(committed), resolution: "COMMIT" })
      const [message] = yield* pullAll(broker, topic, 0, 1)
      assert.isDefined(message, "the committed message arrives in its topic")
      assert.strictEqual(new TextDecoder().decode(message!.body), "commit me")
      assert.strictEqual(message!.msgId, committed.msgId)
      assert.strictEqual(message!.sysFlag & 0xc, StoredMessage.SysFlag.TRANSACTION_COMMIT)
      const opsAfterCommit = yield* poll(10, opCount(broker), (n) => n > opsBefore)
      assert.isAbove(Number(opsAfterCommit), Number(opsBefore), "the broker recorded the commit")

      const rolledBack = yield* sendHalf(broker, topic, group, "roll me back")
      yield* Transaction.endTransaction(broker, { ...endFor(rolledBack), resolution: "ROLLBACK" }, { remark: "test rollback" })
      const opsAfterRollback = yield* poll(10, opCount(broker), (n) => n > opsAfterCommit)
      assert.isAbove(Number(opsAfterRollback), Number(opsAfterCommit), "the broker recorded the rollback")
      // The rolled-back message never took a place in the topic: the next message is at offset 1.
      const next = yield* Broker.sendMessage(broker, Message.make(topic, "after"), { queueId: 0 })
      assert.strictEqual(next.queueOffset, 1n)
      const all = yield* pullAll(broker, topic, 0, 2)
      expect(all.map((m) => new TextDecoder().decode(m.body))).toEqual(["commit me", "after"])
    }).pipe(Effect.provide(clientLayer())))

  it.live("UNREGISTER_CLIENT is accepted for a producer group the client registered by heartbeat, and for one it never did", () =>
    Effect.gen(function*() {
      const broker = real!.brokerAddr
      const clientID = `127.0.0.1@ops_${runId()}`
      const producerGroup = `ops_unreg_${runId()}`
      const data: Heartbeat.HeartbeatData = { clientID, producerDataSet: [{ groupName: producerGroup }], consumerDataSet: [] }
      yield* Broker.heartbeat(broker, data)
      yield* Broker.unregisterClient(broker, { clientID, producerGroup })
      yield* Broker.unregisterClient(broker, { clientID: `${clientID}_never`, producerGroup })
    }).pipe(Effect.provide(clientLayer())))

  it.live("a oneway send is stored, under the message id it returns", () =>
    Effect.gen(function*() {
      const broker = real!.brokerAddr
      const topic = `OpsOneway_${runId()}`
      yield* createTopic(broker, topic)
      const id = yield* Broker.sendMessageOneway(broker, Message.make(topic, "no answer", { tags: "ow" }), { queueId: 3 })
      const [message] = yield* pullAll(broker, topic, 3, 1)
      expect([message?.msgId, Message.tagsOf(message!), new TextDecoder().decode(message!.body)]).toEqual([id, "ow", "no answer"])
    }).pipe(Effect.provide(clientLayer())))
})
