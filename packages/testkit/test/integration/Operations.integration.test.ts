/**
 * The typed operations against a real Apache RocketMQ 5.3.3 NameServer and Broker, through
 * RemotingClient over TCP: 1,000 messages of 1 B to 1 MiB there and back, both header
 * serializations, and the error answers (unknown code, missing topic, oneway).
 *
 * Remoting.integration.test.ts covers the same answers on a bare Channel; this file goes through
 * RemotingClient and the typed operations.
 */
import { Broker, ClientError, Message, NameServer, Offsets, Properties, RouteData } from "@effect-rocketmq/client"
import type { StoredMessage } from "@effect-rocketmq/client"
import { assert, describe, expect, it } from "@effect/vitest"
import { Codec, RemotingClient, RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Effect, Option } from "effect"
import { clientWithChannels, cluster, createTopic, poll, rawExchange, runId, skipReason } from "./support.ts"

const real = cluster()

/** A deterministic generator (mulberry32) so a failing run can be reproduced. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** `length` bytes that differ per `seed` (so a body delivered to the wrong message shows). */
const bodyOf = (length: number, seed: number) => {
  const next = random(seed)
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i += 4) {
    const word = Math.floor(next() * 4294967296)
    for (let j = 0; j < 4 && i + j < length; j++) out[i + j] = (word >>> (8 * j)) & 0xff
  }
  return out
}

const KiB = 1024
const MiB = 1024 * KiB

/**
 * 1,000 body sizes from 1 B to 1 MiB: the edges (1 B, 1 MiB, and around the 4 KiB compression
 * threshold, 64 KiB and the broker's 256 KiB per-pull transfer limit), 10 more bodies of 128 KiB to
 * 1 MiB, 50 of 4–128 KiB, and the rest up to 4 KiB, log-uniform: 8.1 MiB in all.
 */
