import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, FileSystem, Layer, Option, PlatformError } from "effect"
import * as fc from "fast-check"
import * as nodePath from "node:path"
import * as OffsetStore from "../../src/internal/consumer/offsetStore.ts"
import { ProcessQueue } from "../../src/internal/consumer/processQueue.ts"
import * as MessageQueue from "../../src/MessageQueue.ts"

const Q0 = MessageQueue.make("T", "broker-a", 0)
const Q1 = MessageQueue.make("T", "broker-a", 1)
const Q2 = MessageQueue.make("T", "broker-b", 0)

/** A backend in a Map that records writes; `failReads` makes every read fail. */
const memoryBackend = (options?: { failReads?: boolean }) => {
  const stored = new Map<string, bigint>()
  const writes: Array<ReadonlyArray<OffsetStore.Entry>> = []
  const backend: OffsetStore.Backend<string> = {
    read: (queue) =>
      options?.failReads === true
        ? Effect.fail("broker unreachable")
        : Effect.sync(() => Option.fromUndefinedOr(stored.get(MessageQueue.key(queue)))),
    write: (entries) =>
      Effect.sync(() => {
        writes.push(entries)
        for (const entry of entries) stored.set(MessageQueue.key(entry.queue), entry.offset)
      })
  }
  return { backend, stored, writes }
}

describe("OffsetStore (memory)", () => {
  it("keeps the larger offset on increase-only updates and sets it otherwise", () => {
    const store = new OffsetStore.OffsetStore(memoryBackend().backend)
    store.update(Q0, 10n, true)
    store.update(Q0, 7n, true)
    assert.strictEqual(store.readMemory(Q0), 10n)
    store.update(Q0, 3n, false)
    assert.strictEqual(store.readMemory(Q0), 3n)
  })

  it("ignores every update after updateAndFreeze until the queue is removed", () => {
    const store = new OffsetStore.OffsetStore(memoryBackend().backend)
    store.update(Q0, 10n, true)
    store.updateAndFreeze(Q0, 50n)
    store.update(Q0, 60n, true)
    store.update(Q0, 1n, false)
    assert.strictEqual(store.readMemory(Q0), 50n)
    store.remove(Q0)
    store.update(Q0, 1n, false)
    assert.strictEqual(store.readMemory(Q0), 1n)
  })
})

describe("OffsetStore (backend)", () => {
  it.effect("tells a stored offset, none stored (Java -1) and a failed query (Java -2) apart", () =>
    Effect.gen(function*() {
      const memory = memoryBackend()
      memory.stored.set(MessageQueue.key(Q0), 42n)
      const store = new OffsetStore.OffsetStore(memory.backend)
      expect(yield* store.readStore(Q0)).toEqual({ _tag: "Found", offset: 42n })
      assert.strictEqual(store.readMemory(Q0), 42n)
      expect(yield* store.readStore(Q1)).toEqual({ _tag: "NotFound" })
      const failing = new OffsetStore.OffsetStore(memoryBackend({ failReads: true }).backend)
      expect(yield* failing.readStore(Q0)).toEqual({ _tag: "Failed", error: "broker unreachable" })
      assert.isUndefined(failing.readMemory(Q0))
    }))

  it.effect("persists assigned queues (unchanged ones again) and forgets the others from memory", () =>
    Effect.gen(function*() {
      const memory = memoryBackend()
      const store = new OffsetStore.OffsetStore(memory.backend)
      store.update(Q0, 5n, true)
      store.update(Q1, 6n, true)
      store.update(Q2, 7n, true)
      yield* store.persistAll([Q0, Q2])
      yield* store.persistAll([Q0, Q2])
      expect(memory.writes.map((w) => w.map((e) => [MessageQueue.key(e.queue), e.offset]))).toEqual([
        [["T@broker-a@0", 5n], ["T@broker-b@0", 7n]],
        [["T@broker-a@0", 5n], ["T@broker-b@0", 7n]]
      ])
      assert.isUndefined(store.readMemory(Q1))
      assert.isFalse(memory.stored.has(MessageQueue.key(Q1)))
    }))

  it.effect("does not wipe its table when persisting with no assigned queue", () =>
    Effect.gen(function*() {
      const memory = memoryBackend()
      const store = new OffsetStore.OffsetStore(memory.backend)
      store.update(Q0, 5n, true)
      yield* store.persistAll([])
      assert.strictEqual(store.readMemory(Q0), 5n)
      assert.strictEqual(memory.writes.length, 0)
      yield* store.persist(Q0)
      yield* store.persist(Q1)
      assert.strictEqual(memory.writes.length, 1)
    }))

  it("re-delivers but never skips a message across crashes at random points, whatever the acknowledgement order (fast-check)", () => {
    // Actions: 0 pull a batch, 1 acknowledge a held message, 2 persist, 3 crash (memory lost).
    const action = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.nat())
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 80 }), fc.array(action, { maxLength: 300 }), (total, actions) => {
        const memory = memoryBackend()
        const handled = new Uint8Array(total)
        const session = () => {
          const store = new OffsetStore.OffsetStore(memory.backend)
          const read = Effect.runSync(store.readStore(Q0))
          const start = read._tag === "Found" ? read.offset : 0n
          return { store, pq: new ProcessQueue<{ queueOffset: bigint; body: Uint8Array }>(0), next: Number(start) }
        }
        let s = session()
        const pull = (n: number) => {
          const batch = []
          for (let i = 0; i < n && s.next < total; i++) batch.push({ queueOffset: BigInt(s.next++), body: new Uint8Array(1) })
          s.pq.put(batch)
        }
        const ack = (pick: number) => {
          const held = s.pq.messages()
          if (held.length === 0) return
          const message = held[pick % held.length]!
          handled[Number(message.queueOffset)] = 1
          const commit = s.pq.remove([message.queueOffset])
          if (commit !== undefined) s.store.update(Q0, commit, true)
        }
        for (const [kind, arg] of actions) {
          if (kind === 0) pull(1 + (arg % 8))
          else if (kind === 1) ack(arg)
          else if (kind === 2) Effect.runSync(s.store.persistAll([Q0]))
          else s = session()
        }
        // A last session after a final crash consumes whatever is left.
        s = session()
        while (s.next < total || s.pq.count > 0) {
          pull(8)
          while (s.pq.count > 0) ack(0)
        }
        for (let i = 0; i < total; i++) assert.strictEqual(handled[i], 1, `message ${i} was never handled`)
      }),
      { numRuns: 400 }
    )
  })
})

