/**
 * Handing messages to the user and settling them (concurrent consumption).
 *
 * A puller offers one {@link Item} per new message to the bounded hand-off queue (so a slow user
 * stops the pullers once it is full, and the process-queue thresholds stop them before that).
 * The user claims an item when it takes it: an item whose queue is no longer active is held back
 * (the queue's new owner delivers it). Settling happens once, whichever of ack / nack / abandon /
 * expiry comes first:
 * - **ack**: the message leaves the process queue and the committed offset moves to the lowest
 *   offset still held (never past an unacknowledged message);
 * - **nack** (clustering): CONSUMER_SEND_MSG_BACK, else a copy to `%RETRY%<group>`; once either
 *   succeeds the message counts as consumed (the broker delivers it again later, or to the DLQ);
 *   if both fail it stays held (its offset pinned) and is handed out again locally after 5 s with
 *   its reconsume count raised. Never dropped;
 * - **nack** (broadcasting): dropped with a warning, as Java does — broadcasting has no retry topic;
 * - **abandon** (the user's handler was interrupted): handed out again at once, unchanged;
 * - **dead letter** (a record whose body could not be decoded: it is never handed out): sent to
 *   `%DLQ%<group>` (CONSUMER_SEND_MSG_BACK with delay level −1, else the retry-topic copy) and
 *   released once there, else tried again after 5 s; broadcasting has no DLQ: dropped with an error;
 * - **expiry** (Java's consume timeout, 15 min by default): a message handed out that long ago
 *   and still not settled is sent back with delay level 3 and released, so a stuck handler cannot
 *   pin its queue's offset forever; the handler is not interrupted, so the message may be
 *   consumed twice, as in Java.
 *
 * Settling an item of a dropped queue changes nothing: its offset now belongs to another member.
 *
 * @internal
 */
import { Clock, Effect, FiberSet, Metric, Queue } from "effect"
import type { NackOptions } from "../../Consumer.ts"
import type * as MessageQueue from "../../MessageQueue.ts"
import type * as StoredMessage from "../../StoredMessage.ts"
import { ACK, type Ctx, type Item, nack, type Outcome } from "./context.ts"
import type { SendBackRequest } from "./port.ts"
import type { QueueEntry } from "./queueEntry.ts"
import * as Retry from "./retry.ts"

/** @internal: Java's consume-timeout sweep sends back at most this many messages per queue at a time. */
export const EXPIRE_BATCH = 16

/** @internal: the delay level of a message sent back for consuming too long. */
export const EXPIRED_DELAY_LEVEL = 3

class ConcurrentItem implements Item {
  private done = false
  claimedAt = 0
  readonly ctx: Ctx
  readonly entry: QueueEntry
  readonly message: StoredMessage.StoredMessage

  constructor(ctx: Ctx, entry: QueueEntry, message: StoredMessage.StoredMessage) {
    this.ctx = ctx
    this.entry = entry
    this.message = message
  }

  get queue(): MessageQueue.MessageQueue {
    return this.entry.queue
  }

  claim(): boolean {
    if (this.entry.state !== "active") return false
    this.entry.handedOut()
    this.entry.outstanding.add(this)
    this.claimedAt = this.ctx.clock.currentTimeMillisUnsafe()
    return true
  }

  settle(outcome: Outcome): Effect.Effect<void> {
    // An acknowledgement is settled synchronously: it is the per-message path.
    if (outcome._tag === "Ack") return Effect.sync(() => this.ackUnsafe())
    return Effect.suspend(() => (this.finish() ? settle(this.ctx, this.entry, this.message, outcome, this.claimedAt) : Effect.void))
  }

  get ack(): Effect.Effect<void> {
    return this.settle(ACK)
  }

  // A getter, so that a destructured `nack` still works, without a closure per message.
  get nack(): (options?: NackOptions) => Effect.Effect<void> {
    return (options) => this.settle(nack(options, false))
  }

  ackUnsafe(): void {
    if (!this.finish()) return
    record(this.ctx, this.entry, ACK, this.claimedAt)
    if (this.entry.state !== "dropped") release(this.ctx, this.entry, this.message)
    this.entry.settled()
  }

