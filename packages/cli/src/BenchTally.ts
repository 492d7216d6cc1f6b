/**
 * What `rmq bench` counts while it runs — messages, bytes, errors, and latencies both for the whole
 * run and for the interval since the last progress line — and the progress line drawn from it
 * (`produce 12,345 sent  4,321 msg/s  p50 1.20 ms  p99 3.40 ms  errors 0`).
 *
 * Mutable and synchronous on purpose: it is updated once per message on the hot path of a
 * benchmark, where an Effect per sample would cost more than the work it measures.
 *
 * @since 0.1.0
 */
import * as Latency from "./Latency.ts"
import * as Output from "./Output.ts"

/**
 * @since 0.1.0
 * @category models
 */
export interface Tally {
  done: number
  bytes: number
  errors: number
  lastError: string | undefined
  /** Latencies since the last progress line. */
  readonly window: Latency.Histogram
  /** Latencies of the whole run. */
  readonly total: Latency.Histogram
}

/**
 * An empty tally.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (): Tally => ({ done: 0, bytes: 0, errors: 0, lastError: undefined, window: Latency.make(), total: Latency.make() })

/**
 * Counts one message of `bytes` that took `ms`.
 *
 * @since 0.1.0
 * @category mutations
 */
export const record = (tally: Tally, ms: number, bytes: number): void => {
  tally.done++
  tally.bytes += bytes
  Latency.record(tally.window, ms)
  Latency.record(tally.total, ms)
}

/**
 * Counts one failure, keeping its message as the last error.
 *
 * @since 0.1.0
 * @category mutations
 */
export const fail = (tally: Tally, message: string): void => {
  tally.errors++
  tally.lastError = Output.oneLine(message)
}

/**
 * A count with thousands separators.
 *
 * @since 0.1.0
 * @category formatting
 */
export const count = (n: number): string => n.toLocaleString("en-US")

/**
 * The progress line of a run (`label`, then the messages `verb`, e.g. "sent"): the total, then
 * the rate and latency percentiles of the interval since the previous line, and the errors when
 * `errors` is set. Each call starts a new interval.
 *
 * @since 0.1.0
 * @category formatting
 */
export const liveLine = (tally: Tally, options: { readonly label: string; readonly verb: string; readonly errors: boolean }) => {
  let lastDone = 0
  let lastAt = performance.now()
  return (): string => {
    const now = performance.now()
    const rate = ((tally.done - lastDone) * 1000) / Math.max(1, now - lastAt)
    const line = `${options.label} ${count(tally.done)} ${options.verb}  ${count(Math.round(rate))} msg/s  ` +
      `p50 ${Output.millis(Latency.percentile(tally.window, 50) || 0)} ms  ` +
      `p99 ${Output.millis(Latency.percentile(tally.window, 99) || 0)} ms` +
      (options.errors ? `  errors ${count(tally.errors)}` : "")
    lastDone = tally.done
    lastAt = now
    Latency.reset(tally.window)
    return line
  }
}

/**
 * The run's latency percentiles and maximum, in milliseconds, for a summary.
 *
 * @since 0.1.0
 * @category getters
 */
export const latencies = (tally: Tally): { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number } => ({
  p50Ms: Latency.percentile(tally.total, 50),
  p99Ms: Latency.percentile(tally.total, 99),
  maxMs: tally.total.max
})

/**
 * `p50 X ms, p99 Y ms, max Z ms`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const latencyText = (l: ReturnType<typeof latencies>): string =>
  `p50 ${Output.millis(l.p50Ms)} ms, p99 ${Output.millis(l.p99Ms)} ms, max ${Output.millis(l.maxMs)} ms`
