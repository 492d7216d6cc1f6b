/**
 * FaultProxy between our Channel / RemotingClient and a FakeBroker: what a caller sees for each
 * fault, and that nothing is left pending. Time is TestClock's; the sockets are real loopback.
 */
import { Channel, Codec, RemotingClient, RemotingCommand } from "@effect-rocketmq/remoting"
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { Buffer } from "node:buffer"
import * as FakeBroker from "../src/FakeBroker.ts"
import * as FaultProxy from "../src/FaultProxy.ts"
import { closedAndClean, failureOf, settle } from "./support/helpers.ts"

const req = (code: number, body?: string) => RemotingCommand.make({ code, body: body === undefined ? undefined : Buffer.from(body) })

/** A FakeBroker, a proxy in front of it, and a Channel through the proxy. */
const setup = (proxyOptions?: Omit<FaultProxy.FaultProxyOptions, "target">, brokerOptions?: FakeBroker.FakeBrokerOptions) =>
  Effect.gen(function*() {
    const broker = yield* FakeBroker.make(brokerOptions)
    const proxy = yield* FaultProxy.make({ ...proxyOptions, target: broker.address })
    const channel = yield* Channel.make({ host: proxy.host, port: proxy.port })
    const [connection] = yield* proxy.waitForConnections(1)
    return { broker, proxy, channel, connection: connection! }
  })

