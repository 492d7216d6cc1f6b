/**
 * A consumer group's committed offsets (Java's `OffsetStore`): an in-memory table that the
 * consumers move forward, and a {@link Backend} it is persisted to — the brokers (clustering) or
 * a local file (broadcasting, {@link localFile}).
 *
 * Memory rules, as Java's `ControllableOffset`:
 * - {@link OffsetStore.update} with `increaseOnly` keeps the larger of the old and new values (acks
 *   arrive out of order; the committed offset never moves back by accident); without it, it sets
 *   the value (an offset reset);
 * - {@link OffsetStore.updateAndFreeze} sets a value and ignores every later update until the
 *   queue is removed (the broker said the offset was illegal: its correction must be persisted
 *   before anyone moves it again).
 *
 * Reading from the backend keeps Java's three outcomes apart ({@link ReadResult}): an offset, "none
 * stored" (Java's −1: start from `consumeFromWhere`), and "the query failed" (Java's −2: do not
 * start the queue this round). Treating a failed query as "none stored" resets a group to the
 * first or last offset and re-consumes or skips data; the types keep the two from being confused.
 *
 * Persisting writes only queues still assigned and forgets the others from memory (they now
 * belong to another member, whose offsets must not be overwritten by stale values from here).
 *
 * @internal
 */
import { Effect, FileSystem, Option, Schema, Semaphore } from "effect"
import * as nodePath from "node:path"
import { OffsetFileError } from "../../ConsumerError.ts"
import * as MessageQueue from "../../MessageQueue.ts"

/** @internal */
export interface Entry {
  readonly queue: MessageQueue.MessageQueue
  readonly offset: bigint
}

/** @internal: where the committed offsets are kept across restarts. */
export interface Backend<E> {
  /** The stored offset, `None` when none is stored; a failure means "unknown", never "none". */
  readonly read: (queue: MessageQueue.MessageQueue) => Effect.Effect<Option.Option<bigint>, E>
  readonly write: (entries: ReadonlyArray<Entry>) => Effect.Effect<void, E>
}

/** @internal: Java's readOffset outcomes: an offset, −1 (none stored) or −2 (query failed). */
export type ReadResult<E> =
  | { readonly _tag: "Found"; readonly offset: bigint }
  | { readonly _tag: "NotFound" }
  | { readonly _tag: "Failed"; readonly error: E }

interface Slot {
  readonly queue: MessageQueue.MessageQueue
  offset: bigint
  frozen: boolean
}

/** @internal */
export class OffsetStore<E> {
  private readonly table = new Map<string, Slot>()
  readonly backend: Backend<E>

  constructor(backend: Backend<E>) {
    this.backend = backend
  }

  /** `key` is the queue's {@link MessageQueue.key}, when the caller already has it. */
  update(queue: MessageQueue.MessageQueue, offset: bigint, increaseOnly: boolean, key = MessageQueue.key(queue)): void {
    const slot = this.table.get(key)
    if (slot === undefined) {
      this.table.set(key, { queue, offset, frozen: false })
      return
    }
    if (slot.frozen) return
    if (!increaseOnly || offset > slot.offset) slot.offset = offset
  }

  updateAndFreeze(queue: MessageQueue.MessageQueue, offset: bigint): void {
    this.table.set(MessageQueue.key(queue), { queue, offset, frozen: true })
  }

  readMemory(queue: MessageQueue.MessageQueue, key = MessageQueue.key(queue)): bigint | undefined {
    return this.table.get(key)?.offset
  }

  /** Reads the stored offset; a found one also replaces the memory value (Java's READ_FROM_STORE). */
  readStore(queue: MessageQueue.MessageQueue): Effect.Effect<ReadResult<E>> {
    return this.backend.read(queue).pipe(
      Effect.map((stored): ReadResult<E> => {
        if (Option.isNone(stored)) return { _tag: "NotFound" }
        this.update(queue, stored.value, false)
        return { _tag: "Found", offset: stored.value }
      }),
      Effect.catch((error: E) => Effect.succeed<ReadResult<E>>({ _tag: "Failed", error }))
    )
  }

  /** Persists one queue's memory offset, if it has one. */
  persist(queue: MessageQueue.MessageQueue): Effect.Effect<void, E> {
    return Effect.suspend(() => {
      const slot = this.table.get(MessageQueue.key(queue))
      return slot === undefined ? Effect.void : this.backend.write([{ queue: slot.queue, offset: slot.offset }])
    })
  }

