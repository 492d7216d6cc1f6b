/**
 * The channel's outbound calls: `sendWaitResponse`, `sendWaitResponseAll`, `sendOneway` and
 * `send`. Each assigns an opaque, encodes the frame once, and hands an `Outbound` entry to the send
 * queue (and, for a request awaiting its response, to the response table first).
 *
 * @internal
 */
import type { Clock } from "effect"
import { Effect, Exit, Fiber, Result, type Tracer } from "effect"
import type { ChannelShape } from "../Channel.ts"
import * as Codec from "../Codec.ts"
import type { ConnectionShape } from "../Connection.ts"
import { closedBeforeQueued, DONE, Outbound } from "../Outbound.ts"
import * as RemotingCommand from "../RemotingCommand.ts"
import {
  type ChannelClosed,
  type ChannelError,
  ChannelSendRequestFailed,
  type CloseReason,
  RequestTimeout
} from "../RemotingError.ts"
import type { ResponseTableShape } from "../ResponseTable.ts"
import type { SendQueueShape } from "../SendQueue.ts"
import { isTraced } from "./tracing.ts"

/**
 * The state a channel's parts share. `closeReason` is set once, when the channel closes.
 *
 * @internal
 */
export interface ChannelCore {
  readonly address: string
  readonly connection: ConnectionShape
  readonly queue: SendQueueShape
  readonly table: ResponseTableShape
  readonly clock: Clock.Clock
  closeReason: CloseReason | undefined
}

/** @internal */
export interface RequestSettings {
  readonly defaultTimeoutMillis: number
  readonly serializeType: Codec.SerializeType
  readonly maxFrameLength: number
  readonly initialOpaque: number
  /** Tells the deadline timer about a new entry's deadline. */
  readonly scheduleDeadline: (deadline: number) => void
}

/** @internal */
export type Requests = Pick<ChannelShape, "sendWaitResponse" | "sendWaitResponseAll" | "sendOneway" | "send">

/** The typed error of a failed exit the response table made; undefined for an interruption. */
const errorOf = (exit: Exit.Failure<unknown, ChannelError>): ChannelError | undefined => {
  for (const reason of exit.cause.reasons) if (reason._tag === "Fail") return reason.error
  return undefined
}

/**
 * @internal
 *
 * Longer than this project's 150-line guide on purpose: it is a closure of short named steps (one
 * per request shape) that share the channel's opaque counter and settings; as module functions each
 * per-request step would take that state as arguments on the hot path.
 */
