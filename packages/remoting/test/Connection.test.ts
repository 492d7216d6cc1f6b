import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Metric, Tracer } from "effect"
import { TestClock } from "effect/testing"
import { Buffer } from "node:buffer"
import * as Net from "node:net"
import * as Address from "../src/Address.ts"
import * as Channel from "../src/Channel.ts"
import * as Codec from "../src/Codec.ts"
import * as Connection from "../src/Connection.ts"
import * as RemotingCommand from "../src/RemotingCommand.ts"
import * as ResponseTable from "../src/ResponseTable.ts"
import * as SendQueue from "../src/SendQueue.ts"
import * as Peer from "./support/Peer.ts"

const freePort = Effect.callback<number>((resume) => {
  const server = Net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as Net.AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

describe("Connection", () => {
  it.effect("says \"no address configured\" when there is none", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Connection.make({}))
      expect(error.reason).toBe("NoAddress")
      expect(error.message).toContain("no address configured")
      const noPort = yield* Effect.flip(Connection.make({ host: "127.0.0.1" }))
      expect(noPort.reason).toBe("NoAddress")
      const badPort = yield* Effect.flip(Connection.make({ host: "127.0.0.1", port: 70000 }))
      expect(badPort.message).toContain("not a TCP port")
    }))

  it.effect("names the address when the connection is refused", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const error = yield* Effect.flip(Connection.make({ host: "127.0.0.1", port }))
      expect(error.reason).toBe("Refused")
      expect(error.address).toBe(`127.0.0.1:${port}`)
      expect(error.message).toContain(`127.0.0.1:${port}`)
      expect(error.message).toContain("refused")
    }))

  it.effect("times out a connect that never completes (TLS to a silent plaintext peer) on the clock", () =>
    Effect.gen(function*() {
      // A plaintext server that accepts and never says a word: the TLS handshake never completes.
      const accepted: Array<Net.Socket> = []
      const server = yield* Effect.acquireRelease(
        Effect.callback<Net.Server>((resume) => {
          const s = Net.createServer((socket) => accepted.push(socket))
          s.listen(0, "127.0.0.1", () => resume(Effect.succeed(s)))
        }),
        (s) => Effect.sync(() => {
          accepted.forEach((socket) => socket.destroy())
          s.close()
        })
      )
      const port = (server.address() as Net.AddressInfo).port
      const fiber = yield* Effect.forkChild(
        Connection.make({ host: "127.0.0.1", port, tls: true, connectTimeout: "3 seconds" })
      )
      while (accepted.length === 0) yield* TestClock.withLive(Effect.sleep(1))
      yield* TestClock.adjust("2999 millis")
      expect(fiber.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust("1 millis")
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error.reason).toBe("Timeout")
      expect(error.message).toContain(`127.0.0.1:${port}`)
      expect(error.message).toContain("no answer within 3s")
    }))

  it.effect("formats IPv6 addresses with brackets and connects over ::1", () =>
    Effect.gen(function*() {
      expect(Address.format({ host: "::1", port: 9876 })).toBe("[::1]:9876")
      expect(Address.format({ host: "127.0.0.1", port: 9876 })).toBe("127.0.0.1:9876")
      const peer = yield* Peer.make(Peer.echo, { host: "::1" })
      const channel = yield* Channel.make({ host: "::1", port: peer.port })
      expect(channel.remoteAddress).toBe(`[::1]:${peer.port}`)
      const response = yield* channel.sendWaitResponse(RemotingCommand.make({ code: 1, extFields: { v: "6" } }), 1000)
      expect(response.extFields.v).toBe("6")
    }))
})

describe("Channel layer", () => {
  it.effect("provides a Channel from host and port and closes it with the layer", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const leaked = yield* Effect.gen(function*() {
        const channel = yield* Channel.Channel
        const response = yield* channel.sendWaitResponse(RemotingCommand.make({ code: 7, extFields: { x: "y" } }))
        expect(response.extFields.x).toBe("y")
        return channel
      }).pipe(Effect.provide(Channel.ChannelLayer({ host: "127.0.0.1", port: peer.port })))
      expect(yield* leaked.isHealthy).toBe(false)
      expect((yield* leaked.closed)._tag).toBe("ClosedLocally")
    }))

  it.effect("composes from the Connection, SendQueue and ResponseTable layers", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const layer = Channel.layerFromParts({ defaultTimeout: "1 second" }).pipe(
        Layer.provide(Layer.mergeAll(
          Connection.layer({ host: "127.0.0.1", port: peer.port }),
          SendQueue.layer({ capacity: 8 }),
          ResponseTable.layer
        ))
      )
      const code = yield* Channel.Channel.use((channel) =>
        channel.sendWaitResponse(RemotingCommand.make({ code: 3 })).pipe(Effect.map((r) => r.code))
      ).pipe(Effect.provide(layer))
      expect(code).toBe(0)
    }))

  it.effect("fails the layer with a ConnectError naming the address", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const error = yield* Effect.flip(
        Channel.Channel.use(() => Effect.void).pipe(Effect.provide(Channel.layer({ host: "127.0.0.1", port })))
      )
      assert(error._tag === "ConnectError")
      expect(error.address).toBe(`127.0.0.1:${port}`)
    }))
})

