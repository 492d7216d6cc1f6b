/**
 * One shared channel per peer address, and its lifecycle.
 *
 * Contract:
 *
 * - **Single flight**: the first calls to an address start one connect and all of them wait for
 *   it; a call waits at most its own budget (`deadline`, `waitCap`) while the connect goes on for
 *   the others, bounded by whatever the `connect` function bounds it by. A call takes part in at
 *   most one connect attempt.
 * - **Backoff**: after a failed connect the address is refused until its {@link ReconnectBackoff}
 *   delay has passed; calls meanwhile fail at once with `ConnectBackoff`.
 * - **Eviction is compare-and-remove**: a channel that closed (or that a caller saw fail with
 *   `ChannelClosed`) is dropped at once and never handed out again, but only if it is still the
 *   current one — a failure seen late on an old channel never evicts its replacement.
 * - **Retire** (GO_AWAY): the channel takes no new calls; it closes when the calls on it are done.
 * - **Idle close**: a channel with no call in flight for `idleTimeout` closes. A call that takes
 *   longer than that keeps its channel open.
 * - Closing the pool's scope closes every channel; later calls fail with `RemotingClientShutDown`.
 *
 * The shape is `RcMap`'s (a keyed, lazily acquired, reference-counted, idle-expiring resource),
 * but `RcMap` itself does not fit: its `invalidate` removes whatever the key holds now, not the
 * value the caller saw fail (the compare-and-remove rule above); each lease needs a `Scope` and a
 * finalizer, which a hot path pays on every request; and it keeps no failure record (backoff),
 * generations or in-use counts (diagnostics).
 *
 * Not done here: deciding what a failure means (the client's policy calls {@link
 * ChannelPoolShape.evict} and {@link ChannelPoolShape.retire}), permits, hooks.
 *
 * @since 0.1.0
 */
import { Cause, type Clock, Deferred, Effect, Exit, Fiber, FiberSet, Option, Scope } from "effect"
import type * as Address from "./Address.ts"
import type * as Channel from "./Channel.ts"
import type * as ReconnectBackoff from "./ReconnectBackoff.ts"
import { ConnectBackoff, ConnectError, describeCause, RemotingClientShutDown } from "./RemotingError.ts"

/**
 * An address and its canonical text (`Address.format`), the key channels are shared by.
 *
 * @since 0.1.0
 * @category models
 */
export interface Endpoint {
  readonly key: string
  readonly address: Address.Address
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ChannelPoolOptions {
  /**
   * Opens a channel to `endpoint` in the scope provided (the pool's own, per channel). The n-th
   * channel the pool opens gets `generation` n, from 1. Bound it in time: the pool does not.
   */
  readonly connect: (
    endpoint: Endpoint,
    generation: number
  ) => Effect.Effect<Channel.ChannelShape, ConnectError, Scope.Scope>
  /** Close a channel after this long with no call in flight (ms). Undefined: never. */
  readonly idleTimeoutMillis?: number | undefined
  readonly backoff: ReconnectBackoff.ReconnectBackoffShape
}

/**
 * A channel in use by one call, from {@link ChannelPoolShape.withChannel}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Lease {
  readonly channel: Channel.ChannelShape
  readonly generation: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ChannelState {
  readonly address: string
  readonly generation: number
  readonly state: "connecting" | "open" | "retired"
  /** Calls using it now. */
  readonly inUse: number
  /** Requests waiting for their response on it. */
  readonly pending: number
}

/**
 * What acquiring a channel can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type AcquireError = ConnectError | ConnectBackoff | RemotingClientShutDown

/**
 * @since 0.1.0
 * @category models
 */
