/**
 * One connection a server accepted: its channel (built by `Channel.fromConnection` over the
 * accepted socket, exactly as a client's), a read gate for `pauseReading`, and the counts the
 * server's shutdown waits on (requests in flight, writes in progress).
 *
 * @internal
 */
import { Deferred, Effect, Exit, type Scope } from "effect"
import * as Socket from "effect/socket/Socket"
import type * as Net from "node:net"
import type { Duplex } from "node:stream"
import * as Address from "../Address.ts"
import * as Channel from "../Channel.ts"
import * as Connection from "../Connection.ts"
import type * as RemotingCommand from "../RemotingCommand.ts"
import type { ServerConnection } from "../RemotingServer.ts"

/** A gate on the read side: while closed, the channel does not pull from the socket. */
class ReadGate {
  open = true
  private waiters: Array<() => void> = []
  readonly wait: Effect.Effect<void> = Effect.suspend(() =>
    this.open ? Effect.void : Effect.callback<void>((resume) => {
      const waiter = () => resume(Effect.void)
      this.waiters.push(waiter)
      return Effect.sync(() => {
        const i = this.waiters.indexOf(waiter)
        if (i >= 0) this.waiters.splice(i, 1)
      })
    })
  )
  setOpen(open: boolean): void {
    this.open = open
    if (open && this.waiters.length > 0) {
      const waiters = this.waiters
      this.waiters = []
      for (const waiter of waiters) waiter()
    }
  }
}

const gatedSocket = (socket: Socket.Socket, gate: ReadGate): Socket.Socket => ({
  [Socket.TypeId]: Socket.TypeId,
  // Checked before a pull and again before its bytes are handed on: a pull already waiting when
  // reading is paused keeps what it got until reading resumes.
  reader: Effect.map(socket.reader, (reader) => ({
    pull: gate.wait.pipe(Effect.andThen(reader.pull), Effect.tap(() => gate.wait)),
    upgrade: reader.upgrade
  })),
  writer: socket.writer
})

const remoteAddressOf = (raw: Duplex, id: number): string => {
  const socket = raw as Partial<Net.Socket>
  const host = socket.remoteAddress
  return host !== undefined ? Address.format({ host, port: socket.remotePort ?? 0 }) : `connection-${id}`
}

/** @internal */
export interface LiveConnection {
  readonly connection: ServerConnection
  readonly raw: Duplex
  /** Requests from this connection being processed. */
  inFlight: number
  /** Socket writes in progress. */
  writing: number
}

/**
 * Builds the channel over an accepted socket in the current scope. Requests from the client go to
 * `handle`, with this connection; `onWriteDone` runs after every socket write (shutdown waits on
 * writes).
 *
 * @internal
 */
export const open = (options: {
  readonly id: number
  readonly socket: Socket.Socket
  readonly raw: Duplex
  readonly channelOptions: Channel.ChannelOptions
  readonly handle: (request: RemotingCommand.RemotingCommand, live: LiveConnection) => Effect.Effect<undefined>
  readonly onWriteDone: () => void
}): Effect.Effect<LiveConnection, Socket.SocketError, Scope.Scope> =>
  Effect.gen(function*() {
    const { id, raw, channelOptions } = options
    const remoteAddress = remoteAddressOf(raw, id)
    const gate = new ReadGate()
    const base = yield* Connection.fromSocket({
      address: remoteAddress,
      socket: gatedSocket(options.socket, gate),
      raw: () => raw as Net.Socket,
      maxFrameLength: channelOptions.maxFrameLength
    })
    // Requests can arrive before the channel is returned: they wait for the connection's record.
    const ready = Deferred.makeUnsafe<LiveConnection>()
    let live: LiveConnection | undefined
    const counted = <E>(write: Effect.Effect<void, E>): Effect.Effect<void, E> =>
      Effect.suspend(() => {
        if (live !== undefined) live.writing++
        return write.pipe(Effect.ensuring(Effect.sync(() => {
          if (live !== undefined) live.writing--
          options.onWriteDone()
        })))
      })
    const connection: Connection.ConnectionShape = {
      ...base,
      write: (bytes) => counted(base.write(bytes)),
      writeAll: (chunks) => counted(base.writeAll(chunks))
    }
    const channel = yield* Channel.fromConnection(connection, channelOptions).pipe(
      Effect.provideService(Channel.RequestHandler, {
        handle: (request) =>
          live !== undefined
            ? options.handle(request, live)
            : Effect.flatMap(Deferred.await(ready), (entry) => options.handle(request, entry))
      })
    )
    const record: LiveConnection = {
      connection: {
        id,
        remoteAddress,
        channel,
        socket: raw,
        inFlight: Effect.sync(() => record.inFlight),
        pauseReading: Effect.sync(() => gate.setOpen(false)),
        resumeReading: Effect.sync(() => gate.setOpen(true))
      },
      raw,
      inFlight: 0,
      writing: 0
    }
    live = record
    Deferred.doneUnsafe(ready, Exit.succeed(record))
    return record
  })
