/**
 * Broker operations: create a topic, send, pull, heartbeat, and the offsets of queues and
 * consumer groups.
 *
 * Each is an Effect that needs a {@link RemotingClient.RemotingClient} and takes the broker's
 * `host:port` first. Response codes are mapped as the Java client maps them: the codes an
 * operation treats as an answer become values (send's flush/slave timeouts are statuses of a
 * successful send; pull's "nothing here" codes are {@link PullResult} cases; "no stored offset" is
 * `Option.none()`), `TOPIC_NOT_EXIST` becomes {@link TopicNotExist}, and every other code a
 * {@link RemoteError} with the request and response codes, their names and the remark. Transport
 * failures pass through as the remoting client's errors.
 *
 * | operation | request code and fields | success |
 * | --- | --- | --- |
 * | {@link createTopic} | 17: `topic`, `defaultTopic`, `readQueueNums`, `writeQueueNums`, `perm`, `topicFilterType`, `topicSysFlag`, `order` (+ `attributes`) | 0 (5.3.3 remarks "not set any response code") |
 * | {@link sendMessage} | 310: `a`…`h`, `i` (properties), `j`, `k`, `m` (+ `n`); body = message body | 0, 10, 11, 12 + `msgId`, `queueId`, `queueOffset` |
 * | {@link pullMessage} | 11: `consumerGroup`, `topic`, `queueId`, `queueOffset`, `maxMsgNums`, `sysFlag` (4), `commitOffset`, `suspendTimeoutMillis`, `subscription` (`*`), `subVersion`, `expressionType` | 0, 19, 20, 21 + offsets; body = stored messages |
 * | {@link heartbeat} | 34: HeartbeatData JSON body | 0 (the response's version is the broker's) |
 * | {@link getMaxOffset} | 30: `topic`, `queueId`, `committed` | 0 + `offset` |
 * | {@link queryConsumerOffset} | 14: `consumerGroup`, `topic`, `queueId` (+ `setZeroIfNotFound`) | 0 + `offset`; 22 = none stored |
 * | {@link updateConsumerOffset} | 15: `consumerGroup`, `topic`, `queueId`, `commitOffset` | 0 (or oneway) |
 *
 * @since 0.1.0
 */
import { RemotingClient, RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Clock, Effect, Option } from "effect"
import * as zlib from "node:zlib"
import { InvalidRequest, MessageDecodeError } from "./ClientError.ts"
import type { RemoteError, ResponseDecodeError, TopicNotExist } from "./ClientError.ts"
import * as Headers from "./Headers.ts"
import * as Heartbeat from "./Heartbeat.ts"
import * as Op from "./internal/operation.ts"
import * as Message from "./Message.ts"
import * as Properties from "./Properties.ts"
import * as StoredMessage from "./StoredMessage.ts"

/**
 * The errors of a broker operation.
 *
 * @since 0.1.0
 * @category models
 */
export type BrokerError =
  | RemoteError
  | TopicNotExist
  | ResponseDecodeError
  | InvalidRequest
  | RemotingClient.RemotingClientError

/**
 * The template topic brokers create new topics from (`TBW102`).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_TOPIC = "TBW102"

/**
 * The producer group used when none is given.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_PRODUCER_GROUP = "DEFAULT_PRODUCER"

/**
 * `PullSysFlag` bits of a pull request.
 *
 * @since 0.1.0
 * @category constants
 */
export const PullSysFlag = {
  COMMIT_OFFSET: 0x1,
  SUSPEND: 0x2,
  SUBSCRIPTION: 0x4,
  CLASS_FILTER: 0x8,
  LITE_PULL: 0x10
} as const

/**
 * A response timeout for the call; by default the remoting client's.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallOptions {
  readonly timeoutMillis?: number | undefined
}

const invalid = (operation: string, detail: string) => new InvalidRequest({ operation, detail })

// ---------------------------------------------------------------------------------------------
// createTopic
// ---------------------------------------------------------------------------------------------

/**
 * The configuration of a topic to create. Defaults: 4 read and 4 write queues, perm 6
 * (read + write), `SINGLE_TAG`, topicSysFlag 0, not ordered, template topic `TBW102`.
 *
 * @since 0.1.0
 * @category models
 */
