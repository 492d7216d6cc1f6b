/**
 * The message path of a broker: send (one message or a batch), pull, and a client's registration
 * (heartbeat, unregister).
 *
 * Each is an Effect that needs a {@link RemotingClient.RemotingClient} and takes the broker's
 * `host:port` first. Response codes are mapped as the Java client maps them: the codes an
 * operation treats as an answer become values (send's flush/slave timeouts are statuses of a
 * successful send; pull's "nothing here" codes are {@link PullResult} cases), `TOPIC_NOT_EXIST`
 * becomes {@link TopicNotExist}, and every other code a {@link RemoteError} with the request and
 * response codes, their names and the remark. Transport failures pass through as the remoting
 * client's errors.
 *
 * | operation | request code and fields | success | default timeout |
 * | --- | --- | --- | --- |
 * | {@link sendMessage} | 310: `a`…`h`, `i` (properties), `j`, `k`, `m` (+ `l`, `n`); body = message body | 0, 10, 11, 12 + `msgId`, `queueId`, `queueOffset` | the client's |
 * | {@link sendMessageOneway} | 310 as above, oneway | none | the client's (to hand the frame over) |
 * | {@link sendBatchMessage} | 320: as 310 with `m=true`; body = the elements ({@link MessageBatch}) | as 310; `msgId` = the offset ids, comma-separated | the client's |
 * | {@link pullMessage} | 11: `consumerGroup`, `topic`, `queueId`, `queueOffset`, `maxMsgNums`, `sysFlag` (4), `commitOffset`, `suspendTimeoutMillis`, `subscription` (`*`), `subVersion`, `expressionType` | 0, 19, 20, 21 + offsets; body = stored messages | the client's (suspend + 3 s when long-polling) |
 * | {@link heartbeat} | 34: HeartbeatData JSON body | 0 (the response's version is the broker's) | the client's |
 * | {@link unregisterClient} | 35: `clientID`, `producerGroup` / `consumerGroup` | 0 | 3 s |
 *
 * Offsets are in `Offsets`, topic and group administration in `Admin`, consumer-group calls
 * (member list, send-back, queue locks) in `ConsumerGroup`, END_TRANSACTION in `Transaction`.
 *
 * @since 0.1.0
 */
import { RemotingClient, RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Effect, Result } from "effect"
import { MessageDecodeError } from "./ClientError.ts"
import type { InvalidRequest, RemoteError, ResponseDecodeError, TopicNotExist } from "./ClientError.ts"
import * as Headers from "./Headers.ts"
import * as Heartbeat from "./Heartbeat.ts"
import * as Op from "./internal/operation.ts"
import * as PullHeader from "./internal/pullHeader.ts"
import * as Send from "./internal/send.ts"
import * as Message from "./Message.ts"
import type * as MessageBatch from "./MessageBatch.ts"
import type * as Properties from "./Properties.ts"
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
export const DEFAULT_TOPIC: string = Send.DEFAULT_TOPIC

/**
 * The producer group used when none is given.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_PRODUCER_GROUP: string = Send.DEFAULT_PRODUCER_GROUP

/**
 * The largest message a broker stores by default, and Java's producer sends (4 MiB).
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_MESSAGE_SIZE: number = Send.MAX_MESSAGE_SIZE

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
 * A response timeout for the call. Each operation documents its default: Java's timeout for that
 * call where the Java client has a fixed one, else the remoting client's `defaultTimeout`.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallOptions {
  readonly timeoutMillis?: number | undefined
}

// ---------------------------------------------------------------------------------------------
// Sending
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
 * Where a send goes, for every kind of send.
 *
 * @since 0.1.0
 * @category models
 */
export interface SendTarget extends CallOptions {
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
}

/**
 * Options of {@link sendMessage} and {@link sendMessageOneway}.
 *
 * @since 0.1.0
 * @category models
 */
