/**
 * The consumer's options checked as Java's `checkConfig` checks them (same ranges), and resolved
 * to Java's defaults. Every problem is an {@link InvalidConsumerOptions} naming the option; nothing
 * throws.
 *
 * @internal
 */
import { Duration, Effect, Option } from "effect"
import * as Allocation from "../../Allocation.ts"
import type { Options } from "../../Consumer.ts"
import { InvalidConsumerOptions } from "../../ConsumerError.ts"
import type { Config } from "./context.ts"
import * as FlowControl from "./flowControl.ts"
import * as Retry from "./retry.ts"
import type * as StartOffset from "./startOffset.ts"
import * as Subscription from "./subscription.ts"

const NAME = /^[%|a-zA-Z0-9_-]+$/

/** @internal: Java's limits on group and topic names. */
export const GROUP_MAX_LENGTH = 120
/** @internal */
export const TOPIC_MAX_LENGTH = 127

/** @internal: how far back `CONSUME_FROM_TIMESTAMP` starts by default (Java: 30 minutes before start). */
export const DEFAULT_TIMESTAMP_OFFSET_MILLIS = 30 * 60_000

const invalid = (option: string, detail: string) => new InvalidConsumerOptions({ option, detail })

const checkName = (option: string, kind: string, name: string, max: number) => {
  if (name.trim().length === 0) return invalid(option, `the ${kind} is blank`)
  if (name.length > max) return invalid(option, `the ${kind} ${JSON.stringify(name)} is longer than ${max} characters`)
  if (!NAME.test(name)) {
    return invalid(option, `the ${kind} ${JSON.stringify(name)} contains characters other than ^[%|a-zA-Z0-9_-]+$`)
  }
  return undefined
}

const int = (option: string, value: number | undefined, fallback: number, min: number, max: number, offValue?: number) => {
  const v = value ?? fallback
  if (offValue !== undefined && v === offValue) return v
  if (!Number.isInteger(v) || v < min || v > max) {
    return invalid(option, `${v} is not a whole number in ${min} … ${max}${offValue === undefined ? "" : ` (or ${offValue} for off)`}`)
  }
  return v
}

const millis = (option: string, value: Duration.Input | undefined, fallback: number, min: number, max: number) => {
  if (value === undefined) return fallback
  return Option.match(Duration.fromInput(value), {
    onNone: () => invalid(option, `${JSON.stringify(value)} is not a duration`),
    onSome: (d) => {
      const ms = Duration.toMillis(d)
      return ms >= min && ms <= max ? ms : invalid(option, `${ms} ms is outside ${min} … ${max} ms`)
    }
  })
}

const FROM: Readonly<Record<string, StartOffset.ConsumeFromWhere>> = {
  CONSUME_FROM_LAST_OFFSET: "LAST_OFFSET",
  CONSUME_FROM_FIRST_OFFSET: "FIRST_OFFSET",
  CONSUME_FROM_TIMESTAMP: "TIMESTAMP"
}

/**
 * Checks `options` and resolves Java's defaults; `now` is the start time (for the default
 * `consumeTimestamp` and the subscriptions' version).
 *
 * @internal
 */
