import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, FileSystem } from "effect"
import { TestClock } from "effect/testing"
import * as nodePath from "node:path"
import * as OffsetStore from "../../src/internal/consumer/offsetStore.ts"
import * as MQ from "../../src/MessageQueue.ts"
import * as FakeCluster from "./support/FakeCluster.ts"
import { settle, start } from "./support/engine.ts"

const twoBrokers = () =>
  FakeCluster.make({ T: { brokers: ["broker-a", "broker-b"], queues: 4 }, "%RETRY%g": { brokers: ["broker-a"], queues: 1 } })
const FIRST = { consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" } as const
const keys = (queues: ReadonlyArray<MQ.MessageQueue>) => MQ.sort(queues).map(MQ.key)
const spread = (cluster: ReturnType<typeof twoBrokers>, from: number, to: number) => {
  for (let i = from; i < to; i++) cluster.append("T", i % 2 === 0 ? "broker-a" : "broker-b", i % 4, `${i}`)
}
const body = (bytes: Uint8Array) => Number(new TextDecoder().decode(bytes))

describe("Consumer engine in a group", () => {
  it.effect("splits the queues between two members as Java's AllocateMessageQueueAveragely and hands each message to one of them", () =>
    Effect.gen(function*() {
      const cluster = twoBrokers()
      cluster.state.members.push("c1", "c2")
      spread(cluster, 0, 400)
      const c1 = yield* start(cluster, "c1", FIRST)
      const c2 = yield* start(cluster, "c2", FIRST)
      const handled = new Map<number, Array<string>>()
      const record = (who: string) => (d: { message: { body: Uint8Array } }) =>
        Effect.sync(() => handled.set(body(d.message.body), [...(handled.get(body(d.message.body)) ?? []), who]))
      yield* Effect.forkChild(c1.consumer.run(record("c1")))
      yield* Effect.forkChild(c2.consumer.run(record("c2")))
      yield* settle
      expect(keys(yield* c1.consumer.assignment)).toEqual([
        "%RETRY%g@broker-a@0", "T@broker-a@0", "T@broker-a@1", "T@broker-a@2", "T@broker-a@3"
      ])
      expect(keys(yield* c2.consumer.assignment)).toEqual(["T@broker-b@0", "T@broker-b@1", "T@broker-b@2", "T@broker-b@3"])
      assert.strictEqual(handled.size, 400)
      assert.isTrue([...handled.values()].every((who) => who.length === 1))
      yield* c1.close
      yield* c2.close
    }), 30_000)

  it.effect("lets a new member start a queue exactly where the old owner stopped once the old owner has rebalanced", () =>
    Effect.gen(function*() {
      const cluster = twoBrokers()
      spread(cluster, 0, 200)
      const c1 = yield* start(cluster, "c1", FIRST)
      const handled: Array<number> = []
      yield* Effect.forkChild(c1.consumer.run((d) => Effect.sync(() => handled.push(body(d.message.body)))))
      yield* settle
      assert.strictEqual(handled.length, 200)
      cluster.state.members.push("c2")
      yield* c1.engine.ctx.rebalanceNow
      yield* TestClock.adjust("1 second")
      yield* settle
      expect(keys(yield* c1.consumer.assignment)).toHaveLength(5)
      expect((yield* c1.consumer.assignment).every((q) => q.brokerName === "broker-a")).toBe(true)
      const c2 = yield* start(cluster, "c2", FIRST)
      yield* Effect.forkChild(c2.consumer.run((d) => Effect.sync(() => handled.push(body(d.message.body)))))
      spread(cluster, 200, 300)
      yield* settle
      expect([...handled].sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i))
      yield* c1.close
      yield* c2.close
    }), 30_000)

  it.effect("takes over the queues of a member that leaves mid-stream with nothing lost", () =>
    Effect.gen(function*() {
      const cluster = twoBrokers()
      cluster.state.members.push("c1", "c2")
      const c1 = yield* start(cluster, "c1", FIRST)
      const c2 = yield* start(cluster, "c2", FIRST)
      const handled = new Set<number>()
      yield* Effect.forkChild(c1.consumer.run((d) => Effect.sync(() => handled.add(body(d.message.body)))))
      // c2 leaves some of its messages unacknowledged: they must come back through c1.
      const stuck = yield* Deferred.make<void>()
      yield* Effect.forkChild(c2.consumer.run((d) =>
        body(d.message.body) % 10 === 1 ? Deferred.await(stuck) : Effect.sync(() => handled.add(body(d.message.body))), { concurrency: 4 }
      ))
      spread(cluster, 0, 200)
      yield* settle
      yield* c2.close
      yield* c1.engine.ctx.rebalanceNow
      yield* TestClock.adjust("1 second")
      spread(cluster, 200, 300)
      yield* settle
      expect(keys(yield* c1.consumer.assignment)).toHaveLength(9)
      expect([...handled].sort((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i))
      yield* c1.close
    }), 30_000)

  it.effect("waits for a handed-out message of a leaving queue before persisting its offset", () =>
    Effect.gen(function*() {
      const cluster = FakeCluster.make({ T: { brokers: ["broker-a"], queues: 2 } })
      cluster.append("T", "broker-a", 1, "slow")
      const c1 = yield* start(cluster, "c1", FIRST)
      const release = yield* Deferred.make<void>()
      yield* Effect.forkChild(c1.consumer.run(() => Deferred.await(release)))
      yield* settle
      cluster.state.members.push("c2")
      yield* c1.engine.ctx.rebalanceNow
      yield* TestClock.adjust("1 second")
      yield* settle
      // Leaving T@broker-a@1: its message is still being handled, so nothing is persisted yet.
      assert.isFalse(cluster.state.commits.some(([k]) => k === "T@broker-a@1"))
      yield* Deferred.succeed(release, undefined)
      yield* settle
      expect(cluster.state.commits.filter(([k]) => k === "T@broker-a@1")).toEqual([["T@broker-a@1", 1n]])
      expect(keys(yield* c1.consumer.assignment)).toEqual(["T@broker-a@0"])
      yield* c1.close
    }), 30_000)

  it.effect("gives every broadcasting member every queue, and resumes from the local offset file after a restart", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "broadcast-" })
      const cluster = FakeCluster.make({ T: { brokers: ["broker-a"], queues: 2 } })
      for (let i = 0; i < 10; i++) cluster.append("T", "broker-a", i % 2, `${i}`)
      const options = { ...FIRST, messageModel: "BROADCASTING" } as const
      const fileOf = (id: string) => nodePath.join(dir, id, "g", "offsets.json")
      const seen = { b1: [] as Array<number>, b2: [] as Array<number> }
      const b1 = yield* start(cluster, "b1", options, yield* OffsetStore.localFile(fileOf("b1")))
      const b2 = yield* start(cluster, "b2", options, yield* OffsetStore.localFile(fileOf("b2")))
      yield* Effect.forkChild(b1.consumer.run((d) => Effect.sync(() => seen.b1.push(body(d.message.body)))))
      yield* Effect.forkChild(b2.consumer.run((d) => Effect.sync(() => seen.b2.push(body(d.message.body)))))
      yield* settle
      assert.strictEqual(seen.b1.length, 10)
      assert.strictEqual(seen.b2.length, 10)
      yield* b1.close
      yield* b2.close
      assert.strictEqual(cluster.state.commits.length, 0)
      for (let i = 10; i < 14; i++) cluster.append("T", "broker-a", i % 2, `${i}`)
      const again = yield* start(cluster, "b1", options, yield* OffsetStore.localFile(fileOf("b1")))
      const after: Array<number> = []
      yield* Effect.forkChild(again.consumer.run((d) => Effect.sync(() => after.push(body(d.message.body)))))
      yield* settle
      expect(after.sort((a, b) => a - b)).toEqual([10, 11, 12, 13])
      yield* again.close
    }).pipe(Effect.provide(NodeFileSystem.layer)), 30_000)
})