export interface SendOptions extends SendTarget {
  /** The client message id to send; by default a new one ({@link Message.makeUniqId}). */
  readonly uniqId?: string | undefined
  /**
   * Compress the body with ZLIB (level 5, as Java) when it has at least this many bytes. Java
   * compresses from 4096; by default nothing is compressed.
   */
  readonly compressOverBytes?: number | undefined
  /**
   * Bits OR-ed into the header's sysFlag (`f`): `StoredMessage.SysFlag.TRANSACTION_PREPARED` for
   * a transaction's half message, or the compression bits of a body the caller compressed itself
   * (then leave `compressOverBytes` unset).
   */
  readonly sysFlag?: number | undefined
  /**
   * Properties the system reserves (`TRAN_MSG`, `PGROUP`, `TIMER_DELIVER_MS`, `RETRY_TOPIC`, …),
   * added after the message's own without the system-name check; a name given here replaces the
   * message's own (a `UNIQ_KEY` here becomes the message id).
   */
  readonly systemProperties?: Properties.Properties | undefined
  /**
   * Header `j`, default 0. For a send to a `%RETRY%` topic, the copy's reconsume count (Java takes
   * it from `RECONSUME_TIME`): the broker moves the message to the DLQ when it exceeds the maximum.
   */
  readonly reconsumeTimes?: number | undefined
  /** Header `l`, not sent by default: the maximum reconsume count for a `%RETRY%` send. */
  readonly maxReconsumeTimes?: number | undefined
}

/**
 * Sends one message with SEND_MESSAGE_V2 (short header names, as Java's default producer).
 *
 * The properties (`i`) carry the tags, keys, delay level, `WAIT` (when false), a client message
 * id (`UNIQ_KEY`), the user properties and any `systemProperties`; the body is sent as given (or
 * ZLIB-compressed, see `compressOverBytes`) and must not be empty (Java refuses empty bodies, and
 * a broker fails on one). `FLUSH_DISK_TIMEOUT`, `FLUSH_SLAVE_TIMEOUT` and `SLAVE_NOT_AVAILABLE`
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
    const { request, uniqId } = yield* Send.messageRequest(message, options, "sendMessage")
    return sendResultOf(uniqId, yield* Send.invoke(address, request, message.topic, options?.timeoutMillis))
  }
)

const sendResultOf = (uniqId: string, { header, ...common }: Effect.Success<ReturnType<typeof Send.readAnswer>>): SendResult => ({
  ...common,
  msgId: uniqId,
  offsetMsgId: header.msgId,
  transactionId: header.transactionId
})

/**
 * Sends several messages to one broker as {@link sendMessage} sends each — one SEND_MESSAGE_V2
 * request per message, each with its own options (queue, group, flags) — in one bulk call
 * (`RemotingClient.invokeAll`: one channel, one suspension), under one timeout. Resumes once with
 * each message's own result or typed error, in the order given; a message whose request cannot be
 * built fails alone and is not sent. Never fails as a whole.
 *
 * @since 0.1.0
 * @category operations
 */
export const sendMessages = (
  address: string,
  items: ReadonlyArray<{ readonly message: Message.Message; readonly options?: SendOptions | undefined }>,
  timeoutMillis?: number | undefined
): Effect.Effect<Array<Result.Result<SendResult, BrokerError>>, never, RemotingClient.RemotingClient> =>
  Effect.gen(function*() {
    const built = yield* Effect.forEach(items, ({ message, options }) => Effect.result(Send.messageRequest(message, options, "sendMessages")))
    const going = built.flatMap((b) => Result.isSuccess(b) ? [b.success.request] : [])
    const client = yield* RemotingClient.RemotingClient
    const answers = going.length === 0 ? [] : yield* client.invokeAll(address, going, timeoutMillis)
    let next = 0
    return yield* Effect.forEach(built, (b, i): Effect.Effect<Result.Result<SendResult, BrokerError>> => {
      if (Result.isFailure(b)) return Effect.succeed(Result.fail(b.failure))
      const answer = answers[next++]!
      if (Result.isFailure(answer)) return Effect.succeed(Result.fail(answer.failure))
      return Effect.result(Effect.map(
        Send.readAnswer(address, b.success.request, answer.success, items[i]!.message.topic),
        (answered) => sendResultOf(b.success.uniqId, answered)
      ))
    })
  })

/**
 * Sends one message as {@link sendMessage} does, oneway (Java's `sendOneway`): the request is
 * flagged oneway and no response comes, so nothing is known of the outcome beyond the frame being
 * handed to the connection. Returns the client message id it was sent with.
 *
 * @since 0.1.0
 * @category operations
 */
