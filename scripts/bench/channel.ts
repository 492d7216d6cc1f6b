/**
 * Channel benchmark: our Channel against hand-written node:net clients over the same frames
 * (channel-wire.ts: raw, raw-json, effect-floor), interleaved in one run, against one echo server
 * in its own process (echo-server.ts).
 *
 * Effect clients run in two caller shapes:
 * - forEach: a fiber per request, as an Effect user writes it — `Effect.forEach(requests, call,
 *   { concurrency: N })` over batches of 32 x N requests, again and again;
 * - loops: N long-lived fibers, each calling in a closed loop.
 *
 * Effect clients: effect-floor (the least an Effect program pays per request), channel
 * (`Channel.sendWaitResponse`), client (`RemotingClient.invoke`: the channel plus the client's
 * policy), and the bulk path: channel bulk (`sendWaitResponseAll` of N requests, again and again)
 * and channel stream (`sendWaitResponseStream`, about N in flight). The bulk rows compare with the
 * closed-loop effect-floor.
 *
 * External clients (a program in any language, e.g. another RocketMQ client) run as more rows of
 * the same rounds: BENCH_EXTERNAL='name=program [args]' (comma-separated for more). Per case and
 * round the program gets `--host 127.0.0.1 --port P --body BYTES --in-flight N --warmup-ms W
 * --seconds S --code C --ext-fields JSON --timeout-ms T`, keeps N requests in flight, and prints
 * one JSON line: {"requests":n,"seconds":s,"p50Us":x,"p99Us":y,"cpuUs":c,"errors":0} — requests
 * answered in the window, latency percentiles (µs), its process CPU (µs) over the window (the
 * full contract: channel-external.ts). Their latency columns are the median round's percentiles;
 * their ratios to effect-floor are to the closed-loop one.
 *
 * Cases: in flight 1, 64, 1024 x bodies 128 B and 64 KiB. Prints requests/s (median of the
 * rounds), p50/p99 latency (over all rounds), the client process's CPU (share of one core) and
 * ratios to raw, raw-json and effect-floor (of the same caller shape); then heap bytes per pending
 * request with 100,000 pending.
 *
 *   npm run bench:channel     (BENCH_SECONDS=1.5 BENCH_ROUNDS=3 by default; BENCH_BODIES=65536
 *                              BENCH_IN_FLIGHT=1,64 BENCH_CLIENTS=raw-json,channel run some only;
 *                              BENCH_ISOLATE=1 runs each client's every run in a fresh process,
 *                              after a warm-up of 1 s instead of 0.3 s;
 *                              -- --no-heap skips the heap measurement, -- --heap-only runs it alone)
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as Os from "node:os"
import { performance } from "node:perf_hooks"
import { Effect, Fiber, Result, Scope, Stream } from "effect"
import * as Channel from "../../packages/remoting/src/Channel.ts"
import * as RemotingClient from "../../packages/remoting/src/RemotingClient.ts"
import { type External, parseExternal, runExternal } from "./channel-external.ts"
import { heapPerPending } from "./channel-heap.ts"
import { type Call, cpuShare, openFloor, requestFor, type Result as Run, runRaw, type Timing } from "./channel-wire.ts"
import { fmt, listFromEnv, median, percentile, table } from "./harness.ts"

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const ISOLATE = process.env.BENCH_ISOLATE === "1"
// A fresh process compiles the client's code during its warm-up: a longer one keeps that out of the window.
const TIMING: Timing = { warmupMs: ISOLATE ? 1000 : 300, seconds: Number(process.env.BENCH_SECONDS ?? 1.5) }

const startServer = (silent: boolean): Promise<{ port: number; child: ChildProcess }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [new URL("./echo-server.ts", import.meta.url).pathname, ...(silent ? ["--silent"] : [])], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    child.stdout!.once("data", (d: Buffer) => {
      const m = /listening (\d+)/.exec(String(d))
      if (m) resolve({ port: Number(m[1]), child })
      else reject(new Error(`echo server said: ${d}`))
    })
    child.once("error", reject)
  })

// -------------------------------------------------------------------------------------------------
// Effect callers
// -------------------------------------------------------------------------------------------------

type Shape = "forEach" | "loops"

/** Measures `drive` (which calls `record(t0)` per answered request) over the measured window. */
const measured = <E>(drive: (record: (t0: number) => void, stopped: () => boolean) => Effect.Effect<void, E>) =>
  Effect.gen(function*() {
    let measuring = false
    let stop = false
    let count = 0
    const latencies: Array<number> = []
    const record = (t0: number) => {
      if (measuring) {
        count++
        latencies.push(performance.now() - t0)
      }
    }
    const fiber = yield* Effect.forkChild(drive(record, () => stop))
    yield* Effect.promise(() => new Promise((r) => setTimeout(r, TIMING.warmupMs)))
    measuring = true
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    yield* Effect.promise(() => new Promise((r) => setTimeout(r, TIMING.seconds * 1000)))
    measuring = false
    const seconds = (performance.now() - t0) / 1000
    const cpu = cpuShare(cpu0, seconds)
    stop = true
    yield* Fiber.join(fiber)
    return { requests: count, seconds, latencies, cpu } satisfies Run
  })

