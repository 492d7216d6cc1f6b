/**
 * The client side of `rmq send`, `consume` and `bench`: a `ClientInstance` on the command line's
 * name servers, and a `Producer` or a `Consumer` on it. Built per command, closed with it (the
 * client then persists its offsets and unregisters from the brokers, as Java's does on shutdown).
 *
 * @since 0.1.0
 */
import { ClientInstance, Consumer, Producer } from "@effect-rocketmq/client"
import { Effect, Layer } from "effect"
import { Flag } from "effect/cli"
import { UsageError } from "./Output.ts"

/**
 * The producer group `rmq` sends with unless told otherwise.
 *
 * @since 0.1.0
 * @category constants
 */
export const PRODUCER_GROUP = "rmq-cli"

/**
 * A client instance on `namesrv`.
 *
 * @since 0.1.0
 * @category layers
 */
export const instance = (namesrv: string) => ClientInstance.layer({ nameServerAddresses: namesrv })

/**
 * A producer of `group` on a client instance on `namesrv`.
 *
 * @since 0.1.0
 * @category layers
 */
export const producer = (namesrv: string, options: Producer.ProducerOptions) =>
  Producer.layer(options).pipe(Layer.provide(instance(namesrv)))

/**
 * `--group NAME`: the producer group to send with.
 *
 * @since 0.1.0
 * @category flags
 */
export const producerGroupFlag = Flag.String("group").pipe(
  Flag.withDefault(PRODUCER_GROUP),
  Flag.withDescription("The producer group")
)


/**
 * A consumer on a client instance on `namesrv`. It first asks the name servers for the route of
 * every subscribed topic, so a topic that does not exist, or a name server that does not answer,
 * fails the command at once (a consumer alone would wait for the route to appear).
 *
 * @since 0.1.0
 * @category layers
 */
export const consumer = (namesrv: string, options: Consumer.Options) =>
  Layer.effect(
    Consumer.Consumer,
    Effect.gen(function*() {
      const instance = yield* ClientInstance.ClientInstance
      yield* Effect.forEach(Object.keys(options.subscriptions), (topic) => instance.route(topic), { discard: true })
      return yield* Consumer.make(options)
    })
  ).pipe(Layer.provide(instance(namesrv)))

/**
 * `--from first|last|TIMESTAMP`: where a consumer group with no committed offset starts.
 *
 * @since 0.1.0
 * @category flags
 */
export const fromFlag = (fallback: "first" | "last") =>
  Flag.String("from").pipe(
    Flag.withDefault(fallback),
    Flag.withMetavar("first|last|TIMESTAMP"),
    Flag.withDescription(
      "Where a group with no committed offset starts: first, last, or a time (ISO 8601 such as 2026-11-30T12:00:00Z, " +
        "Java's yyyyMMddHHmmss in local time such as 20261130120000, or epoch milliseconds). " +
        "A group that has committed offsets resumes from them"
    )
  )

/**
 * Java's `consumeTimestamp` form, `yyyyMMddHHmmss` in the machine's time zone (as the Java client
 * reads it), in epoch milliseconds; NaN when a field is out of range (month 13, 31 April, 25 h).
 * Fourteen digits cannot be epoch milliseconds before the year 2286, so the forms do not overlap.
 */
const javaTimestamp = (digits: string): number => {
  const [year, month, day, hour, minute, second] = [0, 4, 6, 8, 10, 12].map((at) =>
    Number(digits.slice(at, at === 0 ? 4 : at + 2))
  ) as [number, number, number, number, number, number]
  const date = new Date(year, month - 1, day, hour, minute, second)
  const sameFields = date.getFullYear() === year && date.getMonth() === month - 1 && date.getDate() === day &&
    date.getHours() === hour && date.getMinutes() === minute && date.getSeconds() === second
  return sameFields ? date.getTime() : NaN
}

const millisOf = (from: string): number =>
  /^\d{14}$/.test(from)
    ? javaTimestamp(from)
    : /^\d+$/.test(from)
    ? Number(from)
    : /^\d{4}-\d{2}-\d{2}/.test(from)
    ? Date.parse(from)
    : NaN

/**
 * The consumer options a `--from` value stands for: Java's `CONSUME_FROM_FIRST_OFFSET`,
 * `CONSUME_FROM_LAST_OFFSET`, or `CONSUME_FROM_TIMESTAMP` with its time (ISO 8601, Java's
 * `yyyyMMddHHmmss` in local time, or epoch milliseconds).
 *
 * @since 0.1.0
 * @category parsing
 */
export const startingPoint = (
  from: string
): Effect.Effect<Pick<Consumer.Options, "consumeFromWhere" | "consumeTimestamp">, UsageError> => {
  if (from === "first") return Effect.succeed({ consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" })
  if (from === "last") return Effect.succeed({ consumeFromWhere: "CONSUME_FROM_LAST_OFFSET" })
  const millis = millisOf(from)
  return Number.isSafeInteger(millis) && millis >= 0
    ? Effect.succeed({ consumeFromWhere: "CONSUME_FROM_TIMESTAMP", consumeTimestamp: millis })
    : Effect.fail(
      new UsageError({
        detail: `--from ${JSON.stringify(from)}: give first, last, an ISO 8601 time (2026-11-30T12:00:00Z), ` +
          `Java's yyyyMMddHHmmss in local time (20261130120000) or epoch milliseconds`
      })
    )
}
