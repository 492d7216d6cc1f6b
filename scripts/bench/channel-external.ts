/**
 * External clients of the channel benchmark (see channel.ts): any program, in any language, run as
 * one more client row of the same interleaved rounds against the same echo server.
 *
 *   BENCH_EXTERNAL='name=program [arg …][,name=program [arg …]]'
 *
 * (arguments split on whitespace, no quoting). For every case and round the harness runs
 *
 *   program [arg …] --host 127.0.0.1 --port P --body BYTES --in-flight N --warmup-ms W --seconds S
 *                   --code C --ext-fields JSON --timeout-ms T
 *
 * and the program must: connect to the echo server at host:port; keep N requests in flight (N
 * closed loops, or N outstanding invokes), each with request code C, the header fields of the JSON
 * object JSON (the Node clients' header) and a body of BYTES bytes; warm up for W ms; then for S
 * seconds count the requests answered (a response with the request's opaque and a body of BYTES
 * bytes), timing each from send to answer; then print one JSON line on stdout and exit 0:
 *
 *   {"requests":120000,"seconds":1.5002,"p50Us":480,"p99Us":1900,"cpuUs":1350000,"errors":0}
 *
 * - requests: requests answered within the window;
 * - seconds (optional, default S): the window as the program measured it;
 * - p50Us, p99Us: latency percentiles of those requests, in µs;
 * - cpuUs: the program's process CPU time (user + system) over the window, in µs;
 * - errors (optional): requests failed or answered wrongly during the whole run; above 0 the
 *   harness stops, as it does when a Node client's request fails.
 *
 * The last stdout line that is a JSON object counts; other lines are ignored and stderr passes
 * through. A program that exits non-zero, prints no such line, or runs 15 s past W + S fails the
 * benchmark with what it printed.
 */
import { spawn } from "node:child_process"
import type { Result, Timing } from "./channel-wire.ts"
import { requestFor } from "./channel-wire.ts"

export interface External {
  readonly name: string
  readonly command: ReadonlyArray<string>
}

/** The clients BENCH_EXTERNAL names; none when it is unset or empty. */
export const parseExternal = (spec: string | undefined): ReadonlyArray<External> =>
  (spec ?? "").split(",").map((entry) => entry.trim()).filter((entry) => entry.length > 0).map((entry) => {
    const eq = entry.indexOf("=")
    const name = eq < 0 ? "" : entry.slice(0, eq).trim()
    const command = eq < 0 ? [] : entry.slice(eq + 1).trim().split(/\s+/).filter((a) => a.length > 0)
    if (name.length === 0 || command.length === 0) {
      throw new Error(`BENCH_EXTERNAL entry "${entry}" is not name=program [args]: give each external client a name and a program`)
    }
    return { name, command }
  })

const field = (line: Record<string, unknown>, key: string, optional: boolean): number | undefined => {
  const value = line[key]
  if (value === undefined && optional) return undefined
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new Error(`"${key}" is ${JSON.stringify(value)}, expected a number >= 0`)
  }
  return value
}

/**
 * The run an external client reports in `stdout` (its last JSON-object line), with `seconds` as
 * the window when the line has none. Latencies come as percentiles (ms), not samples.
 */
export const parseReport = (stdout: string, seconds: number): Result => {
  const line = stdout.split("\n").map((l) => l.trim()).reverse().find((l) => l.startsWith("{") && l.endsWith("}"))
  if (line === undefined) throw new Error("no JSON line on stdout")
  const parsed: unknown = JSON.parse(line)
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("the last JSON line is not an object")
  const report = parsed as Record<string, unknown>
  const requests = field(report, "requests", false)!
  const errors = field(report, "errors", true) ?? 0
  if (!Number.isInteger(requests)) throw new Error(`"requests" is ${requests}, expected a whole number`)
  if (errors > 0) throw new Error(`${errors} requests failed or were answered wrongly`)
  const window = field(report, "seconds", true) ?? seconds
  if (window === 0) throw new Error(`"seconds" is 0`)
  return {
    requests,
    seconds: window,
    latencies: [],
    percentiles: { p50: field(report, "p50Us", false)! / 1000, p99: field(report, "p99Us", false)! / 1000 },
    cpu: field(report, "cpuUs", false)! / 1e6 / window
  }
}

/** One run of `external` against the echo server on `port`: `inFlight` requests of `bodySize` bytes. */
export const runExternal = (
  external: External,
  port: number,
  inFlight: number,
  bodySize: number,
  timing: Timing
): Promise<Result> =>
  new Promise((resolve, reject) => {
    const request = requestFor(bodySize)
    const [program, ...fixed] = external.command
    const args = [
      ...fixed,
      ...["--host", "127.0.0.1", "--port", String(port), "--body", String(bodySize), "--in-flight", String(inFlight)],
      ...["--warmup-ms", String(timing.warmupMs), "--seconds", String(timing.seconds)],
      ...["--code", String(request.code), "--ext-fields", JSON.stringify(request.extFields ?? {}), "--timeout-ms", "10000"]
    ]
    const child = spawn(program!, args, { stdio: ["ignore", "pipe", "inherit"] })
    let stdout = ""
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    const fail = (why: string) =>
      reject(new Error(`external client ${external.name} (${external.command.join(" ")}): ${why}\nstdout: ${stdout.slice(-2000)}`))
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      fail(`no answer ${timing.warmupMs + timing.seconds * 1000 + 15_000} ms after its start`)
    }, timing.warmupMs + timing.seconds * 1000 + 15_000)
    child.once("error", (e) => {
      clearTimeout(timer)
      fail(e.message)
    })
    child.once("close", (code, signal) => {
      clearTimeout(timer)
      if (code !== 0) return fail(`exited with ${signal ?? code}`)
      try {
        resolve(parseReport(stdout, timing.seconds))
      } catch (e) {
        fail(e instanceof Error ? e.message : String(e))
      }
    })
  })
