/**
 * RemotingServer and RemotingClient wired together in memory: no sockets, no ports, the same
 * channels. Code built on the remoting client or a `Channel` can be unit-tested fast and
 * deterministically, with `TestClock` driving every timeout.
 *
 * An {@link InMemoryNetwork} is a set of in-memory addresses: {@link InMemoryNetwork.serve} puts a
 * `RemotingServer` at an address (`"host:port"`, any name you like), and
 * {@link InMemoryNetwork.connect} opens a `Channel` to one. `connect` is a
 * `RemotingClient.ChannelFactory`, so a real `RemotingClient` made with it talks to the in-memory
 * servers exactly as it would over TCP (single-flight connects, GO_AWAY, hooks, permits).
 *
 * Each connection is a pair of in-process streams (`node:stream` `duplexPair`) under the same
 * `Connection.fromSocket` + `Channel.fromConnection` code both sides use over TCP. Closing one end is
 * seen by the other as a FIN; {@link InMemorySocket.resetAndDestroy} as an RST (`ECONNRESET`).
 * Connecting to an address nobody serves fails at once with `ConnectError` (`Refused`).
 *
 * What is not simulated: TLS, latency, partial writes by the kernel, and back-pressure beyond the
 * streams' own buffers.
 *
 * @since 0.1.0
 */
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import * as Address from "@effect-rocketmq/remoting/Address"
import * as Channel from "@effect-rocketmq/remoting/Channel"
import * as Connection from "@effect-rocketmq/remoting/Connection"
import { ConnectError, type InvalidAddress } from "@effect-rocketmq/remoting/RemotingError"
import * as RemotingClient from "@effect-rocketmq/remoting/RemotingClient"
import * as RemotingServer from "@effect-rocketmq/remoting/RemotingServer"
import { Context, Effect, Exit, Fiber, Layer, Scope } from "effect"
import * as NetAddress from "effect/net/NetAddress"
import type * as Socket from "effect/socket/Socket"
import type * as SocketServer from "effect/socket/SocketServer"
import type * as Net from "node:net"
import { type Duplex, duplexPair } from "node:stream"

// -------------------------------------------------------------------------------------------------
// In-memory sockets
// -------------------------------------------------------------------------------------------------

/**
 * One end of an in-memory connection: a `Duplex` with the parts of `net.Socket` the remoting
 * code uses.
 *
 * @since 0.1.0
 * @category models
 */
export interface InMemorySocket extends Duplex {
  readonly remoteAddress: string
  readonly remotePort: number
  /** Destroys this end; the other end fails with `ECONNRESET`, as after a TCP RST. */
  resetAndDestroy(): this
}

/**
 * Two connected in-memory sockets. Destroying one end ends the other's readable side (FIN);
 * `resetAndDestroy` on one end destroys the other with `ECONNRESET` (RST).
 *
 * @since 0.1.0
 * @category constructors
 */
export const socketPair = (
  names: { readonly client: readonly [string, number]; readonly server: readonly [string, number] }
): readonly [client: InMemorySocket, server: InMemorySocket] => {
  const [a, b] = duplexPair()
  const link = (self: Duplex, other: Duplex, remote: readonly [string, number]): InMemorySocket => {
    let reset = false
    const socket = Object.assign(self, {
      remoteAddress: remote[0],
      remotePort: remote[1],
      resetAndDestroy(this: InMemorySocket) {
        reset = true
        if (!other.destroyed) {
          other.destroy(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET", errno: -104, syscall: "read" }))
        }
        self.destroy()
        return this
      }
    }) as InMemorySocket
    // A destroyed end is a closed socket: the other end reads EOF (a FIN) unless this was a reset.
    self.once("close", () => {
      if (!reset && !other.destroyed && !other.readableEnded) other.push(null)
    })
    return socket
  }
  return [link(a, b, names.server), link(b, a, names.client)]
}

// -------------------------------------------------------------------------------------------------
// Network
// -------------------------------------------------------------------------------------------------

/**
 * @since 0.1.0
 * @category models
 */
export interface InMemoryNetwork {
  /**
   * Serves a `RemotingServer` at `address` (`host:port` or `[v6]:port`) until the scope closes or
   * the server shuts down. Fails with `ServerListenError` when the address is already served.
   */
  readonly serve: <R = never>(
    address: string,
    options?: RemotingServer.RemotingServerOptions<R> | undefined
  ) => Effect.Effect<RemotingServer.RemotingServerShape, RemotingServer.ServerListenError, Scope.Scope | R>
  /**
   * Opens a channel to the server at `options.host:options.port` in the current scope (the other
   * channel options apply as over TCP). A `RemotingClient.ChannelFactory`.
   */
  readonly connect: RemotingClient.ChannelFactory
  /** The addresses served now. */
  readonly addresses: Effect.Effect<ReadonlyArray<string>>
}

const parseAddress = (address: string): { host: string; port: number } | undefined => {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address)
  if (match === null) return undefined
  const port = Number(match[2])
  return port <= 65535 ? { host: match[1]!, port } : undefined
}

