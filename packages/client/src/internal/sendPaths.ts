/**
 * The producer's send paths — single, oneway, batch and transactional — over one core: the client
 * instance, the admission door, the send loop and the settings. `Producer` builds the core and
 * exposes these; the module header of `Producer` states the contract.
 *
 * @internal
 */
import { Cause, Deferred, Duration, Effect, Exit, type Random } from "effect"
import * as Broker from "../Broker.ts"
import * as Compression from "../Compression.ts"
import type { ClientInstance } from "../ClientInstance.ts"
import * as Heartbeat from "../Heartbeat.ts"
import * as Message from "../Message.ts"
import type * as MessageQueue from "../MessageQueue.ts"
import type {
  BatchRequestResult,
  BatchResult,
  ProducerOptions,
  SendError,
  SendOptions,
  SendResult,
  TransactionResolution,
  TransactionSendResult
} from "../Producer.ts"
import { BatchPartlySent, InvalidMessage } from "../ProducerError.ts"
import * as StoredMessage from "../StoredMessage.ts"
import type * as Admission from "./admission.ts"
import * as Batch from "./batch.ts"
import * as FaultStrategy from "./faultStrategy.ts"
import * as QueueSelection from "./queueSelection.ts"
import * as SendLoop from "./sendLoop.ts"
import * as Tracing from "./tracing.ts"
import * as Transactions from "./transactions.ts"
import * as Validation from "./validation.ts"

// Java's defaults (also in `Producer.defaults`).
const DEFAULT_RETRY_TIMES = 2
const DEFAULT_TOPIC_QUEUE_NUMS = 4

type Attempt<A> = (queue: MessageQueue.MessageQueue, address: string, remaining: number) => Effect.Effect<A, Broker.BrokerError>

/** What the send paths share: the instance, the door, the loop and the settings. */
export interface Core {
  readonly instance: ClientInstance["Service"]
  readonly group: string
  readonly admission: Admission.Admission
  readonly loop: SendLoop.LoopContext
  readonly timeoutMillis: number
  readonly maxMessageSize: number
  /** Compress bodies of at least `overBytes` bytes; `undefined`: never. */
  readonly compression: { readonly type: Compression.CompressionType; readonly level: number; readonly overBytes: number } | undefined
}

export const loopContext = (
  instance: ClientInstance["Service"],
  options: ProducerOptions,
  admission: Admission.Admission,
  random: Random.Random
): SendLoop.LoopContext => {
  const indexes = new Map<string, QueueSelection.SendIndex>()
  return {
    group: options.group,
    instance,
    retryTimes: options.retryTimesWhenSendFailed ?? DEFAULT_RETRY_TIMES,
    defaultTopicQueueNums: options.defaultTopicQueueNums ?? DEFAULT_TOPIC_QUEUE_NUMS,
    retryAnotherBrokerWhenNotStoreOK: options.retryAnotherBrokerWhenNotStoreOK ?? false,
    faults: (options.sendLatencyFaultEnable ?? false) ? FaultStrategy.make() : undefined,
    random: () => Math.abs(random.nextIntUnsafe() % 0x7fffffff),
    indexOf: (topic) => {
      let index = indexes.get(topic)
      if (index === undefined) {
        index = QueueSelection.makeIndex(random.nextIntUnsafe())
        indexes.set(topic, index)
      }
      return index
    },
    isClosing: admission.isClosing,
    afterFailure: (topic) => Effect.asVoid(Effect.forkDetach(Effect.ignore(instance.refreshRoute(topic)))),
    onRetry: admission.retried
  }
}

const target = (core: Core, queue: MessageQueue.MessageQueue, remaining: number) => ({
  producerGroup: core.group,
  queueId: queue.queueId,
  brokerName: queue.brokerName,
  defaultTopicQueueNums: core.loop.defaultTopicQueueNums,
  timeoutMillis: remaining
})

