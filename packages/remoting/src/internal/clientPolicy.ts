/**
 * The client's one call path and its policy, on top of the channel pool: a permit, the channel,
 * hooks, the deadline, and what each outcome means — `ChannelClosed` evicts the channel, GO_AWAY
 * retires it and sends the request once more (to the same address, or to the next name server).
 *
 * Every call — `invoke`, `invokeNameServer`, `invokeOneway`, `send` — goes through
 * {@link Policy.exchange} (or its oneway twin), so each rule is written once. The uncontended case
 * costs no more than a hand-inlined path: the permit and the channel are each taken synchronously
 * when free (see the measurement in `RemotingClient.ts`).
 *
 * @internal
 */
import { Effect } from "effect"
import type * as Channel from "../Channel.ts"
import type { ChannelPoolShape, Endpoint, Lease } from "../ChannelPool.ts"
import type * as NameServerSelector from "../NameServerSelector.ts"
import * as RemotingCommand from "../RemotingCommand.ts"
import { type ConnectBackoff, type ConnectError, GoAway, NameServerUnavailable, TooManyRequests } from "../RemotingError.ts"
import type { RemotingClientError } from "../RemotingClient.ts"
import * as ResponseCode from "../ResponseCode.ts"
import * as RpcHook from "../RpcHook.ts"
import type { Permits } from "./permits.ts"

/** The request as sent (hooks applied) and its response. */
interface Exchanged {
  readonly request: RemotingCommand.RemotingCommand
  readonly response: RemotingCommand.RemotingCommand
}

/** @internal */
export interface PolicyOptions {
  readonly pool: ChannelPoolShape
  readonly invokePermits: Permits
  readonly onewayPermits: Permits
  /** In the order they run (`RpcHook.order`). */
  readonly hooks: ReadonlyArray<RpcHook.RpcHook>
  readonly reconnectOnGoAway: boolean
  readonly now: () => number
}

/** @internal */
export interface Policy {
  readonly invoke: (
    endpoint: Endpoint,
    request: RemotingCommand.RemotingCommand,
    timeout: number
  ) => Effect.Effect<RemotingCommand.RemotingCommand, RemotingClientError>
  readonly invokeNameServer: (
    walk: NameServerSelector.Walk,
    request: RemotingCommand.RemotingCommand,
    timeout: number,
    chosen: string
  ) => Effect.Effect<RemotingCommand.RemotingCommand, RemotingClientError>
  readonly enqueue: (
    kind: "oneway" | "send",
    endpoint: Endpoint,
    command: RemotingCommand.RemotingCommand,
    timeout: number
  ) => Effect.Effect<void, RemotingClientError>
}

