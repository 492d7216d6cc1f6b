/**
 * Where a consumer starts on a queue it was just assigned (Java's
 * `computePullFromWhereWithException`): the group's stored offset when there is one; otherwise
 * the `consumeFromWhere` rule; and nothing at all this round when the stored offset could not be
 * read (a failed query is not "no offset": treating it so would move the group to its first or
 * last offset and re-consume or skip data).
 *
 * | consumeFromWhere | none stored, normal topic | none stored, `%RETRY%` topic |
 * | --- | --- | --- |
 * | last offset (default) | the queue's max offset | 0 |
 * | first offset | 0 (an OFFSET_ILLEGAL answer later moves it to the min offset) | 0 |
 * | timestamp | the offset at `consumeTimestamp` | the queue's max offset |
 *
 * Note the broker's part: for a group with no stored offset on a queue whose first message is
 * still in memory, the broker answers offset 0 rather than "none", so a new group on a young topic
 * starts from the beginning whatever `consumeFromWhere` says.
 *
 * {@link decide} is the pure rule; {@link compute} runs it against the cluster.
 *
 * @internal
 */
import { Effect } from "effect"
import type * as MessageQueue from "../../MessageQueue.ts"
import type { Ctx } from "./context.ts"
import type * as OffsetStore from "./offsetStore.ts"
import type { PortError } from "./port.ts"
import { isRetryTopic } from "./subscription.ts"

/** @internal */
export type ConsumeFromWhere = "LAST_OFFSET" | "FIRST_OFFSET" | "TIMESTAMP"

/** @internal */
export type Start<E> =
  | { readonly _tag: "Offset"; readonly offset: bigint }
  | { readonly _tag: "MaxOffset" }
  | { readonly _tag: "Timestamp" }
  | { readonly _tag: "Unknown"; readonly error: E | string }

/** @internal */
export const decide = <E>(
  stored: OffsetStore.ReadResult<E>,
  from: ConsumeFromWhere,
  retryTopic: boolean
): Start<E> => {
  if (stored._tag === "Failed") return { _tag: "Unknown", error: stored.error }
  if (stored._tag === "Found" && stored.offset >= 0n) return { _tag: "Offset", offset: stored.offset }
  if (stored._tag === "Found" && stored.offset !== -1n) {
    return { _tag: "Unknown", error: `the stored offset ${stored.offset} is negative` }
  }
  switch (from) {
    case "LAST_OFFSET":
      return retryTopic ? { _tag: "Offset", offset: 0n } : { _tag: "MaxOffset" }
    case "FIRST_OFFSET":
      return { _tag: "Offset", offset: 0n }
    case "TIMESTAMP":
      return retryTopic ? { _tag: "MaxOffset" } : { _tag: "Timestamp" }
  }
}

/**
 * Where to start pulling `queue`: forgets any stale memory offset (Java's `removeDirtyOffset`),
 * reads the stored one, and applies {@link decide}. Fails when the stored offset is unknown or the
 * broker cannot answer the max-offset / timestamp query; the queue is then not started this round.
 *
 * @internal
 */
export const compute = (ctx: Ctx, queue: MessageQueue.MessageQueue): Effect.Effect<bigint, PortError | string> =>
  Effect.gen(function*() {
    ctx.store.remove(queue)
    const stored = yield* ctx.store.readStore(queue)
    const start = decide(stored, ctx.config.consumeFromWhere, isRetryTopic(queue.topic))
    switch (start._tag) {
      case "Offset":
        return start.offset
      case "MaxOffset":
        return yield* ctx.port.maxOffset(queue)
      case "Timestamp":
        return yield* ctx.port.searchOffset(queue, ctx.config.consumeTimestamp)
      case "Unknown":
        return yield* Effect.fail(start.error)
    }
  })
