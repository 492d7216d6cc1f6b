/**
 * FaultProxy at the byte level, between a raw loopback client and a local peer that records what
 * it reads and echoes it. Time is TestClock's (latency, windows, bandwidth); the sockets are real.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import { TestClock } from "effect/testing"
import { Buffer } from "node:buffer"
import * as Net from "node:net"
import * as FaultProxy from "../src/FaultProxy.ts"
import { settle } from "./support/helpers.ts"

/**
 * A loopback peer: records every chunk it reads, whether each socket saw FIN and the code of each
 * socket's error; echoes what it reads unless `echo` is false.
 */
const makePeer = (options?: { readonly echo?: boolean }) =>
  Effect.acquireRelease(
    Effect.callback<{
      readonly server: Net.Server
      readonly address: string
      readonly chunks: Array<Buffer>
      readonly sockets: Array<Net.Socket>
      readonly ended: Array<boolean>
      readonly errors: Array<string>
    }>((resume) => {
      const chunks: Array<Buffer> = []
      const sockets: Array<Net.Socket> = []
      const ended: Array<boolean> = []
      const errors: Array<string> = []
      const server = Net.createServer({ allowHalfOpen: true }, (socket) => {
        const index = sockets.push(socket) - 1
        ended[index] = false
        socket.on("data", (chunk: Buffer) => {
          chunks.push(chunk)
          if (options?.echo !== false) socket.write(chunk)
        })
        socket.on("end", () => (ended[index] = true))
        socket.on("error", (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message))
      })
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as Net.AddressInfo).port
        resume(Effect.succeed({ server, address: `127.0.0.1:${port}`, chunks, sockets, ended, errors }))
      })
    }),
    ({ server, sockets }) =>
      Effect.callback<void>((resume) => {
        sockets.forEach((socket) => socket.destroy())
        server.close(() => resume(Effect.void))
      })
  )

/** A raw client of the proxy: what it received, whether it saw FIN / an error. */
const connect = (address: string) =>
  Effect.acquireRelease(
    Effect.callback<{
      readonly socket: Net.Socket
      readonly received: () => Buffer
      readonly chunks: Array<Buffer>
      readonly events: Array<string>
    }>((resume) => {
      const chunks: Array<Buffer> = []
      const events: Array<string> = []
      const [host, port] = address.split(":")
      const socket = Net.connect({ host: host!, port: Number(port), allowHalfOpen: true, noDelay: true })
      socket.on("data", (chunk: Buffer) => chunks.push(chunk))
      socket.on("end", () => events.push("end"))
      socket.on("error", (error: NodeJS.ErrnoException) => events.push(`error:${error.code}`))
      socket.on("close", () => events.push("close"))
      // A connection the proxy resets at once can report its reset before "connect".
      const ready = () => resume(Effect.succeed({ socket, received: () => Buffer.concat(chunks), chunks, events }))
      socket.once("connect", ready)
      socket.once("close", ready)
    }),
    ({ socket }) => Effect.sync(() => socket.destroy())
  )

const bytes = (n: number, seed = 1) => {
  const out = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed + (i >>> 8)) & 0xff
  return out
}

