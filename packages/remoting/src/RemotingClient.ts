/**
 * The client side of RocketMQ remoting: requests to brokers and name servers over one shared
 * {@link Channel} per peer address.
 *
 * Contract:
 *
 * - **One channel per address**, keyed by the canonical address ({@link Address.format}), shared by
 *   every caller. The first calls to an address start one connect and all of them wait for it
 *   (single flight). A channel that closed (peer FIN/RST, decode error) is dropped at once and never
 *   handed out again; the next call connects anew. Dropping is compare-and-remove: a failure seen
 *   on an old channel never evicts a newer one.
 * - **Idle channels close** after `idleTimeout` (120 s as Java; 0 turns it off) without a call in
 *   flight on them. A call that takes longer than that keeps its channel open.
 * - **Reconnects back off**: after a failed connect the address gets no new attempt until a
 *   jittered, exponentially growing, capped delay has passed; calls made meanwhile fail at once
 *   with {@link ConnectBackoff}. So any number of callers to a down address cause one connect
 *   attempt at a time. A call takes part in at most one connect attempt; it never waits for a
 *   later one.
 * - **One absolute deadline** per call (`timeoutMillis`, default `defaultTimeout`) covers waiting
 *   for a permit, connecting, hooks, enqueueing, writing and waiting for the response: each stage
 *   gets what is left. The connect itself is shared and bounded by `connectTimeout`.
 * - **Name server calls** go to a sticky chosen address and fail over, in round-robin order, to the
 *   next one on connect errors (refused, timeout, backing off). With several addresses left, a call
 *   waits for one address's connect at most its share of the remaining budget, so a dead first name
 *   server cannot use up the budget of a call that can fail over. Only connect errors fail over: once
 *   a request was sent it is not sent again elsewhere.
 * - **GO_AWAY** (1500) from a peer retires its channel (if still the current one: in-flight requests
 *   on it may still be answered, it closes when they are done), connects anew and sends the request
 *   once more with the remaining budget (Java's `enableReconnectForGoAway`); the channel gives it a
 *   fresh opaque. A second GO_AWAY fails with {@link GoAway}. Name server calls retry on the next
 *   name server instead.
 * - **Hooks** run once per call, in registration order with `runLast` hooks (the ACL signer) last:
 *   `beforeRequest` after the channel is ready, just before the request is queued (invoke, oneway
 *   and send); `afterResponse` on every response (not for oneway).
 * - **Permits**, as Java's async and oneway semaphores (65535 each): a call that gets none within
 *   its timeout fails with {@link TooManyRequests}; a permit is held until the response (or
 *   failure) for invoke and until the frame is queued for oneway/send, and always comes back.
 * - **Opaques** are assigned by each channel; successive channels start 2^24 apart, so a retry on
 *   a new connection (and a proxy that sees several of our connections) never sees the same
 *   opaque twice in a row, as with Java's process-wide counter.
 * - **Errors** are typed ({@link RemotingClientError}); each says whether it `isRetryable` and
 *   whether it `mayHaveReachedPeer` (false only when the request provably never left: safe to
 *   send elsewhere); see `RemotingError`.
 *
 * Not done here: Java's close-on-timeout (`clientCloseSocketIfTimeout`; RELIABILITY.md row 11 —
 * a timeout alone leaves a healthy channel open), heartbeats, and probing name servers in the
 * background. Nothing in this module knows about topics or messages.
 *
 * @since 0.1.0
 */
import {
  Cause,
  Config,
  Context,
  Deferred,
  Duration,
  Effect,
  Exit,
  Fiber,
  FiberSet,
  Layer,
  Option,
  Random,
  Result,
  Scope,
  Tracer
} from "effect"
import type { Clock } from "effect"
import * as Address from "./Address.ts"
import * as Channel from "./Channel.ts"
import * as RemotingCommand from "./RemotingCommand.ts"
import {
  type ChannelClosed,
  type ChannelSendRequestFailed,
  ConnectBackoff,
  ConnectError,
  GoAway,
  type InvalidAddress,
  NameServerUnavailable,
  NoNameServerAddress,
  RemotingClientShutDown,
  type RequestTimeout,
  RpcHookFailed,
  TooManyRequests
} from "./RemotingError.ts"
import * as ResponseCode from "./ResponseCode.ts"
import * as RpcHook from "./RpcHook.ts"

// -------------------------------------------------------------------------------------------------
// Models
// -------------------------------------------------------------------------------------------------

/**
 * What a call through the client can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type RemotingClientError =
  | ConnectError
  | ConnectBackoff
  | ChannelSendRequestFailed
  | RequestTimeout
  | ChannelClosed
  | InvalidAddress
  | TooManyRequests
  | GoAway
  | RpcHookFailed
  | NoNameServerAddress
  | NameServerUnavailable
  | RemotingClientShutDown

/**
 * Options of every channel the client opens (the address and the timeouts come from the client).
 *
 * @since 0.1.0
 * @category models
 */
export type ChannelSettings = Omit<Channel.ChannelOptions, "host" | "port" | "connectTimeout" | "defaultTimeout">

/**
 * Opens a channel in the current scope. The default is {@link Channel.make}; tests and custom
 * transports can give their own (the client still bounds it by `connectTimeout`).
 *
 * @since 0.1.0
 * @category models
 */
export type ChannelFactory = (
  options: Channel.ChannelOptions
) => Effect.Effect<Channel.ChannelShape, ConnectError, Scope.Scope>

/**
 * Plain data; every field has a default.
 *
 * @since 0.1.0
 * @category models
 */
