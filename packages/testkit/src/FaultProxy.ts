/**
 * A fault-injecting TCP proxy: put it between a client and any real peer (a Java broker, a name
 * server, a FakeBroker) and misbehave on command, per connection and per direction.
 *
 * - **latency** on each chunk, on Effect's `Clock` (so `TestClock` drives it in unit tests);
 * - a **bandwidth** limit in bytes per second;
 * - **hold** (stop forwarding and stop reading: the sender's writes back up, as in a network
 *   partition; everything flows again, in order, on `pass`) or **drop** (read and discard: a black
 *   hole; the connection stays open and silent);
 * - a **cut** with FIN or RST, on both sides or on one (the other side then stays open and silent:
 *   a half-open connection);
 * - **split** writes into segments of at most N bytes (or random sizes), **coalesce** chunks that
 *   arrive within a window into one write;
 * - a **rewrite** hook on raw chunks or on whole RocketMQ frames (garbage, oversized lengths, bogus
 *   opaques, hostile JSON mid-stream).
 *
 * "upstream" is client → peer (requests), "downstream" is peer → client (responses). A FIN or RST
 * from one side travels through its direction like data, so a held or dropped direction hides it.
 *
 * The proxy is scoped: closing its scope stops accepting and destroys every connection. It listens
 * on loopback only. It does not terminate TLS (TLS bytes pass through, and a frame rewrite cannot
 * see inside them), and it does not simulate connect timeouts: a refused connection is accepted
 * and then reset.
 *
 * The machinery is in `internal/faultPipe.ts` (one direction) and `internal/faultConnection.ts`
 * (one connection); this file is the public surface, its validation and the accept loop.
 *
 * @since 0.1.0
 */
import { Address } from "@effect-rocketmq/remoting"
import { Context, Deferred, Duration, Effect, Exit, FiberSet, Layer, Queue, Result, Schema, Scope } from "effect"
import * as Net from "node:net"
import * as Connection from "./internal/faultConnection.ts"

// -------------------------------------------------------------------------------------------------
// Faults
// -------------------------------------------------------------------------------------------------

/**
 * "upstream": client → peer; "downstream": peer → client.
 *
 * @since 0.1.0
 * @category models
 */
export type Direction = "upstream" | "downstream"

/**
 * @since 0.1.0
 * @category models
 */
export type Directions = Direction | "both"

/**
 * Writes of at most `maxSegment` bytes (each its own socket write, Nagle off), of a random size in
 * `[minSegment, maxSegment]` (Effect's `Random`) when `minSegment` is given, with `pause` (Effect's
 * `Clock`) between them. A receiver that reads as data arrives sees the pieces apart; a pause makes
 * sure of it.
 *
 * @since 0.1.0
 * @category models
 */
export interface SplitOptions {
  readonly maxSegment: number
  readonly minSegment?: number | undefined
  readonly pause?: Duration.Input | undefined
}

/**
 * After a chunk arrives, wait `window` (Effect's `Clock`) and write it together with every chunk
 * that arrived meanwhile (up to `maxBytes`) in one write.
 *
 * @since 0.1.0
 * @category models
 */
export interface CoalesceOptions {
  readonly window: Duration.Input
  readonly maxBytes?: number | undefined
}

/**
 * Where a rewritten chunk or frame comes from: the connection, the direction, and its index in
 * that direction (0, 1, …).
 *
 * @since 0.1.0
 * @category models
 */
export interface RewriteContext {
  readonly connection: number
  readonly direction: Direction
  readonly index: number
}

/**
 * What replaces a chunk or frame: bytes, several buffers, or `[]` to drop it.
 *
 * @since 0.1.0
 * @category models
 */
export type RewriteResult = Uint8Array | ReadonlyArray<Uint8Array>

/**
 * A rewrite hook: on raw chunks as they are read, or on whole RocketMQ frames (the proxy
 * reassembles them; each frame includes its 4-byte length prefix). A frame stream whose length
 * prefix is out of range (below 4, or over 16 MiB) stops being framed: the rest passes unchanged.
 *
 * @since 0.1.0
 * @category models
 */
