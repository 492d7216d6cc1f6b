/**
 * One run of the Java driver as a scoped resource: the JVM is started with the built classpath,
 * its stdout is decoded line by line into events (kept in order, and observable while it runs),
 * commands go to its stdin, and closing the scope stops it — `stop` first (the driver shuts
 * its client down cleanly), then SIGTERM, then SIGKILL — so no JVM outlives its test.
 *
 * This module knows nothing about subcommands; `JavaClient` builds their arguments.
 */
import { NodeServices } from "@effect/platform-node"
import { Cause, Deferred, Duration, Effect, Exit, Fiber, Option, Queue, Scope, Stream, SubscriptionRef } from "effect"
import { ChildProcess } from "effect/process"
import { join } from "node:path"
import * as JavaBuild from "./JavaBuild.ts"
import * as JavaEvents from "./JavaEvents.ts"

/** The driver's subcommands. */
export type Subcommand =
  | "produce"
  | "push-consume"
  | "pull"
  | "admin"
  | "bench-produce"
  | "bench-consume"

/** Options of every run. */
export interface RunOptions {
  /**
   * JVM options. Default {@link TEST_JVM_OPTIONS}; the benchmarks pass
   * {@link BENCH_JVM_OPTIONS}.
   */
  readonly jvmOptions?: ReadonlyArray<string> | undefined
  /** How long closing the scope waits for the driver to exit after `stop` before killing it (default 15 s). */
  readonly stopTimeout?: Duration.Input | undefined
}

/**
 * The JVM options for functional runs: a small heap, the serial collector and the C1 compiler
 * only — start-up and CPU matter more than peak speed on a 2-core machine that also runs the
 * broker.
 */
export const TEST_JVM_OPTIONS: ReadonlyArray<string> = ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xms64m", "-Xmx512m"]

/** The JVM options for benchmarks: the JVM's defaults (G1, tiered JIT) with a fixed 1 GiB heap. */
export const BENCH_JVM_OPTIONS: ReadonlyArray<string> = ["-Xms1g", "-Xmx1g"]

/** The outcome of a finished run. */
export interface Run {
  readonly exitCode: number
  readonly events: ReadonlyArray<JavaEvents.Event>
  /** The end of the driver's stderr (its logs and any stack trace). */
  readonly stderr: string
}

/** A running driver. */
export interface JavaProcess {
  readonly pid: number
  /** The events printed so far, in order. */
  readonly events: Effect.Effect<ReadonlyArray<JavaEvents.Event>>
  /**
   * The first event, printed or still to come, that `refinement` accepts. Fails with
   * `ExitedWithError` if the driver exits without printing one, `Timeout` after `timeout`
   * (default 60 s).
   */
  readonly waitFor: <A extends JavaEvents.Event>(
    refinement: (event: JavaEvents.Event) => event is A,
    timeout?: Duration.Input
  ) => Effect.Effect<A, JavaBuild.JavaDriverError>
  /** Sends a command line to the driver's stdin (`ping` is answered with a `pong` event). */
  readonly command: (line: "ping" | "stop") => Effect.Effect<void>
  /** Asks the driver to stop (`stop`, then the end of its stdin) and waits for it to exit. */
  readonly stop: Effect.Effect<Run>
  /** Waits for the driver to exit by itself. */
  readonly exit: Effect.Effect<Run>
}

const STDERR_TAIL = 16_000
const encoder = new TextEncoder()

const badOutput = (line: string, why: string) =>
  new JavaBuild.JavaDriverError({ reason: "BadOutput", detail: `stdout line ${JSON.stringify(line.slice(0, 300))} is not a driver event: ${why}` })

/** Where the RocketMQ client inside the driver writes its own log files. */
export const LOG_DIR = join(JavaBuild.DIR, "logs")

/**
 * Starts the driver with `subcommand` and `args` (flags, `--name=value`). The scope owns the
 * JVM: closing it stops the driver (see the module header).
 */