const sizes = (): Array<number> => {
  const next = random(20251125)
  const edges = [1, 2, 127, 128, 4095, 4096, 4097, 64 * KiB - 1, 64 * KiB, 256 * KiB - 1, 256 * KiB, 256 * KiB + 1, MiB - 1, MiB]
  const logUniform = (lo: number, hi: number) => Math.max(lo, Math.min(hi, Math.round(Math.exp(Math.log(lo) + next() * (Math.log(hi) - Math.log(lo))))))
  const out = [...edges]
  for (let i = 0; i < 10; i++) out.push(logUniform(128 * KiB, MiB))
  for (let i = 0; i < 50; i++) out.push(logUniform(4 * KiB, 128 * KiB))
  while (out.length < 1000) out.push(logUniform(1, 4 * KiB))
  // Spread the large ones through the run instead of sending them all first.
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

/** What was sent as message `n`, to compare with what comes back. */
const messageFor = (topic: string, n: number, size: number): Message.Message =>
  Message.make(topic, bodyOf(size, n + 1), {
    tags: `tag-${n % 7}`,
    keys: [`key-${n}`, `ключ-${n % 10}`],
    properties: {
      n: String(n),
      size: String(size),
      "名前": `値 ✓ ü ${n}`,
      emoji: "🚀 rocket, ∑ and \u00e9"
    }
  })

describe.skipIf(real === undefined)(`typed operations against a real broker${real === undefined ? ` (skipped: ${skipReason()})` : ""}`, () => {
  it.live("1,000 messages of 1 B to 1 MiB with tags, keys and non-ASCII properties come back exactly once, in order", () =>
    Effect.gen(function*() {
      const broker = real!.brokerAddr
      const topic = `Interop1k_${runId()}`
      const group = `interop_1k_${runId()}`
      const route = yield* createTopic(broker, topic)
      expect(RouteData.writeQueues(topic, route).map((q) => q.queueId)).toEqual([0, 1, 2, 3])
      expect(RouteData.readQueues(topic, route).map((q) => q.queueId)).toEqual([0, 1, 2, 3])
      assert.strictEqual(RouteData.brokerAddress(route, "broker-a"), broker)

      // 0 B: the client refuses it before sending (a real broker fails on an empty body with a
      // NullPointerException, answered as SYSTEM_ERROR).
      const empty = yield* Effect.flip(Broker.sendMessage(broker, Message.make(topic, new Uint8Array(0)), { queueId: 0 }))
      assert.instanceOf(empty, ClientError.InvalidRequest)
      expect(empty).toMatchObject({ _tag: "InvalidRequest", operation: "sendMessage" })
      expect(empty.message).toContain("body is empty")
      // What the broker does with one, sent raw: SYSTEM_ERROR, and nothing is stored.
      const raw = yield* RemotingClient.RemotingClient.use((client) =>
        client.invoke(
          broker,
          RemotingCommand.make({
            code: RequestCode.SEND_MESSAGE_V2,
            extFields: { a: "interop", b: topic, c: "TBW102", d: "4", e: "0", f: "0", g: String(Date.now()), h: "0" }
          })
        )
      )
      assert.strictEqual(raw.code, ResponseCode.SYSTEM_ERROR)
      expect(raw.remark ?? "").toContain("NullPointerException")
      assert.strictEqual(yield* Offsets.getMaxOffset(broker, { topic, queueId: 0 }), 0n)

      // Send: every 10th message lets the broker pick the queue, the others name it; 16 in flight.
      const plan = sizes()
      assert.strictEqual(plan.length, 1000)
      assert.strictEqual(Math.min(...plan), 1)
      assert.strictEqual(Math.max(...plan), MiB)
      const sendStarted = Date.now()
      const results = yield* Effect.forEach(
        plan,
        (size, n) =>
          Broker.sendMessage(broker, messageFor(topic, n, size), {
            queueId: n % 10 === 9 ? -1 : n % 4,
            producerGroup: "interop_producer"
          }).pipe(Effect.map((result) => ({ n, size, result }))),
        { concurrency: 16 }
      )
      const sendMillis = Date.now() - sendStarted
      const byMsgId = new Map(results.map((r) => [r.result.msgId, r]))
      assert.strictEqual(byMsgId.size, 1000, "1,000 distinct message ids")
      const perQueue = [0, 1, 2, 3].map((q) => results.filter((r) => r.result.queueId === q))
      for (const { n, result } of results) {
        assert.strictEqual(result.status, "SEND_OK")
        if (n % 10 !== 9) assert.strictEqual(result.queueId, n % 4)
      }
      for (const [q, sent] of perQueue.entries()) {
        // The send results themselves number each queue 0, 1, 2, … without gaps.
        expect(sent.map((r) => r.result.queueOffset).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)))
          .toEqual(sent.map((_, i) => BigInt(i)))
        assert.isAbove(sent.length, 200, `queue ${q} got its share`)
      }

      // Pull every queue from offset 0 until exhausted.
      const pullStarted = Date.now()
      const seen = new Set<string>()
      for (const [queueId, sent] of perQueue.entries()) {
        const expected = BigInt(sent.length)
        const received: Array<StoredMessage.StoredMessage> = []
        let offset = 0n
        let notYet = 0
        for (;;) {
          const pulled = yield* Broker.pullMessage(broker, { consumerGroup: group, topic, queueId, queueOffset: offset, maxMsgNums: 32 })
          if (pulled._tag === "NoNewMsg" && offset < expected && notYet++ < 100) {
            // Not dispatched to the consume queue yet: up to 10 s in all.
            yield* Effect.sleep("100 millis")
            continue
          }
          if (pulled._tag !== "Found") {
            // Exhausted: nothing after the last message, and the queue ends where the sends said.
            expect(pulled).toMatchObject({ _tag: "NoNewMsg", nextBeginOffset: expected, minOffset: 0n, maxOffset: expected })
            break
          }
          assert.isAbove(pulled.messages.length, 0)
          for (const message of pulled.messages) {
            assert.strictEqual(message.queueOffset, BigInt(received.length), `queue ${queueId}: consecutive offsets`)
            received.push(message)
          }
          assert.strictEqual(pulled.nextBeginOffset, offset + BigInt(pulled.messages.length))
          offset = pulled.nextBeginOffset
        }
        assert.strictEqual(received.length, sent.length, `queue ${queueId}: every message`)
        for (const message of received) {
          const origin = byMsgId.get(message.msgId)
          assert.isDefined(origin, `queue ${queueId} offset ${message.queueOffset}: a message we sent`)
          assert.isFalse(seen.has(message.msgId), `${message.msgId} comes back once`)
          seen.add(message.msgId)
          const { n, size, result } = origin!
          const want = messageFor(topic, n, size)
          assert.strictEqual(message.body.length, size)
          assert.isTrue(Buffer.from(message.body).equals(Buffer.from(want.body)), `body of message ${n} (${size} B)`)
          assert.strictEqual(message.topic, topic)
          assert.strictEqual(message.queueId, result.queueId)
          assert.strictEqual(message.queueOffset, result.queueOffset)
          assert.strictEqual(message.offsetMsgId, result.offsetMsgId)
          assert.strictEqual(message.sysFlag & 0x1, 0, "stored uncompressed")
          assert.strictEqual(Message.tagsOf(message), want.tags)
          expect(Message.keysOf(message)).toEqual(want.keys)
          expect({ ...Message.userProperties(message) }).toEqual(want.properties)
          assert.strictEqual(Properties.get(message.properties, "UNIQ_KEY"), result.msgId)
        }
      }
      assert.strictEqual(seen.size, 1000)
      console.info(
        `[interop] 1,000 messages, ${(plan.reduce((a, b) => a + b, 0) / MiB).toFixed(1)} MiB: ` +
          `sent in ${sendMillis} ms (16 in flight), pulled back in ${Date.now() - pullStarted} ms`
      )
    }).pipe(Effect.provide(RemotingClient.layer({ nameServerAddresses: real!.namesrvAddr, defaultTimeout: "10 seconds" }))))

  it.live("a ROCKETMQ (binary) request header is understood, and the answer (JSON, the server's own type) decodes", () =>
    Effect.gen(function*() {
      for (const [address, code, extFields] of [
        [real!.namesrvAddr, RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic: "DefaultCluster" }],
        [real!.brokerAddr, RequestCode.GET_MAX_OFFSET, { topic: "TBW102", queueId: "0" }]
      ] as const) {
        for (const serializeType of ["JSON", "ROCKETMQ"] as const) {
          const request = RemotingCommand.make({ code, extFields, opaque: 4242 })
          const frame = yield* rawExchange(address, Codec.encodeFrame(request, serializeType))
          // Byte 4 of a frame is its header's serialize type (0 JSON, 1 ROCKETMQ). A Java server
          // answers in its own configured type, JSON by default, whatever the request used (a broker
          // configured for ROCKETMQ answers in binary: BrokerRestart.integration.test.ts).
          assert.strictEqual(frame[4], 0, `${serializeType} request to ${address}: answered with a JSON header`)
          const response = yield* Codec.decodeFrame(frame)
          assert.strictEqual(response.code, ResponseCode.SUCCESS, `${serializeType} ${code}: ${response.remark}`)
          assert.strictEqual(response.opaque, 4242)
          assert.isTrue(RemotingCommand.isResponse(response))
          assert.strictEqual(response.language, "JAVA")
          if (code === RequestCode.GET_MAX_OFFSET) expect(response.extFields).toHaveProperty("offset")
          else expect(Buffer.from(response.body!).toString()).toContain("\"queueDatas\"")
        }
      }
    }))

  it.live("with ROCKETMQ request headers the typed operations work, non-ASCII header values included", () =>
    Effect.gen(function*() {
      const { channels, layer } = clientWithChannels(real!, "ROCKETMQ")
      yield* Effect.gen(function*() {
        const broker = real!.brokerAddr
        const topic = `InteropBinary_${runId()}`
        yield* createTopic(broker, topic)
        const sent = yield* Effect.forEach([1, 300, 5000, 70_000], (size, n) =>
          Broker.sendMessage(broker, messageFor(topic, n, size), { queueId: 1 }))
        expect(sent.map((r) => r.queueOffset)).toEqual([0n, 1n, 2n, 3n])
        const pulled = yield* poll(
          10,
          Broker.pullMessage(broker, { consumerGroup: `interop_binary_${runId()}`, topic, queueId: 1, queueOffset: 0n }),
          (r) => r._tag === "Found" && r.messages.length === 4
        )
        assert.isTrue(pulled._tag === "Found" && pulled.messages.length === 4)
        if (pulled._tag !== "Found") return
        for (const [n, message] of pulled.messages.entries()) {
          const want = messageFor(topic, n, [1, 300, 5000, 70_000][n]!)
          assert.isTrue(Buffer.from(message.body).equals(Buffer.from(want.body)))
          expect({ ...Message.userProperties(message) }).toEqual(want.properties)
          expect(Message.keysOf(message)).toEqual(want.keys)
          assert.strictEqual(message.msgId, sent[n]!.msgId)
        }
        const unknown = yield* RemotingClient.RemotingClient.use((client) => client.invoke(broker, RemotingCommand.make({ code: 4243 })))
        expect([unknown.code, unknown.remark]).toEqual([ResponseCode.REQUEST_CODE_NOT_SUPPORTED, " request type 4243 not supported"])
      }).pipe(Effect.provide(layer))
      // The name server and the broker were both reached through channels set to ROCKETMQ.
      expect(channels.map((c) => c.remoteAddress).sort()).toEqual([real!.brokerAddr, real!.namesrvAddr].sort())
    }))

  it.live("an unknown request code is answered REQUEST_CODE_NOT_SUPPORTED by the broker and the name server", () =>
    Effect.gen(function*() {
      const client = yield* RemotingClient.RemotingClient
      for (const code of [0, 4242, 32767]) {
        const fromBroker = yield* client.invoke(real!.brokerAddr, RemotingCommand.make({ code }))
        const fromNameServer = yield* client.invokeNameServer(RemotingCommand.make({ code }))
        for (const response of [fromBroker, fromNameServer]) {
          assert.strictEqual(response.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED)
          assert.strictEqual(response.code, 3)
          assert.strictEqual(response.remark, ` request type ${code} not supported`)
          assert.isTrue(RemotingCommand.isResponse(response))
        }
      }
    }).pipe(Effect.provide(RemotingClient.layer({ nameServerAddresses: real!.namesrvAddr }))))

  it.live("the route of a missing topic is a typed TopicNotExist carrying the name server's answer", () =>
    Effect.gen(function*() {
      const topic = `Missing_${runId()}`
      const error = yield* Effect.flip(NameServer.getRouteInfoByTopic(topic))
      assert.instanceOf(error, ClientError.TopicNotExist)
      expect(error).toMatchObject({
        _tag: "TopicNotExist",
        topic,
        requestCode: RequestCode.GET_ROUTEINFO_BY_TOPIC,
        requestName: "GET_ROUTEINFO_BY_TOPIC",
        responseCode: 17,
        responseName: "TOPIC_NOT_EXIST"
      })
      expect(error.remark).toContain(`No topic route info in name server for the topic: ${topic}`)
      // It is an error of its own tag, so callers can handle exactly it.
      const handled = yield* NameServer.getRouteInfoByTopic(topic).pipe(
        Effect.map(() => "route"),
        Effect.catchTag("TopicNotExist", (e) => Effect.succeed(`missing ${e.topic}`))
      )
      assert.strictEqual(handled, `missing ${topic}`)
    }).pipe(Effect.provide(RemotingClient.layer({ nameServerAddresses: real!.namesrvAddr }))))

  it.live("a oneway request gets no response and leaves nothing pending, and a oneway offset update takes effect", () =>
    Effect.gen(function*() {
      const { channels, layer } = clientWithChannels(real!)
      yield* Effect.gen(function*() {
        const client = yield* RemotingClient.RemotingClient
        const broker = real!.brokerAddr
        const topic = `InteropOneway_${runId()}`
        const group = `interop_oneway_${runId()}`
        yield* createTopic(broker, topic)
        yield* Broker.sendMessage(broker, Message.make(topic, "x"), { queueId: 2 })
        // A pull creates the consumer group (autoCreateSubscriptionGroup).
        yield* poll(10, Broker.pullMessage(broker, { consumerGroup: group, topic, queueId: 2, queueOffset: 0n }), (r) => r._tag === "Found")

        // Unknown codes sent oneway: the broker answers nothing.
        for (let i = 0; i < 10; i++) yield* client.invokeOneway(broker, RemotingCommand.make({ code: 9999 }))
        yield* Offsets.updateConsumerOffset(broker, { consumerGroup: group, topic, queueId: 2, commitOffset: 1n }, { oneway: true })
        // A round trip after them: the oneways went out before it on the same connection.
        const after = yield* client.invoke(broker, RemotingCommand.make({ code: 9998 }))
        assert.strictEqual(after.remark, " request type 9998 not supported")
        const stored = yield* poll(
          5,
          Offsets.queryConsumerOffset(broker, { consumerGroup: group, topic, queueId: 2 }),
          (o) => Option.isSome(o)
        )
        expect(stored).toEqual(Option.some(1n))
        // Give any (wrong) answer to the oneways time to arrive, then look.
        yield* Effect.sleep("300 millis")
        const channel = channels.find((c) => c.remoteAddress === broker)!
        assert.isDefined(channel)
        expect(channel.diagnostics()).toMatchObject({ pending: 0, queued: 0, unmatchedResponses: 0, closeReason: undefined })
        assert.isTrue(yield* channel.isHealthy)
        const diagnostics = client.diagnostics()
        expect(diagnostics.channels.filter((c) => c.address === broker)).toMatchObject([{ state: "open", pending: 0, inUse: 0 }])
        expect(diagnostics.onewayPermits).toMatchObject({ free: diagnostics.onewayPermits.total, waiting: 0 })
        expect(diagnostics.invokePermits).toMatchObject({ free: diagnostics.invokePermits.total, waiting: 0 })
      }).pipe(Effect.provide(layer))
    }))
})
