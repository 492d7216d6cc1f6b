/**
 * The reconnect backoff alone: its schedule's delays, and the per-address record the pool reads.
 * Time is TestClock's; randomness is Effect's `Random`, seeded where a test needs to repeat.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Random, Schedule } from "effect"
import { TestClock } from "effect/testing"
import * as ReconnectBackoff from "../src/ReconnectBackoff.ts"
import { ConnectError } from "../src/RemotingError.ts"

const refused = (address: string) => new ConnectError({ address, reason: "Refused", detail: "ECONNREFUSED" })

const currentTime = Effect.clockWith((clock) => Effect.succeed(clock))

describe("ReconnectBackoff: the schedule", () => {
  it.effect("doubles from 100 ms to a 5 s cap by default, each delay drawn from [d/2, d]", () =>
    Effect.gen(function*() {
      for (const seed of ["a", "b", "c", "d"]) {
        const step = yield* Schedule.toStep(ReconnectBackoff.schedule()).pipe(Random.withSeed(seed))
        const delays: Array<number> = []
        for (let n = 0; n < 12; n++) {
          const [, delay] = yield* step(0, undefined).pipe(Random.withSeed(`${seed}${n}`))
          delays.push(Duration.toMillis(delay))
        }
        delays.forEach((delay, n) => {
          const nominal = Math.min(5000, 100 * 2 ** n)
          expect(delay, `delay ${n} (seed ${seed})`).toBeGreaterThanOrEqual(nominal / 2)
          expect(delay, `delay ${n} (seed ${seed})`).toBeLessThanOrEqual(nominal)
        })
      }
    }))

  it.effect("is jittered: the same failure count gives different delays to different callers", () =>
    Effect.gen(function*() {
      const firsts = new Set<number>()
      for (let i = 0; i < 20; i++) {
        const step = yield* Schedule.toStep(ReconnectBackoff.schedule({ initial: "1 second", max: "8 seconds" }))
        const [, delay] = yield* step(0, undefined)
        firsts.add(Duration.toMillis(delay))
      }
      expect(firsts.size).toBeGreaterThan(1)
      expect([...firsts].every((d) => d >= 500 && d <= 1000)).toBe(true)
    }))

  it.effect("a max below the initial delay is raised to it; delays are at least 1 ms", () =>
    Effect.gen(function*() {
      const step = yield* Schedule.toStep(ReconnectBackoff.schedule({ initial: "0 millis", max: "0 millis" }))
      const [, delay] = yield* step(0, undefined)
      expect(Duration.toMillis(delay)).toBe(1)
    }))
})

describe("ReconnectBackoff: the record per address", () => {
  it.effect("a failure blocks the address until its delay has passed, and only that address", () =>
    Effect.gen(function*() {
      const backoff = ReconnectBackoff.make(yield* currentTime, { initial: "1 second", max: "8 seconds" })
      expect(backoff.blocked("a:1", 0)).toBeUndefined()
      yield* backoff.recordFailure("a:1", refused("a:1"))
      const blocked = backoff.blocked("a:1", 0)!
      expect(blocked.failures).toBe(1)
      expect(blocked.retryInMillis).toBeGreaterThanOrEqual(500)
      expect(blocked.retryInMillis).toBeLessThanOrEqual(1000)
      expect(blocked.lastError.reason).toBe("Refused")
      expect(backoff.blocked("b:2", 0)).toBeUndefined()
      expect(backoff.blocked("a:1", blocked.retryInMillis - 1)?.retryInMillis).toBe(1)
      expect(backoff.blocked("a:1", blocked.retryInMillis)).toBeUndefined()
      expect(backoff.snapshot()).toEqual([{ address: "a:1", failures: 1, retryAt: blocked.retryInMillis }])
    }))

  it.effect("failures in a row grow the delay; a success starts the schedule over", () =>
    Effect.gen(function*() {
      const backoff = ReconnectBackoff.make(yield* currentTime, { initial: "100 millis", max: "1600 millis" })
      const waits: Array<number> = []
      for (let n = 0; n < 6; n++) {
        yield* backoff.recordFailure("a:1", refused("a:1"))
        const now = (yield* currentTime).currentTimeMillisUnsafe()
        const wait = backoff.blocked("a:1", now)!.retryInMillis
        waits.push(wait)
        yield* TestClock.adjust(wait)
      }
      waits.forEach((wait, n) => {
        const nominal = Math.min(1600, 100 * 2 ** n)
        expect(wait, `wait ${n}`).toBeGreaterThanOrEqual(nominal / 2)
        expect(wait, `wait ${n}`).toBeLessThanOrEqual(nominal)
      })
      expect(backoff.snapshot()[0]!.failures).toBe(6)
      backoff.recordSuccess("a:1")
      expect(backoff.snapshot()).toEqual([])
      yield* backoff.recordFailure("a:1", refused("a:1"))
      const now = (yield* currentTime).currentTimeMillisUnsafe()
      expect(backoff.blocked("a:1", now)!.failures).toBe(1)
      expect(backoff.blocked("a:1", now)!.retryInMillis).toBeLessThanOrEqual(100)
    }))

  it.effect("after a quiet period of twice the cap, the next failure counts as the first", () =>
    Effect.gen(function*() {
      const backoff = ReconnectBackoff.make(yield* currentTime, { initial: "100 millis", max: "400 millis" })
      for (let n = 0; n < 4; n++) yield* backoff.recordFailure("a:1", refused("a:1"))
      expect(backoff.snapshot()[0]!.failures).toBe(4)
      yield* TestClock.adjust(801)
      yield* backoff.recordFailure("a:1", refused("a:1"))
      expect(backoff.snapshot()[0]!.failures).toBe(1)
      expect(backoff.snapshot()[0]!.retryAt - 801).toBeLessThanOrEqual(100)
    }))
})
