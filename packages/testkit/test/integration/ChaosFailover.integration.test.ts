/**
 * Chaos suite 1: our Producer sends 20,000 messages, 64 in flight, paced at 500/s, to a topic on
 * broker-a and broker-b, while broker-a is SIGKILLed and, 5 s later, started again. Every send must
 * succeed or fail with a typed error; from the kill until broker-a is back every stored send goes to
 * broker-b, and no successful send is missing for longer than FAILOVER_BOUND; every acknowledged
 * message is in the topic afterwards (read back by pulling every queue of both brokers from offset
 * 0), duplicates are counted, and nothing acknowledged is lost.
 */
import { ClientInstance, Message, Producer } from "@effect-rocketmq/client"
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer } from "effect"
import {
  chaosSkip,
  countBy,
  createTopicEverywhere,
  describeCounts,
  harness,
  readTopic,
  requireTwoBrokers,
  restoreCluster,
  tagOf
} from "./chaos.ts"
import { cluster, poll, runId, skipReason } from "./support.ts"

const real = cluster()
const skip = chaosSkip(real, skipReason)

const MESSAGES = 20_000
const IN_FLIGHT = 64
const PER_SECOND = 500
/** Sends started before the kill: 8 s of sending. */
const KILL_AFTER = 4_000
const DOWN_MILLIS = 5_000
/** The longest the application may go without a successful send once broker-a is killed. */
const FAILOVER_BOUND = 10_000

interface Outcome {
  readonly index: number
  readonly startedAt: number
  readonly endedAt: number
  /** The broker that stored it, or the failure's tag. */
  readonly brokerName: string | undefined
  readonly msgId: string | undefined
  readonly error: string | undefined
}

