/**
 * Request spans, made only when a tracing backend is installed (see `Tracing.isTraced`).
 *
 * @internal
 */
import type { Fiber } from "effect"
import { Effect } from "effect"
import { isTraced } from "../Tracing.ts"

export { isTraced }

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