/** The queue of an ordered send (Java's `sendSelectImpl`, or `send(msg, mq)`). */
const orderedQueue = (core: Core, message: Message.Message, options: SendOptions) =>
  Effect.gen(function*() {
    if (options.queue !== undefined) {
      if (options.queue.topic !== message.topic) {
        return yield* new InvalidMessage({
          reason: "Queue",
          topic: message.topic,
          detail: `the queue's topic ${JSON.stringify(options.queue.topic)} is not the message's; pick a queue of the message's topic`
        })
      }
      return options.queue
    }
    const route = yield* core.instance.publishRoute(message.topic, { defaultTopicQueueNums: core.loop.defaultTopicQueueNums })
    return options.shardingKey !== undefined
      ? QueueSelection.byHash(route.publishQueues, Heartbeat.javaHashCode(options.shardingKey))
      : options.selector!(route.publishQueues, message)
  })

const isOrdered = (options: SendOptions | undefined): options is SendOptions =>
  options !== undefined && (options.queue !== undefined || options.shardingKey !== undefined || options.selector !== undefined)

/** Admission, the loop (or one attempt on the picked queue for ordered sends), the span. */
const dispatch = <A>(
  core: Core,
  message: Message.Message,
  messages: number,
  options: SendOptions | undefined,
  retry: boolean,
  attempt: Attempt<A>,
  isStoreOk: (result: A) => boolean
): Effect.Effect<A, SendError> => {
  const timeout = options?.timeout === undefined ? core.timeoutMillis : Duration.toMillis(options.timeout)
  const work: Effect.Effect<SendLoop.Sent<A>, SendError> = isOrdered(options)
    ? SendLoop.runOn(core.loop, message.topic, orderedQueue(core, message, options), { timeoutMillis: timeout }, attempt)
    : SendLoop.run(core.loop, message.topic, { timeoutMillis: timeout, retry, isStoreOk }, attempt)
  return Tracing.traced(
    "Producer.send",
    () => ({ "rocketmq.topic": message.topic, "rocketmq.group": core.group }),
    core.admission.admit(message.topic, messages, Effect.map(work, (sent) => sent.result))
  )
}

export const checked = (core: Core, message: Message.Message): InvalidMessage | undefined => {
  const invalid = Validation.checkMessage(message, core.maxMessageSize)
  if (invalid !== undefined) return invalid
  const properties = Validation.encodedProperties(message)
  return typeof properties === "string" ? undefined : properties
}

export const isStoreOk = (result: { readonly status: Broker.SendStatus }) => result.status === "SEND_OK"

/**
 * Runs `send` with the body to send and its sysFlag bits: compressed as Java's `sendKernelImpl`
 * does when it has at least the threshold's bytes (never for batches), once for every attempt.
 */
export const withBody = <A>(
  core: Core,
  message: Message.Message,
  send: (body: Message.Message, sysFlag: number) => Effect.Effect<A, SendError>
): Effect.Effect<A, SendError> => {
  const compression = core.compression
  if (compression === undefined || message.body.length < compression.overBytes) return send(message, 0)
  return Effect.flatMap(
    Compression.compress(compression.type, message.body, { level: compression.level }),
    (body) => send({ ...message, body }, Compression.sysFlagOf(compression.type))
  )
}

type Extra = Pick<Broker.SendOptions, "sysFlag" | "systemProperties">

/** The options of one SEND_MESSAGE_V2 attempt of `body` to `queue`. */
export const attemptOptions = (core: Core, queue: MessageQueue.MessageQueue, remaining: number, sysFlag: number, extra?: Extra) => ({
  ...target(core, queue, remaining),
  ...extra,
  sysFlag: sysFlag | (extra?.sysFlag ?? 0)
})

/** One attempt of a single send of `body` (already compressed or not, as `sysFlag` says). */
export const sendAttempt = (core: Core, body: Message.Message, sysFlag: number, extra?: Extra): Attempt<SendResult> => (queue, address, remaining) =>
  core.instance.provide(Effect.map(
    Broker.sendMessage(address, body, attemptOptions(core, queue, remaining, sysFlag, extra)),
    (result): SendResult => ({ ...result, messageQueue: queue })
  ))

export const sendWith = (core: Core, extra?: Extra) =>
(message: Message.Message, options?: SendOptions | undefined): Effect.Effect<SendResult, SendError> => {
  const invalid = checked(core, message)
  if (invalid !== undefined) return Effect.fail(invalid)
  return withBody(core, message, (body, sysFlag) => dispatch(core, message, 1, options, true, sendAttempt(core, body, sysFlag, extra), isStoreOk))
}

