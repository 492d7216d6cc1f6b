/**
 * The `rmq` root command and the flags every subcommand inherits: `--namesrv` (falling back to
 * `ROCKETMQ_NAMESRV_ADDR`, then `127.0.0.1:9876`) and `--json`. Subcommands read them by yielding
 * {@link root}, and get a `RemotingClient` on those name servers with {@link withClient}.
 *
 * @since 0.1.0
 */
import type { RemotingClient, RemotingError } from "@effect-rocketmq/remoting"
import { Config, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import * as Cluster from "./Cluster.ts"

/**
 * `rmq` without a subcommand: the shared flags and the description.
 *
 * @since 0.1.0
 * @category commands
 */
export const root = Command.make("rmq").pipe(
  Command.withSharedFlags({
    namesrv: Flag.String("namesrv").pipe(
      Flag.withFallbackConfig(Config.String("ROCKETMQ_NAMESRV_ADDR")),
      Flag.withDefault(Cluster.DEFAULT_NAMESRV),
      // An empty ROCKETMQ_NAMESRV_ADDR means "not set".
      Flag.map((value) => (value.trim() === "" ? Cluster.DEFAULT_NAMESRV : value)),
      Flag.withMetavar("host:port"),
      Flag.withDescription(
        `Name server address; several separated by ';'. Default: ROCKETMQ_NAMESRV_ADDR, else ${Cluster.DEFAULT_NAMESRV}`
      )
    ),
    json: Flag.Boolean("json").pipe(
      Flag.withDefault(false),
      Flag.withDescription("Print machine-readable JSON, one object per line")
    )
  }),
  Command.withDescription(
    "A command line for Apache RocketMQ: a local broker without Java (rmq dev), topics, consumer groups, " +
      "send, consume, lag, ping and benchmarks. Exit codes: 0 ok, 1 operation failed, 2 usage."
  )
)

/**
 * Runs `effect` with a `RemotingClient` on the name servers of the command line.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withClient = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E | RemotingError.InvalidAddress, Exclude<R, RemotingClient.RemotingClient> | Command.CommandContext<"rmq">> =>
  Effect.flatMap(root, ({ namesrv }) => Effect.provide(effect, Cluster.client(namesrv)))
