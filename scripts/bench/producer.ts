/**
 * Producer benchmark: our Producer against Java's DefaultMQProducer (the official 5.3.3 client)
 * sending to the same topic of the same real broker, interleaved in one run.
 *
 * 1. A real Apache RocketMQ (see cluster.ts): the one named by ROCKETMQ_NAMESRV_ADDR /
 *    ROCKETMQ_BROKER_ADDR, or one started here on free loopback ports (stopped at the end).
 * 2. Cases: bodies of 128 B and 4 KiB (BENCH_BODIES) x 1 and 64 sends in flight
 *    (BENCH_IN_FLIGHT). Both sides: Java's defaults (sync sends with retries, ZLIB from 4096 B —
 *    so the 4 KiB case compresses on both sides — 3 s timeout), the same compressible text body,
 *    N senders each in a closed loop (Java: N threads; ours: N fibers).
 *    With more than one in flight, ours also runs as one caller sending N messages per
 *    `sendAll` call ("ours sendAll": the first attempts in one bulk request per broker).
 * 3. BENCH_ROUNDS (3) rounds per case, Java and ours alternating which goes first; each run in its
 *    own process warms up for BENCH_WARMUP_MS (3000, discarded) and measures BENCH_DURATION_MS
 *    (10000). CPU is the process's own over the measured window (the JVM's OperatingSystemMXBean
 *    process CPU time; Node's process.cpuUsage): GC and JIT threads included on both sides.
 *
 * Prints sends/s and CPU µs per message per round, the medians, and the ratios ours / Java
 * (throughput: > 1 is faster; CPU per message: < 1 is cheaper).
 *
 *   npm run bench:producer   (on a shared machine, under a `flock` lock file that every benchmark takes)
 */
import { Admin, NameServer } from "@effect-rocketmq/client"
import { RemotingClient } from "@effect-rocketmq/remoting"
import { Effect, Schedule } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import * as JavaClient from "../java/JavaClient.ts"
import { cluster } from "./cluster.ts"
import { fmt, intFromEnv as int, listFromEnv, median, table } from "./harness.ts"

const BODIES = listFromEnv("BENCH_BODIES", [128, 4096])
const IN_FLIGHT = listFromEnv("BENCH_IN_FLIGHT", [1, 64])
const ROUNDS = int("BENCH_ROUNDS", 3)
const WARMUP_MS = int("BENCH_WARMUP_MS", 3000)
const DURATION_MS = int("BENCH_DURATION_MS", 10000)
const QUEUES = 8
const here = fileURLToPath(new URL(".", import.meta.url))

interface Result {
  readonly perSecond: number
  readonly cpuUsPerMessage: number
  readonly p50Us: number
}

const ours = (namesrv: string, topic: string, body: number, inFlight: number, mode: "send" | "sendAll"): Promise<Result> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--conditions=source", `${here}producer-ours.ts`], {
      env: {
        ...process.env,
        BENCH_MODE: mode,
        BENCH_NAMESRV: namesrv,
        BENCH_TOPIC: topic,
        BENCH_BODY: String(body),
        BENCH_IN_FLIGHT: String(inFlight),
        BENCH_WARMUP_MS: String(WARMUP_MS),
        BENCH_DURATION_MS: String(DURATION_MS)
      },
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()))
    child.once("error", reject)
    child.once("close", (code) => {
      if (code !== 0) return reject(new Error(`our producer exited ${code}`))
      resolve(JSON.parse(out.trim().split("\n").pop()!) as Result)
    })
  })

const java = (namesrv: string, topic: string, body: number, inFlight: number): Promise<Result> =>
  Effect.runPromise(JavaClient.benchProduce({
    namesrvAddr: namesrv,
    topic,
    bodySize: body,
    bodyPattern: "text",
    inFlight,
    mode: "sync",
    durationMs: DURATION_MS,
    warmupMs: WARMUP_MS
  })).then((bench) => ({ perSecond: bench.perSecond, cpuUsPerMessage: bench.cpuUsPerMessage ?? NaN, p50Us: bench.p50Us ?? NaN }))

const createTopic = (namesrv: string, broker: string, topic: string) =>
  Effect.gen(function*() {
    yield* Admin.createTopic(broker, topic, { queueNums: QUEUES })
    yield* NameServer.getRouteInfoByTopic(topic).pipe(Effect.retry({ schedule: Schedule.spaced("200 millis"), times: 50 }))
  }).pipe(Effect.provide(RemotingClient.layer({ nameServerAddresses: namesrv, defaultTimeout: "10 seconds" })))

const main = async () => {
  const { broker, namesrv, stop } = await cluster()
  try {
    await Effect.runPromise(JavaClient.build)
    const topic = `bench_produce_${Date.now().toString(36)}`
    await Effect.runPromise(createTopic(namesrv, broker, topic))
    const rows: Array<Array<string>> = []
    const ratios: Array<Array<string>> = []
    for (const body of BODIES) {
      for (const inFlight of IN_FLIGHT) {
        const who = inFlight > 1 ? (["java", "ours", "oursAll"] as const) : (["java", "ours"] as const)
        const results: Record<(typeof who)[number], Array<Result>> = { java: [], ours: [], oursAll: [] }
        const run = (one: (typeof who)[number]) =>
          one === "java"
            ? java(namesrv, topic, body, inFlight)
            : ours(namesrv, topic, body, inFlight, one === "ours" ? "send" : "sendAll")
        for (let round = 0; round < ROUNDS; round++) {
          // Each round starts with another contestant.
          const order = who.map((_, i) => who[(i + round) % who.length]!)
          for (const one of order) {
            const result = await run(one)
            results[one].push(result)
            console.error(`${body} B x${inFlight} round ${round + 1} ${one}: ${fmt(result.perSecond)} sends/s, ${fmt(result.cpuUsPerMessage, 1)} µs CPU/msg`)
          }
        }
        const names = { java: "Java DefaultMQProducer", ours: "effect-rocketmq Producer", oursAll: `effect-rocketmq sendAll (${inFlight} per call)` }
        for (const one of who) {
          rows.push([
            `${body} B, ${inFlight} in flight`,
            names[one],
            results[one].map((r) => fmt(r.perSecond)).join(" / "),
            fmt(median(results[one].map((r) => r.perSecond))),
            results[one].map((r) => fmt(r.cpuUsPerMessage, 1)).join(" / "),
            fmt(median(results[one].map((r) => r.cpuUsPerMessage)), 1),
            fmt(median(results[one].map((r) => r.p50Us)))
          ])
        }
        for (const one of who.filter((w) => w !== "java")) {
          const throughput = median(results[one].map((r) => r.perSecond)) / median(results.java.map((r) => r.perSecond))
          const cpu = median(results[one].map((r) => r.cpuUsPerMessage)) / median(results.java.map((r) => r.cpuUsPerMessage))
          ratios.push([`${body} B, ${inFlight} in flight`, names[one], `${throughput.toFixed(2)}x`, `${cpu.toFixed(2)}x`])
        }
      }
    }
    console.log(`\nSync sends to one real broker, ${fmt(DURATION_MS / 1000, 1)} s measured after ${fmt(WARMUP_MS / 1000, 1)} s warm-up, ${ROUNDS} rounds:\n`)
    console.log(table(["case", "producer", "sends/s per round", "median sends/s", "CPU µs/msg per round", "median CPU µs/msg", "median p50 µs"], rows))
    console.log("\nRatios ours / Java (throughput: > 1 is faster; CPU per message: < 1 is cheaper):\n")
    console.log(table(["case", "ours", "throughput", "CPU per message"], ratios))
  } finally {
    await stop()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
