/**
 * The RocketMQ producer (Java's `DefaultMQProducer`), on a shared {@link ClientInstance}: one line
 * per send, with Java's queue selection, retries, validation and compression.
 *
 * ```ts
 * const program = Effect.gen(function*() {
 *   const producer = yield* Producer.Producer
 *   const result = yield* producer.send(Message.make("Orders", "hello", { tags: "created", keys: "order-1" }))
 * }).pipe(Effect.provide(Producer.layer({ group: "orders" }).pipe(Layer.provide(ClientInstance.layerConfig()))))
 * ```
 *
 * Contract:
 *
 * - **Validation first**: Java's rules (topic name and length, reserved topics, empty body, body
 *   over `maxMessageSize`) and ours (properties, delays) are checked before anything touches the
 *   network; a failure is an `InvalidMessage` saying what to change.
 * - **Queue selection** is Java's: round-robin over the writable queues of writable masters, from
 *   a per-topic counter with a random start; an ordered send picks by `shardingKey` (Java's
 *   `SelectMessageQueueByHash`), by a `selector`, or takes the given `queue`.
 * - **Retries** (Java's `sendDefaultImpl`): at most `1 + retryTimesWhenSendFailed` attempts within
 *   one `sendMsgTimeout` deadline, each to another broker than the one that just failed, only after
 *   the failures Java retries (see the send loop's rules in `internal/sendLoop.ts`); a failure
 *   Java does not retry ends the send with that error. Ordered sends make one attempt, as Java.
 *   `sendLatencyFaultEnable` turns on Java's latency fault tolerance.
 * - **Compression**: bodies of at least `compressMsgBodyOverHowmuch` (4 KiB) bytes are sent
 *   ZLIB-compressed at level 5, as Java; `compressBodies: false` turns it off.
 * - **Bulk** (`sendAll`): each message as `send` sends it, with the first attempts of all of them
 *   in one bulk request per broker (`Broker.sendMessages`); a result per message, in order.
 * - **Batches** (`sendBatch`): Java's rules (one topic, not a retry topic, one `waitStoreMsgOk`, no
 *   delay level), each message checked as above, then split into SEND_BATCH_MESSAGE requests of at
 *   most `maxMessageSize` bytes, sent in order with the retries of a send; every msgId is returned.
 * - **Transactions** (`sendInTransaction`): the half message is sent (retries as a send), then the
 *   local transaction runs and END_TRANSACTION tells the broker COMMIT, ROLLBACK or UNKNOWN; a
 *   failing local transaction is UNKNOWN. `checkTransaction` answers the broker's checks.
 * - **Interruption**: interrupting a send interrupts its request (the response, if any, is
 *   dropped); the message may or may not be stored then.
 * - **Closing** the producer's scope stops admission (later sends fail with `ProducerClosed`),
 *   lets every send in flight finish its current attempt (bounded by its deadline; no new attempt
 *   starts: it fails with `ProducerClosed`), then releases the group's registration
 *   (UNREGISTER_CLIENT).
 * - **Metrics** by topic: messages sent, sends failed, retries, send latency; a `Producer.send`
 *   span around each send when a tracer is installed (none under Effect's native tracer).
 *
 * @since 0.1.0
 */
import { Config, Context, Duration, Effect, Layer, Metric, Random, type Result, type Scope } from "effect"
import type * as Broker from "./Broker.ts"
import type { CompressionError, GroupAlreadyRegistered, NoRouteInfo } from "./ClientError.ts"
import type * as Compression from "./Compression.ts"
import { ClientInstance } from "./ClientInstance.ts"
import * as Admission from "./internal/admission.ts"
import * as SendAll from "./internal/sendAll.ts"
import * as SendPaths from "./internal/sendPaths.ts"
import * as Transactions from "./internal/transactions.ts"
import * as Validation from "./internal/validation.ts"
import type * as Message from "./Message.ts"
import type * as MessageQueue from "./MessageQueue.ts"
import type { BatchPartlySent, InvalidMessage, InvalidProducerOptions, ProducerClosed, SendFailed } from "./ProducerError.ts"
import type * as Transaction from "./Transaction.ts"

