/**
 * Consumer benchmark: our Consumer against Java's DefaultMQPushConsumer (the official 5.3.3
 * client) draining the same backlog from the same real broker, interleaved in one run.
 *
 * 1. A real Apache RocketMQ: the one named by ROCKETMQ_NAMESRV_ADDR / ROCKETMQ_BROKER_ADDR, or one
 *    started here with scripts/rocketmq/up on free loopback ports (stopped at the end).
 * 2. A backlog: BENCH_MESSAGES (100,000) messages of BENCH_BODY (128) bytes on a topic of
 *    BENCH_QUEUES (8) queues, sent before anything is measured.
 * 3. BENCH_ROUNDS (3) rounds; in each, Java and ours (order alternating) each drain the whole
 *    backlog from the first offset in a new group, in their own process, with Java's defaults on
 *    both sides (20 consume threads / handlers at once, pulls of 32). Each measures its own window,
 *    from message W+1 (W = BENCH_WARMUP, 5,000) to the last: start-up, rebalance and warm-up are
 *    left out. CPU is the process's own over that window (the JVM's OperatingSystemMXBean process
 *    CPU time; Node's process.cpuUsage): GC and JIT threads included on both sides.
 *
 * Prints messages/s and CPU µs per message per round (and for ours how busy its event loop was),
 * the medians, and the ratios ours / Java (throughput: > 1 is faster; CPU per message: < 1 is
 * cheaper). Results and how they were measured: docs/consumer-benchmarks.md.
 *
 *   npm run bench:consumer          (on a shared machine, under a `flock` lock file that every benchmark takes)
 */
import { Admin, Broker, Message, NameServer } from "@effect-rocketmq/client"
import { RemotingClient, RemotingError } from "@effect-rocketmq/remoting"
import { Effect, Schedule } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import * as JavaClient from "../java/JavaClient.ts"
import { cluster } from "./cluster.ts"
import { intFromEnv as int, fmt, median, table } from "./harness.ts"

const MESSAGES = int("BENCH_MESSAGES", 100_000)
const BODY = int("BENCH_BODY", 128)
const QUEUES = int("BENCH_QUEUES", 8)
const ROUNDS = int("BENCH_ROUNDS", 3)
const WARMUP = Math.min(int("BENCH_WARMUP", 5_000), Math.floor(MESSAGES / 2))
const here = fileURLToPath(new URL(".", import.meta.url))

interface Result {
  readonly perSecond: number
  readonly cpuUsPerMessage: number
  /** Ours only: the event loop's utilization over the window. */
  readonly elu?: number | undefined
}

// ---------------------------------------------------------------------------------------------
// The backlog
// ---------------------------------------------------------------------------------------------

const backlog = (namesrv: string, broker: string, topic: string) =>
  Effect.gen(function*() {
    yield* Admin.createTopic(broker, topic, { queueNums: QUEUES })
    yield* NameServer.getRouteInfoByTopic(topic).pipe(Effect.retry({ schedule: Schedule.spaced("200 millis"), times: 50 }))
    const body = new Uint8Array(BODY).fill(0x61)
    yield* Effect.forEach(
      Array.from({ length: MESSAGES }, (_, i) => i),
      (i) =>
        Broker.sendMessage(broker, Message.make(topic, body, { tags: "bench" }), { queueId: i % QUEUES }).pipe(
          Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 100, while: RemotingError.isRetryable })
        ),
      { concurrency: 64, discard: true }
    )
  }).pipe(Effect.provide(RemotingClient.layer({ nameServerAddresses: namesrv, defaultTimeout: "10 seconds" })))

// ---------------------------------------------------------------------------------------------
// The two consumers
// ---------------------------------------------------------------------------------------------

const ours = (namesrv: string, topic: string, group: string): Promise<Result> =>
  new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, ["--conditions=source", `${here}consumer-ours.ts`], {
      env: {
        ...process.env,
        BENCH_NAMESRV: namesrv,
        BENCH_TOPIC: topic,
        BENCH_GROUP: group,
        BENCH_COUNT: String(MESSAGES),
        BENCH_WARMUP: String(WARMUP)
      },
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()))
    child.once("error", reject)
    child.once("close", (code) => {
      if (code !== 0) return reject(new Error(`our consumer exited ${code}`))
      resolve(JSON.parse(out.trim().split("\n").pop()!) as Result)
    })
  })

const java = (namesrv: string, topic: string, group: string): Promise<Result> =>
  Effect.runPromise(JavaClient.benchConsume({
    namesrvAddr: namesrv,
    topic,
    group,
    count: MESSAGES,
    warmupCount: WARMUP,
    timeout: "300 seconds"
  })).then((bench) => ({ perSecond: bench.perSecond, cpuUsPerMessage: bench.cpuUsPerMessage ?? NaN }))

// ---------------------------------------------------------------------------------------------

const main = async () => {
  const { broker, namesrv, stop } = await cluster()
  try {
    await Effect.runPromise(JavaClient.build)
    const topic = `bench_consume_${Date.now().toString(36)}`
    console.error(`backlog: ${fmt(MESSAGES)} messages of ${BODY} B on ${topic} (${QUEUES} queues)`)
    await Effect.runPromise(backlog(namesrv, broker, topic))
    const results = { java: [] as Array<Result>, ours: [] as Array<Result> }
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (["java", "ours"] as const) : (["ours", "java"] as const)
      for (const who of order) {
        const group = `bench_${who}_${round}_${Date.now().toString(36)}`
        const result = who === "java" ? await java(namesrv, topic, group) : await ours(namesrv, topic, group)
        results[who].push(result)
        const elu = result.elu === undefined ? "" : `, event loop ${Math.round(result.elu * 100)} % busy`
        console.error(`round ${round + 1} ${who}: ${fmt(result.perSecond)} msg/s, ${fmt(result.cpuUsPerMessage, 1)} µs CPU/msg${elu}`)
      }
    }
    const rows = (["java", "ours"] as const).map((who) => [
      who === "java" ? "Java DefaultMQPushConsumer" : "effect-rocketmq Consumer",
      results[who].map((r) => fmt(r.perSecond)).join(" / "),
      fmt(median(results[who].map((r) => r.perSecond))),
      results[who].map((r) => fmt(r.cpuUsPerMessage, 1)).join(" / "),
      fmt(median(results[who].map((r) => r.cpuUsPerMessage)), 1)
    ])
    console.log(`\nConsuming a backlog of ${fmt(MESSAGES)} messages of ${BODY} B (${QUEUES} queues), window from message ${fmt(WARMUP + 1)}:\n`)
    console.log(table(["consumer", "msg/s per round", "median msg/s", "CPU µs/msg per round", "median CPU µs/msg"], rows))
    const throughput = median(results.ours.map((r) => r.perSecond)) / median(results.java.map((r) => r.perSecond))
    const cpu = median(results.ours.map((r) => r.cpuUsPerMessage)) / median(results.java.map((r) => r.cpuUsPerMessage))
    console.log(`\nthroughput ours / Java: ${throughput.toFixed(2)}x   CPU per message ours / Java: ${cpu.toFixed(2)}x`)
  } finally {
    await stop()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
