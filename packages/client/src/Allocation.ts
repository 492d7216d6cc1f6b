/**
 * How the members of a consumer group split a topic's queues among themselves (clustering mode).
 *
 * Every member computes its own share from the same two lists — every queue of the topic and
 * every client id of the group, both sorted — so the shares only fit together (no queue twice, none
 * left out) when every member runs the same strategy on the same lists. {@link averagely} is the
 * Java client's default (`AllocateMessageQueueAveragely`, name `"AVG"`) and gives the same share
 * as Java for every input, which is what lets our consumers and Java's share one group;
 * {@link averagelyByCircle} is Java's `AllocateMessageQueueAveragelyByCircle` (`"AVG_BY_CIRCLE"`).
 *
 * A strategy receives both lists already sorted (queues by topic, broker name and numeric queue
 * id; client ids as strings, by UTF-16 code unit, like Java's `String.compareTo`): sorting is the
 * caller's job ({@link sortClientIds}). Empty input is an {@link AllocationError} (Java throws,
 * and the rebalance round changes nothing); a client id missing from the list gets an empty share
 * (Java's rule: the broker has not seen this member's heartbeat yet). Pure; no I/O.
 *
 * @since 0.1.0
 */
import { Result, Schema } from "effect"

/**
 * What a strategy is given.
 *
 * @since 0.1.0
 * @category models
 */
export interface AllocateInput<A> {
  readonly consumerGroup: string
  /** This member's client id. */
  readonly clientId: string
  /** Every queue of the topic, sorted. */
  readonly queues: ReadonlyArray<A>
  /** Every client id of the group, sorted. */
  readonly clientIds: ReadonlyArray<string>
}

/**
 * Why a share could not be computed. The caller keeps its current queues for this round.
 *
 * @since 0.1.0
 * @category errors
 */
export class AllocationError extends Schema.TaggedError<AllocationError>()("AllocationError", {
  consumerGroup: Schema.String,
  strategy: Schema.String,
  reason: Schema.Literals(["EmptyClientId", "NoQueues", "NoConsumers"])
}) {
  override get message(): string {
    const what = this.reason === "EmptyClientId"
      ? "this client's id is empty"
      : this.reason === "NoQueues"
      ? "the topic has no readable queue (check its route and perm)"
      : "the broker lists no consumer in the group (the heartbeat may not have reached it yet)"
    return `Cannot allocate queues of group ${JSON.stringify(this.consumerGroup)} with strategy ${this.strategy}: ` +
      `${what}. The current assignment is kept; the next rebalance tries again.`
  }

  /** The next rebalance round may succeed. */
  get isRetryable(): boolean {
    return this.reason !== "EmptyClientId"
  }

  /** Nothing is sent: allocation is local. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
}

/**
 * A way to split queues. `allocate` must be a pure function of its input, and every member of
 * a group must use the same one.
 *
 * @since 0.1.0
 * @category models
 */
export interface Strategy {
  /** Java's `getName()`, reported in consumer running info. */
  readonly name: string
  readonly allocate: <A>(input: AllocateInput<A>) => Result.Result<ReadonlyArray<A>, AllocationError>
}

const check = <A>(
  name: string,
  input: AllocateInput<A>
): Result.Result<number, AllocationError> => {
  const fail = (reason: AllocationError["reason"]) =>
    Result.fail(new AllocationError({ consumerGroup: input.consumerGroup, strategy: name, reason }))
  if (input.clientId.length === 0) return fail("EmptyClientId")
  if (input.queues.length === 0) return fail("NoQueues")
  if (input.clientIds.length === 0) return fail("NoConsumers")
  return Result.succeed(input.clientIds.indexOf(input.clientId))
}

/**
 * Java's `AllocateMessageQueueAveragely`: consecutive ranges of the sorted queues, the first
 * `queues % clients` members taking one queue more. With more members than queues, the first
 * `queues` members take one each and the rest none. E.g. 8 queues over 3 members: `0,1,2 | 3,4,5 | 6,7`.
 *
 * @since 0.1.0
 * @category strategies
 */
export const averagely: Strategy = {
  name: "AVG",
  allocate: <A>(input: AllocateInput<A>) =>
    Result.map(check("AVG", input), (index): ReadonlyArray<A> => {
      if (index < 0) return []
      const queues = input.queues.length
      const clients = input.clientIds.length
      const mod = queues % clients
      const base = Math.floor(queues / clients)
      const averageSize = queues <= clients ? 1 : mod > 0 && index < mod ? base + 1 : base
      const start = mod > 0 && index < mod ? index * averageSize : index * averageSize + mod
      const range = Math.min(averageSize, queues - start)
      return range <= 0 ? [] : input.queues.slice(start, start + range)
    })
}

/**
 * Java's `AllocateMessageQueueAveragelyByCircle`: member `i` of `n` takes queues `i, i + n,
 * i + 2n, …`. E.g. 8 queues over 3 members: `0,3,6 | 1,4,7 | 2,5`.
 *
 * @since 0.1.0
 * @category strategies
 */
export const averagelyByCircle: Strategy = {
  name: "AVG_BY_CIRCLE",
  allocate: <A>(input: AllocateInput<A>) =>
    Result.map(check("AVG_BY_CIRCLE", input), (index): ReadonlyArray<A> => {
      if (index < 0) return []
      const out: Array<A> = []
      for (let i = index; i < input.queues.length; i += input.clientIds.length) out.push(input.queues[i]!)
      return out
    })
}

/**
 * Client ids in the order every member must see them: Java's `String.compareTo` (UTF-16 code
 * units, so `"10.0.0.10@…"` sorts before `"10.0.0.9@…"`). Duplicates are kept, as the broker
 * lists one entry per connection.
 *
 * @since 0.1.0
 * @category ordering
 */
export const sortClientIds = (clientIds: ReadonlyArray<string>): ReadonlyArray<string> =>
  [...clientIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
