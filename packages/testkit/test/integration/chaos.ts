/**
 * What the chaos suites share: whether the cluster lets them kill and restart its processes, the
 * harness scripts as Effects that fail the test when they fail, and reading back everything a
 * topic holds on every broker.
 */
import { Admin, Broker, NameServer, Offsets, type StoredMessage } from "@effect-rocketmq/client"
import { assert } from "@effect/vitest"
import type { RemotingClient } from "@effect-rocketmq/remoting"
import { Cause, Effect } from "effect"
import { harnessCheck, type HarnessScript, poll, type RocketMQCluster, runId, runScript } from "./support.ts"

const required = process.env.ROCKETMQ_IT !== undefined && process.env.ROCKETMQ_IT !== "" && process.env.ROCKETMQ_IT !== "0"

/**
 * Why a chaos suite cannot run here, or undefined when it can: a cluster this checkout's harness
 * started (so its processes may be killed) with at least two brokers. With ROCKETMQ_IT set, a
 * one-broker cluster does not skip: the suite runs and fails on its first check, saying why.
 */
export const chaosSkip = (real: RocketMQCluster | undefined, skipReason: () => string | undefined): string | undefined => {
  if (real === undefined) return skipReason()
  const check = harnessCheck(real)
  if (!check.ok && check.code === 3 && !real.startedHere) {
    return `the cluster at ${real.namesrvAddr} was not started by scripts/rocketmq/up in this checkout, so its processes ` +
      `cannot be killed from here`
  }
  if (real.brokers.length < 2 && !required) return `the cluster has ${real.brokers.length} broker; these suites need two`
  return undefined
}

/** Fails the test unless the cluster has two brokers (chaosSkip lets a one-broker cluster through with ROCKETMQ_IT). */
export const requireTwoBrokers = (real: RocketMQCluster) =>
  Effect.sync(() =>
    assert.isAtLeast(real.brokers.length, 2, "the chaos suites need broker-a and broker-b (ROCKETMQ_BROKERS=2 scripts/rocketmq/up)")
  )

/**
 * Runs a harness script and fails the test (with the script's output) unless it exits 0. Returns
 * how long it took, and for the kill scripts the moment of the SIGKILL (epoch ms).
 */
export const harness = (name: HarnessScript, real: RocketMQCluster, args: ReadonlyArray<string> = []) =>
  Effect.gen(function*() {
    const started = Date.now()
    const result = yield* runScript(name, real, undefined, args)
    assert.strictEqual(result.code, 0, `scripts/rocketmq/${name} ${args.join(" ")} exited ${result.code}:\n${result.stderr}`)
    const killedAt = /^KILLED_AT_MS=(\d+)$/m.exec(result.stdout)
    return { millis: Date.now() - started, killedAt: killedAt === null ? undefined : Number(killedAt[1]) }
  })

/**
 * Whatever happened, the cluster is whole again: every broker and the name server run and are
 * registered (the start scripts only wait when the process already runs).
 */
export const restoreCluster = (real: RocketMQCluster) =>
  Effect.gen(function*() {
    yield* runScript("namesrv-start", real)
    for (const broker of real.brokers) yield* runScript("broker-start", real, undefined, [broker.name])
  })

/** Creates `topic` with 4 queues on every broker of the cluster. */
export const createTopicEverywhere = (real: RocketMQCluster, topic: string) =>
  Effect.forEach(real.brokers, (broker) => Admin.createTopic(broker.address, topic, { queueNums: 4, timeoutMillis: 10_000 }), {
    discard: true
  })

/** Waits (at most 20 s: registration can lag) until the name server routes `topic` to every broker. */
export const routedOnEveryBroker = (real: RocketMQCluster, topic: string) =>
  Effect.gen(function*() {
    const route = yield* poll(20, Effect.result(NameServer.getRouteInfoByTopic(topic)), (r) =>
      r._tag === "Success" && r.success.queueDatas.length === real.brokers.length)
    assert.isTrue(
      route._tag === "Success" && route.success.queueDatas.length === real.brokers.length,
      `${topic} routed to all ${real.brokers.length} brokers within 20 s`
    )
  })

/** Every message `topic` holds on every broker, read by pulling each queue from offset 0 to its end. */
export const readTopic = (
  real: RocketMQCluster,
  topic: string
): Effect.Effect<Array<StoredMessage.StoredMessage & { readonly brokerName: string }>, Broker.BrokerError, RemotingClient.RemotingClient> =>
  Effect.gen(function*() {
    const out: Array<StoredMessage.StoredMessage & { readonly brokerName: string }> = []
    const group = `chaos_read_${runId()}`
    for (const broker of real.brokers) {
      for (let queueId = 0; queueId < 4; queueId++) {
        const end = yield* Offsets.getMaxOffset(broker.address, { topic, queueId }, { timeoutMillis: 10_000 })
        let offset = 0n
        while (offset < end) {
          const pulled = yield* Broker.pullMessage(broker.address, { consumerGroup: group, topic, queueId, queueOffset: offset, maxMsgNums: 32 })
          if (pulled._tag !== "Found") {
            assert.fail(`pulling ${topic} queue ${queueId} of ${broker.name} at ${offset} (of ${end}) answered ${pulled._tag}`)
          }
          for (const message of pulled.messages) out.push({ ...message, brokerName: broker.name })
          offset = pulled.nextBeginOffset
        }
      }
    }
    return out
  })

/** How many items have each key. */
export const countBy = <A>(items: ReadonlyArray<A>, key: (a: A) => string): Map<string, number> => {
  const out = new Map<string, number>()
  for (const item of items) out.set(key(item), (out.get(key(item)) ?? 0) + 1)
  return out
}

/** `counts` as "a 3, b 1". */
export const describeCounts = (counts: ReadonlyMap<string, number>) =>
  counts.size === 0 ? "none" : Array.from(counts).map(([key, n]) => `${key} ${n}`).join(", ")

/** The tag of a typed failure, or `defect: …` (which every suite asserts never happens). */
export const tagOf = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.findErrorOption(cause)
  return error._tag === "Some" && typeof error.value === "object" && error.value !== null && "_tag" in error.value
    ? String(error.value._tag)
    : `defect: ${Cause.pretty(cause).slice(0, 300)}`
}
