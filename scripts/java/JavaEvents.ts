/**
 * The events the Java driver prints, one JSON object per line, as Schemas: what `JavaClient`
 * decodes every stdout line with. A line that is not one of these (or not JSON) is a
 * `JavaDriverError` with reason `BadOutput`, never silently dropped.
 *
 * 64-bit offsets (`queueOffset`, `commitLogOffset`, `preparedTransactionOffset`) become bigints,
 * as in `@effect-rocketmq/client`; bodies arrive as base64 and become bytes.
 */
import { Schema, SchemaTransformation } from "effect"

const Offset = Schema.Number.pipe(Schema.decodeTo(
  Schema.BigInt,
  SchemaTransformation.transform({ decode: (n: number) => BigInt(n), encode: (b: bigint) => Number(b) })
))

const Str = Schema.NullOr(Schema.String)
const Strings = Schema.Record(Schema.String, Schema.String)
const opt = Schema.optionalKey

/** A message queue: topic, broker name, queue id. */
export const Queue = Schema.Struct({ topic: Schema.String, brokerName: Schema.String, queueId: Schema.Number })
export type Queue = typeof Queue.Type

/** `started`: the client is up; its client id (what admin calls and the broker's consumer list name). */
export const Started = Schema.Struct({ event: Schema.Literal("started"), clientId: Schema.String, group: Schema.String })

/**
 * `sent`: one message (or one batch, with `count`, `msgIds` and `offsetMsgIds`) stored. A oneway
 * send has `oneway: true` and no result fields. With `echoBody` the body and properties are there.
 */
export const Sent = Schema.Struct({
  event: Schema.Literal("sent"),
  index: Schema.Number,
  count: opt(Schema.Number),
  status: opt(Schema.String),
  msgId: Schema.String,
  offsetMsgId: opt(Str),
  msgIds: opt(Schema.Array(Schema.String)),
  offsetMsgIds: opt(Schema.Array(Schema.String)),
  topic: opt(Schema.String),
  brokerName: opt(Schema.String),
  queueId: opt(Schema.Number),
  queueOffset: opt(Offset),
  transactionId: opt(Str),
  regionId: opt(Str),
  traceOn: opt(Schema.Boolean),
  tags: opt(Str),
  keys: opt(Str),
  bodySize: opt(Schema.Number),
  body: opt(Schema.Uint8ArrayFromBase64),
  properties: opt(Strings),
  oneway: opt(Schema.Boolean),
  localTransactionState: opt(Schema.String)
})
export type Sent = typeof Sent.Type

/** `send-error`: the send of message (or batch) `index` failed; `code` is the broker's response code when there is one. */
export const SendError = Schema.Struct({
  event: Schema.Literal("send-error"),
  index: Schema.Number,
  error: Schema.String,
  message: Schema.String,
  code: opt(Schema.Number),
  brokerAddr: opt(Str),
  /** The innermost cause of a wrapped Java exception: class and message. */
  cause: opt(Schema.String)
})
export type SendError = typeof SendError.Type

const messageFields = {
  msgId: Schema.String,
  offsetMsgId: Str,
  topic: Schema.String,
  tags: Str,
  keys: Str,
  properties: Strings,
  bodySize: Schema.Number,
  body: opt(Schema.Uint8ArrayFromBase64),
  queueId: Schema.Number,
  queueOffset: Offset,
  commitLogOffset: Offset,
  reconsumeTimes: Schema.Number,
  brokerName: Str,
  bornTimestamp: Schema.Number,
  storeTimestamp: Schema.Number,
  bornHost: Schema.String,
  storeHost: Schema.String,
  sysFlag: Schema.Number,
  flag: Schema.Number,
  bodyCRC: Schema.Number,
  storeSize: Schema.Number,
  preparedTransactionOffset: Offset
}

/**
 * `message`: a message as the Java client decoded it (decompressed, unwrapped), with every
 * field. From `push-consume` it also carries the listener's `result` (`SUCCESS`,
 * `RECONSUME_LATER` or `SUSPEND_CURRENT_QUEUE_A_MOMENT`).
 */
export const Message = Schema.Struct({ event: Schema.Literal("message"), ...messageFields, result: opt(Schema.String) })
export type Message = typeof Message.Type

/** `local-transaction`: the transaction listener ran for a half message and answered `state`. */
export const LocalTransaction = Schema.Struct({
  event: Schema.Literal("local-transaction"),
  msgId: Str,
  transactionId: Str,
  state: Schema.String
})

/** `check`: the broker asked about a half message (CHECK_TRANSACTION_STATE) and the checker answered `state`. */
export const Check = Schema.Struct({
  event: Schema.Literal("check"),
  ...messageFields,
  transactionId: Str,
  state: Schema.String
})
export type Check = typeof Check.Type

/** `rebalance`: the queues of `topic` allocated to this client changed (Java's averaging strategy). */
export const Rebalance = Schema.Struct({
  event: Schema.Literal("rebalance"),
  topic: Schema.String,
  clientId: Schema.String,
  consumerIds: Schema.Array(Schema.String),
  allocated: Schema.Array(Queue)
})
export type Rebalance = typeof Rebalance.Type

/** `queue`: `pull` is about to read this queue; its offsets when it started. */
export const QueueInfo = Schema.Struct({
  event: Schema.Literal("queue"),
  ...Queue.fields,
  minOffset: Offset,
  maxOffset: Offset
})

/** `pull`: one pull request's outcome (`FOUND`, `NO_NEW_MSG`, `NO_MATCHED_MSG`, `OFFSET_ILLEGAL`). */
export const PullStatus = Schema.Struct({
  event: Schema.Literal("pull"),
  queueId: Schema.Number,
  brokerName: Schema.String,
  offset: Offset,
  status: Schema.String,
  nextBeginOffset: Offset,
  minOffset: Offset,
  maxOffset: Offset,
  found: Schema.Number
})