/**
 * Plain data; every field but `group` has Java's default.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProducerOptions {
  /** The producer group (Java requires one other than `DEFAULT_PRODUCER`). */
  readonly group: string
  /** Budget of one send, all attempts included. Default 3 s. */
  readonly sendMsgTimeout?: Duration.Input | undefined
  /** Attempts after the first on failure. Default 2. */
  readonly retryTimesWhenSendFailed?: number | undefined
  /** Also retry, on another broker, a send stored on the master but not flushed or replicated. Default false. */
  readonly retryAnotherBrokerWhenNotStoreOK?: boolean | undefined
  /** Largest body (and batch request) accepted, in bytes. Default 4 MiB. */
  readonly maxMessageSize?: number | undefined
  /** Compress bodies of at least `compressMsgBodyOverHowmuch` bytes. Default true. */
  readonly compressBodies?: boolean | undefined
  /** Default 4096. */
  readonly compressMsgBodyOverHowmuch?: number | undefined
  /** `ZLIB` (default), `LZ4` or `ZSTD`, as Java 5.x's `rocketmq.message.compressType`. */
  readonly compressType?: Compression.CompressionType | undefined
  /** ZLIB 0–9, ZSTD 1–22; default 5 (`rocketmq.message.compressLevel`). LZ4 has no level. */
  readonly compressLevel?: number | undefined
  /** Avoid brokers that answered slowly or failed (Java's `sendLatencyFaultEnable`). Default false. */
  readonly sendLatencyFaultEnable?: boolean | undefined
  /** Queue count of a topic the broker creates from `TBW102` on first send. Default 4. */
  readonly defaultTopicQueueNums?: number | undefined
  /**
   * Answers the brokers' transaction checks for this group (Java's `checkLocalTransaction`): how
   * the local transaction of a half message ended. Without it, checks are logged and left
   * unanswered (the broker asks again, up to 15 times).
   */
  readonly checkTransaction?: ((check: TransactionCheck) => Effect.Effect<TransactionResolution, unknown>) | undefined
  /** Checks waiting for an answer before more are dropped. Default 2000 (`checkRequestHoldMax`). */
  readonly checkRequestHoldMax?: number | undefined
}

/**
 * How one send picks its queue, and its budget.
 *
 * @since 0.1.0
 * @category models
 */
export interface SendOptions {
  /** This send's budget (each request's, for a batch); default the producer's `sendMsgTimeout`. */
  readonly timeout?: Duration.Input | undefined
  /** Ordered send: the queue at `|javaHashCode(shardingKey) % queues|` (one attempt, as Java). */
  readonly shardingKey?: string | undefined
  /** Ordered send: the queue the selector picks from the topic's publish queues (one attempt). */
  readonly selector?: ((queues: ReadonlyArray<MessageQueue.MessageQueue>, message: Message.Message) => MessageQueue.MessageQueue) | undefined
  /** Send to this queue (one attempt, as Java's `send(msg, mq)`). */
  readonly queue?: MessageQueue.MessageQueue | undefined
}

/**
 * The budget of a bulk send ({@link ProducerShape.sendAll}).
 *
 * @since 0.1.0
 * @category models
 */
export interface SendAllOptions {
  /** Every message's budget, from the call: default the producer's `sendMsgTimeout`. */
  readonly timeout?: Duration.Input | undefined
}

/**
 * A stored message: the broker's answer and the queue it went to.
 *
 * @since 0.1.0
 * @category models
 */
export interface SendResult extends Broker.SendResult {
  readonly messageQueue: MessageQueue.MessageQueue
}

/**
 * One request of a batch: the broker's answer and the queue it went to.
 *
 * @since 0.1.0
 * @category models
 */
export interface BatchRequestResult extends Broker.BatchSendResult {
  readonly messageQueue: MessageQueue.MessageQueue
}

/**
 * A stored batch: every client message id, in order, and one result per request.
 *
 * @since 0.1.0
 * @category models
 */
export interface BatchResult {
  readonly msgIds: ReadonlyArray<string>
  readonly requests: ReadonlyArray<BatchRequestResult>
}

/**
 * How a transaction ended: deliver the message, drop it, or not known yet (the broker asks later).
 *
 * @since 0.1.0
 * @category models
 */
export type TransactionResolution = Transaction.Resolution

/**
 * A broker's question about a half message (see {@link ProducerOptions.checkTransaction}).
 *
 * @since 0.1.0
 * @category models
 */
export type TransactionCheck = Transactions.TransactionCheck

