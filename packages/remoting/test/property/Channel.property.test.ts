/**
 * Every request resolves exactly once with the right outcome, whatever happens around it: random
 * timeouts, responses that come late, twice, out of order or never, replies in either header type,
 * and a random close point (our scope, the peer's FIN or RST) — sent one fiber per request, or as
 * bulk calls. Time is a TestClock; the peer is a real loopback socket.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Result, Scope } from "effect"
import { TestClock } from "effect/testing"
import fc from "fast-check"
import * as Channel from "../../src/Channel.ts"
import * as Codec from "../../src/Codec.ts"
import * as RemotingCommand from "../../src/RemotingCommand.ts"
import { settle } from "../support/Effects.ts"
import * as Peer from "../support/Peer.ts"

interface Scenario {
  readonly requests: ReadonlyArray<{
    readonly timeout: number
    readonly response: { readonly at: number; readonly copies: number; readonly type: Codec.SerializeType } | null
  }>
  readonly close: { readonly at: number; readonly how: "scope" | "fin" | "rst" } | null
}

// Deadlines are multiples of 10, responses land on 5 mod 10, closes on 3 mod 10: no ties.
const scenario: fc.Arbitrary<Scenario> = fc.record({
  requests: fc.array(
    fc.record({
      timeout: fc.integer({ min: 1, max: 30 }).map((n) => n * 10),
      response: fc.option(
        fc.record({
          at: fc.integer({ min: 0, max: 40 }).map((n) => n * 10 + 5),
          copies: fc.integer({ min: 1, max: 3 }),
          type: fc.constantFrom("JSON" as const, "ROCKETMQ" as const)
        }),
        { nil: null }
      )
    }),
    { minLength: 1, maxLength: 12 }
  ),
  close: fc.option(
    fc.record({
      at: fc.integer({ min: 0, max: 40 }).map((n) => n * 10 + 3),
      how: fc.constantFrom("scope" as const, "fin" as const, "rst" as const)
    }),
    { nil: null }
  )
})

type Expected = "success" | "RequestTimeout" | "ClosedLocally" | "ClosedByPeer" | "ConnectionReset"

const expectedOutcome = (s: Scenario, i: number): Expected => {
  const { timeout, response } = s.requests[i]!
  const closeAt = s.close?.at ?? Infinity
  if (response !== null && response.at < timeout && response.at < closeAt) return "success"
  if (timeout < closeAt) return "RequestTimeout"
  return s.close!.how === "scope" ? "ClosedLocally" : s.close!.how === "fin" ? "ClosedByPeer" : "ConnectionReset"
}

const outcomeOf = (exit: Exit.Exit<RemotingCommand.RemotingCommand, unknown>, i: number): string => {
  if (Exit.isSuccess(exit)) return exit.value.extFields.i === String(i) ? "success" : `wrong response ${exit.value.extFields.i}`
  const error = Cause.findErrorOption(exit.cause)
  if (error._tag === "None") return `defect or interruption: ${Cause.pretty(exit.cause)}`
  const e = error.value as { _tag: string; cause?: { _tag: string } }
  return e._tag === "ChannelClosed" ? e.cause!._tag : e._tag
}

const requestOf = (i: number) => RemotingCommand.make({ code: 10, extFields: { i: String(i) } })

/**
 * The requests as the caller sends them: a fiber each (`sendWaitResponse`), or one
 * `sendWaitResponseAll` per distinct timeout. Each request's exit, and whether it is resolved yet.
 */