export type Rewrite =
  | {
    readonly _tag: "Bytes"
    readonly rewrite: (chunk: Uint8Array, context: RewriteContext) => Effect.Effect<RewriteResult>
  }
  | {
    readonly _tag: "Frames"
    readonly rewrite: (frame: Uint8Array, context: RewriteContext) => Effect.Effect<RewriteResult>
  }

/**
 * @since 0.1.0
 * @category constructors
 */
export const rewriteBytes = (
  rewrite: (chunk: Uint8Array, context: RewriteContext) => Effect.Effect<RewriteResult>
): Rewrite => ({ _tag: "Bytes", rewrite })

/**
 * @since 0.1.0
 * @category constructors
 */
export const rewriteFrames = (
  rewrite: (frame: Uint8Array, context: RewriteContext) => Effect.Effect<RewriteResult>
): Rewrite => ({ _tag: "Frames", rewrite })

/**
 * The faults of one direction. `forward`: "pass" (default), "hold" or "drop". Applied in this
 * order: hold/drop, latency, coalesce, rewrite, split, bandwidth.
 *
 * @since 0.1.0
 * @category models
 */
export interface DirectionFaults {
  readonly latency?: Duration.Input | undefined
  readonly bytesPerSecond?: number | undefined
  readonly forward?: "pass" | "hold" | "drop" | undefined
  readonly split?: SplitOptions | undefined
  readonly coalesce?: CoalesceOptions | undefined
  readonly rewrite?: Rewrite | undefined
}

/**
 * Byte counts of one direction: `received` from the source, `forwarded` to the sink, `dropped`
 * by "drop"; `writes` to the sink, and `frames` seen by a frame rewrite.
 *
 * @since 0.1.0
 * @category models
 */
export interface DirectionStats {
  received: number
  forwarded: number
  dropped: number
  writes: number
  frames: number
}

/**
 * Why a connection ended (the first of these that happened).
 *
 * @since 0.1.0
 * @category models
 */
export type CloseReason =
  | { readonly _tag: "Closed"; readonly by: "client" | "target"; readonly how: "fin" | "rst" }
  | { readonly _tag: "Cut"; readonly side: "both" | "client" | "target"; readonly how: "fin" | "rst" }
  | { readonly _tag: "TargetUnreachable"; readonly detail: string }
  | { readonly _tag: "ProxyClosed" }

// -------------------------------------------------------------------------------------------------
// Errors
// -------------------------------------------------------------------------------------------------

/**
 * The proxy could not listen.
 *
 * @since 0.1.0
 * @category errors
 */
export class ProxyListenError extends Schema.TaggedError<ProxyListenError>()("ProxyListenError", {
  address: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `The fault proxy cannot listen on ${this.address}: ${this.detail}. ` +
      "Choose another port (0 picks a free one)."
  }
}