describe("FaultProxy: forwarding", () => {
  it.effect("forwards bytes both ways unchanged, counts them, and closes everything with its scope", () =>
    Effect.gen(function*() {
      const peer = yield* makePeer()
      const scope = yield* Scope.make()
      const proxy = yield* FaultProxy.make({ target: peer.address }).pipe(Scope.provide(scope))
      const client = yield* connect(proxy.address)
      const [connection] = yield* proxy.waitForConnections(1)
      const payload = bytes(100_000)
      client.socket.write(payload)
      yield* settle(() => client.received().length === payload.length)
      assert.isTrue(client.received().equals(payload))
      expect(connection!.stats()).toMatchObject({
        upstream: { received: 100_000, forwarded: 100_000, dropped: 0 },
        downstream: { received: 100_000, forwarded: 100_000, dropped: 0 }
      })
      expect(proxy.diagnostics()).toMatchObject({ accepted: 1, open: 1, fibers: 2 })
      assert.strictEqual(connection!.clientAddress, `127.0.0.1:${client.socket.localPort}`)

      yield* Scope.close(scope, Exit.void)
      expect(yield* connection!.closed).toEqual({ _tag: "ProxyClosed" })
      yield* settle(() => client.events.includes("end") && peer.ended[0] === true)
      expect(proxy.diagnostics()).toMatchObject({ open: 0, fibers: 0 })
    }))

  it.effect("passes a FIN on: the client's end reaches the peer, the peer's end reaches the client", () =>
    Effect.gen(function*() {
      const peer = yield* makePeer()
      const proxy = yield* FaultProxy.make({ target: peer.address })
      const client = yield* connect(proxy.address)
      const [connection] = yield* proxy.waitForConnections(1)
      client.socket.end("bye")
      yield* settle(() => peer.ended[0] === true)
      peer.sockets[0]!.end()
      yield* settle(() => client.events.includes("end") && !connection!.isOpen())
      assert.strictEqual(client.received().toString(), "bye")
      expect(yield* connection!.closed).toEqual({ _tag: "Closed", by: "client", how: "fin" })
    }))

  it.effect("resets the client when the target refuses, and says so", () =>
    Effect.gen(function*() {
      const peer = yield* makePeer()
      const address = peer.address
      yield* Effect.callback<void>((resume) => {
        peer.server.close(() => resume(Effect.void))
      })
      const proxy = yield* FaultProxy.make({ target: address })
      const client = yield* connect(proxy.address)
      const [connection] = yield* proxy.waitForConnections(1)
      yield* settle(() => client.events.includes("close"))
      expect(client.events[0]).toBe("error:ECONNRESET")
      const reason = yield* connection!.closed
      assert.strictEqual(reason._tag, "TargetUnreachable")
      expect(reason._tag === "TargetUnreachable" ? reason.detail : "").toContain("ECONNREFUSED")
    }))

  it.effect("refuses new connections while not accepting, without touching the target", () =>
    Effect.gen(function*() {
      const peer = yield* makePeer()
      const proxy = yield* FaultProxy.make({ target: peer.address })
      yield* proxy.setAccepting(false)
      const refused = yield* connect(proxy.address)
      yield* settle(() => refused.events.includes("close"))
      expect(refused.events[0]).toBe("error:ECONNRESET")
      yield* proxy.setAccepting(true)
      const client = yield* connect(proxy.address)
      client.socket.write("hi")
      yield* settle(() => client.received().toString() === "hi")
      expect(proxy.diagnostics()).toMatchObject({ accepted: 1, refused: 1 })
      expect(peer.sockets.length).toBe(1)
    }))

  it.effect("refuses a listen address that is not loopback, a target that is not host:port, and faults out of range", () =>
    Effect.gen(function*() {
      const failures = [
        yield* Effect.flip(FaultProxy.make({ target: "127.0.0.1:1", host: "0.0.0.0" })),
        yield* Effect.flip(FaultProxy.make({ target: "no-port" })),
        yield* Effect.flip(FaultProxy.make({ target: "127.0.0.1:1", upstream: { bytesPerSecond: 0 } })),
        yield* Effect.flip(FaultProxy.make({ target: "127.0.0.1:1", downstream: { split: { maxSegment: 4, minSegment: 5 } } }))
      ]
      expect(failures.map((e) => e._tag)).toEqual(Array(4).fill("InvalidProxyOptions"))
      expect(failures.map((e) => e.message)).toEqual([
        "Invalid fault proxy options: host 0.0.0.0 is not a loopback address; the proxy listens on loopback only.",
        "Invalid fault proxy options: target \"no-port\" is not host:port.",
        "Invalid fault proxy options: bytesPerSecond 0 must be above 0.",
        "Invalid fault proxy options: split.minSegment 5 must be an integer in 1..maxSegment (4)."
      ])
      const proxy = yield* FaultProxy.make({ target: "127.0.0.1:1" })
      const bad = yield* Effect.flip(proxy.set("both", { latency: -5 }))
      expect(bad.message).toBe("Invalid fault proxy options: latency -5 is not a duration of 0 or more.")
      const taken = yield* Effect.flip(FaultProxy.make({ target: "127.0.0.1:1", port: proxy.port }))
      assert.strictEqual(taken._tag, "ProxyListenError")
      expect(taken.message).toContain(`127.0.0.1:${proxy.port}`)
    }))
})

