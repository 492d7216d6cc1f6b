/**
 * Whether spans are worth making.
 *
 * @internal
 */
import type { Fiber } from "effect"
import { Effect, Tracer } from "effect"

/**
 * True when `fiber` runs with a tracing backend installed. Spans cost more than the rest of a
 * request put together (a 4x throughput drop measured with Effect.withSpan on the channel, 2x with
 * useSpan), so the hot paths make them only then: with Effect's default native tracer nothing
 * could observe them.
 *
 * @internal
 */
export const isTraced = (fiber: Fiber.Fiber<unknown, unknown>): boolean => {
  if (!fiber.cache.tracerEnabled) return false
  const tracer = fiber.cache.tracer
  return tracer !== undefined && tracer !== Tracer.nativeTracer
}

/**
 * `effect` in a span named `name` with the peer's address and the request code when `fiber` is
 * traced (see {@link isTraced}); `effect` itself otherwise. `address` is computed only then.
 *
 * @internal
 */
export const spanIfTraced = <A, E, R>(
  fiber: Fiber.Fiber<unknown, unknown>,
  name: string,
  address: () => string,
  code: number,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  isTraced(fiber)
    ? effect.pipe(Effect.withSpan(name, { attributes: { "rocketmq.address": address(), "rocketmq.code": code } }))
    : effect

/**
 * {@link spanIfTraced} for the fiber that runs the returned effect.
 *
 * @internal
 */
export const traced = <A, E, R>(
  name: string,
  address: () => string,
  code: number,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => Effect.withFiber((fiber) => spanIfTraced(fiber, name, address, code, effect))
