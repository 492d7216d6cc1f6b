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
import { NodeFileSystem } from "@effect/platform-node"
import { Clock, Config, Context, type Duration, Effect, Exit, FileSystem, Layer, Option, Scope, Stream } from "effect"
import * as os from "node:os"
import * as nodePath from "node:path"
import type * as Allocation from "./Allocation.ts"
import type { GroupAlreadyRegistered } from "./ClientError.ts"
import { ClientInstance } from "./ClientInstance.ts"
import type { InvalidConsumerOptions, OffsetFileError } from "./ConsumerError.ts"
import * as BrokerRequests from "./internal/consumer/brokerRequests.ts"
import * as ConsumerConfig from "./internal/consumer/config.ts"
import * as Engine from "./internal/consumer/engine.ts"
import * as LivePort from "./internal/consumer/livePort.ts"
import * as Metrics from "./internal/consumer/metrics.ts"
import * as OffsetStore from "./internal/consumer/offsetStore.ts"
import { type PortError, remoteBackend } from "./internal/consumer/port.ts"
import * as Service from "./internal/consumer/service.ts"
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

/**
 * What {@link make} can fail with: options Java would refuse, an unreadable offset file
 * (broadcasting), or a group this client instance already runs.
 *
 * @since 0.1.0
 * @category models
 */
export type MakeError = InvalidConsumerOptions | OffsetFileError | GroupAlreadyRegistered

/** The version of the Java client whose behaviour this one follows, as admin tools show it. */
const CLIENT_VERSION = "V5_3_3"

// Java keeps a broadcasting consumer's instance name (DEFAULT unless set), so its offset file has
// a name that survives restarts; the instance's per-process name (pid#nanos) would not.
const localOffsetFile = (dir: string | undefined, clientId: string, group: string): string => {
  const [ip = "127.0.0.1", instance = "DEFAULT"] = clientId.split("@")
  const stable = /^\d+#\d+$/.test(instance) ? "DEFAULT" : instance
  return nodePath.join(dir ?? nodePath.join(os.homedir(), ".rocketmq_offsets"), `${ip}@${stable}`, group, "offsets.json")
}

const localBackend = (path: string) =>
  Effect.flatMap(Effect.serviceOption(FileSystem.FileSystem), (fs) =>
    Option.isSome(fs)
      ? OffsetStore.localFile(path).pipe(Effect.provideService(FileSystem.FileSystem, fs.value))
      : OffsetStore.localFile(path).pipe(Effect.provide(NodeFileSystem.layer)))

/**
 * Starts a consumer on the {@link ClientInstance} in context, for the life of the current scope.
 *
 * It registers the group with the instance (heartbeats carry it from then on), reads the subscribed
 * topics' routes and heartbeats every broker in them (as Java's start does), rebalances at once and
 * starts pulling; messages wait, held and bounded by the flow-control limits, until
 * {@link ConsumerShape.run} or {@link ConsumerShape.stream} reads them. Closing the scope stops
 * pulling, gives handed-out messages `drainTimeout` to be settled, persists every committed offset,
 * releases orderly locks, then unregisters the group (UNREGISTER_CLIENT), in that order.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<ConsumerShape, MakeError, ClientInstance | Scope.Scope> =>
  Effect.gen(function*() {
    const instance = yield* ClientInstance
    const started = yield* Clock.currentTimeMillis
    const config = yield* ConsumerConfig.resolve(options, started)
    const port = LivePort.make(instance, config.group)
    const backend: OffsetStore.Backend<PortError> = config.clustering
      ? remoteBackend(port)
      : yield* localBackend(localOffsetFile(options.offsetStoreDir, instance.clientId, config.group))
    // The engine lives in its own scope, closed before the registration is released: offsets are
    // persisted before the brokers hear that this member left (and others take its queues).
    const engineScope = yield* Scope.fork(yield* Effect.scope)
    const engine = yield* Engine.make(config, port, backend).pipe(Scope.provide(engineScope))
    const nameServers = yield* instance.remotingClient.nameServerAddresses
    yield* instance.registerConsumer(config.group, {
      data: Effect.succeed({
        groupName: config.group,
        consumeType: "CONSUME_PASSIVELY",
        messageModel: config.clustering ? "CLUSTERING" : "BROADCASTING",
        consumeFromWhere: options.consumeFromWhere ?? "CONSUME_FROM_LAST_OFFSET",
        subscriptionDataSet: config.subscriptions.map((subscription) => subscription.data),
        unitMode: false
      }),
      handlers: BrokerRequests.handlers(engine.ctx, {
        nameServerAddresses: nameServers,
        startTimestamp: started,
        clientVersion: CLIENT_VERSION,
        concurrency: Service.DEFAULT_CONCURRENCY
      })
    })
    yield* Effect.addFinalizer(() => Scope.close(engineScope, Exit.void))
    // As Java's start: the subscribed topics' routes first, then a heartbeat to every broker in
    // them, then the first rebalance — so the brokers know this member when it asks for the group's
    // member list (otherwise a new group's first round finds "no consumer for this group").
    yield* Effect.forEach(config.subscriptions, (subscription) => Effect.ignore(port.subscribeQueues(subscription.topic)), {
      discard: true
    })
    yield* instance.heartbeatNow
    yield* engine.start
    return Service.fromEngine(engine)
  })

/**
 * The {@link Consumer} service, built by {@link make}; needs a {@link ClientInstance}.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Consumer, MakeError, ClientInstance> =>
  Layer.effect(Consumer, make(options))

/**
 * {@link layer} with its options read from configuration, e.g.
 * `Consumer.layerConfig({ consumerGroup: Config.string("GROUP"), subscriptions: Config.succeed({ Orders: "*" }) })`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Wrap<Options>
): Layer.Layer<Consumer, MakeError | Config.ConfigError, ClientInstance> =>
  Layer.effect(Consumer, Effect.flatMap(Config.unwrap(options), make))

/**
 * Runs `handler` on every message of the {@link Consumer} in context until interrupted or the
 * consumer closes: success acknowledges, failure retries (see the module documentation).
 *
 * @since 0.1.0
 * @category accessors
 */
export const run = <E, R>(
  handler: (delivery: Delivery) => Effect.Effect<unknown, E, R>,
  options?: RunOptions | undefined
): Effect.Effect<void, never, R | Consumer> => Consumer.use((consumer) => consumer.run(handler, options))

/**
 * The messages of the {@link Consumer} in context, each to be settled with `ack` / `nack`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const stream: Stream.Stream<Delivery, never, Consumer> = Stream.unwrap(Consumer.useSync((consumer) => consumer.stream))

/**
 * Messages pulled and held for the user (after the client's tag check), by `group`. Counted on
 * every offset persist (`persistConsumerOffsetInterval`, 5 s) and when the consumer closes, not
 * per message.
 *
 * @since 0.1.0
 * @category metrics
 */
export const pulledMessagesTotal = Metrics.pulledTotal

/**
 * Messages settled, by `group` and `result` (`ok`: acknowledged; `failed`: nacked or the handler
 * failed). Counted on every offset persist and when the consumer closes, as {@link pulledMessagesTotal}.
 *
 * @since 0.1.0
 * @category metrics
 */
export const consumedMessagesTotal = Metrics.consumedTotal

/**
 * Failed messages, by `group` and how they were retried (`via`: `send-back`, `retry-copy`, `local`).
 *
 * @since 0.1.0
 * @category metrics
 */
export const retriesTotal = Metrics.retriesTotal

/**
 * Rebalance rounds, by `group` and whether the owned queues `changed`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const rebalancesTotal = Metrics.rebalancesTotal