/** @internal */
export const make = (options: PolicyOptions): Policy => {
  const { pool, invokePermits, onewayPermits, hooks, reconnectOnGoAway, now } = options
  const hasBefore = hooks.some((hook) => hook.beforeRequest !== undefined)
  const hasAfter = hooks.some((hook) => hook.afterResponse !== undefined)

  const before = (address: string, request: RemotingCommand.RemotingCommand) =>
    hasBefore ? RpcHook.runBeforeRequest(hooks, address, request) : Effect.succeed(request)

  const after = (endpoint: Endpoint, { request, response }: Exchanged) =>
    hasAfter ? RpcHook.runAfterResponse(hooks, endpoint.key, request, response) : Effect.succeed(response)

  const tooMany = (address: string, requestCode: number, kind: "invoke" | "oneway", timeoutMillis: number) => () =>
    new TooManyRequests({
      address,
      requestCode,
      kind,
      permits: (kind === "invoke" ? invokePermits : onewayPermits).total,
      timeoutMillis
    })

  /** A channel a call saw closed is never handed out again (if it is still the current one). */
  const evictIfClosed = (lease: Lease) => (error: { readonly _tag: string }) =>
    Effect.sync(() => {
      if (error._tag === "ChannelClosed") pool.evict(lease)
    })

  /**
   * One request on the current channel to `endpoint`: before-hooks (unless `hooked`: a retry sends
   * what the hooks made the first time), then the request under the call's deadline. A GO_AWAY
   * answer retires the channel; it is returned as it is, for the caller to decide.
   */
  const exchange = (
    endpoint: Endpoint,
    request: RemotingCommand.RemotingCommand,
    hooked: boolean,
    deadline: number,
    waitCap: number
  ) =>
    pool.withChannel(endpoint, request.code, deadline, waitCap, (lease) => {
      const send = (prepared: RemotingCommand.RemotingCommand) =>
        lease.channel.sendWaitResponse(prepared, deadline - now()).pipe(
          Effect.tapError(evictIfClosed(lease)),
          Effect.map((response): Exchanged => {
            if (response.code === ResponseCode.GO_AWAY) pool.retire(lease)
            return { request: prepared, response }
          })
        )
      return hooked || !hasBefore ? send(request) : Effect.flatMap(before(endpoint.key, request), send)
    })

  const isGoAway = (exchanged: Exchanged) => exchanged.response.code === ResponseCode.GO_AWAY

  // GO_AWAY: the peer did not process the request. Reconnect (the pool opens a new channel, whose
  // opaques start elsewhere) and send it once more with what is left of the budget.
  const invoke = (
    endpoint: Endpoint,
    request: RemotingCommand.RemotingCommand,
    timeout: number
  ): Effect.Effect<RemotingCommand.RemotingCommand, RemotingClientError> => {
    const deadline = now() + timeout
    const goAway = (retried: boolean) => new GoAway({ address: endpoint.key, requestCode: request.code, retried })
    return invokePermits.with(
      timeout,
      tooMany(endpoint.key, request.code, "invoke", timeout),
      Effect.flatMap(
        exchange(endpoint, request, false, deadline, Infinity),
        (first): Effect.Effect<RemotingCommand.RemotingCommand, RemotingClientError> => {
          if (!isGoAway(first)) return after(endpoint, first)
          if (!reconnectOnGoAway) return Effect.fail(goAway(false))
          return Effect.flatMap(
            exchange(endpoint, first.request, true, deadline, Infinity),
            (second): Effect.Effect<RemotingCommand.RemotingCommand, RemotingClientError> =>
              isGoAway(second) ? Effect.fail(goAway(true)) : after(endpoint, second)
          )
        }
      )
    )
  }

  // Only connect errors fail over: once a request was sent it is not sent again elsewhere.
  const invokeNameServer = (
    walk: NameServerSelector.Walk,
    request: RemotingCommand.RemotingCommand,
    timeout: number,
    chosen: string
  ) => {
    const deadline = now() + timeout
    const errors: Array<ConnectError | ConnectBackoff> = []
    const step = (
      prepared: RemotingCommand.RemotingCommand | undefined
    ): Effect.Effect<RemotingCommand.RemotingCommand, RemotingClientError> => {
      const turn = walk.next(now())
      if (turn === undefined) return Effect.fail(new NameServerUnavailable({ requestCode: request.code, errors }))
      return exchange(turn.endpoint, prepared ?? request, prepared !== undefined, deadline, turn.waitCap).pipe(
        Effect.matchEffect({
          onFailure: (error): Effect.Effect<RemotingCommand.RemotingCommand, RemotingClientError> => {
            if (error._tag !== "ConnectError" && error._tag !== "ConnectBackoff") return Effect.fail(error)
            errors.push(error)
            walk.failed(turn)
            return step(prepared)
          },
          onSuccess: (exchanged) => {
            if (!isGoAway(exchanged)) {
              walk.answered(turn)
              return after(turn.endpoint, exchanged)
            }
            if (!reconnectOnGoAway || prepared !== undefined) {
              walk.answered(turn)
              const retried = prepared !== undefined
              return Effect.fail(new GoAway({ address: turn.endpoint.key, requestCode: request.code, retried }))
            }
            walk.goAway(turn)
            return step(exchanged.request)
          }
        })
      )
    }
    return invokePermits.with(timeout, tooMany(chosen, request.code, "invoke", timeout), Effect.suspend(() => step(undefined)))
  }

  // A response keeps its opaque and runs no hooks (it answers the peer's request); anything else is
  // a request and runs the before-hooks.
  const enqueue = (
    kind: "oneway" | "send",
    endpoint: Endpoint,
    command: RemotingCommand.RemotingCommand,
    timeout: number
  ): Effect.Effect<void, RemotingClientError> => {
    const deadline = now() + timeout
    const runHooks = kind === "oneway" || !RemotingCommand.isResponse(command)
    const write = (channel: Channel.ChannelShape, prepared: RemotingCommand.RemotingCommand) =>
      kind === "oneway" ? channel.sendOneway(prepared, deadline - now()) : channel.send(prepared, deadline - now())
    return onewayPermits.with(
      timeout,
      tooMany(endpoint.key, command.code, "oneway", timeout),
      pool.withChannel(endpoint, command.code, deadline, Infinity, (lease) =>
        (runHooks ? before(endpoint.key, command) : Effect.succeed(command)).pipe(
          Effect.flatMap((prepared) =>
            write(lease.channel, prepared).pipe(Effect.tapError(evictIfClosed(lease)))
          )
        ))
    )
  }

  return { invoke, invokeNameServer, enqueue }
}
