/**
 * The client side of RocketMQ remoting: requests to brokers and name servers over one shared
 * {@link Channel} per peer address.
 *
 * A composition of parts that are each tested alone:
 *
 * - `ChannelPool`: one channel per canonical address ({@link Address.format}) — single-flight
 *   connects, compare-and-remove eviction of closed channels, retiring, idle close (120 s as Java;
 *   `idleTimeout` 0 turns it off);
 * - `ReconnectBackoff`: after a failed connect the address gets no new attempt until a jittered,
 *   exponentially growing, capped delay has passed; calls meanwhile fail at once with
 *   {@link ConnectBackoff}, so any number of callers to a down address make one attempt at a time;
 * - `NameServerSelector`: a sticky name server, round-robin failover on connect errors, and a
 *   share of the remaining budget per address so a dead first name server cannot use it all up;
 * - the call policy (`internal/clientPolicy.ts`), the one path every call takes.
 *
 * Contract of a call:
 *
 * - **One absolute deadline** (`timeoutMillis`, default `defaultTimeout`) covers waiting for a
 *   permit, connecting, hooks, enqueueing, writing and waiting for the response: each stage gets
 *   what is left. The connect itself is shared and bounded by `connectTimeout`.
 * - **Permits**, as Java's async and oneway semaphores (65535 each): a call that gets none within
 *   its timeout fails with {@link TooManyRequests}; a permit is held until the response (or
 *   failure) for invoke and until the frame is queued for oneway/send, and always comes back.
 * - **Hooks** run once per call, in registration order with `runLast` hooks (the ACL signer) last:
 *   `beforeRequest` after the channel is ready, just before the request is queued (invoke, oneway
 *   and send); `afterResponse` on every response (not for oneway).
 * - **GO_AWAY** (1500) retires the channel (in-flight requests on it may still be answered; it
 *   closes when they are done), connects anew and sends the request once more with the remaining
 *   budget (Java's `enableReconnectForGoAway`); a second GO_AWAY fails with {@link GoAway}. Name
 *   server calls go to the next name server instead. Only connect errors and GO_AWAY send a
 *   request again: once a request may have been processed it is never sent twice.
 * - **Opaques** are assigned by each channel; successive channels start 2^24 apart, so a retry on
 *   a new connection never reuses the opaque of the first try, as with Java's process-wide counter.
 * - **Errors** are typed ({@link RemotingClientError}); each says whether it `isRetryable` and
 *   whether it `mayHaveReachedPeer`; see `RemotingError`.
 *
 * The public models (options, the service's shape, diagnostics) are most of this file; the logic is
 * in the parts above.
 *
 * Not done here: Java's close-on-timeout (`clientCloseSocketIfTimeout`: a timeout alone leaves a
 * healthy channel open, since closing on every timeout turns a slow peer into a stream of
 * reconnects), heartbeats, and probing name servers in the background. Nothing in this module
 * knows about topics or messages.
 *
 * @since 0.1.0
 */
