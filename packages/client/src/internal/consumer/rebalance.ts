/**
 * Rebalance (Java's `RebalanceImpl` for the push consumer): which queues this member owns.
 *
 * A round, for every subscribed topic: the topic's readable queues and, in clustering mode, the
 * group's client ids from a broker of the topic, both sorted, then the allocation strategy gives
 * this member's share (broadcasting: every queue). Then:
 * - a queue no longer in the share (or whose puller has not run for 120 s) **leaves**: it stops
 *   being pulled, its handed-out messages get up to `drainMillis` to be settled, its committed
 *   offset is persisted, and only then is it dropped (orderly: unlocked on the broker; an orderly
 *   queue still consuming stays, locked, until a later round finds it drained);
 * - a queue new to the share is **added**: orderly queues are locked on the broker first (a queue
 *   the broker will not lock is retried in 1 s), its start offset is computed (a failed offset
 *   query skips it this round rather than guess), and its puller starts.
 * When anything changed, the per-queue flow-control limits are recomputed and a heartbeat is
 * sent at once. A failed route or member-list query changes nothing this round.
 *
 * Rounds run one at a time in one fiber ({@link loop}): on start, every 20 s, 1 s after an
 * unbalanced round, and when triggered (NOTIFY_CONSUMER_IDS_CHANGED, OFFSET_ILLEGAL) — never
 * sooner than 1 s after the previous round.
 *
 * @internal
 */
import { Clock, Effect, FiberMap, Latch, Metric, Option, Queue, Result } from "effect"
import * as Allocation from "../../Allocation.ts"
import * as MQ from "../../MessageQueue.ts"
import type * as MessageQueue from "../../MessageQueue.ts"
import type { Ctx } from "./context.ts"
import * as FlowControl from "./flowControl.ts"
import * as Orderly from "./orderly.ts"
import * as Puller from "./puller.ts"
import { QueueEntry } from "./queueEntry.ts"
import * as StartOffset from "./startOffset.ts"
import type { Subscription } from "./subscription.ts"

/** @internal: Java's `minInterval` between rounds. */
export const MIN_INTERVAL_MILLIS = 1_000

const consumeKey = (entry: QueueEntry) => `${entry.key}#consume`

/** @internal: this member's share of `topic`'s queues; `None` when it cannot be known this round. */
export const assignment = (
  ctx: Ctx,
  topic: string
): Effect.Effect<Option.Option<ReadonlyArray<MessageQueue.MessageQueue>>> =>
  Effect.gen(function*() {
    const queues = yield* Effect.result(ctx.port.subscribeQueues(topic))
    if (Result.isFailure(queues)) {
      yield* Effect.logWarning(`Rebalance of group ${ctx.config.group}: no route for topic ${topic} (${queues.failure.message})`)
      return Option.none()
    }
    const all = MQ.sort(queues.success)
    if (!ctx.config.clustering) return Option.some(all)
    const ids = yield* Effect.result(ctx.port.consumerIds(topic))
    if (Result.isFailure(ids)) {
      yield* Effect.logWarning(`Rebalance of group ${ctx.config.group}: member list unavailable (${ids.failure.message})`)
      return Option.none()
    }
    const share = ctx.config.strategy.allocate({
      consumerGroup: ctx.config.group,
      clientId: ctx.port.clientId,
      queues: all,
      clientIds: Allocation.sortClientIds(ids.success)
    })
    if (Result.isFailure(share)) {
      yield* Effect.logWarning(share.failure.message)
      return Option.none()
    }
    return Option.some(share.success)
  })

/**
 * @internal: takes `entry` away from this member: stop pulling, drain, persist, drop (and unlock).
 * Returns false when an orderly queue is still consuming and `force` is not set: it stays, leaving.
 */
export const leave = (ctx: Ctx, entry: QueueEntry, force: boolean): Effect.Effect<boolean> =>
  Effect.gen(function*() {
    if (entry.state === "active") entry.state = "leaving"
    Latch.openUnsafe(entry.ready)
    yield* FiberMap.remove(ctx.queueFibers, entry.key)
    const drained = yield* Effect.timeoutOption(entry.drained.await, ctx.config.drainMillis)
    const locking = ctx.config.orderly && ctx.config.clustering
    if (Option.isNone(drained) && locking && !force) return false
    entry.drop()
    if (ctx.entries.get(entry.key) === entry) ctx.entries.delete(entry.key)
    yield* FiberMap.remove(ctx.queueFibers, consumeKey(entry))
    yield* ctx.store.persist(entry.queue).pipe(
      Effect.catch((error) => Effect.logWarning(`Persisting the offset of ${entry.key} failed: ${error.message}`))
    )
    ctx.store.remove(entry.queue)
    if (locking) {
      yield* ctx.port.unlock(entry.queue.brokerName, [entry.queue], true).pipe(
        Effect.catch((error) => Effect.logWarning(`Unlocking ${entry.key} failed: ${error.message}`))
      )
    }
    return true
  })

