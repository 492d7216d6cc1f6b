/**
 * The body of SEND_BATCH_MESSAGE (320): several messages of one topic in one request, as Java's
 * `MessageDecoder.encodeMessages` writes it, and Java's rules for what may go in a batch.
 *
 * Each element is `totalSize int32 | magic int32 = 0 | bodyCRC int32 = 0 | flag int32 |
 * bodyLength int32 | body | propertiesLength int16 | properties`, big-endian, the elements simply
 * concatenated. Only the flag, the body and the properties travel per element: the broker stores
 * every element with the batch's topic, queue, sysFlag and born timestamp (from the request
 * header), and gives each its own queue offset, consecutive from the first.
 *
 * Pure: bytes in, bytes out. Sending is `Broker.sendBatchMessage`; splitting a large batch into
 * requests under the broker's size limit is the producer's job, not this module's.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { InvalidRequest, MessageDecodeError, MessageEncodeError } from "./ClientError.ts"
import type * as Message from "./Message.ts"
import * as Properties from "./Properties.ts"

/**
 * One message of a batch body.
 *
 * @since 0.1.0
 * @category models
 */
export interface Element {
  readonly flag: number
  readonly body: Uint8Array
  readonly properties: Properties.Properties
}

/** totalSize, magic, bodyCRC, flag, bodyLength; then the body, then propertiesLength (int16). */
const FIXED_BYTES = 4 + 4 + 4 + 4 + 4 + 2

const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder("utf-8")

/**
 * The batch body of `elements`, or why it cannot be written (properties that do not encode, a
 * flag outside 32 bits).
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeSync = (elements: ReadonlyArray<Element>): Uint8Array | MessageEncodeError => {
  const parts: Array<{ readonly element: Element; readonly properties: Uint8Array }> = []
  let total = 0
  for (const [index, element] of elements.entries()) {
    if (!Number.isInteger(element.flag) || element.flag < -0x8000_0000 || element.flag > 0x7fff_ffff) {
      return new MessageEncodeError({ detail: `the flag of batch element ${index} (${element.flag}) is not a 32-bit integer` })
    }
    const text = Properties.encodeSync(element.properties)
    if (typeof text !== "string") {
      return new MessageEncodeError({ detail: `the properties of batch element ${index}: ${text.message}` })
    }
    const properties = utf8Encoder.encode(text)
    parts.push({ element, properties })
    total += FIXED_BYTES + element.body.length + properties.length
  }
  const out = Buffer.alloc(total)
  let at = 0
  for (const { element, properties } of parts) {
    const size = FIXED_BYTES + element.body.length + properties.length
    at = out.writeInt32BE(size, at)
    at = out.writeInt32BE(0, at)
    at = out.writeInt32BE(0, at)
    at = out.writeInt32BE(element.flag | 0, at)
    at = out.writeInt32BE(element.body.length, at)
    out.set(element.body, at)
    at += element.body.length
    at = out.writeInt16BE(properties.length, at)
    out.set(properties, at)
    at += properties.length
  }
  return out
}

/**
 * {@link encodeSync} as an Effect.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (elements: ReadonlyArray<Element>): Effect.Effect<Uint8Array, MessageEncodeError> =>
  Effect.suspend(() => {
    const result = encodeSync(elements)
    return result instanceof MessageEncodeError ? Effect.fail(result) : Effect.succeed(result)
  })

/**
 * The elements of a batch body, or a {@link MessageDecodeError} naming the byte where it stops
 * making sense. The magic code and body CRC are not checked (Java writes both as 0 and does not
 * read them); every length is.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeSync = (body: Uint8Array): ReadonlyArray<Element> | MessageDecodeError => {
  const buffer = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  const out: Array<Element> = []
  let at = 0
  while (at < buffer.length) {
    const fail = (reason: "Truncated" | "BadLength" | "SizeMismatch", detail: string) =>
      new MessageDecodeError({ reason, offset: at, detail })
    if (buffer.length - at < FIXED_BYTES) return fail("Truncated", `${buffer.length - at} bytes left, a batch element needs at least ${FIXED_BYTES}`)
    const size = buffer.readInt32BE(at)
    if (size < FIXED_BYTES || size > buffer.length - at) {
      return fail("BadLength", `element size ${size} does not fit the ${buffer.length - at} bytes left`)
    }
    const flag = buffer.readInt32BE(at + 12)
    const bodyLength = buffer.readInt32BE(at + 16)
    if (bodyLength < 0 || bodyLength > size - FIXED_BYTES) return fail("BadLength", `body length ${bodyLength} in an element of ${size} bytes`)
    const bodyStart = at + 20
    const propertiesLength = buffer.readInt16BE(bodyStart + bodyLength)
    if (propertiesLength < 0 || FIXED_BYTES + bodyLength + propertiesLength !== size) {
      return fail("SizeMismatch", `element size ${size} is not ${FIXED_BYTES} + body ${bodyLength} + properties ${propertiesLength}`)
    }
    const propertiesStart = bodyStart + bodyLength + 2
    out.push({
      flag,
      body: buffer.subarray(bodyStart, bodyStart + bodyLength),
      properties: Properties.decode(utf8Decoder.decode(buffer.subarray(propertiesStart, propertiesStart + propertiesLength)))
    })
    at += size
  }
  return out
}

/**
 * {@link decodeSync} as an Effect.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (body: Uint8Array): Effect.Effect<ReadonlyArray<Element>, MessageDecodeError> =>
  Effect.suspend(() => {
    const result = decodeSync(body)
    return result instanceof MessageDecodeError ? Effect.fail(result) : Effect.succeed(result)
  })

/**
 * The prefix of a consumer group's retry topic, which Java refuses in a batch.
 *
 * @since 0.1.0
 * @category constants
 */
