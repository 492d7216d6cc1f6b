/**
 * The server side of RocketMQ remoting: accepts connections, hands every request to the processor
 * registered for its code, and answers the way a Java `NettyRemotingServer` does.
 *
 * Each accepted connection becomes a {@link Channel} built exactly as a client's is
 * (`Connection.fromSocket` + `Channel.fromConnection`): the same framing, send queue and response
 * table.
 * Requests from the client reach the processors through the channel's `RequestHandler`; the server
 * can also send requests of its own to a connected client (as a broker sends
 * CHECK_TRANSACTION_STATE) through {@link ServerConnection.channel}.
 *
 * Dispatch follows Java's `NettyRemotingServer` (see `docs/protocol-notes.md`):
 * - a code with no processor and no default processor → REQUEST_CODE_NOT_SUPPORTED (3) with the
 *   remark `" request type <code> not supported"`;
 * - while shutting down, a request whose `version` is above 475 (V5_3_1) → GO_AWAY (1500),
 *   "please go away"; older clients do not know GO_AWAY and are served as usual;
 * - inbound {@link RpcHook}s run around the processor (`beforeRequest` in order, the processor,
 *   `afterResponse` in order);
 * - a processor (or hook) failure or defect → SYSTEM_ERROR (1) with a short description;
 * - a processor returning `undefined` writes nothing; a oneway request is never answered;
 * - a response always carries the request's opaque and the response bit.
 *
 * Shutdown ({@link RemotingServerShape.shutdown}, or closing the scope) stops accepting, answers new
 * requests as above, waits up to a deadline for requests in flight to be answered and their bytes
 * written, then closes every connection. The scope that made the server owns all of it.
 *
 * This module does not retry, authenticate or throttle: a processor decides what a request means.
 * Its public models take half of it; dispatch, per-connection setup and the drain are in
 * `internal/serverDispatch.ts`, `internal/serverConnection.ts` and `internal/serverDrain.ts`.
 *
 * @since 0.1.0
 */
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import * as NodeSocketServer from "@effect/platform-node/NodeSocketServer"
import { Cause, Context, Deferred, Duration, Effect, Exit, Layer, Option, Schema, Scope } from "effect"
import * as NetAddress from "effect/net/NetAddress"
import type * as Socket from "effect/socket/Socket"
import type * as SocketServer from "effect/socket/SocketServer"
import type { Duplex } from "node:stream"
import type * as Tls from "node:tls"
import * as Address from "./Address.ts"
import type * as Channel from "./Channel.ts"
import * as ServerConnections from "./internal/serverConnection.ts"
import * as ServerDispatch from "./internal/serverDispatch.ts"
import * as ServerDrain from "./internal/serverDrain.ts"
import * as RemotingCommand from "./RemotingCommand.ts"
import type * as RemotingError from "./RemotingError.ts"
import { describeCause } from "./RemotingError.ts"
import * as ResponseCode from "./ResponseCode.ts"
import type * as RpcHook from "./RpcHook.ts"

// -------------------------------------------------------------------------------------------------
// Models
// -------------------------------------------------------------------------------------------------

/**
 * What a processor is told besides the request.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProcessorContext {
  /** `host:port` of the client that sent the request. */
  readonly remoteAddress: string
  /** The connection the request came on; send the client requests of your own through its channel. */
  readonly connection: ServerConnection
}

/**
 * Handles one request code. Returns the response (its opaque and flag are set by the server), or
 * `undefined` to write nothing. A failure is answered with SYSTEM_ERROR.
 *
 * @since 0.1.0
 * @category models
 */
export type Processor<R = never> = (
  request: RemotingCommand.RemotingCommand,
  context: ProcessorContext
) => Effect.Effect<RemotingCommand.RemotingCommand | undefined, unknown, R>

/**
 * Processors by request code: a `Map`, or an object keyed by code.
 *
 * @since 0.1.0
 * @category models
 */
export type Processors<R = never> =
  | ReadonlyMap<number, Processor<R>>
  | { readonly [code: number]: Processor<R> }

/**
 * The channel settings of every accepted connection (see {@link Channel.ChannelOptions}).
 *
 * @since 0.1.0
 * @category models
 */
