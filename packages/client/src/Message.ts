/**
 * Messages a producer sends: the value {@link Message}, the system property names Java uses
 * ({@link PropertyKey}), how tags, keys and user properties become one properties record
 * ({@link toProperties}), and the client message id (`UNIQ_KEY`, {@link makeUniqId}).
 *
 * Received messages are {@link StoredMessage.StoredMessage}s; {@link tagsOf}, {@link keysOf} and
 * {@link userProperties} read them back.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Option } from "effect"
import * as os from "node:os"
import { InvalidRequest } from "./ClientError.ts"
import * as Rec from "./internal/record.ts"
import * as Properties from "./Properties.ts"

/**
 * Property names the Java client and broker reserve (`MessageConst`). User properties must not use
 * them.
 *
 * @since 0.1.0
 * @category constants
 */
export const PropertyKey = {
  KEYS: "KEYS",
  TAGS: "TAGS",
  WAIT_STORE_MSG_OK: "WAIT",
  DELAY_TIME_LEVEL: "DELAY",
  RETRY_TOPIC: "RETRY_TOPIC",
  REAL_TOPIC: "REAL_TOPIC",
  REAL_QUEUE_ID: "REAL_QID",
  TRANSACTION_PREPARED: "TRAN_MSG",
  PRODUCER_GROUP: "PGROUP",
  MIN_OFFSET: "MIN_OFFSET",
  MAX_OFFSET: "MAX_OFFSET",
  BUYER_ID: "BUYER_ID",
  ORIGIN_MESSAGE_ID: "ORIGIN_MESSAGE_ID",
  TRANSFER_FLAG: "TRANSFER_FLAG",
  CORRECTION_FLAG: "CORRECTION_FLAG",
  MQ2_FLAG: "MQ2_FLAG",
  RECONSUME_TIME: "RECONSUME_TIME",
  MSG_REGION: "MSG_REGION",
  TRACE_SWITCH: "TRACE_ON",
  UNIQ_CLIENT_MESSAGE_ID_KEYIDX: "UNIQ_KEY",
  EXTEND_UNIQ_INFO: "EXTEND_UNIQ_INFO",
  MAX_RECONSUME_TIMES: "MAX_RECONSUME_TIMES",
  CONSUME_START_TIMESTAMP: "CONSUME_START_TIME",
  POP_CK: "POP_CK",
  POP_CK_OFFSET: "POP_CK_OFFSET",
  FIRST_POP_TIME: "1ST_POP_TIME",
  TRANSACTION_PREPARED_QUEUE_OFFSET: "TRAN_PREPARED_QUEUE_OFFSET",
  DUP_INFO: "DUP_INFO",
  INSTANCE_ID: "INSTANCE_ID",
  CORRELATION_ID: "CORRELATION_ID",
  MESSAGE_REPLY_TO_CLIENT: "REPLY_TO_CLIENT",
  MESSAGE_TTL: "TTL",
  REPLY_MESSAGE_ARRIVE_TIME: "ARRIVE_TIME",
  PUSH_REPLY_TIME: "PUSH_REPLY_TIME",
  CLUSTER: "CLUSTER",
  MESSAGE_TYPE: "MSG_TYPE",
  INNER_MULTI_QUEUE_OFFSET: "INNER_MULTI_QUEUE_OFFSET",
  TIMER_DELAY_MS: "TIMER_DELAY_MS",
  TIMER_DELAY_SEC: "TIMER_DELAY_SEC",
  TIMER_DELIVER_MS: "TIMER_DELIVER_MS",
  TIMER_ENQUEUE_MS: "TIMER_ENQUEUE_MS",
  TIMER_DEQUEUE_MS: "TIMER_DEQUEUE_MS",
  TIMER_ROLL_TIMES: "TIMER_ROLL_TIMES",
  TIMER_OUT_MS: "TIMER_OUT_MS",
  TIMER_DEL_UNIQKEY: "TIMER_DEL_UNIQKEY",
  TIMER_DELAY_LEVEL: "TIMER_DELAY_LEVEL",
  BORN_HOST: "__BORNHOST",
  BORN_TIMESTAMP: "BORN_TIMESTAMP",
  DLQ_ORIGIN_TOPIC: "DLQ_ORIGIN_TOPIC",
  DLQ_ORIGIN_MESSAGE_ID: "DLQ_ORIGIN_MESSAGE_ID",
  CRC32: "__CRC32#",
  SHARDING_KEY: "__SHARDINGKEY"
} as const

const SYSTEM_PROPERTIES: ReadonlySet<string> = new Set(Object.values(PropertyKey))