describe("Channel observability", () => {
  it.effect("counts requests and timeouts, records round trips and exposes the pending gauge", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const channel = yield* Channel.make({ host: "127.0.0.1", port: peer.port })
      yield* Effect.forEach([1, 2, 3], (i) => channel.sendWaitResponse(RemotingCommand.make({ code: i }), 1000))
      const attributes = { address: channel.remoteAddress }
      const requests = yield* Metric.value(Metric.withAttributes(Channel.requestsTotal, attributes))
      expect(requests.count).toBe(3)
      const rtt = yield* Metric.value(Metric.withAttributes(Channel.roundTrip, attributes))
      expect(rtt.count).toBe(3)
      const silentPeer = yield* Peer.make(Peer.silent)
      const silent = yield* Channel.make({ host: "127.0.0.1", port: silentPeer.port })
      const fiber = yield* Effect.forkChild(silent.sendWaitResponse(RemotingCommand.make({ code: 1 }), 100))
      yield* silentPeer.waitForRequests(1)
      const gauge = yield* Metric.value(Metric.withAttributes(Channel.pendingRequests, { address: silent.remoteAddress }))
      expect(gauge.value).toBe(1)
      yield* TestClock.adjust(100)
      yield* Effect.flip(Fiber.join(fiber))
      const timeouts = yield* Metric.value(Metric.withAttributes(Channel.timeoutsTotal, { address: silent.remoteAddress }))
      expect(timeouts.count).toBe(1)
    }).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))

  it.effect("creates a Channel.sendWaitResponse span with code, opaque and address when a tracer is installed", () =>
    Effect.gen(function*() {
      const spans: Array<Tracer.Span> = []
      const tracer = Tracer.make({
        span(options) {
          const span = new Tracer.NativeSpan(options)
          spans.push(span)
          return span
        }
      })
      const peer = yield* Peer.make(Peer.echo)
      const channel = yield* Channel.make({ host: "127.0.0.1", port: peer.port })
      yield* channel.sendWaitResponse(RemotingCommand.make({ code: 105 }), 1000).pipe(
        Effect.withSpan("caller"),
        Effect.withTracer(tracer)
      )
      const span = spans.find((s) => s.name === "Channel.sendWaitResponse")
      assert(span !== undefined)
      expect(span.attributes.get("rocketmq.code")).toBe(105)
      expect(span.attributes.get("rocketmq.address")).toBe(channel.remoteAddress)
      expect(typeof span.attributes.get("rocketmq.opaque")).toBe("number")
      expect(span.status._tag).toBe("Ended")
      assert(span.parent._tag === "Some")
      expect((span.parent.value as Tracer.Span).name).toBe("caller")
      // Without a tracing backend (Effect's native tracer) the channel makes no span at all.
      const before = spans.length
      yield* channel.sendWaitResponse(RemotingCommand.make({ code: 105 }), 1000)
      expect(spans.length).toBe(before)
    }))
  it.effect("over a Node socket, decodes frames split across chunks and every frame sent before the peer's FIN, then fails with ClosedByPeer", () =>
    Effect.gen(function*() {
      // Large and small bodies: each read lands in reused memory or straight in a large frame's own.
      const sizes = [70_000, 10, 20_000, 70_000, 1]
      const frames = sizes.map((size, i) =>
        Codec.encodeFrame(
          RemotingCommand.markResponse(RemotingCommand.make({ code: 0, opaque: i + 1, body: new Uint8Array(size).fill(i + 1) }))
        )
      )
      const bytes = Buffer.concat(frames)
      const server = yield* Effect.acquireRelease(
        Effect.callback<Net.Server>((resume) => {
          const s = Net.createServer((socket) => {
            // The first frame in pieces of 1,000 bytes, the rest in one write, then FIN.
            let at = 0
            const next = () => {
              if (at < frames[0]!.length) {
                socket.write(bytes.subarray(at, Math.min(at + 1000, frames[0]!.length)))
                at += 1000
                setImmediate(next)
              } else socket.end(bytes.subarray(frames[0]!.length))
            }
            next()
          })
          s.listen(0, "127.0.0.1", () => resume(Effect.succeed(s)))
        }),
        (s) => Effect.sync(() => s.close())
      )
      const port = (server.address() as Net.AddressInfo).port
      const connection = yield* Connection.make({ host: "127.0.0.1", port })
      const received: Array<RemotingCommand.RemotingCommand> = []
      const reason = yield* Effect.flip(connection.readLoop((command) => received.push(command)))
      expect(reason._tag).toBe("ClosedByPeer")
      expect(received.map((c) => c.opaque)).toEqual([1, 2, 3, 4, 5])
      expect(received.map((c) => c.body?.length)).toEqual(sizes)
      // Checked once everything is read: no later read overwrote an earlier body.
      expect(received.map((c) => c.body!.every((b) => b === c.opaque))).toEqual([true, true, true, true, true])
      expect(connection.isHealthy()).toBe(false)
    }).pipe(Effect.scoped))
})