export interface ServerChannelOptions {
  /** Frames each connection's send queue holds. Default 1024. */
  readonly queueCapacity?: number | undefined
  /** Timeout of server-initiated requests that do not give one, and of enqueueing responses. Default 3 s. */
  readonly defaultTimeout?: Duration.Input | undefined
  /** Header encoding of frames the server writes. Default JSON. */
  readonly serializeType?: "JSON" | "ROCKETMQ" | undefined
  /** Largest batch written at once, in bytes. Default 1 MiB. */
  readonly maxBatchBytes?: number | undefined
  /** Largest inbound frame, the 4-byte prefix included. Default 16 MiB. */
  readonly maxFrameLength?: number | undefined
}

/**
 * TLS settings of a listening server: node:tls server options with a key and a certificate.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServerTlsOptions extends Tls.TlsOptions {
  readonly key: NonNullable<Tls.TlsOptions["key"]>
  readonly cert: NonNullable<Tls.TlsOptions["cert"]>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RemotingServerOptions<R = never> {
  /** Interface to listen on. Default `127.0.0.1`. */
  readonly host?: string | undefined
  /** Port to listen on; 0 (the default) picks a free one (see {@link RemotingServerShape.port}). */
  readonly port?: number | undefined
  readonly processors?: Processors<R> | undefined
  /** Handles every code without a processor of its own (Java's default processor). */
  readonly defaultProcessor?: Processor<R> | undefined
  /** Inbound hooks, run in order around every processor. */
  readonly hooks?: ReadonlyArray<RpcHook.RpcHook> | undefined
  /** Serve TLS instead of plaintext. A handshake that does not finish in 10 s is dropped unless `handshakeTimeout` says otherwise. */
  readonly tls?: ServerTlsOptions | undefined
  /** How long shutdown waits for requests in flight before closing connections. Default 3 s. */
  readonly shutdownTimeout?: Duration.Input | undefined
  readonly channel?: ServerChannelOptions | undefined
  /**
   * Runs for every accepted connection once its channel is up, in a fiber of its own that is
   * interrupted when the connection closes.
   */
  readonly onConnection?: ((connection: ServerConnection) => Effect.Effect<void, never, R>) | undefined
}