/** `admin`: the result of an admin call, as JSON (see scripts/java/README.md for its fields). */
export const Admin = Schema.Struct({ event: Schema.Literal("admin"), op: Schema.String, result: Schema.Unknown })

/** `bench`: a benchmark's figures over its measured window (after warm-up). */
export const Bench = Schema.Struct({
  event: Schema.Literal("bench"),
  kind: Schema.Literals(["produce", "consume"]),
  messages: Schema.Number,
  elapsedMs: Schema.Number,
  perSecond: Schema.Number,
  p50Us: Schema.NullOr(Schema.Number),
  p99Us: Schema.NullOr(Schema.Number),
  cpuMs: Schema.Number,
  cpuUsPerMessage: Schema.NullOr(Schema.Number),
  warmupMessages: Schema.Number,
  /** bench-produce: sends that failed during the warm-up (a broker or route not ready yet). */
  warmupFailed: opt(Schema.Number),
  failed: opt(Schema.Number),
  inFlight: opt(Schema.Number),
  bodySize: opt(Schema.Number),
  mode: opt(Schema.String),
  received: opt(Schema.Number),
  completed: opt(Schema.Boolean)
})
export type Bench = typeof Bench.Type

/** `summary`: the last event of every subcommand but `admin` and the benchmarks; its counters. */
export const Summary = Schema.Struct({
  event: Schema.Literal("summary"),
  sent: opt(Schema.Number),
  failed: opt(Schema.Number),
  checks: opt(Schema.Number),
  consumed: opt(Schema.Number),
  deliveries: opt(Schema.Number),
  failedDeliveries: opt(Schema.Number),
  messages: opt(Schema.Number),
  queues: opt(Schema.Number),
  reason: opt(Schema.String),
  elapsedMs: opt(Schema.Number)
})
export type Summary = typeof Summary.Type

/** `error`: something failed; `kind` is `usage`, `start`, `pull`, `admin`, `command` or `internal`. */
export const ErrorEvent = Schema.Struct({
  event: Schema.Literal("error"),
  kind: Schema.String,
  message: Schema.String,
  error: opt(Schema.String),
  code: opt(Schema.Number),
  brokerAddr: opt(Str),
  /** The innermost cause of a wrapped Java exception: class and message. */
  cause: opt(Schema.String)
})
export type ErrorEvent = typeof ErrorEvent.Type

/** `pong`: the answer to the `ping` command. */
export const Pong = Schema.Struct({ event: Schema.Literal("pong") })

/** Any event of the driver. */
export const Event = Schema.Union([
  Started,
  Sent,
  SendError,
  Message,
  LocalTransaction,
  Check,
  Rebalance,
  QueueInfo,
  PullStatus,
  Admin,
  Bench,
  Summary,
  ErrorEvent,
  Pong
])
export type Event = typeof Event.Type

/** Decodes one stdout line. */
export const decodeLine = Schema.decodeUnknownExit(Schema.fromJsonString(Event))

const Subscription = Schema.Struct({
  topic: Schema.String,
  subString: Str,
  expressionType: Str,
  tags: Schema.Array(Schema.String),
  subVersion: Schema.Number
})

/** `admin running-info`: what the client answered to GET_CONSUMER_RUNNING_INFO (Java's ConsumerRunningInfo). */
export const RunningInfo = Schema.Struct({
  properties: Strings,
  subscriptions: Schema.Array(Subscription),
  queues: Schema.Array(Schema.Struct({
    ...Queue.fields,
    commitOffset: Schema.Number,
    cachedMsgMinOffset: Schema.Number,
    cachedMsgMaxOffset: Schema.Number,
    cachedMsgCount: Schema.Number,
    cachedMsgSizeInMiB: Schema.Number,
    transactionMsgCount: Schema.Number,
    locked: Schema.Boolean,
    tryUnlockTimes: Schema.Number,
    lastLockTimestamp: Schema.Number,
    dropped: Schema.Boolean,
    lastPullTimestamp: Schema.Number,
    lastConsumeTimestamp: Schema.Number
  })),
  status: Schema.Record(Schema.String, Schema.Struct({
    pullRT: Schema.NullOr(Schema.Number),
    pullTPS: Schema.NullOr(Schema.Number),
    consumeRT: Schema.NullOr(Schema.Number),
    consumeOKTPS: Schema.NullOr(Schema.Number),
    consumeFailedTPS: Schema.NullOr(Schema.Number),
    consumeFailedMsgs: Schema.Number
  })),
  userConsumerInfo: Strings,
  jstack: Str
})
export type RunningInfo = typeof RunningInfo.Type

/** `admin connections`: the group's connections as the broker knows them (Java's ConsumerConnection). */
export const Connections = Schema.Struct({
  connections: Schema.Array(Schema.Struct({
    clientId: Schema.String,
    clientAddr: Schema.String,
    language: Schema.String,
    version: Schema.Number
  })),
  subscriptions: Schema.Array(Subscription),
  consumeType: Schema.String,
  messageModel: Schema.String,
  consumeFromWhere: Schema.String
})
export type Connections = typeof Connections.Type

/** `admin consume-stats`: per-queue broker, consumer and pull offsets of the group (Java's ConsumeStats). */
export const ConsumeStats = Schema.Struct({
  consumeTps: Schema.Number,
  totalDiff: Schema.Number,
  queues: Schema.Array(Schema.Struct({
    ...Queue.fields,
    brokerOffset: Schema.Number,
    consumerOffset: Schema.Number,
    pullOffset: Schema.Number,
    lastTimestamp: Schema.Number
  }))
})
export type ConsumeStats = typeof ConsumeStats.Type