export const resolve = (options: Options, now: number): Effect.Effect<Config, InvalidConsumerOptions> =>
  Effect.suspend(() => {
    const group = options.consumerGroup
    const groupError = checkName("consumerGroup", "consumer group", group, GROUP_MAX_LENGTH)
    if (groupError !== undefined) return Effect.fail(groupError)
    if (group === "DEFAULT_CONSUMER") {
      return Effect.fail(invalid("consumerGroup", "DEFAULT_CONSUMER is reserved; name the group after your application"))
    }
    const topics = Object.entries(options.subscriptions)
    if (topics.length === 0) return Effect.fail(invalid("subscriptions", "subscribe to at least one topic"))
    for (const [topic] of topics) {
      const error = checkName("subscriptions", "topic", topic, TOPIC_MAX_LENGTH)
      if (error !== undefined) return Effect.fail(error)
    }
    const from = FROM[options.consumeFromWhere ?? "CONSUME_FROM_LAST_OFFSET"]
    if (from === undefined) return Effect.fail(invalid("consumeFromWhere", `unknown value ${String(options.consumeFromWhere)}`))
    const timestamp = options.consumeTimestamp === undefined
      ? now - DEFAULT_TIMESTAMP_OFFSET_MILLIS
      : options.consumeTimestamp instanceof Date
      ? options.consumeTimestamp.getTime()
      : options.consumeTimestamp
    if (!Number.isFinite(timestamp)) return Effect.fail(invalid("consumeTimestamp", "not a valid time"))
    const clustering = (options.messageModel ?? "CLUSTERING") === "CLUSTERING"
    const orderly = options.orderly ?? false
    const values = [
      int("pullBatchSize", options.pullBatchSize, 32, 1, 1024),
      int("pullThresholdForQueue", options.pullThresholdForQueue, FlowControl.defaults.maxCount, 1, 65535),
      int("pullThresholdSizeForQueue", options.pullThresholdSizeForQueue, FlowControl.defaults.maxSizeMiB, 1, 1024),
      int("pullThresholdForTopic", options.pullThresholdForTopic, -1, 1, 6553500, -1),
      int("pullThresholdSizeForTopic", options.pullThresholdSizeForTopic, -1, 1, 102400, -1),
      int("consumeConcurrentlyMaxSpan", options.consumeConcurrentlyMaxSpan, FlowControl.defaults.maxSpan, 1, 65535),
      int("maxReconsumeTimes", options.maxReconsumeTimes, -1, -1, 2147483647),
      millis("pullInterval", options.pullInterval, 0, 0, 65535),
      millis("suspendCurrentQueueTime", options.suspendCurrentQueueTime, Retry.DEFAULT_SUSPEND_MILLIS, 10, 30_000),
      millis("persistConsumerOffsetInterval", options.persistConsumerOffsetInterval, 5_000, 1, 3_600_000),
      millis("rebalanceInterval", options.rebalanceInterval, 20_000, 1_000, 3_600_000),
      millis("drainTimeout", options.drainTimeout, 500, 0, 60_000),
      millis("consumeTimeout", options.consumeTimeout, 15 * 60_000, 60_000, 24 * 3_600_000)
    ] as const
    for (const value of values) if (value instanceof InvalidConsumerOptions) return Effect.fail(value)
    const [batch, count, size, topicCount, topicSize, span, maxReconsume, interval, suspend, persist, rebalance, drain, timeout] =
      values as unknown as ReadonlyArray<number>
    return Effect.succeed<Config>({
      group,
      clustering,
      orderly,
      subscriptions: Subscription.build(group, topics, clustering, now),
      consumeFromWhere: from,
      consumeTimestamp: timestamp,
      strategy: options.allocateStrategy ?? Allocation.averagely,
      limits: {
        maxCount: count!,
        maxSizeMiB: size!,
        maxSpan: span!,
        maxCountPerTopic: topicCount!,
        maxSizeMiBPerTopic: topicSize!
      },
      pullBatchSize: batch!,
      pullIntervalMillis: interval!,
      suspendMillis: suspend!,
      maxReconsumeTimes: Retry.effectiveMaxReconsumeTimes(maxReconsume!, orderly),
      persistIntervalMillis: persist!,
      rebalanceIntervalMillis: rebalance!,
      brokerSuspendMillis: 15_000,
      drainMillis: drain!,
      // Bounded: room for one pull batch per owned queue would be unbounded in the queue count;
      // a few batches are enough to keep readers busy while pullers refill.
      handoffCapacity: Math.max(64, batch! * 2),
      consumeTimeoutMillis: timeout!
    })
  })