export interface CreateTopicOptions extends CallOptions {
  /** Sets both queue counts (overridden by `readQueueNums` / `writeQueueNums`). */
  readonly queueNums?: number | undefined
  readonly readQueueNums?: number | undefined
  readonly writeQueueNums?: number | undefined
  readonly perm?: number | undefined
  readonly topicFilterType?: "SINGLE_TAG" | "MULTI_TAG" | undefined
  readonly topicSysFlag?: number | undefined
  readonly order?: boolean | undefined
  /** Topic attributes, e.g. `+message.type=NORMAL`. */
  readonly attributes?: string | undefined
  readonly defaultTopic?: string | undefined
}

/**
 * Creates `topic` on the broker at `address`, or updates its configuration (UPDATE_AND_CREATE_TOPIC).
 * Idempotent. The broker registers the new route with its name servers.
 *
 * @since 0.1.0
 * @category operations
 */
export const createTopic: (
  address: string,
  topic: string,
  options?: CreateTopicOptions
) => Effect.Effect<void, BrokerError, RemotingClient.RemotingClient> = Effect.fn("Broker.createTopic")(
  function*(address: string, topic: string, options?: CreateTopicOptions) {
    const queueNums = options?.queueNums ?? 4
    const extFields = yield* Op.encodeHeader(Headers.CreateTopicRequestHeader, {
      topic,
      defaultTopic: options?.defaultTopic ?? DEFAULT_TOPIC,
      readQueueNums: options?.readQueueNums ?? queueNums,
      writeQueueNums: options?.writeQueueNums ?? queueNums,
      perm: options?.perm ?? 6,
      topicFilterType: options?.topicFilterType ?? "SINGLE_TAG",
      topicSysFlag: options?.topicSysFlag ?? 0,
      order: options?.order ?? false,
      ...(options?.attributes !== undefined ? { attributes: options.attributes } : {})
    }, "createTopic")
    const request = RemotingCommand.make({ code: RequestCode.UPDATE_AND_CREATE_TOPIC, extFields })
    const response = yield* Op.invoke(address, request, options?.timeoutMillis)
    // A 5.3.3 broker answers 0 with the remark "not set any response code": that is success.
    if (response.code !== ResponseCode.SUCCESS) return yield* Op.unexpectedForTopic(address, request, response, topic)
  }
)

// ---------------------------------------------------------------------------------------------
// sendMessage
// ---------------------------------------------------------------------------------------------

/**
 * How a send completed. Everything but `SEND_OK` means the message is stored on the master but a
 * durability step did not finish in time (Java's `SendStatus`).
 *
 * @since 0.1.0
 * @category models
 */
export type SendStatus = "SEND_OK" | "FLUSH_DISK_TIMEOUT" | "FLUSH_SLAVE_TIMEOUT" | "SLAVE_NOT_AVAILABLE"

/**
 * The outcome of {@link sendMessage}.
 *
 * @since 0.1.0
 * @category models
 */
export interface SendResult {
  readonly status: SendStatus
  /** The client message id (`UNIQ_KEY`) the message was sent with. */
  readonly msgId: string
  /** The broker's offset message id (store host + commit-log offset). */
  readonly offsetMsgId: string
  readonly topic: string
  readonly queueId: number
  readonly queueOffset: bigint
  readonly transactionId: string | undefined
  /** `MSG_REGION` of the response (Java defaults it to `DefaultRegion`). */
  readonly regionId: string
  /** `TRACE_ON` of the response: whether the broker has message tracing enabled. */
  readonly traceOn: boolean
}

/**
 * Options of {@link sendMessage}.
 *
 * @since 0.1.0
 * @category models
 */
export interface SendOptions extends CallOptions {
  /** Default {@link DEFAULT_PRODUCER_GROUP}. */
  readonly producerGroup?: string | undefined
  /** The queue; a negative id (the default, -1) lets the broker pick one. */
  readonly queueId?: number | undefined
  /** The target broker group's name (header `n`), for brokers that check it. */
  readonly brokerName?: string | undefined
  /** Default `TBW102`. */
  readonly defaultTopic?: string | undefined
  /** Queue count for a topic the broker auto-creates; default 4. */
  readonly defaultTopicQueueNums?: number | undefined
  /** The client message id to send; by default a new one ({@link Message.makeUniqId}). */
  readonly uniqId?: string | undefined
  /**
   * Compress the body with ZLIB (level 5, as Java) when it has at least this many bytes. Java
   * compresses from 4096; by default nothing is compressed.
   */
  readonly compressOverBytes?: number | undefined
}

