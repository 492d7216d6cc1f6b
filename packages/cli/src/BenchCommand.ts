/**
 * `rmq bench produce|consume`: throughput and latency of the library's `Producer` and `Consumer`
 * against a cluster, each with a live progress line and a summary.
 *
 * @since 0.1.0
 */
import { Command } from "effect/cli"
import * as BenchConsume from "./BenchConsume.ts"
import * as BenchProduce from "./BenchProduce.ts"

/**
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("bench").pipe(
  Command.withDescription("Measure produce and consume throughput and latency against a cluster"),
  Command.withSubcommands([BenchProduce.command, BenchConsume.command])
)
