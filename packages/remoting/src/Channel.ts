/**
 * The channel: request/response over one connection. This is where a RocketMQ client spends its
 * time, so it is built around one rule — every request resolves exactly once — and one budget —
 * few allocations and no extra fibers per request.
 *
 * A channel is a scoped service built from three parts ({@link fromConnection}): a
 * {@link Connection} (the socket and the frame decoder), a {@link SendQueue} (bounded, drained by
 * one send fiber) and a {@link ResponseTable} (opaque -> pending entry, with its deadlines in
 * order); each request is one `Outbound` entry whose stages say what may still happen to it.
 * Building it forks three fibers into its scope:
 *
 * - the **send fiber** takes everything queued (capped by count and bytes), writes small frames
 *   into one buffer and large bodies beside it, and hands the batch to the socket in one write.
 *   Over a Node socket (`Connection.make`) the queue does this itself at the end of the tick the
 *   batch was queued in, while the fiber is idle, and the fiber only waits for `drain`;
 * - the **receive fiber** reads chunks, decodes frames, completes the response table in place and
 *   passes requests from the peer to the {@link RequestHandler} (over a Node socket the decoding
 *   runs in the socket's `data` event and the fiber waits for the connection to end);
 * - the **timer fiber** sleeps on Effect's `Clock` until the earliest deadline and expires what is
 *   due (so `TestClock` drives timeouts; there is no timer per request).
 *
 * The channel closes — marks itself unhealthy, ends the queue, fails every pending request with
 * {@link ChannelClosed} carrying the reason, interrupts its fibers and destroys the socket, exactly
 * once — when its scope closes, when `close` is called, when the peer closes or resets the
 * connection, or when bytes do not decode. Closing is driven from the read side: Effect's socket
 * writer does not fail when the peer is gone (a write to a destroyed socket waits for a `drain`
 * that never comes), so the first read failure is what stops the writer.
 *
 * @since 0.1.0
 */
import { Context, Deferred, Duration, Effect, Exit, Fiber, FiberSet, Layer, Metric, Scope, Stream } from "effect"
import type { Clock, Result } from "effect"
import * as Codec from "./Codec.ts"
import * as Connection from "./Connection.ts"
import * as ChannelRequests from "./internal/channelRequests.ts"
import * as DeadlineTimer from "./internal/deadlineTimer.ts"
import * as Inbound from "./internal/inbound.ts"
import * as SendLoop from "./internal/sendLoop.ts"
import * as RemotingCommand from "./RemotingCommand.ts"
import {
  type ChannelClosed,
  type ChannelError,
  type ChannelSendRequestFailed,
  ClosedLocally,
  type CloseReason,
  type ConnectError
} from "./RemotingError.ts"
import * as ResponseCode from "./ResponseCode.ts"
import * as ResponseTable from "./ResponseTable.ts"
import * as SendQueue from "./SendQueue.ts"

// -------------------------------------------------------------------------------------------------
// Options and services
// -------------------------------------------------------------------------------------------------

/**
 * @since 0.1.0
 * @category models
 */
export interface ChannelOptions extends Connection.ConnectionOptions {
  /** Frames the send queue holds. Default 1024. */
  readonly queueCapacity?: number | undefined
  /** Timeout of calls that do not give one. Default 3 seconds (Java's `mqClientApiTimeout`). */
  readonly defaultTimeout?: Duration.Input | undefined
  /** Header encoding of outbound frames. Default JSON (every server accepts it; see Codec). */
  readonly serializeType?: Codec.SerializeType | undefined
  /** Largest batch the send fiber writes at once, in bytes (one frame at least). Default 1 MiB. */
  readonly maxBatchBytes?: number | undefined
  /** The first opaque the channel assigns (default 0); later ones count up, wrapping at 2^31. */
  readonly initialOpaque?: number | undefined
}

/**
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_TIMEOUT: Duration.Duration = Duration.seconds(3)

/**
 * What the channel does with a request the peer sends us (a server-initiated request such as
 * CHECK_TRANSACTION_STATE). A response is written back with the request's opaque and the
 * response bit, unless the request was oneway; `undefined` writes nothing. A failure is answered
 * with SYSTEM_ERROR, as a Java processor's exception is.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestHandlerShape {
  readonly handle: (
    request: RemotingCommand.RemotingCommand,
    context: { readonly address: string }
  ) => Effect.Effect<RemotingCommand.RemotingCommand | undefined, unknown>
}

/**
 * Java's answer to a request code nobody handles: REQUEST_CODE_NOT_SUPPORTED with the remark
 * `" request type <code> not supported"` (leading space included, as `NettyRemotingAbstract`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const notSupported = (request: RemotingCommand.RemotingCommand): RemotingCommand.RemotingCommand =>
  RemotingCommand.response(request, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, ` request type ${request.code} not supported`)

/**
 * The handler of requests from the peer. Default: every request is answered with
 * {@link notSupported} (oneway requests get nothing, as always).
 *
 * @since 0.1.0
 * @category services
 */