const SEND_STATUS: ReadonlyMap<number, SendStatus> = new Map([
  [ResponseCode.SUCCESS, "SEND_OK"],
  [ResponseCode.FLUSH_DISK_TIMEOUT, "FLUSH_DISK_TIMEOUT"],
  [ResponseCode.FLUSH_SLAVE_TIMEOUT, "FLUSH_SLAVE_TIMEOUT"],
  [ResponseCode.SLAVE_NOT_AVAILABLE, "SLAVE_NOT_AVAILABLE"]
])

const compress = (body: Uint8Array): Effect.Effect<Uint8Array, InvalidRequest> =>
  Effect.try({
    try: () => zlib.deflateSync(body, { level: 5 }),
    catch: (error) => invalid("sendMessage", `the body could not be compressed: ${String(error)}`)
  })

/**
 * Sends one message with SEND_MESSAGE_V2 (short header names, as Java's default producer).
 *
 * The properties (`i`) carry the tags, keys, delay level, `WAIT` (when false), a client message
 * id (`UNIQ_KEY`) and the user properties; the body is sent as given (or ZLIB-compressed, see
 * `compressOverBytes`) and must not be empty (Java refuses empty bodies, and a broker fails on one). `FLUSH_DISK_TIMEOUT`, `FLUSH_SLAVE_TIMEOUT` and `SLAVE_NOT_AVAILABLE`
 * are successful sends with that status.
 *
 * @since 0.1.0
 * @category operations
 */
export const sendMessage: (
  address: string,
  message: Message.Message,
  options?: SendOptions
) => Effect.Effect<SendResult, BrokerError, RemotingClient.RemotingClient> = Effect.fn("Broker.sendMessage")(
  function*(address: string, message: Message.Message, options?: SendOptions) {
    if (message.topic.length === 0) return yield* invalid("sendMessage", "the topic is empty")
    // Java's producer refuses empty bodies too; a 5.3.3 broker answers one with a NullPointerException.
    if (message.body.length === 0) {
      return yield* invalid("sendMessage", "the body is empty; RocketMQ cannot store a message without a body")
    }
    const uniqId = options?.uniqId ?? (yield* Message.makeUniqId)
    const properties = yield* Message.toProperties(message, uniqId)
    const encoded = Properties.encodeSync(properties)
    if (typeof encoded !== "string") return yield* invalid("sendMessage", encoded.message)
    const threshold = options?.compressOverBytes
    const compressed = threshold !== undefined && message.body.length >= threshold
    const body = compressed ? yield* compress(message.body) : message.body
    const bornTimestamp = yield* Clock.currentTimeMillis
    const extFields = yield* Op.encodeHeader(Headers.SendMessageRequestHeaderV2, {
      a: options?.producerGroup ?? DEFAULT_PRODUCER_GROUP,
      b: message.topic,
      c: options?.defaultTopic ?? DEFAULT_TOPIC,
      d: options?.defaultTopicQueueNums ?? 4,
      e: options?.queueId ?? -1,
      f: compressed ? StoredMessage.SysFlag.COMPRESSED | StoredMessage.SysFlag.COMPRESSION_ZLIB : 0,
      g: bornTimestamp,
      h: message.flag ?? 0,
      i: encoded,
      j: 0,
      k: false,
      m: false,
      ...(options?.brokerName !== undefined ? { n: options.brokerName } : {})
    }, "sendMessage")
    const request = RemotingCommand.make({ code: RequestCode.SEND_MESSAGE_V2, extFields, body })
    const response = yield* Op.invoke(address, request, options?.timeoutMillis)
    const status = SEND_STATUS.get(response.code)
    if (status === undefined) return yield* Op.unexpectedForTopic(address, request, response, message.topic)
    const header = yield* Op.decodeHeader(Headers.SendMessageResponseHeader, address, request.code, response)
    const result: SendResult = {
      status,
      msgId: uniqId,
      offsetMsgId: header.msgId,
      topic: message.topic,
      queueId: header.queueId,
      queueOffset: header.queueOffset,
      transactionId: header.transactionId,
      regionId: header.MSG_REGION ?? "DefaultRegion",
      traceOn: header.TRACE_ON === undefined || header.TRACE_ON.toLowerCase() !== "false"
    }
    return result
  }
)

