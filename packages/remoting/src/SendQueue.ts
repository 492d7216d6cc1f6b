/**
 * The bounded queue of outbound frames between callers and the channel's send fiber.
 *
 * Callers never touch the socket: they enqueue a prepared frame and return (or go on waiting for
 * their response). One send fiber takes everything queued — capped by count and bytes — and writes
 * it with one socket write. The capacity (1024 by default, as rocketmq-rust's channel) bounds the
 * memory held for a peer that stops reading: once the socket buffer is full the send fiber waits
 * for `drain`, the queue fills, and offers wait or fail.
 *
 * Items are {@link Outbound} records that the response table also holds, so a request that timed
 * out or was interrupted while queued is skipped rather than written (an expired request is never
 * sent). Waking the send fiber is deferred to a microtask: every caller that runs in the same tick
 * lands in the same batch.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import type { PreparedFrame } from "./Codec.ts"
import type { ChannelError, CloseReason } from "./RemotingError.ts"
import { ChannelClosed, ChannelSendRequestFailed, ClosedLocally } from "./RemotingError.ts"
import type { RemotingCommand } from "./RemotingCommand.ts"

const RESOLVED = Promise.resolve()

/**
 * Runs `f` once the current synchronous work is done (a microtask). Not `queueMicrotask`: Node
 * wraps every such callback in an AsyncResource, which showed up at 2 % of the channel profile.
 *
 * @internal
 */
export const afterCurrentWork = (f: () => void): void => {
  void RESOLVED.then(f)
}

/** Queued, not yet written. */
export const QUEUED = 0
/** Waiting for room in a full queue. */
export const WAITING = 1
/** Written to the socket; a request may still wait for its response. */
export const WRITTEN = 2
/** Resolved (answered, timed out, interrupted or failed): never written if not written yet. */
export const DONE = 3

/**
 * A frame on its way out, and the request it belongs to. One allocation serves the queue, the
 * response table and the deadline heap.
 *
 * @since 0.1.0
 * @category models
 */
export class Outbound {
  /** The encoded frame; dropped once written. */
  frame: PreparedFrame | undefined
  readonly code: number
  readonly opaque: number
  /** Absolute deadline on the channel's clock (ms). */
  readonly deadline: number
  readonly timeoutMillis: number
  readonly startedAt: number
  state = QUEUED
  /** Position in the response table's deadline heap; -1 when not in it. */
  heapIndex = -1
  /** Completes the caller of `sendWaitResponse`; undefined for oneway and plain sends. */
  resume: ((effect: Effect.Effect<RemotingCommand, ChannelError>) => void) | undefined
  /** Called when a waiting offer got room (or failed); undefined when nobody waits. */
  onSlot: ((effect: Effect.Effect<void, ChannelSendRequestFailed | ChannelClosed>) => void) | undefined = undefined

  constructor(
    frame: PreparedFrame,
    code: number,
    opaque: number,
    startedAt: number,
    timeoutMillis: number,
    resume: ((effect: Effect.Effect<RemotingCommand, ChannelError>) => void) | undefined
  ) {
    this.frame = frame
    this.code = code
    this.opaque = opaque
    this.startedAt = startedAt
    this.timeoutMillis = timeoutMillis
    this.deadline = startedAt + timeoutMillis
    this.resume = resume
  }
}

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
  /** Enqueues now, or parks the item until there is room (`item.onSlot` is told). False after shutdown. */
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
   */
  readonly take: Effect.Effect<ReadonlyArray<Outbound>>
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

