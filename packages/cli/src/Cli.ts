/**
 * `rmq`: the command tree, and {@link main}, which runs it on an argument list and answers the
 * process exit code — 0 ok, 1 an operation failed, 2 the command line was wrong (130 when
 * interrupted). Every failure is printed as one line on stderr (`rmq <command>: <what happened and
 * what to do>`), never a stack trace; a wrong command line also names the `--help` to read.
 *
 * @since 0.1.0
 */
import { Cause, Console, Effect, Logger, References } from "effect"
import { CliError, CliOutput, Command } from "effect/cli"
import * as BenchCommand from "./BenchCommand.ts"
import * as ClusterCommand from "./ClusterCommand.ts"
import * as ConsumeCommand from "./ConsumeCommand.ts"
import * as DevCommand from "./DevCommand.ts"
import * as GroupCommand from "./GroupCommand.ts"
import * as LagCommand from "./LagCommand.ts"
import * as Output from "./Output.ts"
import * as PingCommand from "./PingCommand.ts"
import { DEFAULT_NAMESRV } from "./Cluster.ts"
import { root } from "./Root.ts"
import * as RouteCommand from "./RouteCommand.ts"
import * as SendCommand from "./SendCommand.ts"
import * as TopicCommand from "./TopicCommand.ts"

/**
 * The version `rmq --version` prints.
 *
 * @since 0.1.0
 * @category constants
 */
export const VERSION = "0.1.0"

/**
 * The whole command tree.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = root.pipe(
  Command.withSubcommands([
    DevCommand.command,
    ClusterCommand.command,
    RouteCommand.command,
    TopicCommand.command,
    GroupCommand.command,
    SendCommand.command,
    ConsumeCommand.command,
    LagCommand.command,
    PingCommand.command,
    BenchCommand.command
  ])
)

/**
 * Help and the version go to stdout as effect/cli formats them; a command line it cannot parse
 * is one line on stderr instead of the whole help.
 */
const presenter: CliOutput.Presenter = {
  present: (event) =>
    event._tag === "InvalidInvocation"
      ? Console.error(
        `${event.commandPath.join(" ")}: ${event.errors.map((e) => Output.oneLine(e.message)).join("; ")}. ` +
          `Run \`${event.commandPath.join(" ")} --help\` for usage.`
      )
      : CliOutput.defaultPresenter.present(event)
}

const isJson = (args: ReadonlyArray<string>): boolean => args.includes("--json")

/** The subcommands of each command, to find the command an argument list selects. */
const TREE: { readonly [name: string]: { readonly [name: string]: unknown } } = {
  dev: {},
  cluster: {},
  route: {},
  topic: { list: {}, create: {}, delete: {} },
  group: { create: {}, list: {}, delete: {} },
  send: {},
  consume: {},
  lag: {},
  ping: {},
  bench: { produce: {}, consume: {} }
}

/** The command the arguments select (`rmq topic create`), for error lines. */
const commandPath = (args: ReadonlyArray<string>): string => {
  const words = ["rmq"]
  let level: { readonly [name: string]: unknown } | undefined = TREE
  for (const arg of args) {
    const next: unknown = level !== undefined && Object.hasOwn(level, arg) ? level[arg] : undefined
    if (next === undefined) continue
    words.push(arg)
    level = next as { readonly [name: string]: unknown }
  }
  return words.join(" ")
}

/** The name servers the arguments name, as the root's `--namesrv` flag reads them. */
const namesrvOf = (args: ReadonlyArray<string>): string => {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--namesrv" && i + 1 < args.length) return args[i + 1]!
    if (args[i]!.startsWith("--namesrv=")) return args[i]!.slice("--namesrv=".length)
  }
  const fromEnv = process.env["ROCKETMQ_NAMESRV_ADDR"]?.trim()
  return fromEnv === undefined || fromEnv === "" ? DEFAULT_NAMESRV : fromEnv
}

const findError = <E>(cause: Cause.Cause<E>): unknown => {
  const failure = Cause.findErrorOption(cause)
  return failure._tag === "Some" ? failure.value : undefined
}

/**
 * Runs `rmq` on `args` (the arguments after the program name) and answers the exit code. Needs
 * the services effect/cli runs on (`NodeServices.layer` in a process).
 *
 * @since 0.1.0
 * @category running
 */
export const main = (args: ReadonlyArray<string>) =>
  Command.runWith(command, { version: VERSION })(args).pipe(
    Effect.provide(CliOutput.layerPresenter(presenter)),
    // stdout carries results only (a table, JSON lines, consumed messages): the library's own log
    // lines go to stderr, and only errors unless --log-level asks for more. A new consumer group's
    // first rebalance warns, for instance, that its %RETRY% topic has no route yet (the broker
    // creates it on the first send-back): the normal start of every `rmq consume` of a new group.
    Effect.provideService(Logger.LogToStderr, true),
    Effect.provideService(References.MinimumLogLevel, "Error"),
    Effect.matchCauseEffect({
      onSuccess: () => Effect.succeed(Output.ExitCode.Ok),
      onFailure: (cause) => {
        const failure = Output.describeFailure(cause, { namesrv: namesrvOf(args) })
        // effect/cli has already presented its own errors (one line, or the help for an incomplete command).
        if (failure.code !== Output.ExitCode.Interrupted && CliError.isCliError(findError(cause))) {
          return Effect.succeed(Output.ExitCode.Usage)
        }
        return Effect.as(
          failure.code === Output.ExitCode.Interrupted ? Effect.void : Output.printFailure(commandPath(args), failure, isJson(args)),
          failure.code
        )
      }
    })
  )

