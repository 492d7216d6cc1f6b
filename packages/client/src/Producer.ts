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
 * - **Interruption**: interrupting a send interrupts its request (the response, if any, is
 *   dropped); the message may or may not be stored then.
 * - **Closing** the producer's scope stops admission (later sends fail with `ProducerClosed`),
 *   lets every send in flight finish its current attempt (bounded by its deadline; no new attempt
 *   starts: it fails with `ProducerClosed`), then releases the group's registration
 *   (UNREGISTER_CLIENT).
 * - **Metrics** by topic: messages sent, sends failed, retries, send latency; a `Producer.send`
 *   span around each send.
 *
 * @since 0.1.0
 */
import { Cause, Clock, Config, Context, Deferred, Duration, Effect, Exit, Layer, Metric, Random, type Scope } from "effect"
import * as Broker from "./Broker.ts"
import type { GroupAlreadyRegistered, NoRouteInfo } from "./ClientError.ts"
import { ClientInstance } from "./ClientInstance.ts"
import * as FaultStrategy from "./internal/faultStrategy.ts"
import * as QueueSelection from "./internal/queueSelection.ts"
import * as SendLoop from "./internal/sendLoop.ts"
import * as Validation from "./internal/validation.ts"
import * as Message from "./Message.ts"
import * as Properties from "./Properties.ts"
import * as MessageQueue from "./MessageQueue.ts"
import * as Heartbeat from "./Heartbeat.ts"
import { InvalidMessage, type InvalidProducerOptions, ProducerClosed, type SendFailed } from "./ProducerError.ts"

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
  /** Largest body (and batch) accepted, in bytes. Default 4 MiB. */
  readonly maxMessageSize?: number | undefined
  /** Compress bodies of at least `compressMsgBodyOverHowmuch` bytes. Default true. */
  readonly compressBodies?: boolean | undefined
  /** Default 4096. */
  readonly compressMsgBodyOverHowmuch?: number | undefined
  /** Avoid brokers that answered slowly or failed (Java's `sendLatencyFaultEnable`). Default false. */
  readonly sendLatencyFaultEnable?: boolean | undefined
  /** Queue count of a topic the broker creates from `TBW102` on first send. Default 4. */
  readonly defaultTopicQueueNums?: number | undefined
}

/**
 * How one send picks its queue, and its budget.
 *
 * @since 0.1.0
 * @category models
 */
export interface SendOptions {
  /** This send's budget; default the producer's `sendMsgTimeout`. */
  readonly timeout?: Duration.Input | undefined
  /** Ordered send: the queue at `|javaHashCode(shardingKey) % queues|` (one attempt, as Java). */
  readonly shardingKey?: string | undefined
  /** Ordered send: the queue the selector picks from the topic's publish queues (one attempt). */
  readonly selector?: ((queues: ReadonlyArray<MessageQueue.MessageQueue>, message: Message.Message) => MessageQueue.MessageQueue) | undefined
  /** Send to this queue (one attempt, as Java's `send(msg, mq)`). */
  readonly queue?: MessageQueue.MessageQueue | undefined
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
 * Sends that failed (after their retries), by topic.
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
 * Duration of successful sends, retries included, in ms, by topic.
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
  sendLatencyFaultEnable: false,
  defaultTopicQueueNums: 4
} as const

const checkOptions = (options: ProducerOptions): InvalidProducerOptions | undefined =>
  Validation.checkProducerGroup(options.group) ??
    Validation.checkInteger("retryTimesWhenSendFailed", options.retryTimesWhenSendFailed ?? 0, 0, 1000) ??
    Validation.checkInteger("maxMessageSize", options.maxMessageSize ?? 1, 1) ??
    Validation.checkInteger("compressMsgBodyOverHowmuch", options.compressMsgBodyOverHowmuch ?? 0, 0) ??
    Validation.checkInteger("defaultTopicQueueNums", options.defaultTopicQueueNums ?? 1, 1, 65535)

