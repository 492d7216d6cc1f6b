/**
 * Handing messages to the user and settling them (concurrent consumption).
 *
 * A puller offers one {@link Item} per new message to the bounded hand-off queue (so a slow user
 * stops the pullers once it is full, and the process-queue thresholds stop them before that).
 * The user claims an item when it takes it: an item whose queue is no longer active is held back
 * (the queue's new owner delivers it). Settling happens once, whichever of ack / nack / abandon
 * comes first:
 * - **ack**: the message leaves the process queue and the committed offset moves to the lowest
 *   offset still held (never past an unacknowledged message);
 * - **nack** (clustering): CONSUMER_SEND_MSG_BACK, else a copy to `%RETRY%<group>`; once either
 *   succeeds the message counts as consumed (the broker delivers it again later, or to the DLQ);
 *   if both fail it stays held (its offset pinned) and is handed out again locally after 5 s with
 *   its reconsume count raised. Never dropped;
 * - **nack** (broadcasting): dropped with a warning, as Java does — broadcasting has no retry topic;
 * - **abandon** (the user's handler was interrupted): handed out again at once, unchanged.
 *
 * Settling an item of a dropped queue changes nothing: its offset now belongs to another member.
 *
 * @internal
 */
import { Clock, Effect, FiberSet, Queue } from "effect"
import type * as StoredMessage from "../../StoredMessage.ts"
import type { NackOptions } from "../../Consumer.ts"
import { ACK, type Ctx, type Item, nack, type Outcome } from "./context.ts"
import type { SendBackRequest } from "./port.ts"
import type { QueueEntry } from "./queueEntry.ts"
import * as Retry from "./retry.ts"

class ConcurrentItem implements Item {
  private done = false
  private claimedAt = 0
  readonly ctx: Ctx
  readonly entry: QueueEntry
  readonly message: StoredMessage.StoredMessage

  constructor(ctx: Ctx, entry: QueueEntry, message: StoredMessage.StoredMessage) {
    this.ctx = ctx
    this.entry = entry
    this.message = message
  }

  get queue() {
    return this.entry.queue
  }

  get claim(): Effect.Effect<boolean> {
    return Effect.map(Clock.currentTimeMillis, (now) => {
      if (this.entry.state !== "active") return false
      this.entry.handedOut()
      this.claimedAt = now
      return true
    })
  }

  settle = (outcome: Outcome): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (this.done) return Effect.void
      this.done = true
      return settle(this.ctx, this.entry, this.message, outcome, this.claimedAt)
    })

  get ack(): Effect.Effect<void> {
    return this.settle(ACK)
  }

  nack = (options?: NackOptions): Effect.Effect<void> => this.settle(nack(options, false))

  get abandon(): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.done) return Effect.void
      this.done = true
      this.entry.settled()
      return redeliver(this.ctx, this.entry, this.message)
    })
  }
}

/** @internal: the item that hands `message` of `entry` to the user. */
export const item = (ctx: Ctx, entry: QueueEntry, message: StoredMessage.StoredMessage): Item =>
  new ConcurrentItem(ctx, entry, message)

/**
 * @internal: offers the items of newly held messages; suspends while the hand-off queue is full.
 */
export const offer = (ctx: Ctx, entry: QueueEntry, messages: ReadonlyArray<StoredMessage.StoredMessage>) =>
  Effect.forEach(messages, (message) => Queue.offer(ctx.handoff, item(ctx, entry, message)), { discard: true })

/** @internal: the message leaves the process queue; the committed offset follows. */
export const release = (ctx: Ctx, entry: QueueEntry, message: StoredMessage.StoredMessage): void => {
  const commit = entry.pq.remove([message.queueOffset])
  entry.retries.delete(message.queueOffset)
  if (commit !== undefined && entry.state !== "dropped") ctx.store.update(entry.queue, commit, true)
}

const settle = (
  ctx: Ctx,
  entry: QueueEntry,
  message: StoredMessage.StoredMessage,
  outcome: Outcome,
  claimedAt: number
): Effect.Effect<void> =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    entry.pq.lastConsumeTimestamp = now
    ctx.stats.consumed(entry.queue.topic, outcome._tag === "Ack", Math.max(0, now - claimedAt), now)
    if (outcome._tag === "Ack" || outcome._tag === "Skipped" || entry.state === "dropped") {
      if (outcome._tag === "Ack" && entry.state !== "dropped") release(ctx, entry, message)
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
    const request: SendBackRequest = {
      message: { ...message, reconsumeTimes: entry.reconsumeTimes(message) },
      brokerName: entry.queue.brokerName,
      originalTopic: message.topic,
      delayLevel: outcome.delayLevel,
      maxReconsumeTimes: ctx.config.maxReconsumeTimes
    }
    const sent = yield* sendBack(ctx, request)
    if (sent) {
      release(ctx, entry, message)
      entry.settled()
      return
    }
    entry.retries.set(message.queueOffset, entry.reconsumeTimes(message) + 1)
    entry.settled()
    yield* FiberSet.run(ctx.background, Effect.andThen(Effect.sleep(Retry.LOCAL_RETRY_DELAY_MILLIS), redeliver(ctx, entry, message)))
  })

/**
 * @internal: CONSUMER_SEND_MSG_BACK, else the retry-topic copy; true once either succeeded.
 */
export const sendBack = (ctx: Ctx, request: SendBackRequest): Effect.Effect<boolean> =>
  ctx.port.sendBack(request).pipe(
    Effect.as(true),
    Effect.catch((first) =>
      Effect.logWarning(
        `Sending message ${request.message.msgId} back to broker ${request.brokerName} failed (${first.message}); ` +
          `sending a copy to the retry topic of group ${ctx.config.group} instead`
      ).pipe(
        Effect.andThen(ctx.port.sendRetryCopy(request)),
        Effect.as(true),
        Effect.catch((second) =>
          Effect.as(
            Effect.logWarning(
              `The retry copy of message ${request.message.msgId} could not be sent either (${second.message}); ` +
                `it stays held and is consumed again here in ${Retry.LOCAL_RETRY_DELAY_MILLIS} ms`
            ),
            false
          )
        )
      )
    )
  )

// Hands a held message out again, with its local reconsume count, if its queue is still active.
const redeliver = (ctx: Ctx, entry: QueueEntry, message: StoredMessage.StoredMessage): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (entry.state !== "active" || !entry.pq.has(message.queueOffset)) return Effect.void
    const again = { ...message, reconsumeTimes: entry.reconsumeTimes(message) }
    return Effect.asVoid(Queue.offer(ctx.handoff, item(ctx, entry, again)))
  })
