/**
 * The push-consumer engine: owns the queues the rebalance assigns, pulls them, holds their
 * messages, hands them to the user through one bounded hand-off queue, and keeps the committed
 * offsets. `Consumer.run` and `Consumer.stream` are two readers of that hand-off queue.
 *
 * Fibers, all in the scope of {@link make}: the rebalance loop, the offset persister (every
 * `persistIntervalMillis`), the lock renewer (orderly clustering, every 20 s), one puller per owned
 * queue (plus one consumer per queue when orderly), and short-lived tasks (local retries, offset
 * corrections).
 *
 * Closing the scope, in order: stop the rebalance and timers; every queue leaves (no more pulls,
 * handed-out messages get `drainMillis` to be settled); every committed offset is persisted
 * (bounded, failures logged); orderly locks are released (bounded); the hand-off queue ends, so
 * readers finish. What was never acknowledged is delivered again to the group — nothing past an
 * unacknowledged message is ever committed.
 *
 * @internal
 */
import { Cause, Clock, Effect, FiberMap, FiberSet, Queue, type Scope } from "effect"
import type * as MessageQueue from "../../MessageQueue.ts"
import type { Config, Ctx, Item } from "./context.ts"
import { type Backend, OffsetStore } from "./offsetStore.ts"
import * as Orderly from "./orderly.ts"
import type { Port, PortError } from "./port.ts"
import * as Rebalance from "./rebalance.ts"
import * as Delivery from "./delivery.ts"
import * as Metrics from "./metrics.ts"
import { Stats } from "./stats.ts"

/** @internal: how long closing waits for the final persist and unlock. */
export const CLOSE_TIMEOUT_MILLIS = 3_000

/** @internal */
export interface Engine {
  readonly ctx: Ctx
  /** The next message for the user; fails with `Done` once the consumer closed. */
  readonly take: Effect.Effect<Item, Cause.Done>
  /** The queues this member owns now (sorted keys order not guaranteed). */
  readonly assignment: Effect.Effect<ReadonlyArray<MessageQueue.MessageQueue>>
  /** Persists every owned queue's committed offset now. */
  readonly persist: Effect.Effect<void>
  /** Starts the rebalance loop and the timers (once the group is registered with the brokers). */
  readonly start: Effect.Effect<void>
}

const owned = (ctx: Ctx) => [...ctx.entries.values()].filter((entry) => entry.state !== "dropped")

// The per-message counters reach their metrics here too: every persist tick, and on close.
const persistAll = (ctx: Ctx): Effect.Effect<void> =>
  Effect.suspend(() => ctx.store.persistAll(owned(ctx).map((entry) => entry.queue))).pipe(
    Effect.catch((error: PortError) =>
      Effect.logWarning(`Persisting the offsets of group ${ctx.config.group} failed: ${error.message}`)
    ),
    Effect.ensuring(ctx.metrics.flush)
  )

const every = (initialMillis: number, periodMillis: number, task: Effect.Effect<void>) =>
  Effect.andThen(Effect.sleep(initialMillis), Effect.forever(Effect.andThen(task, Effect.sleep(periodMillis))))

const close = (ctx: Ctx, services: FiberSet.FiberSet) =>
  Effect.gen(function*() {
    ctx.closing = true
    yield* FiberSet.clear(services)
    const entries = owned(ctx)
    for (const entry of entries) if (entry.state === "active") entry.state = "leaving"
    yield* FiberMap.clear(ctx.queueFibers)
    yield* Effect.forEach(
      entries,
      (entry) => Effect.timeoutOption(entry.drained.await, ctx.config.drainMillis),
      { concurrency: "unbounded", discard: true }
    )
    const queues = entries.map((entry) => entry.queue)
    for (const entry of entries) entry.drop()
    yield* ctx.store.persistAll(queues).pipe(
      Effect.timeoutOrElse({
        duration: CLOSE_TIMEOUT_MILLIS,
        orElse: () => Effect.logWarning(`Persisting the offsets of group ${ctx.config.group} on close timed out`)
      }),
      Effect.catch((error: PortError) =>
        Effect.logWarning(`Persisting the offsets of group ${ctx.config.group} on close failed: ${error.message}`)
      )
    )
    if (ctx.config.orderly && ctx.config.clustering) yield* unlockAll(ctx, entries.map((entry) => entry.queue))
    ctx.entries.clear()
    yield* ctx.metrics.flush
    yield* Queue.end(ctx.handoff)
  })

// Java's `unlockAll(false)` on shutdown: synchronous, so the next owner need not wait for expiry.
const unlockAll = (ctx: Ctx, queues: ReadonlyArray<MessageQueue.MessageQueue>) => {
  const byBroker = new Map<string, Array<MessageQueue.MessageQueue>>()
  for (const queue of queues) byBroker.set(queue.brokerName, [...(byBroker.get(queue.brokerName) ?? []), queue])
  return Effect.forEach(
    byBroker,
    ([broker, list]) =>
      ctx.port.unlock(broker, list, false).pipe(
        Effect.timeoutOrElse({ duration: CLOSE_TIMEOUT_MILLIS, orElse: () => Effect.void }),
        Effect.catch((error: PortError) => Effect.logWarning(`Unlocking queues of ${broker} failed: ${error.message}`))
      ),
    { concurrency: "unbounded", discard: true }
  )
}

/**
 * Starts an engine for `config` on `port`, with offsets kept in `backend`.
 *
 * @internal
 */
export const make = (
  config: Config,
  port: Port,
  backend: Backend<PortError>
): Effect.Effect<Engine, never, Scope.Scope> =>
  Effect.gen(function*() {
    const handoff = yield* Queue.bounded<Item, Cause.Done>(config.handoffCapacity)
    const queueFibers = yield* FiberMap.make<string>()
    const background = yield* FiberSet.make()
    const services = yield* FiberSet.make()
    const trigger = yield* Queue.sliding<void>(1)
    const ctx: Ctx = {
      config,
      port,
      store: new OffsetStore(backend),
      handoff,
      entries: new Map(),
      queueFibers,
      background,
      rebalanceNow: Effect.asVoid(Queue.offer(trigger, undefined)),
      stats: new Stats(),
      metrics: Metrics.bind(config.group),
      clock: yield* Clock.Clock,
      paused: false,
      closing: false
    }
    // Added after the fiber collections, so it runs before they interrupt what is left.
    yield* Effect.addFinalizer(() => close(ctx, services))
    const start = Effect.gen(function*() {
      yield* FiberSet.run(services, Rebalance.loop(ctx, trigger))
      yield* FiberSet.run(services, every(config.persistIntervalMillis, config.persistIntervalMillis, persistAll(ctx)))
      if (!config.orderly) {
        const timeout = config.consumeTimeoutMillis
        yield* FiberSet.run(services, every(timeout, timeout, Delivery.expire(ctx)))
      }
      if (config.orderly && config.clustering) {
        yield* FiberSet.run(
          services,
          every(Orderly.LOCK_RENEW_INITIAL_DELAY_MILLIS, Orderly.LOCK_RENEW_INTERVAL_MILLIS, Orderly.renewLocks(ctx))
        )
      }
    })
    // An item not claimed is held back: its queue left this member, whose new owner delivers it.
    const take: Effect.Effect<Item, Cause.Done> = Effect.flatMap(Queue.take(handoff), (item) => item.claim() ? Effect.succeed(item) : take)
    return {
      ctx,
      take,
      assignment: Effect.sync(() => owned(ctx).filter((entry) => entry.active).map((entry) => entry.queue)),
      persist: persistAll(ctx),
      start
    }
  })
