/**
 * Reconnect backoff per address: after a failed connect, an address gets no new attempt until a
 * delay has passed, so that any number of callers to a down peer cause one attempt at a time.
 *
 * The delays are an Effect `Schedule` ({@link schedule}): exponential from `initial` (100 ms),
 * doubling per failure, capped at `max` (5 s), each drawn uniformly from [d/2, d] with Effect's
 * `Random` ("equal jitter": callers that failed together do not come back together, and no delay is
 * below half its nominal value). Each address steps its own copy of the schedule; a successful
 * connect, or a quiet period of twice `max` since the last failure, starts it over.
 *
 * This module only keeps the record: it does not connect, wait or retry. The `ChannelPool` asks
 * {@link ReconnectBackoffShape.blocked} before each connect and reports each outcome.
 *
 * @since 0.1.0
 */
import { Cause, type Clock, Duration, Effect, Random, Schedule } from "effect"
import type { ConnectError } from "./RemotingError.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface ReconnectBackoffOptions {
  /** The first delay. Default 100 ms. */
  readonly initial?: Duration.Input | undefined
  /** The largest delay. Default 5 s. */
  readonly max?: Duration.Input | undefined
}

/**
 * @since 0.1.0
 * @category constants
 */
export const defaults = {
  initial: Duration.millis(100),
  max: Duration.seconds(5)
} as const

const millisOf = (options: ReconnectBackoffOptions | undefined) => {
  const initial = Math.max(1, Duration.toMillis(Duration.fromInputUnsafe(options?.initial ?? defaults.initial)))
  const max = Math.max(initial, Duration.toMillis(Duration.fromInputUnsafe(options?.max ?? defaults.max)))
  return { initial, max }
}

/**
 * The delays between connect attempts to one address: `min(max, initial * 2^n)` for the n-th
 * failure (from 0), each drawn from [d/2, d] and at least 1 ms.
 *
 * @since 0.1.0
 * @category constructors
 */
export const schedule = (options?: ReconnectBackoffOptions | undefined): Schedule.Schedule<Duration.Duration> => {
  const { initial, max } = millisOf(options)
  return Schedule.exponential(Duration.millis(initial), 2).pipe(
    Schedule.modifyDelay(({ duration }) =>
      Effect.map(Random.next, (random) => {
        const nominal = Math.min(max, Duration.toMillis(duration))
        return Duration.millis(Math.max(1, Math.round(nominal / 2 + (nominal / 2) * random)))
      })
    )
  )
}

/**
 * Why an address may not be connected to now.
 *
 * @since 0.1.0
 * @category models
 */
export interface Blocked {
  /** Failed attempts in a row. */
  readonly failures: number
  readonly retryInMillis: number
  readonly lastError: ConnectError
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ReconnectBackoffShape {
  /** The wait still imposed on `key` at `now`; undefined when an attempt is allowed. */
  readonly blocked: (key: string, now: number) => Blocked | undefined
  /** Records a failed attempt to `key`: the next one waits for the schedule's next delay. */
  readonly recordFailure: (key: string, error: ConnectError) => Effect.Effect<void>
  /** Records a successful connect to `key`: the record is dropped and the schedule starts over. */
  readonly recordSuccess: (key: string) => void
  /** Addresses with failures on record, for diagnostics. */
  readonly snapshot: () => ReadonlyArray<FailureRecord>
}

/**
 * An address's failures on record: how many in a row, and when the next attempt is allowed.
 *
 * @since 0.1.0
 * @category models
 */
export interface FailureRecord {
  readonly address: string
  readonly failures: number
  /** On the client's clock (ms). */
  readonly retryAt: number
}

interface Record {
  failures: number
  lastFailureAt: number
  retryAt: number
  lastError: ConnectError | undefined
  readonly step: (now: number, input: unknown) => Effect.Effect<readonly [Duration.Duration, Duration.Duration], unknown>
}

/** Records kept before old ones are pruned (addresses nobody asked for since well after their backoff). */
const PRUNE_ABOVE = 1024

/**
 * A record of connect failures on `clock`, delays from {@link schedule}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (clock: Clock.Clock, options?: ReconnectBackoffOptions | undefined): ReconnectBackoffShape => {
  const { max } = millisOf(options)
  const delays = schedule(options)
  const records = new Map<string, Record>()

  const prune = (now: number) => {
    for (const [key, record] of records) if (record.retryAt < now - 2 * max) records.delete(key)
  }

  const blocked = (key: string, now: number): Blocked | undefined => {
    const record = records.get(key)
    if (record === undefined || record.lastError === undefined || !(record.retryAt > now)) return undefined
    return { failures: record.failures, retryInMillis: record.retryAt - now, lastError: record.lastError }
  }

  const recordFailure = (key: string, error: ConnectError): Effect.Effect<void> =>
    Effect.gen(function*() {
      const now = clock.currentTimeMillisUnsafe()
      let record = records.get(key)
      if (record === undefined || now - record.lastFailureAt > 2 * max) {
        if (records.size >= PRUNE_ABOVE) prune(now)
        record = { failures: 0, lastFailureAt: now, retryAt: now, lastError: undefined, step: yield* Schedule.toStep(delays) }
        records.set(key, record)
      }
      // The schedule never ends; were it to, the last delay (max) would stand.
      const [, delay] = yield* Effect.catchCause(
        record.step(now, error),
        (cause) => Cause.hasInterruptsOnly(cause) ? Effect.failCause(cause) : Effect.succeed([Duration.zero, Duration.millis(max)] as const)
      )
      record.failures++
      record.lastFailureAt = now
      record.retryAt = now + Duration.toMillis(delay)
      record.lastError = error
    }).pipe(Effect.orDie)

  return {
    blocked,
    recordFailure,
    recordSuccess: (key) => {
      records.delete(key)
    },
    snapshot: () =>
      [...records].filter(([, record]) => record.failures > 0).map(([address, record]) => ({
        address,
        failures: record.failures,
        retryAt: record.retryAt
      }))
  }
}
