/**
 * The client's bulk call: many requests to one address, each with its own outcome, for one fiber
 * suspension instead of one per request (`Channel.sendWaitResponseAll` underneath).
 *
 * Each request follows the rules of a single `invoke` — a permit, the before-hooks, the one
 * deadline, `settle` (a closed channel is evicted, GO_AWAY retires it), GO_AWAY's one retry on a
 * new channel, the after-hooks — through the policy's own steps (`clientPolicy.ts`), so no rule is
 * written twice. What differs is the grouping: the permits are taken together, the channel is
 * leased once for all of them, and the requests go out in one bulk call.
 *
 * When the permits are not all free at once (other calls hold or wait for them), the call falls
 * back to one `invoke` per request, which waits for permits fairly as any call does.
 *
 * Not done here: splitting across addresses (the caller groups requests by address), and ordering
 * beyond the channel's (the requests are written in the order given).
 *
 * @internal
 */
import { Effect, Result } from "effect"
import type { AcquireError, ChannelPoolShape, Endpoint, Lease } from "../ChannelPool.ts"
import type * as RemotingCommand from "../RemotingCommand.ts"
import type { RemotingClientError } from "../RemotingClient.ts"
import type { Policy, Sent } from "./clientPolicy.ts"
import type { Permits } from "./permits.ts"

/** @internal */
export type Outcome = Result.Result<RemotingCommand.RemotingCommand, RemotingClientError>

/** @internal */
export interface BulkOptions {
  readonly pool: ChannelPoolShape
  readonly invokePermits: Permits
  readonly policy: Policy
  readonly now: () => number
}

/** What one bulk exchange left: each request as sent (after its hooks) and its outcome. */
interface Exchanged {
  readonly sent: ReadonlyArray<Sent>
  readonly outcomes: Array<Outcome>
}

/** @internal */
export const make = (options: BulkOptions) => {
  const { invokePermits, now, policy, pool } = options
  const { afterFirst, before, hasAfter, hasBefore, isGoAway, settleError, settleResponse } = policy.steps

  /** Before-hooks of each request; a request whose hooks fail gets that failure and is not sent. */
  const prepare = (endpoint: Endpoint, sent: ReadonlyArray<Sent>, outcomes: Array<Outcome | undefined>) =>
    hasBefore
      ? Effect.forEach(sent, (one, i) =>
        Effect.match(before(endpoint.key, one.request), {
          onFailure: (error) => {
            outcomes[i] = Result.fail(error)
          },
          onSuccess: (prepared) => {
            one.request = prepared
          }
        }), { discard: true })
      : Effect.void

  /** The requests on one leased channel, each outcome settled against the lease. */
  const exchange = (endpoint: Endpoint, requests: ReadonlyArray<RemotingCommand.RemotingCommand>, deadline: number) =>
  (lease: Lease): Effect.Effect<Exchanged> => {
    const sent: Array<Sent> = requests.map((request) => ({ request }))
    const early: Array<Outcome | undefined> = new Array(requests.length)
    return Effect.flatMap(prepare(endpoint, sent, early), () => {
      const going = early.some((o) => o !== undefined) ? sent.filter((_, i) => early[i] === undefined) : sent
      return Effect.map(
        lease.channel.sendWaitResponseAll(going.map((one) => one.request), deadline - now()),
        (answered): Exchanged => {
          let next = 0
          const outcomes = sent.map((_, i): Outcome => {
            const failed = early[i]
            if (failed !== undefined) return failed
            const outcome = answered[next++]!
            if (Result.isSuccess(outcome)) settleResponse(lease, outcome.success)
            else settleError(lease, outcome.failure)
            return outcome
          })
          return { sent, outcomes }
        }
      )
    })
  }

  /** GO_AWAY's retry and the after-hooks, for the answers that need them, after the lease is back. */
  const finish = (endpoint: Endpoint, deadline: number) => ({ outcomes, sent }: Exchanged): Effect.Effect<Array<Outcome>> => {
    const pending: Array<number> = []
    for (let i = 0; i < outcomes.length; i++) {
      const outcome = outcomes[i]!
      if (Result.isSuccess(outcome) && (hasAfter || isGoAway(outcome.success))) pending.push(i)
    }
    if (pending.length === 0) return Effect.succeed(outcomes)
    return Effect.as(
      Effect.forEach(pending, (i) =>
        Effect.map(
          Effect.result(afterFirst(endpoint, sent[i]!, deadline)((outcomes[i] as Result.Success<RemotingCommand.RemotingCommand, never>).success)),
          (outcome) => {
            outcomes[i] = outcome
          }
        ), { concurrency: "unbounded", discard: true }),
      outcomes
    )
  }

  const oneByOne = (endpoint: Endpoint, requests: ReadonlyArray<RemotingCommand.RemotingCommand>, timeout: number) =>
    Effect.forEach(requests, (request) => Effect.result(policy.invoke(endpoint, request, timeout)), { concurrency: "unbounded" })

  const failedAll = (requests: ReadonlyArray<RemotingCommand.RemotingCommand>) => (error: AcquireError): Exchanged => ({
    sent: requests.map((request) => ({ request })),
    outcomes: requests.map(() => Result.fail(error))
  })

  /**
   * Sends every request to `endpoint` under one deadline and resumes once with each outcome, in
   * the order of `requests`. Never fails: every error is a request's own outcome.
   */
  const invokeAll = (
    endpoint: Endpoint,
    requests: ReadonlyArray<RemotingCommand.RemotingCommand>,
    timeout: number
  ): Effect.Effect<Array<Outcome>> => {
    if (requests.length === 0) return Effect.succeed([])
    return Effect.uninterruptibleMask((restore) => {
      const n = requests.length
      if (!invokePermits.tryTakeMany(n)) return restore(oneByOne(endpoint, requests, timeout))
      const deadline = now() + timeout
      const done = finish(endpoint, deadline)
      // As `invoke`: a free open channel is leased synchronously and given back in this region;
      // otherwise the pool connects (or joins the connect under way), and a connect failure is
      // every request's outcome.
      const lease = pool.tryLease(endpoint.key)
      const exchanged = lease !== undefined
        ? restore(exchange(endpoint, requests, deadline)(lease)).pipe(Effect.onExit(() => pool.release(lease)))
        : restore(pool.withChannel(endpoint, requests[0]!.code, deadline, Infinity, exchange(endpoint, requests, deadline))).pipe(
          Effect.catch((error) => Effect.succeed(failedAll(requests)(error)))
        )
      return exchanged.pipe(
        Effect.flatMap((result) => restore(done(result))),
        Effect.onExit(() => Effect.sync(() => invokePermits.releaseMany(n)))
      )
    })
  }

  return { invokeAll }
}
