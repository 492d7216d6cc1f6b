/**
 * Channel benchmark: our Channel against two hand-written node:net clients over the same frames,
 * interleaved in one run, against one echo server in its own process (echo-server.ts).
 *
 * - raw: the physical limit in Node — a pre-encoded request with its opaque patched in place, the
 *   response header scanned for the opaque without JSON.parse, one socket write per tick, one
 *   callback per in-flight slot;
 * - raw-json: the same socket handling, but JSON.stringify / JSON.parse of every header and a Map
 *   of pending requests (the least work an honest JSON client does);
 * - channel: Channel.sendWaitResponse from `inFlight` fibers, each in a closed loop;
 * - client: RemotingClient.invoke the same way (the channel plus the client's policy: address
 *   lookup, permits, the pooled channel's lease, hooks and GO_AWAY handling).
 *
 * Cases: in flight 1, 64, 1024 x bodies 128 B and 64 KiB. Prints requests/s, p50/p99 latency and
 * ratios; then heap bytes per pending request with 100,000 pending.
 *
 *   npm run bench:channel              (BENCH_SECONDS=1.5 BENCH_ROUNDS=3 by default;
 *                                       BENCH_BODIES=65536 BENCH_IN_FLIGHT=1,64 run some cases only)
 */
import { Buffer } from "node:buffer"
import { type ChildProcess, spawn } from "node:child_process"
import * as Net from "node:net"
import { performance } from "node:perf_hooks"
import { Effect, Exit, Fiber, Scope } from "effect"
import * as Channel from "../../packages/remoting/src/Channel.ts"
import * as Codec from "../../packages/remoting/src/Codec.ts"
import * as RemotingClient from "../../packages/remoting/src/RemotingClient.ts"
import * as RemotingCommand from "../../packages/remoting/src/RemotingCommand.ts"
import { fmt, median, percentile, table } from "./harness.ts"

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1.5)
/** A comma-separated list of numbers from the environment (to run some cases only). */
const listFromEnv = (name: string, fallback: ReadonlyArray<number>): ReadonlyArray<number> =>
  process.env[name] === undefined ? fallback : process.env[name]!.split(",").map(Number).filter((n) => n > 0)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const WARMUP_MS = 300
const OPAQUE_KEY = Buffer.from("\"opaque\":")
const SLOT = 11

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

const requestFor = (bodySize: number) =>
  RemotingCommand.make({
    code: 310,
    extFields: {
      a: "bench-producer-group",
      b: "BenchTopic",
      c: "TBW102",
      d: "4",
      e: "0",
      f: "0",
      g: "1732400000000",
      h: "0"
    },
    body: Buffer.alloc(bodySize, 0x61)
  })

interface Result {
  readonly requests: number
  readonly seconds: number
  readonly latencies: Array<number>
}

// -------------------------------------------------------------------------------------------------
// Hand-written clients
// -------------------------------------------------------------------------------------------------

const connect = (port: number): Promise<Net.Socket> =>
  new Promise((resolve, reject) => {
    const socket = Net.createConnection({ host: "127.0.0.1", port, noDelay: true })
    socket.once("connect", () => resolve(socket))
    socket.once("error", reject)
  })

/** Frame reassembly shared by both hand-written clients: calls onFrame(buf, start, total). */
const frameReader = (onFrame: (buf: Buffer, start: number, total: number) => void) => {
  let pending: Buffer | undefined
  return (chunk: Buffer) => {
    const buf = pending === undefined ? chunk : Buffer.concat([pending, chunk])
    pending = undefined
    let pos = 0
    while (buf.length - pos >= 4) {
      const total = 4 + buf.readInt32BE(pos)
      if (buf.length - pos < total) break
      onFrame(buf, pos, total)
      pos += total
    }
    if (pos < buf.length) pending = buf.subarray(pos)
  }
}

