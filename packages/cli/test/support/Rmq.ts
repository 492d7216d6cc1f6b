/**
 * Runs the real `rmq` executable in a child process, as a user's shell would: the bin file itself
 * (its shebang picks Node 24 from node_modules/.bin, which comes first on PATH), with arguments,
 * environment and stdin; answers the exit code and both outputs.
 */
import { Effect } from "effect"
import { spawn } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export const root = fileURLToPath(new URL("../../../../", import.meta.url))
export const bin = path.join(root, "packages/cli/bin/rmq.ts")
const binDir = path.join(root, "node_modules/.bin")

export interface Run {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv | undefined
  readonly input?: string | Uint8Array | undefined
  readonly timeoutMillis?: number | undefined
}

/** The environment of a run: no ROCKETMQ_NAMESRV_ADDR from the test's own, Node 24 first on PATH. */
export const baseEnv = (extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${binDir}:${path.dirname(process.execPath)}:${process.env["PATH"] ?? ""}` }
  delete env["ROCKETMQ_NAMESRV_ADDR"]
  delete env["NODE_OPTIONS"]
  return { ...env, ...extra }
}

/**
 * Runs any command to completion (killed after `timeoutMillis`, 180 s by default: a Node start-up
 * takes seconds on a loaded machine), with the run environment.
 */
export const command = (
  file: string,
  args: ReadonlyArray<string>,
  options?: RunOptions & { readonly cwd?: string | undefined }
): Effect.Effect<Run> =>
  Effect.callback<Run>((resume) => {
    const child = spawn(file, args, { env: baseEnv(options?.env), cwd: options?.cwd, stdio: ["pipe", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.stdin.end(options?.input ?? "")
    const timer = setTimeout(() => child.kill("SIGKILL"), options?.timeoutMillis ?? 180_000)
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      resume(Effect.succeed({ code, signal, stdout, stderr }))
    })
    child.on("error", (error) => {
      clearTimeout(timer)
      resume(Effect.succeed({ code: null, signal: null, stdout, stderr: `${stderr}${String(error)}` }))
    })
    return Effect.sync(() => child.kill("SIGKILL"))
  })

/** Runs `rmq args…` to completion. */
export const rmq = (args: ReadonlyArray<string>, options?: RunOptions): Effect.Effect<Run> => command(bin, args, options)

/** The JSON objects of a `--json` output, one per line. */
export const jsonLines = (text: string): Array<Record<string, unknown>> =>
  text.split("\n").filter((line) => line.trim().length > 0).map((line) => JSON.parse(line) as Record<string, unknown>)

/** The rows of a table output: cells split on runs of two or more spaces; the header row first. */
export const tableRows = (text: string): Array<Array<string>> =>
  text.split("\n").filter((line) => line.trim().length > 0).map((line) => line.trim().split(/ {2,}/))

/** A long-running `rmq` that printed its ready line. */
export interface Background {
  /** The first stdout line that satisfied `ready`. */
  readonly line: string
  /** Sends SIGINT (Ctrl-C) unless it has exited, and waits for it to exit. */
  readonly stop: Effect.Effect<Run>
}

/**
 * A long-running `rmq` (dev, consume): succeeds once a stdout line satisfies `ready` (fails if it
 * exits first, or is not ready within `timeoutMillis`); stopped with SIGINT when the scope closes.
 */
export const rmqBackground = (args: ReadonlyArray<string>, ready: (line: string) => boolean, options?: RunOptions) =>
  Effect.acquireRelease(
    Effect.callback<Background, Error>((resume) => {
      const child = spawn(bin, args, { env: baseEnv(options?.env), stdio: ["pipe", "pipe", "pipe"] })
      let stdout = ""
      let stderr = ""
      let settled = false
      const exited = new Promise<Run>((done) => child.on("close", (code, signal) => done({ code, signal, stdout, stderr })))
      const stop = Effect.promise(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT")
        return exited
      })
      const settle = (effect: Effect.Effect<Background, Error>) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resume(effect)
      }
      const timer = setTimeout(() => {
        child.kill("SIGKILL")
        settle(Effect.fail(new Error(`rmq ${args.join(" ")} was not ready within the time: ${stdout}${stderr}`)))
      }, options?.timeoutMillis ?? 180_000)
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        stdout += chunk
        const line = stdout.split("\n").find(ready)
        if (line !== undefined) settle(Effect.succeed({ line, stop }))
      })
      void exited.then((run) =>
        settle(Effect.fail(new Error(`rmq ${args.join(" ")} exited (${run.code}) before it was ready: ${run.stderr}`)))
      )
      return Effect.sync(() => child.kill("SIGKILL"))
    }),
    (background) => background.stop
  )