export interface ChannelPoolShape {
  /**
   * Runs `use` with the open channel to `endpoint` — connecting, or joining the connect under way,
   * first — and counts the channel in use until `use` ends. Waiting for a connect ends at
   * `deadline` (absolute, on the pool's clock), or after `waitCap` ms, whichever is first.
   */
  readonly withChannel: <A, E>(
    endpoint: Endpoint,
    requestCode: number,
    deadline: number,
    waitCap: number,
    use: (lease: Lease) => Effect.Effect<A, E>
  ) => Effect.Effect<A, E | AcquireError>
  /**
   * The open, healthy channel to `key` if there is one now, counted in use; undefined otherwise
   * (then use {@link withChannel}). Every lease taken this way must be given back with
   * {@link release}, whatever happens: take and release it in one uninterruptible region.
   */
  readonly tryLease: (key: string) => Lease | undefined
  /** Gives back a lease from {@link tryLease}. */
  readonly release: (lease: Lease) => Effect.Effect<void>
  /** Drops the lease's channel if it is still the current one, and closes it now. */
  readonly evict: (lease: Lease) => void
  /** Stops handing out the lease's channel; it closes once no call uses it. */
  readonly retire: (lease: Lease) => void
  /** Closes the current channel to `key`, if any. */
  readonly close: (key: string) => void
  /** Every channel not yet closed, retired ones still finishing calls included. */
  readonly channels: () => ReadonlyArray<ChannelState>
  /** Connect attempts started so far. */
  readonly connectAttempts: () => number
}

interface Entry extends Lease {
  readonly endpoint: Endpoint
  readonly scope: Scope.Closeable
  readonly ready: Deferred.Deferred<Channel.ChannelShape, ConnectError>
  channel: Channel.ChannelShape
  state: "connecting" | "open" | "retired" | "closed"
  inUse: number
  lastUsedAt: number
  monitor: Fiber.Fiber<unknown, unknown> | undefined
}

const budgetSpent = (endpoint: Endpoint, waited: number, share: boolean) =>
  new ConnectError({
    address: endpoint.key,
    reason: "Timeout",
    detail: share
      ? `${waited} ms (this address's share of the call's budget; trying the next address)`
      : `${waited} ms (the rest of the call's budget)`
  })

/** The pool's state and its transitions; {@link make} wires it to a scope. */
class Pool implements ChannelPoolShape {
  private readonly current = new Map<string, Entry>()
  private readonly live = new Set<Entry>()
  private shutDown = false
  private generation = 0
  private attempts = 0

  private readonly options: ChannelPoolOptions
  private readonly clock: Clock.Clock
  private readonly runFork: (effect: Effect.Effect<unknown, unknown>) => Fiber.Fiber<unknown, unknown>

  constructor(
    options: ChannelPoolOptions,
    clock: Clock.Clock,
    runFork: (effect: Effect.Effect<unknown, unknown>) => Fiber.Fiber<unknown, unknown>
  ) {
    this.options = options
    this.clock = clock
    this.runFork = runFork
  }

  private now(): number {
    return this.clock.currentTimeMillisUnsafe()
  }

  // --- lifecycle --------------------------------------------------------------------------------

  /** Marks `entry` closed and forgets it (compare-and-remove); returns the close of its scope. */
  private detach(entry: Entry): Effect.Effect<void> {
    if (entry.state === "closed") return Effect.void
    entry.state = "closed"
    this.live.delete(entry)
    if (this.current.get(entry.endpoint.key) === entry) this.current.delete(entry.endpoint.key)
    const monitor = entry.monitor
    if (monitor !== undefined && monitor !== Fiber.getCurrent()) monitor.interruptUnsafe()
    return Scope.close(entry.scope, Exit.void)
  }

  private closeEntry(entry: Entry): void {
    const close = this.detach(entry)
    if (close !== Effect.void) this.runFork(close)
  }

  readonly evict = (lease: Lease): void => this.closeEntry(lease as Entry)

  readonly retire = (lease: Lease): void => {
    const entry = lease as Entry
    if (entry.state === "closed") return
    if (this.current.get(entry.endpoint.key) === entry) this.current.delete(entry.endpoint.key)
    if (entry.inUse === 0) this.closeEntry(entry)
    else entry.state = "retired"
  }

  readonly close = (key: string): void => {
    const entry = this.current.get(key)
    if (entry !== undefined) this.closeEntry(entry)
  }