/**
 * A transactional send: the half message's send result and how the transaction was ended.
 *
 * @since 0.1.0
 * @category models
 */
export interface TransactionSendResult extends SendResult {
  readonly resolution: TransactionResolution
  /** Why the local transaction ended UNKNOWN, when it failed. */
  readonly localTransactionError: string | undefined
}

/**
 * What a send can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type SendError =
  | InvalidMessage
  | NoRouteInfo
  | SendFailed
  | ProducerClosed
  | CompressionError
  | Broker.BrokerError

/**
 * @since 0.1.0
 * @category models
 */
export interface ProducerShape {
  readonly group: string
  /** Sends one message and waits for the broker's answer (retries as the module header says). */
  readonly send: (message: Message.Message, options?: SendOptions | undefined) => Effect.Effect<SendResult, SendError>
  /**
   * Sends one message without waiting for an answer (Java's `sendOneway`): one attempt, no retry;
   * it succeeds once the request is handed to the connection, so a broker-side failure goes unseen.
   */
  readonly sendOneway: (message: Message.Message, options?: SendOptions | undefined) => Effect.Effect<void, SendError>
  /**
   * Sends each message as {@link send} would — its own queue (round-robin), retries and result —
   * with the first attempts going out together: one bulk request per broker (one channel, one
   * suspension), instead of a request and a fiber per message. Resumes once, with each message's
   * result or typed error in the order given. Messages may be of different topics. Fails as a
   * whole only with `ProducerClosed`. For ordered sends use `send` with a queue, sharding key or
   * selector.
   */
  readonly sendAll: (
    messages: ReadonlyArray<Message.Message>,
    options?: SendAllOptions | undefined
  ) => Effect.Effect<Array<Result.Result<SendResult, SendError>>, ProducerClosed>
  /** Sends messages of one topic as batches (SEND_BATCH_MESSAGE), split under `maxMessageSize`. */
  readonly sendBatch: (
    messages: ReadonlyArray<Message.Message>,
    options?: SendOptions | undefined
  ) => Effect.Effect<BatchResult, SendError | BatchPartlySent>
  /**
   * Sends a half message, runs `localTransaction` once it is stored (SEND_OK), and ends the
   * transaction with its resolution (a failure is UNKNOWN; a store that was not OK is ROLLBACK,
   * without running it), as Java's `sendMessageInTransaction`.
   */
  readonly sendInTransaction: <E, R>(
    message: Message.Message,
    localTransaction: (result: SendResult) => Effect.Effect<TransactionResolution, E, R>
  ) => Effect.Effect<TransactionSendResult, SendError, R>
}

/**
 * @since 0.1.0
 * @category services
 */
export class Producer extends Context.Service<Producer, ProducerShape>()("rocketmq/client/Producer") {}

/**
 * Messages stored by a broker, by topic.
 *
 * @since 0.1.0
 * @category metrics
 */
export const messagesSentTotal = Metric.counter("rocketmq_producer_messages_sent_total", {
  description: "Messages a broker stored",
  incremental: true
})

/**
 * Sends (and batch requests) that failed after their retries, by topic.
 *
 * @since 0.1.0
 * @category metrics
 */
export const sendFailuresTotal = Metric.counter("rocketmq_producer_send_failures_total", {
  description: "Sends that failed after their retries",
  incremental: true
})

/**
 * Attempts after the first, by topic.
 *
 * @since 0.1.0
 * @category metrics
 */
export const sendRetriesTotal = Metric.counter("rocketmq_producer_send_retries_total", {
  description: "Send attempts after a failed one",
  incremental: true
})

/**
 * Duration of successful sends (and batch requests), retries included, in ms, by topic.
 *
 * @since 0.1.0
 * @category metrics
 */
export const sendLatency = Metric.histogram("rocketmq_producer_send_latency_ms", {
  description: "Duration of successful sends, retries included (ms)",
  boundaries: Metric.exponentialBoundaries({ start: 0.25, factor: 2, count: 16 })
})

/**
 * @since 0.1.0
 * @category constants
 */
export const defaults = {
  sendMsgTimeout: Duration.seconds(3),
  retryTimesWhenSendFailed: 2,
  retryAnotherBrokerWhenNotStoreOK: false,
  maxMessageSize: 4 * 1024 * 1024,
  compressBodies: true,
  compressMsgBodyOverHowmuch: 4096,
  compressType: "ZLIB",
  compressLevel: 5,
  sendLatencyFaultEnable: false,
  defaultTopicQueueNums: 4,
  checkRequestHoldMax: 2000
} as const

