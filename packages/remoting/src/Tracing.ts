/**
 * Whether spans are worth making on a hot path. With Effect's default native tracer nothing can
 * observe a span, and one costs more than the rest of a request: a 4x throughput drop measured with
 * `Effect.withSpan` on the channel (2x with `useSpan`), and more than the rest of a message's
 * handling in the Producer and the Consumer (`Effect.withSpan` captures a stack trace for every span
 * it makes). So the channel, the client and the Producer and Consumer make their per-request and
 * per-message spans only when {@link isTraced} says a tracing backend is installed.
 *
 * @since 0.1.0
 */
import { type Fiber, Tracer } from "effect"

/**
 * True when `fiber` runs with tracing enabled and a tracer other than Effect's native one.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isTraced = (fiber: Fiber.Fiber<unknown, unknown>): boolean => {
  if (!fiber.cache.tracerEnabled) return false
  const tracer = fiber.cache.tracer
  return tracer !== undefined && tracer !== Tracer.nativeTracer
}