  get abandon(): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (!this.finish()) return Effect.void
      this.entry.settled()
      return redeliver(this.ctx, this.entry, this.message)
    })
  }

  /** Consume timeout: sent back with delay level 3 and released, unless settled meanwhile. */
  get expire(): Effect.Effect<void> {
    const self = this
    return Effect.gen(function*() {
      if (self.done) return
      const sent = yield* sendBack(self.ctx, request(self.ctx, self.entry, self.message, EXPIRED_DELAY_LEVEL))
      if (!sent || !self.finish()) return
      yield* Effect.logWarning(
        `Message ${self.message.msgId} of ${self.entry.key} was handed out more than ${self.ctx.config.consumeTimeoutMillis} ms ` +
          "ago and not settled; it was sent back for a later retry (its handler is still running)"
      )
      release(self.ctx, self.entry, self.message)
      self.entry.settled()
    })
  }

  // Marks the item settled; false when it already was.
  private finish(): boolean {
    if (this.done) return false
    this.done = true
    this.entry.outstanding.delete(this)
    return true
  }
}

/** @internal: what the consume-timeout sweep needs of a handed-out item. */
export interface Outstanding {
  readonly claimedAt: number
  readonly expire: Effect.Effect<void>
}

/** @internal: the item that hands `message` of `entry` to the user. */
export const item = (ctx: Ctx, entry: QueueEntry, message: StoredMessage.StoredMessage): Item =>
  new ConcurrentItem(ctx, entry, message)

/**
 * @internal: offers the items of newly held messages, all at once when they fit; suspends (once)
 * while the hand-off queue is full. What is left when the queue ends stays held.
 */
export const offer = (
  ctx: Ctx,
  entry: QueueEntry,
  messages: ReadonlyArray<StoredMessage.StoredMessage>
): Effect.Effect<void> =>
  Effect.suspend(() => Effect.asVoid(Queue.offerAll(ctx.handoff, messages.map((message) => item(ctx, entry, message)))))

/** @internal: the message leaves the process queue; the committed offset follows. */
export const release = (ctx: Ctx, entry: QueueEntry, message: StoredMessage.StoredMessage): void => {
  const commit = entry.pq.removeOne(message.queueOffset)
  if (entry.retries.size > 0) entry.retries.delete(message.queueOffset)
  if (commit !== undefined && entry.state !== "dropped") ctx.store.update(entry.queue, commit, true, entry.key)
}

const request = (
  ctx: Ctx,
  entry: QueueEntry,
  message: StoredMessage.StoredMessage,
  delayLevel: number
): SendBackRequest => ({
  message: { ...message, reconsumeTimes: entry.reconsumeTimes(message) },
  brokerName: entry.queue.brokerName,
  originalTopic: message.topic,
  delayLevel,
  maxReconsumeTimes: ctx.config.maxReconsumeTimes
})

// The consume time and the counters of a settled message (read by GET_CONSUMER_RUNNING_INFO and
// the metrics); the counters are plain numbers here, folded into the metrics on the persist tick.
const record = (ctx: Ctx, entry: QueueEntry, outcome: Outcome, claimedAt: number): void => {
  const now = ctx.clock.currentTimeMillisUnsafe()
  entry.pq.lastConsumeTimestamp = now
  ctx.stats.consumed(entry.queue.topic, outcome._tag === "Ack", Math.max(0, now - claimedAt), now)
  if (outcome._tag === "Ack") ctx.metrics.ok++
  else if (outcome._tag !== "Skipped") ctx.metrics.failed++
}

// Every outcome but an acknowledgement (which `acknowledge` settles synchronously).
const settle = (
  ctx: Ctx,
  entry: QueueEntry,
  message: StoredMessage.StoredMessage,
  outcome: Outcome,
  claimedAt: number
): Effect.Effect<void> =>
  Effect.gen(function*() {
    record(ctx, entry, outcome, claimedAt)
    if (outcome._tag !== "Nack" || entry.state === "dropped") {
      entry.settled()
      return
    }
    if (!ctx.config.clustering) {
      yield* Effect.logWarning(
        `Broadcasting consumer of group ${ctx.config.group} dropped message ${message.msgId} that its handler failed: ` +
          "broadcasting has no retry topic (as in Java)"
      )
      release(ctx, entry, message)
      entry.settled()
      return
    }
    const sent = yield* sendBack(ctx, request(ctx, entry, message, outcome.delayLevel))
    if (sent) {
      release(ctx, entry, message)
      entry.settled()
      return
    }
    entry.retries.set(message.queueOffset, entry.reconsumeTimes(message) + 1)
    entry.settled()
    yield* Metric.update(ctx.metrics.retried("local"), 1)
    yield* FiberSet.run(ctx.background, Effect.andThen(Effect.sleep(Retry.LOCAL_RETRY_DELAY_MILLIS), redeliver(ctx, entry, message)))
  })