/**
 * A new queue.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeUnsafe = (options?: SendQueueOptions): SendQueueShape => {
  const capacity = Math.max(1, options?.capacity ?? DEFAULT_CAPACITY)
  const maxBatchFrames = Math.max(1, options?.maxBatchFrames ?? capacity)
  const maxBatchBytes = Math.max(1, options?.maxBatchBytes ?? 1024 * 1024)
  const address = options?.address ?? "(unknown)"
  let items: Array<Outbound> = []
  let head = 0
  let parked: Array<Outbound> = []
  let parkedHead = 0
  let closedBy: CloseReason | undefined
  let taker: ((effect: Effect.Effect<ReadonlyArray<Outbound>>) => void) | undefined
  let wakeScheduled = false

  const size = () => items.length - head

  const queueFull = (item: Outbound, detail: string) =>
    new ChannelSendRequestFailed({ address, requestCode: item.code, opaque: item.opaque, reason: "QueueFull", detail })

  const closed = (item: Outbound, cause: CloseReason) =>
    new ChannelClosed({ address, requestCode: item.code, opaque: item.opaque, cause, written: false })

  const wake = () => {
    wakeScheduled = false
    if (taker === undefined || size() === 0) return
    const resume = taker
    taker = undefined
    resume(Effect.succeed(takeNow()))
  }

  const push = (item: Outbound) => {
    items.push(item)
    if (taker !== undefined && !wakeScheduled) {
      wakeScheduled = true
      afterCurrentWork(wake)
    }
  }

  const offerUnsafe = (item: Outbound): boolean => {
    if (closedBy !== undefined || size() >= capacity) return false
    push(item)
    return true
  }

  const offerOrPark = (item: Outbound): boolean => {
    if (closedBy !== undefined) return false
    if (size() < capacity && parkedHead === parked.length) push(item)
    else {
      item.state = WAITING
      parked.push(item)
    }
    return true
  }

  /** Moves parked items into the room the last take made, oldest first. */
  const unpark = () => {
    while (parkedHead < parked.length && size() < capacity) {
      const item = parked[parkedHead]!
      parked[parkedHead++] = undefined as unknown as Outbound
      if (item.state !== WAITING) continue // resolved while parked: drop it
      item.state = QUEUED
      push(item)
      const onSlot = item.onSlot
      if (onSlot !== undefined) {
        item.onSlot = undefined
        onSlot(Effect.void)
      }
    }
    if (parkedHead === parked.length) {
      parked = []
      parkedHead = 0
    }
  }

  const takeNow = (): ReadonlyArray<Outbound> => {
    let end = head
    let bytes = 0
    const limit = Math.min(items.length, head + maxBatchFrames)
    while (end < limit) {
      const frame = items[end]!.frame
      const length = frame === undefined ? 0 : frame.frameLength
      if (end > head && bytes + length > maxBatchBytes) break
      bytes += length
      end++
    }
    const batch = items.slice(head, end)
    if (end === items.length) {
      items = []
      head = 0
    } else {
      head = end
      if (head > 4096 && head * 2 > items.length) {
        items = items.slice(head)
        head = 0
      }
    }
    if (parkedHead < parked.length) unpark()
    return batch
  }

  const take: Effect.Effect<ReadonlyArray<Outbound>> = Effect.callback((resume) => {
    if (closedBy !== undefined) return
    if (size() > 0) return resume(Effect.succeed(takeNow()))
    taker = resume
    return Effect.sync(() => {
      if (taker === resume) taker = undefined
    })
  })

  const offer = (item: Outbound, timeoutMillis: number): Effect.Effect<void, ChannelSendRequestFailed | ChannelClosed> =>
    Effect.suspend(() => {
      if (closedBy !== undefined) return Effect.fail(closed(item, closedBy))
      if (size() < capacity && parkedHead === parked.length) {
        push(item)
        return Effect.void
      }
      return Effect.callback<void, ChannelSendRequestFailed | ChannelClosed>((resume) => {
        item.onSlot = resume
        item.state = WAITING
        parked.push(item)
        return Effect.sync(() => {
          // Interrupted (or timed out) while parked: the item stays behind and is skipped.
          if (item.state === WAITING) item.state = DONE
          item.onSlot = undefined
        })
      }).pipe(
        Effect.timeoutOrElse({
          duration: timeoutMillis,
          orElse: () => Effect.fail(queueFull(item, `${capacity} frames queued for ${timeoutMillis} ms`))
        })
      )
    })

  const offerOrFail = (item: Outbound): Effect.Effect<void, ChannelSendRequestFailed | ChannelClosed> =>
    Effect.suspend((): Effect.Effect<void, ChannelSendRequestFailed | ChannelClosed> => {
      if (closedBy !== undefined) return Effect.fail(closed(item, closedBy))
      return offerUnsafe(item) ? Effect.void : Effect.fail(queueFull(item, `${capacity} frames queued, fail-fast offer`))
    })

  const shutdown = (reason: CloseReason) => {
    if (closedBy !== undefined) return
    closedBy = reason
    items = []
    head = 0
    const waiting = parked.slice(parkedHead)
    parked = []
    parkedHead = 0
    taker = undefined
    for (const item of waiting) {
      const onSlot = item.onSlot
      if (onSlot === undefined) continue
      item.onSlot = undefined
      item.state = DONE
      onSlot(Effect.fail(closed(item, reason)))
    }
  }

  return {
    capacity,
    size,
    isShutdown: () => closedBy !== undefined,
    offerUnsafe,
    offerOrPark,
    offer,
    offerOrFail,
    take,
    shutdown
  }
}

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