/** `call` driven in `shape` with `inFlight` requests in flight. */
const runCalls = (open: Effect.Effect<Call, unknown, Scope.Scope>, shape: Shape, inFlight: number, bodySize: number) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const call = yield* open
    const request = requestFor(bodySize)
    return yield* measured((record, stopped) => {
      // Once stopped, the rest of a forEach batch is skipped rather than sent.
      const timed = Effect.suspend(() => {
        if (stopped()) return Effect.void
        const t0 = performance.now()
        return Effect.map(call(request), () => record(t0))
      })
      if (shape === "loops") {
        const loop = Effect.whileLoop({ while: () => !stopped(), body: () => timed, step: () => {} })
        return Effect.forEach(Array.from({ length: inFlight }), () => loop, { concurrency: inFlight, discard: true })
      }
      const batch = Array.from({ length: 32 * inFlight })
      return Effect.whileLoop({
        while: () => !stopped(),
        body: () => Effect.forEach(batch, () => timed, { concurrency: inFlight, discard: true }),
        step: () => {}
      })
    })
  })))

/** The request's outcome, or a defect: every request of the benchmark is answered. */
const answered = (outcome: Result.Result<unknown, unknown>) =>
  Result.isSuccess(outcome) ? Effect.void : Effect.die(new Error(`a bulk request failed: ${String(outcome.failure)}`))

/**
 * The bulk path: one fiber sending `inFlight` requests at a time with `sendWaitResponseAll` and
 * waiting for all of them, again and again ("bulk"); or a stream of requests through
 * `sendWaitResponseStream` in chunks of inFlight/2 with two chunks in flight ("stream").
 */
const runBulk = (port: number, kind: "bulk" | "stream", inFlight: number, bodySize: number) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const channel = yield* Channel.make({ host: "127.0.0.1", port })
    const request = requestFor(bodySize)
    return yield* measured((record, stopped) => {
      if (kind === "bulk") {
        const batch = Array.from({ length: inFlight }, () => request)
        return Effect.whileLoop({
          while: () => !stopped(),
          body: () =>
            Effect.suspend(() => {
              const t0 = performance.now()
              return Effect.flatMap(channel.sendWaitResponseAll(batch, 10_000), (outcomes) =>
                Effect.forEach(outcomes, (o) => Effect.as(answered(o), record(t0)), { discard: true }))
            }),
          step: () => {}
        })
      }
      const chunk = Array.from({ length: Math.max(1, inFlight >> 1) }, () => request)
      const starts: Array<number> = []
      let head = 0
      const source = Stream.fromArray(chunk).pipe(
        Stream.forever,
        Stream.takeWhile(() => !stopped()),
        Stream.mapArray((c) => {
          const t0 = performance.now()
          for (let i = 0; i < c.length; i++) starts.push(t0)
          return c
        })
      )
      return channel.sendWaitResponseStream(source, { timeoutMillis: 10_000, concurrency: inFlight === 1 ? 1 : 2 }).pipe(
        Stream.runForEach((outcome) => Effect.as(answered(outcome), record(starts[head++]!)))
      )
    })
  })))

const openChannel = (port: number): Effect.Effect<Call, unknown, Scope.Scope> =>
  Effect.map(Channel.make({ host: "127.0.0.1", port }), (channel) => (request) => channel.sendWaitResponse(request, 10_000))

const openClient = (port: number): Effect.Effect<Call, unknown, Scope.Scope> =>
  Effect.map(RemotingClient.make(), (client) => (request) => client.invoke(`127.0.0.1:${port}`, request, 10_000))