export const RequestHandler = Context.Reference<RequestHandlerShape>("rocketmq/remoting/RequestHandler", {
  defaultValue: () => ({ handle: (request) => Effect.succeed(notSupported(request)) })
})

/**
 * @since 0.1.0
 * @category models
 */
export interface ChannelShape {
  /** `host:port` of the peer. */
  readonly remoteAddress: string
  /**
   * Sends a request and waits for its response. The channel assigns the opaque (unique among the
   * requests it has pending, 32-bit, wrapping), registers the request before enqueueing it, and
   * bounds everything — waiting for room in the queue, the write, the response — by one deadline
   * `timeoutMillis` from now (default: the channel's default timeout).
   */
  readonly sendWaitResponse: (
    request: RemotingCommand.RemotingCommand,
    timeoutMillis?: number | undefined
  ) => Effect.Effect<RemotingCommand.RemotingCommand, ChannelError>
  /**
   * Sends every request at once and waits for all of them: one Effect, resumed once, with each
   * request's own outcome in order — its response, or the typed error it alone would have failed
   * with (`RequestTimeout`, `ChannelClosed`, `ChannelSendRequestFailed`). Each request is an entry
   * of its own, exactly as with {@link sendWaitResponse}: its own opaque, its own deadline
   * `timeoutMillis` from now, resolved exactly once; the call never fails. Interrupting it
   * withdraws every request still pending (those still queued are never written).
   *
   * For callers that hold many requests at once (a producer flushing a buffer): the caller's fiber
   * suspends once for all of them instead of once per request.
   */
  readonly sendWaitResponseAll: (
    requests: ReadonlyArray<RemotingCommand.RemotingCommand>,
    timeoutMillis?: number | undefined
  ) => Effect.Effect<Array<Result.Result<RemotingCommand.RemotingCommand, ChannelError>>>
  /**
   * {@link sendWaitResponseAll} over a stream of requests: each chunk the stream emits goes out as
   * one bulk call, with up to `concurrency` chunks in flight (default 2), and the outcomes come out
   * in the order of the requests. Each request's deadline starts when its chunk is sent.
   */
  readonly sendWaitResponseStream: <E, R>(
    requests: Stream.Stream<RemotingCommand.RemotingCommand, E, R>,
    options?: { readonly timeoutMillis?: number | undefined; readonly concurrency?: number | undefined } | undefined
  ) => Stream.Stream<Result.Result<RemotingCommand.RemotingCommand, ChannelError>, E, R>
  /**
   * Sends a request with the oneway bit set: the peer never answers. The timeout bounds
   * enqueueing only. Fails when the request could not be enqueued or the channel is closed.
   */
  readonly sendOneway: (
    request: RemotingCommand.RemotingCommand,
    timeoutMillis?: number | undefined
  ) => Effect.Effect<void, ChannelSendRequestFailed | ChannelClosed>
  /**
   * Enqueues a command as it is: a response keeps its opaque (this is how replies to the peer's
   * requests go out); a request gets a fresh opaque and no table entry, so whatever comes back
   * for it is dropped as unmatched and can never complete another request.
   */
  readonly send: (
    command: RemotingCommand.RemotingCommand,
    timeoutMillis?: number | undefined
  ) => Effect.Effect<void, ChannelSendRequestFailed | ChannelClosed>
  /** True while the socket is open and the channel has not closed. */
  readonly isHealthy: Effect.Effect<boolean>
  /** {@link isHealthy} as a plain call, for hot paths that check before every use. */
  readonly isHealthyUnsafe: () => boolean
  /** Requests waiting for their response. */
  readonly pending: Effect.Effect<number>
  /** Waits until the channel closes and returns why. */
  readonly closed: Effect.Effect<CloseReason>
  /** Closes the channel now (pending requests fail with `ChannelClosed`, cause `ClosedLocally`). Idempotent. */
  readonly close: Effect.Effect<void>
  /** Counters and fibers, for health checks and tests. */
  readonly diagnostics: () => ChannelDiagnostics
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ChannelDiagnostics {
  readonly pending: number
  readonly queued: number
  /** Responses that matched no pending request (late, duplicate, or for a `send`). */
  readonly unmatchedResponses: number
  readonly closeReason: CloseReason | undefined
  /** The send, receive and timer fibers. */
  readonly fibers: ReadonlyArray<Fiber.Fiber<unknown, unknown>>
}

/**
 * @since 0.1.0
 * @category services
 */
export class Channel extends Context.Service<Channel, ChannelShape>()("rocketmq/remoting/Channel") {}

// -------------------------------------------------------------------------------------------------
// Metrics
// -------------------------------------------------------------------------------------------------

/**
 * Requests written by `sendWaitResponse` (counted per batch as the send fiber writes them), by peer
 * address.
 *
 * @since 0.1.0
 * @category metrics
 */
export const requestsTotal = Metric.counter("rocketmq_remoting_requests_total", {
  description: "Requests sent with sendWaitResponse",
  incremental: true
})

/**
 * Requests that got no response before their deadline.
 *
 * @since 0.1.0
 * @category metrics
 */
export const timeoutsTotal = Metric.counter("rocketmq_remoting_request_timeouts_total", {
  description: "Requests that timed out waiting for their response",
  incremental: true
})

/**
 * Round trip of answered requests, in milliseconds on the channel's clock.
 *
 * @since 0.1.0
 * @category metrics
 */
export const roundTrip = Metric.histogram("rocketmq_remoting_round_trip_ms", {
  description: "Round trip of answered requests (ms)",
  boundaries: Metric.exponentialBoundaries({ start: 0.25, factor: 2, count: 16 })
})

/**
 * Requests waiting for their response, read when metrics are exported.
 *
 * @since 0.1.0
 * @category metrics
 */
export const pendingRequests = Metric.gauge("rocketmq_remoting_pending_requests", {
  description: "Requests waiting for their response"
})

// -------------------------------------------------------------------------------------------------
// Construction
// -------------------------------------------------------------------------------------------------

const toMillis = (input: Duration.Input | undefined, fallback: Duration.Duration): number =>
  Duration.toMillis(input === undefined ? fallback : Duration.fromInputUnsafe(input))

/**
 * Builds a channel from its three parts, in the current scope (which owns its fibers and closes
 * the channel when it closes). {@link fromConnection} makes the queue and the table for you.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromParts = Effect.fnUntraced(function*(parts: {
  readonly connection: Connection.ConnectionShape
  readonly queue: SendQueue.SendQueueShape
  readonly table: ResponseTable.ResponseTableShape
  readonly options?: ChannelOptions | undefined
}) {
  const { connection, queue, table } = parts
  const options = parts.options ?? {}
  const address = connection.address
  const scope = yield* Effect.scope
  const services = yield* Effect.context<never>()
  const clock = yield* Effect.clockWith((clock: Clock.Clock) => Effect.succeed(clock))
  const handler = yield* RequestHandler
  const runFork = yield* FiberSet.makeRuntime<never, unknown, unknown>()
  const closedSignal = Deferred.makeUnsafe<CloseReason>()
  const metricContext = Context.add(services, Metric.CurrentMetricAttributes, {
    ...Context.get(services, Metric.CurrentMetricAttributes),
    address
  })
  const core: ChannelRequests.ChannelCore = { address, connection, queue, table, clock, closeReason: undefined }
  const fibers: Array<Fiber.Fiber<unknown, unknown>> = []

  // Closing happens once, whoever sees the reason first: the read side (FIN, RST, bad bytes), a
  // failed write, `close`, or the scope. Every pending request fails with that reason.
  const shutdown = (reason: CloseReason): void => {
    if (core.closeReason !== undefined) return
    core.closeReason = reason
    connection.close()
    queue.shutdown(reason)
    table.failAll((entry) => entry.closedError(address, reason))
    const self = Fiber.getCurrent()
    for (const fiber of fibers) if (fiber !== self) fiber.interruptUnsafe()
    Deferred.doneUnsafe(closedSignal, Exit.succeed(reason))
  }
  const closeOn = <E extends CloseReason>(loop: Effect.Effect<never, E>) =>
    Effect.catch(loop, (reason) => Effect.sync(() => shutdown(reason)))

  const timer = DeadlineTimer.make(clock, table, (entry) => {
    const error = entry.deadlineError(address)
    if (error._tag === "RequestTimeout") timeoutsTotal.updateUnsafe(1, metricContext)
    return error
  })
  const requests = ChannelRequests.make(core, {
    defaultTimeoutMillis: toMillis(options.defaultTimeout, DEFAULT_TIMEOUT),
    serializeType: options.serializeType ?? "JSON",
    maxFrameLength: options.maxFrameLength ?? Codec.DEFAULT_MAX_FRAME_LENGTH,
    initialOpaque: options.initialOpaque ?? 0,
    scheduleDeadline: timer.schedule
  })
  const inbound = Inbound.make({ address, table, handler, runFork, reply: (response) => requests.send(response) })

  table.onComplete((entry, exit) => {
    if (exit._tag === "Success") roundTrip.updateUnsafe(clock.currentTimeMillisUnsafe() - entry.startedAt, metricContext)
  })
  const pendingRegistration = Metric.registerUnsafe(pendingRequests, metricContext, {
    get: () => ({ value: table.size() }),
    update: () => {},
    modify: () => {}
  })
  yield* Scope.addFinalizer(
    scope,
    Effect.sync(() => {
      shutdown(new ClosedLocally({ address }))
      pendingRegistration.remove()
    })
  )
  // The writer cannot notice a dead peer on its own (a write to a destroyed socket waits forever),
  // so the read side drives closing: its first failure shuts the channel and interrupts the writer.
  fibers.push(
    yield* Effect.forkIn(
      closeOn(SendLoop.sendLoop(queue, connection, (n) => requestsTotal.updateUnsafe(n, metricContext))),
      scope,
      { startImmediately: true }
    ),
    yield* Effect.forkIn(closeOn(connection.readLoop(inbound.onCommand)), scope, { startImmediately: true }),
    yield* Effect.forkIn(timer.loop, scope, { startImmediately: true })
  )

  const isHealthyUnsafe = () => core.closeReason === undefined && connection.isHealthy()
  return Channel.of({
    remoteAddress: address,
    ...requests,
    sendWaitResponseStream: (stream, streamOptions) =>
      stream.pipe(
        Stream.chunks,
        Stream.mapEffect((chunk) => requests.sendWaitResponseAll(chunk, streamOptions?.timeoutMillis), {
          concurrency: streamOptions?.concurrency ?? 2
        }),
        Stream.flattenIterable
      ),
    isHealthy: Effect.sync(isHealthyUnsafe),
    isHealthyUnsafe,
    pending: Effect.sync(() => table.size()),
    closed: Deferred.await(closedSignal),
    close: Effect.sync(() => shutdown(new ClosedLocally({ address }))),
    diagnostics: () => ({
      pending: table.size(),
      queued: queue.size(),
      unmatchedResponses: inbound.unmatched(),
      closeReason: core.closeReason,
      fibers
    })
  })
})

/**
 * Builds a channel over an open connection, in the current scope: a send queue and a response
 * table sized by `options`, and the channel's fibers. Every channel is built this way — by
 * {@link make} over a TCP connection, by the server for each connection it accepts, and by the
 * test kit over in-memory streams — as Effect's `Socket.fromDuplex` adapts any stream.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromConnection = (
  connection: Connection.ConnectionShape,
  options?: ChannelOptions | undefined
): Effect.Effect<ChannelShape, never, Scope.Scope> =>
  fromParts({
    connection,
    queue: SendQueue.makeUnsafe({
      capacity: options?.queueCapacity,
      maxBatchBytes: options?.maxBatchBytes,
      address: connection.address
    }),
    table: ResponseTable.makeUnsafe(),
    options
  })

/**
 * Connects to `options.host:options.port` and builds a channel in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: ChannelOptions): Effect.Effect<ChannelShape, ConnectError, Scope.Scope> =>
  Effect.flatMap(Connection.make(options), (connection) => fromConnection(connection, options))

/**
 * The channel over the `Connection`, `SendQueue` and `ResponseTable` in context.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFromParts = (
  options?: ChannelOptions | undefined
): Layer.Layer<Channel, never, Connection.Connection | SendQueue.SendQueue | ResponseTable.ResponseTable> =>
  Layer.effect(
    Channel,
    Effect.gen(function*() {
      const connection = yield* Connection.Connection
      const queue = yield* SendQueue.SendQueue
      const table = yield* ResponseTable.ResponseTable
      return yield* fromParts({ connection, queue, table, options })
    })
  )

/**
 * The ready channel layer: connects to `options.host:options.port` with the options given and
 * provides {@link Channel}. This is what applications `provide`.
 *
 * ```ts
 * const program = Effect.gen(function*() {
 *   const channel = yield* Channel.Channel
 *   return yield* channel.sendWaitResponse(RemotingCommand.make({ code: RequestCode.GET_BROKER_CLUSTER_INFO }))
 * })
 * program.pipe(Effect.provide(Channel.layer({ host: "127.0.0.1", port: 9876 })))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: ChannelOptions): Layer.Layer<Channel, ConnectError> => Layer.effect(Channel, make(options))

/**
 * The ready channel layer (see {@link layer}), under the name the design uses.
 *
 * @since 0.1.0
 * @category layers
 */
export const ChannelLayer: (options: ChannelOptions) => Layer.Layer<Channel, ConnectError> = layer
