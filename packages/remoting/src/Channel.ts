/**
 * The channel: request/response over one connection. This is where a RocketMQ client spends its
 * time, so it is built around one rule — every request resolves exactly once — and one budget —
 * few allocations and no extra fibers per request.
 *
 * A channel is a scoped service composed from three layers: {@link Connection} (the socket and the
 * frame decoder), {@link SendQueue} (bounded, drained by one send fiber) and {@link ResponseTable}
 * (opaque -> pending entry, with a deadline heap). Acquiring it forks three fibers into its scope:
 *
 * - the **send fiber** takes everything queued (capped by count and bytes), writes small frames
 *   into one buffer and large bodies beside it, and hands the batch to the socket in one write;
 * - the **receive fiber** reads chunks, decodes frames, completes the response table in place and
 *   passes requests from the peer to the {@link RequestHandler};
 * - the **timer fiber** sleeps on Effect's `Clock` until the earliest deadline and expires what is
 *   due (so `TestClock` drives timeouts; there is no timer per request).
 *
 * The channel closes — marks itself unhealthy, ends the queue, fails every pending request with
 * {@link ChannelClosed} carrying the reason, interrupts its fibers and destroys the socket, exactly
 * once — when its scope closes, when the peer closes or resets the connection, or when bytes do
 * not decode. Closing is driven from the read side: a dead peer never fails a write (EFFECT4.md
 * §2.2), so the first read failure is what stops the writer.
 *
 * @since 0.1.0
 */
