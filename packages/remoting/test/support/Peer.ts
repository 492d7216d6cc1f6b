/**
 * A scriptable loopback peer built on node:net, for channel tests: it decodes the frames a client
 * sends and lets each test decide what goes back — answers, silence, garbage, FIN or RST.
 */
import { Effect, Result, Scope } from "effect"
import { Buffer } from "node:buffer"
import * as Net from "node:net"
import * as Codec from "../../src/Codec.ts"
import * as RemotingCommand from "../../src/RemotingCommand.ts"

export interface PeerConnection {
  readonly socket: Net.Socket
  /** Requests received so far, in order. */
  readonly received: Array<RemotingCommand.RemotingCommand>
  readonly reply: (command: RemotingCommand.RemotingCommand, serializeType?: Codec.SerializeType) => void
  readonly writeRaw: (bytes: Uint8Array) => void
}

export interface Peer {
  readonly port: number
  readonly address: string
  readonly connections: Array<PeerConnection>
  /** Resolves when the n-th connection (1-based) has been accepted. */
  readonly connection: (n?: number) => Effect.Effect<PeerConnection>
  /** Resolves once `count` requests have arrived on connection `n`. */
  readonly waitForRequests: (count: number, n?: number) => Effect.Effect<ReadonlyArray<RemotingCommand.RemotingCommand>>
}

export type OnRequest = (request: RemotingCommand.RemotingCommand, connection: PeerConnection) => void

/** Echo: answer every non-oneway request with SUCCESS, the same opaque, its ext fields and body. */
export const echo: OnRequest = (request, connection) => {
  if (RemotingCommand.isOneway(request)) return
  connection.reply(
    RemotingCommand.response(request, 0, undefined, { extFields: request.extFields, body: request.body })
  )
}

export const silent: OnRequest = () => {}

export const make = (onRequest: OnRequest, options?: { readonly host?: string }): Effect.Effect<Peer, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<{ server: Net.Server; peer: Peer }>((resume) => {
      const connections: Array<PeerConnection> = []
      const waiters: Array<() => void> = []
      const notify = () => {
        for (const w of waiters.splice(0)) w()
      }
      const server = Net.createServer((socket) => {
        socket.on("error", () => {})
        const decoder = new Codec.FrameDecoder()
        const received: Array<RemotingCommand.RemotingCommand> = []
        const connection: PeerConnection = {
          socket,
          received,
          reply: (command, type) => {
            if (!socket.destroyed) socket.write(Codec.encodeFrame(command, type))
          },
          writeRaw: (bytes) => {
            if (!socket.destroyed) socket.write(bytes)
          }
        }
        connections.push(connection)
        socket.on("data", (chunk) => {
          const out = decoder.push(chunk)
          if (Result.isFailure(out)) {
            socket.destroy()
            return
          }
          for (const request of out.success) {
            received.push(request)
            onRequest(request, connection)
          }
          notify()
        })
        notify()
      })
      const host = options?.host ?? "127.0.0.1"
      server.listen(0, host, () => {
        const port = (server.address() as Net.AddressInfo).port
        const waitUntil = <A>(check: () => A | undefined): Effect.Effect<A> =>
          Effect.callback<A>((resume) => {
            const poll = () => {
              const value = check()
              if (value !== undefined) resume(Effect.succeed(value))
              else waiters.push(poll)
            }
            poll()
          })
        resume(Effect.succeed({
          server,
          peer: {
            port,
            address: host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`,
            connections,
            connection: (n = 1) => waitUntil(() => connections[n - 1]),
            waitForRequests: (count, n = 1) =>
              waitUntil(() => {
                const c = connections[n - 1]
                return c !== undefined && c.received.length >= count ? c.received.slice(0, count) : undefined
              })
          }
        }))
      })
    }),
    ({ server, peer }) =>
      Effect.callback<void>((resume) => {
        for (const c of peer.connections) c.socket.destroy()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ peer }) => peer))

export const bytes = (s: string) => Buffer.from(s)