  readonly release = (lease: Lease): Effect.Effect<void> => {
    const entry = lease as Entry
    entry.inUse--
    entry.lastUsedAt = this.now()
    return entry.state === "retired" && entry.inUse === 0 ? this.detach(entry) : Effect.void
  }

  readonly tryLease = (key: string): Lease | undefined => {
    const entry = this.current.get(key)
    if (this.shutDown || entry === undefined || entry.state !== "open" || !entry.channel.isHealthyUnsafe()) return undefined
    entry.inUse++
    return entry
  }

  /** Closes the channel once idle for `idleTimeoutMillis`, or forgets it when it closed. */
  private monitor(entry: Entry, channel: Channel.ChannelShape): Effect.Effect<void> {
    const idle = this.options.idleTimeoutMillis
    const self = this
    return Effect.gen(function*() {
      if (idle === undefined) {
        yield* channel.closed
      } else {
        for (;;) {
          const at = self.now()
          const due = entry.lastUsedAt + idle
          if (entry.inUse === 0 && at >= due) break
          const wait = entry.inUse > 0 ? idle : due - at
          if (Option.isSome(yield* Effect.timeoutOption(channel.closed, wait))) break
        }
      }
      yield* Effect.suspend(() => self.detach(entry))
    })
  }

  // --- connecting -------------------------------------------------------------------------------

  private startConnect(endpoint: Endpoint): Entry {
    const entry: Entry = {
      generation: ++this.generation,
      endpoint,
      scope: Scope.makeUnsafe(),
      ready: Deferred.makeUnsafe<Channel.ChannelShape, ConnectError>(),
      channel: undefined as unknown as Channel.ChannelShape,
      state: "connecting",
      inUse: 0,
      lastUsedAt: this.now(),
      monitor: undefined
    }
    this.current.set(endpoint.key, entry)
    this.live.add(entry)
    this.attempts++
    const connect = Effect.suspend(() => this.options.connect(endpoint, entry.generation)).pipe(Scope.provide(entry.scope))
    this.runFork(Effect.onExit(connect, (exit) => this.settle(entry, exit)))
    return entry
  }

  private settle(entry: Entry, exit: Exit.Exit<Channel.ChannelShape, ConnectError>): Effect.Effect<void> {
    return Effect.suspend(() => (Exit.isSuccess(exit) ? this.opened(entry, exit.value) : this.failed(entry, exit.cause)))
  }

  private opened(entry: Entry, channel: Channel.ChannelShape): Effect.Effect<void> {
    const key = entry.endpoint.key
    this.options.backoff.recordSuccess(key)
    if (entry.state !== "connecting" || this.shutDown) {
      // Closed while connecting (close, or the pool shut down): drop the new channel.
      const detail = this.shutDown ? "the client was shut down" : "the channel was closed while connecting"
      void this.detach(entry)
      Deferred.doneUnsafe(entry.ready, Exit.fail(new ConnectError({ address: key, reason: "Failed", detail })))
      return Effect.andThen(channel.close, Scope.close(entry.scope, Exit.void))
    }
    entry.channel = channel
    entry.state = "open"
    entry.lastUsedAt = this.now()
    entry.monitor = this.runFork(this.monitor(entry, channel))
    Deferred.doneUnsafe(entry.ready, Exit.succeed(channel))
    return Effect.void
  }

  private failed(entry: Entry, cause: Cause.Cause<ConnectError>): Effect.Effect<void> {
    const key = entry.endpoint.key
    const typed = Cause.findErrorOption(cause)
    const interrupted = Cause.hasInterruptsOnly(cause)
    const error = typed._tag === "Some"
      ? typed.value
      : new ConnectError({
        address: key,
        reason: "Failed",
        detail: interrupted ? "the client was shut down" : describeCause(cause)
      })
    const record = interrupted || this.shutDown ? Effect.void : this.options.backoff.recordFailure(key, error)
    // Everything is recorded before waiters wake: a woken waiter may run before this returns.
    return Effect.andThen(record, () => {
      const close = this.detach(entry)
      Deferred.doneUnsafe(entry.ready, Exit.fail(error))
      return close
    })
  }

