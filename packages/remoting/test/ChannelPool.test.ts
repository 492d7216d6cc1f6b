/**
 * The channel pool alone, over fake channels whose closing each test controls: single flight,
 * backoff, the eviction rules (compare-and-remove, retire, idle) and shutdown. Time is TestClock's.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Scope, Stream } from "effect"
import { TestClock } from "effect/testing"
import type * as Channel from "../src/Channel.ts"
import * as ChannelPool from "../src/ChannelPool.ts"
import * as ReconnectBackoff from "../src/ReconnectBackoff.ts"
import { ClosedByPeer, ClosedLocally, type CloseReason, ConnectError } from "../src/RemotingError.ts"
import { failureOf } from "./support/Effects.ts"

interface Fake {
  readonly channel: Channel.ChannelShape
  readonly generation: number
  /** The peer closes the connection (the channel notices at once). */
  readonly closeByPeer: () => void
  /** The connection dies without the channel's `closed` completing yet (only its health says so). */
  readonly dieQuietly: () => void
  readonly isClosed: () => boolean
}

const fakeChannel = (address: string, generation: number): Fake => {
  const closed = Deferred.makeUnsafe<CloseReason>()
  let healthy = true
  const closeWith = (reason: CloseReason) => {
    healthy = false
    Deferred.doneUnsafe(closed, Exit.succeed(reason))
  }
  const unused = Effect.die(new Error("not used by the pool"))
  return {
    generation,
    channel: {
      remoteAddress: address,
      sendWaitResponse: () => unused,
      sendWaitResponseAll: () => unused,
      sendWaitResponseStream: () => Stream.fromEffect(unused),
      sendOneway: () => unused,
      send: () => unused,
      isHealthy: Effect.sync(() => healthy),
      isHealthyUnsafe: () => healthy,
      pending: Effect.succeed(0),
      closed: Deferred.await(closed),
      close: Effect.sync(() => closeWith(new ClosedLocally({ address }))),
      diagnostics: () => ({ pending: 0, queued: 0, unmatchedResponses: 0, closeReason: undefined, fibers: [] })
    },
    closeByPeer: () => closeWith(new ClosedByPeer({ address })),
    dieQuietly: () => {
      healthy = false
    },
    isClosed: () => Deferred.isDoneUnsafe(closed)
  }
}

const endpoint = (key: string): ChannelPool.Endpoint => {
  const [host, port] = key.split(":")
  return { key, address: { host: host!, port: Number(port) } }
}

/** A pool whose connects take `connectMillis` of test time and fail while `down` says so. */
const makePool = (options?: {
  readonly connectMillis?: number
  readonly idleTimeoutMillis?: number
  readonly down?: (key: string) => boolean
}) =>
  Effect.gen(function*() {
    const opened: Array<Fake> = []
    const clock = yield* Effect.clockWith((clock) => Effect.succeed(clock))
    const pool = yield* ChannelPool.make({
      connect: (target, generation) =>
        Effect.gen(function*() {
          yield* Effect.sleep(options?.connectMillis ?? 10)
          if (options?.down?.(target.key) === true) {
            return yield* new ConnectError({ address: target.key, reason: "Refused", detail: "ECONNREFUSED" })
          }
          const fake = fakeChannel(target.key, generation)
          opened.push(fake)
          yield* Effect.addFinalizer(() => fake.channel.close)
          return fake.channel
        }),
      idleTimeoutMillis: options?.idleTimeoutMillis,
      backoff: ReconnectBackoff.make(clock, { initial: "1 second", max: "8 seconds" })
    })
    return { pool, opened }
  })

/** Uses the channel of `key` until `release` is completed; returns the lease at once. */
const hold = (pool: ChannelPool.ChannelPoolShape, key: string) =>
  Effect.gen(function*() {
    const leased = yield* Deferred.make<ChannelPool.Lease>()
    const release = yield* Deferred.make<void>()
    const fiber = yield* Effect.forkChild(
      pool.withChannel(endpoint(key), 10, Infinity, Infinity, (lease) =>
        Deferred.succeed(leased, lease).pipe(Effect.andThen(Deferred.await(release))))
    )
    yield* TestClock.adjust(10)
    return { lease: yield* Deferred.await(leased), release: Deferred.succeed(release, undefined), fiber }
  })

const generationOf = (pool: ChannelPool.ChannelPoolShape, key: string) =>
  pool.withChannel(endpoint(key), 10, Infinity, Infinity, (lease) => Effect.succeed(lease.generation))

