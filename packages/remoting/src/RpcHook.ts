/**
 * RPC hooks: code that sees every request before it goes out and every response when it comes
 * back, as Java's `RPCHook` (`doBeforeRequest` / `doAfterResponse`).
 *
 * Commands are immutable here, so a hook returns the request (or response) to continue with
 * instead of mutating it. Hooks run in registration order; a signing hook such as ACL's must see
 * the final ext fields, so it runs last.
 *
 * @since 0.1.0
 */
import { Cause, Effect } from "effect"
import type { RemotingCommand } from "./RemotingCommand.ts"
import { describeCause, RpcHookFailed } from "./RemotingError.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface RpcHook {
  /** For logs and error messages. */
  readonly name: string
  /** Runs before `request` is sent to (or, on a server, handled from) `address`. */
  readonly beforeRequest?:
    | ((address: string, request: RemotingCommand) => Effect.Effect<RemotingCommand, unknown>)
    | undefined
  /** Runs after a response to `request` arrived from (or, on a server, is sent to) `address`. */
  readonly afterResponse?:
    | ((address: string, request: RemotingCommand, response: RemotingCommand) => Effect.Effect<RemotingCommand, unknown>)
    | undefined
  /**
   * Run after every hook without it, whatever the registration order (a signer such as the ACL
   * hook sets this, so no ext field is added after the signature). Default false.
   */
  readonly runLast?: boolean | undefined
}

/**
 * The order hooks run in: registration order, except that hooks with `runLast` come after all the
 * others (among themselves, in registration order).
 *
 * @since 0.1.0
 * @category combinators
 */
export const order = (hooks: ReadonlyArray<RpcHook>): ReadonlyArray<RpcHook> => {
  if (!hooks.some((hook) => hook.runLast === true)) return hooks
  return [...hooks.filter((hook) => hook.runLast !== true), ...hooks.filter((hook) => hook.runLast === true)]
}

type Phase = "beforeRequest" | "afterResponse"

const failedIn = (hook: RpcHook, phase: Phase, address: string, requestCode: number) =>
(cause: Cause.Cause<unknown>): Effect.Effect<never, RpcHookFailed> =>
  Cause.hasInterruptsOnly(cause)
    ? Effect.failCause(cause as Cause.Cause<never>)
    : Effect.fail(new RpcHookFailed({ hook: hook.name, phase, address, requestCode, detail: describeCause(cause) }))

/** Threads `initial` through the hooks that have `phase`, in {@link order}. */
const runPhase = (
  hooks: ReadonlyArray<RpcHook>,
  phase: Phase,
  address: string,
  requestCode: number,
  initial: RemotingCommand,
  stepOf: (hook: RpcHook) => ((current: RemotingCommand) => Effect.Effect<RemotingCommand, unknown>) | undefined
): Effect.Effect<RemotingCommand, RpcHookFailed> => {
  let effect: Effect.Effect<RemotingCommand, RpcHookFailed> = Effect.succeed(initial)
  for (const hook of order(hooks)) {
    const step = stepOf(hook)
    if (step === undefined) continue
    effect = Effect.flatMap(effect, (current) =>
      Effect.suspend(() => step(current)).pipe(Effect.catchCause(failedIn(hook, phase, address, requestCode))))
  }
  return effect
}

/**
 * Runs the `beforeRequest` of every hook in order (see {@link order}: `runLast` hooks last),
 * threading the request through. A hook that fails, dies or throws stops the chain with
 * {@link RpcHookFailed} naming it (its `detail` describes the hook's own failure); interruption
 * passes through.
 *
 * @since 0.1.0
 * @category combinators
 */
export const runBeforeRequest = (
  hooks: ReadonlyArray<RpcHook>,
  address: string,
  request: RemotingCommand
): Effect.Effect<RemotingCommand, RpcHookFailed> =>
  runPhase(hooks, "beforeRequest", address, request.code, request, (hook) => {
    const before = hook.beforeRequest
    return before === undefined ? undefined : (current) => before(address, current)
  })

/**
 * Runs the `afterResponse` of every hook in order (see {@link order}), threading the response
 * through; failures as in {@link runBeforeRequest}.
 *
 * @since 0.1.0
 * @category combinators
 */
export const runAfterResponse = (
  hooks: ReadonlyArray<RpcHook>,
  address: string,
  request: RemotingCommand,
  response: RemotingCommand
): Effect.Effect<RemotingCommand, RpcHookFailed> =>
  runPhase(hooks, "afterResponse", address, request.code, response, (hook) => {
    const after = hook.afterResponse
    return after === undefined ? undefined : (current) => after(address, request, current)
  })
