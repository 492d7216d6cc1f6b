/**
 * The client's invoke and oneway permits (Java's async and oneway semaphores): a fair counting
 * semaphore whose wait is bounded by the call's timeout.
 *
 * Not Effect's `Semaphore`, for two reasons read from its source: its synchronous try
 * (`takeIfAvailable`, `withPermitsIfAvailable`), which keeps the uncontended call cheap, takes a
 * free permit even while other calls wait — Java's semaphores here are fair, and a steady stream of
 * such tries could starve a waiting call until its timeout; and its interface does not tell how
 * many permits are free or waited for, which the client's diagnostics report (and tests check:
 * every permit comes back). Here `release` hands the permit straight to the oldest waiter and marks
 * it `granted`, so whoever observes the wait ending — success, timeout or interruption — knows
 * exactly whether it owns a permit.
 *
 * @internal
 */
import { Effect, Exit } from "effect"

interface Waiter {
  granted: boolean
  resume: ((effect: Effect.Effect<void>) => void) | undefined
}

/** @internal */
export class Permits {
  readonly total: number
  private free: number
  private readonly waiters = new Set<Waiter>()

  constructor(total: number) {
    this.total = Math.max(1, total)
    this.free = this.total
  }

  /** Takes a permit now if one is free and nobody waits (fair); false otherwise. */
  tryTake(): boolean {
    if (this.free <= 0 || this.waiters.size > 0) return false
    this.free--
    return true
  }

  /** Takes `n` permits now if that many are free and nobody waits (fair); false, taking none, otherwise. */
  tryTakeMany(n: number): boolean {
    if (this.free < n || this.waiters.size > 0) return false
    this.free -= n
    return true
  }

  /** Gives `n` permits back, each as {@link release} does. */
  releaseMany(n: number): void {
    for (let i = 0; i < n; i++) this.release()
  }

  /** Gives a permit back: to the oldest waiter if there is one. */
  release(): void {
    for (const waiter of this.waiters) {
      this.waiters.delete(waiter)
      waiter.granted = true
      waiter.resume?.(Effect.void)
      return
    }
    this.free++
  }

  state(): { readonly total: number; readonly free: number; readonly waiting: number } {
    return { total: this.total, free: this.free, waiting: this.waiters.size }
  }

  /**
   * Runs `use` holding a permit, waiting up to `timeoutMillis` for one; fails with `onTimeout()`
   * when none came. The permit always comes back when `use` ends.
   */
  with<A, E, E2>(timeoutMillis: number, onTimeout: () => E2, use: Effect.Effect<A, E>): Effect.Effect<A, E | E2> {
    return Effect.uninterruptibleMask((restore): Effect.Effect<A, E | E2> => {
      const release = Effect.sync(() => this.release())
      if (this.tryTake()) return restore(use).pipe(Effect.ensuring(release))
      if (!(timeoutMillis > 0)) return Effect.fail(onTimeout())
      const waiter: Waiter = { granted: false, resume: undefined }
      this.waiters.add(waiter)
      const wait = Effect.callback<void>((resume) => {
        if (waiter.granted) return resume(Effect.void)
        waiter.resume = resume
      })
      return Effect.exit(restore(Effect.timeoutOption(wait, timeoutMillis))).pipe(
        Effect.flatMap((exit): Effect.Effect<A, E | E2> => {
          this.waiters.delete(waiter)
          waiter.resume = undefined
          if (waiter.granted) {
            if (Exit.isFailure(exit)) return Effect.andThen(release, Effect.failCause(exit.cause))
            return restore(use).pipe(Effect.ensuring(release))
          }
          if (Exit.isFailure(exit)) return Effect.failCause(exit.cause)
          return Effect.fail(onTimeout())
        })
      )
    })
  }
}