/**
 * @internal: CONSUMER_SEND_MSG_BACK, else the retry-topic copy; true once either succeeded.
 */
export const sendBack = (ctx: Ctx, back: SendBackRequest): Effect.Effect<boolean> =>
  ctx.port.sendBack(back).pipe(
    Effect.andThen(Metric.update(ctx.metrics.retried("send-back"), 1)),
    Effect.as(true),
    Effect.catch((first) =>
      Effect.logWarning(
        `Sending message ${back.message.msgId} back to broker ${back.brokerName} failed (${first.message}); ` +
          `sending a copy to the retry topic of group ${ctx.config.group} instead`
      ).pipe(
        Effect.andThen(ctx.port.sendRetryCopy(back)),
        Effect.andThen(Metric.update(ctx.metrics.retried("retry-copy"), 1)),
        Effect.as(true),
        Effect.catch((second) =>
          Effect.as(
            Effect.logWarning(
              `The retry copy of message ${back.message.msgId} could not be sent either (${second.message}); ` +
                `it stays held and is consumed again here in ${Retry.LOCAL_RETRY_DELAY_MILLIS} ms`
            ),
            false
          )
        )
      )
    )
  )

// Hands a held message out again, with its local reconsume count, if its queue is still active.
// Never waits for room in the bounded hand-off queue: an interrupted handler abandons its message
// from an uninterruptible finalizer, and when every reader is being interrupted nobody makes room
// (interrupting `run` with a backlog would never return). A full queue takes the item from a
// background fiber of the consumer instead; if the consumer closes first, the message stays held
// below the committed offset and is delivered again by the queue's next owner.
const redeliver = (ctx: Ctx, entry: QueueEntry, message: StoredMessage.StoredMessage): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (entry.state !== "active" || !entry.pq.has(message.queueOffset)) return Effect.void
    const again = item(ctx, entry, { ...message, reconsumeTimes: entry.reconsumeTimes(message) })
    if (Queue.offerUnsafe(ctx.handoff, again)) return Effect.void
    return Effect.asVoid(FiberSet.run(ctx.background, Queue.offer(ctx.handoff, again)))
  })

/** @internal: whether a held message is a record whose content could not be decoded. */
export const isUndecodable = (message: StoredMessage.StoredMessage): message is StoredMessage.UndecodableMessage =>
  "error" in message

/**
 * @internal: sends an undecodable record of `entry` to the DLQ and releases it, or tries again in
 * 5 s while its queue stays active.
 */
export const deadLetter = (ctx: Ctx, entry: QueueEntry, message: StoredMessage.StoredMessage): Effect.Effect<void> =>
  Effect.gen(function*() {
    if (entry.state !== "active" || !entry.pq.has(message.queueOffset)) return
    const reason = isUndecodable(message) ? message.error.message : "undecodable"
    if (!ctx.config.clustering) {
      yield* Effect.logError(`Dropped the record at offset ${message.queueOffset} of ${entry.key}: ${reason} (broadcasting has no DLQ)`)
      release(ctx, entry, message)
      return
    }
    yield* Effect.logError(
      `The record at offset ${message.queueOffset} of ${entry.key} cannot be decoded (${reason}); moving it to %DLQ%${ctx.config.group}`
    )
    if (yield* sendBack(ctx, request(ctx, entry, message, -1))) {
      release(ctx, entry, message)
      return
    }
    yield* Effect.sleep(Retry.LOCAL_RETRY_DELAY_MILLIS)
    yield* deadLetter(ctx, entry, message)
  })

/**
 * @internal: Java's consume-timeout sweep: in every active queue, the oldest handed-out messages
 * (at most {@link EXPIRE_BATCH}) not settled within the consume timeout are expired.
 */
export const expire = (ctx: Ctx): Effect.Effect<void> =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const deadline = now - ctx.config.consumeTimeoutMillis
    for (const entry of [...ctx.entries.values()]) {
      if (!entry.active) continue
      const late = [...entry.outstanding.values()].filter((o) => o.claimedAt <= deadline)
        .sort((a, b) => a.claimedAt - b.claimedAt).slice(0, EXPIRE_BATCH)
      for (const item of late) yield* item.expire
    }
  })
