/**
 * A push consumer with the group semantics of Java's `DefaultMQPushConsumer`: our consumers and
 * Java's can share one consumer group.
 *
 * ```ts
 * const program = Consumer.run((delivery) => Effect.log(delivery.message.msgId))
 * program.pipe(
 *   Effect.provide(Consumer.layer({ consumerGroup: "orders-app", subscriptions: { Orders: "TagA || TagB" } })),
 *   Effect.provide(ClientInstance.layerConfig())
 * )
 * ```
 *
 * Two shapes over one engine:
 * - {@link run}: a handler Effect per message; success acknowledges it, failure sends it back
 *   for a later retry (Java's delay levels: 10 s, 30 s, 1 min … 2 h), and after
 *   `maxReconsumeTimes` (16) the broker moves it to `%DLQ%<group>`. If the send-back fails the
 *   message is retried here after 5 s: it is never dropped.
 * - {@link stream}: a `Stream` of {@link Delivery}s, each with its own `ack` / `nack`.
 *
 * **Delivery guarantee: at least once.** The committed offset of a queue is the lowest offset not
 * yet acknowledged, so after a crash, a rebalance or a close, every message from that offset on is
 * delivered again (possibly a second time), and no message is ever skipped. It is persisted to
 * the brokers every 5 s, when a queue leaves this member, and when the consumer closes
 * (clustering), or to a local file written atomically (broadcasting).
 *
 * Group behaviour (clustering, the default): the group's members split each topic's queues with
 * Java's `AllocateMessageQueueAveragely`, on start, every 20 s and whenever the broker says the
 * membership changed; `%RETRY%<group>` is subscribed automatically. A queue that leaves this member
 * is drained (its handed-out messages get `drainTimeout` to be settled) and its offset persisted
 * before it is released. Broadcasting: every member consumes every queue; failed messages are
 * dropped with a warning, as Java does (broadcasting has no retry topic).
 *
 * Backpressure: a queue holding more than `pullThresholdForQueue` (1000) unacknowledged messages,
 * or `pullThresholdSizeForQueue` (100 MiB) of bodies, or (concurrently) a span wider than
 * `consumeConcurrentlyMaxSpan` (2000) offsets, is not pulled until acknowledgements bring it back;
 * between pullers and the user sits one small bounded queue. Nothing buffers without bound.
 *
 * Orderly consumption (`orderly: true`): each queue's messages are handed out one at a time in
 * queue order, the next only after the previous was settled; clustering consumers hold the broker
 * lock of each queue (renewed every 20 s) and a failed message suspends its queue and is retried
 * in place.
 *
 * The consumer answers what brokers and Java's admin tools ask: NOTIFY_CONSUMER_IDS_CHANGED,
 * RESET_CONSUMER_CLIENT_OFFSET, GET_CONSUMER_RUNNING_INFO and CONSUME_MESSAGE_DIRECTLY.
 *
 * @since 0.1.0
 */
import { Context, type Duration, Effect, type Stream } from "effect"
import type * as Allocation from "./Allocation.ts"
import type * as MessageQueue from "./MessageQueue.ts"
import type * as StoredMessage from "./StoredMessage.ts"

