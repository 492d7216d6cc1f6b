/**
 * A scripted cluster behind the consumer engine's port: topics with queues of messages, the
 * group's member list, stored offsets, send-backs, locks, and long polling on the Clock. Several
 * engines can share one cluster (one port per client id). Switches make operations fail.
 */
import { Deferred, Duration, Effect, Exit, Option } from "effect"
import type * as Broker from "../../../src/Broker.ts"
import { MessageDecodeError } from "../../../src/ClientError.ts"
import * as Delivery from "../../../src/internal/consumer/delivery.ts"
import * as Heartbeat from "../../../src/Heartbeat.ts"
import type { Port, PortError, SendBackRequest } from "../../../src/internal/consumer/port.ts"
import * as Retry from "../../../src/internal/consumer/retry.ts"
import * as MQ from "../../../src/MessageQueue.ts"
import * as Properties from "../../../src/Properties.ts"
import type * as StoredMessage from "../../../src/StoredMessage.ts"

const failure = (message: string, responseCode?: number): PortError => ({ _tag: "RemoteError", message, responseCode })

export interface PullCall {
  readonly clientId: string
  readonly key: string
  readonly offset: bigint
  readonly commitOffset: bigint | undefined
}

export const message = (
  topic: string,
  brokerName: string,
  queueId: number,
  queueOffset: bigint,
  body: string,
  properties: ReadonlyArray<readonly [string, string]> = []
): StoredMessage.StoredMessage => ({
  storeSize: 100,
  version: "V1",
  bodyCrc: 0,
  queueId,
  flag: 0,
  queueOffset,
  commitLogOffset: queueOffset * 1000n + BigInt(queueId),
  sysFlag: 0,
  bornTimestamp: 0,
  bornHost: { host: "127.0.0.1", port: 1 },
  storeTimestamp: 0,
  storeHost: { host: "127.0.0.1", port: 10911 },
  reconsumeTimes: 0,
  preparedTransactionOffset: 0n,
  body: new TextEncoder().encode(body),
  topic,
  properties: Properties.fromEntries([["UNIQ_KEY", `${topic}-${brokerName}-${queueId}-${queueOffset}`], ...properties]),
  msgId: `${topic}-${brokerName}-${queueId}-${queueOffset}`,
  offsetMsgId: "00"
})