/**
 * One accepted connection.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServerConnection {
  /** 1, 2, 3… in the order connections were accepted by this server. */
  readonly id: number
  /** `host:port` of the client (`[v6]:port` for IPv6). */
  readonly remoteAddress: string
  /**
   * The channel over this connection: `sendWaitResponse` / `sendOneway` reach the client's request
   * handler (server-initiated requests); `closed` tells when the connection ends.
   */
  readonly channel: Channel.ChannelShape
  /**
   * The Node socket under the channel (a `net.Socket`, or a `tls.TLSSocket` on a TLS server), for
   * byte-level control such as fault injection. Bytes written to it bypass the channel's framing.
   */
  readonly socket: Duplex
  /** Requests from this connection being processed now. */
  readonly inFlight: Effect.Effect<number>
  /**
   * Stops reading from the connection: nothing more is decoded, the socket's buffers fill and the
   * client's writes stall (TCP back-pressure). Idempotent.
   */
  readonly pauseReading: Effect.Effect<void>
  /** Reads again after {@link pauseReading}. Idempotent. */
  readonly resumeReading: Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RemotingServerShape {
  /** `host:port` the server listens on (`[v6]:port` for IPv6), with the bound port. */
  readonly address: string
  readonly host: string
  /** The bound port (the one picked when the options said 0). */
  readonly port: number
  /** Connections open now, in accept order. */
  readonly connections: Effect.Effect<ReadonlyArray<ServerConnection>>
  /** Requests being processed now, over all connections. */
  readonly inFlight: Effect.Effect<number>
  readonly isShuttingDown: Effect.Effect<boolean>
  /**
   * Shuts down gracefully: stops accepting, answers new requests with GO_AWAY where the client
   * understands it, waits up to `timeout` (default: the `shutdownTimeout` option) for requests in
   * flight to be answered and written, then closes every connection. Idempotent: later calls wait
   * for the first. Time is Effect's `Clock`, so `TestClock` drives the deadline.
   */
  readonly shutdown: (timeout?: Duration.Input | undefined) => Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category services
 */
export class RemotingServer extends Context.Service<RemotingServer, RemotingServerShape>()(
  "rocketmq/remoting/RemotingServer"
) {}

/**
 * The server could not listen on its address. Not retryable as it stands (the port is taken or the
 * host is not local: change the options); no request is involved (`mayHaveReachedPeer` false).
 *
 * @since 0.1.0
 * @category errors
 */
export class ServerListenError extends Schema.TaggedError<ServerListenError>()("ServerListenError", {
  address: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `Cannot listen on ${this.address}: ${this.detail}. ` +
      (this.detail.includes("EADDRINUSE")
        ? "Another process holds the port; stop it or choose another port (0 picks a free one)."
        : "Check the host is an address of this machine and the port is free.")
  }
  /** False: change the host or port. */
  get isRetryable(): boolean {
    return false
  }
  /** False: there is no peer. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
}

/**
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_SHUTDOWN_TIMEOUT: Duration.Duration = Duration.seconds(3)

/**
 * The remark of a GO_AWAY response, as Java writes it.
 *
 * @since 0.1.0
 * @category constants
 */
export const GO_AWAY_REMARK = "please go away"

/**
 * The GO_AWAY answer to `request` (ResponseCode 1500, remark "please go away").
 *
 * @since 0.1.0
 * @category constructors
 */
export const goAway = (request: RemotingCommand.RemotingCommand): RemotingCommand.RemotingCommand =>
  RemotingCommand.response(request, ResponseCode.GO_AWAY, GO_AWAY_REMARK)

/**
 * The remark of a SYSTEM_ERROR answer for a failure: the same text as
 * {@link RemotingError.describeCause}, under the name this module has always exported.
 *
 * @since 0.1.0
 * @category formatting
 */
export const describeFailure: (cause: Cause.Cause<unknown>) => string = describeCause

/**
 * Whether a client that sent `request` understands GO_AWAY: Java servers 5.3.2+ send it only when
 * the request's version is above V5_3_1 (475).
 *
 * @since 0.1.0
 * @category guards
 */
export const understandsGoAway = (request: RemotingCommand.RemotingCommand): boolean =>
  request.version > RemotingCommand.Version.V5_3_1

const hostAndPort = (
  address: NetAddress.SocketAddress,
  options: { readonly host?: string | undefined; readonly port?: number | undefined }
): { host: string; port: number } =>
  address._tag === "UnixPathAddress"
    ? { host: options.host ?? address.path, port: options.port ?? 0 }
    : { host: NetAddress.formatIp(address.address), port: address.port }

// -------------------------------------------------------------------------------------------------
// Constructors
// -------------------------------------------------------------------------------------------------

/**
 * Serves remoting on an existing `SocketServer` (for example an in-memory one) in the current
 * scope. The socket server must provide each connection's Node stream as `NodeSocket.NetSocket`
 * (the Node socket servers do); connections without one are ignored.
 *
 * `stopAccepting` runs when shutdown begins (for example closing the listener); connections that
 * still arrive after that are closed at once. For a server listening on an IP address, `address`
 * and `port` come from it; for any other kind, `options.host` and `options.port` name it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromSocketServer = <R = never>(
  socketServer: SocketServer.SocketServer["Service"],
  options?: RemotingServerOptions<R> | undefined,
  stopAccepting?: Effect.Effect<void> | undefined
): Effect.Effect<RemotingServerShape, never, Scope.Scope | R> => serve(socketServer, options ?? {}, stopAccepting)

/**
 * Listens on `options.host:options.port` (TLS when `options.tls` is given) and serves remoting in
 * the current scope; closing the scope shuts the server down gracefully (see
 * {@link RemotingServerShape.shutdown}).
 *
 * ```ts
 * const server = yield* RemotingServer.make({
 *   processors: { [RequestCode.GET_BROKER_CLUSTER_INFO]: (request) => Effect.succeed(RemotingCommand.response(request, 0)) }
 * })
 * // clients connect to server.address
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <R = never>(
  options?: RemotingServerOptions<R> | undefined
): Effect.Effect<RemotingServerShape, ServerListenError, Scope.Scope | R> =>
  Effect.gen(function*() {
    const opts = options ?? {}
    const host = opts.host ?? "127.0.0.1"
    const port = opts.port ?? 0
    const scope = yield* Effect.scope
    // The listener has its own scope so that shutdown can stop accepting while connections drain.
    const listenerScope = yield* Scope.fork(scope, "sequential")
    const listen = opts.tls === undefined
      ? NodeSocketServer.make({ host, port, noDelay: true })
      : NodeSocketServer.makeTls({ handshakeTimeout: 10_000, ...opts.tls, host, port, noDelay: true })
    const socketServer = yield* listen.pipe(
      Scope.provide(listenerScope),
      Effect.mapError((error) => {
        const cause = error.reason.cause as { code?: unknown; message?: unknown } | undefined
        const detail = typeof cause?.code === "string"
          ? cause.code
          : typeof cause?.message === "string"
          ? cause.message
          : error.message
        return new ServerListenError({ address: Address.format({ host, port }), detail })
      })
    )
    return yield* serve(socketServer, { ...opts, host }, Scope.close(listenerScope, Exit.void))
  })

/**
 * The {@link RemotingServer} service, listening while the layer is alive.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <R = never>(
  options?: RemotingServerOptions<R> | undefined
): Layer.Layer<RemotingServer, ServerListenError, R> => Layer.effect(RemotingServer, make(options))

const serve = <R>(
  socketServer: SocketServer.SocketServer["Service"],
  options: RemotingServerOptions<R>,
  stopListening: Effect.Effect<void> | undefined
): Effect.Effect<RemotingServerShape, never, Scope.Scope | R> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const context = Context.omit(Scope.Scope)(yield* Effect.context<R>()) as Context.Context<R>
    const channelOptions: Channel.ChannelOptions = options.channel ?? {}
    const shutdownTimeout = Duration.fromInputUnsafe(options.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT)
    const address = Address.format(hostAndPort(socketServer.address, options))
    const live = new Map<number, ServerConnections.LiveConnection>()
    const changes = ServerDrain.makeChanges()
    let nextId = 0
    let shuttingDown = false

    const { handle, inFlight } = ServerDispatch.make({
      processors: options.processors,
      defaultProcessor: options.defaultProcessor,
      hooks: options.hooks ?? [],
      context,
      isShuttingDown: () => shuttingDown,
      understandsGoAway,
      goAway,
      onSettled: changes.notify
    })

    const serveConnection = (socket: Socket.Socket): Effect.Effect<void, never, R> =>
      Effect.scoped(Effect.gen(function*() {
        const raw = yield* Effect.serviceOption(NodeSocket.NetSocket)
        if (Option.isNone(raw)) {
          return yield* Effect.logWarning(
            "RemotingServer: the socket server provides no NodeSocket.NetSocket for its connections; ignoring one"
          )
        }
        if (shuttingDown) return raw.value.destroy()
        const id = ++nextId
        const entry = yield* ServerConnections.open({
          id,
          socket,
          raw: raw.value,
          channelOptions,
          handle,
          onWriteDone: changes.notify
        })
        live.set(id, entry)
        entry.raw.on("finish", changes.notify)
        entry.raw.on("close", changes.notify)
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            live.delete(id)
            entry.raw.off("finish", changes.notify)
            entry.raw.off("close", changes.notify)
            changes.notify()
          })
        )
        if (shuttingDown) return yield* entry.connection.channel.close
        if (options.onConnection !== undefined) {
          yield* Effect.forkScoped(Effect.provideContext(options.onConnection(entry.connection), context))
        }
        yield* entry.connection.channel.closed
      })).pipe(
        Effect.catchCause((cause) =>
          Cause.hasInterruptsOnly(cause) ? Effect.void : Effect.logDebug("Could not set up an accepted connection", cause)
        )
      )

    let shutdownSignal: Deferred.Deferred<void> | undefined
    const shutdown = (timeout?: Duration.Input | undefined): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (shutdownSignal !== undefined) return Deferred.await(shutdownSignal)
        const signal = Deferred.makeUnsafe<void>()
        shutdownSignal = signal
        shuttingDown = true
        return ServerDrain.drain({
          live,
          inFlight,
          changes,
          timeout: timeout === undefined ? shutdownTimeout : Duration.fromInputUnsafe(timeout),
          stopAccepting: stopListening
        }).pipe(Effect.onExit(() => Deferred.done(signal, Exit.void)))
      })

    yield* Effect.forkIn(
      socketServer.run(serveConnection).pipe(
        Effect.catchCause((cause) =>
          Cause.hasInterruptsOnly(cause)
            ? Effect.void
            : Effect.logError(`RemotingServer on ${address} stopped accepting connections`, cause)
        )
      ),
      scope,
      { startImmediately: true }
    )
    // Added last, so it runs first when the scope closes: drain before the accept loop is stopped.
    yield* Scope.addFinalizer(scope, shutdown())

    const { host, port } = hostAndPort(socketServer.address, options)
    return RemotingServer.of({
      address,
      host,
      port,
      connections: Effect.sync(() => [...live.values()].map((entry) => entry.connection)),
      inFlight: Effect.sync(inFlight),
      isShuttingDown: Effect.sync(() => shuttingDown),
      shutdown
    })
  })