// ---------------------------------------------------------------------------------------------
// pullMessage
// ---------------------------------------------------------------------------------------------

/**
 * What to pull.
 *
 * @since 0.1.0
 * @category models
 */
export interface PullRequest extends CallOptions {
  readonly consumerGroup: string
  readonly topic: string
  readonly queueId: number
  readonly queueOffset: bigint
  /** At most this many messages (default 32). */
  readonly maxMsgNums?: number | undefined
  /** Subscription expression (default `"*"`): tags such as `"TagA || TagB"`, or SQL92. */
  readonly subscription?: string | undefined
  /** `"TAG"` (default) or `"SQL92"`. */
  readonly expressionType?: "TAG" | "SQL92" | undefined
  /** Subscription version; default 0. */
  readonly subVersion?: number | undefined
  /** Also commit this consumer offset (sysFlag bit 1). */
  readonly commitOffset?: bigint | undefined
  /**
   * Long-poll: the broker holds the request up to this long when nothing is there (sysFlag bit 2).
   * The response timeout then defaults to this plus 3 seconds.
   */
  readonly suspendTimeoutMillis?: number | undefined
  readonly maxMsgBytes?: number | undefined
  /**
   * Re-check tags on the client, as Java does after the broker's hash-code filter (default true):
   * FOUND results then only hold messages whose tag is in the expression.
   */
  readonly filterTags?: boolean | undefined
}

/**
 * Offsets every pull response carries.
 *
 * @since 0.1.0
 * @category models
 */
export interface PullOffsets {
  /** Where to pull next. */
  readonly nextBeginOffset: bigint
  readonly minOffset: bigint
  readonly maxOffset: bigint
  /** The broker id the client should pull from next (0 = master). */
  readonly suggestWhichBrokerId: number
}

/**
 * The outcome of {@link pullMessage}, as Java's `PullStatus`:
 * - `Found` (code 0): messages, already decoded;
 * - `NoNewMsg` (19, PULL_NOT_FOUND): nothing at or after the offset yet;
 * - `NoMatchedMsg` (20, PULL_RETRY_IMMEDIATELY): messages there, none matching the subscription;
 * - `OffsetIllegal` (21, PULL_OFFSET_MOVED): the offset is outside `minOffset … maxOffset`.
 *
 * @since 0.1.0
 * @category models
 */
export type PullResult =
  | (PullOffsets & { readonly _tag: "Found"; readonly messages: ReadonlyArray<StoredMessage.StoredMessage> })
  | (PullOffsets & { readonly _tag: "NoNewMsg" })
  | (PullOffsets & { readonly _tag: "NoMatchedMsg" })
  | (PullOffsets & { readonly _tag: "OffsetIllegal" })

const PULL_STATUS: ReadonlyMap<number, "Found" | "NoNewMsg" | "NoMatchedMsg" | "OffsetIllegal"> = new Map([
  [ResponseCode.SUCCESS, "Found"],
  [ResponseCode.PULL_NOT_FOUND, "NoNewMsg"],
  [ResponseCode.PULL_RETRY_IMMEDIATELY, "NoMatchedMsg"],
  [ResponseCode.PULL_OFFSET_MOVED, "OffsetIllegal"]
])

/**
 * Pulls messages from one queue with PULL_MESSAGE. The subscription travels with the request
 * (sysFlag bit 4), so no heartbeat is needed first.
 *
 * @since 0.1.0
 * @category operations
 */
