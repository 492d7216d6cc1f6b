/**
 * Helpers shared by the remoting tests: the typed failure of an exit, and waiting for real I/O
 * while TestClock stands still.
 */
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
export const settle = (predicate: () => boolean, what = "condition") =>
  Effect.gen(function*() {
    const deadline = Date.now() + 4_000
    while (!predicate() && Date.now() < deadline) yield* TestClock.withLive(Effect.sleep(1))
    if (!predicate()) return yield* Effect.die(new Error(`${what} not reached within 4 s of real time`))
  })