export const sendMessageOneway: (
  address: string,
  message: Message.Message,
  options?: SendOptions
) => Effect.Effect<string, InvalidRequest | RemotingClient.RemotingClientError, RemotingClient.RemotingClient> = Effect
  .fn("Broker.sendMessageOneway")(function*(address: string, message: Message.Message, options?: SendOptions) {
    const { request, uniqId } = yield* Send.messageRequest(message, options, "sendMessageOneway")
    yield* Op.invokeOneway(address, request, options?.timeoutMillis)
    return uniqId
  })

/**
 * The outcome of {@link sendBatchMessage}: one result for the whole batch, with every message's
 * ids. The broker stores the messages in one queue, consecutively: message `i` is at
 * `queueOffset + i`.
 *
 * @since 0.1.0
 * @category models
 */
export interface BatchSendResult {
  readonly status: SendStatus
  /** The client message ids (`UNIQ_KEY`) of the messages, in order. */
  readonly msgIds: ReadonlyArray<string>
  /** The broker's offset message ids, in order (the response's comma-separated `msgId`). */
  readonly offsetMsgIds: ReadonlyArray<string>
  readonly topic: string
  readonly queueId: number
  /** The queue offset of the first message. */
  readonly queueOffset: bigint
  /** Set when the broker stored the batch as one inner batch (topics with a batch consume queue). */
  readonly batchUniqId: string | undefined
  readonly regionId: string
  readonly traceOn: boolean
}

/**
 * Options of {@link sendBatchMessage}. A batch is never compressed (as Java).
 *
 * @since 0.1.0
 * @category models
 */
export interface BatchSendOptions extends SendTarget {
  /** The client message ids to send, one per message; by default new ones. */
  readonly uniqIds?: ReadonlyArray<string> | undefined
  /**
   * An id for the batch itself (its header's `UNIQ_KEY`), which makes a broker store the batch
   * whole on a topic with a batch consume queue (`batchUniqId` in the result). Not sent by
   * default: a 5.3.3 broker copies it into every element of a normal topic, where it would
   * replace each message's own id.
   */
  readonly batchUniqId?: string | undefined
  /**
   * The largest batch body to send, in bytes (default 4 MiB, Java's `maxMessageSize` and a
   * broker's default limit). A larger batch fails with {@link InvalidRequest} before anything is
   * sent; a broker with a lower limit answers SYSTEM_ERROR "message body size exceeded".
   */
  readonly maxMessageSize?: number | undefined
}

/**
 * Sends several messages of one topic in one SEND_BATCH_MESSAGE request (the V2 header with
 * `m=true`, the body as {@link MessageBatch.encode} writes it), as Java's
 * `DefaultMQProducer.send(Collection)` does.
 *
 * The messages must follow Java's batch rules ({@link MessageBatch.validate}); each gets its own
 * `UNIQ_KEY`, and the header properties carry the batch's `WAIT`. Nothing is sent when a rule is
 * broken. Unlike Java, the batch gets no `UNIQ_KEY` of its own unless `batchUniqId` is given (see
 * there). A batch body over `maxMessageSize` (4 MiB by default) is refused before sending;
 * keeping under it, by splitting, is the caller's job.
 *
 * @since 0.1.0
 * @category operations
 */
