/**
 * Held pulls (Java's `PullRequestHoldService`): a pull that found nothing new and asked to be
 * suspended waits here until a message it would match arrives in its queue at or after the
 * offset it asked for, or until its suspend timeout passes on Effect's `Clock`. Either way the
 * pull then runs once more and answers with what it finds (it cannot be suspended twice).
 *
 * Java checks expiry every 5 s, so a real broker answers an idle pull 15–20 s after it arrived;
 * here it is exactly the suspend timeout.
 */
import { Deferred, Effect, Exit } from "effect"

interface Waiter {
  readonly offset: bigint
  readonly matches: (tagsCode: number) => boolean
  readonly deferred: Deferred.Deferred<void>
}

export interface LongPolling {
  /**
   * Registers a held pull at once (call it in the same synchronous step as the read that found
   * nothing, so no arrival slips between them) and returns the wait: it ends on a matching arrival
   * or after `timeoutMillis`, and unregisters however it ends.
   */
  readonly hold: (
    topic: string,
    queueId: number,
    offset: bigint,
    matches: (tagsCode: number) => boolean,
    timeoutMillis: number
  ) => Effect.Effect<void>
  /** A record with `tagsCode` was stored at `queueOffset` of the queue. */
  readonly arrived: (topic: string, queueId: number, queueOffset: bigint, tagsCode: number) => void
  readonly held: () => number
}

const key = (topic: string, queueId: number) => `${topic}\u0000${queueId}`

export const make = (): LongPolling => {
  const waiters = new Map<string, Set<Waiter>>()
  const wake = (waiter: Waiter) => Deferred.doneUnsafe(waiter.deferred, Exit.void)
  return {
    hold: (topic, queueId, offset, matches, timeoutMillis) => {
      const waiter: Waiter = { offset, matches, deferred: Deferred.makeUnsafe<void>() }
      const k = key(topic, queueId)
      const set = waiters.get(k) ?? new Set()
      set.add(waiter)
      waiters.set(k, set)
      return Deferred.await(waiter.deferred).pipe(
        Effect.timeoutOption(timeoutMillis),
        Effect.asVoid,
        Effect.ensuring(Effect.sync(() => {
          set.delete(waiter)
          if (set.size === 0 && waiters.get(k) === set) waiters.delete(k)
        }))
      )
    },
    arrived: (topic, queueId, queueOffset, tagsCode) => {
      const set = waiters.get(key(topic, queueId))
      if (set === undefined) return
      for (const waiter of set) {
        if (queueOffset >= waiter.offset && waiter.matches(tagsCode)) wake(waiter)
      }
    },
    held: () => {
      let n = 0
      for (const set of waiters.values()) n += set.size
      return n
    }
  }
}
