/**
 * One queue this consumer owns: its process queue, where the next pull starts, and how far it is
 * in leaving.
 *
 * States:
 * - `active`: pulled, its messages handed out;
 * - `leaving`: a rebalance gave it away (or the consumer is closing): it is no longer pulled and
 *   messages not yet handed out are held back, but acknowledgements of handed-out messages still
 *   move its committed offset — so the offset persisted when it is dropped includes them
 *   ({@link QueueEntry.drained} tells when none is out);
 * - `dropped`: gone from this consumer; late acknowledgements change nothing (the new owner
 *   re-delivers what was not committed).
 *
 * `delivered` counts messages handed to the user and not yet settled (acknowledged, sent back, or
 * scheduled for a local retry); {@link QueueEntry.drained} is open exactly when it is zero.
 *
 * @internal
 */
import { Latch } from "effect"
import type * as MessageQueue from "../../MessageQueue.ts"
import * as MQ from "../../MessageQueue.ts"
import type * as StoredMessage from "../../StoredMessage.ts"
import type { Outstanding } from "./delivery.ts"
import type * as FlowControl from "./flowControl.ts"
import { ProcessQueue } from "./processQueue.ts"
import type { Subscription } from "./subscription.ts"

/** @internal */
export type State = "active" | "leaving" | "dropped"

/** @internal */
export class QueueEntry {
  readonly queue: MessageQueue.MessageQueue
  readonly key: string
  readonly subscription: Subscription
  readonly pq: ProcessQueue<StoredMessage.StoredMessage>
  state: State = "active"
  nextOffset: bigint
  delivered = 0
  /** Open when no handed-out message is unsettled. */
  readonly drained: Latch.Latch = Latch.makeUnsafe(true)
  /** Orderly: open when the process queue may have messages to consume. */
  readonly ready: Latch.Latch = Latch.makeUnsafe(false)
  /** Concurrent consumption: handed-out messages not settled yet, oldest first. */
  readonly outstanding = new Set<Outstanding>()
  /** Local reconsume counts (orderly retries, failed send-backs), by queue offset. */
  readonly retries = new Map<bigint, number>()
  /** Flow-control limits for this queue (topic limits split over the topic's queues). */
  limits: FlowControl.Limits
  /** The broker id the broker suggested pulling from next (0 = master). */
  suggestedBrokerId = 0

  constructor(
    queue: MessageQueue.MessageQueue,
    subscription: Subscription,
    nextOffset: bigint,
    limits: FlowControl.Limits,
    now: number
  ) {
    this.queue = queue
    this.key = MQ.key(queue)
    this.subscription = subscription
    this.nextOffset = nextOffset
    this.limits = limits
    this.pq = new ProcessQueue(now)
  }

  get active(): boolean {
    return this.state === "active"
  }

  /** A message was handed to the user. */
  handedOut(): void {
    if (this.delivered++ === 0) Latch.closeUnsafe(this.drained)
  }

  /** A handed-out message was settled. */
  settled(): void {
    if (this.delivered > 0 && --this.delivered === 0) Latch.openUnsafe(this.drained)
  }

  /** The reconsume count of the message at `offset`: the stored one, or the local one if higher. */
  reconsumeTimes(message: StoredMessage.StoredMessage): number {
    return Math.max(message.reconsumeTimes, this.retries.get(message.queueOffset) ?? 0)
  }

  drop(): void {
    this.state = "dropped"
    this.pq.dropped = true
    this.retries.clear()
    Latch.openUnsafe(this.ready)
  }
}