export const pullMessage: (
  address: string,
  request: PullRequest
) => Effect.Effect<PullResult, BrokerError, RemotingClient.RemotingClient> = Effect.fn("Broker.pullMessage")(
  function*(address: string, pull: PullRequest) {
    const suspend = pull.suspendTimeoutMillis ?? 0
    const subscription = pull.subscription ?? Heartbeat.SUB_ALL
    const expressionType = pull.expressionType ?? "TAG"
    const sysFlag = PullSysFlag.SUBSCRIPTION |
      (pull.commitOffset !== undefined ? PullSysFlag.COMMIT_OFFSET : 0) |
      (suspend > 0 ? PullSysFlag.SUSPEND : 0)
    const extFields = yield* Op.encodeHeader(Headers.PullMessageRequestHeader, {
      consumerGroup: pull.consumerGroup,
      topic: pull.topic,
      queueId: pull.queueId,
      queueOffset: pull.queueOffset,
      maxMsgNums: pull.maxMsgNums ?? 32,
      sysFlag,
      commitOffset: pull.commitOffset ?? 0n,
      suspendTimeoutMillis: suspend,
      subscription,
      subVersion: pull.subVersion ?? 0,
      expressionType,
      ...(pull.maxMsgBytes !== undefined ? { maxMsgBytes: pull.maxMsgBytes } : {})
    }, "pullMessage")
    const request = RemotingCommand.make({ code: RequestCode.PULL_MESSAGE, extFields })
    const timeout = pull.timeoutMillis ?? (suspend > 0 ? suspend + 3000 : undefined)
    const response = yield* Op.invoke(address, request, timeout)
    const status = PULL_STATUS.get(response.code)
    if (status === undefined) return yield* Op.unexpectedForTopic(address, request, response, pull.topic)
    const header = yield* Op.decodeHeader(Headers.PullMessageResponseHeader, address, request.code, response)
    const offsets: PullOffsets = {
      nextBeginOffset: header.nextBeginOffset,
      minOffset: header.minOffset,
      maxOffset: header.maxOffset,
      suggestWhichBrokerId: header.suggestWhichBrokerId
    }
    if (status !== "Found") return { _tag: status, ...offsets } satisfies PullResult
    const decoded = response.body === undefined ? [] : StoredMessage.decodeSync(response.body)
    if (decoded instanceof MessageDecodeError) return yield* Op.bodyError(address, request.code, decoded.message)
    const messages: ReadonlyArray<StoredMessage.StoredMessage> =
      (pull.filterTags ?? true) && expressionType === "TAG" && Heartbeat.parseTags(subscription).length > 0
        ? decoded.filter((m: StoredMessage.StoredMessage) => Heartbeat.matchesTag(subscription, Message.tagsOf(m)))
        : decoded
    return { _tag: "Found", ...offsets, messages } satisfies PullResult
  }
)

// ---------------------------------------------------------------------------------------------
// heartbeat
// ---------------------------------------------------------------------------------------------

/**
 * Sends a HEART_BEAT with `data` as its JSON body; returns the broker's version (the response's
 * `version` field, e.g. 479 for 5.3.3).
 *
 * @since 0.1.0
 * @category operations
 */
export const heartbeat: (
  address: string,
  data: Heartbeat.HeartbeatData,
  options?: CallOptions
) => Effect.Effect<{ readonly brokerVersion: number }, BrokerError, RemotingClient.RemotingClient> = Effect.fn(
  "Broker.heartbeat"
)(function*(address: string, data: Heartbeat.HeartbeatData, options?: CallOptions) {
  const body = yield* Heartbeat.encode(data)
  const request = RemotingCommand.make({ code: RequestCode.HEART_BEAT, body })
  const response = yield* Op.invoke(address, request, options?.timeoutMillis)
  if (response.code !== ResponseCode.SUCCESS) return yield* Op.unexpected(address, request, response)
  return { brokerVersion: response.version }
})

// ---------------------------------------------------------------------------------------------
// Offsets
// ---------------------------------------------------------------------------------------------

/**
 * A queue of a topic.
 *
 * @since 0.1.0
 * @category models
 */
export interface QueueRef {
  readonly topic: string
  readonly queueId: number
}

/**
 * The offset one past the last message of a queue (GET_MAX_OFFSET, committed messages only, as
 * Java asks by default). 0 for an empty queue.
 *
 * @since 0.1.0
 * @category operations
 */
export const getMaxOffset: (
  address: string,
  queue: QueueRef,
  options?: CallOptions
) => Effect.Effect<bigint, BrokerError, RemotingClient.RemotingClient> = Effect.fn("Broker.getMaxOffset")(
  function*(address: string, queue: QueueRef, options?: CallOptions) {
    const extFields = yield* Op.encodeHeader(
      Headers.GetMaxOffsetRequestHeader,
      { topic: queue.topic, queueId: queue.queueId, committed: true },
      "getMaxOffset"
    )
    const request = RemotingCommand.make({ code: RequestCode.GET_MAX_OFFSET, extFields })
    const response = yield* Op.invoke(address, request, options?.timeoutMillis)
    if (response.code !== ResponseCode.SUCCESS) {
      return yield* Op.unexpectedForTopic(address, request, response, queue.topic)
    }
    return (yield* Op.decodeHeader(Headers.GetMaxOffsetResponseHeader, address, request.code, response)).offset
  }
)