/**
 * Whether `name` is reserved for the system (see {@link PropertyKey}).
 *
 * @since 0.1.0
 * @category guards
 */
export const isSystemProperty = (name: string): boolean => SYSTEM_PROPERTIES.has(name)

/**
 * A message to send.
 *
 * @since 0.1.0
 * @category models
 */
export interface Message {
  readonly topic: string
  readonly body: Uint8Array
  /** One tag; consumers can subscribe to tags (`"TagA || TagB"`). */
  readonly tags?: string | undefined
  /** Keys for lookup by key; several keys are stored space-separated. */
  readonly keys?: string | ReadonlyArray<string> | undefined
  /** User properties: names must not be system names ({@link isSystemProperty}). */
  readonly properties?: Properties.Properties | undefined
  /** The user flag stored with the message (default 0). */
  readonly flag?: number | undefined
  /** Delay level (1–18 on a default broker); absent or 0 for immediate delivery. */
  readonly delayLevel?: number | undefined
  /**
   * Deliver at this time (epoch ms or a `Date`; 5.x timer messages, `TIMER_DELIVER_MS`). The
   * broker rounds it down to its timer precision (1 s by default); a time in the past delivers at
   * once. Not with `delayLevel` or `deliverAfter`.
   */
  readonly deliverAt?: number | Date | undefined
  /**
   * Deliver this long after the broker stores the message (5.x timer messages, `TIMER_DELAY_MS`,
   * measured on the broker's clock; at most 3 days on a default broker). Not with `delayLevel` or
   * `deliverAt`.
   */
  readonly deliverAfter?: Duration.Input | undefined
  /** Whether the broker should wait for the store before answering (`WAIT`, default true, not sent when true). */
  readonly waitStoreMsgOk?: boolean | undefined
}

/**
 * A message to `topic` with `body` (a string is sent as UTF-8).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  topic: string,
  body: Uint8Array | string,
  options?: Omit<Message, "topic" | "body">
): Message => ({
  ...options,
  topic,
  body: typeof body === "string" ? new TextEncoder().encode(body) : body
})

const timerProperty = (message: Message): readonly [string, string] | string | undefined => {
  const { deliverAt, deliverAfter } = message
  if (deliverAt !== undefined && deliverAfter !== undefined) return "deliverAt and deliverAfter are both set; choose one"
  if (deliverAt !== undefined) {
    const at = deliverAt instanceof Date ? deliverAt.getTime() : deliverAt
    return Number.isSafeInteger(at) && at >= 0
      ? [PropertyKey.TIMER_DELIVER_MS, String(at)]
      : `deliverAt ${String(deliverAt)} is not a time in epoch milliseconds`
  }
  if (deliverAfter !== undefined) {
    const after = Option.map(Duration.fromInput(deliverAfter), Duration.toMillis)
    return Option.isSome(after) && Number.isFinite(after.value) && after.value >= 0
      ? [PropertyKey.TIMER_DELAY_MS, String(Math.floor(after.value))]
      : `deliverAfter ${String(deliverAfter)} is not a finite, non-negative duration`
  }
  return undefined
}

/**
 * The properties a message is sent with: `TAGS`, `KEYS` (space-separated), `DELAY`, the timer
 * (`TIMER_DELIVER_MS` or `TIMER_DELAY_MS`), `WAIT` (only when false, as Java), `UNIQ_KEY`, then the
 * user properties. Fails with {@link InvalidRequest} when a user property uses a system name, a
 * tag or key is empty, or the delay is not one a broker applies (a timer together with a delay
 * level, which the broker would ignore).
 *
 * @since 0.1.0
 * @category conversions
 */
