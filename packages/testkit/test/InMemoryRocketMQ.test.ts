import { assert, describe, expect, it } from "@effect/vitest"
import { Admin, Broker, Heartbeat, Message, NameServer, Offsets, RouteData } from "@effect-rocketmq/client"
import { Codec, RemotingClient, RemotingCommand, type RemotingServer, RequestCode } from "@effect-rocketmq/remoting"
import { Effect, Fiber, Layer, Option } from "effect"
import { TestClock } from "effect/testing"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as InMemoryRocketMQ from "../src/InMemoryRocketMQ.ts"
import { operationsScenario } from "./support/operations.ts"

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

/** The response `rmq` gives to `request` (every request here gets one). */
const answer = (rmq: InMemoryRocketMQ.InMemoryRocketMQShape, request: RemotingCommand.RemotingCommand) =>
  Effect.flatMap(rmq.handle(request), (response) =>
    response === undefined ? Effect.die(`no answer to ${RemotingCommand.describe(request)}`) : Effect.succeed(response))

// ---------------------------------------------------------------------------------------------
// Against the in-memory broker. The operations scenario (support/operations.ts) also runs against
// a real Apache RocketMQ in RealBroker.integration.test.ts.
// ---------------------------------------------------------------------------------------------

const here = path.dirname(fileURLToPath(import.meta.url))
const samples = path.resolve(here, "../../../scripts/rocketmq/samples")
const sampleText = (name: string) => fs.readFileSync(path.join(samples, `${name}.txt`), "utf8")

const BROKER = "127.0.0.1:10911"

const setup = Effect.gen(function*() {
  const rmq = yield* InMemoryRocketMQ.make()
  const layer = Layer.succeed(RemotingClient.RemotingClient, InMemoryRocketMQ.remotingClient(rmq))
  return { rmq, layer }
})