// -------------------------------------------------------------------------------------------------

interface Client {
  readonly name: string
  /** The effect-floor row this client is compared with (same caller shape). */
  readonly floor: string
  readonly run: (inFlight: number, bodySize: number) => Promise<Run>
}

/**
 * `client`'s run in a process of its own (BENCH_ISOLATE=1): this script again with `--child`, which
 * runs that one client once and prints its result as JSON. In one process every client runs after
 * others, on a heap they grew and with Effect's runtime compiled for their call shapes; alone, a
 * client meets only its own.
 */
const isolated = (client: Client, port: number): Client => ({
  ...client,
  run: (inFlight, bodySize) =>
    new Promise((resolve, reject) => {
      const args = [...process.execArgv, process.argv[1]!, "--child", client.name, String(port), String(inFlight), String(bodySize)]
      const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] })
      const out: Array<Buffer> = []
      child.stdout!.on("data", (d: Buffer) => out.push(d))
      child.once("error", reject)
      child.once("exit", (code) =>
        code === 0
          ? resolve(JSON.parse(Buffer.concat(out).toString()) as Run)
          : reject(new Error(`${client.name} exited with ${code} in its own process`)))
    })
})

/** The `--child` side of {@link isolated}: one run of one client, its result on stdout. */
const childRun = async (args: ReadonlyArray<string>) => {
  const [name, port, inFlight, bodySize] = args
  const client = clientsFor(Number(port), []).find((c) => c.name === name)
  if (client === undefined) throw new Error(`no client named "${name}"`)
  const run = await client.run(Number(inFlight), Number(bodySize))
  process.stdout.write(JSON.stringify({ ...run, latencies: run.latencies.map((l) => Math.round(l * 1000) / 1000) }))
}

const clientsFor = (port: number, externals: ReadonlyArray<External>): ReadonlyArray<Client> => {
  const effect = (name: string, open: Effect.Effect<Call, unknown, Scope.Scope>, shape: Shape): Client => ({
    name: `${name} ${shape}`,
    floor: `effect-floor ${shape}`,
    run: (f, b) => runCalls(open, shape, f, b)
  })
  const all: ReadonlyArray<Client> = [
    { name: "raw", floor: "effect-floor forEach", run: (f, b) => runRaw(port, f, b, false, TIMING) },
    { name: "raw-json", floor: "effect-floor forEach", run: (f, b) => runRaw(port, f, b, true, TIMING) },
    effect("effect-floor", openFloor(port), "forEach"),
    effect("effect-floor", openFloor(port), "loops"),
    effect("channel", openChannel(port), "forEach"),
    effect("channel", openChannel(port), "loops"),
    effect("client", openClient(port), "forEach"),
    { name: "channel bulk", floor: "effect-floor loops", run: (f, b) => runBulk(port, "bulk", f, b) },
    { name: "channel stream", floor: "effect-floor loops", run: (f, b) => runBulk(port, "stream", f, b) },
    ...externals.map((x): Client => ({
      name: x.name,
      floor: "effect-floor loops",
      run: (f, b) => runExternal(x, port, f, b, TIMING)
    }))
  ]
  const only = process.env.BENCH_CLIENTS?.split(",")
  return only === undefined ? all : all.filter((c) => only.some((o) => c.name.startsWith(o)) || c.name === "raw-json")
}

interface Stat {
  readonly rps: number
  readonly p50: number
  readonly p99: number
  readonly cpu: number
  /** Client CPU per request (µs): on a shared machine, steadier than req/s, which is bounded by the CPU share a process gets. */
  readonly cpuPerRequest: number
}

const statOf = (rs: ReadonlyArray<Run>): Stat => {
  const all = rs.flatMap((x) => x.latencies).sort((a, b) => a - b)
  // An external client reports percentiles per round, not samples: the median round's.
  const reported = (key: "p50" | "p99") => median(rs.map((x) => x.percentiles?.[key] ?? NaN))
  return {
    rps: median(rs.map((x) => x.requests / x.seconds)),
    p50: all.length > 0 ? percentile(all, 50) : reported("p50"),
    p99: all.length > 0 ? percentile(all, 99) : reported("p99"),
    cpu: median(rs.map((x) => x.cpu)),
    cpuPerRequest: median(rs.map((x) => (x.cpu * x.seconds * 1e6) / Math.max(1, x.requests)))
  }
}

