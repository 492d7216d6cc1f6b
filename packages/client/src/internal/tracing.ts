/**
 * Spans on the client's per-message paths (`Producer.send`, `Consumer.handle`), made only when a
 * tracing backend is installed. With Effect's default native tracer nothing can observe them, and
 * one costs more than the rest of a message's handling: `Effect.withSpan` captures a stack trace
 * for every span it makes. The test is the remoting layer's (`Tracing.isTraced`).
 *
 * @internal
 */
import { Tracing } from "@effect-rocketmq/remoting"
import { Effect } from "effect"

/** @internal: whether `fiber` runs under a tracing backend (the remoting layer's own test). */
export const isTraced = Tracing.isTraced

/** @internal: `effect` in a span named `name`, when a tracing backend is installed; `attributes` is computed only then. */
export const traced = <A, E, R>(
  name: string,
  attributes: () => Record<string, unknown>,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.withFiber((fiber) => (isTraced(fiber) ? Effect.withSpan(effect, name, { attributes: attributes() }) : effect))
