/**
 * The table of requests waiting for their response: `opaque -> pending entry`, plus their
 * deadlines in order.
 *
 * Every way a request can end — its response, its deadline, its caller's interruption, the channel
 * closing — goes through one {@link ResponseTableShape.complete}, which removes the entry and moves
 * it to its final stage (`Outbound.finish`) before resuming its caller. Once removed, an opaque completes nothing: each request resolves exactly
 * once, and a duplicate or late response is reported as unmatched.
 *
 * Deadlines are kept in order (`internal/deadlines.ts`: a sorted run for the usual in-order ones,
 * a heap for the rest) and watched by one timer fiber (the channel's) that sleeps on Effect's clock
 * until the earliest one; there is no timer per request. Entries leave the order as soon as they
 * complete, and adding, completing or expiring one costs amortised O(1) for in-order deadlines and
 * O(log n) for the others, whatever the number pending.
 *
 * @since 0.1.0
 */
import { Context, Exit, Layer } from "effect"
import type { RemotingCommand } from "./RemotingCommand.ts"
import type { ChannelError } from "./RemotingError.ts"
import { Deadlines } from "./internal/deadlines.ts"
import type { Outbound } from "./Outbound.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface ResponseTableShape {
  /** Entries pending. */
  readonly size: () => number
  readonly has: (opaque: number) => boolean
  /** Adds an entry (its opaque must not be pending). */
  readonly register: (entry: Outbound) => void
  /**
   * Removes the entry of `opaque` and resumes its caller with `exit`. Returns false — and does
   * nothing — when no entry is pending under that opaque.
   */
  readonly complete: (opaque: number, exit: Exit.Exit<RemotingCommand, ChannelError>) => boolean
  /** The earliest pending deadline, or undefined when nothing is pending. */
  readonly nextDeadline: () => number | undefined
  /** Completes every entry whose deadline is at or before `now` with the error `toError` makes. */
  readonly expireDue: (now: number, toError: (entry: Outbound) => ChannelError) => number
  /** Completes every entry with the error `toError` makes. */
  readonly failAll: (toError: (entry: Outbound) => ChannelError) => number
  /** Called with the entry when it leaves the table (for metrics). */
  readonly onComplete: (listener: (entry: Outbound, exit: Exit.Exit<RemotingCommand, ChannelError>) => void) => void
}

/**
 * @since 0.1.0
 * @category services
 */
export class ResponseTable extends Context.Service<ResponseTable, ResponseTableShape>()(
  "rocketmq/remoting/ResponseTable"
) {}

/**
 * A new, empty table.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeUnsafe = (): ResponseTableShape => {
  const entries = new Map<number, Outbound>()
  const deadlines = new Deadlines<Outbound>()
  let listener: ((entry: Outbound, exit: Exit.Exit<RemotingCommand, ChannelError>) => void) | undefined

  const register = (entry: Outbound) => {
    entries.set(entry.opaque, entry)
    deadlines.add(entry)
  }

  const completeEntry = (entry: Outbound, exit: Exit.Exit<RemotingCommand, ChannelError>) => {
    entries.delete(entry.opaque)
    deadlines.remove(entry)
    entry.finish()
    const resume = entry.resume
    entry.resume = undefined
    listener?.(entry, exit)
    resume?.(exit)
  }

  const complete = (opaque: number, exit: Exit.Exit<RemotingCommand, ChannelError>): boolean => {
    const entry = entries.get(opaque)
    if (entry === undefined) return false
    completeEntry(entry, exit)
    return true
  }

  const expireDue = (now: number, toError: (entry: Outbound) => ChannelError): number => {
    let n = 0
    for (let entry = deadlines.first(); entry !== undefined && entry.deadline <= now; entry = deadlines.first()) {
      completeEntry(entry, Exit.fail(toError(entry)))
      n++
    }
    return n
  }

  const failAll = (toError: (entry: Outbound) => ChannelError): number => {
    const all = [...entries.values()]
    for (const entry of all) {
      if (entries.get(entry.opaque) === entry) {
        completeEntry(entry, Exit.fail(toError(entry)))
      }
    }
    return all.length
  }

  return {
    size: () => entries.size,
    has: (opaque) => entries.has(opaque),
    register,
    complete,
    nextDeadline: () => deadlines.first()?.deadline,
    expireDue,
    failAll,
    onComplete: (l) => {
      listener = l
    }
  }
}

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<ResponseTable> = Layer.sync(ResponseTable, makeUnsafe)
