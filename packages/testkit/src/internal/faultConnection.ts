/**
 * One FaultProxy connection: the client's socket, a socket to the target, and a pipe per
 * direction. Runs until both sockets are closed (or its scope closes, which destroys them), and
 * remembers the first reason it ended. Faults arrive already validated (FaultProxy.ts).
 */
import { Clock, Deferred, Effect, Exit } from "effect"
import type { Buffer } from "node:buffer"
import * as Net from "node:net"
import type { CloseReason, Direction, DirectionFaults, DirectionStats } from "../FaultProxy.ts"
import * as Pipe from "./faultPipe.ts"

export type Side = "both" | "client" | "target"

export interface Connection {
  readonly id: number
  readonly clientAddress: string
  /** Until both sockets are closed; closing its scope destroys them. */
  readonly run: Effect.Effect<void>
  readonly faults: (direction: Direction) => DirectionFaults
  readonly update: (direction: Direction, f: (faults: DirectionFaults) => DirectionFaults) => void
  readonly cut: (how: "fin" | "rst", side: Side) => void
  readonly stats: () => { readonly upstream: DirectionStats; readonly downstream: DirectionStats }
  readonly isOpen: () => boolean
  readonly closed: Effect.Effect<CloseReason>
}

const socketAddress = (socket: Net.Socket): string =>
  socket.remoteAddress === undefined
    ? "unknown"
    : `${socket.remoteFamily === "IPv6" ? `[${socket.remoteAddress}]` : socket.remoteAddress}:${socket.remotePort}`

export const make = (
  id: number,
  client: Net.Socket,
  target: { readonly host: string; readonly port: number },
  faults: { readonly upstream: DirectionFaults; readonly downstream: DirectionFaults }
): Effect.Effect<Connection> =>
  Effect.gen(function*() {
    const clock = yield* Clock.Clock
    const clientAddress = socketAddress(client)
    client.setNoDelay(true)
    const server = Net.connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true })
    const targetReady = yield* Deferred.make<boolean>()
    const clientReady = yield* Deferred.make<boolean>()
    yield* Deferred.succeed(clientReady, true)
    const pipes = {
      upstream: yield* Pipe.make({
        direction: "upstream", connection: id, source: client, sink: server, sinkReady: targetReady, clock, faults: faults.upstream
      }),
      downstream: yield* Pipe.make({
        direction: "downstream", connection: id, source: server, sink: client, sinkReady: clientReady, clock, faults: faults.downstream
      })
    }
    const closed = yield* Deferred.make<CloseReason>()
    const done = yield* Deferred.make<void>()
    let reason: CloseReason | undefined
    let socketsOpen = 2
    let connected = false
    const note = (why: CloseReason) => {
      if (reason === undefined) reason = why
    }

    const wire = (socket: Net.Socket, pipe: Pipe.Pipe, by: "client" | "target") => {
      socket.on("data", (bytes: Buffer) => pipe.push({ _tag: "Data", bytes, at: clock.currentTimeMillisUnsafe() }))
      socket.on("end", () => {
        note({ _tag: "Closed", by, how: "fin" })
        pipe.push({ _tag: "End", at: clock.currentTimeMillisUnsafe() })
      })
      socket.on("error", (error) => {
        if (by === "target" && !connected) {
          // The target refused or is unreachable: the client sees its connection reset.
          note({ _tag: "TargetUnreachable", detail: error.message })
          Deferred.doneUnsafe(targetReady, Exit.succeed(false))
          client.resetAndDestroy()
          return
        }
        note({ _tag: "Closed", by, how: "rst" })
        pipe.push({ _tag: "Reset", at: clock.currentTimeMillisUnsafe() })
      })
      socket.on("close", () => {
        if (--socketsOpen === 0) Deferred.doneUnsafe(done, Exit.void)
      })
    }
    wire(client, pipes.upstream, "client")
    wire(server, pipes.downstream, "target")
    server.once("connect", () => {
      connected = true
      Deferred.doneUnsafe(targetReady, Exit.succeed(true))
    })

    const run = Effect.gen(function*() {
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          note({ _tag: "ProxyClosed" })
          client.destroy()
          server.destroy()
          Deferred.doneUnsafe(closed, Exit.succeed(reason!))
        })
      )
      yield* Effect.forkScoped(pipes.upstream.run)
      yield* Effect.forkScoped(pipes.downstream.run)
      yield* Deferred.await(done)
    }).pipe(Effect.scoped)

    return {
      id,
      clientAddress,
      run,
      faults: (direction) => pipes[direction].faults,
      update: (direction, f) => pipes[direction].setFaults(f(pipes[direction].faults)),
      cut: (how, side) => {
        note({ _tag: "Cut", side, how })
        // Nothing crosses any more, whatever is still queued or arrives on a side left open.
        for (const pipe of [pipes.upstream, pipes.downstream]) pipe.setFaults({ ...pipe.faults, forward: "drop" })
        for (const socket of side === "both" ? [client, server] : side === "client" ? [client] : [server]) {
          if (socket.destroyed) continue
          if (how === "rst") socket.resetAndDestroy()
          else socket.destroySoon()
        }
      },
      stats: () => ({ upstream: { ...pipes.upstream.stats }, downstream: { ...pipes.downstream.stats } }),
      isOpen: () => socketsOpen > 0,
      closed: Deferred.await(closed)
    }
  })
