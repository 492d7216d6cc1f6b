/**
 * The HEART_BEAT body (Java's `HeartbeatData` as fastjson writes it): which producer and consumer groups a
 * client belongs to and what its consumers subscribe to, as `effect/Schema` structs with Java's key
 * names; plus tag subscriptions as Java builds them ({@link subscription}) and matches them
 * ({@link matchesTag}).
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import { BodyDecodeError, InvalidRequest } from "./ClientError.ts"
import * as FastJson from "./FastJson.ts"

/**
 * The subscription expression meaning "every message".
 *
 * @since 0.1.0
 * @category constants
 */
export const SUB_ALL = "*"

/**
 * What a consumer subscribes to on one topic.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SubscriptionData = Schema.Struct({
  classFilterMode: Schema.Boolean,
  topic: Schema.String,
  subString: Schema.String,
  tagsSet: Schema.Array(Schema.String),
  codeSet: Schema.Array(Schema.Int),
  subVersion: Schema.Int,
  expressionType: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export type SubscriptionData = typeof SubscriptionData.Type

/**
 * @since 0.1.0
 * @category schemas
 */
export const ConsumeType = Schema.Literals(["CONSUME_ACTIVELY", "CONSUME_PASSIVELY", "CONSUME_POP"])

/**
 * @since 0.1.0
 * @category schemas
 */
export const MessageModel = Schema.Literals(["CLUSTERING", "BROADCASTING"])

/**
 * @since 0.1.0
 * @category schemas
 */
export const ConsumeFromWhere = Schema.Literals([
  "CONSUME_FROM_LAST_OFFSET",
  "CONSUME_FROM_FIRST_OFFSET",
  "CONSUME_FROM_TIMESTAMP",
  "CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST",
  "CONSUME_FROM_MIN_OFFSET",
  "CONSUME_FROM_MAX_OFFSET"
])

/**
 * A consumer group this client belongs to.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ConsumerData = Schema.Struct({
  groupName: Schema.String,
  consumeType: ConsumeType,
  messageModel: MessageModel,
  consumeFromWhere: ConsumeFromWhere,
  subscriptionDataSet: Schema.Array(SubscriptionData),
  unitMode: Schema.Boolean
})

/**
 * @since 0.1.0
 * @category models
 */
export type ConsumerData = typeof ConsumerData.Type

/**
 * A producer group this client belongs to.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProducerData = Schema.Struct({
  groupName: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export type ProducerData = typeof ProducerData.Type

/**
 * The HEART_BEAT body. `clientID` is Java's `clientIP@instanceName`; a `heartbeatFingerprint` of
 * 0 asks for the classic heartbeat.
 *
 * @since 0.1.0
 * @category schemas
 */
export const HeartbeatData = Schema.Struct({
  clientID: Schema.String,
  producerDataSet: Schema.Array(ProducerData),
  consumerDataSet: Schema.Array(ConsumerData),
  heartbeatFingerprint: Schema.optionalKey(Schema.Int),
  withoutSub: Schema.optionalKey(Schema.Boolean)
})

/**
 * @since 0.1.0
 * @category models
 */
export type HeartbeatData = typeof HeartbeatData.Type

const encodeJson = Schema.encodeEffect(Schema.fromJsonString(HeartbeatData))
const utf8 = new TextEncoder()

/**
 * The JSON body of a HEART_BEAT request. Fails with {@link InvalidRequest} when a number is not an
 * integer.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (data: HeartbeatData): Effect.Effect<Uint8Array, InvalidRequest> =>
  encodeJson(data).pipe(
    Effect.map((text) => utf8.encode(text)),
    Effect.mapError((error) => new InvalidRequest({ operation: "heartbeat", detail: error.message.replace(/\s*\n\s*/g, " ") }))
  )

/**
 * Reads a HEART_BEAT body (what a broker does).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode: (body: Uint8Array | string | undefined) => Effect.Effect<HeartbeatData, BodyDecodeError> =
  FastJson.decodeBody(HeartbeatData, "HeartbeatData")

/**
 * Java's `String.hashCode()`: `h = 31·h + c` over UTF-16 code units, wrapping at 32 bits. Brokers
 * filter tags by this hash.
 *
 * @since 0.1.0
 * @category constructors
 */
export const javaHashCode = (text: string): number => {
  let h = 0
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0
  return h
}

/**
 * The tags of a tag expression: `"*"` or empty means all (no tags); otherwise split on `||`,
 * trimmed, empty parts dropped.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parseTags = (expression: string): ReadonlyArray<string> => {
  const trimmed = expression.trim()
  if (trimmed === "" || trimmed === SUB_ALL) return []
  return trimmed.split("||").map((tag) => tag.trim()).filter((tag) => tag.length > 0)
}

/**
 * A TAG subscription to `topic`, built as the Java client builds it: `tagsSet` from the expression
 * and `codeSet` holding each tag's {@link javaHashCode}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const subscription = (topic: string, expression: string, subVersion: number): SubscriptionData => {
  const tags = parseTags(expression)
  return {
    classFilterMode: false,
    topic,
    subString: tags.length === 0 ? SUB_ALL : expression.trim(),
    tagsSet: tags,
    codeSet: tags.map(javaHashCode),
    subVersion,
    expressionType: "TAG"
  }
}

/**
 * Whether a message with `tag` matches a TAG expression (exact tag comparison, as the Java client
 * re-checks after the broker's hash filter).
 *
 * @since 0.1.0
 * @category guards
 */
export const matchesTag = (expression: string, tag: string | undefined): boolean => {
  const tags = parseTags(expression)
  return tags.length === 0 || (tag !== undefined && tags.includes(tag))
}
