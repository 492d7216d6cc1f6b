/**
 * The bodies this consumer sends to Java's admin tools, in the JSON Java's fastjson writes and
 * reads:
 * - `ConsumerRunningInfo` (GET_CONSUMER_RUNNING_INFO): the configuration as `properties` (with the
 *   `PROP_*` keys admin tools read), the subscriptions, one `ProcessQueueInfo` per owned queue,
 *   and per-topic rates in `statusTable`;
 * - the offsets of GET_CONSUMER_STATUS_FROM_CLIENT;
 * - `ConsumeMessageDirectlyResult` (CONSUME_MESSAGE_DIRECTLY).
 *
 * Maps keyed by a message queue are written as fastjson writes them, with the queue object itself
 * as the key (`{{"brokerName":"b","queueId":0,"topic":"T"}:{…}}`): not standard JSON, but what
 * the Java side parses. Offsets are written as bare integers, so none loses precision.
 *
 * @internal
 */
import type * as MessageQueue from "../../MessageQueue.ts"
import type { Ctx } from "./context.ts"

/** @internal: facts about the process the engine does not hold. */
export interface Facts {
  readonly nameServerAddresses: ReadonlyArray<string>
  readonly startTimestamp: number
  /** e.g. `V5_3_3`: the Java client version this client speaks as. */
  readonly clientVersion: string
  readonly concurrency: number
}

type Json = string | number | boolean | bigint | null | ReadonlyArray<Json> | { readonly [key: string]: Json }

/** @internal: JSON text; bigints are written as bare integers. */
export const json = (value: Json): string => {
  if (typeof value === "bigint") return value.toString()
  if (value === null || typeof value !== "object") return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(json).join(",")}]`
  const object = value as { readonly [key: string]: Json }
  return `{${Object.keys(object).map((key) => `${JSON.stringify(key)}:${json(object[key]!)}`).join(",")}}`
}

/** @internal: a fastjson map whose keys are message queues. */
export const queueKeyed = (entries: Iterable<readonly [MessageQueue.MessageQueue, Json]>): string => {
  const parts: Array<string> = []
  for (const [queue, value] of entries) {
    parts.push(`${json({ brokerName: queue.brokerName, queueId: queue.queueId, topic: queue.topic })}:${json(value)}`)
  }
  return `{${parts.join(",")}}`
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0")

/** @internal: Java's `consumeTimestamp` text, `yyyyMMddHHmmss` in local time. */
export const timestampText = (millis: number): string => {
  const d = new Date(millis)
  return `${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`
}

const FROM_NAME = { LAST_OFFSET: "CONSUME_FROM_LAST_OFFSET", FIRST_OFFSET: "CONSUME_FROM_FIRST_OFFSET", TIMESTAMP: "CONSUME_FROM_TIMESTAMP" }

const properties = (ctx: Ctx, facts: Facts): Record<string, string> => {
  const c = ctx.config
  return {
    consumerGroup: c.group,
    messageModel: c.clustering ? "CLUSTERING" : "BROADCASTING",
    consumeFromWhere: FROM_NAME[c.consumeFromWhere],
    consumeTimestamp: timestampText(c.consumeTimestamp),
    allocateMessageQueueStrategy: c.strategy.name,
    consumeThreadMin: String(facts.concurrency),
    consumeThreadMax: String(facts.concurrency),
    consumeConcurrentlyMaxSpan: String(c.limits.maxSpan),
    pullThresholdForQueue: String(c.limits.maxCount),
    pullThresholdSizeForQueue: String(c.limits.maxSizeMiB),
    pullThresholdForTopic: String(c.limits.maxCountPerTopic),
    pullThresholdSizeForTopic: String(c.limits.maxSizeMiBPerTopic),
    pullInterval: String(c.pullIntervalMillis),
    pullBatchSize: String(c.pullBatchSize),
    consumeMessageBatchMaxSize: "1",
    postSubscriptionWhenPull: "true",
    maxReconsumeTimes: String(c.maxReconsumeTimes),
    suspendCurrentQueueTimeMillis: String(c.suspendMillis),
    persistConsumerOffsetInterval: String(c.persistIntervalMillis),
    namesrvAddr: facts.nameServerAddresses.join(";"),
    language: "OTHER",
    PROP_NAMESERVER_ADDR: facts.nameServerAddresses.map((a) => `${a};`).join(""),
    PROP_CONSUME_TYPE: "CONSUME_PASSIVELY",
    PROP_CONSUMEORDERLY: String(c.orderly),
    PROP_THREADPOOL_CORE_SIZE: String(facts.concurrency),
    PROP_CONSUMER_START_TIMESTAMP: String(facts.startTimestamp),
    PROP_CLIENT_VERSION: facts.clientVersion
  }
}

/** @internal: the `ConsumerRunningInfo` body. */
export const consumerRunningInfo = (ctx: Ctx, facts: Facts, now: number): string => {
  const queues: Array<readonly [MessageQueue.MessageQueue, Json]> = []
  const topics = new Set<string>()
  for (const entry of ctx.entries.values()) {
    topics.add(entry.queue.topic)
    const info = entry.pq.info()
    queues.push([entry.queue, {
      cachedMsgCount: info.cachedMsgCount,
      cachedMsgMaxOffset: info.cachedMsgMaxOffset,
      cachedMsgMinOffset: info.cachedMsgMinOffset,
      cachedMsgSizeInMiB: info.cachedMsgSizeInMiB,
      commitOffset: ctx.store.readMemory(entry.queue) ?? -1n,
      droped: info.dropped,
      lastConsumeTimestamp: info.lastConsumeTimestamp,
      lastLockTimestamp: info.lastLockTimestamp,
      lastPullTimestamp: info.lastPullTimestamp,
      locked: info.locked,
      transactionMsgCount: 0,
      transactionMsgMaxOffset: 0,
      transactionMsgMinOffset: 0,
      tryUnlockTimes: 0
    }])
  }
  const status: Record<string, Json> = {}
  for (const topic of topics) status[topic] = { ...ctx.stats.status(topic, now) }
  const subscriptions = ctx.config.subscriptions.map((s) => ({ ...s.data }))
  return `{"mqPopTable":{},"mqTable":${queueKeyed(queues)},"properties":${json(properties(ctx, facts))},` +
    `"statusTable":${json(status)},"subscriptionSet":${json(subscriptions)},"userConsumerInfo":{}}`
}

/** @internal: GET_CONSUMER_STATUS_FROM_CLIENT's body: the group's offsets of `topic`. */
export const consumerStatus = (ctx: Ctx, topic: string): string => {
  const offsets = ctx.store.entries().filter((entry) => entry.queue.topic === topic)
  return `{"consumerTable":{},"messageQueueTable":${queueKeyed(offsets.map((e) => [e.queue, e.offset] as const))}}`
}

/** @internal: `CMResult` names. */
export type ConsumeResult = "CR_SUCCESS" | "CR_LATER" | "CR_ROLLBACK" | "CR_COMMIT" | "CR_THROW_EXCEPTION" | "CR_RETURN_NULL"

/** @internal: the `ConsumeMessageDirectlyResult` body; fastjson leaves a null remark out. */
export const directResult = (
  result: ConsumeResult,
  orderly: boolean,
  spentMillis: number,
  remark: string | undefined
): string =>
  json({
    autoCommit: true,
    consumeResult: result,
    order: orderly,
    ...(remark === undefined ? {} : { remark }),
    spentTimeMills: spentMillis
  })
