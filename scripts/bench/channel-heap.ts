/**
 * Heap bytes per pending request, for the channel benchmark (channel.ts): `n` requests waiting on
 * a silent echo server. Needs `node --expose-gc`.
 */
import { Effect, Exit, Fiber, Scope } from "effect"
import * as Channel from "../../packages/remoting/src/Channel.ts"
import { requestFor } from "./channel-wire.ts"

const gc = (globalThis as { gc?: () => void }).gc

/**
 * The whole cost per pending request (caller fibers included), and the caller fibers alone (the
 * same number parked in a bare Effect.callback), whose difference is what the channel itself holds
 * per request. Undefined without `--expose-gc`.
 */
export const heapPerPending = async (port: number, n: number): Promise<{ total: number; fibers: number } | undefined> => {
  if (gc === undefined) return undefined
  const measure = (park: Effect.Effect<unknown>, ready: () => Effect.Effect<boolean>) =>
    Effect.gen(function*() {
      gc()
      const before = process.memoryUsage().heapUsed
      const fiber = yield* Effect.forkChild(
        Effect.forEach(Array.from({ length: n }), () => park, { concurrency: "unbounded", discard: true })
      )
      for (let i = 0; i < 500 && !(yield* ready()); i++) yield* Effect.sleep(20)
      yield* Effect.sleep(200)
      gc()
      const after = process.memoryUsage().heapUsed
      yield* Fiber.interrupt(fiber)
      return (after - before) / n
    })
  return Effect.runPromise(
    Effect.gen(function*() {
      const fibers = yield* measure(
        Effect.callback<void>(() => Effect.sync(() => {})),
        () => Effect.succeed(true)
      )
      const scope = yield* Scope.make()
      const channel = yield* Channel.make({ host: "127.0.0.1", port }).pipe(Scope.provide(scope))
      const request = requestFor(128)
      const total = yield* measure(
        Effect.exit(channel.sendWaitResponse(request, 600_000)),
        () => Effect.map(channel.pending, (p) => p >= n && channel.diagnostics().queued === 0)
      )
      yield* Scope.close(scope, Exit.void)
      return { total, fibers }
    })
  )
}