export const RETRY_GROUP_TOPIC_PREFIX = "%RETRY%"

/**
 * Java's rules for the messages of one batch (`MessageBatch.generateFromList`): at least one
 * message; all of one topic, which is not a retry topic; the same `waitStoreMsgOk`; no delay
 * level; and, as for every send here, no empty topic or body. The first broken rule is an
 * {@link InvalidRequest} naming the message.
 *
 * @since 0.1.0
 * @category validation
 */
export const validate = (messages: ReadonlyArray<Message.Message>): Effect.Effect<void, InvalidRequest> =>
  Effect.suspend(() => {
    const invalid = (detail: string) => Effect.fail(new InvalidRequest({ operation: "sendBatchMessage", detail }))
    const first = messages[0]
    if (first === undefined) return invalid("the batch is empty; send at least one message")
    if (first.topic.length === 0) return invalid("the topic is empty")
    if (first.topic.startsWith(RETRY_GROUP_TOPIC_PREFIX)) {
      return invalid(`messages to a retry topic (${first.topic}) cannot be batched; send them one by one`)
    }
    const wait = first.waitStoreMsgOk ?? true
    for (const [index, message] of messages.entries()) {
      if (message.topic !== first.topic) {
        return invalid(`message ${index} is for topic ${JSON.stringify(message.topic)}, message 0 for ` +
          `${JSON.stringify(first.topic)}; a batch holds messages of one topic`)
      }
      if ((message.waitStoreMsgOk ?? true) !== wait) {
        return invalid(`message ${index} differs from message 0 in waitStoreMsgOk; a batch needs one setting for all`)
      }
      if (message.delayLevel !== undefined && message.delayLevel > 0) {
        return invalid(`message ${index} has delay level ${message.delayLevel}; delayed messages cannot be batched`)
      }
      if (message.body.length === 0) {
        return invalid(`the body of message ${index} is empty; RocketMQ cannot store a message without a body`)
      }
    }
    return Effect.void
  })