const runRaw = async (port: number, inFlight: number, bodySize: number, json: boolean): Promise<Result> => {
  const socket = await connect(port)
  const request = requestFor(bodySize)
  const body = Buffer.from(request.body!)
  // raw: one template with a space-padded opaque slot, copied into the batch buffer and patched.
  const text = Codec.encodeJsonHeaderText(RemotingCommand.withOpaque(request, 0)).replace("\"opaque\":0", `"opaque":${" ".repeat(SLOT)}`)
  const headerBytes = Buffer.from(text)
  const slot = text.indexOf("\"opaque\":") + OPAQUE_KEY.length
  const plainHeader = {
    code: request.code,
    extFields: { ...request.extFields },
    flag: 0,
    language: "JAVA",
    opaque: 0,
    serializeTypeCurrentRPC: "JSON",
    version: 479
  }
  let measuring = false
  let stop = false
  let count = 0
  const latencies: Array<number> = []
  const startedAt = new Float64Array(inFlight)
  const pendingJson = new Map<number, number>() // opaque -> slot
  let nextOpaque = 0
  let queued: Array<number> = []
  let flushScheduled = false

  const flush = () => {
    flushScheduled = false
    const slots = queued
    queued = []
    const parts: Array<Buffer> = []
    let size = 0
    if (!json) {
      const frameLength = 8 + headerBytes.length + body.length
      const inlineBody = body.length <= 16384
      const out = Buffer.allocUnsafe(slots.length * (inlineBody ? frameLength : frameLength - body.length))
      let pos = 0
      for (const i of slots) {
        out.writeInt32BE(frameLength - 4, pos)
        out.writeInt32BE(headerBytes.length, pos + 4)
        headerBytes.copy(out, pos + 8)
        out.write(String(i).padEnd(SLOT, " "), pos + 8 + slot, "latin1")
        pos += 8 + headerBytes.length
        if (inlineBody) pos += body.copy(out, pos)
        else {
          parts.push(out.subarray(size, pos), body)
          size = pos
        }
      }
      if (size < pos) parts.push(out.subarray(size, pos))
    } else {
      for (const i of slots) {
        const opaque = nextOpaque = (nextOpaque + 1) | 0
        pendingJson.set(opaque, i)
        plainHeader.opaque = opaque
        const header = Buffer.from(JSON.stringify(plainHeader))
        const prefix = Buffer.allocUnsafe(8)
        prefix.writeInt32BE(4 + header.length + body.length, 0)
        prefix.writeInt32BE(header.length, 4)
        parts.push(prefix, header, body)
      }
    }
    socket.cork()
    for (const p of parts) socket.write(p)
    socket.uncork()
  }

  const sendSlot = (i: number) => {
    startedAt[i] = performance.now()
    queued.push(i)
    if (!flushScheduled) {
      flushScheduled = true
      setImmediate(flush)
    }
  }

  const complete = (i: number) => {
    if (measuring) {
      count++
      latencies.push(performance.now() - startedAt[i]!)
    }
    if (!stop) sendSlot(i)
  }

  let done: () => void
  const finished = new Promise<void>((r) => (done = r))
  let outstanding = inFlight
  const onFrame = (buf: Buffer, start: number, total: number) => {
    const headerLength = buf.readInt32BE(start + 4) & 0xffffff
    const headerStart = start + 8
    let slotIndex: number
    if (!json) {
      const at = buf.indexOf(OPAQUE_KEY, headerStart)
      let p = at + OPAQUE_KEY.length
      let n = 0
      while (buf[p]! >= 0x30 && buf[p]! <= 0x39) n = n * 10 + (buf[p++]! - 0x30)
      slotIndex = n
    } else {
      const header = JSON.parse(buf.toString("utf8", headerStart, headerStart + headerLength)) as { opaque: number }
      slotIndex = pendingJson.get(header.opaque)!
      pendingJson.delete(header.opaque)
    }
    void total
    if (stop) {
      if (--outstanding === 0) done()
      return
    }
    complete(slotIndex)
  }
  socket.on("data", frameReader(onFrame))
  for (let i = 0; i < inFlight; i++) sendSlot(i)
  await new Promise((r) => setTimeout(r, WARMUP_MS))
  measuring = true
  const t0 = performance.now()
  await new Promise((r) => setTimeout(r, SECONDS * 1000))
  measuring = false
  const seconds = (performance.now() - t0) / 1000
  stop = true
  await Promise.race([finished, new Promise((r) => setTimeout(r, 2000))])
  socket.destroy()
  return { requests: count, seconds, latencies }
}