describe("ChannelPool: connecting", () => {
  it.effect("single flight: concurrent first calls share one connect and one channel", () =>
    Effect.gen(function*() {
      const { pool, opened } = yield* makePool()
      const calls = yield* Effect.forkChild(
        Effect.forEach(Array.from({ length: 50 }), () => generationOf(pool, "a:1"), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust(10)
      expect(yield* Fiber.join(calls)).toEqual(Array.from({ length: 50 }, () => 1))
      expect([pool.connectAttempts(), opened.length]).toEqual([1, 1])
      expect(pool.channels()).toEqual([{ address: "a:1", generation: 1, state: "open", inUse: 0, pending: 0 }])
    }))

  it.effect("a failed connect fails its callers; calls during the backoff fail at once; later ones connect again", () =>
    Effect.gen(function*() {
      let down = true
      const { pool } = yield* makePool({ down: () => down })
      const first = yield* Effect.forkChild(Effect.exit(generationOf(pool, "a:1")))
      yield* TestClock.adjust(10)
      expect(failureOf(yield* Fiber.join(first))._tag).toBe("ConnectError")
      const during = failureOf(yield* Effect.exit(generationOf(pool, "a:1")))
      assert(during._tag === "ConnectBackoff")
      expect(during.failures).toBe(1)
      expect(pool.connectAttempts()).toBe(1)
      down = false
      yield* TestClock.adjust(during.retryInMillis)
      const again = yield* Effect.forkChild(generationOf(pool, "a:1"))
      yield* TestClock.adjust(10)
      expect(yield* Fiber.join(again)).toBe(2)
    }))

  it.effect("a caller waits for a connect at most its waitCap; the connect goes on for the others", () =>
    Effect.gen(function*() {
      const { pool } = yield* makePool({ connectMillis: 1000 })
      const patient = yield* Effect.forkChild(generationOf(pool, "a:1"))
      const hasty = yield* Effect.forkChild(
        Effect.exit(pool.withChannel(endpoint("a:1"), 10, Infinity, 300, () => Effect.void))
      )
      yield* TestClock.adjust(300)
      const error = failureOf(yield* Fiber.join(hasty))
      assert(error._tag === "ConnectError")
      expect(error.reason).toBe("Timeout")
      yield* TestClock.adjust(700)
      expect(yield* Fiber.join(patient)).toBe(1)
      expect(pool.connectAttempts()).toBe(1)
    }))
})

describe("ChannelPool: eviction", () => {
  it.effect("a channel the peer closed is dropped at once; the next call reconnects", () =>
    Effect.gen(function*() {
      const { pool, opened } = yield* makePool()
      const first = yield* Effect.forkChild(generationOf(pool, "a:1"))
      yield* TestClock.adjust(10)
      expect(yield* Fiber.join(first)).toBe(1)
      opened[0]!.closeByPeer()
      yield* Effect.yieldNow
      expect(pool.channels()).toEqual([])
      const next = yield* Effect.forkChild(generationOf(pool, "a:1"))
      yield* TestClock.adjust(10)
      expect(yield* Fiber.join(next)).toBe(2)
    }))

  it.effect("a channel that died unnoticed is never handed out: its health is checked on every lease", () =>
    Effect.gen(function*() {
      const { pool, opened } = yield* makePool()
      const first = yield* Effect.forkChild(generationOf(pool, "a:1"))
      yield* TestClock.adjust(10)
      yield* Fiber.join(first)
      opened[0]!.dieQuietly()
      const next = yield* Effect.forkChild(generationOf(pool, "a:1"))
      yield* TestClock.adjust(10)
      expect(yield* Fiber.join(next)).toBe(2)
      expect(opened[0]!.isClosed()).toBe(true)
    }))

  it.effect("evicting an old lease never evicts the newer channel that replaced it", () =>
    Effect.gen(function*() {
      const { pool, opened } = yield* makePool()
      const old = yield* hold(pool, "a:1")
      opened[0]!.dieQuietly()
      const replacement = yield* Effect.forkChild(generationOf(pool, "a:1"))
      yield* TestClock.adjust(10)
      expect(yield* Fiber.join(replacement)).toBe(2)
      pool.evict(old.lease) // a failure seen late on the old channel
      yield* old.release
      yield* Fiber.join(old.fiber)
      const after = yield* Effect.forkChild(generationOf(pool, "a:1"))
      yield* TestClock.adjust(10) // time for a reconnect, were one (wrongly) needed
      expect(yield* Fiber.join(after)).toBe(2)
      expect(pool.connectAttempts()).toBe(2)
      expect(opened[1]!.isClosed()).toBe(false)
    }))

  it.effect("a retired channel takes no new calls and closes when its last call ends", () =>
    Effect.gen(function*() {
      const { pool, opened } = yield* makePool()
      const held = yield* hold(pool, "a:1")
      pool.retire(held.lease)
      const next = yield* Effect.forkChild(generationOf(pool, "a:1"))
      yield* TestClock.adjust(10)
      expect(yield* Fiber.join(next)).toBe(2)
      expect(pool.channels().map((c) => [c.generation, c.state, c.inUse])).toEqual([[1, "retired", 1], [2, "open", 0]])
      expect(opened[0]!.isClosed()).toBe(false)
      yield* held.release
      yield* Fiber.join(held.fiber)
      expect(opened[0]!.isClosed()).toBe(true)
      expect(pool.channels().map((c) => c.generation)).toEqual([2])
    }))

  it.effect("an idle channel closes after idleTimeout, not before; a call in flight keeps it open", () =>
    Effect.gen(function*() {
      const { pool, opened } = yield* makePool({ idleTimeoutMillis: 1000 })
      const held = yield* hold(pool, "a:1")
      yield* TestClock.adjust(5000)
      expect(opened[0]!.isClosed()).toBe(false)
      yield* held.release
      yield* Fiber.join(held.fiber)
      yield* TestClock.adjust(999)
      expect(opened[0]!.isClosed()).toBe(false)
      yield* TestClock.adjust(1)
      expect(opened[0]!.isClosed()).toBe(true)
      expect(pool.channels()).toEqual([])
    }))

  it.effect("close drops the current channel now; closing the pool's scope closes all and refuses later calls", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const { pool, opened } = yield* makePool().pipe(Scope.provide(scope))
      for (const key of ["a:1", "b:2"]) {
        const call = yield* Effect.forkChild(generationOf(pool, key))
        yield* TestClock.adjust(10)
        yield* Fiber.join(call)
      }
      pool.close("a:1")
      yield* Effect.yieldNow
      expect(opened[0]!.isClosed()).toBe(true)
      expect(pool.channels().map((c) => c.address)).toEqual(["b:2"])
      yield* Scope.close(scope, Exit.void)
      expect(opened[1]!.isClosed()).toBe(true)
      const later = failureOf(yield* Effect.exit(generationOf(pool, "b:2")))
      expect(later._tag).toBe("RemotingClientShutDown")
    }))
})