import { Config, Context, Duration, Effect, Layer, Result, type Scope } from "effect"
import type { Clock } from "effect"
import * as Address from "./Address.ts"
import * as Channel from "./Channel.ts"
import * as ChannelPool from "./ChannelPool.ts"
import * as ClientBulk from "./internal/clientBulk.ts"
import * as ClientPolicy from "./internal/clientPolicy.ts"
import { Permits } from "./internal/permits.ts"
import { spanIfTraced, traced } from "./internal/tracing.ts"
import * as NameServerSelector from "./NameServerSelector.ts"
import * as ReconnectBackoff from "./ReconnectBackoff.ts"
import type * as RemotingCommand from "./RemotingCommand.ts"
import {
  type ChannelClosed,
  type ChannelSendRequestFailed,
  type ConnectBackoff,
  ConnectError,
  type GoAway,
  type InvalidAddress,
  type NameServerUnavailable,
  NoNameServerAddress,
  type RemotingClientShutDown,
  type RequestTimeout,
  type RpcHookFailed,
  type TooManyRequests
} from "./RemotingError.ts"
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
  readonly reconnectBackoff?: ReconnectBackoff.ReconnectBackoffOptions | undefined
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
  readonly channels: ReadonlyArray<ChannelPool.ChannelState>
  /** Addresses whose last connect attempts failed. */
  readonly backoff: ReadonlyArray<ReconnectBackoff.FailureRecord>
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
  /**
   * Sends every request to `address` and resumes once, with each request's own outcome in the
   * order given: its response, or its typed error. Each request follows {@link invoke}'s rules
   * (a permit, hooks, GO_AWAY's one retry, the after-hooks) under one deadline for all; they
   * share one channel and one fiber suspension (see `Channel.sendWaitResponseAll`). Never fails
   * as a whole: a bad address or a failed connect is every request's outcome. Interrupting it
   * withdraws the requests still waiting.
   */
  readonly invokeAll: (
    address: string,
    requests: ReadonlyArray<RemotingCommand.RemotingCommand>,
    timeoutMillis?: number | undefined
  ) => Effect.Effect<Array<Result.Result<RemotingCommand.RemotingCommand, RemotingClientError>>>
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
    invokeAll: (address, requests, timeoutMillis) =>
      Effect.forEach(requests, (request) => Effect.result(calls.invoke(address, request, timeoutMillis)), {
        concurrency: "unbounded"
      }),
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
// Construction
// -------------------------------------------------------------------------------------------------

const millisOf = (input: Duration.Input | undefined, fallback: Duration.Duration): number =>
  Duration.toMillis(input === undefined ? fallback : Duration.fromInputUnsafe(input))

// Successive channels start their opaques 2^24 apart: a retry on a new connection (and a proxy
// that sees several of our connections) never sees the same opaque twice in a row.
const OPAQUE_STRIDE = 1 << 24