describe("FaultProxy: faults", () => {
  it.effect("delays each direction by its latency on the Clock", () =>
    Effect.gen(function*() {
      const peer = yield* makePeer()
      const proxy = yield* FaultProxy.make({ target: peer.address, upstream: { latency: "100 millis" } })
      const client = yield* connect(proxy.address)
      yield* proxy.waitForConnections(1)
      yield* proxy.set("downstream", { latency: "50 millis" })
      client.socket.write("ping")
      yield* TestClock.adjust("99 millis")
      yield* settle(() => true)
      expect(peer.chunks.length).toBe(0)
      yield* TestClock.adjust("1 millis")
      yield* settle(() => peer.chunks.length === 1)
      // The echo arrived back at the proxy at t=100; it leaves at t=150.
      yield* TestClock.adjust("49 millis")
      expect(client.received().length).toBe(0)
      yield* TestClock.adjust("1 millis")
      yield* settle(() => client.received().toString() === "ping")
    }))

  it.effect("hold keeps bytes back (and stops reading, so the sender backs up); pass forwards them all in order", () =>
    Effect.gen(function*() {
      const peer = yield* makePeer({ echo: false })
      const proxy = yield* FaultProxy.make({ target: peer.address })
      const client = yield* connect(proxy.address)
      const [connection] = yield* proxy.waitForConnections(1)
      yield* connection!.hold("upstream")
      const payload = bytes(16 * 1024 * 1024, 7)
      client.socket.write(payload)
      // The proxy reads about 1 MiB, then the kernel buffers fill and the client's writes wait.
      yield* settle(() => connection!.stats().upstream.received > 1024 * 1024)
      yield* TestClock.withLive(Effect.sleep(100))
      const held = connection!.stats().upstream
      expect(held.forwarded).toBe(0)
      assert.isBelow(held.received, 12 * 1024 * 1024, "the proxy stopped reading")
      assert.isAbove(client.socket.writableLength, 0, "the client's writes back up")
      assert.isTrue(connection!.isOpen())

      yield* connection!.pass("upstream")
      yield* settle(() => connection!.stats().upstream.forwarded === payload.length)
      yield* settle(() => peer.chunks.reduce((n, chunk) => n + chunk.length, 0) === payload.length)
      assert.isTrue(Buffer.concat(peer.chunks).equals(payload))
    }))

  it.effect("drop is a black hole: bytes and the peer's FIN vanish, the connection stays open", () =>
    Effect.gen(function*() {
      const peer = yield* makePeer()
      const proxy = yield* FaultProxy.make({ target: peer.address })
      const client = yield* connect(proxy.address)
      const [connection] = yield* proxy.waitForConnections(1)
      yield* connection!.drop("downstream")
      client.socket.write("lost")
      yield* settle(() => connection!.stats().downstream.dropped === 4)
      peer.sockets[0]!.end()
      yield* settle(() => peer.ended[0] === false && connection!.stats().downstream.received === 4)
      yield* TestClock.withLive(Effect.sleep(50))
      expect([client.received().length, client.events]).toEqual([0, []])
      assert.isTrue(connection!.isOpen(), "half-open: the client never hears the FIN")
    }))

  it.effect("cut with RST resets both sides at once", () =>
    Effect.gen(function*() {
      const peer = yield* makePeer()
      const proxy = yield* FaultProxy.make({ target: peer.address })
      const client = yield* connect(proxy.address)
      const [connection] = yield* proxy.waitForConnections(1)
      yield* connection!.cut("rst")
      // The peer may accept the proxy's connection only after the reset; it still reads the RST.
      yield* settle(() => client.events.includes("close") && peer.errors.length > 0 && !connection!.isOpen())
      expect(client.events[0]).toBe("error:ECONNRESET")
      expect(peer.errors).toEqual(["ECONNRESET"])
      expect(yield* connection!.closed).toEqual({ _tag: "Cut", side: "both", how: "rst" })
    }))

  it.effect("a one-sided cut with FIN closes the client's side and leaves the target's open and silent", () =>
    Effect.gen(function*() {
      const peer = yield* makePeer()
      const proxy = yield* FaultProxy.make({ target: peer.address })
      const client = yield* connect(proxy.address)
      const [connection] = yield* proxy.waitForConnections(1)
      yield* connection!.cut("fin", "client")
      yield* settle(() => client.events.includes("end") && peer.sockets.length === 1)
      peer.sockets[0]!.write("into the void")
      yield* settle(() => connection!.stats().downstream.dropped === 13)
      expect([peer.ended[0], connection!.isOpen()]).toEqual([false, true])
    }))

  it.effect("split writes at most maxSegment bytes at a time, pausing between them on the Clock", () =>
    Effect.gen(function*() {
      const peer = yield* makePeer({ echo: false })
      const proxy = yield* FaultProxy.make({ target: peer.address, upstream: { split: { maxSegment: 3, pause: "10 millis" } } })
      const client = yield* connect(proxy.address)
      const [connection] = yield* proxy.waitForConnections(1)
      client.socket.write("abcdefghij")
      yield* settle(() => peer.chunks.length === 1)
      for (let i = 0; i < 3; i++) {
        yield* TestClock.adjust("10 millis")
        yield* settle(() => peer.chunks.length === i + 2)
      }
      expect(peer.chunks.map(String)).toEqual(["abc", "def", "ghi", "j"])
      expect(connection!.stats().upstream.writes).toBe(4)
    }))

  it.effect("split with a minimum writes random sizes within the bounds", () =>
    Effect.gen(function*() {
      const peer = yield* makePeer({ echo: false })
      const proxy = yield* FaultProxy.make({ target: peer.address, upstream: { split: { minSegment: 2, maxSegment: 5 } } })
      const client = yield* connect(proxy.address)
      const [connection] = yield* proxy.waitForConnections(1)
      const payload = bytes(1000)
      client.socket.write(payload)
      yield* settle(() => Buffer.concat(peer.chunks).length === 1000)
      assert.isTrue(Buffer.concat(peer.chunks).equals(payload))
      const writes = connection!.stats().upstream.writes
      assert.isAtLeast(writes, 200)
      assert.isAtMost(writes, 500)
    }))

  it.effect("coalesce gathers the chunks of a window into one write", () =>
    Effect.gen(function*() {
      const peer = yield* makePeer({ echo: false })
      const proxy = yield* FaultProxy.make({ target: peer.address, upstream: { coalesce: { window: "20 millis" } } })
      const client = yield* connect(proxy.address)
      const [connection] = yield* proxy.waitForConnections(1)
      for (const part of ["a", "b", "c", "d"]) {
        client.socket.write(part)
        yield* settle(() => connection!.stats().upstream.received >= "abcd".indexOf(part) + 1)
      }
      yield* TestClock.adjust("20 millis")
      yield* settle(() => peer.chunks.length > 0)
      expect(peer.chunks.map(String)).toEqual(["abcd"])
      expect(connection!.stats().upstream.writes).toBe(1)
    }))

  it.effect("bytesPerSecond throttles a direction on the Clock", () =>
    Effect.gen(function*() {
      const peer = yield* makePeer({ echo: false })
      const proxy = yield* FaultProxy.make({ target: peer.address, upstream: { bytesPerSecond: 1000 } })
      const client = yield* connect(proxy.address)
      const [connection] = yield* proxy.waitForConnections(1)
      client.socket.write(bytes(10_000))
      yield* settle(() => connection!.stats().upstream.received === 10_000 && connection!.stats().upstream.forwarded === 50)
      yield* TestClock.adjust("5 seconds")
      yield* settle(() => connection!.stats().upstream.forwarded === 5050)
      yield* TestClock.adjust("5 seconds")
      yield* settle(() => Buffer.concat(peer.chunks).length === 10_000)
    }))

  it.effect("a byte rewrite replaces each chunk; returning nothing drops it", () =>
    Effect.gen(function*() {
      const peer = yield* makePeer()
      const proxy = yield* FaultProxy.make({
        target: peer.address,
        downstream: {
          rewrite: FaultProxy.rewriteBytes((chunk, context) =>
            Effect.succeed(String(chunk).startsWith("drop") ? [] : Buffer.from(`${context.direction}#${context.index}:${String(chunk).toUpperCase()}`))
          )
        }
      })
      const client = yield* connect(proxy.address)
      client.socket.write("hello")
      yield* settle(() => client.received().length > 0)
      client.socket.write("drop me")
      yield* settle(() => peer.chunks.length === 2)
      client.socket.write("again")
      yield* settle(() => client.received().toString() === "downstream#0:HELLOdownstream#2:AGAIN")
    }))
})