describe("OffsetStore.localFile", () => {
  const layer = NodeFileSystem.layer

  it.effect("starts empty without a file, writes atomically, and reads the offsets back after a restart", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "offsets-" })
      const path = nodePath.join(dir, "nested", "group", "offsets.json")
      const first = yield* OffsetStore.localFile(path)
      expect(yield* first.read(Q0)).toEqual(Option.none())
      const store = new OffsetStore.OffsetStore(first)
      store.update(Q0, 9007199254740993n, true)
      store.update(Q2, 3n, true)
      yield* store.persistAll([Q0, Q2])
      expect(yield* fs.readDirectory(nodePath.dirname(path))).toEqual(["offsets.json"])
      const restarted = new OffsetStore.OffsetStore(yield* OffsetStore.localFile(path))
      expect(yield* restarted.readStore(Q0)).toEqual({ _tag: "Found", offset: 9007199254740993n })
      expect(yield* restarted.readStore(Q2)).toEqual({ _tag: "Found", offset: 3n })
      expect(yield* restarted.readStore(Q1)).toEqual({ _tag: "NotFound" })
    }).pipe(Effect.provide(layer)))

  it.effect("keeps the stored offset of a queue that is not in a later write", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "offsets-" })
      const path = nodePath.join(dir, "offsets.json")
      const backend = yield* OffsetStore.localFile(path)
      yield* backend.write([{ queue: Q0, offset: 1n }, { queue: Q1, offset: 2n }])
      yield* backend.write([{ queue: Q0, offset: 5n }])
      const reread = yield* OffsetStore.localFile(path)
      expect(yield* reread.read(Q0)).toEqual(Option.some(5n))
      expect(yield* reread.read(Q1)).toEqual(Option.some(2n))
    }).pipe(Effect.provide(layer)))

  it.effect("refuses a file it cannot parse with an OffsetFileError instead of starting over", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "offsets-" })
      const path = nodePath.join(dir, "offsets.json")
      yield* fs.writeFileString(path, "{\"offsetTable\":{")
      const error = yield* Effect.flip(OffsetStore.localFile(path))
      assert.strictEqual(error._tag, "OffsetFileError")
      assert.strictEqual(error.operation, "parse")
      assert.isFalse(error.isRetryable)
      expect(error.message).toContain(path)
    }).pipe(Effect.provide(layer)))

  it.effect("leaves the previous file intact and no temporary file behind when the final rename fails", () =>
    Effect.gen(function*() {
      const real = yield* FileSystem.FileSystem
      const dir = yield* real.makeTempDirectoryScoped({ prefix: "offsets-" })
      const path = nodePath.join(dir, "offsets.json")
      yield* (yield* OffsetStore.localFile(path)).write([{ queue: Q0, offset: 1n }])
      const before = yield* real.readFileString(path)
      const failingRename = FileSystem.FileSystem.of({
        ...real,
        rename: () =>
          Effect.fail(PlatformError.systemError({ _tag: "PermissionDenied", module: "FileSystem", method: "rename" }))
      })
      const error = yield* Effect.flip(
        Effect.flatMap(OffsetStore.localFile(path), (backend) => backend.write([{ queue: Q0, offset: 2n }])).pipe(
          Effect.provideService(FileSystem.FileSystem, failingRename)
        )
      )
      assert.strictEqual(error.operation, "write")
      assert.strictEqual(yield* real.readFileString(path), before)
      expect(yield* real.readDirectory(dir)).toEqual(["offsets.json"])
    }).pipe(Effect.provide(Layer.mergeAll(layer))))
})