interface Listener {
  accept: ((socket: InMemorySocket) => void) | undefined
  readonly pending: Array<InMemorySocket>
}

const openSocket = (side: InMemorySocket): Effect.Effect<Socket.Socket> =>
  NodeSocket.fromDuplex(Effect.acquireRelease(Effect.succeed<Duplex>(side), (s) => Effect.sync(() => s.destroy())))

/**
 * A socket server whose connections come from {@link InMemoryNetwork.connect}; handlers get the
 * in-memory socket as `NodeSocket.NetSocket`, as Node's socket servers give theirs.
 */
const inMemorySocketServer = (listener: Listener): SocketServer.SocketServer["Service"] => ({
  address: NetAddress.unixPathAddress("in-memory"),
  run: <R, E, _>(handler: (socket: Socket.Socket) => Effect.Effect<_, E, R>) =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const services = Context.omit(Scope.Scope)(yield* Effect.context<R>()) as Context.Context<R>
      const accept = (side: InMemorySocket) => {
        const context = Context.add(services, NodeSocket.NetSocket, side as unknown as Net.Socket)
        const fiber = Effect.runForkWith(context)(
          openSocket(side).pipe(Effect.flatMap(handler), Effect.ignoreCause({ log: "Debug" }))
        )
        Fiber.runIn(fiber, scope)
      }
      listener.accept = accept
      for (const side of listener.pending.splice(0)) accept(side)
      return yield* Effect.never.pipe(
        Effect.ensuring(Effect.suspend(() => {
          if (listener.accept === accept) listener.accept = undefined
          return Scope.close(scope, Exit.void)
        }))
      )
    })
})

/**
 * A new, empty in-memory network.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeNetwork: Effect.Effect<InMemoryNetwork> = Effect.sync(() => {
  const listeners = new Map<string, Listener>()
  let nextClientPort = 40000

  const serve = <R = never>(
    address: string,
    options?: RemotingServer.RemotingServerOptions<R> | undefined
  ): Effect.Effect<RemotingServer.RemotingServerShape, RemotingServer.ServerListenError, Scope.Scope | R> =>
    Effect.gen(function*() {
      const parsed = parseAddress(address)
      if (parsed === undefined) {
        return yield* new RemotingServer.ServerListenError({ address, detail: "not a host:port address" })
      }
      const key = Address.format(parsed)
      if (listeners.has(key)) {
        return yield* new RemotingServer.ServerListenError({ address: key, detail: "EADDRINUSE (in memory)" })
      }
      const listener: Listener = { accept: undefined, pending: [] }
      listeners.set(key, listener)
      const unregister = Effect.sync(() => {
        if (listeners.get(key) === listener) listeners.delete(key)
      })
      yield* Effect.addFinalizer(() => unregister)
      return yield* RemotingServer.fromSocketServer(
        inMemorySocketServer(listener),
        { ...options, host: parsed.host, port: parsed.port },
        unregister
      )
    })

  const connect: RemotingClient.ChannelFactory = (options) =>
    Effect.gen(function*() {
      // A connect completes on a later tick, as a TCP connect does (callers may rely on that).
      yield* Effect.yieldNow
      const key = Address.format({ host: options.host ?? "", port: options.port ?? 0 })
      const listener = listeners.get(key)
      if (listener === undefined) {
        return yield* new ConnectError({
          address: key,
          reason: "Refused",
          detail: "ECONNREFUSED (no in-memory server at this address)"
        })
      }
      const [client, server] = socketPair({ client: ["in-memory", nextClientPort++], server: [options.host ?? "", options.port ?? 0] })
      if (listener.accept !== undefined) listener.accept(server)
      else listener.pending.push(server)
      const socket = yield* openSocket(client)
      const connection = yield* Connection.fromSocket({
        address: key,
        socket,
        raw: () => client as unknown as Net.Socket,
        maxFrameLength: options.maxFrameLength
      }).pipe(
        Effect.mapError((error) => new ConnectError({ address: key, reason: "Failed", detail: error.message }))
      )
      return yield* Channel.fromConnection(connection, options)
    })

  return {
    serve,
    connect,
    addresses: Effect.sync(() => [...listeners.keys()])
  }
})

// -------------------------------------------------------------------------------------------------
// One server, one client
// -------------------------------------------------------------------------------------------------

/**
 * @since 0.1.0
 * @category models
 */
