/**
 * `rmq dev`: the test kit's embedded RocketMQ (`InMemoryRocketMQ`: a name server and brokers, in
 * memory, no Java) served on loopback TCP until interrupted, with a banner that says how to point
 * clients at it. Messages live as long as the process.
 *
 * @since 0.1.0
 */
import type { InMemoryRocketMQ } from "@effect-rocketmq/testkit"
import { Console, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import * as Output from "./Output.ts"
import { root } from "./Root.ts"

const banner = (served: InMemoryRocketMQ.Served): string => {
  const brokers = served.rmq.brokers
  const width = Math.max(11, ...brokers.map((b) => b.name.length))
  return [
    `rmq dev: an embedded RocketMQ on loopback — a name server and ${brokers.length} broker${brokers.length === 1 ? "" : "s"}, in memory, no Java.`,
    "",
    `  ${"name server".padEnd(width)}  ${served.address}`,
    ...brokers.map((b) => `  ${b.name.padEnd(width)}  ${b.address()}  (cluster ${served.rmq.clusterName})`),
    "",
    "Point clients at it:",
    `  export ROCKETMQ_NAMESRV_ADDR=${served.address}`,
    "Then, in another terminal:",
    `  npx rmq send TestTopic "hello"`,
    `  npx rmq consume TestTopic --group demo`,
    `  npx rmq route TestTopic`,
    "",
    "Topics and consumer groups are created on first use. Messages are kept in memory only.",
    "Ctrl-C stops it."
  ].join("\n")
}

/**
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("dev", {
  port: Flag.Int("port").pipe(
    Flag.withDefault(9876),
    Flag.withDescription("Name server port (0 picks a free one)")
  ),
  brokers: Flag.Int("brokers").pipe(
    Flag.withDefault(1),
    Flag.withDescription("Number of brokers (broker-a, broker-b, …), one cluster")
  ),
  brokerPort: Flag.Int("broker-port").pipe(
    Flag.withDefault(10911),
    Flag.withDescription("Port of the first broker; the next ones use the following ports (0 picks free ones)")
  )
}, ({ port, brokers, brokerPort }) =>
  Effect.gen(function*() {
    const { json } = yield* root
    if (brokers < 1 || brokers > 26) return yield* new Output.UsageError({ detail: `--brokers ${brokers}: give 1 to 26` })
    const brokerPorts = Array.from({ length: brokers }, (_, i) => (brokerPort === 0 ? 0 : brokerPort + i))
    // Loaded here, not at start-up: the embedded broker is the largest part of rmq, and only
    // `rmq dev` needs it.
    const { InMemoryRocketMQ } = yield* Effect.promise(() => import("@effect-rocketmq/testkit"))
    const served = yield* InMemoryRocketMQ.serve({ port, brokers, brokerPorts })
    yield* Console.log(
      json
        ? Output.jsonLine({
          event: "ready",
          namesrv: served.address,
          cluster: served.rmq.clusterName,
          brokers: served.rmq.brokers.map((b) => ({ name: b.name, address: b.address() }))
        })
        : banner(served)
    )
    return yield* Effect.never
  }).pipe(Effect.scoped)).pipe(
    Command.withDescription(
      "Serve an embedded RocketMQ (name server + brokers, in memory, no Java) on loopback until Ctrl-C"
    )
  )
