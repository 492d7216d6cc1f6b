/**
 * What `rmq` prints: tables (or, with `--json`, one JSON object per line) on stdout, and a failure
 * as one line on stderr — what failed, where, what to do — with the exit code that says which
 * kind: {@link ExitCode}. Never a stack trace: a defect is reported as an internal error in one
 * line too.
 *
 * Pure formatting plus `Console`; the commands decide what to print.
 *
 * @since 0.1.0
 */
import { Cause, Console, Effect, Schema } from "effect"

/**
 * `rmq`'s exit codes: 0 the command did what it was asked, 1 an operation failed (a broker
 * refused, nothing answered, …), 2 the command line was wrong (unknown command or flag, a value
 * that is not one, a name RocketMQ would refuse).
 *
 * @since 0.1.0
 * @category constants
 */
export const ExitCode = { Ok: 0, Failed: 1, Usage: 2, Interrupted: 130 } as const

/**
 * The command line asks for something that cannot be done as written (a topic name with a space,
 * a count of 0…): exit code 2.
 *
 * @since 0.1.0
 * @category errors
 */
export class UsageError extends Schema.TaggedError<UsageError>()("UsageError", {
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

/**
 * An operation failed for a reason the command explains itself (no broker in the cluster, a topic
 * without a route…): exit code 1.
 *
 * @since 0.1.0
 * @category errors
 */
export class CommandFailed extends Schema.TaggedError<CommandFailed>()("CommandFailed", {
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

/**
 * Errors that mean the command line was wrong: a usage error, an address that is not one, a
 * message the producer refuses before sending (a topic it may not send to, a body too large…),
 * consumer options the consumer refuses before starting (a tag expression it cannot parse…).
 */
const USAGE_TAGS: ReadonlySet<string> = new Set(["UsageError", "InvalidAddress", "InvalidMessage", "InvalidConsumerOptions"])

/** One line: newlines and runs of white space become single spaces. */
export const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ").trim()

const messageOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "message" in error && typeof error.message === "string"
    ? error.message
    : String(error)

const tagOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string" ? error._tag : "Error"

/**
 * What the command line said, for messages that point back at it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Context {
  /** The name servers the command used. */
  readonly namesrv: string
}

const field = (error: unknown, name: string): unknown =>
  typeof error === "object" && error !== null && name in error ? (error as Record<string, unknown>)[name] : undefined

/**
 * A CLI's wording for the failures a first user meets most — no name server, a topic that does
 * not exist — naming the command that fixes them; `undefined` for the rest, whose own message
 * already says what to do.
 */
const hint = (error: unknown, context: Context): string | undefined => {
  switch (tagOf(error)) {
    case "NameServerUnavailable":
      return `no name server answers at ${context.namesrv}. Start a local one with \`npx rmq dev\`, or point --namesrv ` +
        "(or ROCKETMQ_NAMESRV_ADDR) at a running one."
    case "TopicNotExist": {
      const topic = String(field(error, "topic"))
      return `topic ${JSON.stringify(topic)} does not exist (name server ${context.namesrv}). Create it with ` +
        `\`rmq topic create ${topic}\`.`
    }
    default:
      return undefined
  }
}

/**
 * The one-line report of a failed command and its exit code. `UsageError`, `InvalidAddress` (a
 * `--namesrv` or address argument that is not `host:port`), `InvalidMessage` (a message the
 * producer refuses before sending) and `InvalidConsumerOptions` are usage failures; every other
 * error is an operation failure, worded by the CLI for the common ones and by the error's own
 * message (our errors say what happened and what to do) otherwise; a defect is an internal error.
 *
 * @since 0.1.0
 * @category reporting
 */
export const describeFailure = <E>(
  cause: Cause.Cause<E>,
  context: Context
): { readonly code: number; readonly tag: string; readonly message: string } => {
  if (Cause.hasInterruptsOnly(cause)) return { code: ExitCode.Interrupted, tag: "Interrupted", message: "interrupted" }
  const failure = Cause.findErrorOption(cause)
  if (failure._tag === "Some") {
    const error: unknown = failure.value
    const code = USAGE_TAGS.has(tagOf(error)) ? ExitCode.Usage : ExitCode.Failed
    return { code, tag: tagOf(error), message: oneLine(hint(error, context) ?? messageOf(error)) }
  }
  const defect = Cause.squash(cause)
  return {
    code: ExitCode.Failed,
    tag: "Defect",
    message: `internal error: ${oneLine(messageOf(defect))}. This is a bug in rmq; please report it with the command you ran.`
  }
}

/**
 * Prints a failure on stderr: `rmq <command>: <message>`, or with `--json` a JSON line
 * `{"error":<tag>,"message":<message>}`.
 *
 * @since 0.1.0
 * @category reporting
 */
export const printFailure = (
  command: string,
  failure: { readonly tag: string; readonly message: string },
  json: boolean
): Effect.Effect<void> =>
  json
    ? Console.error(JSON.stringify({ error: failure.tag, command, message: failure.message }))
    : Console.error(`${command}: ${failure.message}`)

/**
 * Text columns, left-aligned, two spaces apart; the header row first.
 *
 * @since 0.1.0
 * @category formatting
 */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const all = [header, ...rows]
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? "").length)))
  return all
    .map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join("  "))
    .join("\n")
}

/** A value JSON can carry: bigints become numbers when they fit exactly, strings otherwise. */
const jsonSafe = (_key: string, value: unknown): unknown =>
  typeof value === "bigint" ? (value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : String(value)) : value

/**
 * One JSON object on one line (bigints as numbers when exact, else strings).
 *
 * @since 0.1.0
 * @category formatting
 */
export const jsonLine = (value: unknown): string => JSON.stringify(value, jsonSafe)

/**
 * Prints records: as a table of `columns` (header, then one row per record), or with `json` one
 * JSON line per record.
 *
 * @since 0.1.0
 * @category printing
 */
export const records = <A>(
  json: boolean,
  items: ReadonlyArray<A>,
  columns: ReadonlyArray<readonly [header: string, cell: (item: A) => string]>,
  toJson: (item: A) => unknown
): Effect.Effect<void> =>
  json
    ? Effect.forEach(items, (item) => Console.log(jsonLine(toJson(item))), { discard: true })
    : Console.log(table(columns.map(([header]) => header), items.map((item) => columns.map(([, cell]) => cell(item)))))

/**
 * A duration in milliseconds, to two decimals below 10 ms, one below 100, none above.
 *
 * @since 0.1.0
 * @category formatting
 */
export const millis = (ms: number): string => (ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0))

/**
 * A store timestamp as an ISO date-time, or `-` for none (0).
 *
 * @since 0.1.0
 * @category formatting
 */
export const timestamp = (ms: number): string => (ms > 0 ? new Date(ms).toISOString() : "-")