const checkOptions = (options: ProducerOptions): InvalidProducerOptions | undefined =>
  Validation.checkProducerGroup(options.group) ??
    Validation.checkInteger("retryTimesWhenSendFailed", options.retryTimesWhenSendFailed ?? 0, 0, 1000) ??
    Validation.checkInteger("maxMessageSize", options.maxMessageSize ?? 1, 1) ??
    Validation.checkInteger("compressMsgBodyOverHowmuch", options.compressMsgBodyOverHowmuch ?? 0, 0) ??
    Validation.checkInteger("defaultTopicQueueNums", options.defaultTopicQueueNums ?? 1, 1, 65535) ??
    Validation.checkInteger("checkRequestHoldMax", options.checkRequestHoldMax ?? 1, 1) ??
    Validation.checkCompression(options.compressType ?? defaults.compressType, options.compressLevel ?? defaults.compressLevel)

/**
 * A producer of `options.group` on the {@link ClientInstance} in context, in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: ProducerOptions
): Effect.Effect<ProducerShape, InvalidProducerOptions | GroupAlreadyRegistered, Scope.Scope | ClientInstance> =>
  Effect.gen(function*() {
    const invalid = checkOptions(options)
    if (invalid !== undefined) return yield* invalid
    const group = options.group
    const instance = yield* ClientInstance
    const admission = Admission.make(group, { sent: messagesSentTotal, failed: sendFailuresTotal, retried: sendRetriesTotal, latency: sendLatency })
    // Registered first, so released last: the group leaves the brokers after the sends in flight.
    const checker = options.checkTransaction
    const checkTransactionState = checker === undefined
      ? undefined
      : yield* Transactions.checkWorker(instance, group, checker, options.checkRequestHoldMax ?? defaults.checkRequestHoldMax)
    yield* instance.registerProducer(group, { checkTransactionState })
    yield* Effect.addFinalizer(() => admission.close)
    const core: SendPaths.Core = {
      instance,
      group,
      admission,
      loop: SendPaths.loopContext(instance, options, admission, yield* Random.Random),
      timeoutMillis: Duration.toMillis(options.sendMsgTimeout ?? defaults.sendMsgTimeout),
      maxMessageSize: options.maxMessageSize ?? defaults.maxMessageSize,
      compression: (options.compressBodies ?? defaults.compressBodies)
        ? {
          type: options.compressType ?? defaults.compressType,
          level: options.compressLevel ?? defaults.compressLevel,
          overBytes: options.compressMsgBodyOverHowmuch ?? defaults.compressMsgBodyOverHowmuch
        }
        : undefined
    }
    return {
      group,
      send: SendPaths.sendWith(core),
      sendOneway: SendPaths.sendOneway(core),
      sendAll: SendAll.sendAll(core),
      sendBatch: SendPaths.sendBatch(core),
      sendInTransaction: SendPaths.sendInTransaction(core)
    } satisfies ProducerShape
  })

/**
 * The producer as a layer over the {@link ClientInstance} in context.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: ProducerOptions
): Layer.Layer<Producer, InvalidProducerOptions | GroupAlreadyRegistered, ClientInstance> =>
  Layer.effect(Producer, make(options))

/**
 * {@link layer} with the group from `ROCKETMQ_PRODUCER_GROUP` (unless `options.group` is given)
 * and `ROCKETMQ_SEND_TIMEOUT` (a duration, e.g. `5 seconds`) when set.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options?: Partial<ProducerOptions> | undefined
): Layer.Layer<Producer, Config.ConfigError | InvalidProducerOptions | GroupAlreadyRegistered, ClientInstance> =>
  Layer.effect(
    Producer,
    Effect.gen(function*() {
      const group = options?.group ?? (yield* Config.String("ROCKETMQ_PRODUCER_GROUP"))
      const timeout = yield* Config.option(Config.Duration("ROCKETMQ_SEND_TIMEOUT"))
      return yield* make({
        ...options,
        group,
        sendMsgTimeout: options?.sendMsgTimeout ?? (timeout._tag === "Some" ? timeout.value : undefined)
      })
    })
  )