export const make = (core: ChannelCore, settings: RequestSettings): Requests => {
  const { address, queue, table, clock } = core
  const { defaultTimeoutMillis, serializeType, maxFrameLength } = settings
  let nextOpaque = settings.initialOpaque | 0

  /** The next opaque not pending: 32-bit, counting up and wrapping. */
  const freshOpaque = (): number => {
    let opaque = nextOpaque
    while (table.has(opaque)) opaque = (opaque + 1) | 0
    nextOpaque = (opaque + 1) | 0
    return opaque
  }

  const prepare = (command: RemotingCommand.RemotingCommand, opaque: number) => {
    const frame = Codec.prepareFrame(command, serializeType, opaque)
    if (frame.frameLength > maxFrameLength || frame.headerLength > Codec.MAX_HEADER_LENGTH) {
      return new ChannelSendRequestFailed({
        address,
        requestCode: command.code,
        opaque,
        reason: "FrameTooLarge",
        detail: `the frame is ${frame.frameLength} bytes, the maximum is ${maxFrameLength}`
      })
    }
    return frame
  }

  /**
   * A request registered, then queued, as an entry of its own (so that a response can never arrive
   * for an unknown opaque); or the error it resolves to at once when it cannot be (the channel has
   * closed, no time is left, the frame is too large). `onDone` is its completion.
   */
  const register = (
    request: RemotingCommand.RemotingCommand,
    startedAt: number,
    timeoutMillis: number,
    onDone: (exit: Exit.Exit<RemotingCommand.RemotingCommand, ChannelError>) => void
  ): ChannelError | Outbound => {
    const closeReason = core.closeReason
    if (closeReason !== undefined) return closedBeforeQueued(address, request.code, -1, closeReason)
    const opaque = freshOpaque()
    if (!(timeoutMillis > 0)) return new RequestTimeout({ address, requestCode: request.code, opaque, timeoutMillis, written: false })
    const frame = prepare(request, opaque)
    if (frame instanceof ChannelSendRequestFailed) return frame
    const entry = new Outbound(frame, request.code, opaque, startedAt, timeoutMillis, onDone)
    table.register(entry)
    queue.offerOrPark(entry)
    return entry
  }

  // One request: registered and queued, with its deadline scheduled. Returns the interrupt handler,
  // which completes (removes) the entry, which the queue then skips; or nothing when `resume` was
  // called at once.
  const start = (
    request: RemotingCommand.RemotingCommand,
    timeoutMillis: number,
    span: Tracer.Span | undefined,
    resume: (effect: Effect.Effect<RemotingCommand.RemotingCommand, ChannelError>) => void
  ): Effect.Effect<void> | undefined => {
    const entry = register(request, clock.currentTimeMillisUnsafe(), timeoutMillis, resume)
    if (!(entry instanceof Outbound)) {
      resume(Effect.fail(entry))
      return undefined
    }
    const opaque = entry.opaque
    span?.attribute("rocketmq.opaque", opaque)
    settings.scheduleDeadline(entry.deadline)
    return Effect.sync(() => {
      table.complete(opaque, Exit.interrupt())
    })
  }

  const traced = (request: RemotingCommand.RemotingCommand, timeoutMillis: number) =>
    Effect.useSpan(
      "Channel.sendWaitResponse",
      { attributes: { "rocketmq.code": request.code, "rocketmq.address": address } },
      (span) =>
        Effect.callback<RemotingCommand.RemotingCommand, ChannelError>((resume) => start(request, timeoutMillis, span, resume))
    )

  // One Effect.callback per call and nothing around it: the caller's fiber holds this effect (and
  // what its closure captures) for as long as the request is pending. A traced fiber (rare) is
  // resumed at once with the call inside its span.
  const sendWaitResponse = (
    request: RemotingCommand.RemotingCommand,
    timeoutMillis?: number | undefined
  ): Effect.Effect<RemotingCommand.RemotingCommand, ChannelError> =>
    Effect.callback<RemotingCommand.RemotingCommand, ChannelError>((resume) => {
      const timeout = timeoutMillis ?? defaultTimeoutMillis
      const fiber = Fiber.getCurrent()
      if (fiber !== undefined && isTraced(fiber)) return resume(traced(request, timeout))
      return start(request, timeout, undefined, resume)
    })

  // Every request is registered and queued at once, each an entry of its own in the table: its own
  // opaque, deadline and exactly-once completion, as if sent alone. The caller's fiber suspends once
  // and is resumed once, by whichever completion is the last; interrupting it completes (removes)
  // every entry still pending.
  const sendWaitResponseAll = (
    requests: ReadonlyArray<RemotingCommand.RemotingCommand>,
    timeoutMillis?: number | undefined
  ): Effect.Effect<Array<Result.Result<RemotingCommand.RemotingCommand, ChannelError>>> =>
    Effect.callback<Array<Result.Result<RemotingCommand.RemotingCommand, ChannelError>>>((resume) => {
      const n = requests.length
      const results = new Array<Result.Result<RemotingCommand.RemotingCommand, ChannelError>>(n)
      const timeout = timeoutMillis ?? defaultTimeoutMillis
      const startedAt = clock.currentTimeMillisUnsafe()
      const entries: Array<Outbound> = []
      let remaining = n
      let interrupted = false
      const settleOne = (i: number, result: Result.Result<RemotingCommand.RemotingCommand, ChannelError>) => {
        results[i] = result
        if (--remaining === 0 && !interrupted) resume(Effect.succeed(results))
      }
      for (let i = 0; i < n; i++) {
        const registered = register(requests[i]!, startedAt, timeout, (exit) => {
          if (exit._tag === "Success") return settleOne(i, Result.succeed(exit.value))
          const error = errorOf(exit) // only the interrupt handler below completes with an interruption
          if (error !== undefined) settleOne(i, Result.fail(error))
        })
        if (registered instanceof Outbound) entries.push(registered)
        else settleOne(i, Result.fail(registered))
      }
      if (n === 0) return resume(Effect.succeed(results))
      if (entries.length === 0) return
      settings.scheduleDeadline(startedAt + timeout)
      return Effect.sync(() => {
        interrupted = true
        for (const entry of entries) if (entry.stage !== DONE) table.complete(entry.opaque, Exit.interrupt())
      })
    })

  /** Queues `command` with its own opaque, waiting up to `timeoutMillis` for room. */
  const enqueue = (
    command: RemotingCommand.RemotingCommand,
    timeoutMillis: number
  ): Effect.Effect<void, ChannelSendRequestFailed | ChannelClosed> =>
    Effect.suspend(() => {
      const opaque = command.opaque
      if (core.closeReason !== undefined) return Effect.fail(closedBeforeQueued(address, command.code, opaque, core.closeReason))
      const frame = prepare(command, opaque)
      if (frame instanceof ChannelSendRequestFailed) return Effect.fail(frame)
      const item = new Outbound(frame, command.code, opaque, clock.currentTimeMillisUnsafe(), timeoutMillis, undefined)
      return queue.offer(item, timeoutMillis)
    })

  const sendOneway = (request: RemotingCommand.RemotingCommand, timeoutMillis?: number | undefined) =>
    Effect.suspend(() =>
      enqueue(
        RemotingCommand.markOneway(RemotingCommand.withOpaque(request, freshOpaque())),
        timeoutMillis ?? defaultTimeoutMillis
      )
    )

  const send = (command: RemotingCommand.RemotingCommand, timeoutMillis?: number | undefined) =>
    Effect.suspend(() =>
      enqueue(
        RemotingCommand.isResponse(command) ? command : RemotingCommand.withOpaque(command, freshOpaque()),
        timeoutMillis ?? defaultTimeoutMillis
      )
    )

  return { sendWaitResponse, sendWaitResponseAll, sendOneway, send }
}
