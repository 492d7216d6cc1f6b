import { assert, describe, expect, it } from "@effect/vitest"
import { RemotingCommand, RequestCode } from "@effect-rocketmq/remoting"
import { Effect, Fiber, Result } from "effect"
import { TestClock } from "effect/testing"
import * as BrokerRequests from "../../src/internal/consumer/brokerRequests.ts"
import * as QueueKeyed from "../../src/internal/consumer/queueKeyed.ts"
import * as MQ from "../../src/MessageQueue.ts"
import * as StoredMessage from "../../src/StoredMessage.ts"
import * as FakeCluster from "./support/FakeCluster.ts"
import { settle, start } from "./support/engine.ts"

const FIRST = { consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" } as const
const facts = { nameServerAddresses: ["127.0.0.1:9876"], startTimestamp: 1_700_000_000_000, clientVersion: "V5_3_3", concurrency: 20 }
const context = { address: "127.0.0.1:10911" }
const text = (command: RemotingCommand.RemotingCommand | undefined) => new TextDecoder().decode(command?.body)

/** fastjson text with message-queue object keys, made standard JSON: each key object becomes a string key. */
const standard = (body: string): unknown => {
  let out = ""
  let i = 0
  for (let at = body.indexOf("{\"brokerName\"", i); at >= 0; at = body.indexOf("{\"brokerName\"", i)) {
    const end = body.indexOf("}", at) + 1
    out += body.slice(i, at) + (body[end] === ":" ? JSON.stringify(body.slice(at, end)) : body.slice(at, end))
    i = end
  }
  return JSON.parse(out + body.slice(i))
}

describe("Consumer answers to broker requests", () => {
  it.effect("rebalances at once on NOTIFY_CONSUMER_IDS_CHANGED, without waiting for the 20 s round", () =>
    Effect.gen(function*() {
      const cluster = FakeCluster.make({ T: { brokers: ["broker-a"], queues: 4 } })
      const { close, consumer, engine } = yield* start(cluster, "c1", FIRST)
      yield* settle
      expect(yield* consumer.assignment).toHaveLength(4)
      cluster.state.members.push("c2")
      const handlers = BrokerRequests.handlers(engine.ctx, facts)
      const notify = RemotingCommand.make({ code: RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, extFields: { consumerGroup: "g" } })
      assert.isUndefined(yield* handlers[RequestCode.NOTIFY_CONSUMER_IDS_CHANGED]!(notify, context))
      yield* TestClock.adjust("1 second")
      yield* settle
      expect(yield* consumer.assignment).toHaveLength(2)
      yield* close
    }), 30_000)

  it.effect("describes itself to admin tools in ConsumerRunningInfo, queue-keyed maps written as fastjson writes them", () =>
    Effect.gen(function*() {
      const cluster = FakeCluster.make({ T: { brokers: ["broker-a"], queues: 2 } })
      for (let i = 0; i < 4; i++) cluster.append("T", "broker-a", i % 2, `m${i}`, [["TAGS", "TagA"]])
      const { close, consumer, engine } = yield* start(cluster, "c1", { ...FIRST, subscriptions: { T: "TagA || TagB" } })
      yield* Effect.forkChild(consumer.run(() => Effect.void))
      yield* settle
      const request = RemotingCommand.make({ code: RequestCode.GET_CONSUMER_RUNNING_INFO, extFields: { consumerGroup: "g", clientId: "c1" } })
      const response = yield* BrokerRequests.handlers(engine.ctx, facts)[RequestCode.GET_CONSUMER_RUNNING_INFO]!(request, context)
      assert.strictEqual(response?.code, 0)
      const body = text(response)
      expect(body).toContain("\"mqTable\":{{\"brokerName\":\"broker-a\",\"queueId\":0,\"topic\":\"T\"}:{")
      const info = standard(body) as {
        properties: Record<string, string>
        subscriptionSet: Array<{ topic: string; tagsSet: Array<string> }>
        mqTable: Record<string, { commitOffset: number; cachedMsgCount: number; droped: boolean }>
        statusTable: Record<string, { pullTPS: number }>
      }
      expect(info.properties).toMatchObject({
        consumerGroup: "g",
        messageModel: "CLUSTERING",
        PROP_CONSUME_TYPE: "CONSUME_PASSIVELY",
        PROP_CONSUMEORDERLY: "false",
        PROP_CONSUMER_START_TIMESTAMP: "1700000000000",
        PROP_NAMESERVER_ADDR: "127.0.0.1:9876;",
        PROP_CLIENT_VERSION: "V5_3_3"
      })
      expect(info.subscriptionSet.map((s) => [s.topic, s.tagsSet])).toEqual([["T", ["TagA", "TagB"]], ["%RETRY%g", []]])
      expect(Object.keys(info.mqTable)).toHaveLength(2)
      expect(Object.values(info.mqTable).every((q) => q.cachedMsgCount === 0 && !q.droped)).toBe(true)
      assert.isAbove(info.statusTable.T!.pullTPS, 0)
      yield* close
    }), 30_000)

  it.effect("on RESET_CONSUMER_CLIENT_OFFSET pauses, drops the listed queues, and after 10 s consumes them again from the new offsets", () =>
    Effect.gen(function*() {
      const cluster = FakeCluster.make({ T: { brokers: ["broker-a"], queues: 2 } })
      for (let i = 0; i < 10; i++) cluster.append("T", "broker-a", i % 2, `${i}`)
      const { close, consumer, engine } = yield* start(cluster, "c1", FIRST)
      const seen: Array<string> = []
      yield* Effect.forkChild(consumer.run((d) => Effect.sync(() => seen.push(`${d.queue.queueId}:${d.message.queueOffset}`))))
      yield* settle
      assert.strictEqual(seen.length, 10)
      const body = new TextEncoder().encode(
        "{\"offsetTable\":{{\"brokerName\":\"broker-a\",\"queueId\":1,\"topic\":\"T\"}:2}}"
      )
      const reset = RemotingCommand.make({
        code: RequestCode.RESET_CONSUMER_CLIENT_OFFSET,
        extFields: { topic: "T", group: "g", queueId: "-1", timestamp: "0", isForce: "true" },
        body
      })
      yield* BrokerRequests.handlers(engine.ctx, facts)[RequestCode.RESET_CONSUMER_CLIENT_OFFSET]!(reset, context)
      yield* settle
      expect((yield* consumer.assignment).map(MQ.key)).toEqual(["T@broker-a@0"])
      yield* TestClock.adjust("10 seconds")
      yield* settle
      expect(cluster.state.commits).toContainEqual(["T@broker-a@1", 2n])
      expect(seen.slice(10)).toEqual(["1:2", "1:3", "1:4"])
      yield* close
    }), 30_000)

  it.effect("ignores a RESET_CONSUMER_CLIENT_OFFSET it cannot read, and keeps consuming", () =>
    Effect.gen(function*() {
      const cluster = FakeCluster.make({ T: { brokers: ["broker-a"], queues: 1 } })
      const { close, consumer, engine } = yield* start(cluster, "c1", FIRST)
      yield* settle
      const reset = RemotingCommand.make({
        code: RequestCode.RESET_CONSUMER_CLIENT_OFFSET,
        extFields: { topic: "T", group: "g", queueId: "-1", timestamp: "0", isForce: "true" },
        body: new TextEncoder().encode("{\"offsetTable\":{{\"brokerName\":")
      })
      assert.isUndefined(yield* BrokerRequests.handlers(engine.ctx, facts)[RequestCode.RESET_CONSUMER_CLIENT_OFFSET]!(reset, context))
      assert.isFalse(engine.ctx.paused)
      expect(yield* consumer.assignment).toHaveLength(1)
      yield* close
    }), 30_000)

  it.effect("consumes a message directly through the handler and reports CR_SUCCESS, CR_LATER or CR_THROW_EXCEPTION", () =>
    Effect.gen(function*() {
      const cluster = FakeCluster.make({ T: { brokers: ["broker-a"], queues: 1 } })
      const { close, consumer, engine } = yield* start(cluster, "c1", FIRST)
      const outcomes = ["ok", "later", "fail"]
      yield* Effect.forkChild(consumer.run((d) => {
        const what = new TextDecoder().decode(d.message.body)
        return what === "ok" ? Effect.void : what === "later" ? d.nack() : Effect.fail("boom")
      }))
      yield* settle
      const handler = BrokerRequests.handlers(engine.ctx, facts)[RequestCode.CONSUME_MESSAGE_DIRECTLY]!
      const results: Array<unknown> = []
      for (const body of outcomes) {
        const stored = StoredMessage.encodeSync({
          queueId: 0, flag: 0, queueOffset: 0n, commitLogOffset: 0n, sysFlag: 0, bornTimestamp: 0,
          bornHost: { host: "127.0.0.1", port: 1 }, storeTimestamp: 0, storeHost: { host: "127.0.0.1", port: 2 },
          reconsumeTimes: 0, preparedTransactionOffset: 0n, body: new TextEncoder().encode(body), topic: "T",
          properties: { UNIQ_KEY: "ID1" }
        }) as Uint8Array
        const request = RemotingCommand.make({
          code: RequestCode.CONSUME_MESSAGE_DIRECTLY,
          extFields: { consumerGroup: "g", clientId: "c1", msgId: "ID1", brokerName: "broker-a" },
          body: stored
        })
        const answering = yield* Effect.forkChild(handler(request, context))
        yield* settle
        results.push(JSON.parse(text(yield* Fiber.join(answering))))
      }
      expect(results.map((r) => (r as { consumeResult: string }).consumeResult)).toEqual(["CR_SUCCESS", "CR_LATER", "CR_THROW_EXCEPTION"])
      expect(results[0]).toMatchObject({ autoCommit: true, order: false })
      assert.strictEqual(cluster.state.sentBack.length, 0)
      yield* close
    }), 30_000)

  it.effect("answers CONSUME_MESSAGE_DIRECTLY with CR_THROW_EXCEPTION when no reader takes it within 8 s, and SYSTEM_ERROR for a bad body", () =>
    Effect.gen(function*() {
      const cluster = FakeCluster.make({ T: { brokers: ["broker-a"], queues: 1 } })
      const { close, engine } = yield* start(cluster, "c1", FIRST)
      const handler = BrokerRequests.handlers(engine.ctx, facts)[RequestCode.CONSUME_MESSAGE_DIRECTLY]!
      const bad = RemotingCommand.make({ code: RequestCode.CONSUME_MESSAGE_DIRECTLY, extFields: { consumerGroup: "g" }, body: new Uint8Array([1, 2, 3]) })
      const refused = yield* handler(bad, context)
      assert.strictEqual(refused?.code, 1)
      expect(refused?.remark).toContain("not a stored message")
      const stored = StoredMessage.encodeSync({
        queueId: 0, flag: 0, queueOffset: 0n, commitLogOffset: 0n, sysFlag: 0, bornTimestamp: 0,
        bornHost: { host: "127.0.0.1", port: 1 }, storeTimestamp: 0, storeHost: { host: "127.0.0.1", port: 2 },
        reconsumeTimes: 0, preparedTransactionOffset: 0n, body: new Uint8Array([1]), topic: "T", properties: {}
      }) as Uint8Array
      const waiting = yield* Effect.forkChild(handler(RemotingCommand.make({
        code: RequestCode.CONSUME_MESSAGE_DIRECTLY, extFields: { consumerGroup: "g" }, body: stored
      }), context))
      yield* settle
      yield* TestClock.adjust("8 seconds")
      const answer = JSON.parse(text(yield* Fiber.join(waiting)))
      expect(answer).toMatchObject({ consumeResult: "CR_THROW_EXCEPTION" })
      expect(answer.remark).toContain("no reader")
      yield* close
    }), 30_000)

  it.effect("reports its offsets of a topic for GET_CONSUMER_STATUS_FROM_CLIENT", () =>
    Effect.gen(function*() {
      const cluster = FakeCluster.make({ T: { brokers: ["broker-a"], queues: 1 } })
      cluster.append("T", "broker-a", 0, "x")
      const { close, consumer, engine } = yield* start(cluster, "c1", FIRST)
      yield* Effect.forkChild(consumer.run(() => Effect.void))
      yield* settle
      const request = RemotingCommand.make({ code: RequestCode.GET_CONSUMER_STATUS_FROM_CLIENT, extFields: { topic: "T", group: "g" } })
      const body = text(yield* BrokerRequests.handlers(engine.ctx, facts)[RequestCode.GET_CONSUMER_STATUS_FROM_CLIENT]!(request, context))
      expect(Result.getOrThrow(QueueKeyed.parseOffsetTable(body, "messageQueueTable"))).toEqual([
        { queue: MQ.make("T", "broker-a", 0), offset: 1n }
      ])
      yield* close
    }), 30_000)
})
