/**
 * What the channel's receive fiber does with each decoded command: a response completes its
 * pending request in the response table (or is counted as unmatched and dropped); a request from
 * the peer runs the channel's `RequestHandler` in a fiber of its own, and its answer is queued back.
 *
 * @internal
 */
import { Effect, Exit } from "effect"
import type { RequestHandlerShape } from "../Channel.ts"
import * as RemotingCommand from "../RemotingCommand.ts"
import { type ChannelClosed, type ChannelSendRequestFailed, describeCause } from "../RemotingError.ts"
import type { ResponseTableShape } from "../ResponseTable.ts"
import * as ResponseCode from "../ResponseCode.ts"

/** @internal */
export interface Inbound {
  /** Handles one command, in the order the peer sent them. */
  readonly onCommand: (command: RemotingCommand.RemotingCommand) => void
  /** Responses that matched no pending request so far. */
  readonly unmatched: () => number
}

/** @internal */
export const make = (options: {
  readonly address: string
  readonly table: ResponseTableShape
  readonly handler: RequestHandlerShape
  /** Forks into the channel's scope. */
  readonly runFork: (effect: Effect.Effect<unknown>) => unknown
  /** Queues a response as it is (it carries the request's opaque and the response bit). */
  readonly reply: (response: RemotingCommand.RemotingCommand) => Effect.Effect<void, ChannelSendRequestFailed | ChannelClosed>
}): Inbound => {
  const { address, table, handler, runFork, reply } = options
  let unmatched = 0

  const onUnmatched = (response: RemotingCommand.RemotingCommand) => {
    unmatched++
    runFork(
      Effect.logDebug(
        `Dropped a response from ${address} that matches no pending request (late after a timeout, duplicate, ` +
          `or for a send): ${RemotingCommand.describe(response)}`
      )
    )
  }

  // A handler failure is answered with SYSTEM_ERROR, as a Java processor's exception is; a oneway
  // request, or a handler that returns undefined, gets nothing.
  const onRequest = (request: RemotingCommand.RemotingCommand) => {
    runFork(
      handler.handle(request, { address }).pipe(
        Effect.catchCause((cause) =>
          Effect.succeed(RemotingCommand.response(request, ResponseCode.SYSTEM_ERROR, describeCause(cause)))
        ),
        Effect.flatMap((response) =>
          response === undefined || RemotingCommand.isOneway(request)
            ? Effect.void
            : reply(RemotingCommand.withOpaque(RemotingCommand.markResponse(response), request.opaque))
        ),
        Effect.catch((error) =>
          Effect.logWarning(`Could not answer request ${RemotingCommand.describe(request)} from ${address}`, error)
        )
      )
    )
  }

  const onCommand = (command: RemotingCommand.RemotingCommand) => {
    if ((command.flag & RemotingCommand.FLAG_RESPONSE) !== 0) {
      if (!table.complete(command.opaque, Exit.succeed(command))) onUnmatched(command)
    } else {
      onRequest(command)
    }
  }

  return { onCommand, unmatched: () => unmatched }
}
