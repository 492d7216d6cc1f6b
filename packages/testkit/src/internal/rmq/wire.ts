/**
 * Wire helpers shared by the in-memory name server and brokers: responses, typed headers read the
 * way a Java processor reads them (an unreadable header is answered SYSTEM_ERROR with the reason),
 * JSON written as fastjson writes it, topic-name rules and the fixed system topic names, and
 * `host:port` parsing for store and born hosts.
 *
 * Nothing here keeps state.
 */
import type { StoredMessage } from "@effect-rocketmq/client"
import { StoredMessage as Stored } from "@effect-rocketmq/client"
import { type Header, RemotingCommand, ResponseCode } from "@effect-rocketmq/remoting"
import { Effect } from "effect"

/** What a processor answers: a response, or nothing (Java returns `null`: no frame is written). */
export type Answer = RemotingCommand.RemotingCommand | undefined

/** The suffix Java appends to remarks that point users at the FAQ page. */
export const FAQ = "\nSee https://rocketmq.apache.org/docs/bestPractice/06FAQ for further details."

export const TBW102 = "TBW102"
export const SCHEDULE_TOPIC = "SCHEDULE_TOPIC_XXXX"
export const HALF_TOPIC = "RMQ_SYS_TRANS_HALF_TOPIC"
export const OP_HALF_TOPIC = "RMQ_SYS_TRANS_OP_HALF_TOPIC"
export const CHECK_MAX_TIME_TOPIC = "TRANS_CHECK_MAX_TIME_TOPIC"
export const TIMER_TOPIC = "rmq_sys_wheel_timer"
export const RETRY_PREFIX = "%RETRY%"
export const DLQ_PREFIX = "%DLQ%"
export const REGION = "DefaultRegion"

/** Topics every broker treats as system topics whatever its configuration. */
export const SYSTEM_TOPICS: ReadonlySet<string> = new Set([
  TBW102,
  SCHEDULE_TOPIC,
  "BenchmarkTest",
  HALF_TOPIC,
  "RMQ_SYS_TRACE_TOPIC",
  OP_HALF_TOPIC,
  CHECK_MAX_TIME_TOPIC,
  "SELF_TEST_TOPIC",
  "OFFSET_MOVED_EVENT",
  "CHECKPOINT_TOPIC"
])

/** Topics no client may send to (the broker answers NO_PERMISSION). */
export const NOT_ALLOWED_SEND_TOPICS: ReadonlySet<string> = new Set([
  SCHEDULE_TOPIC,
  HALF_TOPIC,
  OP_HALF_TOPIC,
  CHECK_MAX_TIME_TOPIC,
  "SELF_TEST_TOPIC",
  "OFFSET_MOVED_EVENT"
])

const TOPIC_CHARS = /^[%|a-zA-Z0-9_-]+$/

/** Java's topic check: the remark of the first rule `topic` breaks, or undefined when it is valid. */
export const validateTopic = (topic: string): string | undefined =>
  topic.trim() === ""
    ? "The specified topic is blank."
    : !TOPIC_CHARS.test(topic)
    ? "The specified topic contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$"
    : topic.length > 127
    ? "The specified topic is longer than topic max length."
    : undefined

export const retryTopic = (group: string): string => `${RETRY_PREFIX}${group}`
export const dlqTopic = (group: string): string => `${DLQ_PREFIX}${group}`

export const respond = (
  request: RemotingCommand.RemotingCommand,
  code: number,
  remark?: string | undefined,
  options?: { readonly extFields?: { readonly [key: string]: string }; readonly body?: Uint8Array | undefined }
): RemotingCommand.RemotingCommand => RemotingCommand.response(request, code, remark, options)

const utf8 = new TextEncoder()

/** A SUCCESS response whose body is `json` (already written). */
export const respondJson = (request: RemotingCommand.RemotingCommand, json: string): RemotingCommand.RemotingCommand =>
  respond(request, ResponseCode.SUCCESS, undefined, { body: utf8.encode(json) })

/**
 * Decodes `request`'s header and runs `f`; a header that does not decode is answered SYSTEM_ERROR
 * with the decoder's message, as Java answers a `RemotingCommandException`.
 */
export const withHeader = <F extends Header.Fields, A extends Answer>(
  header: Header.Header<F>,
  request: RemotingCommand.RemotingCommand,
  f: (value: Header.Header<F>["schema"]["Type"]) => Effect.Effect<A>
): Effect.Effect<A | RemotingCommand.RemotingCommand> =>
  header.decode(request.extFields).pipe(
    Effect.matchEffect({
      onFailure: (error) => Effect.succeed(respond(request, ResponseCode.SYSTEM_ERROR, error.message)),
      onSuccess: f
    })
  )

/**
 * JSON as fastjson writes it. With `bareIntegerKeys`, object keys that are integers come out
 * unquoted (`{0:"a"}`), as name servers write `Map<Long, String>` without BrowserCompatible.
 * Keys keep the order of the object (callers build objects with Java's key order).
 */
export const fastJson = (value: unknown, bareIntegerKeys = false): string => {
  if (Array.isArray(value)) return `[${value.map((v) => fastJson(v, bareIntegerKeys)).join(",")}]`
  if (value instanceof ObjectKeyMap) {
    const entries = value.entries.map(([key, v]) => `${fastJson(key, bareIntegerKeys)}:${fastJson(v, bareIntegerKeys)}`)
    return `{${entries.join(",")}}`
  }
  if (typeof value === "bigint") return value.toString()
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>
    const entries = Object.keys(record).filter((key) => record[key] !== undefined).map((key) => {
      const name = bareIntegerKeys && /^-?\d+$/.test(key) ? key : JSON.stringify(key)
      return `${name}:${fastJson(record[key], bareIntegerKeys)}`
    })
    return `{${entries.join(",")}}`
  }
  return JSON.stringify(value)
}

/**
 * A Java map whose keys are objects (e.g. `Map<MessageQueue, Long>`): fastjson writes each key as
 * an object, `{{"brokerName":"b","queueId":0,"topic":"t"}:42}`, which is not JSON. {@link fastJson}
 * writes it that way.
 */
export class ObjectKeyMap {
  readonly entries: ReadonlyArray<readonly [object, unknown]>
  constructor(entries: ReadonlyArray<readonly [object, unknown]>) {
    this.entries = entries
  }
}

/** A message queue as Java serializes it (keys in alphabetical order). */
export interface MessageQueueJson {
  readonly brokerName: string
  readonly queueId: number
  readonly topic: string
}

export const messageQueueJson = (topic: string, brokerName: string, queueId: number): MessageQueueJson => ({
  brokerName,
  queueId,
  topic
})

/** `host:port` (or `[v6]:port`) as a socket address, when the host is an IP address. */
export const splitAddress = (address: string): StoredMessage.SocketAddress | undefined => {
  const colon = address.lastIndexOf(":")
  if (colon <= 0) return undefined
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1")
  const port = Number(address.slice(colon + 1))
  if (!Number.isInteger(port) || port < 0 || port > 65535 || Stored.parseIp(host) === undefined) return undefined
  return { host, port }
}

/** Whether Java's `Boolean.parseBoolean` reads `text` as true. */
export const parseBoolean = (text: string | undefined): boolean => text !== undefined && text.toLowerCase() === "true"
