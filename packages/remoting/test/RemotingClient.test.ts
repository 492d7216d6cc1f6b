/**
 * The RemotingClient against real loopback peers (node:net). Time is TestClock's: deadlines, idle
 * close and backoff are driven by `TestClock.adjust`; real I/O is awaited by polling with bounded
 * `TestClock.withLive` sleeps.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Fiber, Layer, Random, Scope } from "effect"
import { TestClock } from "effect/testing"
import * as RemotingClient from "../src/RemotingClient.ts"
import * as RemotingCommand from "../src/RemotingCommand.ts"
import * as RemotingError from "../src/RemotingError.ts"
import * as ResponseCode from "../src/ResponseCode.ts"
import { closedPort, failureOf, goAwayFirst, recordingFactory, request, settle } from "./support/ClientKit.ts"
import * as Peer from "./support/Peer.ts"

const makeClient = (options?: RemotingClient.RemotingClientOptions) => RemotingClient.make(options)

describe("RemotingClient: one shared channel per address", () => {
  it.effect("round trips, and every spelling of an address shares one connection", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const client = yield* makeClient()
      const a = yield* client.invoke(peer.address, request(1, { topic: "T" }), 1000)
      const b = yield* client.invoke(` 127.0.0.1:${peer.port} `, request(2), 1000)
      expect(a.extFields.topic).toBe("T")
      expect(b.extFields.i).toBe("2")
      expect(peer.connections.length).toBe(1)
      const { channels, connectAttempts } = client.diagnostics()
      expect(connectAttempts).toBe(1)
      expect(channels).toEqual([{ address: peer.address, generation: 1, state: "open", inUse: 0, pending: 0 }])
    }))

  it.effect("single flight: 200 concurrent first calls make one connect and all succeed", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const recorder = recordingFactory({ delay: () => "100 millis" })
      const client = yield* makeClient({ channelFactory: recorder.factory })
      const fiber = yield* Effect.forEach(
        Array.from({ length: 200 }, (_, i) => i),
        (i) => client.invoke(peer.address, request(i), 5000),
        { concurrency: "unbounded" }
      ).pipe(Effect.forkChild)
      yield* settle(() => recorder.attempts.length === 1)
      yield* TestClock.adjust(100)
      const responses = yield* Fiber.join(fiber)
      expect(responses.map((r) => r.extFields.i)).toEqual(Array.from({ length: 200 }, (_, i) => String(i)))
      expect(recorder.attempts.length).toBe(1)
      expect(peer.connections.length).toBe(1)
    }))

  it.effect("a channel the peer closed (FIN) is evicted, and the next call reconnects", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const client = yield* makeClient()
      yield* client.invoke(peer.address, request(1), 1000)
      ;(yield* peer.connection()).socket.end()
      yield* settle(() => client.diagnostics().channels.length === 0, "eviction")
      const response = yield* client.invoke(peer.address, request(2), 1000)
      expect(response.extFields.i).toBe("2")
      expect(peer.connections.length).toBe(2)
      expect(client.diagnostics().channels.map((c) => c.generation)).toEqual([2])
    }))

  it.effect("a closed channel is never handed out again, even before its close is noticed", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      // The channels' `closed` never completes: only the health check at hand-out can catch the close.
      const recorder = recordingFactory({ hideClose: true })
      const client = yield* makeClient({ channelFactory: recorder.factory })
      yield* client.invoke(peer.address, request(1), 1000)
      ;(yield* peer.connection()).socket.resetAndDestroy()
      const first = recorder.channels[0]!
      yield* settle(() => first.diagnostics().closeReason !== undefined, "the channel noticing the RST")
      expect(client.diagnostics().channels.length).toBe(1) // not evicted yet: nobody noticed
      const response = yield* client.invoke(peer.address, request(2), 1000)
      expect(response.extFields.i).toBe("2")
      expect(peer.connections.length).toBe(2)
      expect(client.diagnostics().channels.map((c) => c.generation)).toEqual([2])
    }))

  it.effect("in-flight calls fail with ChannelClosed when the peer resets; nothing stays pending", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.silent)
      const client = yield* makeClient()
      const fibers = yield* Effect.forEach([0, 1, 2], (i) => Effect.forkChild(client.invoke(peer.address, request(i), 60_000)))
      yield* peer.waitForRequests(3)
      ;(yield* peer.connection()).socket.resetAndDestroy()
      for (const fiber of fibers) {
        const error = failureOf(yield* Fiber.await(fiber))
        assert(error._tag === "ChannelClosed")
        expect(error.cause._tag).toBe("ConnectionReset")
        expect(RemotingError.mayHaveReachedPeer(error)).toBe(true)
      }
      yield* settle(() => client.diagnostics().channels.length === 0, "eviction")
      expect(client.diagnostics().invokePermits.free).toBe(65535)
    }))

  it.effect("works over IPv6 loopback ([::1]:port)", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo, { host: "::1" })
      const client = yield* makeClient()
      const response = yield* client.invoke(`[0:0:0:0:0:0:0:1]:${peer.port}`, request(7), 1000)
      expect(response.extFields.i).toBe("7")
      expect(client.diagnostics().channels[0]!.address).toBe(`[::1]:${peer.port}`)
    }))

  it.effect("an address that does not parse fails with InvalidAddress naming it; nothing connects", () =>
    Effect.gen(function*() {
      const recorder = recordingFactory()
      const client = yield* makeClient({ channelFactory: recorder.factory })
      const error = failureOf(yield* Effect.exit(client.invoke("localhost", request(1))))
      assert(error._tag === "InvalidAddress")
      expect(error.message).toContain("\"localhost\"")
      expect(error.message).toContain("port is missing")
      expect(failureOf(yield* Effect.exit(client.invokeOneway("::1:80", request(1))))._tag).toBe("InvalidAddress")
      expect(recorder.attempts.length).toBe(0)
    }))
})

describe("RemotingClient: calls on an open channel follow the same policy", () => {
  it.effect("hooks run on every call, a ChannelClosed evicts the channel and permits come back", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make((req, connection) => {
        if (req.code !== 99) Peer.echo(req, connection)
      })
      const log: Array<string> = []
      const client = yield* makeClient({
        hooks: [{
          name: "log",
          beforeRequest: (_a, r) => Effect.sync(() => (log.push(`before ${r.extFields.i}`), r)),
          afterResponse: (_a, _r, res) => Effect.sync(() => (log.push(`after ${res.extFields.i}`), res))
        }]
      })
      yield* client.invoke(peer.address, request(1), 1000) // connects
      yield* client.invoke(peer.address, request(2), 1000) // on the open channel
      expect(log).toEqual(["before 1", "after 1", "before 2", "after 2"])
      const silent = yield* Effect.forkChild(client.invoke(peer.address, RemotingCommand.make({ code: 99 }), 60_000))
      yield* peer.waitForRequests(3)
      ;(yield* peer.connection()).socket.resetAndDestroy()
      const error = failureOf(yield* Fiber.await(silent))
      assert(error._tag === "ChannelClosed")
      expect(error.written).toBe(true)
      yield* settle(() => client.diagnostics().channels.length === 0, "eviction")
      expect(client.diagnostics().invokePermits.free).toBe(65535)
      expect((yield* client.invoke(peer.address, request(3), 1000)).extFields.i).toBe("3")
      expect(peer.connections.length).toBe(2)
    }))
})

describe("RemotingClient: requests from peers and closing channels", () => {
  it.effect("requests a peer sends over a client channel go to the requestHandler option", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const client = yield* makeClient({
        requestHandler: {
          handle: (req) => Effect.succeed(RemotingCommand.response(req, 0, `checked ${req.extFields.tx}`))
        }
      })
      yield* client.invoke(peer.address, request(1), 1000)
      const connection = yield* peer.connection()
      connection.reply(RemotingCommand.make({ code: 39, opaque: 4242, extFields: { tx: "t1" } }))
      const [, answer] = yield* peer.waitForRequests(2)
      expect(RemotingCommand.isResponse(answer!)).toBe(true)
      expect(answer!.opaque).toBe(4242)
      expect(answer!.remark).toBe("checked t1")
    }))

  it.effect("closeChannel closes the current channel; the next call reconnects", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const client = yield* makeClient()
      yield* client.invoke(peer.address, request(1), 1000)
      yield* client.closeChannel(peer.address)
      expect(client.diagnostics().channels).toEqual([])
      const connection = yield* peer.connection()
      yield* settle(() => connection.socket.readableEnded || connection.socket.destroyed)
      yield* client.invoke(peer.address, request(2), 1000)
      expect(peer.connections.length).toBe(2)
      expect(failureOf(yield* Effect.exit(client.closeChannel("nope")))._tag).toBe("InvalidAddress")
    }))
})

describe("RemotingClient: idle channels", () => {
  it.effect("a channel with no call for idleTimeout closes; the next call reconnects", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const client = yield* makeClient()
      yield* client.invoke(peer.address, request(1), 1000)
      yield* TestClock.adjust(60_000)
      yield* client.invoke(peer.address, request(1), 1000) // restarts the idle clock
      yield* TestClock.adjust(119_999)
      expect(client.diagnostics().channels.length).toBe(1)
      yield* TestClock.adjust(1)
      expect(client.diagnostics().channels.length).toBe(0)
      const connection = yield* peer.connection()
      yield* settle(() => connection.socket.readableEnded || connection.socket.destroyed, "the peer seeing the close")
      yield* client.invoke(peer.address, request(2), 1000)
      expect(peer.connections.length).toBe(2)
    }))

  it.effect("each call restarts the idle clock; a call longer than idleTimeout keeps its channel", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.silent)
      const client = yield* makeClient({ idleTimeout: "10 seconds" })
      const fiber = yield* Effect.forkChild(client.invoke(peer.address, request(1), 60_000))
      const [received] = yield* peer.waitForRequests(1)
      yield* TestClock.adjust(30_000)
      expect(client.diagnostics().channels.map((c) => c.inUse)).toEqual([1])
      ;(yield* peer.connection()).reply(RemotingCommand.response(received!, 0, "late but fine"))
      expect((yield* Fiber.join(fiber)).remark).toBe("late but fine")
      yield* TestClock.adjust(9_999)
      expect(client.diagnostics().channels.length).toBe(1)
      yield* TestClock.adjust(1)
      expect(client.diagnostics().channels.length).toBe(0)
      expect(peer.connections.length).toBe(1)
    }))

  it.effect("idleTimeout 0 never closes", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const client = yield* makeClient({ idleTimeout: 0 })
      yield* client.invoke(peer.address, request(1), 1000)
      yield* TestClock.adjust("1 day")
      expect(client.diagnostics().channels.length).toBe(1)
    }))
})

describe("RemotingClient: connect failures and backoff", () => {
  it.effect("a refused connect fails with ConnectError naming the address; calls then back off", () =>
    Effect.gen(function*() {
      const port = yield* closedPort()
      const address = `127.0.0.1:${port}`
      const client = yield* makeClient({ reconnectBackoff: { initial: "1 second", max: "8 seconds" } })
      const first = failureOf(yield* Effect.exit(client.invoke(address, request(1), 1000)))
      assert(first._tag === "ConnectError")
      expect(first.reason).toBe("Refused")
      expect(first.message).toContain(address)
      expect(RemotingError.mayHaveReachedPeer(first)).toBe(false)
      const second = failureOf(yield* Effect.exit(client.invoke(address, request(2), 1000)))
      assert(second._tag === "ConnectBackoff")
      expect(second.failures).toBe(1)
      expect(second.retryInMillis).toBeGreaterThanOrEqual(500)
      expect(second.retryInMillis).toBeLessThanOrEqual(1000)
      expect(second.lastError.reason).toBe("Refused")
      expect(second.message).toContain(address)
      expect(client.diagnostics().connectAttempts).toBe(1)
      yield* TestClock.adjust(second.retryInMillis)
      const third = failureOf(yield* Effect.exit(client.invoke(address, request(3), 1000)))
      expect(third._tag).toBe("ConnectError")
      expect(client.diagnostics().connectAttempts).toBe(2)
      expect(client.diagnostics().channels).toEqual([])
      expect(client.diagnostics().invokePermits.free).toBe(65535)
    }))

  it.effect("a successful connect resets the backoff", () =>
    Effect.gen(function*() {
      const recorder = recordingFactory({ hang: () => false })
      const peer = yield* Peer.make(Peer.echo)
      let down = true
      const client = yield* makeClient({
        channelFactory: (options) => (down ? recorder.factory({ ...options, port: 1 }) : recorder.factory(options))
      })
      expect(failureOf(yield* Effect.exit(client.invoke(peer.address, request(1), 1000)))._tag).toBe("ConnectError")
      expect(client.diagnostics().backoff.length).toBe(1)
      down = false
      yield* TestClock.adjust(100)
      yield* client.invoke(peer.address, request(2), 1000)
      expect(client.diagnostics().backoff).toEqual([])
    }))

  it.effect("reconnect storm: waves of 1,000 concurrent calls to a down address make one connect attempt at a time, with jittered, capped backoff", () =>
    Effect.gen(function*() {
      const port = yield* closedPort()
      const address = `127.0.0.1:${port}`
      const recorder = recordingFactory()
      const client = yield* makeClient({
        channelFactory: recorder.factory,
        reconnectBackoff: { initial: "100 millis", max: "1600 millis" }
      })
      const outcomes = new Map<string, number>()
      const wave = Effect.forEach(
        Array.from({ length: 1000 }, (_, i) => i),
        (i) =>
          Effect.exit(client.invoke(address, request(i), 3000)).pipe(
            Effect.map((exit) => {
              const tag = failureOf(exit)._tag
              outcomes.set(tag, (outcomes.get(tag) ?? 0) + 1)
            })
          ),
        { concurrency: "unbounded", discard: true }
      )
      // A wave of 1,000 concurrent calls every 100 ms of test time, for 12 s.
      const waves = 120
      for (let w = 0; w < waves; w++) {
        yield* wave
        yield* TestClock.adjust(100)
      }
      const attempts = recorder.attempts
      expect(recorder.maxConcurrent()).toBe(1)
      expect(attempts.every((a) => a.ok === false)).toBe(true)
      expect((outcomes.get("ConnectError") ?? 0) + (outcomes.get("ConnectBackoff") ?? 0)).toBe(waves * 1000)
      // Every caller of a wave with an attempt joined that one attempt.
      expect(outcomes.get("ConnectError")).toBe(attempts.length * 1000)
      // Attempt i+1 starts after a delay drawn from [d/2, d], d = min(1600, 100 * 2^i), rounded up to the
      // next wave.
      const gaps = attempts.slice(1).map((a, i) => a.startedAt - attempts[i]!.endedAt!)
      gaps.forEach((gap, i) => {
        const nominal = Math.min(1600, 100 * 2 ** i)
        expect(gap, `gap ${i}`).toBeGreaterThanOrEqual(nominal / 2)
        expect(gap, `gap ${i}`).toBeLessThanOrEqual(nominal + 100)
      })
      expect(gaps.slice(-3).every((gap) => gap >= 800 && gap <= 1700)).toBe(true) // capped
      expect(attempts.length).toBeGreaterThanOrEqual(8)
      expect(attempts.length).toBeLessThanOrEqual(16)
      expect(client.diagnostics().invokePermits.free).toBe(65535)
      expect(client.diagnostics().channels).toEqual([])
      expect(client.diagnostics().backoff.map((b) => b.address)).toEqual([address])
    }), { timeout: 60_000 })
})

describe("RemotingClient: one deadline per call", () => {
  it.effect("a connect slower than the call's budget fails the call at its deadline, not later", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const recorder = recordingFactory({ delay: () => "2500 millis" })
      const client = yield* makeClient({ channelFactory: recorder.factory })
      const fiber = yield* Effect.forkChild(client.invoke(peer.address, request(1), 1000))
      yield* settle(() => recorder.attempts.length === 1)
      yield* TestClock.adjust(999)
      expect(fiber.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust(1)
      const error = failureOf(yield* Fiber.await(fiber))
      assert(error._tag === "ConnectError")
      expect(error.reason).toBe("Timeout")
      expect(error.message).toContain(peer.address)
      expect(error.message).toContain("budget")
      // The shared connect goes on and serves the next call.
      yield* TestClock.adjust(1500)
      yield* settle(() => recorder.attempts[0]!.ok === true)
      expect((yield* client.invoke(peer.address, request(2), 1000)).extFields.i).toBe("2")
      expect(recorder.attempts.length).toBe(1)
    }))

  it.effect("the time spent connecting comes off the response wait", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.silent)
      const recorder = recordingFactory({ delay: () => "400 millis" })
      const client = yield* makeClient({ channelFactory: recorder.factory })
      const fiber = yield* Effect.forkChild(client.invoke(peer.address, request(1), 1000))
      yield* settle(() => recorder.attempts.length === 1)
      yield* TestClock.adjust(400)
      yield* peer.waitForRequests(1)
      yield* TestClock.adjust(599)
      expect(fiber.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust(1)
      const error = failureOf(yield* Fiber.await(fiber))
      assert(error._tag === "RequestTimeout")
      expect(error.timeoutMillis).toBe(600)
      expect(error.written).toBe(true)
    }))

  it.effect("a connect that never answers is bounded by connectTimeout", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const recorder = recordingFactory({ hang: () => true })
      const client = yield* makeClient({ channelFactory: recorder.factory, connectTimeout: "3 seconds" })
      const fiber = yield* Effect.forkChild(client.invoke(peer.address, request(1), 10_000))
      yield* settle(() => recorder.attempts.length === 1)
      yield* TestClock.adjust(3000)
      const error = failureOf(yield* Fiber.await(fiber))
      assert(error._tag === "ConnectError")
      expect(error.reason).toBe("Timeout")
      expect(error.message).toContain("3000 ms")
    }))
})

describe("RemotingClient: name servers", () => {
  it.effect("no name server configured is a typed error that says what to set", () =>
    Effect.gen(function*() {
      const client = yield* makeClient({ nameServerAddresses: " ; " })
      const error = failureOf(yield* Effect.exit(client.invokeNameServer(request(1))))
      assert(error._tag === "NoNameServerAddress")
      expect(error.message).toContain("no name server address configured")
      expect(error.message).toContain("ROCKETMQ_NAMESRV_ADDR")
      expect(error.message).not.toContain("null")
    }))

  it.effect("a malformed name server list fails make with InvalidAddress naming the entry", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(makeClient({ nameServerAddresses: "127.0.0.1:9876;namesrv" }))
      const error = failureOf(exit)
      expect(error._tag).toBe("InvalidAddress")
      expect(error.message).toContain("\"namesrv\"")
    }))

  it.effect("fails over to the next name server on a refused connect, and sticks to it", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const dead = `127.0.0.1:${yield* closedPort()}`
      const client = yield* makeClient({ nameServerAddresses: `${dead};${peer.address}`, nameServerStart: "first" })
      expect(client.diagnostics().chosenNameServer).toBe(dead)
      expect((yield* client.invokeNameServer(request(1), 1000)).extFields.i).toBe("1")
      expect(client.diagnostics().chosenNameServer).toBe(peer.address)
      yield* TestClock.adjust("1 minute")
      expect((yield* client.invokeNameServer(request(2), 1000)).extFields.i).toBe("2")
      expect(client.diagnostics().connectAttempts).toBe(2) // the dead one was not tried again
    }))

  it.effect("a dead first name server (connect hangs) does not use up the budget: failover at its share", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const dead = "127.0.0.1:1"
      const recorder = recordingFactory({ hang: (address) => address === dead })
      const client = yield* makeClient({
        nameServerAddresses: [dead, peer.address],
        nameServerStart: "first",
        channelFactory: recorder.factory
      })
      const fiber = yield* Effect.forkChild(client.invokeNameServer(request(1), 3000))
      yield* settle(() => recorder.attempts.length === 1)
      yield* TestClock.adjust(1499)
      expect(fiber.pollUnsafe()).toBeUndefined()
      expect(recorder.attempts.length).toBe(1)
      yield* TestClock.adjust(1)
      const response = yield* Fiber.join(fiber)
      expect(response.extFields.i).toBe("1")
      expect(recorder.attempts.map((a) => a.address)).toEqual([dead, peer.address])
      expect(client.diagnostics().chosenNameServer).toBe(peer.address)
    }))

  it.effect("every name server down: NameServerUnavailable lists what happened with each", () =>
    Effect.gen(function*() {
      const a = `127.0.0.1:${yield* closedPort()}`
      const b = `127.0.0.1:${yield* closedPort()}`
      const client = yield* makeClient({ nameServerAddresses: `${a},${b}`, nameServerStart: "first" })
      const error = failureOf(yield* Effect.exit(client.invokeNameServer(request(1), 1000)))
      assert(error._tag === "NameServerUnavailable")
      expect(error.errors.map((e) => e._tag)).toEqual(["ConnectError", "ConnectError"])
      expect(error.message).toContain(a)
      expect(error.message).toContain(b)
      expect(error.message).toContain("ROCKETMQ_NAMESRV_ADDR")
      // Right after, both back off: still typed, still no connect attempts.
      const again = failureOf(yield* Effect.exit(client.invokeNameServer(request(2), 1000)))
      assert(again._tag === "NameServerUnavailable")
      expect(again.errors.map((e) => e._tag)).toEqual(["ConnectBackoff", "ConnectBackoff"])
      expect(client.diagnostics().connectAttempts).toBe(2)
    }))

  it.effect("setNameServerAddresses replaces the list; layerConfig reads ROCKETMQ_NAMESRV_ADDR", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const client = yield* makeClient()
      yield* client.setNameServerAddresses(`${peer.address};`)
      expect(yield* client.nameServerAddresses).toEqual([peer.address])
      expect((yield* client.invokeNameServer(request(1), 1000)).extFields.i).toBe("1")
      expect(failureOf(yield* Effect.exit(client.setNameServerAddresses("x")))._tag).toBe("InvalidAddress")

      const fromEnv = yield* Effect.gen(function*() {
        const c = yield* RemotingClient.RemotingClient
        return yield* c.nameServerAddresses
      }).pipe(
        Effect.provide(
          RemotingClient.layerConfig().pipe(
            Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: { ROCKETMQ_NAMESRV_ADDR: `${peer.address}; [::1]:9876` } })))
          )
        )
      )
      expect(fromEnv).toEqual([peer.address, "[::1]:9876"])
      const none = yield* Effect.gen(function*() {
        const c = yield* RemotingClient.RemotingClient
        return yield* Effect.exit(c.invokeNameServer(request(1)))
      }).pipe(
        Effect.provide(
          RemotingClient.layerConfig().pipe(Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: {} }))))
        )
      )
      expect(failureOf(none)._tag).toBe("NoNameServerAddress")
    }))
})

describe("RemotingClient: GO_AWAY", () => {
  it.effect("reconnects once and retries with a fresh opaque and the remaining budget", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(goAwayFirst(1))
      const client = yield* makeClient()
      const response = yield* client.invoke(peer.address, request(1, { topic: "T" }), 2000)
      expect(response.code).toBe(ResponseCode.SUCCESS)
      expect(response.extFields.topic).toBe("T")
      expect(peer.connections.length).toBe(2)
      const first = peer.connections[0]!.received[0]!
      const retry = peer.connections[1]!.received[0]!
      expect(retry.opaque).not.toBe(first.opaque)
      expect(retry.extFields).toEqual(first.extFields)
      yield* settle(() => peer.connections[0]!.socket.readableEnded || peer.connections[0]!.socket.destroyed, "old channel closed")
      expect(client.diagnostics().channels.map((c) => c.generation)).toEqual([2])
    }))

  it.effect("on a channel already in use, GO_AWAY retires it (closed once idle) and the retry reconnects", () =>
    Effect.gen(function*() {
      const holder: { peer?: Peer.Peer } = {}
      const peer = yield* Peer.make((req, connection) => {
        if (req.code === 77 && holder.peer!.connections.indexOf(connection) === 0) {
          connection.reply(RemotingCommand.response(req, ResponseCode.GO_AWAY, "please go away"))
        } else Peer.echo(req, connection)
      })
      holder.peer = peer
      const client = yield* makeClient()
      yield* client.invoke(peer.address, request(1), 1000) // the channel is open and shared from here
      const response = yield* client.invoke(peer.address, RemotingCommand.make({ code: 77, extFields: { k: "v" } }), 1000)
      expect(response.code).toBe(ResponseCode.SUCCESS)
      expect(response.extFields.k).toBe("v")
      expect(peer.connections.length).toBe(2)
      expect(client.diagnostics().channels.map((c) => [c.generation, c.state, c.inUse])).toEqual([[2, "open", 0]])
      const old = peer.connections[0]!
      yield* settle(() => old.socket.readableEnded || old.socket.destroyed, "the retired channel to close")
    }))

  it.effect("a second GO_AWAY fails with GoAway(retried)", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(goAwayFirst(2))
      const client = yield* makeClient()
      const error = failureOf(yield* Effect.exit(client.invoke(peer.address, request(1), 2000)))
      assert(error._tag === "GoAway")
      expect(error.retried).toBe(true)
      expect(error.message).toContain(peer.address)
      expect(RemotingError.mayHaveReachedPeer(error)).toBe(false)
      expect(peer.connections.length).toBe(2)
      expect(client.diagnostics().invokePermits.free).toBe(65535)
    }))

  it.effect("with reconnectOnGoAway off, GO_AWAY fails at once and the channel is retired", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(goAwayFirst(1))
      const client = yield* makeClient({ reconnectOnGoAway: false })
      const error = failureOf(yield* Effect.exit(client.invoke(peer.address, request(1), 2000)))
      assert(error._tag === "GoAway")
      expect(error.retried).toBe(false)
      expect(peer.connections.length).toBe(1)
      expect(client.diagnostics().channels).toEqual([])
      yield* client.invoke(peer.address, request(2), 2000)
      expect(peer.connections.length).toBe(2)
    }))

  it.effect("a GO_AWAY on an old channel does not evict the newer one; in-flight calls on the old one finish", () =>
    Effect.gen(function*() {
      const holder: { peer?: Peer.Peer } = {}
      const peer = yield* Peer.make((req, connection) => {
        if (holder.peer!.connections.indexOf(connection) > 0) Peer.echo(req, connection)
      })
      holder.peer = peer
      const client = yield* makeClient()
      const a = yield* Effect.forkChild(client.invoke(peer.address, request(1), 5000))
      const b = yield* Effect.forkChild(client.invoke(peer.address, request(2), 5000))
      const c = yield* Effect.forkChild(client.invoke(peer.address, request(3), 5000))
      const [ra, rb, rc] = yield* peer.waitForRequests(3)
      const old = yield* peer.connection(1)
      old.reply(RemotingCommand.response(ra!, ResponseCode.GO_AWAY))
      expect((yield* Fiber.join(a)).extFields.i).toBe("1") // retried on connection 2
      expect(client.diagnostics().channels.map((ch) => [ch.generation, ch.state])).toEqual([[1, "retired"], [2, "open"]])
      old.reply(RemotingCommand.response(rb!, ResponseCode.GO_AWAY)) // late GO_AWAY from the old channel
      expect((yield* Fiber.join(b)).extFields.i).toBe("2")
      expect(peer.connections.length).toBe(2) // channel 2 was not evicted
      old.reply(RemotingCommand.response(rc!, 0, "answered by the old one")) // the old channel still delivers
      expect((yield* Fiber.join(c)).remark).toBe("answered by the old one")
      yield* settle(() => client.diagnostics().channels.length === 1, "old channel closed after its last call")
      expect(client.diagnostics().channels.map((ch) => ch.generation)).toEqual([2])
      yield* settle(() => old.socket.readableEnded || old.socket.destroyed)
    }))

  it.effect("a name server's GO_AWAY moves the call to the next name server", () =>
    Effect.gen(function*() {
      const leaving = yield* Peer.make(goAwayFirst(100))
      const staying = yield* Peer.make(Peer.echo)
      const client = yield* makeClient({ nameServerAddresses: [leaving.address, staying.address], nameServerStart: "first" })
      expect((yield* client.invokeNameServer(request(1), 2000)).extFields.i).toBe("1")
      expect(leaving.connections.length).toBe(1)
      expect(staying.connections.length).toBe(1)
      expect(client.diagnostics().chosenNameServer).toBe(staying.address)
    }))
})

describe("RemotingClient: hooks", () => {
  it.effect("run in registration order on invoke, oneway and send; afterResponse sees the response in order", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const log: Array<string> = []
      const tag = (name: string) => ({
        name,
        beforeRequest: (address: string, req: RemotingCommand.RemotingCommand) =>
          Effect.sync(() => {
            log.push(`${name}.before ${address} ${req.code}`)
            return RemotingCommand.withExtFields(req, { order: (req.extFields.order ?? "") + name })
          }),
        afterResponse: (_address: string, req: RemotingCommand.RemotingCommand, res: RemotingCommand.RemotingCommand) =>
          Effect.sync(() => {
            log.push(`${name}.after ${req.extFields.order} ${res.remark ?? ""}`)
            return RemotingCommand.response(res, res.code, (res.remark ?? "") + name, { extFields: res.extFields })
          })
      })
      const client = yield* makeClient({ hooks: [tag("A"), tag("B")] })
      const response = yield* client.invoke(peer.address, request(1), 1000)
      expect(response.extFields.order).toBe("AB")
      expect(response.remark).toBe("AB")
      yield* client.invokeOneway(peer.address, request(2), 1000)
      yield* client.send(peer.address, request(3), 1000)
      const received = yield* peer.waitForRequests(3)
      expect(received.map((r) => r.extFields.order)).toEqual(["AB", "AB", "AB"])
      expect(RemotingCommand.isOneway(received[1]!)).toBe(true)
      expect(log).toEqual([
        `A.before ${peer.address} 10`,
        `B.before ${peer.address} 10`,
        "A.after AB ",
        "B.after AB A",
        `A.before ${peer.address} 10`,
        `B.before ${peer.address} 10`,
        `A.before ${peer.address} 10`,
        `B.before ${peer.address} 10`
      ])
    }))

  it.effect("a failing or throwing hook is a typed RpcHookFailed; nothing is sent and permits come back", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const client = yield* makeClient({
        hooks: [
          { name: "fails", beforeRequest: (_a, r) => (r.code === 11 ? Effect.fail("no way") : Effect.succeed(r)) },
          {
            name: "throws",
            beforeRequest: (_a, r) => {
              if (r.code === 12) throw new Error("kaboom")
              return Effect.succeed(r)
            }
          }
        ]
      })
      const failed = failureOf(yield* Effect.exit(client.invoke(peer.address, RemotingCommand.make({ code: 11 }), 1000)))
      assert(failed._tag === "RpcHookFailed")
      expect(failed.hook).toBe("fails")
      expect(failed.message).toContain("no way")
      expect(failed.message).toContain("not sent")
      const threw = failureOf(yield* Effect.exit(client.invokeOneway(peer.address, RemotingCommand.make({ code: 12 }), 1000)))
      assert(threw._tag === "RpcHookFailed")
      expect(threw.hook).toBe("throws")
      expect(threw.message).toContain("kaboom")
      yield* client.invoke(peer.address, request(1), 1000)
      const received = yield* peer.waitForRequests(1)
      expect(received.map((r) => r.code)).toEqual([10])
      const { invokePermits, onewayPermits, channels } = client.diagnostics()
      expect([invokePermits.free, onewayPermits.free, channels[0]!.inUse]).toEqual([65535, 65535, 0])
    }))
})

describe("RemotingClient: permits", () => {
  it.effect("a call that gets no permit within its timeout fails with TooManyRequests; permits come back", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.silent)
      const client = yield* makeClient({ invokePermits: 2, onewayPermits: 1 })
      const held = yield* Effect.forEach([1, 2], (i) => Effect.forkChild(client.invoke(peer.address, request(i), 10_000)))
      yield* peer.waitForRequests(2)
      const waiting = yield* Effect.forkChild(client.invoke(peer.address, request(3), 500))
      yield* settle(() => client.diagnostics().invokePermits.waiting === 1)
      yield* TestClock.adjust(500)
      const error = failureOf(yield* Fiber.await(waiting))
      assert(error._tag === "TooManyRequests")
      expect(error.kind).toBe("invoke")
      expect(error.permits).toBe(2)
      expect(error.message).toContain("invokePermits")
      expect(client.diagnostics().invokePermits).toEqual({ total: 2, free: 0, waiting: 0 })
      // A waiter gets the permit of a call that ends.
      const next = yield* Effect.forkChild(client.invoke(peer.address, request(4), 10_000))
      yield* settle(() => client.diagnostics().invokePermits.waiting === 1)
      yield* Fiber.interrupt(held[0]!)
      yield* peer.waitForRequests(3)
      expect(client.diagnostics().invokePermits).toEqual({ total: 2, free: 0, waiting: 0 })
      yield* TestClock.adjust(10_000)
      yield* Fiber.await(held[1]!)
      yield* Fiber.await(next)
      expect(client.diagnostics().invokePermits).toEqual({ total: 2, free: 2, waiting: 0 })
      // With no permit free and no time to wait, a call fails at once.
      const busy = yield* Effect.forEach([5, 6], (i) => Effect.forkChild(client.invoke(peer.address, request(i), 10_000)))
      yield* settle(() => client.diagnostics().invokePermits.free === 0)
      const refused = failureOf(yield* Effect.exit(client.invoke(peer.address, request(7), 0)))
      assert(refused._tag === "TooManyRequests")
      expect(refused.timeoutMillis).toBe(0)
      yield* Fiber.interruptAll(busy)
      expect(client.diagnostics().invokePermits).toEqual({ total: 2, free: 2, waiting: 0 })
    }))

  it.effect("interrupting a permit holder and its waiter in the same instant returns every permit", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.silent)
      for (const holderFirst of [true, false]) {
        const client = yield* makeClient({ invokePermits: 1 })
        const holder = yield* Effect.forkChild(client.invoke(peer.address, request(1), 10_000), { startImmediately: true })
        yield* settle(() => client.diagnostics().invokePermits.free === 0)
        const waiter = yield* Effect.forkChild(client.invoke(peer.address, request(2), 10_000), { startImmediately: true })
        yield* settle(() => client.diagnostics().invokePermits.waiting === 1)
        yield* Effect.sync(() => {
          for (const fiber of holderFirst ? [holder, waiter] : [waiter, holder]) fiber.interruptUnsafe()
        })
        yield* Fiber.await(holder)
        yield* Fiber.await(waiter)
        expect(client.diagnostics().invokePermits).toEqual({ total: 1, free: 1, waiting: 0 })
        expect(client.diagnostics().channels.map((c) => [c.inUse, c.pending])).toEqual([[0, 0]])
      }
    }))

  it.effect("after 100,000 mixed calls with timeouts, interruptions and closes, every permit is free", () =>
    Effect.gen(function*() {
      // Echo, except for code 99, which is never answered (those calls time out on TestClock).
      const peer = yield* Peer.make((req, connection) => {
        if (req.code !== 99) Peer.echo(req, connection)
      })
      const client = yield* makeClient({ invokePermits: 256, onewayPermits: 128 })
      const batch = 2_000
      const batches = 50
      let ok = 0
      const failures = new Map<string, number>()
      for (let b = 0; b < batches; b++) {
        const fibers = yield* Effect.forEach(
          Array.from({ length: batch }, (_, i) => i),
          (i) => {
            const kind = i % 10
            const call = kind < 6
              ? client.invoke(peer.address, request(i), 5_000)
              : kind < 8
              ? client.invokeOneway(peer.address, request(i), 5_000)
              : client.invoke(peer.address, RemotingCommand.make({ code: 99 }), kind === 8 ? 1_000 : 3_000)
            return Effect.forkChild(Effect.exit(call), { startImmediately: true })
          }
        )
        const finished = () => {
          let n = 0
          for (const fiber of fibers) if (fiber.pollUnsafe() !== undefined) n++
          return n
        }
        // Lets real I/O run until completions stop for a moment (bounded).
        const quiesce = Effect.gen(function*() {
          let last = -1
          for (let i = 0; i < 500 && finished() !== last; i++) {
            last = finished()
            yield* TestClock.withLive(Effect.sleep(2))
          }
        })
        yield* quiesce
        if (b % 2 === 1) peer.connections.at(-1)?.socket.resetAndDestroy()
        if (b % 3 === 0) yield* Effect.forEach(fibers.filter((_, i) => i % 10 === 9), Fiber.interrupt, { discard: true })
        for (let step = 0; step < 100 && finished() < batch; step++) {
          yield* quiesce
          yield* TestClock.adjust(250)
        }
        expect(finished(), `batch ${b}`).toBe(batch)
        for (const fiber of fibers) {
          const outer = yield* Fiber.await(fiber)
          const exit = Exit.isSuccess(outer) ? outer.value : outer
          if (Exit.isSuccess(exit)) ok++
          else {
            const tag = exit.cause.reasons.some((r) => r._tag === "Interrupt") ? "Interrupted" : failureOf(exit)._tag
            failures.set(tag, (failures.get(tag) ?? 0) + 1)
          }
        }
      }
      const total = ok + [...failures.values()].reduce((a, n) => a + n, 0)
      expect(total).toBe(batch * batches)
      expect(ok).toBeGreaterThan(total / 5)
      for (const tag of ["RequestTimeout", "ChannelClosed", "Interrupted", "TooManyRequests"]) {
        expect(failures.get(tag) ?? 0, tag).toBeGreaterThan(0)
      }
      const d = client.diagnostics()
      expect(d.invokePermits).toEqual({ total: 256, free: 256, waiting: 0 })
      expect(d.onewayPermits).toEqual({ total: 128, free: 128, waiting: 0 })
      expect(d.channels.every((c) => c.inUse === 0 && c.pending === 0)).toBe(true)
      expect(d.connectAttempts).toBeGreaterThanOrEqual(batches / 2)
      // And the client still works: one channel, nothing in use, nothing pending.
      yield* client.invoke(peer.address, request(1), 1000)
      expect(client.diagnostics().channels.map((c) => [c.state, c.inUse, c.pending])).toEqual([["open", 0, 0]])
    }), { timeout: 120_000 })
})

describe("RemotingClient: scope", () => {
  it.effect("closing the client fails pending calls, closes sockets and refuses later calls", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.silent)
      const scope = yield* Scope.make()
      const client = yield* makeClient().pipe(Scope.provide(scope))
      const pending = yield* Effect.forkChild(client.invoke(peer.address, request(1), 60_000))
      yield* peer.waitForRequests(1)
      yield* Scope.close(scope, Exit.void)
      const error = failureOf(yield* Fiber.await(pending))
      assert(error._tag === "ChannelClosed")
      expect(error.cause._tag).toBe("ClosedLocally")
      const connection = yield* peer.connection()
      yield* settle(() => connection.socket.readableEnded || connection.socket.destroyed)
      const later = failureOf(yield* Effect.exit(client.invoke(peer.address, request(2), 1000)))
      assert(later._tag === "RemotingClientShutDown")
      expect(later.message).toContain(peer.address)
      expect(client.diagnostics().channels).toEqual([])
    }))

  it.effect("random name server start uses Effect's Random", () =>
    Effect.gen(function*() {
      const chosen = new Set<string>()
      for (let seed = 0; seed < 20; seed++) {
        const client = yield* makeClient({ nameServerAddresses: "a:1;b:2;c:3" }).pipe(Random.withSeed(seed))
        chosen.add(client.diagnostics().chosenNameServer!)
      }
      expect(chosen.size).toBeGreaterThan(1)
    }))
})
