/**
 * The channel's timer fiber: sleeps on Effect's `Clock` until the earliest deadline in the
 * response table and expires what is due. One fiber per channel, no timer per request, and
 * `TestClock` drives every timeout.
 *
 * @internal
 */
import type { Clock } from "effect"
import { Effect } from "effect"
import type { Outbound } from "../Outbound.ts"
import type { ChannelError } from "../RemotingError.ts"
import type { ResponseTableShape } from "../ResponseTable.ts"
import { afterCurrentWork } from "./afterCurrentWork.ts"

/** @internal */
export interface DeadlineTimer {
  /** The timer fiber's body. */
  readonly loop: Effect.Effect<never>
  /** Tells the timer about a new deadline; wakes it only when that is earlier than its next look. */
  readonly schedule: (deadline: number) => void
}

/**
 * A timer over `table` that fails each expired entry with `onExpire(entry)`.
 *
 * @internal
 */
export const make = (
  clock: Clock.Clock,
  table: ResponseTableShape,
  onExpire: (entry: Outbound) => ChannelError
): DeadlineTimer => {
  // `timerAt` is when the timer fiber will look next (Infinity when idle). A new entry wakes it only
  // if its deadline is earlier: with one timeout for every request that is once per idle period.
  let timerAt = Infinity
  let timerWake: ((effect: Effect.Effect<void>) => void) | undefined

  const waitForEarlierDeadline = Effect.callback<void>((resume) => {
    timerWake = resume
    return Effect.sync(() => {
      if (timerWake === resume) timerWake = undefined
    })
  })

  const loop = Effect.gen(function*() {
    for (;;) {
      const now = clock.currentTimeMillisUnsafe()
      table.expireDue(now, onExpire)
      const next = table.nextDeadline()
      timerAt = next ?? Infinity
      if (next === undefined) yield* waitForEarlierDeadline
      else yield* Effect.raceFirst(Effect.sleep(next - now), waitForEarlierDeadline)
    }
  })

  const schedule = (deadline: number) => {
    if (deadline >= timerAt) return
    timerAt = deadline
    const wake = timerWake
    if (wake !== undefined) {
      timerWake = undefined
      afterCurrentWork(() => wake(Effect.void))
    }
  }

  return { loop, schedule }
}