// -------------------------------------------------------------------------------------------------
// Our channel and client
// -------------------------------------------------------------------------------------------------

type Call = (request: RemotingCommand.RemotingCommand) => Effect.Effect<unknown, unknown>

const openChannel = (port: number): Effect.Effect<Call, unknown, Scope.Scope> =>
  Effect.map(Channel.make({ host: "127.0.0.1", port }), (channel) => (request) => channel.sendWaitResponse(request, 10_000))

const openClient = (port: number): Effect.Effect<Call, unknown, Scope.Scope> =>
  Effect.map(RemotingClient.make(), (client) => (request) => client.invoke(`127.0.0.1:${port}`, request, 10_000))

/** `inFlight` fibers, each calling in a closed loop through what `open` gives. */
const runEffect = (open: Effect.Effect<Call, unknown, Scope.Scope>, inFlight: number, bodySize: number): Promise<Result> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function*() {
        const call = yield* open
        const request = requestFor(bodySize)
        let measuring = false
        let stop = false
        let count = 0
        const latencies: Array<number> = []
        const worker = Effect.gen(function*() {
          while (!stop) {
            const t0 = performance.now()
            yield* call(request)
            if (measuring) {
              count++
              latencies.push(performance.now() - t0)
            }
          }
        })
        const fiber = yield* Effect.forkChild(
          Effect.forEach(Array.from({ length: inFlight }), () => worker, { concurrency: inFlight, discard: true })
        )
        yield* Effect.promise(() => new Promise((r) => setTimeout(r, WARMUP_MS)))
        measuring = true
        const t0 = performance.now()
        yield* Effect.promise(() => new Promise((r) => setTimeout(r, SECONDS * 1000)))
        measuring = false
        const seconds = (performance.now() - t0) / 1000
        stop = true
        yield* Fiber.join(fiber)
        return { requests: count, seconds, latencies }
      })
    )
  )

// -------------------------------------------------------------------------------------------------
// Heap per pending request
// -------------------------------------------------------------------------------------------------

const gc = (globalThis as { gc?: () => void }).gc

/**
 * Heap bytes per pending request with `n` requests waiting on a silent server: the whole cost
 * (caller fibers included), and the caller fibers alone (the same number parked in a bare
 * Effect.callback), whose difference is what the channel itself holds per request.
 */
const heapPerPending = async (port: number, n: number): Promise<{ total: number; fibers: number } | undefined> => {
  if (gc === undefined) return undefined
  const measure = (park: Effect.Effect<unknown>, ready: () => Effect.Effect<boolean>) =>
    Effect.gen(function*() {
      gc()
      const before = process.memoryUsage().heapUsed
      const fiber = yield* Effect.forkChild(
        Effect.forEach(Array.from({ length: n }), () => park, { concurrency: "unbounded", discard: true })
      )
      for (let i = 0; i < 500 && !(yield* ready()); i++) yield* Effect.sleep(20)
      yield* Effect.sleep(200)
      gc()
      const after = process.memoryUsage().heapUsed
      yield* Fiber.interrupt(fiber)
      return (after - before) / n
    })
  return Effect.runPromise(
    Effect.gen(function*() {
      const fibers = yield* measure(
        Effect.callback<void>(() => Effect.sync(() => {})),
        () => Effect.succeed(true)
      )
      const scope = yield* Scope.make()
      const channel = yield* Channel.make({ host: "127.0.0.1", port }).pipe(Scope.provide(scope))
      const request = requestFor(128)
      const total = yield* measure(
        Effect.exit(channel.sendWaitResponse(request, 600_000)),
        () => Effect.map(channel.pending, (p) => p >= n && channel.diagnostics().queued === 0)
      )
      yield* Scope.close(scope, Exit.void)
      return { total, fibers }
    })
  )
}

