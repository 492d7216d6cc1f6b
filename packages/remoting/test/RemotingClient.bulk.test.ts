/**
 * `RemotingClient.invokeAll` against real loopback peers: each request keeps `invoke`'s rules
 * (permits, hooks, deadline, GO_AWAY's retry, eviction of a closed channel) while the requests
 * share one channel and one suspension. Time is TestClock's; real I/O is awaited by bounded polling.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Result } from "effect"
import { TestClock } from "effect/testing"
import * as RemotingClient from "../src/RemotingClient.ts"
import * as RemotingCommand from "../src/RemotingCommand.ts"
import * as RemotingError from "../src/RemotingError.ts"
import * as ResponseCode from "../src/ResponseCode.ts"
import { closedPort, goAwayFirst, request, settle } from "./support/ClientKit.ts"
import * as Peer from "./support/Peer.ts"

const requests = (count: number, from = 0) => Array.from({ length: count }, (_, i) => request(from + i))

const successes = (outcomes: ReadonlyArray<Result.Result<RemotingCommand.RemotingCommand, RemotingClient.RemotingClientError>>) =>
  outcomes.map((outcome) => {
    assert(Result.isSuccess(outcome), `expected a response, got ${Result.isFailure(outcome) ? outcome.failure.message : ""}`)
    return outcome.success
  })

const failures = (outcomes: ReadonlyArray<Result.Result<RemotingCommand.RemotingCommand, RemotingClient.RemotingClientError>>) =>
  outcomes.map((outcome) => {
    assert(Result.isFailure(outcome), "expected a failure")
    return outcome.failure
  })

const permitsBack = (client: RemotingClient.RemotingClientShape) => {
  const { channels, invokePermits } = client.diagnostics()
  expect(invokePermits.free).toBe(invokePermits.total)
  expect(channels.every((channel) => channel.inUse === 0)).toBe(true)
}

describe("RemotingClient.invokeAll", () => {
  it.effect("answers each request with its own response, in order, over one connection, connecting first if needed", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const client = yield* RemotingClient.make()
      const first = successes(yield* client.invokeAll(peer.address, requests(200), 2000)) // connects
      const second = successes(yield* client.invokeAll(peer.address, requests(50, 200), 2000)) // the open channel
      expect([...first, ...second].map((r) => r.extFields.i)).toEqual(Array.from({ length: 250 }, (_, i) => String(i)))
      expect(peer.connections.length).toBe(1)
      const opaques = peer.connections[0]!.received.map((r) => r.opaque)
      expect(new Set(opaques).size).toBe(250)
      expect(yield* client.invokeAll(peer.address, [], 2000)).toEqual([])
      permitsBack(client)
    }))

  it.effect("a request that gets no answer times out alone; the answered ones keep their responses", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make((req, connection) => {
        if (Number(req.extFields.i) % 3 !== 0) Peer.echo(req, connection)
      })
      const client = yield* RemotingClient.make()
      const fiber = yield* Effect.forkChild(client.invokeAll(peer.address, requests(9), 1000))
      yield* peer.waitForRequests(9)
      yield* TestClock.adjust("1 second")
      const outcomes = yield* Fiber.join(fiber)
      outcomes.forEach((outcome, i) => {
        if (i % 3 === 0) {
          assert(Result.isFailure(outcome))
          expect(outcome.failure._tag).toBe("RequestTimeout")
        } else {
          assert(Result.isSuccess(outcome))
          expect(outcome.success.extFields.i).toBe(String(i))
        }
      })
      permitsBack(client)
    }))

  it.effect("GO_AWAY sends those requests once more on a new connection with fresh opaques; the rest are answered on the first", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(goAwayFirst(2))
      const client = yield* RemotingClient.make()
      const answered = successes(yield* client.invokeAll(peer.address, requests(6), 2000))
      expect(answered.map((r) => [r.code, r.extFields.i])).toEqual(Array.from({ length: 6 }, (_, i) => [ResponseCode.SUCCESS, String(i)]))
      expect(peer.connections.length).toBe(2)
      const retried = peer.connections[1]!.received
      expect(retried.map((r) => r.extFields.i)).toEqual(["0", "1"])
      const firstOpaques = new Set(peer.connections[0]!.received.map((r) => r.opaque))
      expect(retried.every((r) => !firstOpaques.has(r.opaque))).toBe(true)
      yield* settle(() => client.diagnostics().channels.length === 1, "the retired channel closed")
      permitsBack(client)
    }))

  it.effect("a second GO_AWAY fails that request with GoAway(retried); the others succeed", () =>
    Effect.gen(function*() {
      let goAways = 0
      const peer = yield* Peer.make((req, connection) => {
        if (req.extFields.i === "1" && goAways < 2) {
          goAways++
          connection.reply(RemotingCommand.response(req, ResponseCode.GO_AWAY, "please go away"))
        } else Peer.echo(req, connection)
      })
      const client = yield* RemotingClient.make()
      const outcomes = yield* client.invokeAll(peer.address, requests(3), 2000)
      const error = failures([outcomes[1]!])[0]!
      assert(error._tag === "GoAway")
      expect(error.retried).toBe(true)
      expect(successes([outcomes[0]!, outcomes[2]!]).map((r) => r.extFields.i)).toEqual(["0", "2"])
      permitsBack(client)
    }))

  it.effect("hooks run per request: a failing before-hook fails that request alone, unsent; after-hooks see every response", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const client = yield* RemotingClient.make({
        hooks: [{
          name: "stamp",
          beforeRequest: (_address, req) =>
            req.extFields.i === "2"
              ? Effect.fail("refused")
              : Effect.succeed(RemotingCommand.make({ code: req.code, extFields: { ...req.extFields, stamped: "yes" } })),
          afterResponse: (_address, _req, res) => Effect.succeed(RemotingCommand.response(res, res.code, "seen", { extFields: res.extFields }))
        }]
      })
      const outcomes = yield* client.invokeAll(peer.address, requests(4), 2000)
      const refused = failures([outcomes[2]!])[0]!
      assert(refused._tag === "RpcHookFailed")
      expect(refused.hook).toBe("stamp")
      const answered = successes([outcomes[0]!, outcomes[1]!, outcomes[3]!])
      expect(answered.map((r) => [r.extFields.i, r.extFields.stamped, r.remark])).toEqual([
        ["0", "yes", "seen"],
        ["1", "yes", "seen"],
        ["3", "yes", "seen"]
      ])
      const received = yield* peer.waitForRequests(3)
      expect(received.map((r) => r.extFields.i)).toEqual(["0", "1", "3"])
      permitsBack(client)
    }))

  it.effect("a refused connect or a bad address is every request's outcome, with nothing held", () =>
    Effect.gen(function*() {
      const port = yield* closedPort()
      const client = yield* RemotingClient.make()
      const refused = failures(yield* client.invokeAll(`127.0.0.1:${port}`, requests(3), 1000))
      expect(refused.map((e) => e._tag)).toEqual(["ConnectError", "ConnectError", "ConnectError"])
      expect(refused.every((e) => !RemotingError.mayHaveReachedPeer(e))).toBe(true)
      const bad = failures(yield* client.invokeAll("localhost", requests(2), 1000))
      expect(bad.map((e) => e._tag)).toEqual(["InvalidAddress", "InvalidAddress"])
      permitsBack(client)
    }))

  it.effect("a reset mid-flight fails every request with ChannelClosed and evicts the channel; the next call reconnects", () =>
    Effect.gen(function*() {
      let answer = false
      const peer = yield* Peer.make((req, connection) => {
        if (answer) Peer.echo(req, connection)
      })
      const client = yield* RemotingClient.make()
      const fiber = yield* Effect.forkChild(client.invokeAll(peer.address, requests(5), 60_000))
      yield* peer.waitForRequests(5)
      ;(yield* peer.connection()).socket.resetAndDestroy()
      const closed = failures(yield* Fiber.join(fiber))
      expect(closed.map((e) => e._tag)).toEqual(Array(5).fill("ChannelClosed"))
      yield* settle(() => client.diagnostics().channels.length === 0, "eviction")
      answer = true
      expect(successes(yield* client.invokeAll(peer.address, requests(2), 2000)).length).toBe(2)
      expect(peer.connections.length).toBe(2)
      permitsBack(client)
    }))

  it.effect("interrupting it withdraws the pending requests and gives back permits and the channel", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.silent)
      const client = yield* RemotingClient.make()
      const fiber = yield* Effect.forkChild(client.invokeAll(peer.address, requests(4), 60_000))
      yield* peer.waitForRequests(4)
      yield* Fiber.interrupt(fiber)
      expect(client.diagnostics().channels.map((c) => c.inUse)).toEqual([0])
      permitsBack(client)
    }))

  it.effect("with fewer free permits than requests it sends them one by one, each waiting for a permit as invoke does", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const client = yield* RemotingClient.make({ invokePermits: 3 })
      const answered = successes(yield* client.invokeAll(peer.address, requests(10), 2000))
      expect(answered.map((r) => r.extFields.i)).toEqual(Array.from({ length: 10 }, (_, i) => String(i)))
      permitsBack(client)
    }))
})