interface TopicMetrics {
  readonly sent: Metric.Metric<number, unknown>
  readonly failed: Metric.Metric<number, unknown>
  readonly retried: Metric.Metric<number, unknown>
  readonly latency: Metric.Metric<number, unknown>
}

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
    const random = yield* Random.Random
    const timeoutMillis = Duration.toMillis(options.sendMsgTimeout ?? defaults.sendMsgTimeout)
    const maxMessageSize = options.maxMessageSize ?? defaults.maxMessageSize
    const compressOverBytes = (options.compressBodies ?? defaults.compressBodies)
      ? options.compressMsgBodyOverHowmuch ?? defaults.compressMsgBodyOverHowmuch
      : undefined

    // Admission: closing waits for the sends in flight (each bounded by its deadline).
    let closing = false
    let inFlight = 0
    const drained = Deferred.makeUnsafe<void>()
    const leave = Effect.sync(() => {
      inFlight--
      if (closing && inFlight === 0) Deferred.doneUnsafe(drained, Exit.void)
    })
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        closing = true
        return inFlight === 0 ? Effect.void : Deferred.await(drained)
      })
    )
    yield* instance.registerProducer(group)

    const indexes = new Map<string, QueueSelection.SendIndex>()
    const metrics = new Map<string, TopicMetrics>()
    const metricsOf = (topic: string): TopicMetrics => {
      let m = metrics.get(topic)
      if (m === undefined) {
        const attributes = { topic }
        m = {
          sent: Metric.withAttributes(messagesSentTotal, attributes),
          failed: Metric.withAttributes(sendFailuresTotal, attributes),
          retried: Metric.withAttributes(sendRetriesTotal, attributes),
          latency: Metric.withAttributes(sendLatency, attributes)
        }
        metrics.set(topic, m)
      }
      return m
    }

    const loop: SendLoop.LoopContext = {
      group,
      instance,
      retryTimes: options.retryTimesWhenSendFailed ?? defaults.retryTimesWhenSendFailed,
      defaultTopicQueueNums: options.defaultTopicQueueNums ?? defaults.defaultTopicQueueNums,
      retryAnotherBrokerWhenNotStoreOK: options.retryAnotherBrokerWhenNotStoreOK ?? defaults.retryAnotherBrokerWhenNotStoreOK,
      faults: (options.sendLatencyFaultEnable ?? defaults.sendLatencyFaultEnable) ? FaultStrategy.make() : undefined,
      random: () => Math.abs(random.nextIntUnsafe() % 0x7fffffff),
      indexOf: (topic) => {
        let index = indexes.get(topic)
        if (index === undefined) {
          index = QueueSelection.makeIndex(random.nextIntUnsafe())
          indexes.set(topic, index)
        }
        return index
      },
      isClosing: () => closing,
      afterFailure: (topic) => Effect.asVoid(Effect.forkDetach(Effect.ignore(instance.refreshRoute(topic)))),
      onRetry: (topic) => Metric.update(metricsOf(topic).retried, 1)
    }

    const admit = <A, E>(topic: string, effect: Effect.Effect<A, E>): Effect.Effect<A, E | ProducerClosed> =>
      Effect.suspend((): Effect.Effect<A, E | ProducerClosed> => {
        if (closing) return Effect.fail(new ProducerClosed({ group, inFlight: false }))
        inFlight++
        const m = metricsOf(topic)
        return Effect.flatMap(Clock.currentTimeMillis, (start) =>
          effect.pipe(
            Effect.onExit((exit) =>
              Exit.isSuccess(exit)
                ? Effect.andThen(
                  Metric.update(m.sent, 1),
                  Effect.flatMap(Clock.currentTimeMillis, (end) => Metric.update(m.latency, end - start))
                )
                : Metric.update(m.failed, 1)
            ),
            Effect.ensuring(leave)
          ))
      })

    const target = (queue: MessageQueue.MessageQueue, remaining: number) => ({
      producerGroup: group,
      queueId: queue.queueId,
      brokerName: queue.brokerName,
      defaultTopicQueueNums: loop.defaultTopicQueueNums,
      compressOverBytes,
      timeoutMillis: remaining
    })

    const sendOnce = (message: Message.Message) =>
    (queue: MessageQueue.MessageQueue, address: string, remaining: number) =>
      Effect.map(
        Broker.sendMessage(address, message, target(queue, remaining)),
        (result): SendResult => ({ ...result, messageQueue: queue })
      ).pipe(instance.provide)

    const onewayOnce = (message: Message.Message) =>
    (queue: MessageQueue.MessageQueue, address: string, remaining: number) =>
      instance.provide(Effect.asVoid(Broker.sendMessageOneway(address, message, target(queue, remaining))))

    const ordered = (message: Message.Message, send: SendOptions) =>
      Effect.gen(function*() {
        if (send.queue !== undefined) {
          if (send.queue.topic !== message.topic) {
            return yield* new InvalidMessage({
              reason: "Queue",
              topic: message.topic,
              detail: `the queue's topic ${JSON.stringify(send.queue.topic)} is not the message's; pick a queue of the message's topic`
            })
          }
          return send.queue
        }
        const route = yield* instance.publishRoute(message.topic, { defaultTopicQueueNums: loop.defaultTopicQueueNums })
        return send.shardingKey !== undefined
          ? QueueSelection.byHash(route.publishQueues, Heartbeat.javaHashCode(send.shardingKey))
          : send.selector!(route.publishQueues, message)
      })

    const isOrdered = (options: SendOptions | undefined): options is SendOptions =>
      options !== undefined && (options.queue !== undefined || options.shardingKey !== undefined || options.selector !== undefined)

    // Validation, admission, the loop (or one attempt on the picked queue for ordered sends), the span.
    const run = <A>(
      message: Message.Message,
      options: SendOptions | undefined,
      retry: boolean,
      attempt: (queue: MessageQueue.MessageQueue, address: string, remaining: number) => Effect.Effect<A, Broker.BrokerError>,
      isStoreOk: (result: A) => boolean
    ): Effect.Effect<A, SendError> => {
      const invalidMessage = Validation.checkMessage(message, maxMessageSize) ?? checkProperties(message)
      if (invalidMessage !== undefined) return Effect.fail(invalidMessage)
      const timeout = options?.timeout === undefined ? timeoutMillis : Duration.toMillis(options.timeout)
      const work: Effect.Effect<SendLoop.Sent<A>, SendError> = isOrdered(options)
        ? SendLoop.runOn(loop, message.topic, ordered(message, options), { timeoutMillis: timeout }, attempt)
        : SendLoop.run(loop, message.topic, { timeoutMillis: timeout, retry, isStoreOk }, attempt)
      return admit(message.topic, Effect.map(work, (sent) => sent.result)).pipe(
        Effect.withSpan("Producer.send", { attributes: { "rocketmq.topic": message.topic, "rocketmq.group": group } })
      )
    }

    const send = (message: Message.Message, options?: SendOptions | undefined) =>
      run(message, options, true, sendOnce(message), isStoreOk)

    const sendOneway = (message: Message.Message, options?: SendOptions | undefined) =>
      run(message, options, false, onewayOnce(message), () => true)

    return { group, send, sendOneway } satisfies ProducerShape
  })

const isStoreOk = (result: Broker.SendResult) => result.status === "SEND_OK"

// A stand-in id of the real one's length, so the size check of the encoded properties holds.
const PLACEHOLDER_UNIQ_ID = "0".repeat(32)

/** The properties the message would be sent with encode (the checks of `Message.toProperties` and `Properties.encode`). */
const checkProperties = (message: Message.Message): InvalidMessage | undefined => {
  const properties = Effect.runSyncExit(Effect.flatMap(Message.toProperties(message, PLACEHOLDER_UNIQ_ID), Properties.encode))
  if (Exit.isSuccess(properties)) return undefined
  const error = Cause.squash(properties.cause) as { readonly detail?: string; readonly message: string }
  return new InvalidMessage({ reason: "Properties", topic: message.topic, detail: error.detail ?? error.message })
}

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