export const make = (topics: Readonly<Record<string, { readonly brokers: ReadonlyArray<string>; readonly queues: number }>>) => {
  const queues = new Map<string, Array<StoredMessage.StoredMessage>>()
  for (const [topic, { brokers, queues: n }] of Object.entries(topics)) {
    for (const broker of brokers) for (let q = 0; q < n; q++) queues.set(MQ.key(MQ.make(topic, broker, q)), [])
  }
  const state = {
    members: [] as Array<string>,
    offsets: new Map<string, bigint>(),
    sentBack: [] as Array<SendBackRequest>,
    retryCopies: [] as Array<SendBackRequest>,
    pulls: [] as Array<PullCall>,
    /** Every offset written by commitOffsets, in order. */
    commits: [] as Array<readonly [string, bigint]>,
    locks: new Map<string, string>(),
    heartbeats: 0,
    fail: {
      sendBack: false,
      retryCopy: false,
      queryOffset: false,
      consumerIds: false,
      lock: false
    },
    /** Queue keys whose next pull answers OFFSET_ILLEGAL with this offset. */
    offsetIllegal: new Map<string, bigint>(),
    /** Messages moved to %DLQ%<group> by the broker-like send-back below. */
    dlq: [] as Array<StoredMessage.StoredMessage>
  }
  let arrived = Deferred.makeUnsafe<void>()
  /** Records pulls answer as undecodable (see appendUndecodable). */
  const broken = new Set<StoredMessage.StoredMessage>()

  const append = (
    topic: string,
    broker: string,
    queueId: number,
    body: string,
    properties?: ReadonlyArray<readonly [string, string]>,
    patch?: Partial<StoredMessage.StoredMessage>
  ) => {
    const list = queues.get(MQ.key(MQ.make(topic, broker, queueId)))!
    const stored = { ...message(topic, broker, queueId, BigInt(list.length), body, properties), ...patch }
    list.push(stored)
    // Replace the signal before completing the old one: completion may resume waiters at once.
    const previous = arrived
    arrived = Deferred.makeUnsafe<void>()
    Deferred.doneUnsafe(previous, Exit.void)
    return stored
  }

  /** Appends a record whose content pulls report as undecodable. */
  const appendUndecodable = (topic: string, broker: string, queueId: number) => {
    const list = queues.get(MQ.key(MQ.make(topic, broker, queueId)))!
    const record = message(topic, broker, queueId, BigInt(list.length), "?")
    const undecodable: StoredMessage.UndecodableMessage = {
      ...record,
      error: new MessageDecodeError({ reason: "DecompressFailed", offset: 0, detail: "corrupt body" })
    }
    broken.add(undecodable)
    list.push(undecodable)
    return undecodable
  }

  const offsets = (list: ReadonlyArray<StoredMessage.StoredMessage>, next: bigint) => ({
    nextBeginOffset: next,
    minOffset: 0n,
    maxOffset: BigInt(list.length),
    suggestWhichBrokerId: 0
  })

  const pull = (clientId: string, request: Parameters<Port["pull"]>[0]): Effect.Effect<Broker.PullResult, PortError> =>
    Effect.gen(function*() {
      const key = MQ.key(request.queue)
      state.pulls.push({ clientId, key, offset: request.offset, commitOffset: request.commitOffset })
      if (request.commitOffset !== undefined) state.offsets.set(key, request.commitOffset)
      const list = queues.get(key)
      if (list === undefined) return yield* Effect.fail(failure(`no queue ${key}`, 17))
      const illegal = state.offsetIllegal.get(key)
      if (illegal !== undefined) {
        state.offsetIllegal.delete(key)
        return { _tag: "OffsetIllegal", ...offsets(list, illegal) } satisfies Broker.PullResult
      }
      if (request.offset >= BigInt(list.length)) {
        const signal = arrived
        yield* Effect.race(Deferred.await(signal), Effect.sleep(request.suspendMillis))
      }
      if (request.offset >= BigInt(list.length)) {
        return { _tag: "NoNewMsg", ...offsets(list, request.offset) } satisfies Broker.PullResult
      }
      const batch = list.slice(Number(request.offset), Number(request.offset) + request.maxMessages)
      const codes = new Set(request.subscription.codeSet)
      const matched = codes.size === 0 ? batch : batch.filter((m) => {
        const tag = m.properties.TAGS
        return tag !== undefined && codes.has(Heartbeat.javaHashCode(tag))
      })
      const next = request.offset + BigInt(batch.length)
      return matched.length === 0
        ? { _tag: "NoMatchedMsg", ...offsets(list, next) } satisfies Broker.PullResult
        : { _tag: "Found", ...offsets(list, next), messages: matched.filter((m) => !broken.has(m)), undecodable: matched.flatMap((m) => (Delivery.isUndecodable(m) ? [m] : [])) } satisfies Broker.PullResult
    })

  // What a broker does with a send-back when the cluster has a retry topic: store a copy in
  // %RETRY%<group> after the delay level's time (3 + reconsumeTimes by default), or in the DLQ once
  // reconsumeTimes reaches the maximum or the level is negative.
  const redeliver = (request: SendBackRequest): Effect.Effect<void> => {
    const retryTopic = Object.keys(topics).find((t) => t.startsWith("%RETRY%"))
    if (retryTopic === undefined) return Effect.void
    const reconsumeTimes = request.message.reconsumeTimes
    if (request.delayLevel < 0 || reconsumeTimes >= request.maxReconsumeTimes) {
      return Effect.sync(() => void state.dlq.push(request.message))
    }
    const level = request.delayLevel === 0 ? Retry.brokerDelayLevel(reconsumeTimes) : request.delayLevel
    const delay = Duration.fromInputUnsafe(Retry.DELAY_LEVELS[level - 1]! as Duration.Input)
    return Effect.asVoid(Effect.forkDetach(Effect.andThen(Effect.sleep(delay), Effect.sync(() => {
      append(retryTopic, request.brokerName, 0, new TextDecoder().decode(request.message.body), [
        ["RETRY_TOPIC", request.originalTopic]
      ], { reconsumeTimes: reconsumeTimes + 1, msgId: request.message.msgId })
    }))))
  }

  const port = (clientId: string): Port => ({
    clientId,
    subscribeQueues: (topic) => {
      const def = topics[topic]
      if (def === undefined) return Effect.fail(failure(`no route for ${topic}`, 17))
      return Effect.succeed(def.brokers.flatMap((b) => Array.from({ length: def.queues }, (_, q) => MQ.make(topic, b, q))))
    },
    consumerIds: () =>
      state.fail.consumerIds ? Effect.fail(failure("no consumer for this group", 1)) : Effect.sync(() => [...state.members]),
    pull: (request) => pull(clientId, request),
    queryOffset: (queue) =>
      state.fail.queryOffset
        ? Effect.fail(failure("query timed out"))
        : Effect.sync(() => Option.fromUndefinedOr(state.offsets.get(MQ.key(queue)))),
    commitOffsets: (entries) =>
      Effect.sync(() => {
        for (const { offset, queue } of entries) {
          state.offsets.set(MQ.key(queue), offset)
          state.commits.push([MQ.key(queue), offset])
        }
      }),
    maxOffset: (queue) => Effect.sync(() => BigInt(queues.get(MQ.key(queue))?.length ?? 0)),
    searchOffset: () => Effect.succeed(0n),
    sendBack: (request) =>
      state.fail.sendBack
        ? Effect.fail(failure("send back refused", 1))
        : Effect.andThen(Effect.sync(() => void state.sentBack.push(request)), redeliver(request)),
    sendRetryCopy: (request) =>
      state.fail.retryCopy ? Effect.fail(failure("retry copy refused", 1)) : Effect.sync(() => void state.retryCopies.push(request)),
    lock: (_broker, list) =>
      state.fail.lock ? Effect.fail(failure("lock refused", 1)) : Effect.sync(() =>
        list.filter((queue) => {
          const owner = state.locks.get(MQ.key(queue))
          if (owner !== undefined && owner !== clientId) return false
          state.locks.set(MQ.key(queue), clientId)
          return true
        })
      ),
    unlock: (_broker, list) =>
      Effect.sync(() => {
        for (const queue of list) if (state.locks.get(MQ.key(queue)) === clientId) state.locks.delete(MQ.key(queue))
      }),
    heartbeatNow: Effect.sync(() => {
      state.heartbeats++
    })
  })

  return { state, queues, append, appendUndecodable, port }
}
