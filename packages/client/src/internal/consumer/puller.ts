/**
 * The pull loop of one queue (Java's `pullMessage` + `PullCallback`): one outstanding long-poll
 * pull at a time, from the queue's next offset, while the queue is active.
 *
 * Before each pull: a paused consumer (offset reset in progress) waits 1 s; a queue over its
 * flow-control limits waits 50 ms (that is the backpressure: the user's pace sets the pull pace);
 * an orderly queue of a clustering consumer waits 1 s until it holds the broker lock. The pull
 * carries the in-memory committed offset (clustering), which the broker stores as well. Each answer
 * is handled as {@link PullOutcome} describes; new messages go into the process queue, then to the
 * user (concurrently: one item each, through the bounded hand-off queue; orderly: the queue's
 * consumer fiber is woken).
 *
 * @internal
 */
import { Clock, Effect, FiberSet, Latch, Result } from "effect"
import type * as StoredMessage from "../../StoredMessage.ts"
import type { Ctx } from "./context.ts"
import * as Delivery from "./delivery.ts"
import * as FlowControl from "./flowControl.ts"
import * as PullOutcome from "./pullOutcome.ts"
import type { QueueEntry } from "./queueEntry.ts"
import { originalTopic } from "./subscription.ts"

/** @internal: Java waits this long after OFFSET_ILLEGAL before correcting the offset and re-adding the queue. */
export const OFFSET_ILLEGAL_DELAY_MILLIS = 10_000

/** @internal: an orderly queue without its broker lock re-checks this often. */
export const NOT_LOCKED_DELAY_MILLIS = 1_000

/** @internal: the pull loop of `entry`; returns when the queue stops being active. */
export const run = (ctx: Ctx, entry: QueueEntry): Effect.Effect<void> =>
  Effect.gen(function*() {
    while (entry.active && !ctx.closing) {
      const wait = yield* waitBeforePull(ctx, entry)
      if (wait > 0) {
        yield* Effect.sleep(wait)
        continue
      }
      const delay = yield* pullOnce(ctx, entry)
      if (delay > 0) yield* Effect.sleep(delay)
    }
  })

const waitBeforePull = (ctx: Ctx, entry: QueueEntry): Effect.Effect<number> =>
  Effect.gen(function*() {
    // Java stamps the pull time before its checks, so a queue held back by flow control is not
    // mistaken for one whose puller died (the rebalance recreates a queue not pulled for 120 s).
    entry.pq.lastPullTimestamp = yield* Clock.currentTimeMillis
    if (ctx.paused) return FlowControl.SUSPENDED_DELAY_MILLIS
    const decision = FlowControl.decide(entry.pq, entry.limits, ctx.config.orderly)
    if (decision._tag === "Wait") return decision.millis
    if (ctx.config.orderly && ctx.config.clustering) {
      const now = yield* Clock.currentTimeMillis
      if (!entry.pq.locked || entry.pq.isLockExpired(now)) return NOT_LOCKED_DELAY_MILLIS
    }
    return 0
  })

const prepare = (ctx: Ctx) => (message: StoredMessage.StoredMessage): StoredMessage.StoredMessage => {
  const topic = originalTopic(ctx.config.group, message)
  return topic === message.topic ? message : { ...message, topic }
}

// One pull and its handling; returns how long to wait before the next one.
const pullOnce = (ctx: Ctx, entry: QueueEntry): Effect.Effect<number> =>
  Effect.gen(function*() {
    const memory = ctx.config.clustering ? ctx.store.readMemory(entry.queue, entry.key) : undefined
    const started = yield* Clock.currentTimeMillis
    const result = yield* Effect.result(ctx.port.pull({
      queue: entry.queue,
      offset: entry.nextOffset,
      subscription: entry.subscription.data,
      commitOffset: memory !== undefined && memory > 0n ? memory : undefined,
      maxMessages: ctx.config.pullBatchSize,
      brokerId: entry.suggestedBrokerId,
      suspendMillis: ctx.config.brokerSuspendMillis
    }))
    const now = yield* Clock.currentTimeMillis
    entry.pq.lastPullTimestamp = now
    if (!entry.active) return 0
    if (Result.isFailure(result)) {
      const outcome = PullOutcome.fromError(result.failure)
      yield* Effect.logDebug(
        `Pull of ${entry.key} for group ${ctx.config.group} failed (${result.failure.message}); retrying in ${outcome.delayMillis} ms`
      )
      return outcome.delayMillis
    }
    entry.suggestedBrokerId = result.success.suggestWhichBrokerId
    const subscription = entry.subscription
    const outcome = PullOutcome.fromResult(
      result.success,
      (message: StoredMessage.StoredMessage) => subscription.accepts(message),
      prepare(ctx),
      (found) => found
    )
    switch (outcome._tag) {
      case "Consume": {
        entry.nextOffset = outcome.nextOffset
        ctx.stats.pulled(entry.queue.topic, outcome.messages.length, now - started, now)
        ctx.metrics.pulled += outcome.messages.length
        const added = entry.pq.put(outcome.messages)
        // Held like any message (the committed offset cannot pass them) until they are in the DLQ;
        // an orderly queue's consumer meets them in order and does the same.
        const broken = entry.pq.put(outcome.undecodable)
        if (!ctx.config.orderly) {
          for (const message of broken) yield* FiberSet.run(ctx.background, Delivery.deadLetter(ctx, entry, message))
        }
        if (ctx.config.orderly) Latch.openUnsafe(entry.ready)
        else yield* Delivery.offer(ctx, entry, added)
        return ctx.config.pullIntervalMillis
      }
      case "Empty": {
        entry.nextOffset = outcome.nextOffset
        if (entry.pq.count === 0) ctx.store.update(entry.queue, outcome.nextOffset, true)
        return 0
      }
      case "OffsetIllegal": {
        yield* offsetIllegal(ctx, entry, outcome.nextOffset)
        return 0
      }
      case "Retry":
        return outcome.delayMillis
    }
  })

// Java's OFFSET_ILLEGAL handling: drop the queue now; after a while persist the broker's offset
// (frozen, so nothing moves it meanwhile), forget the queue, and rebalance to re-add it from there.
const offsetIllegal = (ctx: Ctx, entry: QueueEntry, nextOffset: bigint): Effect.Effect<void> =>
  Effect.gen(function*() {
    yield* Effect.logWarning(
      `The broker says offset ${entry.nextOffset} of ${entry.key} is illegal for group ${ctx.config.group}; ` +
        `moving to ${nextOffset}`
    )
    entry.nextOffset = nextOffset
    entry.drop()
    yield* FiberSet.run(
      ctx.background,
      Effect.gen(function*() {
        yield* Effect.sleep(OFFSET_ILLEGAL_DELAY_MILLIS)
        ctx.store.updateAndFreeze(entry.queue, nextOffset)
        yield* ctx.store.persist(entry.queue).pipe(
          Effect.catch((error) => Effect.logWarning(`Persisting the corrected offset of ${entry.key} failed: ${error.message}`))
        )
        ctx.store.remove(entry.queue)
        if (ctx.entries.get(entry.key) === entry) ctx.entries.delete(entry.key)
        yield* ctx.rebalanceNow
      })
    )
  })
