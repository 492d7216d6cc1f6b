/**
 * The messages of one queue that were pulled and are not yet acknowledged (Java's
 * `ProcessQueue`), and the rule that makes consumption at-least-once: the offset a consumer may
 * commit is the **lowest offset still held**, or one past the newest message when none is held.
 * A slow message pins the committed offset; after a crash everything from it on is delivered again,
 * and nothing below it is ever skipped.
 *
 * Two ways out, as in Java:
 * - concurrent consumption removes any subset in any order ({@link ProcessQueue.remove});
 * - orderly consumption takes a prefix ({@link ProcessQueue.take}), then commits it
 *   ({@link ProcessQueue.commit}: one past the last taken) or puts it back ({@link ProcessQueue.putBack}).
 *
 * It also keeps what flow control reads (count, body bytes, span between the lowest and highest
 * held offsets), the queue's lock state for orderly consumption, and the `dropped` flag a rebalance
 * sets when the queue leaves this member (results for a dropped queue no longer move its offset).
 *
 * A plain class with synchronous methods, not an Effect service: the puller and the consumers call
 * it once per message batch, each call completes atomically on the JS thread, and wrapping each
 * call in a `Ref` would add allocation on the hot path for no extra safety. No I/O.
 *
 * @internal
 */

/** @internal: what a held message must expose. */
export interface Held {
  readonly queueOffset: bigint
  readonly body: Uint8Array
}

interface Entry<M> {
  readonly offset: bigint
  readonly message: M
  /** Released (acknowledged, sent back or committed). */
  done: boolean
  /** Orderly: handed to the consumer, not yet committed or put back. */
  taken: boolean
}

/** @internal: Java's `ProcessQueueInfo`, as GET_CONSUMER_RUNNING_INFO reports it. */
export interface Info {
  readonly cachedMsgMinOffset: bigint
  readonly cachedMsgMaxOffset: bigint
  readonly cachedMsgCount: number
  readonly cachedMsgSizeInMiB: number
  readonly locked: boolean
  readonly lastLockTimestamp: number
  readonly dropped: boolean
  readonly lastPullTimestamp: number
  readonly lastConsumeTimestamp: number
}

/**
 * Java's `rocketmq.client.pull.pullMaxIdleTime`: a queue not pulled for this long is dropped and
 * recreated by the next rebalance.
 *
 * @internal
 */
export const PULL_MAX_IDLE_MILLIS = 120_000

/**
 * Java's `REBALANCE_LOCK_MAX_LIVE_TIME`: an orderly lock not renewed for this long is treated as
 * lost on the client side (the broker keeps it for 60 s).
 *
 * @internal
 */
export const LOCK_MAX_LIVE_MILLIS = 30_000

// Compact the entry array once this many leading entries are done, and they are at least half
// of it: keeps memory bounded by what is held, with amortised O(1) removal.
const COMPACT_AT = 1024

/** @internal */
export class ProcessQueue<M extends Held> {
  private entries: Array<Entry<M>> = []
  private head = 0
  private takenEntries: Array<Entry<M>> = []
  private held = 0
  private heldBytes = 0
  private maxInserted = -1n

  dropped = false
  locked = false
  lastLockTimestamp = 0
  lastPullTimestamp: number
  lastConsumeTimestamp: number

  constructor(now: number) {
    this.lastPullTimestamp = now
    this.lastConsumeTimestamp = now
  }

  /** How many messages are held (taken ones included, until committed). */
  get count(): number {
    return this.held
  }

  /** The body bytes of the held messages. */
  get bytes(): number {
    return this.heldBytes
  }

  /** Highest minus lowest held offset; 0 when fewer than two are held (Java's `getMaxSpan`). */
  get maxSpan(): bigint {
    if (this.held === 0) return 0n
    return this.entries[this.entries.length - 1]!.offset - this.entries[this.head]!.offset
  }

  /** The lowest held offset, if any. */
  get minOffset(): bigint | undefined {
    return this.held === 0 ? undefined : this.entries[this.head]!.offset
  }

  /** The highest held offset, if any. */
  get maxOffset(): bigint | undefined {
    return this.held === 0 ? undefined : this.entries[this.entries.length - 1]!.offset
  }

  /**
   * Holds `messages` (any order); an offset already held is ignored, as Java's `putMessage`.
   * Returns the messages that were new, in offset order.
   */
  put(messages: ReadonlyArray<M>): ReadonlyArray<M> {
    const added: Array<M> = []
    for (const message of messages) {
      const offset = message.queueOffset
      const last = this.entries.length === 0 ? undefined : this.entries[this.entries.length - 1]!
      if (last === undefined || offset > last.offset) {
        this.entries.push({ offset, message, done: false, taken: false })
      } else {
        const at = this.search(offset)
        if (at < this.entries.length && this.entries[at]!.offset === offset && !this.entries[at]!.done) continue
        const entry: Entry<M> = { offset, message, done: false, taken: false }
        if (at < this.entries.length && this.entries[at]!.offset === offset) this.entries[at] = entry
        else this.entries.splice(at, 0, entry)
      }
      this.held++
      this.heldBytes += message.body.length
      if (offset > this.maxInserted) this.maxInserted = offset
      added.push(message)
    }
    return added
  }

