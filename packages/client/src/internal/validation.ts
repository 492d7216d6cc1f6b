/**
 * The producer's checks before any I/O, with Java's rules (`Validators.checkTopic`,
 * `checkMessage`, `checkGroup`, `DefaultMQProducerImpl.checkConfig`) and messages that say what to
 * change.
 *
 * Pure: each check returns the error, or `undefined` when the value passes.
 *
 * @internal
 */
import { Cause, Effect, Exit } from "effect"
import * as Compression from "../Compression.ts"
import * as Message from "../Message.ts"
import { InvalidMessage, InvalidProducerOptions } from "../ProducerError.ts"
import * as Properties from "../Properties.ts"

/** Names of topics and groups: `^[%|a-zA-Z0-9_-]+$` (Java's `VALID_PATTERN_STR`). */
const VALID_NAME = /^[%|a-zA-Z0-9_-]+$/

/** Java's `TOPIC_MAX_LENGTH`. */
export const TOPIC_MAX_LENGTH = 127

/** Java's `CHARACTER_MAX_LENGTH` for group names. */
export const GROUP_MAX_LENGTH = 120

/** The group Java keeps for itself (`MixAll.DEFAULT_PRODUCER_GROUP`). */
export const DEFAULT_PRODUCER_GROUP = "DEFAULT_PRODUCER"

/** Topics producers may not send to (Java's `TopicValidator.NOT_ALLOWED_SEND_TOPIC_SET`). */
export const NOT_ALLOWED_SEND_TOPICS: ReadonlySet<string> = new Set([
  "SCHEDULE_TOPIC_XXXX",
  "RMQ_SYS_TRANS_HALF_TOPIC",
  "RMQ_SYS_TRANS_OP_HALF_TOPIC",
  "TRANS_CHECK_MAX_TIME_TOPIC",
  "SELF_TEST_TOPIC",
  "OFFSET_MOVED_EVENT"
])

/** Java's topic rules: not blank, only `[%|a-zA-Z0-9_-]`, at most 127 characters, not reserved. */
export const checkTopic = (topic: string): InvalidMessage | undefined => {
  const fail = (reason: "Topic" | "TopicForbidden", detail: string) => new InvalidMessage({ reason, topic, detail })
  if (topic.trim() === "") return fail("Topic", "the topic is blank; give the topic's name")
  if (!VALID_NAME.test(topic)) {
    return fail("Topic", "the topic may hold only letters, digits and the characters % | _ -; rename it")
  }
  if (topic.length > TOPIC_MAX_LENGTH) {
    return fail("Topic", `the topic is ${topic.length} characters long, more than the ${TOPIC_MAX_LENGTH} allowed; use a shorter name`)
  }
  if (NOT_ALLOWED_SEND_TOPICS.has(topic)) {
    return fail("TopicForbidden", "it is a broker system topic that producers may not send to; send to one of your own topics")
  }
  return undefined
}

/** The delay: a whole delay level, or one delivery time, not both (the broker would drop the time). */
export const checkDelay = (message: Message.Message): InvalidMessage | undefined => {
  const fail = (detail: string) => new InvalidMessage({ reason: "Delay", topic: message.topic, detail })
  const level = message.delayLevel
  if (level !== undefined && (!Number.isInteger(level) || level < 0)) {
    return fail(`delayLevel ${level} is not a whole number; use 1–18 (1 s … 2 h on a default broker), or 0 for none`)
  }
  const timers = (message.deliverAt !== undefined ? 1 : 0) + (message.deliverAfter !== undefined ? 1 : 0)
  if (timers > 1) return fail("deliverAt and deliverAfter are both set; choose one")
  if (timers === 1 && level !== undefined && level > 0) {
    return fail("a delay level and a delivery time are both set (the broker would ignore the time); choose one")
  }
  return undefined
}

/** Java's `checkMessage`: the topic, and a body that is not empty and at most `maxMessageSize`; then the delay. */
export const checkMessage = (message: Message.Message, maxMessageSize: number): InvalidMessage | undefined => {
  const topicError = checkTopic(message.topic)
  if (topicError !== undefined) return topicError
  const size = message.body.length
  if (size === 0) {
    return new InvalidMessage({
      reason: "Body",
      topic: message.topic,
      detail: "the body is empty; RocketMQ stores no message without a body"
    })
  }
  if (size > maxMessageSize) {
    return new InvalidMessage({
      reason: "BodyTooLarge",
      topic: message.topic,
      detail: `the body is ${size} bytes, more than maxMessageSize (${maxMessageSize} bytes); send a smaller body ` +
        "(split it, or store it elsewhere and send a reference), or raise maxMessageSize on both the producer and the brokers"
    })
  }
  return checkDelay(message)
}

/** Java's `checkGroup` and the producer's refusal of `DEFAULT_PRODUCER`. */
export const checkProducerGroup = (group: string): InvalidProducerOptions | undefined => {
  const fail = (detail: string) => new InvalidProducerOptions({ option: "group", detail })
  if (group.trim() === "") return fail("the producer group is blank; name the group")
  if (group.length > GROUP_MAX_LENGTH) {
    return fail(`the group ${JSON.stringify(group)} is longer than ${GROUP_MAX_LENGTH} characters`)
  }
  if (!VALID_NAME.test(group)) {
    return fail(`the group ${JSON.stringify(group)} may hold only letters, digits and the characters % | _ -`)
  }
  if (group === DEFAULT_PRODUCER_GROUP) return fail(`the group may not be ${DEFAULT_PRODUCER_GROUP}; name your own group`)
  return undefined
}

/** A whole number at least `min` (and at most `max`), or the error naming `option`. */
export const checkInteger = (
  option: string,
  value: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER
): InvalidProducerOptions | undefined =>
  Number.isInteger(value) && value >= min && value <= max
    ? undefined
    : new InvalidProducerOptions({ option, detail: `${value} is not a whole number between ${min} and ${max}` })

// A stand-in id of the real one's length, so the size check of the encoded properties holds.
const PLACEHOLDER_UNIQ_ID = "0".repeat(32)

/**
 * The properties string `message` is sent with (`Message.toProperties`, then `Properties.encode`),
 * or why it cannot be made (a system name among the user properties, an empty value, …).
 */
export const encodedProperties = (message: Message.Message, uniqId: string = PLACEHOLDER_UNIQ_ID): string | InvalidMessage => {
  const exit = Effect.runSyncExit(Effect.flatMap(Message.toProperties(message, uniqId), Properties.encode))
  if (Exit.isSuccess(exit)) return exit.value
  const error = Cause.squash(exit.cause) as { readonly detail?: string; readonly message: string }
  return new InvalidMessage({ reason: "Properties", topic: message.topic, detail: error.detail ?? error.message })
}

/** A compression this runtime can do, at a level it takes (ZLIB 0–9, ZSTD 1–22; LZ4 has none). */
export const checkCompression = (type: Compression.CompressionType, level: number): InvalidProducerOptions | undefined => {
  if (!Compression.types.includes(type)) {
    return new InvalidProducerOptions({ option: "compressType", detail: `${String(type)} is not one of ZLIB, LZ4, ZSTD` })
  }
  if (!Compression.isSupported(type)) {
    return new InvalidProducerOptions({ option: "compressType", detail: `${type} needs Node 22.15 or later; use ZLIB or LZ4` })
  }
  if (type === "ZLIB") return checkInteger("compressLevel", level, 0, 9)
  if (type === "ZSTD") return checkInteger("compressLevel", level, 1, 22)
  return undefined
}
