/**
 * What every JavaClient call shares: the common options, turning options into `--name=value`
 * flags, running the driver to its end, and picking events by kind.
 */
import { Duration, Effect } from "effect"
import type * as JavaBuild from "./JavaBuild.ts"
import type * as JavaEvents from "./JavaEvents.ts"
import * as JavaProcess from "./JavaProcess.ts"

export type Flag = string | number | boolean | undefined
export const flags = (entries: Record<string, Flag | ReadonlyArray<Flag>>): Array<string> =>
  Object.entries(entries).flatMap(([name, value]) =>
    (Array.isArray(value) ? value : [value]).flatMap((v: Flag) =>
      v === undefined || v === false ? [] : v === true ? [`--${name}`] : [`--${name}=${v}`]
    )
  )

export const is = <K extends JavaEvents.Event["event"]>(kind: K) => (e: JavaEvents.Event): e is Extract<JavaEvents.Event, { event: K }> =>
  e.event === kind
export const only = <K extends JavaEvents.Event["event"]>(events: ReadonlyArray<JavaEvents.Event>, kind: K) => events.filter(is(kind))

const millis = (d: Duration.Input | undefined): number | undefined =>
  d === undefined ? undefined : Duration.toMillis(Duration.fromInputUnsafe(d))

/** What every call needs. */
export interface ClientOptions extends JavaProcess.RunOptions {
  /** The name server list (`host:port;host:port`). */
  readonly namesrvAddr: string
  /** The driver's own bound on the run (its --timeout-ms); default 120 s. */
  readonly timeout?: Duration.Input | undefined
  /**
   * Java's `mqClientApiTimeout` (route, heartbeat, offset and admin calls). Default 10 s here —
   * Java's is 3 s, which a loaded 2-core CI machine running a broker too does not always meet.
   */
  readonly apiTimeoutMs?: number | undefined
}

export const common = (o: ClientOptions) => ({
  namesrv: o.namesrvAddr,
  "timeout-ms": millis(o.timeout),
  "api-timeout-ms": o.apiTimeoutMs ?? 10_000
})

/** Runs to the end; a non-zero exit fails unless `allowed` says that code is an answer. */
export const runChecked = (
  subcommand: JavaProcess.Subcommand,
  args: ReadonlyArray<string>,
  options: JavaProcess.RunOptions,
  allowed: ReadonlyArray<number> = [0]
): Effect.Effect<JavaProcess.Run, JavaBuild.JavaDriverError> =>
  JavaProcess.run(subcommand, args, options).pipe(Effect.flatMap((result) =>
    allowed.includes(result.exitCode) ? Effect.succeed(result) : Effect.fail(JavaProcess.exitedWithError(subcommand, result))
  ))