  /**
   * Persists the memory offsets of `assigned` (re-sending unchanged ones, as Java does) and
   * forgets every other queue's. Does nothing when `assigned` is empty (Java's rule: a member
   * between rebalances must not wipe its table).
   */
  persistAll(assigned: Iterable<MessageQueue.MessageQueue>): Effect.Effect<void, E> {
    return Effect.suspend(() => {
      const keep = new Set<string>()
      for (const queue of assigned) keep.add(MessageQueue.key(queue))
      if (keep.size === 0) return Effect.void
      const entries: Array<Entry> = []
      for (const [key, slot] of this.table) {
        if (keep.has(key)) entries.push({ queue: slot.queue, offset: slot.offset })
        else this.table.delete(key)
      }
      return entries.length === 0 ? Effect.void : this.backend.write(entries)
    })
  }

  remove(queue: MessageQueue.MessageQueue): void {
    this.table.delete(MessageQueue.key(queue))
  }

  entries(): ReadonlyArray<Entry> {
    return Array.from(this.table.values(), (slot) => ({ queue: slot.queue, offset: slot.offset }))
  }
}

// ---------------------------------------------------------------------------------------------
// Local file (broadcasting)
// ---------------------------------------------------------------------------------------------

const OffsetFile = Schema.Struct({
  version: Schema.Literal(1),
  offsets: Schema.Array(Schema.Struct({
    topic: Schema.String,
    brokerName: Schema.String,
    queueId: Schema.Int,
    offset: Schema.BigIntFromString
  }))
})

const OffsetFileJson = Schema.fromJsonString(OffsetFile)
const decodeFile = Schema.decodeUnknownEffect(OffsetFileJson)
const encodeFile = Schema.encodeEffect(OffsetFileJson)

let tmpCounter = 0

/**
 * A {@link Backend} in a local JSON file (`{"version":1,"offsets":[{topic, brokerName, queueId,
 * offset}]}`; offsets as decimal strings), read once when created. A missing file is an empty
 * store; a file that does not parse is an {@link OffsetFileError} (never silently "no offsets",
 * which would move a broadcasting consumer to its start position).
 *
 * Every write replaces the whole file atomically: the new content goes to a temporary file in
 * the same directory, is flushed to disk (`fsync`), then renamed over the old one, so a crash
 * leaves either the old or the new file, never a torn one. Writes are serialized. Queues not in a
 * write keep their stored offsets (a queue that leaves the route for a while does not lose its
 * position).
 *
 * @internal
 */
export const localFile = (
  path: string
): Effect.Effect<Backend<OffsetFileError>, OffsetFileError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const failure = (operation: OffsetFileError["operation"]) => (error: { readonly message: string }) =>
      new OffsetFileError({ path, operation, detail: error.message.replace(/\s*\n\s*/g, " ") })
    const stored = new Map<string, Entry>()
    const exists = yield* fs.exists(path).pipe(Effect.mapError(failure("read")))
    if (exists) {
      const text = yield* fs.readFileString(path).pipe(Effect.mapError(failure("read")))
      const file = yield* decodeFile(text).pipe(Effect.mapError(failure("parse")))
      for (const { offset, ...queue } of file.offsets) stored.set(MessageQueue.key(queue), { queue, offset })
    }
    const lock = yield* Semaphore.make(1)
    const writeFile = (text: string) =>
      Effect.gen(function*() {
        yield* fs.makeDirectory(nodePath.dirname(path), { recursive: true })
        const tmp = `${path}.${process.pid}.${++tmpCounter}.tmp`
        yield* Effect.scoped(
          Effect.flatMap(fs.open(tmp, { flag: "w" }), (file) =>
            Effect.andThen(file.writeAll(new TextEncoder().encode(text)), file.sync))
        ).pipe(Effect.onError(() => Effect.ignore(fs.remove(tmp))))
        yield* fs.rename(tmp, path).pipe(Effect.onError(() => Effect.ignore(fs.remove(tmp))))
      }).pipe(Effect.mapError(failure("write")))

    const backend: Backend<OffsetFileError> = {
      read: (queue) => Effect.sync(() => Option.fromUndefinedOr(stored.get(MessageQueue.key(queue))?.offset)),
      write: (entries) =>
        Semaphore.withPermits(lock, 1)(Effect.gen(function*() {
          const next = new Map(stored)
          for (const entry of entries) next.set(MessageQueue.key(entry.queue), entry)
          const offsets = Array.from(next.values(), ({ queue, offset }) => ({ ...queue, offset }))
          const text = yield* encodeFile({ version: 1, offsets }).pipe(Effect.mapError(failure("write")))
          yield* writeFile(text)
          for (const [key, entry] of next) stored.set(key, entry)
        }))
    }
    return backend
  })
