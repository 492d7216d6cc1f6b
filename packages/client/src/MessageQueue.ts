/**
 * One queue of a topic on one broker group (Java's `MessageQueue`): what a producer sends to, a
 * consumer pulls from, offsets are stored for and a rebalance hands out.
 *
 * - {@link Order} is Java's `compareTo`: topic, then broker name (both by UTF-16 code unit, as
 *   Java's `String.compareTo` and JavaScript's `<`), then the numeric queue id. Queue allocation
 *   sorts by it, so it must match Java's exactly for mixed-language consumer groups.
 * - {@link key} is a string naming the queue, for maps and logs; {@link fromKey} reads it back.
 * - {@link MessageQueueJson} is the JSON shape brokers use in bodies
 *   (`{"brokerName":…,"queueId":…,"topic":…}`).
 *
 * Pure values and functions; no I/O.
 *
 * @since 0.1.0
 */
import { Equivalence as Eq, Order as Ord, Schema } from "effect"

/**
 * @since 0.1.0
 * @category models
 */
export interface MessageQueue {
  readonly topic: string
  readonly brokerName: string
  readonly queueId: number
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (topic: string, brokerName: string, queueId: number): MessageQueue => ({ topic, brokerName, queueId })

/**
 * Java's `MessageQueue.compareTo`: topic, broker name, then queue id.
 *
 * @since 0.1.0
 * @category instances
 */
export const Order: Ord.Order<MessageQueue> = Ord.combine(
  Ord.combine(
    Ord.mapInput(Ord.String, (queue: MessageQueue) => queue.topic),
    Ord.mapInput(Ord.String, (queue: MessageQueue) => queue.brokerName)
  ),
  Ord.mapInput(Ord.Number, (queue: MessageQueue) => queue.queueId)
)

/**
 * Two queues are the same queue when topic, broker name and queue id are equal.
 *
 * @since 0.1.0
 * @category instances
 */
export const Equivalence: Eq.Equivalence<MessageQueue> = (a, b) =>
  a.queueId === b.queueId && a.brokerName === b.brokerName && a.topic === b.topic

/**
 * `topic@brokerName@queueId`. Unambiguous: a topic cannot contain `@` and the queue id is a
 * number, so the first and the last `@` delimit the broker name whatever it contains.
 *
 * @since 0.1.0
 * @category conversions
 */
export const key = (queue: MessageQueue): string => `${queue.topic}@${queue.brokerName}@${queue.queueId}`

/**
 * Reads a {@link key} back; `undefined` when `text` is not one.
 *
 * @since 0.1.0
 * @category conversions
 */
export const fromKey = (text: string): MessageQueue | undefined => {
  const first = text.indexOf("@")
  const last = text.lastIndexOf("@")
  if (first <= 0 || last <= first) return undefined
  const digits = text.slice(last + 1)
  if (!/^\d{1,10}$/.test(digits)) return undefined
  return make(text.slice(0, first), text.slice(first + 1, last), Number(digits))
}

/**
 * Sorts queues by {@link Order} (a new array).
 *
 * @since 0.1.0
 * @category combinators
 */
export const sort = (queues: Iterable<MessageQueue>): Array<MessageQueue> => Array.from(queues).sort(Order)

/**
 * The JSON form brokers read and write (`LockBatchRequestBody.mqSet`, `ResetOffsetBody` keys, …).
 *
 * @since 0.1.0
 * @category schemas
 */
export const MessageQueueJson = Schema.Struct({
  topic: Schema.String,
  brokerName: Schema.String,
  queueId: Schema.Int
})
