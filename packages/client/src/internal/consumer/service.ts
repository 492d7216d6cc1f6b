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
import { Cause, Effect, Stream } from "effect"
import type { ConsumerShape, Delivery, RunOptions } from "../../Consumer.ts"
import * as MessageQueue from "../../MessageQueue.ts"
import { type Item, nack } from "./context.ts"
import type { Engine } from "./engine.ts"
import * as Tracing from "../tracing.ts"

/** @internal: Java's `consumeThreadMax`. */
export const DEFAULT_CONCURRENCY = 20

const handle = <E, R>(
  group: string,
  item: Item,
  handler: (delivery: Delivery) => Effect.Effect<unknown, E, R>
): Effect.Effect<void, never, R> =>
  Tracing.traced("Consumer.handle", () => ({
    "rocketmq.consumer_group": group,
    "rocketmq.topic": item.message.topic,
    "rocketmq.queue": MessageQueue.key(item.queue),
    "rocketmq.msg_id": item.message.msgId,
    "rocketmq.reconsume_times": item.message.reconsumeTimes
  }), Effect.suspend(() => handler(item))).pipe(
    Effect.matchCauseEffect({
      onSuccess: () => item.ack,
      onFailure: (cause) =>
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
    }),
    Effect.onInterrupt(() => item.abandon)
  )

/** @internal */
export const fromEngine = (engine: Engine): ConsumerShape => {
  const group = engine.ctx.config.group
  const next: Effect.Effect<Item, Cause.Done> = engine.take
  return {
    consumerGroup: group,
    stream: Stream.fromEffectRepeat(next),
    run: <E, R>(handler: (delivery: Delivery) => Effect.Effect<unknown, E, R>, options?: RunOptions) => {
      const worker = Effect.forever(Effect.flatMap(next, (item) => handle(group, item, handler))).pipe(
        Effect.catchIf(Cause.isDone, () => Effect.void)
      )
      const concurrency = options?.concurrency ?? DEFAULT_CONCURRENCY
      return Effect.forEach(Array.from({ length: Math.max(1, concurrency) }), () => worker, {
        concurrency: "unbounded",
        discard: true
      })
    },
    assignment: engine.assignment,
    persist: engine.persist
  }
}