/**
 * Options or faults that make no sense (a non-loopback listen address, a target that is not
 * host:port, a negative latency, a zero bandwidth, …).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidProxyOptions extends Schema.TaggedError<InvalidProxyOptions>()("InvalidProxyOptions", {
  detail: Schema.String
}) {
  override get message(): string {
    return `Invalid fault proxy options: ${this.detail}.`
  }
}

// -------------------------------------------------------------------------------------------------
// Connections and the proxy
// -------------------------------------------------------------------------------------------------

/**
 * One proxied connection.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProxyConnection {
  /** 0, 1, … in the order the proxy accepted them. */
  readonly id: number
  /** The client's `host:port`, as the proxy sees it. */
  readonly clientAddress: string
  /** Merges `faults` into the current faults of the direction(s); a key set to undefined clears it. */
  readonly set: (directions: Directions, faults: DirectionFaults) => Effect.Effect<void, InvalidProxyOptions>
  /** Back to plain forwarding (every fault cleared). */
  readonly clear: (directions?: Directions | undefined) => Effect.Effect<void>
  /** Stop forwarding and reading (TCP backpressure); `pass` forwards everything held, in order. */
  readonly hold: (directions?: Directions | undefined) => Effect.Effect<void>
  /** A black hole: read and discard, the connection stays open and silent. */
  readonly drop: (directions?: Directions | undefined) => Effect.Effect<void>
  /** Forward again. */
  readonly pass: (directions?: Directions | undefined) => Effect.Effect<void>
  /**
   * Closes with FIN or RST: the client's side, the target's side, or both. After a one-sided cut
   * the other side stays open and hears nothing more (half-open).
   */
  readonly cut: (how: "fin" | "rst", side?: "both" | "client" | "target" | undefined) => Effect.Effect<void>
  readonly faults: (direction: Direction) => DirectionFaults
  readonly stats: () => { readonly upstream: DirectionStats; readonly downstream: DirectionStats }
  readonly isOpen: () => boolean
  /** Waits until both sockets are closed; why. */
  readonly closed: Effect.Effect<CloseReason>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface FaultProxyOptions {
  /** The peer, `host:port` (or `[v6]:port`). */
  readonly target: string
  /** A loopback address. Default `127.0.0.1`. */
  readonly host?: string | undefined
  /** Default 0: a free port. */
  readonly port?: number | undefined
  /** Faults of new connections (also settable later with `set`). */
  readonly upstream?: DirectionFaults | undefined
  readonly downstream?: DirectionFaults | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface FaultProxyShape {
  /** `host:port` to give the client instead of the target's. */
  readonly address: string
  readonly host: string
  readonly port: number
  readonly target: string
  /** Open connections. */
  readonly connections: () => ReadonlyArray<ProxyConnection>
  /** Waits until `n` connections have been accepted; the first `n`, in order. */
  readonly waitForConnections: (n: number) => Effect.Effect<ReadonlyArray<ProxyConnection>>
  /** Sets faults on every open connection and on every later one. */
  readonly set: (directions: Directions, faults: DirectionFaults) => Effect.Effect<void, InvalidProxyOptions>
  readonly clear: (directions?: Directions | undefined) => Effect.Effect<void>
  /** Cuts every open connection. */
  readonly cutAll: (how: "fin" | "rst", side?: "both" | "client" | "target" | undefined) => Effect.Effect<void>
  /**
   * False: new connections are reset as soon as they are accepted, without a connection to the
   * target (a dead port, as a client sees it: ECONNRESET instead of ECONNREFUSED).
   */
  readonly setAccepting: (accepting: boolean) => Effect.Effect<void>
  /**
   * Connections accepted (and refused) so far, open now, and the proxy's live fibers (one per open
   * connection plus the acceptor).
   */
  readonly diagnostics: () => {
    readonly accepted: number
    readonly refused: number
    readonly open: number
    readonly fibers: number
  }
}

// -------------------------------------------------------------------------------------------------
// Validation
// -------------------------------------------------------------------------------------------------

const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || (Net.isIPv4(host) && host.startsWith("127."))

const badDuration = (input: Duration.Input | undefined): boolean => {
  if (input === undefined) return false
  const decoded = Duration.fromInput(input)
  return decoded._tag === "None" || Duration.toMillis(decoded.value) < 0
}

const validate = (faults: DirectionFaults): Effect.Effect<DirectionFaults, InvalidProxyOptions> => {
  const problem = (() => {
    if (badDuration(faults.latency)) return `latency ${String(faults.latency)} is not a duration of 0 or more`
    const rate = faults.bytesPerSecond
    if (rate !== undefined && !(Number.isFinite(rate) && rate > 0)) return `bytesPerSecond ${rate} must be above 0`
    const split = faults.split
    if (split !== undefined) {
      if (!Number.isInteger(split.maxSegment) || split.maxSegment < 1) return `split.maxSegment ${split.maxSegment} must be an integer of 1 or more`
      const min = split.minSegment
      if (min !== undefined && (!Number.isInteger(min) || min < 1 || min > split.maxSegment)) {
        return `split.minSegment ${min} must be an integer in 1..maxSegment (${split.maxSegment})`
      }
      if (badDuration(split.pause)) return `split.pause ${String(split.pause)} is not a duration of 0 or more`
    }
    const coalesce = faults.coalesce
    if (coalesce !== undefined) {
      if (badDuration(coalesce.window)) return `coalesce.window ${String(coalesce.window)} is not a duration of 0 or more`
      const max = coalesce.maxBytes
      if (max !== undefined && !(Number.isInteger(max) && max >= 1)) return `coalesce.maxBytes ${max} must be an integer of 1 or more`
    }
    return undefined
  })()
  return problem === undefined ? Effect.succeed(faults) : Effect.fail(new InvalidProxyOptions({ detail: problem }))
}

const directionsOf = (directions: Directions | undefined): ReadonlyArray<Direction> =>
  directions === undefined || directions === "both" ? ["upstream", "downstream"] : [directions]

// -------------------------------------------------------------------------------------------------
// One connection, as callers see it
// -------------------------------------------------------------------------------------------------

const expose = (connection: Connection.Connection): ProxyConnection => {
  const each = (directions: Directions | undefined, f: (faults: DirectionFaults) => DirectionFaults) =>
    Effect.sync(() => directionsOf(directions).forEach((direction) => connection.update(direction, f)))
  const forward = (mode: "pass" | "hold" | "drop") => (directions?: Directions | undefined) =>
    each(directions, (faults) => ({ ...faults, forward: mode }))
  return {
    id: connection.id,
    clientAddress: connection.clientAddress,
    set: (directions, patch) => Effect.flatMap(validate(patch), (valid) => each(directions, (faults) => ({ ...faults, ...valid }))),
    clear: (directions) => each(directions, () => ({})),
    hold: forward("hold"),
    drop: forward("drop"),
    pass: forward("pass"),
    cut: (how, side) => Effect.sync(() => connection.cut(how, side ?? "both")),
    faults: connection.faults,
    stats: connection.stats,
    isOpen: connection.isOpen,
    closed: connection.closed
  }
}

// -------------------------------------------------------------------------------------------------
// The proxy
// -------------------------------------------------------------------------------------------------

const listen = (server: Net.Server, host: string, port: number): Effect.Effect<number, ProxyListenError> =>
  Effect.callback<number, ProxyListenError>((resume) => {
    const onError = (error: Error) =>
      resume(Effect.fail(new ProxyListenError({ address: Address.format({ host, port }), detail: error.message })))
    server.once("error", onError)
    server.listen({ host, port, exclusive: true }, () => {
      server.off("error", onError)
      const address = server.address()
      resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : port))
    })
  })