// Parsed addresses are cached (the hot path would otherwise parse and format on every call); the
// cache is dropped when it holds this many spellings.
const ENDPOINT_CACHE_LIMIT = 4096

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
    const idleMillis = millisOf(options.idleTimeout, defaults.idleTimeout)
    const factory: ChannelFactory = options.channelFactory ?? Channel.make
    const settings: ChannelSettings = options.channel ?? {}
    const clock = yield* Effect.clockWith((clock: Clock.Clock) => Effect.succeed(clock))
    const now = () => clock.currentTimeMillisUnsafe()
    const selector = yield* NameServerSelector.make(options.nameServerAddresses ?? [], options.nameServerStart)
    const backoff = ReconnectBackoff.make(clock, {
      initial: options.reconnectBackoff?.initial ?? defaults.reconnectBackoffInitial,
      max: options.reconnectBackoff?.max ?? defaults.reconnectBackoffMax
    })

    // Each connect is bounded by connectTimeout, whoever waits for it.
    const connect = (endpoint: ChannelPool.Endpoint, generation: number) => {
      const channelOptions: Channel.ChannelOptions = {
        ...settings,
        host: endpoint.address.host,
        port: endpoint.address.port,
        connectTimeout: Duration.millis(connectTimeoutMillis),
        defaultTimeout: Duration.millis(defaultTimeoutMillis),
        initialOpaque: ((settings.initialOpaque ?? 0) + (generation - 1) * OPAQUE_STRIDE) | 0
      }
      const timeout = new ConnectError({ address: endpoint.key, reason: "Timeout", detail: `${connectTimeoutMillis} ms` })
      const bounded = Effect.suspend(() => factory(channelOptions)).pipe(
        Effect.timeoutOrElse({ duration: Duration.millis(connectTimeoutMillis), orElse: () => Effect.fail(timeout) })
      )
      return options.requestHandler === undefined
        ? bounded
        : Effect.provideService(bounded, Channel.RequestHandler, options.requestHandler)
    }
    const pool = yield* ChannelPool.make({
      connect,
      idleTimeoutMillis: idleMillis > 0 && Number.isFinite(idleMillis) ? idleMillis : undefined,
      backoff
    })
    const invokePermits = new Permits(options.invokePermits ?? defaults.invokePermits)
    const onewayPermits = new Permits(options.onewayPermits ?? defaults.onewayPermits)
    const policy = ClientPolicy.make({
      pool,
      invokePermits,
      onewayPermits,
      hooks: RpcHook.order(options.hooks ?? []),
      reconnectOnGoAway: options.reconnectOnGoAway ?? true,
      now
    })

    const bulk = ClientBulk.make({ pool, invokePermits, policy, now })

    const endpoints = new Map<string, ChannelPool.Endpoint>()
    const resolve = (input: string): Result.Result<ChannelPool.Endpoint, InvalidAddress> => {
      const cached = endpoints.get(input)
      if (cached !== undefined) return Result.succeed(cached)
      const parsed = Address.parse(input)
      if (Result.isFailure(parsed)) return Result.fail(parsed.failure)
      const endpoint: ChannelPool.Endpoint = { key: Address.format(parsed.success), address: parsed.success }
      if (endpoints.size >= ENDPOINT_CACHE_LIMIT) endpoints.clear()
      endpoints.set(input, endpoint)
      return Result.succeed(endpoint)
    }

    /** Resolves `address`, then runs `call` on it, in a span when a tracing backend is installed. */
    const atAddress = <A>(
      name: string,
      address: string,
      code: number,
      call: (endpoint: ChannelPool.Endpoint) => Effect.Effect<A, RemotingClientError>
    ): Effect.Effect<A, RemotingClientError> =>
      Effect.withFiber((fiber) => {
        const endpoint = resolve(address)
        if (Result.isFailure(endpoint)) return Effect.fail(endpoint.failure)
        return spanIfTraced(fiber, name, () => endpoint.success.key, code, call(endpoint.success))
      })

    const invokeNameServer = (request: RemotingCommand.RemotingCommand, timeoutMillis?: number | undefined) =>
      traced(
        "RemotingClient.invokeNameServer",
        () => selector.addresses().join(";"),
        request.code,
        Effect.suspend(() => {
          const timeout = timeoutMillis ?? defaultTimeoutMillis
          const walk = selector.walk(now() + timeout)
          if (walk === undefined) return Effect.fail(new NoNameServerAddress({ requestCode: request.code }))
          return policy.invokeNameServer(walk, request, timeout, selector.chosen()!)
        })
      )

    return RemotingClient.of({
      invoke: (address, request, timeoutMillis) =>
        atAddress("RemotingClient.invoke", address, request.code, (endpoint) =>
          policy.invoke(endpoint, request, timeoutMillis ?? defaultTimeoutMillis)),
      invokeAll: (address, requests, timeoutMillis) =>
        Effect.withFiber((fiber) => {
          const endpoint = resolve(address)
          if (Result.isFailure(endpoint)) return Effect.succeed(requests.map(() => Result.fail(endpoint.failure)))
          const call = bulk.invokeAll(endpoint.success, requests, timeoutMillis ?? defaultTimeoutMillis)
          return spanIfTraced(fiber, "RemotingClient.invokeAll", () => endpoint.success.key, requests[0]?.code ?? 0, call)
        }),
      invokeOneway: (address, request, timeoutMillis) =>
        atAddress("RemotingClient.invokeOneway", address, request.code, (endpoint) =>
          policy.enqueue("oneway", endpoint, request, timeoutMillis ?? defaultTimeoutMillis)),
      send: (address, command, timeoutMillis) =>
        atAddress("RemotingClient.send", address, command.code, (endpoint) =>
          policy.enqueue("send", endpoint, command, timeoutMillis ?? defaultTimeoutMillis)),
      invokeNameServer,
      setNameServerAddresses: (addresses) => Effect.fromResult(selector.set(addresses)),
      nameServerAddresses: Effect.sync(selector.addresses),
      closeChannel: (address) =>
        Effect.flatMap(Effect.fromResult(resolve(address)), (endpoint) => Effect.sync(() => pool.close(endpoint.key))),
      diagnostics: () => ({
        channels: pool.channels(),
        backoff: backoff.snapshot(),
        connectAttempts: pool.connectAttempts(),
        invokePermits: invokePermits.state(),
        onewayPermits: onewayPermits.state(),
        nameServers: selector.addresses(),
        chosenNameServer: selector.chosen()
      })
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