export const start = (
  subcommand: Subcommand,
  args: ReadonlyArray<string>,
  options?: RunOptions
): Effect.Effect<JavaProcess, JavaBuild.JavaDriverError, Scope.Scope> =>
  Effect.gen(function*() {
    const build = yield* JavaBuild.build
    const commands = yield* Queue.unbounded<string, Cause.Done>()
    const argv = [
      ...(options?.jvmOptions ?? TEST_JVM_OPTIONS),
      `-Drocketmq.log.root=${LOG_DIR}`,
      "-Drocketmq.log.level=WARN",
      "-Drmq.logback.configurationFile=rmq.client.logback.xml",
      "-Djava.net.preferIPv4Stack=true",
      "-cp", build.classpath, "driver.Main", subcommand, ...args
    ]
    const handle = yield* ChildProcess.make(build.java, argv, {
      cwd: JavaBuild.DIR,
      stdin: { stream: Stream.fromQueue(commands).pipe(Stream.map((line) => encoder.encode(`${line}\n`))), endOnDone: true },
      forceKillAfter: "5 seconds"
    }).pipe(
      Effect.mapError((error) =>
        new JavaBuild.JavaDriverError({ reason: "SpawnFailed", detail: `could not start ${build.java}: ${error.message}` })
      ),
      Effect.provide(NodeServices.layer)
    )
    const events: Array<JavaEvents.Event> = []
    const count = yield* SubscriptionRef.make(0)
    let stderr = ""
    const onLine = (line: string) =>
      Effect.suspend(() => {
        if (line.trim() === "") return Effect.void
        const decoded = JavaEvents.decodeLine(line)
        if (Exit.isFailure(decoded)) return Effect.fail(badOutput(line, Cause.pretty(decoded.cause)))
        events.push(decoded.value)
        return SubscriptionRef.set(count, events.length)
      })
    const stdout = handle.stdout.pipe(
      Stream.decodeText(),
      Stream.splitLines,
      Stream.runForEach(onLine),
      Effect.catchTag("PlatformError", () => Effect.void)
    )
    const stderrReader = handle.stderr.pipe(
      Stream.decodeText(),
      Stream.runForEach((chunk) => Effect.sync(() => (stderr = (stderr + chunk).slice(-STDERR_TAIL)))),
      Effect.ignore
    )
    const exited = yield* Deferred.make<Run>()
    const outputs = yield* Effect.forkScoped(Effect.all([stdout, stderrReader], { concurrency: 2 }))
    const reading = Effect.gen(function*() {
      const output = yield* Fiber.await(outputs)
      const code = yield* handle.exitCode.pipe(Effect.map(Number), Effect.orElseSucceed(() => -1))
      const failure = Exit.isFailure(output) ? Cause.findErrorOption(output.cause) : Option.none()
      if (Option.isSome(failure)) stderr += `\n[harness] ${failure.value.message}`
      yield* Deferred.succeed(exited, { exitCode: code, events: [...events], stderr })
    })
    yield* Effect.forkScoped(reading)
    const exit = Deferred.await(exited)
    const stop = Queue.offer(commands, "stop").pipe(Effect.andThen(Queue.end(commands)), Effect.andThen(exit))
    const timeout = options?.stopTimeout ?? "15 seconds"
    yield* Effect.addFinalizer(() => stop.pipe(Effect.timeoutOption(timeout), Effect.asVoid))

    const waitFor = <A extends JavaEvents.Event>(
      refinement: (event: JavaEvents.Event) => event is A,
      within: Duration.Input = "60 seconds"
    ): Effect.Effect<A, JavaBuild.JavaDriverError> => {
      let scanned = 0
      const scan = (): Option.Option<A> => {
        for (; scanned < events.length; scanned++) {
          const event = events[scanned]!
          if (refinement(event)) return Option.some(event)
        }
        return Option.none()
      }
      const live = SubscriptionRef.changes(count).pipe(Stream.map(scan), Stream.filter(Option.isSome), Stream.runHead)
      const afterExit = exit.pipe(Effect.flatMap((run) => {
        const found = run.events.find(refinement)
        return found !== undefined ? Effect.succeed(found) : Effect.fail(
          new JavaBuild.JavaDriverError({
            reason: "ExitedWithError",
            detail: `the driver (${subcommand}) exited with code ${run.exitCode} before printing the awaited event`,
            exitCode: run.exitCode,
            output: run.stderr.slice(-4000)
          })
        )
      }))
      return Effect.raceFirst(live.pipe(Effect.flatMap((found) => found.pipe(Option.match({
        onNone: () => afterExit,
        onSome: (event) => Effect.succeed(event.value)
      })))), afterExit).pipe(
        Effect.timeoutOrElse({
          duration: within,
          orElse: () =>
            Effect.fail(new JavaBuild.JavaDriverError({
              reason: "Timeout",
              detail: `the driver (${subcommand}) printed no awaited event within ${Duration.format(Duration.fromInputUnsafe(within))}`,
              output: stderr.slice(-4000)
            }))
        })
      )
    }

    return {
      pid: Number(handle.pid),
      events: Effect.sync(() => [...events]),
      waitFor,
      command: (line) => Queue.offer(commands, line).pipe(Effect.asVoid),
      stop,
      exit
    } satisfies JavaProcess
  })

/** Runs the driver to its end (it must stop by itself) and returns its outcome, whatever the exit code. */
export const run = (
  subcommand: Subcommand,
  args: ReadonlyArray<string>,
  options?: RunOptions
): Effect.Effect<Run, JavaBuild.JavaDriverError> =>
  Effect.scoped(start(subcommand, args, options).pipe(Effect.flatMap((p) => p.exit)))

/** The error for a run that ended with a non-zero exit code: the driver's own error events and its stderr. */
export const exitedWithError = (subcommand: Subcommand, result: Run): JavaBuild.JavaDriverError => {
  const errors = result.events.flatMap((e) =>
    e.event === "error" || e.event === "send-error"
      ? [`${e.event}: ${e.message}${e.cause === undefined ? "" : ` (cause: ${e.cause})`}`]
      : []
  )
  return new JavaBuild.JavaDriverError({
    reason: "ExitedWithError",
    detail: `${subcommand} exited with code ${result.exitCode} (${EXIT_CODES[result.exitCode] ?? "unknown"})` +
      (errors.length > 0 ? `; ${errors.slice(0, 5).join("; ")}` : ""),
    exitCode: result.exitCode,
    output: result.stderr.slice(-4000)
  })
}

/** What each exit code of the driver means. */
export const EXIT_CODES: Readonly<Record<number, string>> = {
  0: "ok",
  1: "internal error in the driver",
  2: "bad arguments",
  3: "the client could not start",
  4: "an operation failed",
  5: "timed out before the count was reached"
}
