/**
 * The name server selector alone: where calls start, the failover order, GO_AWAY's extra turn and
 * each address's share of the budget. No sockets: a "call" here is a walk driven by hand.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Random, Result } from "effect"
import * as NameServerSelector from "../src/NameServerSelector.ts"

const keys = (walk: NameServerSelector.Walk, now: number, outcome: (turn: NameServerSelector.Turn) => void) => {
  const seen: Array<string> = []
  for (let turn = walk.next(now); turn !== undefined; turn = walk.next(now)) {
    seen.push(turn.endpoint.key)
    outcome(turn)
  }
  return seen
}

describe("NameServerSelector", () => {
  it.effect("tries every address once in list order from the chosen one, then gives up", () =>
    Effect.gen(function*() {
      const selector = yield* NameServerSelector.make("a:1;b:2;c:3", "first")
      const walk = selector.walk(3000)!
      const chosen: Array<string | undefined> = []
      const tried = keys(walk, 0, (turn) => {
        walk.failed(turn)
        chosen.push(selector.chosen())
      })
      expect(tried).toEqual(["a:1", "b:2", "c:3"])
      // Each failure moved the choice along, so the next call starts past the dead addresses.
      expect(chosen).toEqual(["b:2", "c:3", "a:1"])
    }))

  it.effect("sticks to an address that answered, and starts the next call there", () =>
    Effect.gen(function*() {
      const selector = yield* NameServerSelector.make(["a:1", "b:2", "c:3"], "first")
      const walk = selector.walk(3000)!
      walk.failed(walk.next(0)!)
      const second = walk.next(0)!
      expect(second.endpoint.key).toBe("b:2")
      walk.answered(second)
      expect(selector.chosen()).toBe("b:2")
      expect(selector.walk(3000)!.next(0)!.endpoint.key).toBe("b:2")
    }))

  it.effect("a failure does not move the choice when another call already moved it", () =>
    Effect.gen(function*() {
      const selector = yield* NameServerSelector.make("a:1;b:2;c:3", "first")
      const slow = selector.walk(3000)!
      const fast = selector.walk(3000)!
      const slowTurn = slow.next(0)!
      const fastTurn = fast.next(0)!
      fast.failed(fastTurn)
      const next = fast.next(0)!
      fast.answered(next)
      expect(selector.chosen()).toBe("b:2")
      slow.failed(slowTurn) // a:1 failed for the slow call too; b:2 stays chosen
      expect(selector.chosen()).toBe("b:2")
    }))

  it.effect("GO_AWAY gives the call one more turn, on the next address (the same one when it is alone)", () =>
    Effect.gen(function*() {
      const two = yield* NameServerSelector.make("a:1;b:2", "first")
      const walk = two.walk(3000)!
      const seen = keys(walk, 0, (turn) => (turn.endpoint.key === "a:1" ? walk.goAway(turn) : walk.answered(turn)))
      expect(seen).toEqual(["a:1", "b:2"])
      expect(two.chosen()).toBe("b:2")
      const one = yield* NameServerSelector.make("a:1", "first")
      const alone = one.walk(3000)!
      let goAways = 0
      const again = keys(alone, 0, (turn) => (goAways++ === 0 ? alone.goAway(turn) : alone.answered(turn)))
      expect(again).toEqual(["a:1", "a:1"])
    }))

  it.effect("gives each address its share of what is left of the budget; the last one gets all of it", () =>
    Effect.gen(function*() {
      const selector = yield* NameServerSelector.make("a:1;b:2;c:3", "first")
      const walk = selector.walk(3000)!
      const first = walk.next(0)!
      expect(first.waitCap).toBe(1000)
      walk.failed(first)
      const second = walk.next(1000)! // the first used its whole share
      expect(second.waitCap).toBe(1000)
      walk.failed(second)
      expect(walk.next(1500)!.waitCap).toBe(Infinity)
    }))

  it.effect("ends the walk once the deadline has passed", () =>
    Effect.gen(function*() {
      const selector = yield* NameServerSelector.make("a:1;b:2", "first")
      const walk = selector.walk(1000)!
      walk.failed(walk.next(0)!)
      expect(walk.next(1000)).toBeUndefined()
    }))

  it.effect("starts at a random address drawn from Effect's Random", () =>
    Effect.gen(function*() {
      const starts = new Set<string>()
      for (const seed of ["1", "2", "3", "4", "5", "6", "7", "8"]) {
        const selector = yield* NameServerSelector.make("a:1;b:2;c:3").pipe(Random.withSeed(seed))
        starts.add(selector.chosen()!)
        const again = yield* NameServerSelector.make("a:1;b:2;c:3").pipe(Random.withSeed(seed))
        expect(again.chosen()).toBe(selector.chosen())
      }
      expect(starts.size).toBeGreaterThan(1)
    }))

  it.effect("set replaces the list and keeps the chosen address when it is still there; no list means no walk", () =>
    Effect.gen(function*() {
      const selector = yield* NameServerSelector.make("a:1;b:2", "first")
      const walk = selector.walk(3000)!
      walk.failed(walk.next(0)!)
      expect(selector.chosen()).toBe("b:2")
      assert(Result.isSuccess(selector.set("c:3;b:2")))
      expect([selector.addresses(), selector.chosen()]).toEqual([["c:3", "b:2"], "b:2"])
      assert(Result.isSuccess(selector.set(["d:4"])))
      expect(selector.chosen()).toBe("d:4")
      const bad = selector.set("d:4;nope")
      assert(Result.isFailure(bad))
      expect(bad.failure._tag).toBe("InvalidAddress")
      expect(selector.addresses()).toEqual(["d:4"])
      assert(Result.isSuccess(selector.set("")))
      expect([selector.walk(3000), selector.chosen()]).toEqual([undefined, undefined])
    }))
})