export const sendOneway = (core: Core) => (message: Message.Message, options?: SendOptions | undefined) => {
  const invalid = checked(core, message)
  if (invalid !== undefined) return Effect.fail(invalid)
  return withBody(core, message, (body, sysFlag) => {
    const attempt: Attempt<void> = (queue, address, remaining) =>
      core.instance.provide(Effect.asVoid(Broker.sendMessageOneway(address, body, { ...target(core, queue, remaining), sysFlag })))
    return dispatch(core, message, 1, options, false, attempt, () => true)
  })
}

export const sendBatch = (core: Core) => (messages: ReadonlyArray<Message.Message>, options?: SendOptions | undefined) =>
  Effect.gen(function*() {
    const { frames, msgIds } = yield* Batch.prepare(messages, core.maxMessageSize)
    const requests: Array<BatchRequestResult> = []
    let sent = 0
    for (const frame of frames) {
      const attempt: Attempt<BatchRequestResult> = (queue, address, remaining) =>
        core.instance.provide(Effect.map(
          Broker.sendBatchMessage(address, frame.messages, {
            ...target(core, queue, remaining),
            uniqIds: frame.uniqIds,
            maxMessageSize: core.maxMessageSize
          }),
          (result): BatchRequestResult => ({ ...result, messageQueue: queue })
        ))
      const exit = yield* Effect.exit(dispatch(core, frame.messages[0]!, frame.messages.length, options, true, attempt, isStoreOk))
      if (Exit.isFailure(exit)) {
        if (sent === 0) return yield* Effect.failCause(exit.cause)
        return yield* new BatchPartlySent({
          topic: frame.messages[0]!.topic,
          sent: msgIds.slice(0, sent),
          notSent: msgIds.slice(sent),
          cause: Cause.squash(exit.cause)
        })
      }
      requests.push(exit.value)
      sent += frame.messages.length
    }
    return { msgIds, requests } satisfies BatchResult
  })

export const sendInTransaction = (core: Core) => {
  const sendHalf = sendWith(core, {
    sysFlag: StoredMessage.SysFlag.TRANSACTION_PREPARED,
    systemProperties: { [Message.PropertyKey.TRANSACTION_PREPARED]: "true", [Message.PropertyKey.PRODUCER_GROUP]: core.group }
  })
  return <E, R>(
    message: Message.Message,
    localTransaction: (result: SendResult) => Effect.Effect<TransactionResolution, E, R>
  ): Effect.Effect<TransactionSendResult, SendError, R> =>
    Effect.gen(function*() {
      if (message.delayLevel !== undefined && message.delayLevel > 0) {
        return yield* new InvalidMessage({
          reason: "Delay",
          topic: message.topic,
          detail: "a transactional message cannot have a delay level (Java drops it); use deliverAt or deliverAfter, applied at commit"
        })
      }
      const result = yield* sendHalf(message)
      // Java rolls back without running the local transaction when the half message is not stored OK.
      const exit = result.status === "SEND_OK"
        ? yield* Effect.exit(Effect.raceFirst(localTransaction(result), Effect.as(Deferred.await(core.admission.closing), "UNKNOWN" as const)))
        : Exit.succeed("ROLLBACK" as const)
      const resolution = Exit.isSuccess(exit) ? exit.value : "UNKNOWN"
      const localTransactionError = Exit.isSuccess(exit) ? undefined : Transactions.causeText(exit.cause)
      yield* Transactions.endAfterSend(core.instance, core.group, {
        topic: result.topic,
        brokerName: result.messageQueue.brokerName,
        msgId: result.msgId,
        offsetMsgId: result.offsetMsgId,
        queueOffset: result.queueOffset,
        transactionId: result.transactionId
      }, resolution, {
        remark: localTransactionError === undefined ? undefined : `executeLocalTransactionBranch exception: ${localTransactionError}`,
        timeoutMillis: core.timeoutMillis
      })
      return { ...result, resolution, localTransactionError } satisfies TransactionSendResult
    })
}

