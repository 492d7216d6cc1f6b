/**
 * One TCP connection to a RocketMQ peer: the socket, the frame decoder on the read side, a writer
 * of encoded frames, and health. {@link make} opens a Node socket and works on it directly;
 * {@link fromSocket} adapts any Effect socket (an in-memory pair, an accepted server socket).
 *
 * The connection does not match requests with responses or queue anything: it reads commands and
 * writes bytes. It never throws; reading fails with the reason the connection ended
 * ({@link RemotingError.CloseReason}). Writing cannot notice a dead peer: once Node has destroyed
 * the socket, Effect's socket writer waits for a `drain` that never comes (and the first writes
 * after the peer's FIN even "succeed", their bytes lost). So whoever writes must also watch the
 * read side and interrupt the writer when reading ends — the `Channel` does exactly that.
 *
 * @since 0.1.0
 */
import { Context, Duration, Effect, Layer, Scope } from "effect"
import * as Socket from "effect/socket/Socket"
import * as Net from "node:net"
import * as Tls from "node:tls"
import * as Address from "./Address.ts"
import * as Codec from "./Codec.ts"
import * as NetConnection from "./internal/netConnection.ts"
import type { RemotingCommand } from "./RemotingCommand.ts"
import { ClosedByPeer, ClosedLocally, type CloseReason, ConnectError, ConnectionReset } from "./RemotingError.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface ConnectionOptions {
  /** Host name or IP (IPv6 without brackets). */
  readonly host?: string | undefined
  readonly port?: number | undefined
  /** How long connecting may take. Default 3 seconds, as Java's `connectTimeoutMillis`. */
  readonly connectTimeout?: Duration.Input | undefined
  /** Largest inbound frame, the 4-byte prefix included. Default 16 MiB, as Java. */
  readonly maxFrameLength?: number | undefined
  /** Connect with TLS (node:tls options: `ca`, `cert`, `key`, `servername`, `rejectUnauthorized`, …). */
  readonly tls?: Tls.ConnectionOptions | boolean | undefined
  /**
   * Bytes the socket buffers in each direction before pausing reads or reporting backpressure.
   * Default 1 MiB: with Node's 64 KiB default, 64 KiB frames stop and restart the read side all the
   * time (measured: 1.5x the throughput at 64 KiB x 64 in flight with 1 MiB).
   */
  readonly highWaterMark?: number | undefined
}

/**
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_HIGH_WATER_MARK = 1024 * 1024

/**
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_CONNECT_TIMEOUT: Duration.Duration = Duration.seconds(3)

/**
 * @since 0.1.0
 * @category models
 */
export interface ConnectionShape {
  /** `host:port` of the peer (`[v6]:port` for IPv6). */
  readonly address: string
  /**
   * Reads forever: waits for bytes, decodes them and calls `onCommand` for each complete command,
   * in order. Fails with the reason the connection ended; after that the connection is unhealthy.
   * Only one reader may run at a time.
   */
  readonly readLoop: (onCommand: (command: RemotingCommand) => void) => Effect.Effect<never, CloseReason>
  /**
   * Writes bytes with one socket write; waits for `drain` when the socket buffer is full. Never
   * fails on its own when the peer is gone (see the module note): interrupt it.
   */
  readonly write: (bytes: Uint8Array) => Effect.Effect<void, ConnectionReset>
  /** Writes several buffers as one (corked) socket write: a writev, no copying. */
  readonly writeAll: (chunks: ReadonlyArray<Uint8Array>) => Effect.Effect<void, ConnectionReset>
  /**
   * Writes several buffers as one socket write now, synchronously, when the connection can (a Node
   * socket it owns): true when the socket wants no `drain` first. Whoever writes this way must not
   * write again before {@link awaitDrain} when it returns false. Undefined for connections over an
   * Effect socket, whose writes are Effects.
   */
  readonly writeNow?: ((chunks: ReadonlyArray<Uint8Array>) => boolean) | undefined
  /** Waits for the socket's `drain` (after {@link writeNow} returned false). Defined with `writeNow`. */
  readonly awaitDrain?: Effect.Effect<void, ConnectionReset> | undefined
  /** True while the socket is open and nothing has failed. */
  readonly isHealthy: () => boolean
  /** Destroys the socket now (idempotent). Reading then fails; the reason passed is kept. */
  readonly close: (reason?: "reset" | undefined) => void
}

