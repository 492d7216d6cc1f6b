/**
 * `rmq bench produce`: sends as fast as `--concurrency` senders can through the library's
 * `Producer`, for `--duration` seconds or `--count` messages, with a live progress line (rate,
 * p50/p99 latency of the last interval, errors) redrawn in place on a terminal, plain lines
 * otherwise; then a summary of the whole run.
 *
 * @since 0.1.0
 */
import { Message, Producer } from "@effect-rocketmq/client"
import { Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import * as BenchTally from "./BenchTally.ts"
import * as Client from "./Client.ts"
import * as Names from "./Names.ts"
import * as Output from "./Output.ts"
import * as Progress from "./Progress.ts"
import { root } from "./Root.ts"

interface ProduceInput {
  readonly topic: string
  readonly size: number
  readonly concurrency: number
  readonly duration: number
  readonly limit: number
}

/** The benchmark itself, on the `Producer` in context. */
const runProduce = (input: ProduceInput, json: boolean) =>
  Effect.gen(function*() {
    const producer = yield* Producer.Producer
    const body = new Uint8Array(input.size).fill(0x61)
    const tally = BenchTally.make()
    const started = performance.now()
    const deadline = started + input.duration * 1000
    let claimed = 0
    const sendOne = Effect.suspend(() => {
      claimed++
      const t0 = performance.now()
      return producer.send(Message.make(input.topic, body)).pipe(
        Effect.match({
          onSuccess: () => BenchTally.record(tally, performance.now() - t0, input.size),
          onFailure: (error) => BenchTally.fail(tally, error.message)
        })
      )
    })
    const sender = Effect.whileLoop({
      while: () => claimed < input.limit && performance.now() < deadline,
      body: () => sendOne,
      step: () => undefined
    })
    yield* Effect.scoped(Effect.gen(function*() {
      if (!json) yield* Progress.start(BenchTally.liveLine(tally, { label: "produce", verb: "sent", errors: true }))
      yield* Effect.all(Array.from({ length: input.concurrency }, () => sender), { concurrency: "unbounded", discard: true })
    }))
    const seconds = (performance.now() - started) / 1000
    if (tally.done === 0 && tally.errors > 0) {
      return yield* new Output.CommandFailed({ detail: `every send failed (${BenchTally.count(tally.errors)}); the last error: ${tally.lastError}` })
    }
    const summary = {
      bench: "produce",
      topic: input.topic,
      messages: tally.done,
      errors: tally.errors,
      seconds,
      rate: tally.done / seconds,
      bodyBytes: input.size,
      concurrency: input.concurrency,
      ...BenchTally.latencies(tally)
    }
    yield* json
      ? Console.log(Output.jsonLine(summary))
      : Console.log(
        `produced ${BenchTally.count(summary.messages)} messages of ${input.size} B to ${input.topic} in ${seconds.toFixed(1)} s ` +
          `(${input.concurrency} in flight): ${BenchTally.count(Math.round(summary.rate))} msg/s, ${BenchTally.latencyText(summary)}, ` +
          `${BenchTally.count(summary.errors)} errors` +
          (tally.lastError === undefined ? "" : `; the last error: ${tally.lastError}`)
      )
  })

/**
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("produce", {
  topic: Flag.String("topic").pipe(Flag.withDefault("rmq_bench"), Flag.withDescription("Topic to send to (created from TBW102 if missing)")),
  size: Flag.Int("size").pipe(Flag.withDefault(128), Flag.withDescription("Body size in bytes")),
  concurrency: Flag.Int("concurrency").pipe(Flag.withDefault(16), Flag.withDescription("Sends in flight")),
  duration: Flag.Int("duration").pipe(Flag.withDefault(10), Flag.withDescription("Seconds to run (unless --count ends it first)")),
  count: Flag.Int("count").pipe(Flag.optional, Flag.withDescription("Stop after this many messages")),
  group: Client.producerGroupFlag
}, (input) =>
  Effect.gen(function*() {
    const { json, namesrv } = yield* root
    yield* Names.topic(input.topic)
    const usage = (detail: string) => new Output.UsageError({ detail })
    if (input.size < 1 || input.size > 4 * 1024 * 1024) return yield* usage(`--size ${input.size}: give 1 to 4194304`)
    if (input.concurrency < 1 || input.concurrency > 4096) return yield* usage(`--concurrency ${input.concurrency}: give 1 to 4096`)
    if (input.duration < 1) return yield* usage(`--duration ${input.duration}: give 1 or more seconds`)
    const limit = Option.getOrElse(input.count, () => Infinity)
    if (limit < 1) return yield* usage(`--count ${limit}: give 1 or more`)
    yield* runProduce({ ...input, limit }, json).pipe(Effect.provide(Client.producer(namesrv, { group: input.group })))
  })).pipe(Command.withDescription("Send as fast as possible for a while, with a live progress line, then a summary"))