describe("FaultProxy with a Channel", () => {
  it.effect("latency delays the answer by the Clock; the request resolves once, nothing pending", () =>
    Effect.gen(function*() {
      const { broker, channel } = yield* setup({ upstream: { latency: "1 second" }, downstream: { latency: "500 millis" } })
      const call = yield* Effect.forkChild(channel.sendWaitResponse(req(10), 5000))
      yield* TestClock.adjust("999 millis")
      yield* settle(() => true)
      expect((yield* broker.received).length).toBe(0)
      yield* TestClock.adjust("1 millis")
      yield* broker.waitForRequests(1)
      yield* TestClock.adjust("499 millis")
      expect(call.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust("1 millis")
      expect((yield* Fiber.join(call)).code).toBe(0)
      expect(yield* channel.pending).toBe(0)
    }))

  it.effect("a black-holed answer times the caller out with the request written; the channel stays healthy and works after pass", () =>
    Effect.gen(function*() {
      const { broker, channel, connection } = yield* setup()
      yield* connection.drop("downstream")
      const call = yield* Effect.forkChild(channel.sendWaitResponse(req(10), 3000))
      yield* broker.waitForRequests(1)
      yield* settle(() => connection.stats().downstream.dropped > 0)
      yield* TestClock.adjust(3000)
      const error = failureOf(yield* Fiber.await(call))
      assert(error._tag === "RequestTimeout")
      expect([error.written, yield* channel.pending, yield* channel.isHealthy]).toEqual([true, 0, true])

      yield* connection.pass("downstream")
      expect((yield* channel.sendWaitResponse(req(11), 3000)).code).toBe(0)
    }))

  it.effect("a held answer arrives after pass: too late for a timed-out caller, so it is counted unmatched", () =>
    Effect.gen(function*() {
      const { broker, channel, connection } = yield* setup()
      yield* connection.hold("downstream")
      const call = yield* Effect.forkChild(channel.sendWaitResponse(req(10), 1000))
      yield* broker.waitForRequests(1)
      yield* TestClock.adjust(1000)
      assert.strictEqual(failureOf(yield* Fiber.await(call))._tag, "RequestTimeout")
      yield* connection.pass("downstream")
      yield* settle(() => channel.diagnostics().unmatchedResponses === 1)
      expect(yield* channel.pending).toBe(0)
    }))

  for (const [how, tag] of [["fin", "ClosedByPeer"], ["rst", "ConnectionReset"]] as const) {
    it.effect(`a cut with ${how.toUpperCase()} fails the pending request at once with ChannelClosed (${tag})`, () =>
      Effect.gen(function*() {
        const { broker, channel, connection } = yield* setup(undefined, { scripts: { 10: FakeBroker.noReply } })
        const call = yield* Effect.forkChild(channel.sendWaitResponse(req(10), 60_000))
        yield* broker.waitForRequests(1)
        yield* connection.cut(how)
        const error = failureOf(yield* Fiber.await(call))
        assert(error._tag === "ChannelClosed")
        expect([error.written, error.cause._tag]).toEqual([true, tag])
        expect(yield* closedAndClean(channel)).toMatchObject({ pending: 0, healthy: false })
      }))
  }

  it.effect("frames split into random 1-7 byte segments both ways still decode: 100 concurrent calls answered", () =>
    Effect.gen(function*() {
      const split = { minSegment: 1, maxSegment: 7 }
      const { channel, connection } = yield* setup({ upstream: { split }, downstream: { split } })
      const bodies = Array.from({ length: 100 }, (_, i) => `body-${i}-${"x".repeat(i)}`)
      const answers = yield* Effect.forEach(bodies, (body) => channel.sendWaitResponse(req(10, body), 60_000), {
        concurrency: "unbounded"
      })
      expect(answers.map((a) => Buffer.from(a.body!).toString())).toEqual(bodies)
      assert.isAbove(connection.stats().downstream.writes, 1000)
      expect(yield* channel.pending).toBe(0)
    }))

  it.effect("a frame rewrite sees whole frames: a bogus opaque times out, garbage closes only that channel", () =>
    Effect.gen(function*() {
      const broker = yield* FakeBroker.make()
      const proxy = yield* FaultProxy.make({
        target: broker.address,
        downstream: {
          rewrite: FaultProxy.rewriteFrames((frame) =>
            Effect.gen(function*() {
              const response = yield* Codec.decodeFrame(frame).pipe(Effect.orDie)
              if (response.code !== 0) return frame
              const body = Buffer.from(response.body ?? new Uint8Array()).toString()
              if (body === "bogus") return Codec.encodeFrame(RemotingCommand.withOpaque(response, response.opaque ^ 0x5a5a))
              if (body === "garbage") return Buffer.from("HTTP/1.1 400 Bad Request\r\n\r\n")
              return frame
            })
          )
        }
      })
      const victim = yield* Channel.make({ host: proxy.host, port: proxy.port })
      const bystander = yield* Channel.make({ host: proxy.host, port: proxy.port })

      const bogus = yield* Effect.forkChild(victim.sendWaitResponse(req(10, "bogus"), 1000))
      yield* settle(() => victim.diagnostics().unmatchedResponses === 1)
      yield* TestClock.adjust(1000)
      assert.strictEqual(failureOf(yield* Fiber.await(bogus))._tag, "RequestTimeout")

      const garbage = failureOf(yield* Effect.exit(victim.sendWaitResponse(req(10, "garbage"), 1000)))
      assert(garbage._tag === "ChannelClosed")
      expect(garbage.cause._tag).toBe("FrameDecodeError")
      expect(yield* closedAndClean(victim)).toMatchObject({ pending: 0, healthy: false })

      const fine = yield* bystander.sendWaitResponse(req(10, "fine"), 1000)
      expect(Buffer.from(fine.body!).toString()).toBe("fine")
    }))
})

describe("FaultProxy with a RemotingClient", () => {
  it.effect("after every connection is reset the client reconnects through the proxy", () =>
    Effect.gen(function*() {
      const broker = yield* FakeBroker.make()
      const proxy = yield* FaultProxy.make({ target: broker.address })
      const client = yield* RemotingClient.make()
      expect((yield* client.invoke(proxy.address, req(10), 1000)).code).toBe(0)
      yield* proxy.cutAll("rst")
      yield* settle(() => client.diagnostics().channels.length === 0)
      expect((yield* client.invoke(proxy.address, req(10), 1000)).code).toBe(0)
      const [first, second] = yield* proxy.waitForConnections(2)
      expect([yield* first!.closed, second!.isOpen()]).toEqual([{ _tag: "Cut", side: "both", how: "rst" }, true])
      expect(proxy.diagnostics()).toMatchObject({ accepted: 2, open: 1 })
    }))
})
