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
import { Effect } from "effect"
import type { RemotingCommand } from "./RemotingCommand.ts"

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

/**
 * Runs the `beforeRequest` of every hook in order (see {@link order}: `runLast` hooks last),
 * threading the request through.
 *
 * @since 0.1.0
 * @category combinators
 */
export const runBeforeRequest = (
  hooks: ReadonlyArray<RpcHook>,
  address: string,
  request: RemotingCommand
): Effect.Effect<RemotingCommand, unknown> =>
  hooks.length === 0
    ? Effect.succeed(request)
    : Effect.reduce(order(hooks), () => request, (current, hook) =>
      hook.beforeRequest === undefined ? Effect.succeed(current) : hook.beforeRequest(address, current))

/**
 * Runs the `afterResponse` of every hook in order (see {@link order}), threading the response
 * through.
 *
 * @since 0.1.0
 * @category combinators
 */
export const runAfterResponse = (
  hooks: ReadonlyArray<RpcHook>,
  address: string,
  request: RemotingCommand,
  response: RemotingCommand
): Effect.Effect<RemotingCommand, unknown> =>
  hooks.length === 0
    ? Effect.succeed(response)
    : Effect.reduce(order(hooks), () => response, (current, hook) =>
      hook.afterResponse === undefined ? Effect.succeed(current) : hook.afterResponse(address, request, current))
