/**
 * How the server answers one request: the processor registered for its code (or the default
 * one), inbound hooks around it, Java's answers for what has no processor, GO_AWAY while shutting
 * down, SYSTEM_ERROR for failures.
 *
 * @internal
 */
import { Cause, type Context, Effect } from "effect"
import * as Channel from "../Channel.ts"
import * as RemotingCommand from "../RemotingCommand.ts"
import { describeCause, RpcHookFailed } from "../RemotingError.ts"
import type { Processor, ProcessorContext, Processors } from "../RemotingServer.ts"
import * as ResponseCode from "../ResponseCode.ts"
import * as RpcHook from "../RpcHook.ts"
import type { LiveConnection } from "./serverConnection.ts"

/** Processors by code, whichever form they were given in. */
const processorTable = <R>(processors: Processors<R> | undefined): Map<number, Processor<R>> => {
  const table = new Map<number, Processor<R>>()
  if (processors === undefined) return table
  if (processors instanceof Map) {
    for (const [code, processor] of processors) table.set(code | 0, processor)
    return table
  }
  const record = processors as { readonly [code: string]: Processor<R> }
  for (const key of Object.keys(record)) {
    const code = Number(key)
    if (Number.isInteger(code)) table.set(code | 0, record[key]!)
  }
  return table
}

/** The SYSTEM_ERROR answer: a hook's failure is described by the hook's own error. */
const systemError = (request: RemotingCommand.RemotingCommand, cause: Cause.Cause<unknown>) => {
  const error = Cause.squash(cause)
  const remark = error instanceof RpcHookFailed ? error.detail : describeCause(cause)
  return RemotingCommand.response(request, ResponseCode.SYSTEM_ERROR, remark)
}

/**
 * The dispatcher for a server's options: `handle` answers a request from a connection and counts
 * it in flight until its answer is queued. `isShuttingDown` is read per request; `context` is what
 * processors run with.
 *
 * @internal
 */
export const make = <R>(options: {
  readonly processors: Processors<R> | undefined
  readonly defaultProcessor: Processor<R> | undefined
  readonly hooks: ReadonlyArray<RpcHook.RpcHook>
  readonly context: Context.Context<R>
  readonly isShuttingDown: () => boolean
  readonly understandsGoAway: (request: RemotingCommand.RemotingCommand) => boolean
  readonly goAway: (request: RemotingCommand.RemotingCommand) => RemotingCommand.RemotingCommand
  /** Runs when a request is done (answered and queued, or dropped). */
  readonly onSettled: () => void
}) => {
  const processors = processorTable(options.processors)
  const { defaultProcessor, hooks, context } = options

  const runProcessor = (
    processor: Processor<R>,
    request: RemotingCommand.RemotingCommand,
    ctx: ProcessorContext
  ): Effect.Effect<RemotingCommand.RemotingCommand | undefined> =>
    RpcHook.runBeforeRequest(hooks, ctx.remoteAddress, request).pipe(
      Effect.flatMap((before) =>
        Effect.flatMap(processor(before, ctx), (response) =>
          response === undefined ? Effect.succeed(undefined) : RpcHook.runAfterResponse(hooks, ctx.remoteAddress, before, response))
      ),
      Effect.provideContext(context),
      Effect.catchCause((cause) =>
        Cause.hasInterruptsOnly(cause)
          ? Effect.failCause(cause as Cause.Cause<never>)
          : Effect.as(
            Effect.logWarning(
              `Processor for request code ${request.code} from ${ctx.remoteAddress} failed; answering SYSTEM_ERROR`,
              cause
            ),
            systemError(request, cause)
          )
      )
    )

  // Unknown codes are answered before any hook runs, and before GO_AWAY, as Java does.
  const dispatch = (
    request: RemotingCommand.RemotingCommand,
    ctx: ProcessorContext
  ): Effect.Effect<RemotingCommand.RemotingCommand | undefined> => {
    const processor = processors.get(request.code) ?? defaultProcessor
    if (processor === undefined) return Effect.succeed(Channel.notSupported(request))
    if (options.isShuttingDown() && options.understandsGoAway(request)) return Effect.succeed(options.goAway(request))
    return runProcessor(processor, request, ctx)
  }

  let inFlight = 0

  // The response is enqueued here (with the channel's public `send`) rather than returned to the
  // channel, so that a request stops counting as in flight only once its answer is queued: shutdown
  // then knows that "nothing in flight, queues empty, no write running" means every answer is out.
  const handle = (request: RemotingCommand.RemotingCommand, live: LiveConnection): Effect.Effect<undefined> =>
    Effect.suspend(() => {
      inFlight++
      live.inFlight++
      const { channel, remoteAddress } = live.connection
      return dispatch(request, { remoteAddress, connection: live.connection }).pipe(
        Effect.flatMap((response) =>
          response === undefined || RemotingCommand.isOneway(request)
            ? Effect.void
            : channel.send(RemotingCommand.withOpaque(RemotingCommand.markResponse(response), request.opaque)).pipe(
              Effect.catch((error) =>
                Effect.logDebug(`Could not answer ${RemotingCommand.describe(request)} from ${remoteAddress}`, error)
              )
            )
        ),
        Effect.ensuring(Effect.sync(() => {
          inFlight--
          live.inFlight--
          options.onSettled()
        })),
        Effect.as(undefined)
      )
    })

  return { handle, inFlight: () => inFlight }
}
