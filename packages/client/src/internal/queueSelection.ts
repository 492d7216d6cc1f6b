/**
 * How a producer picks the queue of each send attempt, as Java's `TopicPublishInfo` and
 * `MQFaultStrategy.selectOneMessageQueue` do: a per-topic counter starting at a random value and
 * advanced once per pick (Java's `ThreadLocalIndex`; JavaScript has one thread), the queue at
 * `counter % size`.
 *
 * - Without latency fault tolerance: the first queue, of at most `size` tries, whose broker is not
 *   the one the previous attempt failed on; else any queue.
 * - With it: on a retry the counter is first reset to a random value; then the first queue whose
 *   broker is available and not the failed one; else one whose broker is reachable and not the
 *   failed one; else any queue.
 *
 * @internal
 */
import type * as MessageQueue from "../MessageQueue.ts"
import type * as FaultStrategy from "./faultStrategy.ts"

/** A topic's counter. */
export interface SendIndex {
  value: number
}

/** A counter starting at `seed` (any 32-bit integer). */
export const makeIndex = (seed: number): SendIndex => ({ value: seed | 0 })

/** Java's `incrementAndGet`: pre-increment, wrapping at 32 bits, then the non-negative part. */
export const next = (index: SendIndex): number => {
  index.value = (index.value + 1) | 0
  return index.value & 0x7fffffff
}

const pickWhere = (
  queues: ReadonlyArray<MessageQueue.MessageQueue>,
  index: SendIndex,
  accept: (queue: MessageQueue.MessageQueue) => boolean
): MessageQueue.MessageQueue | undefined => {
  for (let i = 0; i < queues.length; i++) {
    const queue = queues[next(index) % queues.length]!
    if (accept(queue)) return queue
  }
  return undefined
}

/** Latency fault tolerance for {@link select}. */
export interface LatencyFilter {
  readonly faults: FaultStrategy.FaultTable
  readonly now: number
  /** A retry: reset the counter to this non-negative value first. */
  readonly resetTo: number | undefined
}

/** The queue of one attempt; `queues` must not be empty. */
export const select = (
  queues: ReadonlyArray<MessageQueue.MessageQueue>,
  index: SendIndex,
  lastBrokerName: string | undefined,
  latency?: LatencyFilter | undefined
): MessageQueue.MessageQueue => {
  const notLast = (queue: MessageQueue.MessageQueue) => lastBrokerName === undefined || queue.brokerName !== lastBrokerName
  if (latency === undefined) {
    return pickWhere(queues, index, notLast) ?? queues[next(index) % queues.length]!
  }
  if (latency.resetTo !== undefined) index.value = latency.resetTo
  return pickWhere(queues, index, (q) => notLast(q) && latency.faults.isAvailable(q.brokerName, latency.now)) ??
    pickWhere(queues, index, (q) => notLast(q) && latency.faults.isReachable(q.brokerName)) ??
    queues[next(index) % queues.length]!
}

/**
 * Java's `SelectMessageQueueByHash` with a `String` argument: the queue at
 * `|hashCode(key) % size|`, so a key keeps its queue while the queue list stays the same.
 */
export const byHash = (
  queues: ReadonlyArray<MessageQueue.MessageQueue>,
  hashCode: number
): MessageQueue.MessageQueue => queues[Math.abs(hashCode % queues.length)]!