// -------------------------------------------------------------------------------------------------

const main = async () => {
  if (process.argv.includes("--heap-only")) return heapOnly()
  const { port, child } = await startServer(false)
  const clients = [
    { name: "raw", run: (f: number, b: number) => runRaw(port, f, b, false) },
    { name: "raw-json", run: (f: number, b: number) => runRaw(port, f, b, true) },
    { name: "channel", run: (f: number, b: number) => runEffect(openChannel(port), f, b) },
    { name: "client", run: (f: number, b: number) => runEffect(openClient(port), f, b) }
  ]
  const rows: Array<Array<string>> = []
  const summary: Array<string> = []
  try {
    for (const bodySize of listFromEnv("BENCH_BODIES", [128, 64 * 1024])) {
      for (const inFlight of listFromEnv("BENCH_IN_FLIGHT", [1, 64, 1024])) {
        const results = new Map<string, Array<Result>>(clients.map((c) => [c.name, []]))
        for (let r = 0; r < ROUNDS; r++) {
          for (const c of clients) results.get(c.name)!.push(await c.run(inFlight, bodySize))
        }
        const stat = (name: string) => {
          const rs = results.get(name)!
          const rps = median(rs.map((x) => x.requests / x.seconds))
          const all = rs.flatMap((x) => x.latencies).sort((a, b) => a - b)
          return { rps, p50: percentile(all, 50), p99: percentile(all, 99) }
        }
        const raw = stat("raw")
        const rawJson = stat("raw-json")
        for (const c of clients) {
          const s = stat(c.name)
          rows.push([
            bodySize === 128 ? "128 B" : "64 KiB",
            String(inFlight),
            c.name,
            fmt(s.rps),
            fmt(s.p50 * 1000, 0),
            fmt(s.p99 * 1000, 0),
            fmt(s.rps / raw.rps, 2) + "x",
            fmt(s.rps / rawJson.rps, 2) + "x",
            fmt(s.p50 / raw.p50, 2) + "x"
          ])
        }
        const ch = stat("channel")
        const cl = stat("client")
        summary.push(
          `${bodySize === 128 ? "128 B" : "64 KiB"} x ${inFlight}: channel ${fmt(ch.rps / raw.rps, 2)}x raw, ` +
            `${fmt(ch.rps / rawJson.rps, 2)}x raw-json, p50 ${fmt(ch.p50 / raw.p50, 2)}x raw; ` +
            `client ${fmt(cl.rps / raw.rps, 2)}x raw, ${fmt(cl.rps / ch.rps, 2)}x channel`
        )
        process.stderr.write(`done: ${summary[summary.length - 1]}\n`)
      }
    }
  } finally {
    child.kill("SIGTERM")
  }
  console.log(`Channel and RemotingClient vs hand-written node:net clients, ${ROUNDS} interleaved rounds of ${SECONDS}s per client per case`)
  console.log(`(${process.version}, ${(await import("node:os")).cpus().length} CPUs). req/s is the median round; latency over all rounds.\n`)
  console.log(table(
    ["body", "in flight", "client", "req/s", "p50 µs", "p99 µs", "vs raw", "vs raw-json", "p50 vs raw"],
    rows
  ))
  console.log("\n" + summary.join("\n"))

  await heapOnly()
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
          `${fmt(perPending.total - perPending.fibers)} the channel's (entry, table, heap, encoded frame until written).`
    )
  } finally {
    silent.child.kill("SIGTERM")
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