describe.skipIf(skip !== undefined)(`a producer while broker-a dies and comes back${skip !== undefined ? ` (skipped: ${skip})` : ""}`, () => {
  it.live(`${MESSAGES.toLocaleString("en")} sends at ${IN_FLIGHT} in flight fail over to broker-b within ${FAILOVER_BOUND / 1000} s and lose nothing acknowledged`, () =>
    Effect.gen(function*() {
      yield* requireTwoBrokers(real!)
      const topic = `ChaosFailover_${runId()}`
      const instance = ClientInstance.layer({ nameServerAddresses: real!.namesrvAddr })
      yield* ClientInstance.ClientInstance.use((client) => client.provide(createTopicEverywhere(real!, topic))).pipe(Effect.provide(instance))
      const producerLayer = Producer.layer({ group: `chaos_pg_${runId()}` }).pipe(Layer.provideMerge(instance))

      const outcomes: Array<Outcome> = []
      let started = 0
      const run = Effect.gen(function*() {
        const producer = yield* Producer.Producer
        const t0 = Date.now()
        const chaos = yield* Effect.forkChild(Effect.gen(function*() {
          yield* poll(120, Effect.sync(() => started), (n) => n >= KILL_AFTER)
          const kill = yield* harness("broker-kill", real!, ["broker-a"])
          yield* Effect.sleep(DOWN_MILLIS)
          const restartAt = Date.now()
          const start = yield* harness("broker-start", real!, ["broker-a"])
          return { killAt: kill.killedAt!, killMillis: kill.millis, restartAt, backAt: Date.now(), startMillis: start.millis }
        }), { startImmediately: true })
        yield* Effect.forEach(Array.from({ length: MESSAGES }, (_, i) => i), (index) =>
          Effect.gen(function*() {
            const due = t0 + (index * 1000) / PER_SECOND - Date.now()
            if (due > 0) yield* Effect.sleep(due)
            started++
            const startedAt = Date.now()
            const exit = yield* Effect.exit(producer.send(Message.make(topic, `chaos-${index}`)))
            outcomes.push(
              Exit.isSuccess(exit)
                ? { index, startedAt, endedAt: Date.now(), brokerName: exit.value.messageQueue.brokerName, msgId: exit.value.msgId, error: undefined }
                : { index, startedAt, endedAt: Date.now(), brokerName: undefined, msgId: undefined, error: tagOf(exit.cause) }
            )
          }), { concurrency: IN_FLIGHT, discard: true })
        return { timeline: yield* Fiber.join(chaos), seconds: (Date.now() - t0) / 1000 }
      }).pipe(Effect.provide(producerLayer))
      const { seconds, timeline } = yield* run.pipe(Effect.ensuring(Effect.orDie(restoreCluster(real!))))

      // What the sends say.
      const acked = outcomes.filter((o) => o.error === undefined)
      const failures = countBy(outcomes.filter((o) => o.error !== undefined), (o) => o.error!)
      // Sent while broker-a could not run: started after the kill, acknowledged before broker-start began.
      const whileDown = acked.filter((o) => o.startedAt > timeline.killAt && o.endedAt < timeline.restartAt)
      const successes = acked.map((o) => o.endedAt).filter((t) => t >= timeline.killAt).sort((a, b) => a - b)
      let longestGap = successes.length === 0 ? Number.POSITIVE_INFINITY : successes[0]! - timeline.killAt
      for (let i = 1; i < successes.length; i++) longestGap = Math.max(longestGap, successes[i]! - successes[i - 1]!)
      const firstOnB = acked.filter((o) => o.startedAt >= timeline.killAt && o.brokerName === "broker-b").map((o) => o.endedAt)
      const toBAfter = firstOnB.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...firstOnB) - timeline.killAt
      const backOnA = acked.filter((o) => o.startedAt > timeline.backAt && o.brokerName === "broker-a").length

      // What the brokers hold.
      const stored = yield* ClientInstance.ClientInstance.use((client) => client.provide(readTopic(real!, topic))).pipe(
        Effect.provide(ClientInstance.layer({ nameServerAddresses: real!.namesrvAddr }))
      )
      const copies = countBy(stored, (message) => new TextDecoder().decode(message.body))
      const lost = acked.filter((o) => !copies.has(`chaos-${o.index}`)).length
      const duplicated = Array.from(copies.values()).filter((n) => n > 1).reduce((sum, n) => sum + n - 1, 0)
      const failedButStored = outcomes.filter((o) => o.error !== undefined && copies.has(`chaos-${o.index}`)).length

      console.info(
        `[chaos failover] sent ${outcomes.length} in ${seconds.toFixed(1)} s (${IN_FLIGHT} in flight, ${PER_SECOND}/s): ` +
          `acknowledged ${acked.length}, failed ${outcomes.length - acked.length} (${describeCounts(failures)}); ` +
          `broker-a killed after ${KILL_AFTER} sends (broker-kill ${timeline.killMillis} ms), down ${DOWN_MILLIS} ms, ` +
          `broker-start ${timeline.startMillis} ms; failover: first send stored on broker-b ${toBAfter} ms after the kill, ` +
          `longest time without a stored send ${longestGap} ms (bound ${FAILOVER_BOUND} ms); ${whileDown.length} sent and stored while ` +
          `broker-a was down (${describeCounts(countBy(whileDown, (o) => o.brokerName!))}); ${backOnA} stored on broker-a after it came back. Read back ${stored.length} messages: ` +
          `consumed ${copies.size} distinct, duplicated ${duplicated}, lost ${lost}, failed sends stored anyway ${failedButStored}`
      )
      assert.strictEqual(outcomes.length, MESSAGES)
      expect(Array.from(failures.keys()).filter((tag) => tag.startsWith("defect"))).toEqual([])
      assert.isAbove(acked.length, MESSAGES * 0.95, "nearly every send is acknowledged")
      expect(new Set(whileDown.map((o) => o.brokerName))).toEqual(new Set(["broker-b"]))
      assert.isAtMost(longestGap, FAILOVER_BOUND, "sends move to broker-b within the bound")
      assert.strictEqual(lost, 0, "every acknowledged message is stored")
      assert.strictEqual(acked.filter((o) => o.msgId === undefined).length, 0)
    }), 10 * 60_000)
})