/**
 * A consumer's configuration. Defaults are Java's.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The consumer group: `^[%|a-zA-Z0-9_-]+$`, at most 120 characters, not `DEFAULT_CONSUMER`. */
  readonly consumerGroup: string
  /** Topic → tag expression: `"*"` for every message, or tags such as `"TagA || TagB"`. */
  readonly subscriptions: Readonly<Record<string, string>>
  /** Default `"CLUSTERING"`. */
  readonly messageModel?: "CLUSTERING" | "BROADCASTING" | undefined
  /**
   * Where a group with no stored offset starts on a queue (default `CONSUME_FROM_LAST_OFFSET`).
   * Note that brokers answer offset 0 for a new group on a queue whose first message is still in
   * memory, so a new group on a young topic starts from the beginning anyway.
   */
  readonly consumeFromWhere?:
    | "CONSUME_FROM_LAST_OFFSET"
    | "CONSUME_FROM_FIRST_OFFSET"
    | "CONSUME_FROM_TIMESTAMP"
    | undefined
  /** For `CONSUME_FROM_TIMESTAMP`: default 30 minutes before the consumer starts. */
  readonly consumeTimestamp?: Date | number | undefined
  /** Hand out each queue's messages one at a time, in order (default false). */
  readonly orderly?: boolean | undefined
  /** Failures before the DLQ; −1 (default) means 16, or unbounded when orderly. */
  readonly maxReconsumeTimes?: number | undefined
  /** Messages per pull, 1 … 1024 (default 32). */
  readonly pullBatchSize?: number | undefined
  /** Pause between pulls of a queue that found messages (default 0). */
  readonly pullInterval?: Duration.Input | undefined
  /** Unacknowledged messages per queue before pulling pauses, 1 … 65535 (default 1000). */
  readonly pullThresholdForQueue?: number | undefined
  /** Unacknowledged body MiB per queue before pulling pauses, 1 … 1024 (default 100). */
  readonly pullThresholdSizeForQueue?: number | undefined
  /** Per topic, split over its queues; −1 (default) = off. */
  readonly pullThresholdForTopic?: number | undefined
  /** Per topic in MiB, split over its queues; −1 (default) = off. */
  readonly pullThresholdSizeForTopic?: number | undefined
  /** Concurrent consumption: widest offset span held per queue, 1 … 65535 (default 2000). */
  readonly consumeConcurrentlyMaxSpan?: number | undefined
  /** Orderly: how long a queue is suspended after a failure (default 1 s; 10 ms … 30 s). */
  readonly suspendCurrentQueueTime?: Duration.Input | undefined
  /** Default 5 s. */
  readonly persistConsumerOffsetInterval?: Duration.Input | undefined
  /** Default 20 s. */
  readonly rebalanceInterval?: Duration.Input | undefined
  /**
   * Concurrent consumption: a message handed out this long ago and still not settled is sent back
   * for a later retry and released (default 15 min; its handler keeps running, as in Java).
   */
  readonly consumeTimeout?: Duration.Input | undefined
  /** How long a leaving queue waits for its handed-out messages to be settled (default 500 ms). */
  readonly drainTimeout?: Duration.Input | undefined
  /** Default {@link Allocation.averagely}; every member of the group must use the same. */
  readonly allocateStrategy?: Allocation.Strategy | undefined
  /**
   * Broadcasting: the directory of the local offset files (default `~/.rocketmq_offsets`); the
   * file is `<dir>/<clientIP@instanceName>/<group>/offsets.json`.
   */
  readonly offsetStoreDir?: string | undefined
}

/**
 * A message handed to the user, with the means to settle it. Settle it once: the first of `ack` /
 * `nack` counts, later calls do nothing. After the consumer closed, settling changes nothing (the
 * message is delivered again to the group).
 *
 * @since 0.1.0
 * @category models
 */
export interface Delivery {
  /** The message. A retried message carries its original topic, and `reconsumeTimes` counts its failures. */
  readonly message: StoredMessage.StoredMessage
  /** The queue it was pulled from (`%RETRY%<group>` for a retry). */
  readonly queue: MessageQueue.MessageQueue
  /** Consumed: the committed offset may move past it. */
  readonly ack: Effect.Effect<void>
  /** Failed: retried later (see {@link NackOptions}); waits until the broker has taken it back. */
  readonly nack: (options?: NackOptions | undefined) => Effect.Effect<void>
}

/**
 * How a failed message is retried.
 *
 * @since 0.1.0
 * @category models
 */
export interface NackOptions {
  /**
   * Concurrent consumption: 0 (default) lets the broker pick level `3 + reconsumeTimes`; `n > 0`
   * uses delay level `n` (1 s, 5 s, 10 s, 30 s, 1 min … 2 h); −1 moves the message to the DLQ now.
   */
  readonly delayLevel?: number | undefined
  /** Orderly consumption: how long its queue is suspended before it is retried. */
  readonly suspend?: Duration.Input | undefined
}

/**
 * Options of {@link run}.
 *
 * @since 0.1.0
 * @category models
 */
export interface RunOptions {
  /** Messages handled at once (default 20, Java's `consumeThreadMax`). */
  readonly concurrency?: number | undefined
}

/**
 * A running consumer.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConsumerShape {
  readonly consumerGroup: string
  /** Every message, each to be settled. Ends when the consumer closes. */
  readonly stream: Stream.Stream<Delivery>
  /** Runs `handler` on every message until interrupted or the consumer closes. */
  readonly run: <E, R>(
    handler: (delivery: Delivery) => Effect.Effect<unknown, E, R>,
    options?: RunOptions | undefined
  ) => Effect.Effect<void, never, R>
  /** The queues this member owns now. */
  readonly assignment: Effect.Effect<ReadonlyArray<MessageQueue.MessageQueue>>
  /** Persists the committed offsets now (they are also persisted periodically and on close). */
  readonly persist: Effect.Effect<void>
}

/**
 * The consumer service.
 *
 * @since 0.1.0
 * @category services
 */
export class Consumer extends Context.Service<Consumer, ConsumerShape>()("rocketmq/client/Consumer") {}
