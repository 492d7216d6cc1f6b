/**
 * A producer's batch: Java's batch rules, each message's own checks, a client id per message, and
 * the split into SEND_BATCH_MESSAGE requests ("frames") whose bodies stay within the size limit —
 * consecutive runs of messages, in order, each as long as the next message still fits. An element
 * takes Java's 22 bytes of framing plus its body and its UTF-8 properties in a batch body.
 *
 * Nothing here does I/O (the ids come from `Message.makeUniqId`, which reads the clock).
 *
 * @internal
 */
import { Effect } from "effect"
import * as Message from "../Message.ts"
import * as MessageBatch from "../MessageBatch.ts"
import { InvalidMessage } from "../ProducerError.ts"
import * as Validation from "./validation.ts"

/** Bytes an element takes in a batch body besides its body and properties. */
export const ELEMENT_OVERHEAD = 22

/**
 * The index ranges `[start, end)` of consecutive elements whose sizes add up to at most `limit`,
 * or the index of an element that alone is over the limit.
 */
export const split = (
  sizes: ReadonlyArray<number>,
  limit: number
): ReadonlyArray<readonly [number, number]> | { readonly tooLarge: number } => {
  const ranges: Array<readonly [number, number]> = []
  let start = 0
  let total = 0
  for (let i = 0; i < sizes.length; i++) {
    const size = sizes[i]!
    if (size > limit) return { tooLarge: i }
    if (total + size > limit) {
      ranges.push([start, i])
      start = i
      total = 0
    }
    total += size
  }
  if (start < sizes.length) ranges.push([start, sizes.length])
  return ranges
}

/** Consecutive messages of a batch sent in one request, with their client ids. */
export interface Frame {
  readonly messages: ReadonlyArray<Message.Message>
  readonly uniqIds: ReadonlyArray<string>
}

const utf8Length = (text: string): number => Buffer.byteLength(text, "utf8")

/** Checks `messages` and splits them into frames of at most `maxMessageSize` bytes. */
export const prepare = (
  messages: ReadonlyArray<Message.Message>,
  maxMessageSize: number
): Effect.Effect<{ readonly frames: ReadonlyArray<Frame>; readonly msgIds: ReadonlyArray<string> }, InvalidMessage> =>
  Effect.gen(function*() {
    const topic = messages[0]?.topic ?? ""
    yield* Effect.mapError(MessageBatch.validate(messages), (error) =>
      new InvalidMessage({ reason: "Batch", topic, detail: error.detail }))
    const msgIds: Array<string> = []
    const sizes: Array<number> = []
    for (const [index, message] of messages.entries()) {
      const invalid = Validation.checkMessage(message, maxMessageSize)
      if (invalid !== undefined) {
        return yield* new InvalidMessage({ reason: invalid.reason, topic, detail: `message ${index}: ${invalid.detail}` })
      }
      const uniqId = yield* Message.makeUniqId
      const properties = Validation.encodedProperties(message, uniqId)
      if (typeof properties !== "string") {
        return yield* new InvalidMessage({ reason: "Properties", topic, detail: `message ${index}: ${properties.detail}` })
      }
      msgIds.push(uniqId)
      sizes.push(ELEMENT_OVERHEAD + message.body.length + utf8Length(properties))
    }
    const ranges = split(sizes, maxMessageSize)
    if ("tooLarge" in ranges) {
      return yield* new InvalidMessage({
        reason: "BodyTooLarge",
        topic,
        detail: `message ${ranges.tooLarge} takes ${sizes[ranges.tooLarge]} bytes in a batch, more than maxMessageSize ` +
          `(${maxMessageSize} bytes); send it on its own or make it smaller`
      })
    }
    const frames = ranges.map(([start, end]) => ({ messages: messages.slice(start, end), uniqIds: msgIds.slice(start, end) }))
    return { frames, msgIds }
  })
