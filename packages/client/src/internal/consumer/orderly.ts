/**
 * Orderly consumption (Java's `ConsumeMessageOrderlyService`): one fiber per queue hands its
 * messages to the user one at a time, in queue order, and hands out the next only after the
 * previous one was settled.
 *
 * - Clustering: a queue is consumed only while this client holds the broker's lock on it
 *   (LOCK_BATCH_MQ); without it the fiber tries to lock it and waits 10 ms (locked) or 3 s (not).
 *   Locks are renewed for every owned queue every 20 s ({@link renewLocks}); a lock not renewed for
 *   30 s counts as lost, and the broker's expires after 60 s.
 * - Success commits: the committed offset moves past the message (not "increase only": the
 *   queue's order is the commit order).
 * - Failure puts the message back and suspends the queue (1 s by default, 10 ms … 30 s), counting
 *   a local reconsume; past `maxReconsumeTimes` (unbounded by default) the message goes to the
 *   DLQ and counts as consumed once sent. A failed message is never skipped otherwise. Java sends
 *   it as a retry-topic copy that the broker diverts to the DLQ (the group holds orderly locks);
 *   this client first asks CONSUMER_SEND_MSG_BACK with delay level −1 (the broker's own "to the
 *   DLQ now"), and falls back to that copy.
 *
 * @internal
 */
import { Clock, Deferred, Effect, Exit, Latch, Queue } from "effect"
import type * as MessageQueue from "../../MessageQueue.ts"
import * as MQ from "../../MessageQueue.ts"
import type * as StoredMessage from "../../StoredMessage.ts"
import { AwaitedItem, type Ctx, type Item, type Outcome } from "./context.ts"
import * as Delivery from "./delivery.ts"
import type { QueueEntry } from "./queueEntry.ts"
import * as Retry from "./retry.ts"

/** @internal: `REBALANCE_LOCK_INTERVAL`. */
export const LOCK_RENEW_INTERVAL_MILLIS = 20_000

/** @internal: the first renewal runs this long after the consumer starts. */
export const LOCK_RENEW_INITIAL_DELAY_MILLIS = 1_000

class OrderlyItem extends AwaitedItem implements Item {
  private handed = false
  readonly entry: QueueEntry
  readonly message: StoredMessage.StoredMessage

  constructor(entry: QueueEntry, message: StoredMessage.StoredMessage) {
    super()
    this.entry = entry
    this.message = message
  }

  get queue(): MessageQueue.MessageQueue {
    return this.entry.queue
  }

  claim(): boolean {
    if (!this.entry.active) {
      Deferred.doneUnsafe(this.result, Exit.succeed<Outcome>({ _tag: "Skipped" }))
      return false
    }
    this.handed = true
    this.entry.handedOut()
    return true
  }

  get wasHandedOut(): boolean {
    return this.handed
  }
}

/**
 * LOCK_BATCH_MQ for `entries` (all on one broker): granted queues are marked locked now, the
 * others unlocked. True when every queue was granted; false on any failure (logged).
 *
 * @internal
 */
export const lock = (ctx: Ctx, brokerName: string, entries: ReadonlyArray<QueueEntry>): Effect.Effect<boolean> =>
  ctx.port.lock(brokerName, entries.map((entry) => entry.queue)).pipe(
    Effect.flatMap((granted) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const keys = new Set(granted.map(MQ.key))
        for (const entry of entries) {
          entry.pq.locked = keys.has(entry.key)
          if (entry.pq.locked) entry.pq.lastLockTimestamp = now
        }
        return keys.size >= entries.length && entries.every((entry) => keys.has(entry.key))
      })
    ),
    Effect.catch((error) =>
      Effect.as(
        Effect.logWarning(`Locking ${entries.length} queue(s) of broker ${brokerName} for group ${ctx.config.group} failed: ${error.message}`),
        false
      )
    )
  )

/** @internal: Java's `lockAll`: renews the lock of every active queue, broker by broker. */
export const renewLocks = (ctx: Ctx): Effect.Effect<void> =>
  Effect.suspend(() => {
    const byBroker = new Map<string, Array<QueueEntry>>()
    for (const entry of ctx.entries.values()) {
      if (!entry.active) continue
      const list = byBroker.get(entry.queue.brokerName) ?? []
      list.push(entry)
      byBroker.set(entry.queue.brokerName, list)
    }
    return Effect.forEach(byBroker, ([broker, entries]) => lock(ctx, broker, entries), { discard: true })
  })

