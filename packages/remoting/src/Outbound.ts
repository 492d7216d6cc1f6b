/**
 * One frame on its way out of a channel — usually a request waiting for its response — and the
 * stages it goes through. This module is the only place that moves an entry from one stage to the
 * next; the send queue, the send fiber and the response table call its methods.
 *
 * The transitions, and who makes them:
 *
 * - QUEUED → WAITING ({@link Outbound.park}): the send queue is full; the entry waits beside it;
 * - WAITING → QUEUED ({@link Outbound.unpark}): a take made room;
 * - QUEUED → WRITTEN ({@link Outbound.takeFrame}): the send fiber hands the frame to the socket;
 * - WAITING → DONE ({@link Outbound.abandonWait}): an offer gave up waiting for room;
 * - any → DONE ({@link Outbound.finish}): the response table resolved it (answer, deadline,
 *   interruption, close).
 *
 * Invariants:
 *
 * 1. A frame is written at most once, and only from QUEUED: {@link Outbound.takeFrame} moves the
 *    entry to WRITTEN and drops its reference to the frame.
 * 2. DONE is terminal. An entry resolved while QUEUED or WAITING (answered, timed out, interrupted,
 *    closed) stays wherever the queue holds it and is skipped there: an expired request is never
 *    sent, and a parked one never enters the queue.
 * 3. The stage when a request fails decides what its caller is told ({@link Outbound.deadlineError},
 *    {@link Outbound.closedError}): at its deadline, WAITING means it never got into the queue
 *    (`QueueFull`), QUEUED a `RequestTimeout` not written, WRITTEN a `RequestTimeout` written; on
 *    close, `ChannelClosed.written` is whether it was WRITTEN. So `mayHaveReachedPeer` is exact.
 * 4. A request is in its channel's response table from registration until it is DONE; `place`
 *    is its place in the table's deadline order, -1 outside it.
 *
 * One allocation serves the queue, the response table and the deadline order. Stages are small
 * integers, not strings: the channel reads them several times per request.
 *
 * @since 0.1.0
 */
import type { Exit } from "effect"
import type { PreparedFrame } from "./Codec.ts"
import type { RemotingCommand } from "./RemotingCommand.ts"
import {
  type ChannelError,
  ChannelClosed,
  ChannelSendRequestFailed,
  type CloseReason,
  RequestTimeout
} from "./RemotingError.ts"

/**
 * In the send queue, not yet written.
 *
 * @since 0.1.0
 * @category stages
 */
export const QUEUED = 0
/**
 * Waiting for room in a full send queue (parked beside it).
 *
 * @since 0.1.0
 * @category stages
 */
export const WAITING = 1
/**
 * Handed to the socket; a request may still wait for its response.
 *
 * @since 0.1.0
 * @category stages
 */
export const WRITTEN = 2
/**
 * Resolved: answered, timed out, interrupted or failed. Terminal.
 *
 * @since 0.1.0
 * @category stages
 */
export const DONE = 3

/**
 * @since 0.1.0
 * @category models
 */
export type Stage = typeof QUEUED | typeof WAITING | typeof WRITTEN | typeof DONE

/**
 * @since 0.1.0
 * @category models
 */
export class Outbound {
  /** The encoded frame; dropped once written or resolved. */
  frame: PreparedFrame | undefined
  readonly code: number
  readonly opaque: number
  readonly timeoutMillis: number
  /** Absolute deadline on the channel's clock (ms). */
  readonly deadline: number
  /** Place in the response table's deadline order (see internal/deadlines.ts); -1 when not in it. */
  place = -1
  /** Completes the caller (of `sendWaitResponse`, or its share of a bulk call); undefined for oneway and plain sends. */
  resume: ((exit: Exit.Exit<RemotingCommand, ChannelError>) => void) | undefined
  private current: Stage = QUEUED

  constructor(
    frame: PreparedFrame,
    code: number,
    opaque: number,
    startedAt: number,
    timeoutMillis: number,
    resume: ((exit: Exit.Exit<RemotingCommand, ChannelError>) => void) | undefined
  ) {
    this.frame = frame
    this.code = code
    this.opaque = opaque
    this.timeoutMillis = timeoutMillis
    this.deadline = startedAt + timeoutMillis
    this.resume = resume
  }

  /**
   * When the entry was made, on the channel's clock (ms). Derived rather than stored: a clock
   * reading is a boxed double in V8, and every pending request holds its entry.
   */
  get startedAt(): number {
    return this.deadline - this.timeoutMillis
  }

  /** The current stage. */
  get stage(): Stage {
    return this.current
  }

  /** Whether the send fiber should write it: QUEUED with its frame. */
  isWritable(): boolean {
    return this.current === QUEUED && this.frame !== undefined
  }

  /** QUEUED → WAITING: the queue is full; the entry waits beside it. */
  park(): void {
    if (this.current === QUEUED) this.current = WAITING
  }

  /** WAITING → QUEUED when room was made. False (and nothing changes) if it was resolved meanwhile. */
  unpark(): boolean {
    if (this.current !== WAITING) return false
    this.current = QUEUED
    return true
  }

  /** WAITING → DONE: whoever waited for room gave up (timeout, interruption, close). */
  abandonWait(): void {
    if (this.current === WAITING) this.current = DONE
  }

  /** QUEUED → WRITTEN, returning the frame to write (and forgetting it); undefined when not writable. */
  takeFrame(): PreparedFrame | undefined {
    const frame = this.frame
    if (this.current !== QUEUED || frame === undefined) return undefined
    this.frame = undefined
    this.current = WRITTEN
    return frame
  }

  /** Any stage → DONE (terminal); the frame is dropped. */
  finish(): void {
    this.current = DONE
    this.frame = undefined
  }

  /** Whether the frame was handed to the socket (read before {@link finish}). */
  wasWritten(): boolean {
    return this.current === WRITTEN
  }

  /**
   * What the caller is told when the deadline passes: `QueueFull` while still WAITING (the request
   * never got into the queue), otherwise `RequestTimeout` saying whether it was written.
   */
  deadlineError(address: string): ChannelSendRequestFailed | RequestTimeout {
    if (this.current === WAITING) return this.queueFullError(address, `the send queue stayed full for ${this.timeoutMillis} ms`)
    return new RequestTimeout({
      address,
      requestCode: this.code,
      opaque: this.opaque,
      timeoutMillis: this.timeoutMillis,
      written: this.current === WRITTEN
    })
  }

  /** `QueueFull` for this entry, with `detail` saying how long or how the offer failed. */
  queueFullError(address: string, detail: string): ChannelSendRequestFailed {
    return new ChannelSendRequestFailed({ address, requestCode: this.code, opaque: this.opaque, reason: "QueueFull", detail })
  }

  /** What the caller is told when the channel closes for `reason`: written exactly when WRITTEN. */
  closedError(address: string, reason: CloseReason): ChannelClosed {
    return new ChannelClosed({
      address,
      requestCode: this.code,
      opaque: this.opaque,
      cause: reason,
      written: this.current === WRITTEN
    })
  }
}

/**
 * What a call made on a channel that had already closed for `reason` is told: `ChannelClosed`, not
 * written (no entry was made; `opaque` is -1 when none was assigned).
 *
 * @since 0.1.0
 * @category errors
 */
export const closedBeforeQueued = (
  address: string,
  requestCode: number,
  opaque: number,
  reason: CloseReason
): ChannelClosed => new ChannelClosed({ address, requestCode, opaque, cause: reason, written: false })
