/**
 * Periodic broker work that sleeps only while it has something to do.
 *
 * A Java broker runs its housekeeping, registration and check-back on fixed-rate timers from start.
 * Here a timer runs only while its work is pending (clients to expire, half messages to check, a
 * registration owed to the name server) and otherwise waits for a nudge. The observable schedule is
 * the same — the task runs every `interval` while there is work — but a test that moves `TestClock`
 * far ahead (`TestClock.setTime` to today, say) wakes an idle broker zero times instead of once per
 * interval for the whole jump, and a busy one only until its work is done.
 */
import { Deferred, Effect, Exit } from "effect"

export interface Timer {
  /** Tells an idle timer that work may be pending. */
  readonly nudge: () => void
  /** Forever: while `active()`, sleep `intervalMillis` then run the task; else wait for a nudge. */
  readonly run: Effect.Effect<never>
}

export const whileActive = (intervalMillis: number, active: () => boolean, task: Effect.Effect<void>): Timer => {
  let signal = Deferred.makeUnsafe<void>()
  const step = Effect.suspend(() => {
    if (active()) return Effect.andThen(Effect.sleep(intervalMillis), task)
    signal = Deferred.makeUnsafe<void>()
    return Deferred.await(signal)
  })
  return {
    nudge: () => Deferred.doneUnsafe(signal, Exit.void),
    run: Effect.forever(step)
  }
}