import { Buffer } from "node:buffer"
import { Context, Deferred, Duration, Effect, Exit, Fiber, FiberSet, Layer, Metric, Scope, Tracer } from "effect"
import type { Clock } from "effect"
import * as Codec from "./Codec.ts"
import * as Connection from "./Connection.ts"
import * as RemotingCommand from "./RemotingCommand.ts"
import {
  type ChannelError,
  ChannelClosed,
  ChannelSendRequestFailed,
  ClosedLocally,
  type CloseReason,
  type ConnectError,
  RequestTimeout
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

const isTraced = (fiber: Fiber.Fiber<unknown, unknown>): boolean => {
  if (!fiber.cache.tracerEnabled) return false
  const tracer = fiber.cache.tracer
  return tracer !== undefined && tracer !== Tracer.nativeTracer
}

const toMillis = (input: Duration.Input | undefined, fallback: Duration.Duration): number =>
  Duration.toMillis(input === undefined ? fallback : Duration.fromInputUnsafe(input))

// Large bodies are handed to the socket beside the batch buffer (one writev) instead of being
// copied into it.
const INLINE_BODY_LIMIT = 16 * 1024

/**
 * Builds a channel from its three parts, in the current scope (which owns its fibers).
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
  const defaultTimeoutMillis = toMillis(options.defaultTimeout, DEFAULT_TIMEOUT)
  const serializeType = options.serializeType ?? "JSON"
  const maxFrameLength = options.maxFrameLength ?? Codec.DEFAULT_MAX_FRAME_LENGTH
  const scope = yield* Effect.scope
  const services = yield* Effect.context<never>()
  const clock = yield* Effect.clockWith((clock: Clock.Clock) => Effect.succeed(clock))
  const handler = yield* RequestHandler
  const closedSignal = Deferred.makeUnsafe<CloseReason>()
  const metricContext = Context.add(services, Metric.CurrentMetricAttributes, {
    ...Context.get(services, Metric.CurrentMetricAttributes),
    address
  })

  let closeReason: CloseReason | undefined
  let nextOpaque = (options.initialOpaque ?? 0) | 0
  let unmatched = 0
  const fibers: Array<Fiber.Fiber<unknown, unknown>> = []

  // --- opaque ------------------------------------------------------------------------------------
  const freshOpaque = (): number => {
    let opaque = nextOpaque
    while (table.has(opaque)) opaque = (opaque + 1) | 0
    nextOpaque = (opaque + 1) | 0
    return opaque
  }

  // --- close -------------------------------------------------------------------------------------
  const closedError = (code: number, opaque: number, reason: CloseReason, written: boolean) =>
    new ChannelClosed({ address, requestCode: code, opaque, cause: reason, written })

  const shutdown = (reason: CloseReason): void => {
    if (closeReason !== undefined) return
    closeReason = reason
    connection.close()
    queue.shutdown(reason)
    table.failAll((entry) => closedError(entry.code, entry.opaque, reason, entry.state === SendQueue.WRITTEN))
    const self = Fiber.getCurrent()
    for (const fiber of fibers) if (fiber !== self) fiber.interruptUnsafe()
    Deferred.doneUnsafe(closedSignal, Exit.succeed(reason))
  }

  // --- timer -------------------------------------------------------------------------------------
  // `timerAt` is when the timer fiber will look next (Infinity when idle). A new entry wakes it only
  // if its deadline is earlier: with one timeout for every request that is once per idle period.
  let timerAt = Infinity
  let timerWake: ((effect: Effect.Effect<void>) => void) | undefined

  const timeoutError = (entry: SendQueue.Outbound): ChannelError => {
    if (entry.state === SendQueue.WAITING) {
      return new ChannelSendRequestFailed({
        address,
        requestCode: entry.code,
        opaque: entry.opaque,
        reason: "QueueFull",
        detail: `the send queue stayed full for ${entry.timeoutMillis} ms`
      })
    }
    timeoutsTotal.updateUnsafe(1, metricContext)
    return new RequestTimeout({
      address,
      requestCode: entry.code,
      opaque: entry.opaque,
      timeoutMillis: entry.timeoutMillis,
      written: entry.state === SendQueue.WRITTEN
    })
  }

  const waitForEarlierDeadline = Effect.callback<void>((resume) => {
    timerWake = resume
    return Effect.sync(() => {
      if (timerWake === resume) timerWake = undefined
    })
  })

  const timerLoop = Effect.gen(function*() {
    for (;;) {
      const now = clock.currentTimeMillisUnsafe()
      table.expireDue(now, timeoutError)
      const next = table.nextDeadline()
      timerAt = next ?? Infinity
      if (next === undefined) yield* waitForEarlierDeadline
      else yield* Effect.raceFirst(Effect.sleep(next - now), waitForEarlierDeadline)
    }
  })

  const scheduleDeadline = (deadline: number) => {
    if (deadline >= timerAt) return
    timerAt = deadline
    const wake = timerWake
    if (wake !== undefined) {
      timerWake = undefined
      SendQueue.afterCurrentWork(() => wake(Effect.void))
    }
  }

  // --- send --------------------------------------------------------------------------------------
  const sendLoop = Effect.gen(function*() {
    for (;;) {
      const batch = yield* queue.take
      let inline = 0
      let live = 0
      let requests = 0
      for (let i = 0; i < batch.length; i++) {
        const frame = batch[i]!.frame
        if (batch[i]!.state !== SendQueue.QUEUED || frame === undefined) continue
        live++
        if (batch[i]!.resume !== undefined) requests++
        inline += frame.body !== undefined && frame.body.length > INLINE_BODY_LIMIT
          ? frame.frameLength - frame.body.length
          : frame.frameLength
      }
      if (live === 0) continue
      if (requests > 0) requestsTotal.updateUnsafe(requests, metricContext)
      const out = Buffer.allocUnsafe(inline)
      const chunks: Array<Uint8Array> = []
      let start = 0
      let offset = 0
      for (let i = 0; i < batch.length; i++) {
        const item = batch[i]!
        const frame = item.frame
        if (item.state !== SendQueue.QUEUED || frame === undefined) continue
        item.frame = undefined
        item.state = SendQueue.WRITTEN
        const body = frame.body
        if (body !== undefined && body.length > INLINE_BODY_LIMIT) {
          offset = Codec.writeFrame({ ...frame, body: undefined }, out, offset)
          chunks.push(out.subarray(start, offset), body)
          start = offset
        } else {
          offset = Codec.writeFrame(frame, out, offset)
        }
      }
      if (start < offset) chunks.push(out.subarray(start, offset))
      if (chunks.length === 1) yield* connection.write(chunks[0]!)
      else yield* connection.writeAll(chunks)
    }
  }).pipe(Effect.catch((reason) => Effect.sync(() => shutdown(reason))))

  // --- receive -----------------------------------------------------------------------------------
  const runFork = yield* FiberSet.makeRuntime<never, unknown, unknown>()

  const onUnmatched = (response: RemotingCommand.RemotingCommand) => {
    unmatched++
    runFork(
      Effect.logDebug(
        `Dropped a response from ${address} that matches no pending request (late after a timeout, duplicate, ` +
          `or for a send): ${RemotingCommand.describe(response)}`
      )
    )
  }

  const answer = (request: RemotingCommand.RemotingCommand, response: RemotingCommand.RemotingCommand) =>
    enqueue(
      RemotingCommand.withOpaque(RemotingCommand.markResponse(response), request.opaque),
      defaultTimeoutMillis
    )

  const onRequest = (request: RemotingCommand.RemotingCommand) => {
    runFork(
      handler.handle(request, { address }).pipe(
        Effect.catchCause((cause) =>
          Effect.succeed(
            RemotingCommand.response(request, ResponseCode.SYSTEM_ERROR, String(cause).slice(0, 512))
          )
        ),
        Effect.flatMap((response) =>
          response === undefined || RemotingCommand.isOneway(request) ? Effect.void : answer(request, response)
        ),
        Effect.catch((error) =>
          Effect.logWarning(`Could not answer request ${RemotingCommand.describe(request)} from ${address}`, error)
        )
      )
    )
  }

  const onCommand = (command: RemotingCommand.RemotingCommand) => {
    if ((command.flag & RemotingCommand.FLAG_RESPONSE) !== 0) {
      if (!table.complete(command.opaque, Exit.succeed(command))) onUnmatched(command)
    } else {
      onRequest(command)
    }
  }

  const receiveLoop = connection.readLoop(onCommand).pipe(
    Effect.catch((reason) => Effect.sync(() => shutdown(reason)))
  )

  // --- requests ----------------------------------------------------------------------------------
  const prepare = (command: RemotingCommand.RemotingCommand, opaque: number) => {
    const frame = Codec.prepareFrame(command, serializeType, opaque)
    if (frame.frameLength > maxFrameLength || frame.headerLength > Codec.MAX_HEADER_LENGTH) {
      return new ChannelSendRequestFailed({
        address,
        requestCode: command.code,
        opaque,
        reason: "FrameTooLarge",
        detail: `the frame is ${frame.frameLength} bytes, the maximum is ${maxFrameLength}`
      })
    }
    return frame
  }

  const sendWaitResponseCore = (
    request: RemotingCommand.RemotingCommand,
    timeoutMillis: number,
    span: Tracer.Span | undefined
  ): Effect.Effect<RemotingCommand.RemotingCommand, ChannelError> =>
    Effect.callback<RemotingCommand.RemotingCommand, ChannelError>((resume) => {
      if (closeReason !== undefined) return resume(Effect.fail(closedError(request.code, -1, closeReason, false)))
      const opaque = freshOpaque()
      span?.attribute("rocketmq.opaque", opaque)
      if (!(timeoutMillis > 0)) {
        return resume(Effect.fail(
          new RequestTimeout({ address, requestCode: request.code, opaque, timeoutMillis, written: false })
        ))
      }
      const frame = prepare(request, opaque)
      if (frame instanceof ChannelSendRequestFailed) return resume(Effect.fail(frame))
      const now = clock.currentTimeMillisUnsafe()
      const entry = new SendQueue.Outbound(frame, request.code, opaque, now, timeoutMillis, resume)
      table.register(entry)
      queue.offerOrPark(entry)
      scheduleDeadline(entry.deadline)
      return Effect.sync(() => {
        table.complete(opaque, Exit.interrupt())
      })
    })

  // Spans cost more than the rest of a request put together (a 4x throughput drop measured with
  // Effect.withSpan, 2x with useSpan), so they are created only when a tracing backend is
  // installed: with Effect's default native tracer nothing could observe them (Tracer.nativeTracer).
  const sendWaitResponse = (
    request: RemotingCommand.RemotingCommand,
    timeoutMillis?: number | undefined
  ): Effect.Effect<RemotingCommand.RemotingCommand, ChannelError> =>
    Effect.withFiber((fiber) => {
      const timeout = timeoutMillis ?? defaultTimeoutMillis
      if (!isTraced(fiber)) return sendWaitResponseCore(request, timeout, undefined)
      return Effect.useSpan(
        "Channel.sendWaitResponse",
        { attributes: { "rocketmq.code": request.code, "rocketmq.address": address } },
        (span) => sendWaitResponseCore(request, timeout, span)
      )
    })

  const enqueue = (
    command: RemotingCommand.RemotingCommand,
    timeoutMillis: number
  ): Effect.Effect<void, ChannelSendRequestFailed | ChannelClosed> =>
    Effect.suspend(() => {
      const opaque = command.opaque
      if (closeReason !== undefined) return Effect.fail(closedError(command.code, opaque, closeReason, false))
      const frame = prepare(command, opaque)
      if (frame instanceof ChannelSendRequestFailed) return Effect.fail(frame)
      const item = new SendQueue.Outbound(
        frame,
        command.code,
        opaque,
        clock.currentTimeMillisUnsafe(),
        timeoutMillis,
        undefined
      )
      return queue.offer(item, timeoutMillis)
    })

  const sendOneway = (
    request: RemotingCommand.RemotingCommand,
    timeoutMillis?: number | undefined
  ): Effect.Effect<void, ChannelSendRequestFailed | ChannelClosed> =>
    Effect.suspend(() =>
      enqueue(RemotingCommand.markOneway(RemotingCommand.withOpaque(request, freshOpaque())), timeoutMillis ?? defaultTimeoutMillis)
    )

  const send = (
    command: RemotingCommand.RemotingCommand,
    timeoutMillis?: number | undefined
  ): Effect.Effect<void, ChannelSendRequestFailed | ChannelClosed> =>
    Effect.suspend(() =>
      enqueue(
        RemotingCommand.isResponse(command) ? command : RemotingCommand.withOpaque(command, freshOpaque()),
        timeoutMillis ?? defaultTimeoutMillis
      )
    )

  // --- lifecycle ---------------------------------------------------------------------------------
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
  fibers.push(
    yield* Effect.forkIn(sendLoop, scope, { startImmediately: true }),
    yield* Effect.forkIn(receiveLoop, scope, { startImmediately: true }),
    yield* Effect.forkIn(timerLoop, scope, { startImmediately: true })
  )

  return Channel.of({
    remoteAddress: address,
    sendWaitResponse,
    sendOneway,
    send,
    isHealthy: Effect.sync(() => closeReason === undefined && connection.isHealthy()),
    isHealthyUnsafe: () => closeReason === undefined && connection.isHealthy(),
    pending: Effect.sync(() => table.size()),
    closed: Deferred.await(closedSignal),
    close: Effect.sync(() => shutdown(new ClosedLocally({ address }))),
    diagnostics: () => ({
      pending: table.size(),
      queued: queue.size(),
      unmatchedResponses: unmatched,
      closeReason,
      fibers
    })
  })
})

/**
 * Connects to `options.host:options.port` and builds a channel in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: ChannelOptions): Effect.Effect<ChannelShape, ConnectError, Scope.Scope> =>
  Effect.gen(function*() {
    const connection = yield* Connection.make(options)
    const queue = SendQueue.makeUnsafe({
      capacity: options.queueCapacity,
      maxBatchBytes: options.maxBatchBytes,
      address: connection.address
    })
    const table = ResponseTable.makeUnsafe()
    return yield* fromParts({ connection, queue, table, options })
  })

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
export const layer = (options: ChannelOptions): Layer.Layer<Channel, ConnectError> => {
  const address = options.host !== undefined && options.port !== undefined
    ? Connection.formatAddress(options.host, options.port)
    : undefined
  return layerFromParts(options).pipe(
    Layer.provide(
      Layer.mergeAll(
        Connection.layer(options),
        SendQueue.layer({ capacity: options.queueCapacity, maxBatchBytes: options.maxBatchBytes, address }),
        ResponseTable.layer
      )
    )
  )
}

/**
 * The ready channel layer (see {@link layer}), under the name the design uses.
 *
 * @since 0.1.0
 * @category layers
 */
export const ChannelLayer: (options: ChannelOptions) => Layer.Layer<Channel, ConnectError> = layer