export interface RemotingClientOptions {
  /** Name servers: `"host:port;host:port"` (`,` works too) or a list. Default none. */
  readonly nameServerAddresses?: string | ReadonlyArray<string> | undefined
  /** Where name server calls start: a random address (default, as Java) or the first one. */
  readonly nameServerStart?: "random" | "first" | undefined
  /** Bound of one connect attempt. Default 3 seconds (Java `connectTimeoutMillis`). */
  readonly connectTimeout?: Duration.Input | undefined
  /** Budget of calls that give no timeout. Default 3 seconds (Java `mqClientApiTimeout`). */
  readonly defaultTimeout?: Duration.Input | undefined
  /** A channel with no call in flight for this long is closed. Default 120 seconds; 0 never. */
  readonly idleTimeout?: Duration.Input | undefined
  /** Queue capacity, max frame length, serialize type, TLS… of every channel. */
  readonly channel?: ChannelSettings | undefined
  /** RPC hooks, run in this order (hooks with `runLast`, such as the ACL signer, last). */
  readonly hooks?: ReadonlyArray<RpcHook.RpcHook> | undefined
  /** Concurrent `invoke`/`invokeNameServer` calls. Default 65535 (Java `clientAsyncSemaphoreValue`). */
  readonly invokePermits?: number | undefined
  /** Concurrent `invokeOneway`/`send` calls. Default 65535 (Java `clientOnewaySemaphoreValue`). */
  readonly onewayPermits?: number | undefined
  /** Reconnect and retry once on GO_AWAY. Default true (Java `enableReconnectForGoAway`). */
  readonly reconnectOnGoAway?: boolean | undefined
  /** Delay before reconnecting to an address after a failed connect: doubles per failure from
   * `initial` (default 100 ms) up to `max` (default 5 s); each delay is drawn from [d/2, d]. */
  readonly reconnectBackoff?: {
    readonly initial?: Duration.Input | undefined
    readonly max?: Duration.Input | undefined
  } | undefined
  /** Handles requests peers send us (e.g. CHECK_TRANSACTION_STATE). Default: the
   * `Channel.RequestHandler` in context when the client is made. */
  readonly requestHandler?: Channel.RequestHandlerShape | undefined
  /** How channels are opened. Default {@link Channel.make}. */
  readonly channelFactory?: ChannelFactory | undefined
}

/**
 * @since 0.1.0
 * @category constants
 */
export const defaults = {
  connectTimeout: Duration.seconds(3),
  defaultTimeout: Duration.seconds(3),
  idleTimeout: Duration.seconds(120),
  invokePermits: 65535,
  onewayPermits: 65535,
  reconnectBackoffInitial: Duration.millis(100),
  reconnectBackoffMax: Duration.seconds(5)
} as const

/**
 * A snapshot of the client's state, for health checks and tests.
 *
 * @since 0.1.0
 * @category models
 */
