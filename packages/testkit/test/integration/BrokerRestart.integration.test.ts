/**
 * The broker process dies and comes back: what RemotingClient does about it, against a real
 * Apache RocketMQ whose broker JVM scripts/rocketmq/broker-kill SIGKILLs and broker-start starts
 * again (same config and store, registered at the same name server).
 *
 * The cluster is shared with the other integration files (they run one at a time): every test
 * here leaves the broker running and registered, in its usual configuration, however it ends.
 */
import { Broker, Message } from "@effect-rocketmq/client"
import { assert, describe, expect, it } from "@effect/vitest"
import { Codec, RemotingClient, RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Cause, Effect, Exit, Fiber } from "effect"
import {
  clientWithChannels,
  cluster,
  createTopic,
  harnessCheck,
  poll,
  rawExchange,
  type RocketMQCluster,
  runId,
  runScript,
  skipReason
} from "./support.ts"

const real = cluster()

/**
 * Whether this suite can stop and start the broker: a cluster this checkout's harness started
 * (by the vitest setup, or by CI with scripts/rocketmq/up) is recognised by broker-start; one
 * started elsewhere is left alone and the suite skips. A cluster the setup started here must be
 * recognised: otherwise the suite runs, and fails at its first check.
 */
const check = real === undefined ? undefined : harnessCheck(real)
const skip = real === undefined
  ? `skipped: ${skipReason()}`
  : check!.ok === false && check!.code === 3 && !real.startedHere
  ? `skipped: the cluster at ${real.namesrvAddr} was not started by scripts/rocketmq/up in this checkout, ` +
    `so its broker cannot be killed and restarted from here (${check!.output.trim()})`
  : undefined

const failureTag = <A, E extends { readonly _tag: string }>(exit: Exit.Exit<A, E>): string => {
  if (Exit.isSuccess(exit)) return "Success"
  const error = Cause.findErrorOption(exit.cause)
  return error._tag === "Some" ? error.value._tag : `untyped: ${Cause.pretty(exit.cause)}`
}

/** Runs a harness script and fails the test (with the script's output) unless it exits 0. */
const script = (name: "broker-kill" | "broker-start", cluster: RocketMQCluster, env?: NodeJS.ProcessEnv) =>
  Effect.gen(function*() {
    const result = yield* runScript(name, cluster, env)
    assert.strictEqual(result.code, 0, `scripts/rocketmq/${name} exited ${result.code}:\n${result.stderr}`)
    return result
  })

/**
 * However a test ends: the broker runs again, registered, with the harness's own settings (a
 * broker that may run with other settings is killed first; broker-kill exits 1 when none runs).
 */
const restoreBroker = (cluster: RocketMQCluster, reconfigured: boolean) =>
  Effect.gen(function*() {
    if (reconfigured) yield* runScript("broker-kill", cluster)
    yield* script("broker-start", cluster)
  }).pipe(Effect.orDie)