  // --- acquiring --------------------------------------------------------------------------------

  readonly withChannel = <A, E>(
    endpoint: Endpoint,
    requestCode: number,
    deadline: number,
    waitCap: number,
    use: (lease: Lease) => Effect.Effect<A, E>
  ): Effect.Effect<A, E | AcquireError> =>
    Effect.uninterruptibleMask((restore) => {
      const leased = this.tryLease(endpoint.key)
      if (leased !== undefined) return Effect.onExit(restore(use(leased)), () => this.release(leased))
      const startedAt = this.now()
      let connectsStarted = 0
      const spent = () => budgetSpent(endpoint, this.now() - startedAt, waitCap < deadline - startedAt)
      // Waits for `connecting` to settle (its own ConnectError, or the channel), then tries again.
      const join = (connecting: Entry): Effect.Effect<A, E | AcquireError> => {
        const wait = Math.min(deadline - this.now(), waitCap - (this.now() - startedAt))
        if (!(wait > 0)) return Effect.fail(spent())
        return Effect.flatMap(
          restore(Effect.timeoutOption(Deferred.await(connecting.ready), wait)),
          (ready) => Option.isSome(ready) ? attempt() : Effect.fail(spent())
        )
      }
      const attempt = (): Effect.Effect<A, E | AcquireError> => {
        if (this.shutDown) return Effect.fail(new RemotingClientShutDown({ address: endpoint.key, requestCode }))
        const entry = this.current.get(endpoint.key)
        if (entry !== undefined && entry.state === "open") {
          if (!entry.channel.isHealthyUnsafe()) {
            this.closeEntry(entry)
            return attempt()
          }
          entry.inUse++
          return Effect.onExit(restore(use(entry)), () => this.release(entry))
        }
        if (entry !== undefined && entry.state === "connecting") return join(entry)
        const at = this.now()
        const blocked = this.options.backoff.blocked(endpoint.key, at)
        if (blocked !== undefined) return Effect.fail(new ConnectBackoff({ address: endpoint.key, ...blocked }))
        if (connectsStarted >= 2) {
          const detail = "the connection closed again right after it was opened"
          return Effect.fail(new ConnectError({ address: endpoint.key, reason: "Failed", detail }))
        }
        if (!(deadline - at > 0)) return Effect.fail(spent())
        connectsStarted++
        // Join the attempt we started, not whatever the map shows next: a connect that fails
        // before yielding has already settled (and set the backoff) when startConnect returns.
        return join(this.startConnect(endpoint))
      }
      return attempt()
    })

  // --- the pool as a whole ----------------------------------------------------------------------

  readonly shutdown: Effect.Effect<void> = Effect.suspend(() => {
    this.shutDown = true
    const entries = [...this.live]
    for (const entry of entries) {
      entry.state = "closed"
      this.live.delete(entry)
      entry.monitor?.interruptUnsafe()
    }
    this.current.clear()
    return Effect.forEach(entries, (entry) => Scope.close(entry.scope, Exit.void), { discard: true })
  })

  readonly channels = (): ReadonlyArray<ChannelState> =>
    [...this.live].map((entry) => ({
      address: entry.endpoint.key,
      generation: entry.generation,
      state: entry.state === "closed" ? "retired" : entry.state,
      inUse: entry.inUse,
      pending: entry.state === "connecting" ? 0 : entry.channel.diagnostics().pending
    }))

  readonly connectAttempts = (): number => this.attempts
}

/**
 * A pool in the current scope, which owns every channel it opens.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: ChannelPoolOptions): Effect.Effect<ChannelPoolShape, never, Scope.Scope> =>
  Effect.gen(function*() {
    const clock = yield* Effect.clockWith((clock: Clock.Clock) => Effect.succeed(clock))
    const runFork = yield* FiberSet.makeRuntime<never, unknown, unknown>()
    const pool = new Pool(options, clock, runFork)
    yield* Effect.addFinalizer(() => pool.shutdown)
    return pool
  })