/** @internal: starts the fibers of a newly owned queue. */
export const start = (ctx: Ctx, entry: QueueEntry): Effect.Effect<void> =>
  Effect.gen(function*() {
    yield* FiberMap.run(ctx.queueFibers, entry.key, Puller.run(ctx, entry))
    if (ctx.config.orderly) yield* FiberMap.run(ctx.queueFibers, consumeKey(entry), Orderly.run(ctx, entry))
  })

const add = (
  ctx: Ctx,
  subscription: Subscription,
  queue: MessageQueue.MessageQueue
): Effect.Effect<"added" | "skipped" | "unbalanced"> =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const entry = new QueueEntry(queue, subscription, 0n, ctx.config.limits, now)
    const locking = ctx.config.orderly && ctx.config.clustering
    if (locking && !(yield* Orderly.lock(ctx, queue.brokerName, [entry]))) return "unbalanced"
    const offset = yield* Effect.result(StartOffset.compute(ctx, queue))
    if (Result.isFailure(offset)) {
      const reason = typeof offset.failure === "string" ? offset.failure : offset.failure.message
      yield* Effect.logWarning(`Not starting ${entry.key} for group ${ctx.config.group} this round: ${reason}`)
      if (locking) yield* Effect.ignore(ctx.port.unlock(queue.brokerName, [queue], true))
      return "skipped"
    }
    entry.nextOffset = offset.success
    ctx.entries.set(entry.key, entry)
    yield* start(ctx, entry)
    return "added"
  })

const applyTopic = (
  ctx: Ctx,
  subscription: Subscription,
  target: ReadonlyArray<MessageQueue.MessageQueue>
): Effect.Effect<{ readonly changed: boolean; readonly balanced: boolean }> =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const keys = new Set(target.map(MQ.key))
    const leaving = [...ctx.entries.values()].filter((entry) =>
      entry.queue.topic === subscription.topic && entry.active && (!keys.has(entry.key) || entry.pq.isPullExpired(now))
    )
    const left = yield* Effect.forEach(leaving, (entry) => leave(ctx, entry, false), { concurrency: "unbounded" })
    let changed = left.some((removed) => removed)
    let balanced = left.every((removed) => removed)
    for (const queue of target) {
      if (ctx.entries.has(MQ.key(queue))) continue
      const added = yield* add(ctx, subscription, queue)
      if (added === "added") changed = true
      if (added === "unbalanced") balanced = false
    }
    return { changed, balanced }
  })

// Java's `messageQueueChanged`: topic limits are split over the topic's queues again.
const recomputeLimits = (ctx: Ctx): void => {
  const perTopic = new Map<string, number>()
  for (const entry of ctx.entries.values()) {
    if (entry.active) perTopic.set(entry.queue.topic, (perTopic.get(entry.queue.topic) ?? 0) + 1)
  }
  for (const entry of ctx.entries.values()) {
    entry.limits = FlowControl.forQueue(ctx.config.limits, perTopic.get(entry.queue.topic) ?? 1)
  }
}

/** @internal: one round over every subscribed topic; true when the result is balanced. */
export const round = (ctx: Ctx): Effect.Effect<boolean> =>
  Effect.gen(function*() {
    const lingering = [...ctx.entries.values()].filter((entry) => entry.state === "leaving")
    const finished = yield* Effect.forEach(lingering, (entry) => leave(ctx, entry, false), { concurrency: "unbounded" })
    let balanced = finished.every((removed) => removed)
    let changed = false
    for (const subscription of ctx.config.subscriptions) {
      if (ctx.closing) return balanced
      const target = yield* assignment(ctx, subscription.topic)
      if (Option.isNone(target)) continue
      const result = yield* applyTopic(ctx, subscription, target.value)
      changed = changed || result.changed
      balanced = balanced && result.balanced
    }
    yield* Metric.update(ctx.metrics.rebalanced(changed), 1)
    if (changed) {
      recomputeLimits(ctx)
      yield* ctx.port.heartbeatNow
    }
    return balanced
  })

/** @internal: rounds, one at a time, until the consumer closes. */
export const loop = (ctx: Ctx, trigger: Queue.Queue<void>): Effect.Effect<void> =>
  Effect.gen(function*() {
    while (!ctx.closing) {
      const balanced = yield* round(ctx).pipe(
        Effect.catchCause((cause) => Effect.as(Effect.logError(`Rebalance of group ${ctx.config.group} failed`, cause), false))
      )
      const last = yield* Clock.currentTimeMillis
      yield* Effect.race(
        Queue.take(trigger),
        Effect.sleep(balanced ? ctx.config.rebalanceIntervalMillis : MIN_INTERVAL_MILLIS)
      )
      const elapsed = (yield* Clock.currentTimeMillis) - last
      if (elapsed < MIN_INTERVAL_MILLIS) yield* Effect.sleep(MIN_INTERVAL_MILLIS - elapsed)
    }
  })
