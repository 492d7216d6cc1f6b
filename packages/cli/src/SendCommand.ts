/**
 * `rmq send TOPIC [BODY]`: sends one message with the library's `Producer` (Java's queue
 * selection, retries on another broker) and prints where it was stored. The body is the argument,
 * the file of `--file`, or stdin.
 *
 * @since 0.1.0
 */
import { Message, Producer } from "@effect-rocketmq/client"
import { Console, Effect, FileSystem, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as Client from "./Client.ts"
import * as Names from "./Names.ts"
import * as Output from "./Output.ts"
import { root } from "./Root.ts"

const readStdin = Effect.callback<Uint8Array>((resume) => {
  const chunks: Array<Buffer> = []
  const onData = (chunk: Buffer) => chunks.push(chunk)
  const onEnd = () => resume(Effect.succeed(Buffer.concat(chunks)))
  process.stdin.on("data", onData).once("end", onEnd)
  return Effect.sync(() => {
    process.stdin.off("data", onData).off("end", onEnd)
    process.stdin.pause()
  })
})

/** The body: the argument, else the file, else stdin when it is not a terminal. */
const bodyOf = (argument: Option.Option<string>, file: Option.Option<string>) =>
  Effect.gen(function*() {
    if (Option.isSome(argument) && Option.isSome(file)) {
      return yield* new Output.UsageError({ detail: "give the body as an argument or with --file, not both" })
    }
    if (Option.isSome(argument)) return new TextEncoder().encode(argument.value)
    if (Option.isSome(file)) {
      const fs = yield* FileSystem.FileSystem
      return yield* fs.readFile(file.value).pipe(
        Effect.mapError(() => new Output.UsageError({ detail: `cannot read ${JSON.stringify(file.value)}: check the path` }))
      )
    }
    if (process.stdin.isTTY === true) {
      return yield* new Output.UsageError({ detail: "no body: give it as an argument, with --file, or on stdin" })
    }
    return yield* readStdin
  })

/**
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("send", {
  topic: Argument.String("topic").pipe(Argument.withDescription("The topic")),
  body: Argument.String("body").pipe(Argument.optional, Argument.withDescription("The message body (else --file, else stdin)")),
  file: Flag.String("file").pipe(Flag.optional, Flag.withDescription("Read the body from this file")),
  tag: Flag.String("tag").pipe(Flag.optional, Flag.withDescription("The message's tag")),
  key: Flag.String("key").pipe(Flag.atLeast(0), Flag.withDescription("A key to find the message by (repeatable)")),
  prop: Flag.KeyValuePair("prop").pipe(Flag.optional, Flag.withDescription("A user property k=v (repeatable)")),
  delay: Flag.Int("delay").pipe(Flag.optional, Flag.withDescription("Delay level (1 = 1s, 2 = 5s, … 18 = 2h on a default broker)")),
  shardingKey: Flag.String("sharding-key").pipe(Flag.optional, Flag.withDescription("Ordered send: the key that picks the queue")),
  group: Client.producerGroupFlag
}, (input) =>
  Effect.gen(function*() {
    const { json, namesrv } = yield* root
    yield* Names.topic(input.topic)
    const body = yield* bodyOf(input.body, input.file)
    const message = Message.make(input.topic, body, {
      tags: Option.getOrUndefined(input.tag),
      keys: input.key.length > 0 ? input.key : undefined,
      properties: Option.getOrUndefined(input.prop),
      delayLevel: Option.getOrUndefined(input.delay)
    })
    const result = yield* Effect.flatMap(Producer.Producer, (producer) =>
      producer.send(message, { shardingKey: Option.getOrUndefined(input.shardingKey) })).pipe(
        Effect.provide(Client.producer(namesrv, { group: input.group }))
      )
    yield* json
      ? Console.log(Output.jsonLine({
        status: result.status,
        msgId: result.msgId,
        offsetMsgId: result.offsetMsgId,
        topic: result.topic,
        broker: result.messageQueue.brokerName,
        queueId: result.queueId,
        queueOffset: result.queueOffset,
        transactionId: result.transactionId ?? null
      }))
      : Console.log(
        `sent ${result.msgId} to ${result.topic}: queue ${result.messageQueue.brokerName}:${result.queueId}, ` +
          `offset ${result.queueOffset} (${result.status})`
      )
  })).pipe(Command.withDescription("Send one message (body as an argument, --file or stdin) and print where it was stored"))
