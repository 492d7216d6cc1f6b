/**
 * The operations scenario: the client operations end to end, written against any layer that
 * provides a RemotingClient. InMemoryRocketMQ.test.ts runs it against the in-memory broker and
 * RealBroker.integration.test.ts against a real Apache RocketMQ, so both brokers are held to the
 * same expectations.
 *
 * (It lives here, not in a test file: importing a test file would run that file's tests again.)
 */
import { assert, expect } from "@effect/vitest"
import { Admin, Broker, Heartbeat, Message, NameServer, Offsets, Properties, RouteData, StoredMessage } from "@effect-rocketmq/client"
import type { RemotingClient } from "@effect-rocketmq/remoting"
import { Effect, Option } from "effect"

export interface ScenarioTarget {
  /** The broker's `host:port`, as its name server publishes it. */
  readonly broker: string
  readonly clusterName: string
  readonly brokerName: string
  /** A suffix that makes topic and group names unique per run. */
  readonly runId: string
  /**
   * How often to ask again, 100 ms apart, while the broker has not caught up yet: a new topic's
   * route not yet at the name server, a sent message not yet dispatched to its consume queue. 0
   * for the in-memory broker, which does both before it answers; a real broker does both
   * asynchronously.
   */
  readonly catchUpRetries: number
}

/** Bytes that do not compress (a fixed linear congruential sequence). */
export const noise = (length: number, seed = 12345) => {
  const out = new Uint8Array(length)
  let x = seed
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    out[i] = x >>> 24
  }
  return out
}

/**
 * Runs `effect` until `done` holds for its value, at most `retries` more times, 100 ms apart;
 * returns the last value either way (the caller asserts on it).
 */
export const catchUp = <A, E, R>(
  retries: number,
  effect: Effect.Effect<A, E, R>,
  done: (a: A) => boolean
): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    let value = yield* effect
    for (let i = 0; i < retries && !done(value); i++) {
      yield* Effect.sleep("100 millis")
      value = yield* effect
    }
    return value
  })

/**
 * Pulls a queue from offset 0 until `until` (exclusive), checking that queue offsets are
 * consecutive from 0 and that every pull moves `nextBeginOffset` past exactly what it returned.
 * NO_NEW_MSG before `until` is retried `retries` times in all (a real broker dispatches sent
 * messages to the consume queue asynchronously); any other outcome fails the test.
 */
export const drain = (
  broker: string,
  pull: Omit<Broker.PullRequest, "queueOffset">,
  until: bigint,
  retries: number
): Effect.Effect<Array<StoredMessage.StoredMessage>, Broker.BrokerError, RemotingClient.RemotingClient> =>
  Effect.gen(function*() {
    const messages: Array<StoredMessage.StoredMessage> = []
    let offset = 0n
    let left = retries
    while (offset < until) {
      const result = yield* Broker.pullMessage(broker, { ...pull, queueOffset: offset })
      if (result._tag !== "Found") {
        if (result._tag === "NoNewMsg" && left-- > 0) {
          yield* Effect.sleep("100 millis")
          continue
        }
        return yield* Effect.die(
          new Error(`pull at ${offset} of ${pull.topic}/${pull.queueId} gave ${result._tag} before offset ${until}`)
        )
      }
      assert.isAbove(result.messages.length, 0, "FOUND carries at least one message")
      for (const message of result.messages) {
        assert.strictEqual(message.queueOffset, BigInt(messages.length), "consecutive queue offsets from 0")
        assert.strictEqual(message.queueId, pull.queueId)
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
    const retries = target.catchUpRetries

    // Name server: cluster layout, and no route for a topic that does not exist yet.
    const cluster = yield* NameServer.getBrokerClusterInfo()
    const brokerData = cluster.brokerAddrTable[target.brokerName]!
    assert.strictEqual(RouteData.masterAddress(brokerData), target.broker)
    expect(cluster.clusterAddrTable[target.clusterName]).toContain(target.brokerName)
    const missing = yield* Effect.flip(NameServer.getRouteInfoByTopic(topic))
    assert.strictEqual(missing._tag, "TopicNotExist")

    // Create the topic with 4 queues (twice: it is idempotent); the route shows it.
    yield* Admin.createTopic(target.broker, topic, { queueNums: 4 })
    yield* Admin.createTopic(target.broker, topic, { queueNums: 4 })
    const route = yield* catchUp(
      retries,
      Effect.result(NameServer.getRouteInfoByTopic(topic)),
      (r) => r._tag === "Success"
    ).pipe(Effect.flatMap(Effect.fromResult))
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
      const maxOffset = yield* catchUp(
        retries,
        Offsets.getMaxOffset(target.broker, { topic, queueId: queue.queueId }),
        (offset) => offset === 3n
      )
      assert.strictEqual(maxOffset, 3n)
      const messages = yield* drain(target.broker, { consumerGroup: group, topic, queueId: queue.queueId }, 3n, retries)
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
    const none = yield* Offsets.queryConsumerOffset(target.broker, ref, { setZeroIfNotFound: false })
    assert.isTrue(Option.isNone(none))
    yield* Offsets.updateConsumerOffset(target.broker, { ...ref, commitOffset: 2n })
    expect(yield* Offsets.queryConsumerOffset(target.broker, ref)).toEqual(Option.some(2n))

    // A missing topic on the broker.
    const noTopic = yield* Effect.flip(
      Broker.pullMessage(target.broker, { consumerGroup: group, topic: `Missing_${target.runId}`, queueId: 0, queueOffset: 0n })
    )
    assert.strictEqual(noTopic._tag, "TopicNotExist")
    return { topic, group, sent: sent.length }
  })