/** @internal: the consume loop of one orderly queue; returns when the queue stops being active. */
export const run = (ctx: Ctx, entry: QueueEntry): Effect.Effect<void> =>
  Effect.gen(function*() {
    while (entry.active && !ctx.closing) {
      if (ctx.config.clustering) {
        const now = yield* Clock.currentTimeMillis
        if (!entry.pq.locked || entry.pq.isLockExpired(now)) {
          const locked = yield* lock(ctx, entry.queue.brokerName, [entry])
          yield* Effect.sleep(locked ? 10 : 3_000)
          continue
        }
      }
      const [message] = entry.pq.take(1)
      if (message !== undefined && Delivery.isUndecodable(message)) {
        yield* undecodable(ctx, entry, message)
        continue
      }
      if (message === undefined) {
        // take() and closing the latch run in one synchronous step, so a puller's open cannot be lost between them.
        Latch.closeUnsafe(entry.ready)
        yield* entry.ready.await
        continue
      }
      yield* consumeOne(ctx, entry, message)
    }
  })

const consumeOne = (ctx: Ctx, entry: QueueEntry, message: StoredMessage.StoredMessage): Effect.Effect<void> =>
  Effect.gen(function*() {
    const reconsumeTimes = entry.reconsumeTimes(message)
    const item = new OrderlyItem(entry, reconsumeTimes === message.reconsumeTimes ? message : { ...message, reconsumeTimes })
    const started = yield* Clock.currentTimeMillis
    yield* Queue.offer(ctx.handoff, item)
    const outcome = yield* Deferred.await(item.result)
    const now = yield* Clock.currentTimeMillis
    entry.pq.lastConsumeTimestamp = now
    if (outcome._tag !== "Skipped") {
      ctx.stats.consumed(entry.queue.topic, outcome._tag === "Ack", now - started, now)
      if (outcome._tag === "Ack") ctx.metrics.ok++
      else ctx.metrics.failed++
    }
    if (outcome._tag === "Ack") {
      commit(ctx, entry, message)
    } else if (outcome._tag === "Skipped") {
      entry.pq.putBack()
    } else if (Retry.orderlyDecision(reconsumeTimes, ctx.config.maxReconsumeTimes) === "dlq" && (yield* toDlq(ctx, entry, item.message))) {
      commit(ctx, entry, message)
    } else {
      entry.retries.set(message.queueOffset, reconsumeTimes + 1)
      entry.pq.putBack()
      if (item.wasHandedOut) entry.settled()
      yield* Effect.sleep(Retry.suspendMillis(outcome.suspendMillis, ctx.config.suspendMillis))
      return
    }
    if (item.wasHandedOut) entry.settled()
  })

// A record whose content could not be decoded goes to the DLQ in its turn (broadcasting: dropped);
// the queue waits in place until it is there.
const undecodable = (ctx: Ctx, entry: QueueEntry, message: StoredMessage.StoredMessage): Effect.Effect<void> =>
  Effect.gen(function*() {
    yield* Effect.logError(`The record at offset ${message.queueOffset} of ${entry.key} cannot be decoded; moving it to the DLQ`)
    if (!ctx.config.clustering || (yield* toDlq(ctx, entry, message))) {
      commit(ctx, entry, message)
      return
    }
    entry.pq.putBack()
    yield* Effect.sleep(ctx.config.suspendMillis)
  })

const commit = (ctx: Ctx, entry: QueueEntry, message: StoredMessage.StoredMessage): void => {
  const offset = entry.pq.commit()
  entry.retries.delete(message.queueOffset)
  if (offset !== undefined && entry.state !== "dropped") ctx.store.update(entry.queue, offset, false)
}

// Past maxReconsumeTimes: send-back with delay level -1 (straight to %DLQ%<group>), else a copy to
// the retry topic with RECONSUME_TIME above the limit, which the broker also moves to the DLQ.
const toDlq = (ctx: Ctx, entry: QueueEntry, message: StoredMessage.StoredMessage): Effect.Effect<boolean> =>
  Delivery.sendBack(ctx, {
    message,
    brokerName: entry.queue.brokerName,
    originalTopic: message.topic,
    delayLevel: -1,
    maxReconsumeTimes: ctx.config.maxReconsumeTimes
  })
