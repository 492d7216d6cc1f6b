/**
 * The channel's bulk path — `sendWaitResponseAll` and `sendWaitResponseStream` — against a real
 * loopback peer: each request keeps every guarantee of a single `sendWaitResponse` (its own
 * deadline, exactly-once resolution, cleanup on interruption and on close) while the caller waits
 * once. Time is TestClock's.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Result, Scope, Stream } from "effect"
import { TestClock } from "effect/testing"
import { Buffer } from "node:buffer"
import * as Channel from "../src/Channel.ts"
import * as Codec from "../src/Codec.ts"
import * as RemotingCommand from "../src/RemotingCommand.ts"
import type { ChannelError } from "../src/RemotingError.ts"
import { settle } from "./support/Effects.ts"
import * as Peer from "./support/Peer.ts"

const request = (i: number) => RemotingCommand.make({ code: 10, extFields: { i: String(i) } })
const requests = (n: number) => Array.from({ length: n }, (_, i) => request(i))

const openChannel = (peer: Peer.Peer, options?: Partial<Channel.ChannelOptions>) =>
  Channel.make({ host: "127.0.0.1", port: peer.port, ...options })

type Outcome = Result.Result<RemotingCommand.RemotingCommand, ChannelError>

const errorOf = (outcome: Outcome | undefined): ChannelError => {
  assert(outcome !== undefined && Result.isFailure(outcome), "expected a failed outcome")
  return outcome.failure
}

const answer = (r: RemotingCommand.RemotingCommand) =>
  Codec.encodeFrame(RemotingCommand.response(r, 0, undefined, { extFields: r.extFields }), r.opaque % 2 === 0 ? "JSON" : "ROCKETMQ")

describe("Channel.sendWaitResponseAll", () => {
  it.effect("resumes once with every response in request order, whatever order the peer answers in", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.silent)
      const channel = yield* openChannel(peer)
      const n = 2000
      const fiber = yield* Effect.forkChild(channel.sendWaitResponseAll(requests(n), 60_000))
      const received = yield* peer.waitForRequests(n)
      expect(new Set(received.map((r) => r.opaque)).size).toBe(n)
      const shuffled = [...received].sort(() => Math.random() - 0.5)
      const connection = yield* peer.connection()
      // All but the last response: the caller is still waiting.
      connection.writeRaw(Buffer.concat(shuffled.slice(0, n - 1).map(answer)))
      yield* settle(() => channel.diagnostics().pending === 1, "all but one to be answered")
      expect(fiber.pollUnsafe()).toBeUndefined()
      connection.writeRaw(answer(shuffled[n - 1]!))
      const outcomes = yield* Fiber.join(fiber)
      expect(outcomes.map((o) => Result.isSuccess(o) ? o.success.extFields.i : "failed")).toEqual(
        Array.from({ length: n }, (_, i) => String(i))
      )
      expect(yield* channel.pending).toBe(0)
      expect(channel.diagnostics().unmatchedResponses).toBe(0)
    }))

  it.effect("an empty list resumes at once with no outcomes", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.silent)
      const channel = yield* openChannel(peer)
      expect(yield* channel.sendWaitResponseAll([], 1000)).toEqual([])
    }))

  it.effect("each request has its own deadline: the unanswered ones time out (written), the answered ones succeed", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.silent)
      const channel = yield* openChannel(peer)
      const fiber = yield* Effect.forkChild(channel.sendWaitResponseAll(requests(4), 1000))
      const received = yield* peer.waitForRequests(4)
      const connection = yield* peer.connection()
      connection.writeRaw(Buffer.concat([answer(received[0]!), answer(received[2]!)]))
      yield* settle(() => channel.diagnostics().pending === 2, "two answers")
      yield* TestClock.adjust(999)
      expect(fiber.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust(1)
      const outcomes = yield* Fiber.join(fiber)
      expect(outcomes.map((o) => Result.isSuccess(o))).toEqual([true, false, true, false])
      for (const i of [1, 3]) {
        const error = errorOf(outcomes[i])
        assert(error._tag === "RequestTimeout")
        expect(error.written).toBe(true)
        expect(error.opaque).toBe(received[i]!.opaque)
      }
      // Late and duplicate responses complete nothing.
      connection.writeRaw(Buffer.concat([answer(received[1]!), answer(received[0]!)]))
      yield* settle(() => channel.diagnostics().unmatchedResponses === 2, "late responses to be dropped")
      expect(yield* channel.pending).toBe(0)
    }))

  it.effect("a non-positive timeout fails every request at once without writing", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.silent)
      const channel = yield* openChannel(peer)
      const outcomes = yield* channel.sendWaitResponseAll(requests(3), 0)
      for (const outcome of outcomes) {
        const error = errorOf(outcome)
        assert(error._tag === "RequestTimeout")
        expect(error.written).toBe(false)
      }
      expect(yield* channel.pending).toBe(0)
    }))

  it.effect("a frame above maxFrameLength fails alone; the others are sent and answered", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const channel = yield* openChannel(peer, { maxFrameLength: 1024 })
      const big = RemotingCommand.make({ code: 10, extFields: { i: "big" }, body: Buffer.alloc(2048) })
      const outcomes = yield* channel.sendWaitResponseAll([request(0), big, request(2)], 1000)
      expect(Result.isSuccess(outcomes[0]!)).toBe(true)
      const error = errorOf(outcomes[1])
      assert(error._tag === "ChannelSendRequestFailed")
      expect(error.reason).toBe("FrameTooLarge")
      expect(Result.isSuccess(outcomes[2]!)).toBe(true)
      expect(yield* channel.pending).toBe(0)
    }))

  it.effect("more requests than the send queue holds wait beside it and are all answered", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const channel = yield* openChannel(peer, { queueCapacity: 4 })
      const outcomes = yield* channel.sendWaitResponseAll(requests(100), 10_000)
      expect(outcomes.every((o) => Result.isSuccess(o))).toBe(true)
      expect(outcomes.map((o) => Result.isSuccess(o) && o.success.extFields.i)).toEqual(
        Array.from({ length: 100 }, (_, i) => String(i))
      )
      expect(yield* channel.pending).toBe(0)
    }))

  it.effect("interrupting the caller withdraws every pending request; later responses complete nothing", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.silent)
      const channel = yield* openChannel(peer)
      const fiber = yield* Effect.forkChild(channel.sendWaitResponseAll(requests(5), 10_000))
      const received = yield* peer.waitForRequests(5)
      const connection = yield* peer.connection()
      connection.writeRaw(answer(received[0]!))
      yield* settle(() => channel.diagnostics().pending === 4, "the first answer")
      yield* Fiber.interrupt(fiber)
      expect(yield* channel.pending).toBe(0)
      connection.writeRaw(Buffer.concat(received.slice(1).map(answer)))
      yield* settle(() => channel.diagnostics().unmatchedResponses === 4, "late responses to be dropped")
      // The deadline of a withdrawn request does nothing either.
      yield* TestClock.adjust(20_000)
      expect(yield* channel.isHealthy).toBe(true)
    }))

  it.effect("closing the channel fails what is pending with ChannelClosed (written); answered requests keep their response", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.silent)
      const scope = yield* Scope.make()
      const channel = yield* openChannel(peer).pipe(Scope.provide(scope))
      const fiber = yield* Effect.forkChild(channel.sendWaitResponseAll(requests(3), 10_000))
      const received = yield* peer.waitForRequests(3)
      ;(yield* peer.connection()).writeRaw(answer(received[1]!))
      yield* settle(() => channel.diagnostics().pending === 2, "the answer")
      ;(yield* peer.connection()).socket.end()
      const outcomes = yield* Fiber.join(fiber)
      expect(Result.isSuccess(outcomes[1]!)).toBe(true)
      for (const i of [0, 2]) {
        const error = errorOf(outcomes[i])
        assert(error._tag === "ChannelClosed")
        expect(error.cause._tag).toBe("ClosedByPeer")
        expect(error.written).toBe(true)
      }
      expect(yield* channel.pending).toBe(0)
      // On a closed channel every request fails at once, not written.
      const after = yield* channel.sendWaitResponseAll(requests(2), 1000)
      for (const outcome of after) {
        const error = errorOf(outcome)
        assert(error._tag === "ChannelClosed")
        expect(error.written).toBe(false)
      }
      yield* Scope.close(scope, Exit.void)
    }))
})

describe("Channel.sendWaitResponseStream", () => {
  it.effect("answers every request of a chunked stream, outcomes in request order", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const channel = yield* openChannel(peer)
      const outcomes = yield* channel.sendWaitResponseStream(
        Stream.fromIterable(requests(250)).pipe(Stream.rechunk(16)),
        { timeoutMillis: 10_000, concurrency: 3 }
      ).pipe(Stream.runCollect)
      expect(outcomes.map((o) => Result.isSuccess(o) && o.success.extFields.i)).toEqual(
        Array.from({ length: 250 }, (_, i) => String(i))
      )
      expect(yield* channel.pending).toBe(0)
    }))

  it.effect("an unanswered request becomes its own RequestTimeout in the stream; the stream goes on", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make((r, connection) => {
        if (r.extFields.i !== "1") Peer.echo(r, connection)
      })
      const channel = yield* openChannel(peer)
      const fiber = yield* channel.sendWaitResponseStream(Stream.fromIterable(requests(3)), { timeoutMillis: 500 }).pipe(
        Stream.runCollect,
        Effect.forkChild
      )
      yield* settle(() => channel.diagnostics().pending === 1 && peer.connections[0]!.received.length === 3, "two answers")
      yield* TestClock.adjust(500)
      const outcomes = yield* Fiber.join(fiber)
      expect(outcomes.map((o) => Result.isSuccess(o))).toEqual([true, false, true])
      expect(errorOf(outcomes[1])._tag).toBe("RequestTimeout")
    }))
})
