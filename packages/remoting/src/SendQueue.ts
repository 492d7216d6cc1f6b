/**
 * The bounded queue of outbound frames between callers and the channel's send fiber.
 *
 * Callers never touch the socket: they enqueue a prepared frame and return (or go on waiting for
 * their response). One send fiber takes everything queued — capped by count and bytes — and writes
 * it with one socket write. The capacity (1024 by default, as rocketmq-rust's channel) bounds the
 * memory held for a peer that stops reading: once the socket buffer is full the send fiber waits
 * for `drain`, the queue fills, and offers wait or fail.
 *
 * Items are `Outbound` entries that the response table also holds; their stages (see `Outbound`)
 * say what the queue may still do with them: a request that timed out or was interrupted while
 * queued is skipped rather than written, and one resolved while parked never gets in. Waking the
 * send fiber is deferred to a microtask: every caller that runs in the same tick lands in the same
 * batch.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import { afterCurrentWork } from "./internal/afterCurrentWork.ts"
import type { Outbound } from "./Outbound.ts"
import type { ChannelClosed, ChannelSendRequestFailed, CloseReason } from "./RemotingError.ts"
import { ClosedLocally } from "./RemotingError.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface SendQueueOptions {
  /** Frames the queue holds. Default 1024. */
  readonly capacity?: number | undefined
  /** Largest batch the send fiber takes, in frames. Default: the capacity. */
  readonly maxBatchFrames?: number | undefined
  /** Largest batch in bytes (at least one frame is always taken). Default 1 MiB. */
  readonly maxBatchBytes?: number | undefined
  /** The peer's address, for error messages. */
  readonly address?: string | undefined
}

/**
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_CAPACITY = 1024

/**
 * @since 0.1.0
 * @category models
 */
export interface SendQueueShape {
  readonly capacity: number
  /** Frames queued (waiting offers not counted). */
  readonly size: () => number
  readonly isShutdown: () => boolean
  /** Fail-fast enqueue: false when the queue is full or shut down. */
  readonly offerUnsafe: (item: Outbound) => boolean
  /** Enqueues now, or parks the item until a take makes room (it then moves in). False after shutdown. */
  readonly offerOrPark: (item: Outbound) => boolean
  /**
   * Enqueues, waiting up to `timeoutMillis` for room; then fails with reason `QueueFull`. After
   * shutdown (or when it comes while waiting) fails with `ChannelClosed` (not written).
   */
  readonly offer: (item: Outbound, timeoutMillis: number) => Effect.Effect<void, ChannelSendRequestFailed | ChannelClosed>
  /** Fail-fast enqueue as an Effect: `QueueFull` at once when there is no room; `ChannelClosed` after shutdown. */
  readonly offerOrFail: (item: Outbound) => Effect.Effect<void, ChannelSendRequestFailed | ChannelClosed>
  /**
   * Waits until something is queued, then takes up to the batch caps. Items already resolved are
   * taken too (the caller skips them). After shutdown it never returns (the fiber is interrupted).
   * Empty only after a direct write (see {@link writeDirectly}) that wants a `drain`.
   */
  readonly take: Effect.Effect<ReadonlyArray<Outbound>>
  /**
   * Hands batches to `write` directly, synchronously, while the send fiber is idle in {@link take}:
   * at the end of the tick they were queued in, instead of waking the fiber (a scheduler turn per
   * batch). `write` returns false when the socket wants a `drain`; the queue then wakes the send
   * fiber with an empty batch to wait for it, and writes nothing more until it takes again.
   */
  readonly writeDirectly: (write: (batch: ReadonlyArray<Outbound>) => boolean) => void
  /**
   * Ends the queue because the channel closed for `reason`: queued frames are dropped, waiting
   * offers fail with `ChannelClosed`, later offers fail at once.
   */
  readonly shutdown: (reason: CloseReason) => void
}

/**
 * @since 0.1.0
 * @category services
 */
export class SendQueue extends Context.Service<SendQueue, SendQueueShape>()("rocketmq/remoting/SendQueue") {}

const NOTHING: ReadonlyArray<Outbound> = []

/**
 * The queue: a growing array read from `head` (compacted now and then), and beside it the entries
 * parked while it was full, oldest first.
 */
class BoundedSendQueue implements SendQueueShape {
  readonly capacity: number
  private readonly maxBatchFrames: number
  private readonly maxBatchBytes: number
  private readonly address: string
  private items: Array<Outbound> = []
  private head = 0
  private parked: Array<Outbound> = []
  private parkedHead = 0
  /**
   * The offers waiting for room, by item: told when their item moves in (or the queue shuts down).
   * Beside the items rather than a field of each: every pending request holds its entry, and only
   * `offer`'s items ever wait this way.
   */
  private readonly waiters = new Map<Outbound, (effect: Effect.Effect<void, ChannelSendRequestFailed | ChannelClosed>) => void>()
  private closedBy: CloseReason | undefined
  private taker: ((effect: Effect.Effect<ReadonlyArray<Outbound>>) => void) | undefined
  private wakeScheduled = false

  constructor(options: SendQueueOptions | undefined) {
    this.capacity = Math.max(1, options?.capacity ?? DEFAULT_CAPACITY)
    this.maxBatchFrames = Math.max(1, options?.maxBatchFrames ?? this.capacity)
    this.maxBatchBytes = Math.max(1, options?.maxBatchBytes ?? 1024 * 1024)
    this.address = options?.address ?? "(unknown)"
  }

  size(): number {
    return this.items.length - this.head
  }

  isShutdown(): boolean {
    return this.closedBy !== undefined
  }

  private hasRoom(): boolean {
    return this.size() < this.capacity && this.parkedHead === this.parked.length
  }

  private direct: ((batch: ReadonlyArray<Outbound>) => boolean) | undefined