export const sendBatchMessage: (
  address: string,
  messages: ReadonlyArray<Message.Message>,
  options?: BatchSendOptions
) => Effect.Effect<BatchSendResult, BrokerError, RemotingClient.RemotingClient> = Effect.fn("Broker.sendBatchMessage")(
  function*(address: string, messages: ReadonlyArray<Message.Message>, options?: BatchSendOptions) {
    const { request, msgIds } = yield* Send.batchRequest(messages, options)
    const { header, ...common } = yield* Send.invoke(address, request, messages[0]!.topic, options?.timeoutMillis)
    const result: BatchSendResult = {
      ...common,
      msgIds,
      offsetMsgIds: header.msgId.split(",").filter((id) => id.length > 0),
      batchUniqId: header.batchUniqId
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
 * - `Found` (code 0): messages, already decoded — and, apart, the `undecodable` ones: records
 *   whose body could not be decompressed (an unknown compression type, corrupt data), each with
 *   its queue offset, fields, stored body and error (`StoredMessage.UndecodableMessage`). One such
 *   record never hides the others; `nextBeginOffset` moves past it like any other, so a consumer
 *   decides what to do with it (report, forward, skip) and keeps its place in the queue;
 * - `NoNewMsg` (19, PULL_NOT_FOUND): nothing at or after the offset yet;
 * - `NoMatchedMsg` (20, PULL_RETRY_IMMEDIATELY): messages there, none matching the subscription;
 * - `OffsetIllegal` (21, PULL_OFFSET_MOVED): the offset is outside `minOffset … maxOffset`.
 *
 * @since 0.1.0
 * @category models
 */
export type PullResult =
  | (PullOffsets & {
    readonly _tag: "Found"
    readonly messages: ReadonlyArray<StoredMessage.StoredMessage>
    readonly undecodable: ReadonlyArray<StoredMessage.UndecodableMessage>
  })
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
    const fields: PullHeader.Request = {
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
    }
    // The plain case by hand (see PullHeader); the schema for anything else, and for its error.
    const extFields = PullHeader.encodeRequest(fields) ??
      (yield* Op.encodeHeader(Headers.PullMessageRequestHeader, fields, "pullMessage"))
    const request = RemotingCommand.make({ code: RequestCode.PULL_MESSAGE, extFields })
    const timeout = pull.timeoutMillis ?? (suspend > 0 ? suspend + 3000 : undefined)
    const response = yield* Op.invoke(address, request, timeout)
    const status = PULL_STATUS.get(response.code)
    if (status === undefined) return yield* Op.unexpectedForTopic(address, request, response, pull.topic)
    const header = PullHeader.decodeResponse(response.extFields) ??
      (yield* Op.decodeHeader(Headers.PullMessageResponseHeader, address, request.code, response))
    const offsets: PullOffsets = {
      nextBeginOffset: header.nextBeginOffset,
      minOffset: header.minOffset,
      maxOffset: header.maxOffset,
      suggestWhichBrokerId: header.suggestWhichBrokerId
    }
    if (status !== "Found") return { _tag: status, ...offsets } satisfies PullResult
    const decoded = response.body === undefined ? { messages: [], undecodable: [] } : StoredMessage.decodeBodySync(response.body)
    if (decoded instanceof MessageDecodeError) return yield* Op.bodyError(address, request.code, decoded.message)
    const filter = (pull.filterTags ?? true) && expressionType === "TAG" && Heartbeat.parseTags(subscription).length > 0
    const matching = <M extends StoredMessage.StoredMessage>(all: ReadonlyArray<M>): ReadonlyArray<M> =>
      filter ? all.filter((m) => Heartbeat.matchesTag(subscription, Message.tagsOf(m))) : all
    return {
      _tag: "Found",
      ...offsets,
      messages: matching(decoded.messages),
      undecodable: matching(decoded.undecodable)
    } satisfies PullResult
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

/**
 * Who leaves: the client id and the group it leaves (Java sends one request per group).
 *
 * @since 0.1.0
 * @category models
 */
export interface UnregisterRequest {
  readonly clientID: string
  readonly producerGroup?: string | undefined
  readonly consumerGroup?: string | undefined
}

/**
 * Tells a broker that a client left a producer or consumer group (UNREGISTER_CLIENT), as Java
 * does for every broker it knows when a producer or consumer shuts down: the broker drops the
 * client from the group at once instead of after 120 s without heartbeats, and a consumer group's
 * other members are told to rebalance. Java's timeout, 3 s, by default.
 *
 * @since 0.1.0
 * @category operations
 */
export const unregisterClient: (
  address: string,
  request: UnregisterRequest,
  options?: CallOptions
) => Effect.Effect<void, BrokerError, RemotingClient.RemotingClient> = Effect.fn("Broker.unregisterClient")(
  function*(address: string, unregister: UnregisterRequest, options?: CallOptions) {
    const extFields = yield* Op.encodeHeader(Headers.UnregisterClientRequestHeader, {
      clientID: unregister.clientID,
      ...(unregister.producerGroup !== undefined ? { producerGroup: unregister.producerGroup } : {}),
      ...(unregister.consumerGroup !== undefined ? { consumerGroup: unregister.consumerGroup } : {})
    }, "unregisterClient")
    const request = RemotingCommand.make({ code: RequestCode.UNREGISTER_CLIENT, extFields })
    const response = yield* Op.invoke(address, request, options?.timeoutMillis ?? Op.JavaTimeout.CLIENT_API)
    yield* Op.expectSuccess(address, request, response)
  }
)
