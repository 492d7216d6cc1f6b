/**
 * The two ways to read a consumer engine, `run` and `stream`, and the service shape built on them.
 *
 * - `stream`: one element per message, each to be settled with `ack` / `nack`. It pulls from the
 *   bounded hand-off queue only when the downstream asks, so a slow downstream stops the pullers.
 *   It ends when the consumer closes.
 * - `run(handler)`: `concurrency` workers (20, Java's `consumeThreadMax`) take messages and run the
 *   handler: success acknowledges, failure nacks (retry, DLQ), interruption hands the message out
 *   again. A handler may settle the message itself first (e.g. `nack` with a delay level); the
 *   first settlement wins. It returns when the consumer closes.
 *
 * @internal
 */
import { Cause, Effect, Exit, Queue, Stream } from "effect"
import type { ConsumerShape, Delivery, RunOptions } from "../../Consumer.ts"
import * as MessageQueue from "../../MessageQueue.ts"
import { type Item, nack } from "./context.ts"
import type { Engine } from "./engine.ts"
import * as Tracing from "../tracing.ts"

/** @internal: Java's `consumeThreadMax`. */
export const DEFAULT_CONCURRENCY = 20

// How a handler's failure settles its message: an interruption from inside the handler hands it
// out again unchanged; any other failure is logged and nacked (retry, DLQ).
const failed = (group: string, item: Item, cause: Cause.Cause<unknown>): Effect.Effect<void> =>
  Cause.hasInterruptsOnly(cause)
    ? item.abandon
    : Effect.andThen(
      Effect.logWarning(
        `The handler of group ${group} failed on message ${item.message.msgId} (reconsumeTimes ` +
          `${item.message.reconsumeTimes}); it will be retried`,
        cause
      ),
      item.settle(nack(undefined, true))
    )

/**
 * One of `run`'s workers: a long-lived fiber that takes the next item, runs the handler on it and
 * settles it, until the hand-off queue ends.
 *
 * The per-message path is kept to the handler's own Effect and one fold (it was most of the
 * consumer's Effect-runtime time in `npm run bench:consumer` when each message also took a span
 * check, a suspend and an interruption guard of its own): an item already waiting is taken
 * synchronously (`Queue.takeUnsafe`), an acknowledgement settles synchronously, and the message
 * in hand is known to the worker, whose one interruption guard hands it out again if the worker
 * is interrupted mid-handler. Whether spans are made is decided once per worker (a fiber's tracer
 * does not change under it).
 */
const worker = <E, R>(
  engine: Engine,
  handler: (delivery: Delivery) => Effect.Effect<unknown, E, R>
): Effect.Effect<void, never, R> =>
  Effect.withFiber((fiber) => {
    const group = engine.ctx.config.group
    const handoff = engine.ctx.handoff
    const traced = Tracing.isTraced(fiber)
    const call = (item: Item): Effect.Effect<unknown, E, R> =>
      traced ? Effect.withSpan(handler(item), "Consumer.handle", { attributes: attributes(group, item) }) : handler(item)
    // The message whose handler is running, if any: the worker's interruption hands it back.
    let current: Item | undefined
    const onSuccess = (): Effect.Effect<void> => {
      const item = current!
      current = undefined
      item.ackUnsafe()
      return Effect.void
    }
    const onFailure = (cause: Cause.Cause<E>): Effect.Effect<void> => {
      const item = current!
      current = undefined
      return failed(group, item, cause)
    }
    const handle = (item: Item): Effect.Effect<void, never, R> => {
      // An item not claimed is held back: its queue left this member, whose new owner delivers it.
      if (!item.claim()) return Effect.void
      current = item
      return Effect.matchCauseEffect(Effect.suspend(() => call(item)), { onSuccess, onFailure })
    }
    const next: Effect.Effect<void, Cause.Done, R> = Effect.suspend(() => {
      const taken = Queue.takeUnsafe(handoff)
      if (taken === undefined) return Effect.flatMap(Queue.take(handoff), handle)
      return Exit.isSuccess(taken) ? handle(taken.value) : taken
    })
    return Effect.forever(next).pipe(
      Effect.onInterrupt(() => (current === undefined ? Effect.void : current.abandon)),
      Effect.catchIf(Cause.isDone, () => Effect.void)
    )
  })

const attributes = (group: string, item: Item) => ({
  "rocketmq.consumer_group": group,
  "rocketmq.topic": item.message.topic,
  "rocketmq.queue": MessageQueue.key(item.queue),
  "rocketmq.msg_id": item.message.msgId,
  "rocketmq.reconsume_times": item.message.reconsumeTimes
})

/** @internal */
export const fromEngine = (engine: Engine): ConsumerShape => {
  const group = engine.ctx.config.group
  const next: Effect.Effect<Item, Cause.Done> = engine.take
  return {
    consumerGroup: group,
    stream: Stream.fromEffectRepeat(next),
    run: <E, R>(handler: (delivery: Delivery) => Effect.Effect<unknown, E, R>, options?: RunOptions) => {
      const concurrency = options?.concurrency ?? DEFAULT_CONCURRENCY
      return Effect.forEach(Array.from({ length: Math.max(1, concurrency) }), () => worker(engine, handler), {
        concurrency: "unbounded",
        discard: true
      })
    },
    assignment: engine.assignment,
    persist: engine.persist
  }
}