/**
 * @since 0.1.0
 * @category services
 */
export class Connection extends Context.Service<Connection, ConnectionShape>()("rocketmq/remoting/Connection") {}

/**
 * Builds a connection over an Effect socket whose `reader` opens (or already holds) the Node
 * socket `raw()` returns. Acquiring the reader happens here, in the current scope: for a client
 * socket that is the connect.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromSocket = Effect.fnUntraced(function*(options: {
  readonly address: string
  readonly socket: Socket.Socket
  /** The underlying Node socket, once open: for health and for closing it at once. */
  readonly raw: () => Net.Socket | undefined
  readonly maxFrameLength?: number | undefined
}) {
  const { address, raw } = options
  const reader = yield* Socket.readerBytes(options.socket)
  const writer = yield* options.socket.writer
  const decoder = new Codec.FrameDecoder({ maxFrameLength: options.maxFrameLength })
  let failure: CloseReason | undefined
  let closedByUs: "close" | "reset" | undefined
  // Whether anything went either way: a peer that closes on us without a word after our first
  // request is probably expecting another protocol (TLS), and the error says so.
  let wrote = false
  let received = false

  const toReason = (error: Socket.SocketError): CloseReason => {
    const reason = error.reason
    if (closedByUs !== undefined) return new ClosedLocally({ address })
    if (reason._tag === "SocketCloseError" && reason.code === 1000) {
      return wrote && !received ? new ClosedByPeer({ address, silent: true }) : new ClosedByPeer({ address })
    }
    if (reason._tag === "SocketReadError") return new ConnectionReset({ address, detail: NetConnection.errorCode(reason.cause) })
    return new ConnectionReset({ address, detail: error.message })
  }

  const fail = (reason: CloseReason): Effect.Effect<never, CloseReason> => {
    failure ??= reason
    return Effect.fail(failure)
  }

  const readLoop = (onCommand: (command: RemotingCommand) => void): Effect.Effect<never, CloseReason> => {
    const onChunks = (chunks: ReadonlyArray<Uint8Array>): Effect.Effect<void, CloseReason> => {
      received = true
      for (let i = 0; i < chunks.length; i++) {
        const error = decoder.pushEach(chunks[i]!, onCommand)
        if (error !== undefined) {
          const socket = raw()
          if (socket !== undefined && !socket.destroyed) socket.destroy()
          return fail(error)
        }
      }
      return Effect.void
    }
    const step = reader.pipe(
      Effect.catch((error) => fail(failure ?? toReason(error))),
      Effect.flatMap(onChunks)
    )
    return Effect.suspend(() => (failure !== undefined ? Effect.fail(failure) : Effect.forever(step)))
  }

  const write = (bytes: Uint8Array): Effect.Effect<void, ConnectionReset> => {
    wrote = true
    return writer.write(bytes).pipe(
      Effect.mapError((error) => new ConnectionReset({ address, detail: `write failed: ${NetConnection.errorCode(error.reason)}` }))
    )
  }

  const writeAll = (chunks: ReadonlyArray<Uint8Array>): Effect.Effect<void, ConnectionReset> =>
    chunks.length === 0
      ? Effect.void
      : (wrote = true, writer.writeAll(chunks as readonly [Uint8Array, ...Array<Uint8Array>]).pipe(
        Effect.mapError((error) => new ConnectionReset({ address, detail: `write failed: ${NetConnection.errorCode(error.reason)}` }))
      ))

  const isHealthy = (): boolean => {
    if (failure !== undefined || closedByUs !== undefined || decoder.error !== undefined) return false
    const socket = raw()
    return socket !== undefined && !socket.destroyed
  }

  const close = (how?: "reset" | undefined): void => {
    if (closedByUs !== undefined) return
    closedByUs = how ?? "close"
    const socket = raw()
    if (socket === undefined || socket.destroyed) return
    if (how === "reset") socket.resetAndDestroy()
    else socket.destroy()
  }

  return Connection.of({ address, readLoop, write, writeAll, isHealthy, close })
})