export interface RemotingTestOptions<R = never> extends RemotingServer.RemotingServerOptions<R> {
  /** The server's in-memory address. Default `127.0.0.1:10911`. */
  readonly address?: string | undefined
  /** Options of the client (its `channelFactory` is the in-memory network's). */
  readonly client?: Omit<RemotingClient.RemotingClientOptions, "channelFactory"> | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RemotingTest {
  /** The server's address: what to pass to `client.invoke`. */
  readonly address: string
  readonly server: RemotingServer.RemotingServerShape
  /** A real `RemotingClient` whose connections are in memory. */
  readonly client: RemotingClient.RemotingClientShape
  /** Opens a bare channel to the server (the client options do not apply). */
  readonly connect: (
    options?: Omit<Channel.ChannelOptions, "host" | "port"> | undefined
  ) => Effect.Effect<Channel.ChannelShape, ConnectError, Scope.Scope>
  readonly network: InMemoryNetwork
}

/**
 * A server with `options` and a client wired to it in memory, in the current scope. The server's
 * `shutdownTimeout` defaults to 0 here (a test rarely wants teardown to wait for slow processors).
 * Fails when the client's `nameServerAddresses` do not parse.
 *
 * ```ts
 * const { address, client } = yield* RemotingTest.make({
 *   processors: { [RequestCode.GET_ROUTEINFO_BY_TOPIC]: (request) => Effect.succeed(RemotingCommand.response(request, 0)) }
 * })
 * const response = yield* client.invoke(address, RemotingCommand.make({ code: RequestCode.GET_ROUTEINFO_BY_TOPIC }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <R = never>(
  options?: RemotingTestOptions<R> | undefined
): Effect.Effect<RemotingTest, RemotingServer.ServerListenError | InvalidAddress, Scope.Scope | R> =>
  Effect.gen(function*() {
    const network = yield* makeNetwork
    const requested = options?.address ?? "127.0.0.1:10911"
    const server = yield* network.serve(requested, { shutdownTimeout: 0, ...options })
    const client = yield* RemotingClient.make({ ...options?.client, channelFactory: network.connect })
    return {
      address: server.address,
      server,
      client,
      connect: (channelOptions) => network.connect({ ...channelOptions, host: server.host, port: server.port }),
      network
    }
  })

/**
 * {@link make} as a layer providing both `RemotingServer` and `RemotingClient`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <R = never>(
  options?: RemotingTestOptions<R> | undefined
): Layer.Layer<
  RemotingServer.RemotingServer | RemotingClient.RemotingClient,
  RemotingServer.ServerListenError | InvalidAddress,
  R
> =>
  Layer.effectContext(
    Effect.map(make(options), ({ client, server }) =>
      Context.make(RemotingServer.RemotingServer, server).pipe(Context.add(RemotingClient.RemotingClient, client)))
  )