  /** Whether `offset` is held. */
  has(offset: bigint): boolean {
    const at = this.search(offset)
    return at < this.entries.length && this.entries[at]!.offset === offset && !this.entries[at]!.done
  }

  /**
   * Releases the messages at `offsets` (acknowledged, or sent back to the broker) and returns the
   * offset to commit: the lowest still held, or one past the newest ever held when none is left.
   * `undefined` when nothing was held to begin with (Java's −1: leave the committed offset alone).
   */
  remove(offsets: Iterable<bigint>): bigint | undefined {
    if (this.held === 0) return undefined
    for (const offset of offsets) {
      const at = this.search(offset)
      if (at >= this.entries.length) continue
      const entry = this.entries[at]!
      if (entry.offset !== offset || entry.done) continue
      this.release(entry)
    }
    this.advance()
    return this.committable()
  }

  /** {@link remove} of one offset, without an iterable: the per-acknowledgement path. */
  removeOne(offset: bigint): bigint | undefined {
    if (this.held === 0) return undefined
    const at = this.search(offset)
    if (at < this.entries.length) {
      const entry = this.entries[at]!
      if (entry.offset === offset && !entry.done) this.release(entry)
    }
    this.advance()
    return this.committable()
  }

  /**
   * Orderly: marks up to `n` of the lowest held messages that are not already taken as "being
   * consumed" and returns them, in offset order.
   */
  take(n: number): ReadonlyArray<M> {
    const out: Array<M> = []
    for (let i = this.head; out.length < n && i < this.entries.length; i++) {
      const entry = this.entries[i]!
      if (entry.done || entry.taken) continue
      entry.taken = true
      this.takenEntries.push(entry)
      out.push(entry.message)
    }
    return out
  }

  /**
   * Orderly: releases everything taken and returns the offset to commit; `undefined` when nothing
   * was taken. Java returns one past the highest taken offset; this returns the lowest offset still
   * held (or one past the newest), which is the same value whenever messages arrive in offset
   * order, and never passes a message that arrived out of order and was not consumed.
   */
  commit(): bigint | undefined {
    if (this.takenEntries.length === 0) return undefined
    for (const entry of this.takenEntries) {
      entry.taken = false
      if (!entry.done) this.release(entry)
    }
    this.takenEntries = []
    this.advance()
    return this.committable()
  }

  /** Orderly: returns the taken messages to the queue, to be consumed again first. */
  putBack(): void {
    for (const entry of this.takenEntries) entry.taken = false
    this.takenEntries = []
  }

  /** How many messages are taken and not yet committed or put back. */
  get takenCount(): number {
    return this.takenEntries.length
  }

  /** Forgets every held message (queue dropped or its offset reset). */
  clear(): void {
    this.entries = []
    this.head = 0
    this.takenEntries = []
    this.held = 0
    this.heldBytes = 0
    this.maxInserted = -1n
  }

  /** The held messages in offset order (taken ones included). */
  messages(): ReadonlyArray<M> {
    const out: Array<M> = []
    for (let i = this.head; i < this.entries.length; i++) if (!this.entries[i]!.done) out.push(this.entries[i]!.message)
    return out
  }

  isPullExpired(now: number): boolean {
    return now - this.lastPullTimestamp > PULL_MAX_IDLE_MILLIS
  }

  isLockExpired(now: number): boolean {
    return now - this.lastLockTimestamp > LOCK_MAX_LIVE_MILLIS
  }

  info(): Info {
    return {
      cachedMsgMinOffset: this.minOffset ?? 0n,
      cachedMsgMaxOffset: this.maxOffset ?? 0n,
      cachedMsgCount: this.held,
      cachedMsgSizeInMiB: Math.floor(this.heldBytes / (1024 * 1024)),
      locked: this.locked,
      lastLockTimestamp: this.lastLockTimestamp,
      dropped: this.dropped,
      lastPullTimestamp: this.lastPullTimestamp,
      lastConsumeTimestamp: this.lastConsumeTimestamp
    }
  }

  private committable(): bigint {
    return this.held === 0 ? this.maxInserted + 1n : this.entries[this.head]!.offset
  }

  private release(entry: Entry<M>): void {
    entry.done = true
    this.held--
    this.heldBytes -= entry.message.body.length
  }

  // Moves `head` past released entries and compacts when worthwhile.
  private advance(): void {
    while (this.head < this.entries.length && this.entries[this.head]!.done) this.head++
    if (this.held === 0) {
      this.entries = []
      this.head = 0
    } else if (this.head >= COMPACT_AT && this.head * 2 >= this.entries.length) {
      this.entries = this.entries.slice(this.head)
      this.head = 0
    }
  }

  // The index of the first live-range entry whose offset is >= `offset` (entries are sorted).
  private search(offset: bigint): number {
    let lo = this.head
    let hi = this.entries.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.entries[mid]!.offset < offset) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