export interface RemotingClientDiagnostics {
  /** Every channel not yet closed, including retired ones still finishing calls. */
  readonly channels: ReadonlyArray<{
    readonly address: string
    readonly generation: number
    readonly state: "connecting" | "open" | "retired"
    readonly inUse: number
    readonly pending: number
  }>
  /** Addresses whose last connect attempts failed. */
  readonly backoff: ReadonlyArray<{
    readonly address: string
    readonly failures: number
    readonly retryAt: number
  }>
  /** Connect attempts started since the client was made. */
  readonly connectAttempts: number
  readonly invokePermits: PermitsState
  readonly onewayPermits: PermitsState
  readonly nameServers: ReadonlyArray<string>
  /** The name server calls go to first. */
  readonly chosenNameServer: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface PermitsState {
  readonly total: number
  readonly free: number
  readonly waiting: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RemotingClientShape {
  /** Sends `request` to `address` (`host:port` or `[v6]:port`) and waits for the response. */
  readonly invoke: (
    address: string,
    request: RemotingCommand.RemotingCommand,
    timeoutMillis?: number | undefined
  ) => Effect.Effect<RemotingCommand.RemotingCommand, RemotingClientError>
  /** Sends `request` to `address` with the oneway bit; the timeout bounds connecting and enqueueing. */
  readonly invokeOneway: (
    address: string,
    request: RemotingCommand.RemotingCommand,
    timeoutMillis?: number | undefined
  ) => Effect.Effect<void, RemotingClientError>
  /**
   * Enqueues `command` to `address` as it is (see {@link Channel.ChannelShape.send}): a response
   * keeps its opaque, a request gets a fresh one and no response is awaited.
   */
  readonly send: (
    address: string,
    command: RemotingCommand.RemotingCommand,
    timeoutMillis?: number | undefined
  ) => Effect.Effect<void, RemotingClientError>
  /** Sends `request` to the configured name servers, failing over to the next on connect errors. */
  readonly invokeNameServer: (
    request: RemotingCommand.RemotingCommand,
    timeoutMillis?: number | undefined
  ) => Effect.Effect<RemotingCommand.RemotingCommand, RemotingClientError>
  /** Replaces the name server list (Java `updateNameServerAddressList`). */
  readonly setNameServerAddresses: (addresses: string | ReadonlyArray<string>) => Effect.Effect<void, InvalidAddress>
  /** The name servers, canonical `host:port`. */
  readonly nameServerAddresses: Effect.Effect<ReadonlyArray<string>>
  /** Closes the channel to `address` now, if there is one (its pending requests fail). */
  readonly closeChannel: (address: string) => Effect.Effect<void, InvalidAddress>
  readonly diagnostics: () => RemotingClientDiagnostics
}

/**
 * @since 0.1.0
 * @category services
 */
export class RemotingClient extends Context.Service<RemotingClient, RemotingClientShape>()(
  "rocketmq/remoting/RemotingClient"
) {}

/**
 * A {@link RemotingClientShape} from its three calls, for fakes and adapters: `send` defaults to
 * `invokeOneway`, the name server list is kept in memory, `closeChannel` only checks the address
 * and `diagnostics` reports nothing open.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromCalls = (
  calls: Pick<RemotingClientShape, "invoke" | "invokeOneway" | "invokeNameServer"> & Partial<RemotingClientShape>
): RemotingClientShape => {
  let nameServers: ReadonlyArray<string> = []
  const free: PermitsState = { total: defaults.invokePermits, free: defaults.invokePermits, waiting: 0 }
  return {
    send: (address, command, timeoutMillis) => calls.invokeOneway(address, command, timeoutMillis),
    setNameServerAddresses: (addresses) =>
      Effect.map(Effect.fromResult(Address.parseList(addresses)), (parsed) => {
        nameServers = parsed.map(Address.format)
      }),
    nameServerAddresses: Effect.sync(() => nameServers),
    closeChannel: (address) => Effect.asVoid(Address.parseEffect(address)),
    diagnostics: () => ({
      channels: [],
      backoff: [],
      connectAttempts: 0,
      invokePermits: free,
      onewayPermits: free,
      nameServers,
      chosenNameServer: nameServers[0]
    }),
    ...calls
  }
}

// -------------------------------------------------------------------------------------------------
// Permits
// -------------------------------------------------------------------------------------------------

interface PermitWaiter {
  granted: boolean
  resume: ((effect: Effect.Effect<void>) => void) | undefined
}

/**
 * A counting semaphore whose `release` hands the permit straight to the oldest waiter and marks it
 * `granted`: whoever observes the wait ending — success, timeout or interruption — knows exactly
 * whether it owns a permit, so none is lost to a race between a timeout and a release.
 */
class Permits {
  readonly total: number
  free: number
  readonly waiters = new Set<PermitWaiter>()
  constructor(total: number) {
    this.total = total
    this.free = total
  }
  release(): void {
    for (const waiter of this.waiters) {
      this.waiters.delete(waiter)
      waiter.granted = true
      waiter.resume?.(Effect.void)
      return
    }
    this.free++
  }
  state(): PermitsState {
    return { total: this.total, free: this.free, waiting: this.waiters.size }
  }
}

const withPermit = <A, E, E2>(
  permits: Permits,
  timeoutMillis: number,
  onTimeout: () => E2,
  use: Effect.Effect<A, E>
): Effect.Effect<A, E | E2> =>
  Effect.uninterruptibleMask((restore): Effect.Effect<A, E | E2> => {
    const release = Effect.sync(() => permits.release())
    if (permits.free > 0 && permits.waiters.size === 0) {
      permits.free--
      return restore(use).pipe(Effect.ensuring(release))
    }
    if (!(timeoutMillis > 0)) return Effect.fail(onTimeout())
    const waiter: PermitWaiter = { granted: false, resume: undefined }
    permits.waiters.add(waiter)
    const wait = Effect.callback<void>((resume) => {
      if (waiter.granted) return resume(Effect.void)
      waiter.resume = resume
    })
    return Effect.exit(restore(Effect.timeoutOption(wait, timeoutMillis))).pipe(
      Effect.flatMap((exit): Effect.Effect<A, E | E2> => {
        permits.waiters.delete(waiter)
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

// -------------------------------------------------------------------------------------------------
// Channels by address
// -------------------------------------------------------------------------------------------------

interface Endpoint {
  readonly key: string
  readonly address: Address.Address
}

interface Entry {
  readonly generation: number
  readonly endpoint: Endpoint
  readonly scope: Scope.Closeable
  readonly ready: Deferred.Deferred<Channel.ChannelShape, ConnectError>
  channel: Channel.ChannelShape | undefined
  state: "connecting" | "open" | "retired" | "closed"
  inUse: number
  lastUsedAt: number
  monitor: Fiber.Fiber<unknown, unknown> | undefined
}

interface Slot {
  current: Entry | undefined
  failures: number
  lastFailureAt: number
  retryAt: number
  lastError: ConnectError | undefined
}

const isTraced = (fiber: Fiber.Fiber<unknown, unknown>): boolean => {
  if (!fiber.cache.tracerEnabled) return false
  const tracer = fiber.cache.tracer
  return tracer !== undefined && tracer !== Tracer.nativeTracer
}

const millisOf = (input: Duration.Input | undefined, fallback: Duration.Duration): number =>
  Duration.toMillis(input === undefined ? fallback : Duration.fromInputUnsafe(input))

const describeCause = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  if (error instanceof Error) return error.message
  if (typeof error === "string") return error
  try {
    return JSON.stringify(error) ?? String(error)
  } catch {
    return String(error)
  }
}

const OPAQUE_STRIDE = 1 << 24

/**
 * A client in the current scope. Closing the scope closes every channel (pending requests fail
 * with `ChannelClosed`) and stops connects in progress; later calls fail with
 * {@link RemotingClientShutDown}. Fails only when `nameServerAddresses` does not parse.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: RemotingClientOptions = {}
): Effect.Effect<RemotingClientShape, InvalidAddress, Scope.Scope> =>
  Effect.gen(function*() {
    const connectTimeoutMillis = millisOf(options.connectTimeout, defaults.connectTimeout)
    const defaultTimeoutMillis = millisOf(options.defaultTimeout, defaults.defaultTimeout)
    const idleRaw = millisOf(options.idleTimeout, defaults.idleTimeout)
    const idleMillis = idleRaw > 0 && Number.isFinite(idleRaw) ? idleRaw : undefined
    const backoffInitial = Math.max(1, millisOf(options.reconnectBackoff?.initial, defaults.reconnectBackoffInitial))
    const backoffMax = Math.max(backoffInitial, millisOf(options.reconnectBackoff?.max, defaults.reconnectBackoffMax))
    const reconnectOnGoAway = options.reconnectOnGoAway ?? true
    const hooks = RpcHook.order(options.hooks ?? [])
    const beforeHooks = hooks.filter((hook) => hook.beforeRequest !== undefined)
    const afterHooks = hooks.filter((hook) => hook.afterResponse !== undefined)
    const factory: ChannelFactory = options.channelFactory ?? Channel.make
    const settings: ChannelSettings = options.channel ?? {}
    const invokePermits = new Permits(Math.max(1, options.invokePermits ?? defaults.invokePermits))
    const onewayPermits = new Permits(Math.max(1, options.onewayPermits ?? defaults.onewayPermits))

    const clock = yield* Effect.clockWith((clock: Clock.Clock) => Effect.succeed(clock))
    const now = () => clock.currentTimeMillisUnsafe()
    const runFork = yield* FiberSet.makeRuntime<never, unknown, unknown>()
    const clientScope = yield* Effect.scope

    let nameServers = yield* Effect.fromResult(Address.parseList(options.nameServerAddresses ?? []))
    let chosen = options.nameServerStart === "first" || nameServers.length === 0
      ? 0
      : yield* Random.nextIntBetween(0, nameServers.length - 1)

    const slots = new Map<string, Slot>()
    const live = new Set<Entry>()
    const endpoints = new Map<string, Endpoint>()
    let closed = false
    let generation = 0
    let connectAttempts = 0

    // --- addresses -------------------------------------------------------------------------------
    const resolve = (input: string): Result.Result<Endpoint, InvalidAddress> => {
      const cached = endpoints.get(input)
      if (cached !== undefined) return Result.succeed(cached)
      const parsed = Address.parse(input)
      if (Result.isFailure(parsed)) return Result.fail(parsed.failure)
      const endpoint: Endpoint = { key: Address.format(parsed.success), address: parsed.success }
      if (endpoints.size >= 4096) endpoints.clear()
      endpoints.set(input, endpoint)
      return Result.succeed(endpoint)
    }

    const slotOf = (key: string): Slot => {
      let slot = slots.get(key)
      if (slot === undefined) {
        if (slots.size >= 1024) pruneSlots()
        slot = { current: undefined, failures: 0, lastFailureAt: 0, retryAt: 0, lastError: undefined }
        slots.set(key, slot)
      }
      return slot
    }

    // Failure records of addresses nobody asked for since well after their backoff ended.
    const pruneSlots = () => {
      const horizon = now() - 2 * backoffMax
      for (const [key, slot] of slots) {
        if (slot.current === undefined && slot.retryAt < horizon) slots.delete(key)
      }
    }

    const forgetSlotIfEmpty = (key: string, slot: Slot) => {
      if (slot.current === undefined && slot.failures === 0 && slots.get(key) === slot) slots.delete(key)
    }

    // --- channel lifecycle -----------------------------------------------------------------------
    /** Marks `entry` closed and forgets it; returns the close of its scope (to run once). */
    const detach = (entry: Entry): Effect.Effect<void> => {
      if (entry.state === "closed") return Effect.void
      entry.state = "closed"
      live.delete(entry)
      const slot = slots.get(entry.endpoint.key)
      if (slot !== undefined && slot.current === entry) {
        slot.current = undefined
        forgetSlotIfEmpty(entry.endpoint.key, slot)
      }
      const monitor = entry.monitor
      if (monitor !== undefined && monitor !== Fiber.getCurrent()) monitor.interruptUnsafe()
      return Scope.close(entry.scope, Exit.void)
    }

    const closeEntry = (entry: Entry): void => {
      const close = detach(entry)
      if (close !== Effect.void) runFork(close)
    }

    /** Takes `entry` out of use for new calls; it closes once the calls on it are done. */
    const retire = (entry: Entry): void => {
      if (entry.state === "closed") return
      const slot = slots.get(entry.endpoint.key)
      if (slot !== undefined && slot.current === entry) slot.current = undefined
      if (entry.inUse === 0) closeEntry(entry)
      else entry.state = "retired"
    }

    const releaseEntry = (entry: Entry) =>
      Effect.suspend(() => {
        entry.inUse--
        entry.lastUsedAt = now()
        return entry.state === "retired" && entry.inUse === 0 ? detach(entry) : Effect.void
      })

    const monitor = (entry: Entry, channel: Channel.ChannelShape) =>
      Effect.gen(function*() {
        if (idleMillis === undefined) {
          yield* channel.closed
        } else {
          for (;;) {
            const at = now()
            const due = entry.lastUsedAt + idleMillis
            if (entry.inUse === 0 && at >= due) break
            const wait = entry.inUse > 0 ? idleMillis : due - at
            const closedReason = yield* Effect.timeoutOption(channel.closed, wait)
            if (Option.isSome(closedReason)) break
          }
        }
        yield* Effect.suspend(() => detach(entry))
      })

    const backoffDelay = (failures: number, random: number): number => {
      const nominal = Math.min(backoffMax, backoffInitial * 2 ** Math.min(failures - 1, 30))
      return Math.max(1, Math.round(nominal / 2 + (nominal / 2) * random))
    }

    const settleConnect = (entry: Entry, slot: Slot, exit: Exit.Exit<Channel.ChannelShape, ConnectError>) =>
      Effect.flatMap(Random.next, (random) =>
        Effect.suspend((): Effect.Effect<void> => {
          const at = now()
          if (Exit.isSuccess(exit)) {
            slot.failures = 0
            slot.retryAt = 0
            slot.lastError = undefined
            if (entry.state !== "connecting" || closed) {
              const error = new ConnectError({
                address: entry.endpoint.key,
                reason: "Failed",
                detail: closed ? "the client was shut down" : "the channel was closed while connecting"
              })
              // Closed while connecting (closeChannel, or the client shut down): drop the new channel.
              void detach(entry)
              Deferred.doneUnsafe(entry.ready, Exit.fail(error))
              return Effect.andThen(exit.value.close, Scope.close(entry.scope, Exit.void))
            }
            entry.channel = exit.value
            entry.state = "open"
            entry.lastUsedAt = at
            entry.monitor = runFork(monitor(entry, exit.value))
            Deferred.doneUnsafe(entry.ready, Exit.succeed(exit.value))
            return Effect.void
          }
          const typed = Cause.findErrorOption(exit.cause)
          const interrupted = Cause.hasInterruptsOnly(exit.cause)
          const error = typed._tag === "Some"
            ? typed.value
            : new ConnectError({
              address: entry.endpoint.key,
              reason: "Failed",
              detail: interrupted ? "the client was shut down" : describeCause(exit.cause)
            })
          if (!interrupted && !closed) {
            if (slot.failures > 0 && at - slot.lastFailureAt > 2 * backoffMax) slot.failures = 0
            slot.failures++
            slot.lastFailureAt = at
            slot.retryAt = at + backoffDelay(slot.failures, random)
            slot.lastError = error
          }
          // Everything is recorded before waiters wake: a woken waiter may run before this returns.
          const close = detach(entry)
          Deferred.doneUnsafe(entry.ready, Exit.fail(error))
          return close
        })
      )

    const startConnect = (endpoint: Endpoint, slot: Slot): Entry => {
      const entry: Entry = {
        generation: ++generation,
        endpoint,
        scope: Scope.makeUnsafe(),
        ready: Deferred.makeUnsafe<Channel.ChannelShape, ConnectError>(),
        channel: undefined,
        state: "connecting",
        inUse: 0,
        lastUsedAt: now(),
        monitor: undefined
      }
      slot.current = entry
      live.add(entry)
      connectAttempts++
      const channelOptions: Channel.ChannelOptions = {
        ...settings,
        host: endpoint.address.host,
        port: endpoint.address.port,
        connectTimeout: Duration.millis(connectTimeoutMillis),
        defaultTimeout: Duration.millis(defaultTimeoutMillis),
        initialOpaque: ((settings.initialOpaque ?? 0) + (entry.generation - 1) * OPAQUE_STRIDE) | 0
      }
      const connect = Effect.suspend(() => factory(channelOptions)).pipe(
        Effect.timeoutOrElse({
          duration: Duration.millis(connectTimeoutMillis),
          orElse: () =>
            Effect.fail(new ConnectError({ address: endpoint.key, reason: "Timeout", detail: `${connectTimeoutMillis} ms` }))
        }),
        Scope.provide(entry.scope)
      )
      const withHandler = options.requestHandler === undefined
        ? connect
        : Effect.provideService(connect, Channel.RequestHandler, options.requestHandler)
      runFork(Effect.onExit(withHandler, (exit) => settleConnect(entry, slot, exit)))
      return entry
    }

    type AcquireError = ConnectError | ConnectBackoff | RemotingClientShutDown

    /**
     * Runs `use` with the open channel to `endpoint`, connecting (or joining a connect) first. The
     * channel counts as in use until `use` ends. `waitCap` bounds the wait for a connect below the
     * call's deadline (name server failover).
     */
    const withChannel = <A, E>(
      endpoint: Endpoint,
      requestCode: number,
      deadline: number,
      waitCap: number,
      use: (entry: Entry, channel: Channel.ChannelShape) => Effect.Effect<A, E>
    ): Effect.Effect<A, E | AcquireError> =>
      Effect.uninterruptibleMask((restore) => {
        const startedAt = now()
        let connectsStarted = 0
        const attempt = (): Effect.Effect<A, E | AcquireError> =>
          Effect.suspend((): Effect.Effect<A, E | AcquireError> => {
            if (closed) return Effect.fail(new RemotingClientShutDown({ address: endpoint.key, requestCode }))
            const slot = slotOf(endpoint.key)
            const entry = slot.current
            if (entry !== undefined && entry.state === "open") {
              const channel = entry.channel!
              if (!channel.isHealthyUnsafe()) {
                closeEntry(entry)
                return attempt()
              }
              entry.inUse++
              return restore(use(entry, channel)).pipe(Effect.ensuring(releaseEntry(entry)))
            }
            const at = now()
            const remaining = deadline - at
            // Waits for this entry's connect: its own ConnectError, or the channel once it is open.
            const join = (connecting: Entry): Effect.Effect<A, E | AcquireError> => {
              const wait = Math.min(deadline - now(), waitCap - (now() - startedAt))
              if (!(wait > 0)) return Effect.fail(budgetSpent(endpoint, deadline, startedAt, waitCap))
              return restore(Effect.timeoutOption(Deferred.await(connecting.ready), wait)).pipe(
                Effect.flatMap((ready) =>
                  Option.isSome(ready) ? attempt() : Effect.fail(budgetSpent(endpoint, deadline, startedAt, waitCap))
                )
              )
            }
            if (entry !== undefined && entry.state === "connecting") return join(entry)
            if (slot.retryAt > at && slot.lastError !== undefined) {
              return Effect.fail(
                new ConnectBackoff({
                  address: endpoint.key,
                  failures: slot.failures,
                  retryInMillis: slot.retryAt - at,
                  lastError: slot.lastError
                })
              )
            }
            if (connectsStarted >= 2) {
              return Effect.fail(
                new ConnectError({
                  address: endpoint.key,
                  reason: "Failed",
                  detail: "the connection closed again right after it was opened"
                })
              )
            }
            if (!(remaining > 0)) return Effect.fail(budgetSpent(endpoint, deadline, startedAt, waitCap))
            connectsStarted++
            // Join the attempt we started, not whatever the slot shows next: a factory that fails
            // before yielding has already settled (and set the backoff) when startConnect returns.
            return join(startConnect(endpoint, slot))
          })
        return attempt()
      })

    const budgetSpent = (endpoint: Endpoint, deadline: number, startedAt: number, waitCap: number) => {
      const waited = now() - startedAt
      return new ConnectError({
        address: endpoint.key,
        reason: "Timeout",
        detail: waitCap < deadline - startedAt
          ? `${waited} ms (this address's share of the call's budget; trying the next address)`
          : `${waited} ms (the rest of the call's budget)`
      })
    }

    // --- hooks -----------------------------------------------------------------------------------
    const hookFailure = (
      hook: RpcHook.RpcHook,
      phase: "beforeRequest" | "afterResponse",
      address: string,
      requestCode: number
    ) =>
    (cause: Cause.Cause<unknown>): Effect.Effect<never, RpcHookFailed> =>
      Cause.hasInterruptsOnly(cause)
        ? Effect.failCause(cause as Cause.Cause<never>)
        : Effect.fail(new RpcHookFailed({ hook: hook.name, phase, address, requestCode, detail: describeCause(cause) }))

    const runBefore = (
      address: string,
      request: RemotingCommand.RemotingCommand
    ): Effect.Effect<RemotingCommand.RemotingCommand, RpcHookFailed> => {
      let effect: Effect.Effect<RemotingCommand.RemotingCommand, RpcHookFailed> = Effect.succeed(request)
      for (const hook of beforeHooks) {
        effect = Effect.flatMap(effect, (current) =>
          Effect.suspend(() => hook.beforeRequest!(address, current)).pipe(
            Effect.catchCause(hookFailure(hook, "beforeRequest", address, request.code))
          ))
      }
      return effect
    }

    const runAfter = (
      address: string,
      request: RemotingCommand.RemotingCommand,
      response: RemotingCommand.RemotingCommand
    ): Effect.Effect<RemotingCommand.RemotingCommand, RpcHookFailed> => {
      let effect: Effect.Effect<RemotingCommand.RemotingCommand, RpcHookFailed> = Effect.succeed(response)
      for (const hook of afterHooks) {
        effect = Effect.flatMap(effect, (current) =>
          Effect.suspend(() => hook.afterResponse!(address, request, current)).pipe(
            Effect.catchCause(hookFailure(hook, "afterResponse", address, request.code))
          ))
      }
      return effect
    }

    // --- requests --------------------------------------------------------------------------------
    type Exchange =
      | {
        readonly _tag: "Response"
        readonly request: RemotingCommand.RemotingCommand
        readonly response: RemotingCommand.RemotingCommand
      }
      | { readonly _tag: "GoAway"; readonly request: RemotingCommand.RemotingCommand }

    const onChannelError = (entry: Entry) => (error: { readonly _tag: string }) =>
      Effect.sync(() => {
        if (error._tag === "ChannelClosed") closeEntry(entry)
      })

    /** One exchange on the current channel to `endpoint`; `hooked` when hooks already ran. */
    const exchange = (
      endpoint: Endpoint,
      request: RemotingCommand.RemotingCommand,
      hooked: boolean,
      deadline: number,
      waitCap: number
    ) =>
      withChannel(endpoint, request.code, deadline, waitCap, (entry, channel) =>
        (hooked ? Effect.succeed(request) : runBefore(endpoint.key, request)).pipe(
          Effect.flatMap((prepared) =>
            channel.sendWaitResponse(prepared, deadline - now()).pipe(
              Effect.tapError(onChannelError(entry)),
              Effect.map((response): Exchange => {
                if (response.code !== ResponseCode.GO_AWAY) return { _tag: "Response", request: prepared, response }
                retire(entry)
                return { _tag: "GoAway", request: prepared }
              })
            )
          )
        ))

    /** What follows the first exchange: after-hooks, or (`undefined`: GO_AWAY) a reconnect and one retry. */
    const afterFirst = (
      endpoint: Endpoint,
      request: RemotingCommand.RemotingCommand,
      deadline: number,
      response: RemotingCommand.RemotingCommand | undefined
    ): Effect.Effect<RemotingCommand.RemotingCommand, RemotingClientError> => {
      if (response !== undefined) {
        return afterHooks.length === 0 ? Effect.succeed(response) : runAfter(endpoint.key, request, response)
      }
      if (!reconnectOnGoAway) {
        return Effect.fail(new GoAway({ address: endpoint.key, requestCode: request.code, retried: false }))
      }
      return Effect.flatMap(exchange(endpoint, request, true, deadline, Infinity), (second): Effect.Effect<
        RemotingCommand.RemotingCommand,
        RemotingClientError
      > =>
        second._tag === "Response"
          ? runAfter(endpoint.key, second.request, second.response)
          : Effect.fail(new GoAway({ address: endpoint.key, requestCode: request.code, retried: true })))
    }

    const invokeGeneral = (
      endpoint: Endpoint,
      request: RemotingCommand.RemotingCommand,
      deadline: number,
      timeout: number
    ): Effect.Effect<RemotingCommand.RemotingCommand, RemotingClientError> =>
      withPermit(
        invokePermits,
        timeout,
        () =>
          new TooManyRequests({
            address: endpoint.key,
            requestCode: request.code,
            kind: "invoke",
            permits: invokePermits.total,
            timeoutMillis: timeout
          }),
        Effect.flatMap(
          exchange(endpoint, request, false, deadline, Infinity),
          (first) => afterFirst(endpoint, first.request, deadline, first._tag === "Response" ? first.response : undefined)
        )
      )

    // The common case — a permit free, the channel open, no before-hooks — runs in one
    // uninterruptible region with two finalizers instead of the nested permit and channel regions
    // of the general path (a third less overhead per call on a loopback echo). The channel's health
    // is read from its close reason, which its receive fiber sets as soon as the socket ends.
    const invokeFast = (
      endpoint: Endpoint,
      request: RemotingCommand.RemotingCommand,
      deadline: number,
      timeout: number
    ): Effect.Effect<RemotingCommand.RemotingCommand, RemotingClientError> =>
      Effect.uninterruptibleMask((restore) => {
        const entry = closed || beforeHooks.length > 0 || invokePermits.free <= 0 || invokePermits.waiters.size > 0
          ? undefined
          : slots.get(endpoint.key)?.current
        const channel = entry?.state === "open" ? entry.channel : undefined
        if (entry === undefined || channel === undefined || !channel.isHealthyUnsafe()) {
          return restore(invokeGeneral(endpoint, request, deadline, timeout))
        }
        invokePermits.free--
        entry.inUse++
        return restore(channel.sendWaitResponse(request, deadline - now())).pipe(
          Effect.onExit((exit) => {
            if (Exit.isSuccess(exit)) {
              if (exit.value.code === ResponseCode.GO_AWAY) retire(entry)
            } else if (Option.exists(Cause.findErrorOption(exit.cause), (e) => e._tag === "ChannelClosed")) {
              closeEntry(entry)
            }
            return releaseEntry(entry)
          }),
          Effect.flatMap((response) =>
            restore(afterFirst(endpoint, request, deadline, response.code === ResponseCode.GO_AWAY ? undefined : response))
          ),
          Effect.onExit(() => Effect.sync(() => invokePermits.release()))
        )
      })

    const traced = <A, E>(name: string, address: () => string, code: number, effect: Effect.Effect<A, E>) =>
      Effect.withFiber((fiber) =>
        isTraced(fiber)
          ? effect.pipe(Effect.withSpan(name, { attributes: { "rocketmq.address": address(), "rocketmq.code": code } }))
          : effect
      )

    const invoke = (
      address: string,
      request: RemotingCommand.RemotingCommand,
      timeoutMillis?: number | undefined
    ): Effect.Effect<RemotingCommand.RemotingCommand, RemotingClientError> =>
      Effect.withFiber((fiber) => {
        const endpoint = resolve(address)
        if (Result.isFailure(endpoint)) return Effect.fail(endpoint.failure)
        const timeout = timeoutMillis ?? defaultTimeoutMillis
        const effect = invokeFast(endpoint.success, request, now() + timeout, timeout)
        return isTraced(fiber)
          ? effect.pipe(
            Effect.withSpan("RemotingClient.invoke", {
              attributes: { "rocketmq.address": endpoint.success.key, "rocketmq.code": request.code }
            })
          )
          : effect
      })

    const enqueueVia = (
      kind: "oneway" | "send",
      address: string,
      command: RemotingCommand.RemotingCommand,
      timeoutMillis: number | undefined
    ): Effect.Effect<void, RemotingClientError> =>
      Effect.suspend((): Effect.Effect<void, RemotingClientError> => {
        const resolved = resolve(address)
        if (Result.isFailure(resolved)) return Effect.fail(resolved.failure)
        const endpoint = resolved.success
        const timeout = timeoutMillis ?? defaultTimeoutMillis
        const deadline = now() + timeout
        const runHooks = kind === "oneway" || !RemotingCommand.isResponse(command)
        return withPermit(
          onewayPermits,
          timeout,
          () =>
            new TooManyRequests({
              address: endpoint.key,
              requestCode: command.code,
              kind: "oneway",
              permits: onewayPermits.total,
              timeoutMillis: timeout
            }),
          withChannel(endpoint, command.code, deadline, Infinity, (entry, channel) =>
            (runHooks ? runBefore(endpoint.key, command) : Effect.succeed(command)).pipe(
              Effect.flatMap((prepared) =>
                (kind === "oneway"
                  ? channel.sendOneway(prepared, deadline - now())
                  : channel.send(prepared, deadline - now())).pipe(Effect.tapError(onChannelError(entry)))
              )
            ))
        )
      })

    const invokeOneway = (address: string, request: RemotingCommand.RemotingCommand, timeoutMillis?: number | undefined) =>
      traced("RemotingClient.invokeOneway", () => address, request.code, enqueueVia("oneway", address, request, timeoutMillis))

    const send = (address: string, command: RemotingCommand.RemotingCommand, timeoutMillis?: number | undefined) =>
      traced("RemotingClient.send", () => address, command.code, enqueueVia("send", address, command, timeoutMillis))

    // --- name servers ----------------------------------------------------------------------------
    const nameServerEndpoints = (): ReadonlyArray<Endpoint> =>
      nameServers.map((address) => ({ key: Address.format(address), address }))

    const invokeNameServerCore = (
      list: ReadonlyArray<Endpoint>,
      request: RemotingCommand.RemotingCommand,
      deadline: number
    ): Effect.Effect<RemotingCommand.RemotingCommand, RemotingClientError> => {
      const errors: Array<ConnectError | ConnectBackoff> = []
      const n = list.length
      const start = chosen % n
      // Each address once in round-robin order from the chosen one; a GO_AWAY adds one more turn
      // (to the next address, or the same one again when there is only one).
      const step = (
        turn: number,
        turns: number,
        prepared: RemotingCommand.RemotingCommand | undefined
      ): Effect.Effect<RemotingCommand.RemotingCommand, RemotingClientError> => {
        if (turn >= turns || !(deadline - now() > 0)) {
          return Effect.fail(new NameServerUnavailable({ requestCode: request.code, errors }))
        }
        const index = (start + turn) % n
        const endpoint = list[index]!
        const left = turns - turn
        const waitCap = left > 1 ? (deadline - now()) / left : Infinity
        return exchange(endpoint, prepared ?? request, prepared !== undefined, deadline, waitCap).pipe(
          Effect.matchEffect({
            onFailure: (error): Effect.Effect<RemotingCommand.RemotingCommand, RemotingClientError> => {
              if (error._tag !== "ConnectError" && error._tag !== "ConnectBackoff") return Effect.fail(error)
              errors.push(error)
              if (chosen % n === index) chosen = (index + 1) % n
              return step(turn + 1, turns, prepared)
            },
            onSuccess: (result): Effect.Effect<RemotingCommand.RemotingCommand, RemotingClientError> => {
              chosen = index
              if (result._tag === "Response") return runAfter(endpoint.key, result.request, result.response)
              if (!reconnectOnGoAway || prepared !== undefined) {
                return Effect.fail(
                  new GoAway({ address: endpoint.key, requestCode: request.code, retried: prepared !== undefined })
                )
              }
              chosen = (index + 1) % n
              return step(turn + 1, Math.max(turns, turn + 2), result.request)
            }
          })
        )
      }
      return step(0, n, undefined)
    }

    const invokeNameServer = (
      request: RemotingCommand.RemotingCommand,
      timeoutMillis?: number | undefined
    ): Effect.Effect<RemotingCommand.RemotingCommand, RemotingClientError> =>
      traced(
        "RemotingClient.invokeNameServer",
        () => nameServers.map(Address.format).join(";"),
        request.code,
        Effect.suspend(() => {
          const list = nameServerEndpoints()
          if (list.length === 0) return Effect.fail(new NoNameServerAddress({ requestCode: request.code }))
          const timeout = timeoutMillis ?? defaultTimeoutMillis
          const deadline = now() + timeout
          return withPermit(
            invokePermits,
            timeout,
            () =>
              new TooManyRequests({
                address: list[chosen % list.length]!.key,
                requestCode: request.code,
                kind: "invoke",
                permits: invokePermits.total,
                timeoutMillis: timeout
              }),
            invokeNameServerCore(list, request, deadline)
          )
        })
      )

    const setNameServerAddresses = (addresses: string | ReadonlyArray<string>) =>
      Effect.flatMap(Effect.fromResult(Address.parseList(addresses)), (parsed) =>
        Effect.sync(() => {
          const before = nameServers.map(Address.format).join(";")
          if (parsed.map(Address.format).join(";") === before) return
          const current = nameServers.length > 0 ? Address.format(nameServers[chosen % nameServers.length]!) : undefined
          nameServers = parsed
          const kept = parsed.findIndex((address) => Address.format(address) === current)
          chosen = kept === -1 ? 0 : kept
        }))

    const closeChannel = (address: string) =>
      Effect.flatMap(Effect.fromResult(resolve(address)), (endpoint) =>
        Effect.sync(() => {
          const entry = slots.get(endpoint.key)?.current
          if (entry !== undefined) closeEntry(entry)
        }))

    const diagnostics = (): RemotingClientDiagnostics => ({
      channels: [...live].map((entry) => ({
        address: entry.endpoint.key,
        generation: entry.generation,
        state: entry.state === "closed" ? "retired" : entry.state,
        inUse: entry.inUse,
        pending: entry.channel?.diagnostics().pending ?? 0
      })),
      backoff: [...slots].filter(([, slot]) => slot.failures > 0).map(([address, slot]) => ({
        address,
        failures: slot.failures,
        retryAt: slot.retryAt
      })),
      connectAttempts,
      invokePermits: invokePermits.state(),
      onewayPermits: onewayPermits.state(),
      nameServers: nameServers.map(Address.format),
      chosenNameServer: nameServers.length > 0 ? Address.format(nameServers[chosen % nameServers.length]!) : undefined
    })

    yield* Scope.addFinalizer(
      clientScope,
      Effect.suspend(() => {
        closed = true
        const entries = [...live]
        for (const entry of entries) {
          entry.state = "closed"
          live.delete(entry)
          entry.monitor?.interruptUnsafe()
        }
        slots.clear()
        return Effect.forEach(entries, (entry) => Scope.close(entry.scope, Exit.void), { discard: true })
      })
    )

    return RemotingClient.of({
      invoke,
      invokeOneway,
      send,
      invokeNameServer,
      setNameServerAddresses,
      nameServerAddresses: Effect.sync(() => nameServers.map(Address.format)),
      closeChannel,
      diagnostics
    })
  })

/**
 * The client as a layer; its scope owns every channel.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: RemotingClientOptions | undefined): Layer.Layer<RemotingClient, InvalidAddress> =>
  Layer.effect(RemotingClient, make(options))

/**
 * The name server list from configuration: `ROCKETMQ_NAMESRV_ADDR`, else `NAMESRV_ADDR` (Java's
 * variable), else empty (name server calls then fail with {@link NoNameServerAddress}).
 *
 * @since 0.1.0
 * @category config
 */
export const nameServerAddressesConfig: Config.Config<string> = Config.String("ROCKETMQ_NAMESRV_ADDR").pipe(
  Config.orElse(() => Config.String("NAMESRV_ADDR")),
  Config.withDefault("")
)

/**
 * {@link layer} with the name servers read from configuration (see
 * {@link nameServerAddressesConfig}); the other options are given.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options?: Omit<RemotingClientOptions, "nameServerAddresses"> | undefined
): Layer.Layer<RemotingClient, Config.ConfigError | InvalidAddress> =>
  Layer.effect(
    RemotingClient,
    Effect.flatMap(nameServerAddressesConfig, (nameServerAddresses) => make({ ...options, nameServerAddresses }))
  )
