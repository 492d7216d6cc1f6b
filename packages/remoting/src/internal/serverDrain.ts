/**
 * The server's graceful shutdown: wait for requests in flight to be answered and their bytes
 * handed to the socket, let the sockets flush, then close every connection — within a deadline on
 * Effect's `Clock`.
 *
 * @internal
 */
import type { Clock } from "effect"
import { Duration, Effect, Fiber, Option } from "effect"
import type { LiveConnection } from "./serverConnection.ts"

/**
 * Change notification for what shutdown waits on (in-flight counts, writes, connections): whoever
 * changes one calls `notify`. Waiters are woken on a microtask so that whoever changed the state
 * finishes its synchronous work (e.g. the send fiber handing its batch to the socket) before the
 * condition is checked again.
 *
 * @internal
 */
export interface Changes {
  readonly notify: () => void
  /** Waits until `predicate` holds, checking it after every change. */
  readonly waitUntil: (predicate: () => boolean) => Effect.Effect<void>
}

/** @internal */
export const makeChanges = (): Changes => {
  let waiters: Array<() => void> = []
  let wakeScheduled = false
  const notify = (): void => {
    if (waiters.length === 0 || wakeScheduled) return
    wakeScheduled = true
    queueMicrotask(() => {
      wakeScheduled = false
      const woken = waiters
      waiters = []
      for (const waiter of woken) waiter()
    })
  }
  const nextChange = Effect.callback<void>((resume) => {
    const waiter = () => resume(Effect.void)
    waiters.push(waiter)
    return Effect.sync(() => {
      const i = waiters.indexOf(waiter)
      if (i >= 0) waiters.splice(i, 1)
    })
  })
  const waitUntil = (predicate: () => boolean): Effect.Effect<void> =>
    Effect.gen(function*() {
      while (!predicate()) yield* nextChange
    })
  return { notify, waitUntil }
}

/** Waits until `predicate` holds or the deadline passes; true when it holds. */
const waitWithin = (changes: Changes, clock: Clock.Clock, deadline: number, predicate: () => boolean) =>
  Effect.suspend(() => {
    if (predicate()) return Effect.succeed(true)
    const remaining = deadline - clock.currentTimeMillisUnsafe()
    if (remaining <= 0) return Effect.succeed(false)
    return changes.waitUntil(predicate).pipe(Effect.timeoutOption(remaining), Effect.map(Option.isSome))
  })

/** Nothing queued, nothing being written, nothing left in the socket's own buffer. */
const flushed = (live: LiveConnection): boolean =>
  live.connection.channel.diagnostics().queued === 0 && live.writing === 0 &&
  (live.raw.destroyed || live.raw.writableLength === 0)

/**
 * Drains and closes every connection within `timeout`; `stopAccepting` runs alongside (it closes
 * the listener). Whatever is not done by the deadline is closed anyway.
 *
 * @internal
 */
export const drain = (options: {
  readonly live: ReadonlyMap<number, LiveConnection>
  readonly inFlight: () => number
  readonly changes: Changes
  readonly timeout: Duration.Duration
  readonly stopAccepting: Effect.Effect<void> | undefined
}): Effect.Effect<void> =>
  Effect.gen(function*() {
    const { live, changes } = options
    const stopFiber = options.stopAccepting === undefined
      ? undefined
      : yield* Effect.forkChild(options.stopAccepting, { startImmediately: true })
    const clock = yield* Effect.clockWith((clock: Clock.Clock) => Effect.succeed(clock))
    const deadline = clock.currentTimeMillisUnsafe() + Duration.toMillis(options.timeout)
    // 1. Requests in flight are answered, their answers queued and handed to the socket.
    yield* waitWithin(changes, clock, deadline, () => {
      if (options.inFlight() > 0) return false
      for (const entry of live.values()) {
        if (entry.connection.channel.diagnostics().queued > 0 || entry.writing > 0) return false
      }
      return true
    })
    // 2. Bytes the socket still buffers are flushed: end() sends them, then FIN.
    const flushing = [...live.values()].filter((entry) => !flushed(entry))
    for (const entry of flushing) entry.raw.end()
    yield* waitWithin(
      changes,
      clock,
      deadline,
      () => flushing.every((entry) => entry.raw.writableFinished || entry.raw.destroyed)
    )
    // 3. Every connection closes; their handlers finish.
    for (const entry of [...live.values()]) yield* entry.connection.channel.close
    yield* changes.waitUntil(() => live.size === 0)
    if (stopFiber !== undefined) yield* Fiber.join(stopFiber)
  })
