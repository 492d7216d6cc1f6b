/**
 * `rmq bench consume`: drains a topic's backlog with the library's `Consumer` (its `stream`, each
 * message acknowledged as soon as it is counted), with a live progress line (rate, p50/p99 of
 * the store-to-consume time of the last interval) redrawn in place on a terminal, plain lines
 * otherwise; then a summary.
 *
 * It stops after `--count` messages, when no message arrived for `--idle` seconds after the first
 * (the backlog is drained), or after `--duration` seconds, whichever comes first; then the
 * consumer closes, committing its offsets. The rate is measured from the first message to the last,
 * so neither the consumer's start (route, rebalance, first pull) nor the idle wait at the end
 * dilutes it; the time to the first message is reported apart.
 *
 * Each run is a fresh consumer group unless `--group` names one, so it starts from `--from`
 * (default: the first offset) rather than from an earlier run's offsets.
 *
 * @since 0.1.0
 */
import { Consumer } from "@effect-rocketmq/client"
import { Console, Effect, Option, Stream } from "effect"
import { Command, Flag } from "effect/cli"
import * as BenchTally from "./BenchTally.ts"
import * as Client from "./Client.ts"
import * as Names from "./Names.ts"
import * as Output from "./Output.ts"
import * as Progress from "./Progress.ts"
import { root } from "./Root.ts"

interface ConsumeInput {
  readonly topic: string
  readonly group: string
  readonly duration: number
  readonly idle: number
  readonly limit: number
}

/** How often the run checks whether it is done. */
const CHECK_EVERY = "50 millis"

/** The benchmark itself, on the `Consumer` in context. */
const runConsume = (input: ConsumeInput, json: boolean) =>
  Effect.gen(function*() {
    const consumer = yield* Consumer.Consumer
    const tally = BenchTally.make()
    const started = performance.now()
    const deadline = started + input.duration * 1000
    let first = 0
    let last = 0
    const consumed = (delivery: Consumer.Delivery) =>
      Effect.andThen(
        Effect.sync(() => {
          last = performance.now()
          if (first === 0) first = last
          BenchTally.record(tally, Math.max(0, Date.now() - delivery.message.storeTimestamp), delivery.message.body.byteLength)
        }),
        delivery.ack
      )
    const finished = () => {
      const now = performance.now()
      return tally.done >= input.limit || now >= deadline || (first > 0 && now - last >= input.idle * 1000)
    }
    const watcher = Effect.whileLoop({ while: () => !finished(), body: () => Effect.sleep(CHECK_EVERY), step: () => undefined })
    yield* Effect.scoped(Effect.gen(function*() {
      if (!json) yield* Progress.start(BenchTally.liveLine(tally, { label: "consume", verb: "consumed", errors: false }))
      // The stream, not `run`: when the run stops, the messages handed out and not yet acknowledged
      // simply stay unacknowledged (the group gets them again). Interrupting `run` hands each
      // in-flight message back to the consumer's bounded hand-off queue, and with a backlog that
      // queue is full: a drain of 1,000 of 1,172 messages never returned that way.
      const drain = Stream.runForEach(Number.isFinite(input.limit) ? Stream.take(consumer.stream, input.limit) : consumer.stream, consumed)
      yield* Effect.raceFirst(drain, watcher)
    }))
    if (tally.done === 0) {
      return yield* new Output.CommandFailed({
        detail: `no message of ${input.topic} arrived in ${input.duration} s (group ${input.group}). Fill the topic first, ` +
          `e.g. \`rmq bench produce --topic ${input.topic} --count 100000\`, or start from an earlier point with --from`
      })
    }
    const seconds = tally.done > 1 ? (last - first) / 1000 : (last - started) / 1000
    const summary = {
      bench: "consume",
      topic: input.topic,
      group: input.group,
      messages: tally.done,
      bytes: tally.bytes,
      seconds,
      rate: tally.done / Math.max(seconds, 0.001),
      firstMessageMs: first - started,
      ...BenchTally.latencies(tally)
    }
    yield* json
      ? Console.log(Output.jsonLine(summary))
      : Console.log(
        `consumed ${BenchTally.count(summary.messages)} messages (${BenchTally.count(summary.bytes)} B) of ${input.topic} as ` +
          `group ${input.group} in ${seconds.toFixed(1)} s: ` +
          `${BenchTally.count(Math.round(summary.rate))} msg/s; first message after ${Output.millis(summary.firstMessageMs)} ms; ` +
          `store to consume ${BenchTally.latencyText(summary)}`
      )
  })

/**
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("consume", {
  topic: Flag.String("topic").pipe(Flag.withDefault("rmq_bench"), Flag.withDescription("Topic to drain")),
  group: Flag.String("group").pipe(
    Flag.optional,
    Flag.withDescription("Consumer group (default: a new one per run, rmq_bench_<time>, so each run drains from --from)")
  ),
  from: Client.fromFlag("first"),
  duration: Flag.Int("duration").pipe(Flag.withDefault(60), Flag.withDescription("Seconds to run at most")),
  idle: Flag.Int("idle").pipe(
    Flag.withDefault(3),
    Flag.withDescription("Stop once no message arrived for this many seconds after the first (the backlog is drained)")
  ),
  count: Flag.Int("count").pipe(Flag.optional, Flag.withDescription("Stop after this many messages"))
}, (input) =>
  Effect.gen(function*() {
    const { json, namesrv } = yield* root
    yield* Names.topic(input.topic)
    const group = Option.getOrElse(input.group, () => `rmq_bench_${Date.now().toString(36)}`)
    yield* Names.group(group)
    const start = yield* Client.startingPoint(input.from)
    const usage = (detail: string) => new Output.UsageError({ detail })
    if (input.duration < 1) return yield* usage(`--duration ${input.duration}: give 1 or more seconds`)
    if (input.idle < 1) return yield* usage(`--idle ${input.idle}: give 1 or more seconds`)
    const limit = Option.getOrElse(input.count, () => Infinity)
    if (limit < 1) return yield* usage(`--count ${limit}: give 1 or more`)
    const options: Consumer.Options = { consumerGroup: group, subscriptions: { [input.topic]: "*" }, ...start }
    yield* runConsume({ ...input, group, limit }, json).pipe(Effect.provide(Client.consumer(namesrv, options)))
  })).pipe(
    Command.withDescription(
      "Drain a topic with a consumer group as fast as possible, with a live progress line, then a summary"
    )
  )
