/**
 * When a queue's puller must wait instead of pulling, with the Java push consumer's thresholds and
 * delays. This is the consumer's backpressure: a queue holding too many unacknowledged messages
 * (count or body bytes), or too wide a range of offsets between its oldest and newest held
 * message, is not pulled until acknowledgements bring it back under the limits; nothing is
 * buffered beyond them.
 *
 * Pure; no I/O.
 *
 * @internal
 */

/** @internal: the limits, Java's defaults in {@link defaults}. */
export interface Limits {
  /** `pullThresholdForQueue`: held messages per queue. */
  readonly maxCount: number
  /** `pullThresholdSizeForQueue`, in MiB: held body bytes per queue. */
  readonly maxSizeMiB: number
  /** `consumeConcurrentlyMaxSpan`: highest minus lowest held offset (concurrent consumption only). */
  readonly maxSpan: number
  /** `pullThresholdForTopic`: held messages per topic, split evenly over its queues; −1 = off. */
  readonly maxCountPerTopic: number
  /** `pullThresholdSizeForTopic`, in MiB; −1 = off. */
  readonly maxSizeMiBPerTopic: number
}

/** @internal */
export const defaults: Limits = {
  maxCount: 1000,
  maxSizeMiB: 100,
  maxSpan: 2000,
  maxCountPerTopic: -1,
  maxSizeMiBPerTopic: -1
}

/** @internal: `PULL_TIME_DELAY_MILLS_WHEN_CACHE_FLOW_CONTROL`. */
export const FLOW_CONTROL_DELAY_MILLIS = 50

/** @internal: the wait after the broker answered FLOW_CONTROL (215). */
export const BROKER_FLOW_CONTROL_DELAY_MILLIS = 20

/** @internal: `pullTimeDelayMillsWhenException` (ClientConfig's value, which Java uses). */
export const EXCEPTION_DELAY_MILLIS = 1_000

/** @internal: `PULL_TIME_DELAY_MILLS_WHEN_SUSPEND`: a paused consumer re-checks this often. */
export const SUSPENDED_DELAY_MILLIS = 1_000

/** @internal: what a queue currently holds. */
export interface Held {
  readonly count: number
  readonly bytes: number
  readonly maxSpan: bigint
}

/** @internal */
export type Decision =
  | { readonly _tag: "Pull" }
  | { readonly _tag: "Wait"; readonly millis: number; readonly reason: "count" | "size" | "span" }

const PULL: Decision = { _tag: "Pull" }
const MIB = 1024 * 1024

/**
 * The per-queue limits once topic limits are set: `max(1, topicLimit / queuesOfTopic)` (Java's
 * `messageQueueChanged`); unchanged when the topic limits are off.
 *
 * @internal
 */
export const forQueue = (limits: Limits, queuesOfTopic: number): Limits => {
  if (queuesOfTopic <= 0) return limits
  return {
    ...limits,
    maxCount: limits.maxCountPerTopic > 0 ? Math.max(1, Math.floor(limits.maxCountPerTopic / queuesOfTopic)) : limits.maxCount,
    maxSizeMiB: limits.maxSizeMiBPerTopic > 0
      ? Math.max(1, Math.floor(limits.maxSizeMiBPerTopic / queuesOfTopic))
      : limits.maxSizeMiB
  }
}

/**
 * Whether a queue holding `held` may be pulled now. Java compares strictly ("more than the
 * threshold"), and the size in whole MiB.
 *
 * @internal
 */
export const decide = (held: Held, limits: Limits, orderly: boolean): Decision => {
  if (held.count > limits.maxCount) return { _tag: "Wait", millis: FLOW_CONTROL_DELAY_MILLIS, reason: "count" }
  if (Math.floor(held.bytes / MIB) > limits.maxSizeMiB) {
    return { _tag: "Wait", millis: FLOW_CONTROL_DELAY_MILLIS, reason: "size" }
  }
  if (!orderly && held.maxSpan > BigInt(limits.maxSpan)) {
    return { _tag: "Wait", millis: FLOW_CONTROL_DELAY_MILLIS, reason: "span" }
  }
  return PULL
}