export const toProperties = (message: Message, uniqId: string): Effect.Effect<Properties.Properties, InvalidRequest> =>
  Effect.suspend(() => {
    const invalid = (detail: string) => Effect.fail(new InvalidRequest({ operation: "sendMessage", detail }))
    const out = Rec.empty()
    if (message.tags !== undefined) {
      if (message.tags.length === 0) return invalid("tags is empty; leave it out for a message without tags")
      out[PropertyKey.TAGS] = message.tags
    }
    if (message.keys !== undefined) {
      const keys = typeof message.keys === "string" ? [message.keys] : message.keys
      if (keys.some((key) => key.length === 0)) return invalid("a key is empty")
      if (keys.length > 0) out[PropertyKey.KEYS] = keys.join(" ")
    }
    if (message.delayLevel !== undefined && message.delayLevel !== 0) {
      if (!Number.isInteger(message.delayLevel) || message.delayLevel < 0) {
        return invalid(`delayLevel ${message.delayLevel} is not a positive integer`)
      }
      out[PropertyKey.DELAY_TIME_LEVEL] = String(message.delayLevel)
    }
    const timer = timerProperty(message)
    if (typeof timer === "string") return invalid(timer)
    if (timer !== undefined) {
      if (out[PropertyKey.DELAY_TIME_LEVEL] !== undefined) {
        return invalid("a delay level and a delivery time are both set (the broker ignores the time then); choose one")
      }
      out[timer[0]] = timer[1]
    }
    if (message.waitStoreMsgOk === false) out[PropertyKey.WAIT_STORE_MSG_OK] = "false"
    out[PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX] = uniqId
    if (message.properties !== undefined) {
      for (const name of Object.keys(message.properties)) {
        if (isSystemProperty(name)) {
          return invalid(`user property ${JSON.stringify(name)} is a system property name; choose another name`)
        }
        const value: unknown = message.properties[name]
        if (typeof value === "string") out[name] = value
      }
    }
    return Effect.succeed(out)
  })

/**
 * The tag of a received message (`TAGS`), if any.
 *
 * @since 0.1.0
 * @category getters
 */
export const tagsOf = (message: { readonly properties: Properties.Properties }): string | undefined =>
  Properties.get(message.properties, PropertyKey.TAGS)

/**
 * The keys of a received message (`KEYS`, split on spaces), possibly none.
 *
 * @since 0.1.0
 * @category getters
 */
export const keysOf = (message: { readonly properties: Properties.Properties }): ReadonlyArray<string> => {
  const keys = Properties.get(message.properties, PropertyKey.KEYS)
  return keys === undefined ? [] : keys.split(" ").filter((key) => key.length > 0)
}

/**
 * The properties of a received message that are not system properties.
 *
 * @since 0.1.0
 * @category getters
 */
export const userProperties = (message: { readonly properties: Properties.Properties }): Properties.Properties =>
  Properties.fromEntries(
    Object.keys(message.properties)
      .filter((name) => !isSystemProperty(name))
      .map((name) => [name, message.properties[name]!] as const)
  )

// ---------------------------------------------------------------------------------------------
// UNIQ_KEY
// ---------------------------------------------------------------------------------------------

const HEX = "0123456789ABCDEF"
const hex = (value: number, bytes: number): string => {
  let out = ""
  for (let i = bytes - 1; i >= 0; i--) {
    const b = (value >>> (8 * i)) & 0xff
    out += HEX[b >> 4]! + HEX[b & 0xf]!
  }
  return out
}

const localIPv4 = (): Array<number> | undefined => {
  try {
    for (const entries of Object.values(os.networkInterfaces())) {
      for (const entry of entries ?? []) {
        if (entry.family === "IPv4" && !entry.internal) return entry.address.split(".").map(Number)
      }
    }
  } catch {
    // Some sandboxes refuse to list interfaces; fall through to a random address as Java does.
  }
  return undefined
}

let prefix: string | undefined
let counter = 0
let monthStart = 0
let nextMonthStart = 0

const uniqPrefix = (): string => {
  if (prefix === undefined) {
    const ip = localIPv4() ?? Array.from({ length: 4 }, () => Math.floor(Math.random() * 256))
    prefix = ip.map((b) => hex(b, 1)).join("") + hex(process.pid & 0xffff, 2) +
      hex(Math.floor(Math.random() * 0x1_0000_0000), 4)
  }
  return prefix
}

/**
 * A new client message id (`UNIQ_KEY`) in Java's `MessageClientIDSetter` layout: uppercase hex of
 * this host's first non-loopback IPv4 address (4 random bytes when there is none), the process id
 * (16 bits), a random 32-bit number fixed per process (Java uses its class loader's hash there),
 * the milliseconds since the start of the current month (local time, from `Clock`) and a 16-bit
 * counter: 32 characters. Ids are unique within a process as long as fewer than 65,536 are made
 * per millisecond.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeUniqId: Effect.Effect<string> = Effect.map(Clock.currentTimeMillis, (now) => {
  if (now >= nextMonthStart || now < monthStart) {
    const date = new Date(now)
    monthStart = new Date(date.getFullYear(), date.getMonth(), 1).getTime()
    nextMonthStart = new Date(date.getFullYear(), date.getMonth() + 1, 1).getTime()
  }
  const id = uniqPrefix() + hex(now - monthStart, 4) + hex(counter, 2)
  counter = (counter + 1) & 0xffff
  return id
})