  private readonly wake = () => {
    this.wakeScheduled = false
    const taker = this.taker
    if (taker === undefined || this.size() === 0) return
    const direct = this.direct
    if (direct !== undefined) {
      // The send fiber is parked in `take`, so nothing is mid-write: writing here keeps one writer
      // and the queue's order.
      let drained = true
      while (drained && this.size() > 0) drained = direct(this.takeNow())
      if (drained) return
      this.taker = undefined
      return taker(Effect.succeed(NOTHING))
    }
    this.taker = undefined
    taker(Effect.succeed(this.takeNow()))
  }

  writeDirectly(write: (batch: ReadonlyArray<Outbound>) => boolean): void {
    this.direct = write
  }

  private push(item: Outbound): void {
    this.items.push(item)
    if (this.taker !== undefined && !this.wakeScheduled) {
      this.wakeScheduled = true
      afterCurrentWork(this.wake)
    }
  }

  offerUnsafe(item: Outbound): boolean {
    if (this.closedBy !== undefined || this.size() >= this.capacity) return false
    this.push(item)
    return true
  }

  offerOrPark(item: Outbound): boolean {
    if (this.closedBy !== undefined) return false
    if (this.hasRoom()) this.push(item)
    else {
      item.park()
      this.parked.push(item)
    }
    return true
  }

  /** Moves parked items into the room the last take made, oldest first. */
  private unpark(): void {
    const parked = this.parked
    while (this.parkedHead < parked.length && this.size() < this.capacity) {
      const item = parked[this.parkedHead]!
      parked[this.parkedHead++] = undefined as unknown as Outbound
      if (!item.unpark()) continue // resolved while parked: drop it
      this.push(item)
      const onSlot = this.waiters.size === 0 ? undefined : this.waiters.get(item)
      if (onSlot !== undefined) {
        this.waiters.delete(item)
        onSlot(Effect.void)
      }
    }
    if (this.parkedHead === parked.length) {
      this.parked = []
      this.parkedHead = 0
    }
  }

  /** Takes the next batch: at least one frame, then up to the frame and byte caps. */
  private takeNow(): ReadonlyArray<Outbound> {
    const { items, head } = this
    let end = head
    let bytes = 0
    const limit = Math.min(items.length, head + this.maxBatchFrames)
    while (end < limit) {
      const frame = items[end]!.frame
      const length = frame === undefined ? 0 : frame.frameLength
      if (end > head && bytes + length > this.maxBatchBytes) break
      bytes += length
      end++
    }
    const batch = items.slice(head, end)
    if (end === items.length) {
      this.items = []
      this.head = 0
    } else {
      this.head = end
      if (end > 4096 && end * 2 > items.length) {
        this.items = items.slice(end)
        this.head = 0
      }
    }
    if (this.parkedHead < this.parked.length) this.unpark()
    return batch
  }

  readonly take: Effect.Effect<ReadonlyArray<Outbound>> = Effect.callback((resume) => {
    if (this.closedBy !== undefined) return
    if (this.size() > 0) return resume(Effect.succeed(this.takeNow()))
    this.taker = resume
    return Effect.sync(() => {
      if (this.taker === resume) this.taker = undefined
    })
  })

  offer(item: Outbound, timeoutMillis: number): Effect.Effect<void, ChannelSendRequestFailed | ChannelClosed> {
    return Effect.suspend(() => {
      if (this.closedBy !== undefined) return Effect.fail(item.closedError(this.address, this.closedBy))
      if (this.hasRoom()) {
        this.push(item)
        return Effect.void
      }
      return Effect.callback<void, ChannelSendRequestFailed | ChannelClosed>((resume) => {
        this.waiters.set(item, resume)
        item.park()
        this.parked.push(item)
        return Effect.sync(() => {
          // Interrupted (or timed out) while parked: the item stays behind and is skipped.
          item.abandonWait()
          this.waiters.delete(item)
        })
      }).pipe(
        Effect.timeoutOrElse({
          duration: timeoutMillis,
          orElse: () =>
            Effect.fail(item.queueFullError(this.address, `${this.capacity} frames queued for ${timeoutMillis} ms`))
        })
      )
    })
  }

  offerOrFail(item: Outbound): Effect.Effect<void, ChannelSendRequestFailed | ChannelClosed> {
    return Effect.suspend((): Effect.Effect<void, ChannelSendRequestFailed | ChannelClosed> => {
      if (this.closedBy !== undefined) return Effect.fail(item.closedError(this.address, this.closedBy))
      return this.offerUnsafe(item)
        ? Effect.void
        : Effect.fail(item.queueFullError(this.address, `${this.capacity} frames queued, fail-fast offer`))
    })
  }

  shutdown(reason: CloseReason): void {
    if (this.closedBy !== undefined) return
    this.closedBy = reason
    this.items = []
    this.head = 0
    const waiting = this.parked.slice(this.parkedHead)
    this.parked = []
    this.parkedHead = 0
    this.taker = undefined
    for (const item of waiting) {
      const onSlot = this.waiters.get(item)
      if (onSlot === undefined) continue
      this.waiters.delete(item)
      const error = item.closedError(this.address, reason)
      item.finish()
      onSlot(Effect.fail(error))
    }
  }
}

/**
 * A new queue.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeUnsafe = (options?: SendQueueOptions): SendQueueShape => new BoundedSendQueue(options)

/**
 * A queue shut down when the layer is released.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: SendQueueOptions): Layer.Layer<SendQueue> =>
  Layer.effect(
    SendQueue,
    Effect.acquireRelease(Effect.sync(() => makeUnsafe(options)), (queue) =>
      Effect.sync(() => queue.shutdown(new ClosedLocally({ address: options?.address ?? "(unknown)" }))))
  )