describe.skipIf(skip !== undefined)(`a real broker killed and restarted${skip !== undefined ? ` (${skip})` : ""}`, () => {
  it.live("killing it mid-stream fails pending requests with ChannelClosed at once; after a restart the next call reconnects", () => {
    const { channels, layer } = clientWithChannels(real!)
    let killed = false
    return Effect.gen(function*() {
      assert.isTrue(check!.ok, `scripts/rocketmq/broker-start must recognise the cluster: ${check!.ok ? "" : check!.output}`)
      const client = yield* RemotingClient.RemotingClient
      const broker = real!.brokerAddr
      const held = `RestartHeld_${runId()}`
      const stream = `RestartStream_${runId()}`
      const group = `restart_${runId()}`
      yield* createTopic(broker, held)
      yield* createTopic(broker, stream)

      // Requests the broker holds: long-poll pulls on empty queues (suspended up to 25 s, response
      // timeout 30 s). Nobody sends to `held`, so only the kill can end them early.
      const pulls = yield* Effect.forEach([0, 1, 2, 3], (queueId) =>
        Effect.forkChild(
          Broker.pullMessage(broker, {
            consumerGroup: group,
            topic: held,
            queueId,
            queueOffset: 0n,
            suspendTimeoutMillis: 25_000,
            timeoutMillis: 30_000
          }).pipe(Effect.exit, Effect.map((exit) => ({ exit, at: Date.now() }))),
          { startImmediately: true }
        ))
      const brokerChannel = () => channels.find((c) => c.remoteAddress === broker && c.diagnostics().closeReason === undefined)
      const heldCount = yield* poll(5, Effect.sync(() => brokerChannel()?.diagnostics().pending ?? 0), (n) => n === 4)
      assert.strictEqual(heldCount, 4, "the 4 long-poll pulls are pending on the broker channel")
      yield* Effect.sleep("1 second")
      assert.isTrue(pulls.every((f) => f.pollUnsafe() === undefined), "the broker holds the pulls")

      // A stream of sends, 8 in flight (30 s timeouts), each worker until its first failure. A
      // SYSTEM_BUSY answer (the broker's "[TIMEOUT_CLEAN_QUEUE]broker busy" on a loaded machine)
      // is not the failure this test is about: that send is counted and the worker goes on.
      let ok = 0
      let busy = 0
      const streamStarted = Date.now()
      const worker = (w: number) =>
        Effect.gen(function*() {
          for (let i = 0; Date.now() - streamStarted < 60_000; i++) {
            const exit = yield* Effect.exit(
              Broker.sendMessage(broker, Message.make(stream, `w${w} m${i}`), { queueId: w % 4, timeoutMillis: 30_000 })
            )
            if (Exit.isFailure(exit)) {
              const error = Cause.findErrorOption(exit.cause)
              if (error._tag === "Some" && error.value._tag === "RemoteError" && error.value.responseCode === ResponseCode.SYSTEM_BUSY) {
                busy++
                continue
              }
              return { tag: failureTag(exit), at: Date.now() }
            }
            ok++
          }
          return { tag: "NoFailureWithin60s", at: Date.now() }
        })
      const workers = yield* Effect.forkChild(
        Effect.forEach([0, 1, 2, 3, 4, 5, 6, 7], worker, { concurrency: "unbounded" }),
        { startImmediately: true }
      )
      yield* poll(30, Effect.sync(() => ok), (n) => n >= 300)
      assert.isAtLeast(ok, 300, "the stream is flowing")
      const generationBefore = client.diagnostics().channels.find((c) => c.address === broker)!.generation
      const channelBefore = brokerChannel()!

      // SIGKILL the broker JVM.
      const killAt = Date.now()
      killed = true
      yield* script("broker-kill", real!)
      const killMillis = Date.now() - killAt

      // The held pulls fail with ChannelClosed (they had been written), far before their 30 s.
      const pulled = yield* Effect.forEach(pulls, Fiber.join)
      for (const { exit, at } of pulled) {
        assert.strictEqual(failureTag(exit), "ChannelClosed")
        if (Exit.isFailure(exit)) {
          expect(Cause.findErrorOption(exit.cause)).toMatchObject({ value: { written: true, requestCode: RequestCode.PULL_MESSAGE } })
        }
        assert.isBelow(at - killAt, 5_000, "a pending pull fails within 5 s of the kill")
      }
      // So does the stream: what was in flight with ChannelClosed, later sends fail to connect.
      const ends = yield* Fiber.join(workers)
      for (const end of ends) {
        expect(["ChannelClosed", "ConnectError", "ConnectBackoff"]).toContain(end.tag)
        assert.isBelow(end.at - killAt, 5_000, "a send fails within 5 s of the kill")
      }
      assert.isTrue(ends.some((end) => end.tag === "ChannelClosed"), "sends in flight at the kill failed with ChannelClosed")
      const closeReason = channelBefore.diagnostics().closeReason
      expect(["ClosedByPeer", "ConnectionReset"]).toContain(closeReason?._tag)
      const latest = Math.max(...pulled.map((p) => p.at), ...ends.map((e) => e.at)) - killAt

      // The dead channel is gone from the client, and nothing is left pending.
      const left = yield* poll(
        2,
        Effect.sync(() => client.diagnostics().channels.filter((c) => c.address === broker)),
        (list) => list.length === 0
      )
      expect(left).toEqual([])
      assert.strictEqual(channelBefore.diagnostics().pending, 0)

      // While the broker is down a call fails at once (connection refused), it does not hang.
      const downAt = Date.now()
      const down = yield* Effect.flip(client.invoke(broker, RemotingCommand.make({ code: 9999 }), 10_000))
      expect(["ConnectError", "ConnectBackoff"]).toContain(down._tag)
      assert.isBelow(Date.now() - downAt, 2_000)

      // Restart it; meanwhile keep calling, 250 ms apart, until a call succeeds (at most 90 s).
      const restartAt = Date.now()
      const restart = yield* Effect.forkChild(script("broker-start", real!), { startImmediately: true })
      const failures: Array<string> = []
      let answered: RemotingCommand.RemotingCommand | undefined
      while (answered === undefined && Date.now() - restartAt < 90_000) {
        const exit = yield* Effect.exit(client.invoke(broker, RemotingCommand.make({ code: 9999 }), 5_000))
        if (Exit.isSuccess(exit)) answered = exit.value
        else {
          failures.push(failureTag(exit))
          yield* Effect.sleep("250 millis")
        }
      }
      const reconnectMillis = Date.now() - restartAt
      assert.isDefined(answered, `a call succeeded within 90 s of the restart (failures: ${failures.join(", ")})`)
      expect([answered!.code, answered!.remark]).toEqual([ResponseCode.REQUEST_CODE_NOT_SUPPORTED, " request type 9999 not supported"])
      for (const tag of failures) expect(["ConnectError", "ConnectBackoff"]).toContain(tag)
      yield* Fiber.join(restart)
      killed = false
      const startMillis = Date.now() - restartAt

      // The client is on a new connection, and typed operations work on it.
      const after = client.diagnostics().channels.filter((c) => c.address === broker)
      expect(after).toMatchObject([{ state: "open" }])
      assert.isAbove(after[0]!.generation, generationBefore)
      const sent = yield* Broker.sendMessage(broker, Message.make(stream, "after the restart"), { queueId: 0 })
      assert.strictEqual(sent.status, "SEND_OK")
      console.info(
        `[restart] ${ok} sends before the kill (${busy} answered SYSTEM_BUSY); kill script ${killMillis} ms; every pending request failed ` +
          `within ${latest} ms of the kill; broker-start ${startMillis} ms; first successful call ` +
          `${reconnectMillis} ms after the restart began (${failures.length} refused before)`
      )
    }).pipe(
      Effect.provide(layer),
      Effect.ensuring(Effect.suspend(() => (killed ? restoreBroker(real!, false) : Effect.void)))
    )
  })

  it.live("a broker configured to answer with ROCKETMQ (binary) headers is understood", () => {
    let reconfigured = false
    let stopped = false
    return Effect.gen(function*() {
      assert.isTrue(check!.ok, `scripts/rocketmq/broker-start must recognise the cluster: ${check!.ok ? "" : check!.output}`)
      const broker = real!.brokerAddr
      stopped = true
      yield* script("broker-kill", real!)
      // -Drocketmq.serialize.type=ROCKETMQ: the broker writes every command it sends with a binary header.
      reconfigured = true
      yield* script("broker-start", real!, {
        ROCKETMQ_JAVA_OPTS: `${process.env.ROCKETMQ_JAVA_OPTS ?? ""} -Drocketmq.serialize.type=ROCKETMQ`.trim()
      })
      stopped = false

      // The answer to a JSON request and to a ROCKETMQ request is binary now.
      for (const serializeType of ["JSON", "ROCKETMQ"] as const) {
        const request = RemotingCommand.make({ code: RequestCode.GET_MAX_OFFSET, extFields: { topic: "TBW102", queueId: "0" }, opaque: 7 })
        const frame = yield* rawExchange(broker, Codec.encodeFrame(request, serializeType))
        assert.strictEqual(frame[4], 1, `the answer to a ${serializeType} request has a ROCKETMQ header`)
        const response = yield* Codec.decodeFrame(frame)
        expect([response.code, response.opaque, RemotingCommand.isResponse(response)]).toEqual([0, 7, true])
        expect(response.extFields).toHaveProperty("offset")
      }

      // The typed operations, whose responses now all come with binary headers (JSON requests).
      const { layer } = clientWithChannels(real!)
      yield* Effect.gen(function*() {
        const topic = `BinaryAnswers_${runId()}`
        yield* createTopic(broker, topic)
        const properties = { "名前": "値 ✓", emoji: "🚀" }
        const sent = yield* Effect.forEach(["один", "two", "三"], (body) =>
          Broker.sendMessage(broker, Message.make(topic, body, { tags: "ü", keys: ["ключ"], properties }), { queueId: 3 }))
        expect(sent.map((r) => [r.status, r.queueOffset])).toEqual([["SEND_OK", 0n], ["SEND_OK", 1n], ["SEND_OK", 2n]])
        const pulled = yield* poll(
          10,
          Broker.pullMessage(broker, { consumerGroup: `binary_${runId()}`, topic, queueId: 3, queueOffset: 0n }),
          (r) => r._tag === "Found" && r.messages.length === 3
        )
        assert.isTrue(pulled._tag === "Found")
        if (pulled._tag !== "Found") return
        expect(pulled.messages.map((m) => new TextDecoder().decode(m.body))).toEqual(["один", "two", "三"])
        expect(pulled.messages.map((m) => m.msgId)).toEqual(sent.map((r) => r.msgId))
        for (const message of pulled.messages) {
          expect({ ...Message.userProperties(message) }).toEqual(properties)
          expect([Message.tagsOf(message), Message.keysOf(message)]).toEqual(["ü", ["ключ"]])
        }
        const unknown = yield* RemotingClient.RemotingClient.use((client) => client.invoke(broker, RemotingCommand.make({ code: 9999 })))
        expect([unknown.code, unknown.remark]).toEqual([3, " request type 9999 not supported"])
        const missing = yield* Effect.flip(
          Broker.pullMessage(broker, { consumerGroup: "g", topic: `Missing_${runId()}`, queueId: 0, queueOffset: 0n })
        )
        assert.strictEqual(missing._tag, "TopicNotExist")
      }).pipe(Effect.provide(layer))

      // Back to the harness's own settings.
      stopped = true
      yield* script("broker-kill", real!)
      yield* script("broker-start", real!)
      reconfigured = false
      stopped = false
      const frame = yield* rawExchange(
        broker,
        Codec.encodeFrame(RemotingCommand.make({ code: RequestCode.GET_MAX_OFFSET, extFields: { topic: "TBW102", queueId: "0" } }))
      )
      assert.strictEqual(frame[4], 0, "JSON answers again")
    }).pipe(Effect.ensuring(Effect.suspend(() => (reconfigured || stopped ? restoreBroker(real!, reconfigured) : Effect.void))))
  })
})