/**
 * A consumer group's position in a queue.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConsumerQueueRef extends QueueRef {
  readonly consumerGroup: string
}

/**
 * Options of {@link queryConsumerOffset}.
 *
 * @since 0.1.0
 * @category models
 */
export interface QueryOffsetOptions extends CallOptions {
  /**
   * `setZeroIfNotFound`. Not sent by default, and then a Java broker answers offset 0 for a group
   * with no stored offset when the queue still holds its first message, and QUERY_NOT_FOUND
   * otherwise; `false` makes it answer QUERY_NOT_FOUND whenever nothing is stored.
   */
  readonly setZeroIfNotFound?: boolean | undefined
}

/**
 * The offset `consumerGroup` has stored for a queue; `Option.none()` when it has stored none
 * (QUERY_NOT_FOUND, 22), which is not a failure.
 *
 * @since 0.1.0
 * @category operations
 */
export const queryConsumerOffset: (
  address: string,
  queue: ConsumerQueueRef,
  options?: QueryOffsetOptions
) => Effect.Effect<Option.Option<bigint>, BrokerError, RemotingClient.RemotingClient> = Effect.fn(
  "Broker.queryConsumerOffset"
)(function*(address: string, queue: ConsumerQueueRef, options?: QueryOffsetOptions) {
  const extFields = yield* Op.encodeHeader(
    Headers.QueryConsumerOffsetRequestHeader,
    {
      consumerGroup: queue.consumerGroup,
      topic: queue.topic,
      queueId: queue.queueId,
      ...(options?.setZeroIfNotFound !== undefined ? { setZeroIfNotFound: options.setZeroIfNotFound } : {})
    },
    "queryConsumerOffset"
  )
  const request = RemotingCommand.make({ code: RequestCode.QUERY_CONSUMER_OFFSET, extFields })
  const response = yield* Op.invoke(address, request, options?.timeoutMillis)
  if (response.code === ResponseCode.QUERY_NOT_FOUND) return Option.none()
  if (response.code !== ResponseCode.SUCCESS) {
    return yield* Op.unexpectedForTopic(address, request, response, queue.topic)
  }
  const header = yield* Op.decodeHeader(Headers.QueryConsumerOffsetResponseHeader, address, request.code, response)
  return Option.some(header.offset)
})

/**
 * Options of {@link updateConsumerOffset}.
 *
 * @since 0.1.0
 * @category models
 */
export interface UpdateOffsetOptions extends CallOptions {
  /** Send oneway, as Java's consumers do: no response, so no broker-side error is seen. */
  readonly oneway?: boolean | undefined
}

/**
 * Stores `commitOffset` as `consumerGroup`'s position in a queue (UPDATE_CONSUMER_OFFSET).
 *
 * @since 0.1.0
 * @category operations
 */
export const updateConsumerOffset: (
  address: string,
  queue: ConsumerQueueRef & { readonly commitOffset: bigint },
  options?: UpdateOffsetOptions
) => Effect.Effect<void, BrokerError, RemotingClient.RemotingClient> = Effect.fn("Broker.updateConsumerOffset")(
  function*(address: string, queue: ConsumerQueueRef & { readonly commitOffset: bigint }, options?: UpdateOffsetOptions) {
    const extFields = yield* Op.encodeHeader(Headers.UpdateConsumerOffsetRequestHeader, {
      consumerGroup: queue.consumerGroup,
      topic: queue.topic,
      queueId: queue.queueId,
      commitOffset: queue.commitOffset
    }, "updateConsumerOffset")
    const request = RemotingCommand.make({ code: RequestCode.UPDATE_CONSUMER_OFFSET, extFields })
    if (options?.oneway === true) {
      return yield* RemotingClient.RemotingClient.use((client) =>
        client.invokeOneway(address, request, options.timeoutMillis)
      )
    }
    const response = yield* Op.invoke(address, request, options?.timeoutMillis)
    if (response.code !== ResponseCode.SUCCESS) {
      return yield* Op.unexpectedForTopic(address, request, response, queue.topic)
    }
  }
)
