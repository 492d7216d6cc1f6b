/**
 * The consumer's metrics (exported by `Consumer`), bound once per group so that the per-message
 * path adds to plain counters, folded into the metrics on the persist tick and on close.
 *
 * @internal
 */
import { Effect, Metric } from "effect"

/** @internal */
export const pulledTotal = Metric.counter("rocketmq_consumer_pulled_messages_total", {
  description: "Messages pulled and held for the user (after the client's tag check)",
  incremental: true
})

/** @internal */
export const consumedTotal = Metric.counter("rocketmq_consumer_consumed_messages_total", {
  description: "Messages settled by the user, by result (ok: acknowledged; failed: nacked or the handler failed)",
  incremental: true
})

/** @internal */
export const retriesTotal = Metric.counter("rocketmq_consumer_retries_total", {
  description: "Failed messages, by how they were retried (send-back, retry-copy, local)",
  incremental: true
})

/** @internal */
export const rebalancesTotal = Metric.counter("rocketmq_consumer_rebalances_total", {
  description: "Rebalance rounds, by whether the owned queues changed",
  incremental: true
})

/**
 * @internal: the counters of one group. The per-message ones (`pulled`, `ok`, `failed`) are plain
 * numbers added to on the hot path and folded into their metrics by {@link Bound.flush} (every
 * persist tick, and on close). Settling through Effects per message (clock, metric update) was
 * about a tenth of the consumer's CPU in a profile of `npm run bench:consumer`.
 */
export interface Bound {
  pulled: number
  ok: number
  failed: number
  readonly flush: Effect.Effect<void>
  readonly retried: (via: "send-back" | "retry-copy" | "local") => Metric.Metric<number, unknown>
  readonly rebalanced: (changed: boolean) => Metric.Metric<number, unknown>
}

/** @internal */
export const bind = (group: string): Bound => {
  const retried = {
    "send-back": Metric.withAttributes(retriesTotal, { group, via: "send-back" }),
    "retry-copy": Metric.withAttributes(retriesTotal, { group, via: "retry-copy" }),
    local: Metric.withAttributes(retriesTotal, { group, via: "local" })
  }
  const changed = Metric.withAttributes(rebalancesTotal, { group, changed: "true" })
  const unchanged = Metric.withAttributes(rebalancesTotal, { group, changed: "false" })
  const pulled = Metric.withAttributes(pulledTotal, { group })
  const ok = Metric.withAttributes(consumedTotal, { group, result: "ok" })
  const failed = Metric.withAttributes(consumedTotal, { group, result: "failed" })
  const bound: Bound = {
    pulled: 0,
    ok: 0,
    failed: 0,
    flush: Effect.suspend(() => {
      const counts = [bound.pulled, bound.ok, bound.failed] as const
      bound.pulled = 0
      bound.ok = 0
      bound.failed = 0
      return Effect.all([
        counts[0] > 0 ? Metric.update(pulled, counts[0]) : Effect.void,
        counts[1] > 0 ? Metric.update(ok, counts[1]) : Effect.void,
        counts[2] > 0 ? Metric.update(failed, counts[2]) : Effect.void
      ], { discard: true })
    }),
    retried: (via) => retried[via],
    rebalanced: (yes) => (yes ? changed : unchanged)
  }
  return bound
}