const sendAll = (channel: Channel.ChannelShape, s: Scenario, bulk: boolean) =>
  Effect.gen(function*() {
    if (!bulk) {
      const fibers = yield* Effect.forEach(s.requests, (r, i) => Effect.forkChild(channel.sendWaitResponse(requestOf(i), r.timeout)))
      return { isDone: (i: number) => fibers[i]!.pollUnsafe() !== undefined, exits: Effect.forEach(fibers, Fiber.await) }
    }
    const groups = new Map<number, Array<number>>()
    s.requests.forEach((r, i) => groups.set(r.timeout, [...(groups.get(r.timeout) ?? []), i]))
    const fibers = yield* Effect.forEach([...groups], ([timeout, indices]) =>
      Effect.forkChild(Effect.map(channel.sendWaitResponseAll(indices.map(requestOf), timeout), (outcomes) =>
        indices.map((i, k) => [i, outcomes[k]!] as const))))
    const exits = Effect.map(Effect.forEach(fibers, Fiber.join), (groupsDone) => {
      const byIndex = new Map(groupsDone.flat())
      return s.requests.map((_, i) => {
        const outcome = byIndex.get(i)!
        return Result.isSuccess(outcome) ? Exit.succeed(outcome.success) : Exit.fail(outcome.failure)
      })
    })
    // Not observable per request here: the caller reads the channel's pending count instead.
    return { isDone: undefined, exits }
  })

const run = (s: Scenario, bulk = false) =>
  Effect.gen(function*() {
    const peer = yield* Peer.make(Peer.silent)
    const scope = yield* Scope.make()
    const channel = yield* Channel.make({ host: "127.0.0.1", port: peer.port }).pipe(Scope.provide(scope))
    const sent = yield* sendAll(channel, s, bulk)
    const received = yield* peer.waitForRequests(s.requests.length)
    const connection = yield* peer.connection()
    const opaqueOf = new Map(received.map((r) => [Number(r.extFields.i), r]))

    type Event = { at: number; run: Effect.Effect<void> }
    const events: Array<Event> = []
    s.requests.forEach((r, i) => {
      const response = r.response
      if (response === null) return
      events.push({
        at: response.at,
        run: Effect.gen(function*() {
          if (channel.diagnostics().closeReason !== undefined) return
          const isDone = sent.isDone
          const done = isDone === undefined ? r.timeout < response.at : isDone(i)
          const before = channel.diagnostics().unmatchedResponses
          const pendingBefore = channel.diagnostics().pending
          const request = opaqueOf.get(i)!
          const frame = Codec.encodeFrame(
            RemotingCommand.response(request, 0, undefined, { extFields: { i: String(i) } }),
            response.type
          )
          for (let c = 0; c < response.copies; c++) connection.writeRaw(frame)
          const extra = done ? response.copies : response.copies - 1
          const resolved = () => isDone === undefined ? pendingBefore - channel.diagnostics().pending === (done ? 0 : 1) : isDone(i)
          yield* settle(
            () => resolved() && channel.diagnostics().unmatchedResponses === before + extra,
            `response ${i} to be processed`
          )
        })
      })
    })
    if (s.close !== null) {
      const how = s.close.how
      events.push({
        at: s.close.at,
        run: Effect.gen(function*() {
          if (how === "scope") yield* Scope.close(scope, Exit.void)
          else {
            if (how === "fin") connection.socket.end()
            else connection.socket.resetAndDestroy()
            yield* settle(() => channel.diagnostics().closeReason !== undefined, "the channel to notice the close")
          }
        })
      })
    }
    events.sort((a, b) => a.at - b.at)
    for (const event of events) {
      yield* TestClock.setTime(event.at)
      yield* event.run
    }
    yield* TestClock.setTime(10_000)
    const exits = yield* sent.exits
    const outcomes = exits.map(outcomeOf)
    const expected = s.requests.map((_, i) => expectedOutcome(s, i))
    const pending = yield* channel.pending
    yield* Scope.close(scope, Exit.void)
    return { outcomes, expected, pending }
  }).pipe(Effect.scoped, Effect.provide(TestClock.layer()))

describe("Channel property: exactly-once resolution", () => {
  it("every request resolves once with the outcome its timeline implies, and nothing stays pending", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const { outcomes, expected, pending } = await Effect.runPromise(run(s))
        expect(outcomes).toEqual(expected)
        expect(pending).toBe(0)
      }),
      { numRuns: 60 }
    )
  }, 120_000)

  it("every request of a bulk call resolves once with the outcome its own timeline implies, and nothing stays pending", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const { outcomes, expected, pending } = await Effect.runPromise(run(s, true))
        expect(outcomes).toEqual(expected)
        expect(pending).toBe(0)
      }),
      { numRuns: 60 }
    )
  }, 120_000)
})
