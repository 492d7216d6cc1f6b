/**
 * A tiny benchmark harness: run cases interleaved in rounds, report the median of the rounds.
 * Interleaving keeps A and B under the same machine conditions (thermal, other load, GC state).
 */

export interface Case {
  readonly name: string
  /** Runs the operation `n` times; returns something so the work cannot be optimised away. */
  readonly run: (n: number) => unknown
}

let sink: unknown
export const consume = (value: unknown): void => {
  sink = value
}

const nowNs = (): bigint => process.hrtime.bigint()

/** Calibrates `n` so that one batch takes about `targetMs`. */
const calibrate = (c: Case, targetMs: number): number => {
  let n = 1
  for (;;) {
    const start = nowNs()
    consume(c.run(n))
    const ms = Number(nowNs() - start) / 1e6
    if (ms >= targetMs / 4 || n >= 1 << 28) return Math.max(1, Math.round((n * targetMs) / Math.max(ms, 0.001)))
    n *= 4
  }
}

/** Median ns per operation of each case, measured in `rounds` interleaved rounds. */
export const measure = (cases: ReadonlyArray<Case>, options?: { rounds?: number; targetMs?: number }): Map<string, number> => {
  const rounds = options?.rounds ?? 7
  const targetMs = options?.targetMs ?? 60
  const sizes = cases.map((c) => calibrate(c, targetMs))
  const samples = cases.map(() => [] as Array<number>)
  for (let r = 0; r < rounds; r++) {
    cases.forEach((c, i) => {
      const n = sizes[i]!
      const start = nowNs()
      consume(c.run(n))
      samples[i]!.push(Number(nowNs() - start) / n)
    })
  }
  void sink
  return new Map(cases.map((c, i) => [c.name, median(samples[i]!)]))
}

export const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

export const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

/** Prints an aligned table. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: ReadonlyArray<string>) => "| " + cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ") + " |"
  return [line(header), "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|", ...rows.map(line)].join("\n")
}

export const fmt = (n: number, digits = 0): string =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })

/** A positive whole number from the environment variable `name`, or `fallback`; throws on anything else. */
export const intFromEnv = (name: string, fallback: number): number => {
  const n = Number(process.env[name] ?? fallback)
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}=${process.env[name]} is not a positive whole number`)
  return n
}

/** A comma-separated list of positive whole numbers from `name` (others dropped), or `fallback`. */
export const listFromEnv = (name: string, fallback: ReadonlyArray<number>): ReadonlyArray<number> =>
  process.env[name] === undefined ? fallback : process.env[name]!.split(",").map(Number).filter((n) => Number.isInteger(n) && n > 0)

/** The environment variable `name`, which must be set and not empty (a child process's input). */
export const requiredEnv = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === "") throw new Error(`${name} is not set`)
  return value
}
