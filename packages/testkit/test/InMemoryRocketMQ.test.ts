import { assert, describe, expect, it } from "@effect/vitest"
import { Broker, Heartbeat, Message, NameServer, Properties, RouteData, StoredMessage } from "@effect-rocketmq/client"
import { Codec, RemotingClient, RemotingCommand, type RemotingServer, RequestCode } from "@effect-rocketmq/remoting"
import { Effect, Fiber, Layer, Option } from "effect"
import { TestClock } from "effect/testing"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as InMemoryRocketMQ from "../src/InMemoryRocketMQ.ts"

// ---------------------------------------------------------------------------------------------
// The scenario: the client operations end to end. It only needs a RemotingClient and addresses,
// so the same function runs against the in-memory broker here and against a real broker in the
// integration suite (pass `pullRetries` there: a real broker dispatches sent messages to its
// consume queues asynchronously).
// ---------------------------------------------------------------------------------------------

export interface ScenarioTarget {
  /** The broker's `host:port`, as its name server publishes it. */
  readonly broker: string
  readonly clusterName: string
  readonly brokerName: string
  /** A suffix that makes topic and group names unique per run. */
  readonly runId: string
  /** How often to pull again when a queue has not caught up yet (0 for the in-memory broker). */
  readonly pullRetries: number
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

/** Bytes that do not compress (a fixed linear congruential sequence). */
const noise = (length: number) => {
  const out = new Uint8Array(length)
  let x = 12345
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

/** Pulls a queue from `from` until `until` (exclusive), checking offsets are consecutive. */
const drain = (
  target: ScenarioTarget,
  pull: Omit<Broker.PullRequest, "queueOffset">,
  until: bigint
) =>
  Effect.gen(function*() {
    const messages: Array<StoredMessage.StoredMessage> = []
    let offset = 0n
    let retries = 0
    while (offset < until) {
      const result = yield* Broker.pullMessage(target.broker, { ...pull, queueOffset: offset })
      if (result._tag !== "Found") {
        if (result._tag === "NoNewMsg" && retries++ < target.pullRetries) {
          yield* Effect.sleep("100 millis")
          continue
        }
        return yield* Effect.die(new Error(`pull at ${offset} of queue ${pull.queueId} gave ${result._tag} before ${until}`))
      }
      for (const message of result.messages) {
        assert.strictEqual(message.queueOffset, BigInt(messages.length), "consecutive queue offsets")
        messages.push(message)
      }
      assert.strictEqual(result.nextBeginOffset, offset + BigInt(result.messages.length))
      offset = result.nextBeginOffset
    }
    return messages
  })

export const operationsScenario = (target: ScenarioTarget) =>
  Effect.gen(function*() {
    const topic = `ScenarioTopic_${target.runId}`
    const group = `scenario_group_${target.runId}`

    // Name server: cluster layout, and no route for a topic that does not exist yet.
    const cluster = yield* NameServer.getBrokerClusterInfo()
    const brokerData = cluster.brokerAddrTable[target.brokerName]!
    assert.strictEqual(RouteData.masterAddress(brokerData), target.broker)
    expect(cluster.clusterAddrTable[target.clusterName]).toContain(target.brokerName)
    const missing = yield* Effect.flip(NameServer.getRouteInfoByTopic(topic))
    assert.strictEqual(missing._tag, "TopicNotExist")

    // Create the topic with 4 queues; the route shows it (a real broker registers it synchronously).
    yield* Broker.createTopic(target.broker, topic, { queueNums: 4 })
    yield* Broker.createTopic(target.broker, topic, { queueNums: 4 })
    const route = yield* NameServer.getRouteInfoByTopic(topic)
    const queues = RouteData.writeQueues(topic, route)
    expect(queues.map((q) => q.queueId)).toEqual([0, 1, 2, 3])
    assert.strictEqual(RouteData.brokerAddress(route, target.brokerName), target.broker)
    expect((yield* NameServer.getAllTopicList()).topicList).toContain(topic)

    // Heartbeat as a producer and a pull consumer.
    const heartbeat = yield* Broker.heartbeat(target.broker, {
      clientID: `127.0.0.1@scenario_${target.runId}`,
      producerDataSet: [{ groupName: `scenario_producer_${target.runId}` }],
      consumerDataSet: [{
        groupName: group,
        consumeType: "CONSUME_ACTIVELY",
        messageModel: "CLUSTERING",
        consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
        subscriptionDataSet: [Heartbeat.subscription(topic, "*", 0)],
        unitMode: false
      }]
    })
    assert.isAbove(heartbeat.brokerVersion, 400)

    // Send 3 messages per queue: tags, keys, user properties, a 1-byte body, a compressed body and
    // one larger than the broker's 256 KiB per-pull transfer limit. (Empty bodies cannot be sent: a
    // 5.3.3 broker fails on them with a NullPointerException, and the client refuses them.)
    const bodies = new Map<string, Uint8Array>()
    const sent: Array<Broker.SendResult> = []
    for (const queue of queues) {
      for (let i = 0; i < 3; i++) {
        const n = queue.queueId * 3 + i
        const body = n === 1
          ? new Uint8Array([0])
          : n === 4
          ? new Uint8Array(10_000).fill(65)
          : n === 7
          ? noise(300 * 1024)
          : new TextEncoder().encode(`message ${n}`)
        const result = yield* Broker.sendMessage(
          target.broker,
          Message.make(topic, body, {
            tags: n % 2 === 0 ? "even" : "odd",
            keys: [`key${n}`, "scenario"],
            properties: { n: String(n), "unicode-Ω": "värde ✓" }
          }),
          { producerGroup: `scenario_producer_${target.runId}`, queueId: queue.queueId, compressOverBytes: 4096 }
        )
        assert.strictEqual(result.status, "SEND_OK")
        assert.strictEqual(result.queueId, queue.queueId)
        assert.strictEqual(result.queueOffset, BigInt(i))
        assert.match(result.offsetMsgId, /^[0-9A-F]{32}$/)
        assert.strictEqual(result.transactionId, result.msgId)
        bodies.set(result.msgId, body)
        sent.push(result)
      }
    }
    expect(new Set(sent.map((r) => r.msgId)).size).toBe(12)

    // Max offsets and a full drain of every queue: exact bodies and properties, each once.
    const received = new Map<string, StoredMessage.StoredMessage>()
    for (const queue of queues) {
      assert.strictEqual(yield* Broker.getMaxOffset(target.broker, { topic, queueId: queue.queueId }), 3n)
      const messages = yield* drain(target, { consumerGroup: group, topic, queueId: queue.queueId }, 3n)
      assert.strictEqual(messages.length, 3)
      for (const message of messages) {
        assert.isFalse(received.has(message.msgId))
        received.set(message.msgId, message)
      }
    }
    for (const result of sent) {
      const message = received.get(result.msgId)!
      assert.isTrue(Buffer.from(message.body).equals(Buffer.from(bodies.get(result.msgId)!)), `body of ${result.msgId}`)
      assert.strictEqual(message.offsetMsgId, result.offsetMsgId)
      assert.strictEqual(message.queueId, result.queueId)
      assert.strictEqual(message.queueOffset, result.queueOffset)
      assert.strictEqual(message.topic, topic)
      const n = Number(Properties.get(message.properties, "n"))
      assert.strictEqual(Message.tagsOf(message), n % 2 === 0 ? "even" : "odd")
      expect(Message.keysOf(message)).toEqual([`key${n}`, "scenario"])
      expect({ ...Message.userProperties(message) }).toEqual({ n: String(n), "unicode-Ω": "värde ✓" })
      assert.strictEqual(Properties.get(message.properties, "CLUSTER"), target.clusterName)
    }

    // The 300 KiB message (queue 2, offset 1) comes alone: a broker sends at most 256 KiB per pull,
    // but always at least one message.
    const before = yield* Broker.pullMessage(target.broker, { consumerGroup: group, topic, queueId: 2, queueOffset: 0n })
    expect(before).toMatchObject({ _tag: "Found", nextBeginOffset: 1n })
    const large = yield* Broker.pullMessage(target.broker, { consumerGroup: group, topic, queueId: 2, queueOffset: 1n })
    expect(large).toMatchObject({ _tag: "Found", nextBeginOffset: 2n })
    assert.isTrue(large._tag === "Found" && large.messages.length === 1 && large.messages[0]!.body.length === 300 * 1024)

    // Tag filtering, past the end, far past the end, and an illegal queue id.
    const odd = yield* Broker.pullMessage(target.broker, { consumerGroup: group, topic, queueId: 0, queueOffset: 0n, subscription: "odd" })
    assert.isTrue(odd._tag === "Found")
    if (odd._tag === "Found") expect(odd.messages.map((m) => Message.tagsOf(m))).toEqual(["odd"])
    const end = yield* Broker.pullMessage(target.broker, { consumerGroup: group, topic, queueId: 0, queueOffset: 3n })
    expect(end).toMatchObject({ _tag: "NoNewMsg", nextBeginOffset: 3n, minOffset: 0n, maxOffset: 3n })
    const far = yield* Broker.pullMessage(target.broker, { consumerGroup: group, topic, queueId: 0, queueOffset: 10n })
    expect(far).toMatchObject({ _tag: "OffsetIllegal", nextBeginOffset: 3n, maxOffset: 3n })
    const illegal = yield* Effect.flip(
      Broker.pullMessage(target.broker, { consumerGroup: group, topic, queueId: 99, queueOffset: 0n })
    )
    expect(illegal).toMatchObject({ _tag: "RemoteError", responseName: "INVALID_PARAMETER", requestCode: 11 })

    // Consumer offsets: none stored, then stored.
    const ref = { consumerGroup: group, topic, queueId: 1 }
    const none = yield* Broker.queryConsumerOffset(target.broker, ref, { setZeroIfNotFound: false })
    assert.isTrue(Option.isNone(none))
    yield* Broker.updateConsumerOffset(target.broker, { ...ref, commitOffset: 2n })
    expect(yield* Broker.queryConsumerOffset(target.broker, ref)).toEqual(Option.some(2n))

    // A missing topic on the broker.
    const noTopic = yield* Effect.flip(
      Broker.pullMessage(target.broker, { consumerGroup: group, topic: `Missing_${target.runId}`, queueId: 0, queueOffset: 0n })
    )
    assert.strictEqual(noTopic._tag, "TopicNotExist")
    return { topic, sent: sent.length }
  })

// ---------------------------------------------------------------------------------------------
// Against the in-memory broker.
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
        pullRetries: 0
      }).pipe(Effect.provide(layer))
      assert.strictEqual(outcome.sent, 12)
      assert.strictEqual(rmq.queueSize("ScenarioTopic_1", 3), 3)
      assert.strictEqual(rmq.consumerOffset("scenario_group_1", "ScenarioTopic_1", 1), 2n)
    }))

  it.effect("answers 106, 105 and 17 with the exact bodies and remarks a real 5.3.3 broker sends", () =>
    Effect.gen(function*() {
      const { rmq } = yield* setup
      const call = (code: number, extFields?: Record<string, string>, version?: number) =>
        rmq.handle(RemotingCommand.make({ code, extFields, version }))
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
      const legacy = yield* rmq.handle(RemotingCommand.make({ code: 105, extFields: { topic: "DefaultCluster" }, version: 317 }))
      expect(text(legacy.body!)).toContain("\"brokerAddrs\":{0:\"127.0.0.1:10911\"}")
      const asked = yield* rmq.handle(
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
      yield* Broker.createTopic(BROKER, "T", { queueNums: 2 }).pipe(Effect.provide(layer))
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
      const system = yield* Effect.flip(Broker.createTopic(BROKER, "TBW102")).pipe(Effect.provide(layer))
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
      yield* Broker.createTopic(BROKER, "P", { queueNums: 1 }).pipe(Effect.provide(layer))
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
      yield* Broker.createTopic(BROKER, "L", { queueNums: 1 }).pipe(Effect.provide(layer))
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
      yield* rmq.handle(RemotingCommand.make({
        code: 17,
        extFields: { topic: "S", defaultTopic: "TBW102", readQueueNums: "1", writeQueueNums: "1", perm: "6", topicFilterType: "SINGLE_TAG", order: "false" }
      }))
      const pull = (sysFlag: string) =>
        rmq.handle(RemotingCommand.make({
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
      const sql = yield* rmq.handle(RemotingCommand.make({
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
      yield* Broker.createTopic(BROKER, "O", { queueNums: 1 }).pipe(Effect.provide(layer))
      const ref = { consumerGroup: "fresh", topic: "O", queueId: 0 }
      const unknown = yield* Effect.flip(Broker.updateConsumerOffset(BROKER, { ...ref, commitOffset: 1n })).pipe(Effect.provide(layer))
      expect(unknown).toMatchObject({ _tag: "RemoteError", responseName: "SUBSCRIPTION_GROUP_NOT_EXIST", remark: "Group fresh not exist!" })
      // A pull creates the group (autoCreateSubscriptionGroup) and can commit an offset on the way.
      expect(yield* Broker.queryConsumerOffset(BROKER, ref).pipe(Effect.provide(layer))).toEqual(Option.none())
      yield* Broker.sendMessage(BROKER, Message.make("O", "x"), { queueId: 0 }).pipe(Effect.provide(layer))
      expect(yield* Broker.queryConsumerOffset(BROKER, ref).pipe(Effect.provide(layer))).toEqual(Option.some(0n))
      yield* Broker.pullMessage(BROKER, { ...ref, queueOffset: 0n, commitOffset: 1n }).pipe(Effect.provide(layer))
      expect(yield* Broker.queryConsumerOffset(BROKER, ref).pipe(Effect.provide(layer))).toEqual(Option.some(1n))
      yield* Broker.updateConsumerOffset(BROKER, { ...ref, commitOffset: 5n }, { oneway: true }).pipe(Effect.provide(layer))
      expect(yield* Broker.queryConsumerOffset(BROKER, ref).pipe(Effect.provide(layer))).toEqual(Option.some(5n))
    }))

  it.effect("answers unreadable requests with SYSTEM_ERROR and never fails", () =>
    Effect.gen(function*() {
      const { rmq } = yield* setup
      const noTopic = yield* rmq.handle(RemotingCommand.make({ code: 105 }))
      assert.strictEqual(noTopic.code, 1)
      expect(noTopic.remark).toContain("GetRouteInfoRequestHeader")
      const badSend = yield* rmq.handle(RemotingCommand.make({ code: 310, extFields: { a: "g", b: "T" } }))
      assert.strictEqual(badSend.code, 1)
      const noBody = yield* rmq.handle(RemotingCommand.make({
        code: 310,
        extFields: { a: "g", b: "T", c: "TBW102", d: "4", e: "0", f: "0", g: "0", h: "0" }
      }))
      expect([noBody.code, noBody.remark]).toEqual([1, expect.stringContaining("NullPointerException")])
      const badHeartbeat = yield* rmq.handle(RemotingCommand.make({ code: 34, body: new TextEncoder().encode("{nope") }))
      assert.strictEqual(badHeartbeat.code, 1)
      // Properties too long for a stored record: the client refuses them, a hostile peer gets MESSAGE_ILLEGAL.
      const hostile = yield* rmq.handle(RemotingCommand.make({
        code: 310,
        extFields: { a: "g", b: "T", c: "TBW102", d: "4", e: "0", f: "0", g: "0", h: "0", i: `k\u0001${"v".repeat(40000)}\u0002` },
        body: new Uint8Array([1])
      }))
      assert.strictEqual(hostile.code, 13)
    }))

  it.effect("accepts SEND_MESSAGE (10) with the long header names", () =>
    Effect.gen(function*() {
      const { rmq } = yield* setup
      const response = yield* rmq.handle(RemotingCommand.make({
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

  it.effect("has handlers that RemotingServer can serve as processors", () =>
    Effect.gen(function*() {
      const { rmq } = yield* setup
      const processors: RemotingServer.Processors = rmq.processors
      const one: RemotingServer.Processor = rmq.handle
      assert.strictEqual(rmq.processors.size, 11)
      expect([...rmq.nameServerProcessors.keys()]).toEqual([105, 106, 206])
      expect([...rmq.brokerProcessors.keys()]).toEqual([17, 10, 310, 11, 34, 30, 14, 15])
      assert.isDefined(processors)
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
      // Served on another address once a server knows its port.
      yield* rmq.setBrokerAddress("127.0.0.1:20911")
      const info = yield* NameServer.getBrokerClusterInfo().pipe(
        Effect.provide(Layer.succeed(RemotingClient.RemotingClient, client))
      )
      assert.strictEqual(RouteData.masterAddress(info.brokerAddrTable["broker-a"]!), "127.0.0.1:20911")
    }))
})
