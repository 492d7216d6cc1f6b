/**
 * HostileFrame: the bytes of each kind, and what a Channel does with each when a FaultProxy puts it
 * in place of a FakeBroker's answer mid-stream. Time is TestClock's; the sockets are real loopback.
 */
import { Channel, Codec, RemotingCommand } from "@effect-rocketmq/remoting"
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Random } from "effect"
import { TestClock } from "effect/testing"
import { Buffer } from "node:buffer"
import * as FakeBroker from "../src/FakeBroker.ts"
import * as FaultProxy from "../src/FaultProxy.ts"
import * as HostileFrame from "../src/HostileFrame.ts"
import { closedAndClean, failureOf, settle } from "./support/helpers.ts"

const answer = RemotingCommand.make({
  code: 0,
  opaque: 7,
  flag: 1,
  remark: "fine",
  extFields: { offset: "42" },
  body: Buffer.from("the body")
})
const frame = Codec.encodeFrame(answer)

const decodeError = (bytes: Uint8Array) => Effect.flip(Codec.decodeFrame(bytes))

const req = (code: number, body: string) => RemotingCommand.make({ code, body: Buffer.from(body) })

describe("HostileFrame: the bytes", () => {
  it.effect("garbage keeps the length prefix and header-length word and randomizes the rest, differently per seed", () =>
    Effect.gen(function*() {
      const a = yield* Random.withSeed(HostileFrame.make("garbage", frame), "a")
      const b = yield* Random.withSeed(HostileFrame.make("garbage", frame), "b")
      expect(Buffer.from(a.subarray(0, 8))).toEqual(Buffer.from(frame.subarray(0, 8)))
      assert.strictEqual(a.length, frame.length)
      assert.notDeepEqual(Buffer.from(a), Buffer.from(frame))
      assert.notDeepEqual(Buffer.from(a), Buffer.from(b))
      expect((yield* decodeError(a)).reason).toBe("MalformedJsonHeader")
    }))

  it.effect("oversized announces 2^31 - 1 bytes, which no decoder accepts", () =>
    Effect.gen(function*() {
      const out = yield* HostileFrame.make("oversized", frame)
      assert.strictEqual(Buffer.from(out).readInt32BE(0), 0x7fff_ffff)
      expect((yield* decodeError(out)).reason).toBe("FrameTooLarge")
    }))

  it.effect("bogusOpaque is the same answer, in the same header type, under another opaque", () =>
    Effect.gen(function*() {
      for (const serializeType of ["JSON", "ROCKETMQ"] as const) {
        const out = yield* HostileFrame.make("bogusOpaque", Codec.encodeFrame(answer, serializeType))
        assert.strictEqual(out[4], serializeType === "JSON" ? 0 : 1)
        const decoded = yield* Codec.decodeFrame(out)
        expect({ ...decoded, opaque: 7 }).toEqual(answer)
        assert.strictEqual(decoded.opaque, 7 ^ 0x4000_0000)
      }
    }))

  it.effect("protoJson carries __proto__ and constructor.prototype; decoding refuses it and pollutes nothing", () =>
    Effect.gen(function*() {
      const out = yield* HostileFrame.make("protoJson", Codec.encodeFrame(answer, "ROCKETMQ"))
      assert.strictEqual(out[4], 0, "always a JSON header")
      const text = Buffer.from(out).toString("utf8")
      expect(text).toContain("{\"__proto__\":{\"polluted\":\"yes\"},")
      expect(text).toContain("\"extFields\":{\"__proto__\":{\"polluted\":\"yes\"},\"constructor\":{\"prototype\":{\"polluted\":\"yes\"}},")
      expect(text.endsWith("the body")).toBe(true)
      const error = yield* decodeError(out)
      expect(error.reason).toBe("MalformedJsonHeader")
      expect(error.message).toContain("__proto__")
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    }))

  it.effect("frames that do not decode pass bogusOpaque and protoJson unchanged", () =>
    Effect.gen(function*() {
      const junk = Buffer.from("HTTP/1.1 400 Bad Request\r\n\r\n")
      expect(Buffer.from(yield* HostileFrame.make("bogusOpaque", junk))).toEqual(junk)
      expect(Buffer.from(yield* HostileFrame.make("protoJson", junk))).toEqual(junk)
    }))
})

/** A FakeBroker echoing bodies, a proxy making the answers with body "hostile" hostile, a victim and a bystander channel. */
const setup = (kind: HostileFrame.Kind) =>
  Effect.gen(function*() {
    const broker = yield* FakeBroker.make()
    const proxy = yield* FaultProxy.make({
      target: broker.address,
      downstream: {
        rewrite: HostileFrame.rewrite(kind, (bytes) => Buffer.from(bytes).toString("latin1").endsWith("hostile"))
      }
    })
    const victim = yield* Channel.make({ host: proxy.host, port: proxy.port })
    const bystander = yield* Channel.make({ host: proxy.host, port: proxy.port })
    return { victim, bystander }
  })

describe("HostileFrame through a FaultProxy, mid-stream", () => {
  for (const [kind, reason] of [["garbage", "MalformedJsonHeader"], ["oversized", "FrameTooLarge"], ["protoJson", "MalformedJsonHeader"]] as const) {
    it.effect(`${kind}: the channel closes with FrameDecodeError (${reason}), every request on it resolves, the other channel carries on`, () =>
      Effect.gen(function*() {
        const { bystander, victim } = yield* setup(kind)
        expect(Buffer.from((yield* victim.sendWaitResponse(req(10, "before"), 1000)).body!).toString()).toBe("before")
        // Requests in flight behind the hostile answer fail with it too, as typed errors.
        const calls = yield* Effect.forEach(["hostile", "after-1", "after-2"], (body) =>
          Effect.forkChild(victim.sendWaitResponse(req(10, body), 60_000)))
        const errors = yield* Effect.forEach(calls, (call) => Effect.map(Fiber.await(call), failureOf))
        for (const error of errors) {
          assert(error._tag === "ChannelClosed")
          assert(error.cause._tag === "FrameDecodeError")
          assert.strictEqual(error.cause.reason, reason)
        }
        expect(yield* closedAndClean(victim)).toMatchObject({ pending: 0, healthy: false })
        expect(Buffer.from((yield* bystander.sendWaitResponse(req(10, "fine"), 1000)).body!).toString()).toBe("fine")
        expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      }))
  }

  it.effect("bogusOpaque: the answer is dropped as unmatched, its caller times out, the channel stays open and answers the next", () =>
    Effect.gen(function*() {
      const { victim } = yield* setup("bogusOpaque")
      const call = yield* Effect.forkChild(victim.sendWaitResponse(req(10, "hostile"), 1000))
      yield* settle(() => victim.diagnostics().unmatchedResponses === 1)
      yield* TestClock.adjust(1000)
      assert.strictEqual(failureOf(yield* Fiber.await(call))._tag, "RequestTimeout")
      expect([yield* victim.pending, yield* victim.isHealthy]).toEqual([0, true])
      expect(Buffer.from((yield* victim.sendWaitResponse(req(10, "next"), 1000)).body!).toString()).toBe("next")
    }))
})