const ratio = (a: number, b: number | undefined) => (b === undefined ? "–" : fmt(a / b, 2) + "x")

const main = async () => {
  const childAt = process.argv.indexOf("--child")
  if (childAt >= 0) return childRun(process.argv.slice(childAt + 1))
  if (process.argv.includes("--heap-only")) return heapOnly()
  const externals = parseExternal(process.env.BENCH_EXTERNAL)
  const { port, child } = await startServer(false)
  // External clients run in processes of their own already.
  const isExternal = (c: Client) => externals.some((x) => x.name === c.name)
  const clients = clientsFor(port, externals).map((c) => (ISOLATE && !isExternal(c) ? isolated(c, port) : c))
  const rows: Array<Array<string>> = []
  const load = Os.loadavg().map((l) => l.toFixed(2)).join(" ")
  try {
    for (const bodySize of listFromEnv("BENCH_BODIES", [128, 64 * 1024])) {
      for (const inFlight of listFromEnv("BENCH_IN_FLIGHT", [1, 64, 1024])) {
        const results = new Map<string, Array<Run>>(clients.map((c) => [c.name, []]))
        for (let r = 0; r < ROUNDS; r++) {
          for (const c of clients) results.get(c.name)!.push(await c.run(inFlight, bodySize))
        }
        const stats = new Map([...results].map(([name, rs]) => [name, statOf(rs)]))
        const body = bodySize === 128 ? "128 B" : bodySize === 65536 ? "64 KiB" : `${bodySize} B`
        for (const c of clients) {
          const s = stats.get(c.name)!
          rows.push([
            body,
            String(inFlight),
            c.name,
            fmt(s.rps),
            fmt(s.p50 * 1000, 0),
            fmt(s.p99 * 1000, 0),
            fmt(s.cpu * 100, 0),
            ratio(s.rps, stats.get("raw")?.rps),
            ratio(s.rps, stats.get("raw-json")?.rps),
            ratio(s.rps, stats.get(c.floor)?.rps),
            fmt(s.cpuPerRequest, 1),
            ratio(stats.get("raw-json")!.cpuPerRequest, s.cpuPerRequest),
            stats.get(c.floor) === undefined ? "–" : ratio(stats.get(c.floor)!.cpuPerRequest, s.cpuPerRequest)
          ])
        }
        process.stderr.write(`done: ${body} x ${inFlight} (load ${Os.loadavg()[0]!.toFixed(2)})\n`)
      }
    }
  } finally {
    child.kill("SIGTERM")
  }
  console.log(
    `Channel vs hand-written node:net clients, ${ROUNDS} interleaved rounds of ${TIMING.seconds}s per client per case, ` +
      `${ISOLATE ? "each run in a process of its own" : "all in one process"} ` +
      `(${process.version}, ${Os.cpus().length} CPUs, load average at start ${load}).`
  )
  console.log(
    "req/s: median round; latency: over all rounds; CPU: client process, % of one core (median round); " +
      "vs …: req/s ratios; CPU µs/req: client CPU per request (median round); CPU eff. vs …: the other's CPU µs/req / this one's " +
      "(above 1: this one spends less CPU per request).\n"
  )
  console.log(table(
    [
      "body",
      "in flight",
      "client",
      "req/s",
      "p50 µs",
      "p99 µs",
      "CPU %",
      "vs raw",
      "vs raw-json",
      "vs effect-floor",
      "CPU µs/req",
      "CPU eff. vs raw-json",
      "CPU eff. vs effect-floor"
    ],
    rows
  ))
  if (!process.argv.includes("--no-heap")) await heapOnly()
}

const heapOnly = async () => {
  const silent = await startServer(true)
  try {
    const perPending = await heapPerPending(silent.port, 100_000)
    console.log(
      perPending === undefined
        ? "\nHeap per pending request: run with node --expose-gc to measure."
        : `\nHeap per pending request, 100,000 pending: ${fmt(perPending.total)} bytes in all, of which ` +
          `${fmt(perPending.fibers)} are the caller's own parked fiber (measured alone) and ` +
          `${fmt(perPending.total - perPending.fibers)} the channel's (entry, table, deadline order, encoded frame until written).`
    )
  } finally {
    silent.child.kill("SIGTERM")
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
