/**
 * `rmq ping ADDR`: round trips to a name server or broker, with min / p50 / p99 / max.
 *
 * RocketMQ has no ping request. Each round trip sends request code 0, which no server implements:
 * a Java server's remoting layer answers REQUEST_CODE_NOT_SUPPORTED at once, without touching its
 * storage — so the time is the network and both remoting stacks. The first round trip also opens
 * the connection and is reported apart.
 *
 * @since 0.1.0
 */
import { Address, RemotingClient, RemotingCommand, ResponseCode } from "@effect-rocketmq/remoting"
import { Console, Effect, Result } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as Output from "./Output.ts"
import { root } from "./Root.ts"

/** A request code no RocketMQ server implements. */
const PING_CODE = 0

const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!

const roundTrip = (address: string) =>
  Effect.gen(function*() {
    const client = yield* RemotingClient.RemotingClient
    const started = performance.now()
    const response = yield* client.invoke(address, RemotingCommand.make({ code: PING_CODE }), 3000)
    const ms = performance.now() - started
    if (response.code !== ResponseCode.REQUEST_CODE_NOT_SUPPORTED && response.code !== ResponseCode.SUCCESS) {
      return yield* new Output.CommandFailed({
        detail: `${address} answered code ${response.code} (${ResponseCode.name(response.code)}), not a RocketMQ server's ` +
          "REQUEST_CODE_NOT_SUPPORTED: check the address"
      })
    }
    return ms
  })

/**
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("ping", {
  address: Argument.String("address").pipe(Argument.withDescription("host:port of a name server or broker")),
  count: Flag.Int("count").pipe(Flag.withAlias("c"), Flag.withDefault(10), Flag.withDescription("Round trips after the first"))
}, ({ address, count }) =>
  Effect.gen(function*() {
    const { json } = yield* root
    const parsed = Address.parse(address)
    if (Result.isFailure(parsed)) return yield* new Output.UsageError({ detail: parsed.failure.message })
    if (count < 1 || count > 100_000) return yield* new Output.UsageError({ detail: `--count ${count}: give 1 to 100000` })
    const target = Address.format(parsed.success)
    const first = yield* roundTrip(target)
    const times: Array<number> = []
    for (let i = 0; i < count; i++) times.push(yield* roundTrip(target))
    const sorted = [...times].sort((a, b) => a - b)
    const summary = {
      address: target,
      connectMs: first,
      roundTrips: count,
      minMs: sorted[0]!,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted[sorted.length - 1]!
    }
    yield* json
      ? Console.log(Output.jsonLine(summary))
      : Console.log(
        `ping ${target}: connect + first round trip ${Output.millis(first)} ms; ${count} round trips: ` +
          `min ${Output.millis(summary.minMs)} / p50 ${Output.millis(summary.p50Ms)} / p99 ${Output.millis(summary.p99Ms)} / ` +
          `max ${Output.millis(summary.maxMs)} ms`
      )
  }).pipe(Effect.provide(RemotingClient.layer({ connectTimeout: "3 seconds" })))).pipe(
    Command.withDescription("Measure round trips to a name server or broker (min / p50 / p99 / max)")
  )