/**
 * Starts a proxy to `options.target` on a loopback port; it runs until the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: FaultProxyOptions
): Effect.Effect<FaultProxyShape, ProxyListenError | InvalidProxyOptions, Scope.Scope> =>
  Effect.gen(function*() {
    const host = options.host ?? "127.0.0.1"
    if (!isLoopback(host)) {
      return yield* new InvalidProxyOptions({ detail: `host ${host} is not a loopback address; the proxy listens on loopback only` })
    }
    const parsed = Address.parse(options.target)
    if (Result.isFailure(parsed)) {
      return yield* new InvalidProxyOptions({ detail: `target "${options.target}" is not host:port` })
    }
    const target = parsed.success
    const defaults = {
      upstream: yield* validate(options.upstream ?? {}),
      downstream: yield* validate(options.downstream ?? {})
    }

    const accepts = yield* Queue.unbounded<Net.Socket>()
    let accepting = true
    let closing = false
    let refused = 0
    const server = Net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      if (closing) socket.destroy()
      else if (!accepting) {
        refused++
        socket.resetAndDestroy()
      } else Queue.offerUnsafe(accepts, socket)
    })
    // Runs last: once every connection is destroyed, server.close() returns.
    yield* Effect.addFinalizer(() => Effect.callback<void>((resume) => {
        server.close(() => resume(Effect.void))
      }))
    const port = yield* listen(server, host, options.port ?? 0)
    // Sockets accepted but not served yet are destroyed too, or server.close() would wait for them.
    yield* Effect.addFinalizer(() =>
      Effect.flatMap(
        Effect.sync(() => (closing = true)),
        () => Effect.map(Queue.clear(accepts), (sockets) => sockets.forEach((socket) => socket.destroy()))
      )
    )

    const fibers = yield* FiberSet.make()
    const live = new Map<Connection.Connection, ProxyConnection>()
    const accepted: Array<ProxyConnection> = []
    const waiters: Array<{ readonly n: number; readonly deferred: Deferred.Deferred<ReadonlyArray<ProxyConnection>> }> = []

    const serve = (socket: Net.Socket) =>
      Effect.gen(function*() {
        const connection = yield* Connection.make(accepted.length, socket, target, defaults)
        const exposed = expose(connection)
        // Visible from here on: a `set` from now reaches it; one made while it was being built is
        // in the defaults.
        live.set(connection, exposed)
        connection.update("upstream", () => defaults.upstream)
        connection.update("downstream", () => defaults.downstream)
        accepted.push(exposed)
        for (const waiter of waiters.filter((w) => w.n <= accepted.length)) {
          waiters.splice(waiters.indexOf(waiter), 1)
          Deferred.doneUnsafe(waiter.deferred, Exit.succeed(accepted.slice(0, waiter.n)))
        }
        yield* FiberSet.run(fibers, Effect.ensuring(connection.run, Effect.sync(() => live.delete(connection))), {
          startImmediately: true
        })
      })
    yield* FiberSet.run(fibers, Effect.forever(Effect.flatMap(Queue.take(accepts), serve)))

    const each = <E>(f: (connection: ProxyConnection) => Effect.Effect<void, E>) =>
      Effect.forEach(Array.from(live.values()), f, { discard: true })

    return {
      address: Address.format({ host, port }),
      host,
      port,
      target: Address.format(target),
      connections: () => Array.from(live.values()),
      waitForConnections: (n) =>
        Effect.suspend(() => {
          if (accepted.length >= n) return Effect.succeed(accepted.slice(0, n))
          const deferred = Deferred.makeUnsafe<ReadonlyArray<ProxyConnection>>()
          waiters.push({ n, deferred })
          return Deferred.await(deferred)
        }),
      set: (directions, patch) =>
        Effect.gen(function*() {
          const valid = yield* validate(patch)
          for (const direction of directionsOf(directions)) defaults[direction] = { ...defaults[direction], ...valid }
          yield* each((connection) => connection.set(directions, valid))
        }),
      clear: (directions) =>
        Effect.sync(() => {
          for (const direction of directionsOf(directions)) defaults[direction] = {}
        }).pipe(Effect.andThen(each((connection) => connection.clear(directions)))),
      cutAll: (how, side) => each((connection) => connection.cut(how, side)),
      setAccepting: (value) =>
        Effect.sync(() => {
          accepting = value
        }),
      // A closed FiberSet cannot be iterated in effect 4.1 (its iterator returns an iterable).
      diagnostics: () => ({ accepted: accepted.length, refused, open: live.size, fibers: closing ? 0 : Array.from(fibers).length })
    } satisfies FaultProxyShape
  })

/**
 * @since 0.1.0
 * @category services
 */
export class FaultProxy extends Context.Service<FaultProxy, FaultProxyShape>()("rocketmq/testkit/FaultProxy") {}

/**
 * A layer providing a {@link FaultProxy} to `options.target`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: FaultProxyOptions): Layer.Layer<FaultProxy, ProxyListenError | InvalidProxyOptions> =>
  Layer.effect(FaultProxy, make(options))