/**
 * Opens a TCP (or TLS) connection to `options.host:options.port` in the current scope: `noDelay`
 * on, connect bounded by `connectTimeout` (Effect's clock, so `TestClock` drives it), typed
 * {@link ConnectError} naming the address. Closing the scope destroys the socket.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: ConnectionOptions): Effect.Effect<ConnectionShape, ConnectError, Scope.Scope> =>
  Effect.suspend(() => {
    const host = options.host
    const port = options.port
    if (host === undefined || host.length === 0 || port === undefined) {
      return Effect.fail(
        new ConnectError({
          address: host !== undefined && host.length > 0 ? host : "",
          reason: "NoAddress",
          detail: "no address configured"
        })
      )
    }
    if (!Number.isInteger(port) || port <= 0 || port > 65535) {
      return Effect.fail(
        new ConnectError({
          address: Address.format({ host, port }),
          reason: "Failed",
          detail: `port ${port} is not a TCP port (1–65535)`
        })
      )
    }
    const address = Address.format({ host, port })
    const highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK
    const timeout = Duration.fromInputUnsafe(options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT)
    let raw: Net.Socket | undefined
    const tlsOn = options.tls !== undefined && options.tls !== false
    // Node reads a TLS socket itself; a plain one reads into our frame reader.
    const direct = tlsOn ? undefined : NetConnection.directReads(options.maxFrameLength)
    // With TLS: whether the TCP connect completed. A failure after it and before the handshake
    // completed is the handshake's (a certificate problem, or a peer that does not speak TLS).
    let tcpConnected = false
    let handshakeDone = false
    // The finalizer first, then an interruptible connect (acquireRelease would make the connect
    // uninterruptible, and a connect that never completes would outlive its timeout).
    const open = Effect.flatMap(
      Effect.addFinalizer(() => Effect.sync(() => raw?.destroy())),
      () =>
        Effect.callback<Net.Socket, Socket.SocketError>((resume) => {
          const tls = options.tls
          const conn = !tlsOn
            ? Net.createConnection({ host, port, noDelay: true, highWaterMark, onread: direct?.onread } as Net.NetConnectOpts)
              // Paused until the first read loop (see internal/netConnection.ts).
              .pause()
            : Tls.connect({ ...(tls === true ? {} : tls), host, port, highWaterMark } as Tls.ConnectionOptions).setNoDelay(true)
          raw = conn
          // A permanent listener: an 'error' event without one would crash the process.
          conn.on("error", () => {})
          if (tlsOn) conn.once("connect", () => (tcpConnected = true))
          const connectedEvent = tlsOn ? "secureConnect" : "connect"
          const onConnect = () => {
            handshakeDone = true
            conn.off("error", onError)
            resume(Effect.succeed(conn))
          }
          const onError = (cause: unknown) => {
            conn.off(connectedEvent, onConnect)
            resume(Effect.fail(new Socket.SocketError({ reason: new Socket.SocketOpenError({ kind: "Unknown", cause }) })))
          }
          conn.once(connectedEvent, onConnect)
          conn.once("error", onError)
          return Effect.sync(() => {
            conn.off(connectedEvent, onConnect)
            conn.off("error", onError)
            conn.destroy()
          })
        })
    )
    // Over the Node socket itself rather than an Effect socket: see internal/netConnection.ts.
    return open.pipe(
      Effect.timeoutOrElse({
        duration: timeout,
        orElse: () => Effect.fail(new ConnectError({ address, reason: "Timeout", detail: Duration.format(timeout) }))
      }),
      Effect.map((socket) =>
        NetConnection.make({ address, socket, maxFrameLength: options.maxFrameLength, reads: direct?.reads })
      ),
      Effect.catchTag("SocketError", (error) => {
        const cause = error.reason._tag === "SocketOpenError" ? error.reason.cause : error
        const code = NetConnection.errorCode(cause)
        return Effect.fail(
          new ConnectError({
            address,
            reason: code === "ECONNREFUSED" ? "Refused" : tlsOn && tcpConnected && !handshakeDone ? "Tls" : "Failed",
            detail: code
          })
        )
      })
    )
  })

/**
 * The {@link Connection} service for `options`, opened when the layer is built and closed with it.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: ConnectionOptions): Layer.Layer<Connection, ConnectError> =>
  Layer.effect(Connection, make(options))