describe("InMemoryRocketMQ", () => {
  it.effect("passes the operations scenario", () =>
    Effect.gen(function*() {
      const { layer, rmq } = yield* setup
      const outcome = yield* operationsScenario({
        broker: BROKER,
        clusterName: "DefaultCluster",
        brokerName: "broker-a",
        runId: "1",
        catchUpRetries: 0
      }).pipe(Effect.provide(layer))
      assert.strictEqual(outcome.sent, 12)
      assert.strictEqual(rmq.broker().queueSize("ScenarioTopic_1", 3), 3)
      assert.strictEqual(rmq.broker().consumerOffset("scenario_group_1", "ScenarioTopic_1", 1), 2n)
    }))

  it.effect("answers 106, 105 and 17 with the exact bodies and remarks a real 5.3.3 broker sends", () =>
    Effect.gen(function*() {
      const { rmq } = yield* setup
      const call = (code: number, extFields?: Record<string, string>, version?: number) =>
        answer(rmq, RemotingCommand.make({ code, extFields, version }))
      const cluster = yield* call(RequestCode.GET_BROKER_CLUSTER_INFO)
      assert.strictEqual(text(cluster.body!), sampleText("cluster-info-106"))
      const route = yield* call(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: "DefaultCluster" })
      assert.strictEqual(text(route.body!), sampleText("route-105"))
      const missing = yield* call(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: "TestTopic" })
      assert.strictEqual(missing.code, 17)
      assert.strictEqual(
        missing.remark,
        "No topic route info in name server for the topic: TestTopic\nSee https://rocketmq.apache.org/docs/bestPractice/06FAQ for further details."
      )
      const created = yield* call(RequestCode.UPDATE_AND_CREATE_TOPIC, {
        topic: "TestTopic",
        defaultTopic: "TBW102",
        readQueueNums: "4",
        writeQueueNums: "4",
        perm: "6",
        topicFilterType: "SINGLE_TAG",
        order: "false"
      })
      expect([created.code, created.remark]).toEqual([0, "not set any response code"])
      const after = yield* call(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: "TestTopic" })
      assert.strictEqual(text(after.body!), sampleText("route-105-TestTopic"))
      const unknown = yield* call(9999)
      expect([unknown.code, unknown.remark]).toEqual([3, " request type 9999 not supported"])
    }))

  it.effect("writes route data with bare integer keys to old clients (version < 401 without acceptStandardJsonOnly)", () =>
    Effect.gen(function*() {
      const { rmq } = yield* setup
      const legacy = yield* answer(rmq, RemotingCommand.make({ code: 105, extFields: { topic: "DefaultCluster" }, version: 317 }))
      expect(text(legacy.body!)).toContain("\"brokerAddrs\":{0:\"127.0.0.1:10911\"}")
      const asked = yield* answer(rmq, 
        RemotingCommand.make({ code: 105, extFields: { topic: "DefaultCluster", acceptStandardJsonOnly: "true" }, version: 317 })
      )
      expect(text(asked.body!)).toContain("\"brokerAddrs\":{\"0\":\"127.0.0.1:10911\"}")
      // The client reads both.
      const layer = Layer.succeed(RemotingClient.RemotingClient, InMemoryRocketMQ.remotingClient(rmq))
      const route = yield* NameServer.getRouteInfoByTopic("DefaultCluster").pipe(Effect.provide(layer))
      assert.strictEqual(RouteData.brokerAddress(route, "broker-a"), BROKER)
    }))

  it.effect("stores sent messages as a broker does: consecutive offsets, growing commit-log offsets, broker properties", () =>
    Effect.gen(function*() {
      const { layer } = yield* setup
      yield* TestClock.setTime(1_764_028_800_000)
      const results = yield* Effect.forEach(
        ["a", "bb", "ccc"],
        (body) => Broker.sendMessage(BROKER, Message.make("AutoTopic", body), { queueId: 0 })
      ).pipe(Effect.provide(layer))
      expect(results.map((r) => r.queueOffset)).toEqual([0n, 1n, 2n])
      // Offset msgIds: 127.0.0.1:10911 and the commit-log offset, which grows by each record's size.
      const commitOffsets = results.map((r) => BigInt(`0x${r.offsetMsgId.slice(16)}`))
      assert.strictEqual(results[0]!.offsetMsgId.slice(0, 16), "7F00000100002A9F")
      assert.strictEqual(commitOffsets[0], 0n)
      const pulled = yield* Broker.pullMessage(BROKER, { consumerGroup: "g", topic: "AutoTopic", queueId: 0, queueOffset: 0n })
        .pipe(Effect.provide(layer))
      assert.isTrue(pulled._tag === "Found")
      if (pulled._tag !== "Found") return
      expect(pulled.messages.map((m) => m.commitLogOffset)).toEqual(commitOffsets)
      assert.strictEqual(commitOffsets[1], BigInt(pulled.messages[0]!.storeSize))
      const first = pulled.messages[0]!
      assert.strictEqual(first.storeTimestamp, 1_764_028_800_000)
      assert.strictEqual(first.bornTimestamp, 1_764_028_800_000)
      expect(first.bornHost).toEqual({ host: "127.0.0.1", port: 50000 })
      expect({ ...first.properties }).toMatchObject({ MSG_REGION: "DefaultRegion", TRACE_ON: "true", CLUSTER: "DefaultCluster" })
      // The auto-created topic got min(4, 8) queues.
      const route = yield* NameServer.getRouteInfoByTopic("AutoTopic").pipe(Effect.provide(layer))
      assert.strictEqual(route.queueDatas[0]!.writeQueueNums, 4)
    }))

  it.effect("spreads sends without a queue id round-robin and rejects bad topics, queues and bodies", () =>
    Effect.gen(function*() {
      const rmq = yield* InMemoryRocketMQ.make({ autoCreateTopic: false, maxMessageSize: 16 })
      const layer = Layer.succeed(RemotingClient.RemotingClient, InMemoryRocketMQ.remotingClient(rmq))
      yield* Admin.createTopic(BROKER, "T", { queueNums: 2 }).pipe(Effect.provide(layer))
      const ids = yield* Effect.forEach([1, 2, 3], () => Broker.sendMessage(BROKER, Message.make("T", "x")))
        .pipe(Effect.provide(layer))
      expect(ids.map((r) => r.queueId)).toEqual([0, 1, 0])
      const fail = (message: Message.Message, options?: Broker.SendOptions) =>
        Effect.flip(Broker.sendMessage(BROKER, message, options)).pipe(Effect.provide(layer))
      expect(yield* fail(Message.make("Nope", "x"))).toMatchObject({ _tag: "TopicNotExist", topic: "Nope" })
      expect(yield* fail(Message.make("T", "x"), { queueId: 2 })).toMatchObject({ responseName: "INVALID_PARAMETER" })
      expect(yield* fail(Message.make("bad topic", "x"))).toMatchObject({ responseName: "INVALID_PARAMETER" })
      expect(yield* fail(Message.make("T", "x".repeat(17)))).toMatchObject({ responseName: "MESSAGE_ILLEGAL" })
      expect(yield* fail(Message.make("SCHEDULE_TOPIC_XXXX", "x"))).toMatchObject({ responseName: "NO_PERMISSION" })
      const system = yield* Effect.flip(Admin.createTopic(BROKER, "TBW102")).pipe(Effect.provide(layer))
      expect(system).toMatchObject({ responseName: "INVALID_PARAMETER", remark: "The topic[TBW102] is conflict with system topic." })
    }))

  it.effect("pulls by the store's rules: empty queue, end, beyond, and tag filters that match nothing", () =>
    Effect.gen(function*() {
      const { layer } = yield* setup
      const pull = (queueOffset: bigint, subscription?: string) =>
        Broker.pullMessage(BROKER, {
          consumerGroup: "g",
          topic: "P",
          queueId: 0,
          queueOffset,
          ...(subscription !== undefined ? { subscription } : {})
        }).pipe(Effect.provide(layer))
      yield* Admin.createTopic(BROKER, "P", { queueNums: 1 }).pipe(Effect.provide(layer))
      expect(yield* pull(0n)).toMatchObject({ _tag: "NoNewMsg", nextBeginOffset: 0n, maxOffset: 0n })
      expect(yield* pull(5n)).toMatchObject({ _tag: "OffsetIllegal", nextBeginOffset: 0n })
      yield* Broker.sendMessage(BROKER, Message.make("P", "1", { tags: "a" }), { queueId: 0 }).pipe(Effect.provide(layer))
      yield* Broker.sendMessage(BROKER, Message.make("P", "2", { tags: "b" }), { queueId: 0 }).pipe(Effect.provide(layer))
      yield* Broker.sendMessage(BROKER, Message.make("P", "3"), { queueId: 0 }).pipe(Effect.provide(layer))
      expect(yield* pull(0n, "zzz")).toMatchObject({ _tag: "NoMatchedMsg", nextBeginOffset: 3n })
      const b = yield* pull(0n, "b")
      assert.isTrue(b._tag === "Found" && b.messages.length === 1 && text(b.messages[0]!.body) === "2")
      expect(yield* pull(3n)).toMatchObject({ _tag: "NoNewMsg", nextBeginOffset: 3n, maxOffset: 3n })
      expect(yield* pull(4n)).toMatchObject({ _tag: "OffsetIllegal", nextBeginOffset: 3n })
    }))

  it.effect("holds a suspended pull until a message arrives, or answers NoNewMsg when the suspension ends", () =>
    Effect.gen(function*() {
      const { layer } = yield* setup
      yield* Admin.createTopic(BROKER, "L", { queueNums: 1 }).pipe(Effect.provide(layer))
      const longPoll = Broker.pullMessage(BROKER, {
        consumerGroup: "g",
        topic: "L",
        queueId: 0,
        queueOffset: 0n,
        suspendTimeoutMillis: 15_000
      }).pipe(Effect.provide(layer))
      const waiting = yield* Effect.forkChild(longPoll, { startImmediately: true })
      yield* TestClock.adjust("1 second")
      assert.isUndefined(waiting.pollUnsafe())
      yield* Broker.sendMessage(BROKER, Message.make("L", "wake"), { queueId: 0 }).pipe(Effect.provide(layer))
      const woken = yield* Fiber.join(waiting)
      assert.isTrue(woken._tag === "Found" && text(woken.messages[0]!.body) === "wake")
      const idle = yield* Effect.forkChild(
        Broker.pullMessage(BROKER, { consumerGroup: "g", topic: "L", queueId: 0, queueOffset: 1n, suspendTimeoutMillis: 15_000 })
          .pipe(Effect.provide(layer)),
        { startImmediately: true }
      )
      yield* TestClock.adjust("15 seconds")
      expect(yield* Fiber.join(idle)).toMatchObject({ _tag: "NoNewMsg", nextBeginOffset: 1n })
    }))

  it.effect("needs a subscription: from the pull's flag, or from a heartbeat of the group", () =>
    Effect.gen(function*() {
      const { rmq } = yield* setup
      yield* answer(rmq, RemotingCommand.make({
        code: 17,
        extFields: { topic: "S", defaultTopic: "TBW102", readQueueNums: "1", writeQueueNums: "1", perm: "6", topicFilterType: "SINGLE_TAG", order: "false" }
      }))
      const pull = (sysFlag: string) =>
        answer(rmq, RemotingCommand.make({
          code: 11,
          extFields: {
            consumerGroup: "hb",
            topic: "S",
            queueId: "0",
            queueOffset: "0",
            maxMsgNums: "32",
            sysFlag,
            commitOffset: "0",
            suspendTimeoutMillis: "0",
            subVersion: "0"
          }
        }))
      const without = yield* pull("0")
      expect([without.code, without.remark]).toEqual([24, expect.stringContaining("the consumer's group info not exist")])
      const layer = Layer.succeed(RemotingClient.RemotingClient, InMemoryRocketMQ.remotingClient(rmq))
      yield* Broker.heartbeat(BROKER, {
        clientID: "c",
        producerDataSet: [],
        consumerDataSet: [{
          groupName: "hb",
          consumeType: "CONSUME_PASSIVELY",
          messageModel: "CLUSTERING",
          consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
          subscriptionDataSet: [Heartbeat.subscription("S", "*", 0)],
          unitMode: false
        }]
      }).pipe(Effect.provide(layer))
      assert.strictEqual((yield* pull("0")).code, 19)
      const sql = yield* answer(rmq, RemotingCommand.make({
        code: 11,
        extFields: {
          consumerGroup: "hb",
          topic: "S",
          queueId: "0",
          queueOffset: "0",
          maxMsgNums: "32",
          sysFlag: "4",
          commitOffset: "0",
          suspendTimeoutMillis: "0",
          subVersion: "0",
          subscription: "a > 1",
          expressionType: "SQL92"
        }
      }))
      expect([sql.code, sql.remark]).toEqual([1, "The broker does not support consumer to filter message by SQL92"])
    }))

  it.effect("keeps consumer offsets by Java's rules: unknown groups are refused, empty queues have none", () =>
    Effect.gen(function*() {
      const { layer } = yield* setup
      yield* Admin.createTopic(BROKER, "O", { queueNums: 1 }).pipe(Effect.provide(layer))
      const ref = { consumerGroup: "fresh", topic: "O", queueId: 0 }
      const unknown = yield* Effect.flip(Offsets.updateConsumerOffset(BROKER, { ...ref, commitOffset: 1n })).pipe(Effect.provide(layer))
      expect(unknown).toMatchObject({ _tag: "RemoteError", responseName: "SUBSCRIPTION_GROUP_NOT_EXIST", remark: "Group fresh not exist!" })
      // A pull creates the group (autoCreateSubscriptionGroup) and can commit an offset on the way.
      expect(yield* Offsets.queryConsumerOffset(BROKER, ref).pipe(Effect.provide(layer))).toEqual(Option.none())
      yield* Broker.sendMessage(BROKER, Message.make("O", "x"), { queueId: 0 }).pipe(Effect.provide(layer))
      expect(yield* Offsets.queryConsumerOffset(BROKER, ref).pipe(Effect.provide(layer))).toEqual(Option.some(0n))
      yield* Broker.pullMessage(BROKER, { ...ref, queueOffset: 0n, commitOffset: 1n }).pipe(Effect.provide(layer))
      expect(yield* Offsets.queryConsumerOffset(BROKER, ref).pipe(Effect.provide(layer))).toEqual(Option.some(1n))
      yield* Offsets.updateConsumerOffset(BROKER, { ...ref, commitOffset: 5n }, { oneway: true }).pipe(Effect.provide(layer))
      expect(yield* Offsets.queryConsumerOffset(BROKER, ref).pipe(Effect.provide(layer))).toEqual(Option.some(5n))
    }))

  it.effect("answers unreadable requests with SYSTEM_ERROR and never fails", () =>
    Effect.gen(function*() {
      const { rmq } = yield* setup
      const noTopic = yield* answer(rmq, RemotingCommand.make({ code: 105 }))
      assert.strictEqual(noTopic.code, 1)
      expect(noTopic.remark).toContain("GetRouteInfoRequestHeader")
      const badSend = yield* answer(rmq, RemotingCommand.make({ code: 310, extFields: { a: "g", b: "T" } }))
      assert.strictEqual(badSend.code, 1)
      const noBody = yield* answer(rmq, RemotingCommand.make({
        code: 310,
        extFields: { a: "g", b: "T", c: "TBW102", d: "4", e: "0", f: "0", g: "0", h: "0" }
      }))
      expect([noBody.code, noBody.remark]).toEqual([1, expect.stringContaining("NullPointerException")])
      const badHeartbeat = yield* answer(rmq, RemotingCommand.make({ code: 34, body: new TextEncoder().encode("{nope") }))
      assert.strictEqual(badHeartbeat.code, 1)
      // Properties too long for a stored record: the client refuses them, a hostile peer gets MESSAGE_ILLEGAL.
      const hostile = yield* answer(rmq, RemotingCommand.make({
        code: 310,
        extFields: { a: "g", b: "T", c: "TBW102", d: "4", e: "0", f: "0", g: "0", h: "0", i: `k\u0001${"v".repeat(40000)}\u0002` },
        body: new Uint8Array([1])
      }))
      assert.strictEqual(hostile.code, 13)
    }))

  it.effect("accepts SEND_MESSAGE (10) with the long header names", () =>
    Effect.gen(function*() {
      const { rmq } = yield* setup
      const response = yield* answer(rmq, RemotingCommand.make({
        code: RequestCode.SEND_MESSAGE,
        extFields: {
          producerGroup: "g",
          topic: "V1Topic",
          defaultTopic: "TBW102",
          defaultTopicQueueNums: "2",
          queueId: "1",
          sysFlag: "0",
          bornTimestamp: "0",
          flag: "0",
          properties: "UNIQ_KEY\u0001ABC\u0002"
        },
        body: new TextEncoder().encode("v1")
      }))
      expect([response.code, response.extFields["queueId"], response.extFields["transactionId"]]).toEqual([0, "1", "ABC"])
    }))

  it.effect("has handlers that RemotingServer can serve as processors, one table for the name server and one per broker", () =>
    Effect.gen(function*() {
      const { rmq } = yield* setup
      const processors: RemotingServer.Processors = rmq.broker().processors
      const one: RemotingServer.Processor = rmq.handle
      expect([...rmq.nameServerProcessors.keys()].sort((a, b) => a - b)).toEqual([105, 106, 206, 216, 224])
      expect([...processors.keys()].sort((a, b) => a - b)).toEqual(
        expect.arrayContaining([10, 11, 14, 15, 17, 29, 30, 31, 34, 35, 38, 215, 310, 320])
      )
      assert.isDefined(one)
    }))

  it.effect("goes through the frame codec and refuses unknown addresses like a closed port", () =>
    Effect.gen(function*() {
      const { rmq } = yield* setup
      const client = InMemoryRocketMQ.remotingClient(rmq)
      const refused = yield* Effect.flip(client.invoke("127.0.0.1:1", RemotingCommand.make({ code: 106 })))
      assert.strictEqual(refused._tag, "ConnectError")
      // The name server address answers name server codes only, the broker address broker codes only.
      const wrong = yield* client.invoke("127.0.0.1:9876", RemotingCommand.make({ code: 310 }))
      assert.strictEqual(wrong.code, 3)
      const response = yield* client.invoke(BROKER, RemotingCommand.make({ code: 30, extFields: { topic: "x", queueId: "0" } }))
      assert.isTrue(RemotingCommand.isResponse(response))
      const frame = Codec.encodeFrame(response)
      assert.isAbove(frame.length, 8)
    }))
})
