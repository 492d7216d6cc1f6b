/**
 * `rmq consume TOPIC --group G`: consumes with the library's `Consumer` (a member of consumer
 * group `G`, Java's push-consumer semantics) and prints each message as it arrives — a line of
 * text, or with `--json` an object with every field — then acknowledges it. With `--count N` it
 * stops after N messages; otherwise it runs until Ctrl-C. Either way the consumer is closed before
 * the process exits: its committed offsets are persisted to the brokers and it leaves the group, so
 * the next run of the group resumes after the last printed message.
 *
 * Messages are printed one at a time, in the order the consumer hands them out (per queue in
 * offset order; queues interleaved). A message is acknowledged only once printed: one that was
 * handed out but not printed when the command stopped is delivered again to the group.
 *
 * @since 0.1.0
 */
import { Consumer } from "@effect-rocketmq/client"
import { Console, Effect, Option, Stream } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as Client from "./Client.ts"
import * as MessageOutput from "./MessageOutput.ts"
import * as Names from "./Names.ts"
import * as Output from "./Output.ts"
import { root } from "./Root.ts"

const print = (json: boolean) => (delivery: Consumer.Delivery) =>
  Console.log(
    json
      ? Output.jsonLine(MessageOutput.json(delivery.message, delivery.queue))
      : MessageOutput.line(delivery.message, delivery.queue)
  )

/**
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("consume", {
  topic: Argument.String("topic").pipe(Argument.withDescription("The topic")),
  group: Flag.String("group").pipe(Flag.withDescription("The consumer group to consume as (its offsets are kept on the brokers)")),
  from: Client.fromFlag("last"),
  count: Flag.Int("count").pipe(Flag.optional, Flag.withDescription("Exit after this many messages (default: run until Ctrl-C)")),
  tag: Flag.String("tag").pipe(
    Flag.withDefault("*"),
    Flag.withMetavar("EXPR"),
    Flag.withDescription("Only messages with these tags: * (every message) or TagA || TagB")
  )
}, (input) =>
  Effect.gen(function*() {
    const { json, namesrv } = yield* root
    yield* Names.topic(input.topic)
    yield* Names.group(input.group)
    const start = yield* Client.startingPoint(input.from)
    const count = Option.getOrUndefined(input.count)
    if (count !== undefined && count < 1) return yield* new Output.UsageError({ detail: `--count ${count}: give 1 or more` })
    const options: Consumer.Options = { consumerGroup: input.group, subscriptions: { [input.topic]: input.tag }, ...start }
    yield* Effect.gen(function*() {
      const consumer = yield* Consumer.Consumer
      if (!json) {
        yield* Console.error(
          `rmq consume: consuming ${input.topic} (tags ${input.tag}) as group ${input.group}` +
            `${count === undefined ? "; Ctrl-C stops" : `, ${count} message${count === 1 ? "" : "s"}`}`
        )
      }
      const deliveries = count === undefined ? consumer.stream : Stream.take(consumer.stream, count)
      yield* Stream.runForEach(deliveries, (delivery) => Effect.andThen(print(json)(delivery), delivery.ack))
    }).pipe(Effect.provide(Client.consumer(namesrv, options)))
  })).pipe(
    Command.withDescription(
      "Consume a topic as a consumer group and print each message as it arrives (body as text, else base64), " +
        "until --count messages or Ctrl-C; offsets are committed on exit"
    )
  )
