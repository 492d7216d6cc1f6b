/**
 * Small helpers for the testkit's own tests.
 */
import type { Channel } from "@effect-rocketmq/remoting"
import { Cause, Effect, Exit } from "effect"
import { TestClock } from "effect/testing"

/** The typed failure of an exit; throws (fails the test) for a success or an untyped cause. */
export const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure, got a success")
  const error = Cause.findErrorOption(exit.cause)
  if (error._tag === "None") throw new Error(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
  return error.value
}

/**
 * Lets real I/O happen while TestClock stands still: polls `predicate` for at most 4 s of real
 * time, so a condition never reached fails with its own message before the test's 5 s timeout.
 */
export const settle = (predicate: () => boolean) =>
  Effect.gen(function*() {
    const deadline = Date.now() + 4_000
    while (!predicate() && Date.now() < deadline) yield* TestClock.withLive(Effect.sleep(1))
    if (!predicate()) return yield* Effect.die(new Error("condition not reached within 4 s of real time"))
  })

/** A channel that closed left nothing behind: no pending request, its fibers all done. */
export const closedAndClean = (channel: Channel.ChannelShape) =>
  Effect.gen(function*() {
    const reason = yield* channel.closed
    const { fibers, pending, queued } = channel.diagnostics()
    yield* settle(() => fibers.every((f) => f.pollUnsafe() !== undefined))
    return { reason, pending, queued, healthy: yield* channel.isHealthy }
  })
