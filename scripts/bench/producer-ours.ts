/**
 * Our side of `bench:producer`, in a process of its own so that its CPU time is ours alone: a
 * Producer (Java's defaults) sends BENCH_BODY-byte bodies to BENCH_TOPIC from BENCH_IN_FLIGHT
 * fibers, each in a closed loop (a send, then the next), for BENCH_WARMUP_MS (discarded), then for
 * BENCH_DURATION_MS (measured). With BENCH_MODE=sendAll, one fiber instead sends BENCH_IN_FLIGHT
 * messages per `sendAll` call, in a closed loop (each message's latency is its call's). Prints one JSON line: messages, elapsedMs, perSecond, p50Us,
 * p99Us, cpuMs, cpuUsPerMessage — the same fields as the Java driver's `bench` event, CPU from
 * process.cpuUsage() over the measured window (GC included).
 */
import { ClientInstance, Message, Producer } from "@effect-rocketmq/client"
import { Effect, Layer } from "effect"
import { performance } from "node:perf_hooks"
import * as JavaClient from "../java/JavaClient.ts"
import { requiredEnv as env, percentile } from "./harness.ts"

const TOPIC = env("BENCH_TOPIC")
const BODY = Number(env("BENCH_BODY"))
const IN_FLIGHT = Number(env("BENCH_IN_FLIGHT"))
const WARMUP_MS = Number(env("BENCH_WARMUP_MS"))
const DURATION_MS = Number(env("BENCH_DURATION_MS"))
const BULK = process.env.BENCH_MODE === "sendAll"

const program = Effect.gen(function*() {
  const producer = yield* Producer.Producer
  // Java's generated text body: compressible, as the Java side's (ZLIB from 4096 bytes on both).
  const message = Message.make(TOPIC, JavaClient.generatedBody(0, BODY))
  const start = performance.now()
  const windowStart = start + WARMUP_MS
  const end = windowStart + DURATION_MS
  const latencies: Array<number> = []
  let cpuStart: NodeJS.CpuUsage | undefined
  let failed = 0
  // How many of a call's messages were stored (a call is one send, or one sendAll of IN_FLIGHT).
  const batch = Array.from({ length: IN_FLIGHT }, () => message)
  const call: Effect.Effect<number, unknown> = BULK
    ? Effect.map(producer.sendAll(batch), (outcomes) => outcomes.filter((o) => o._tag === "Success").length)
    : Effect.match(producer.send(message), { onFailure: () => 0, onSuccess: () => 1 })
  const perCall = BULK ? IN_FLIGHT : 1
  const worker = Effect.gen(function*() {
    for (;;) {
      const t0 = performance.now()
      if (t0 >= end) return
      if (cpuStart === undefined && t0 >= windowStart) cpuStart = process.cpuUsage()
      const stored = yield* Effect.catch(call, () => Effect.succeed(0))
      const t1 = performance.now()
      failed += perCall - stored
      if (t0 >= windowStart && t1 <= end) for (let i = 0; i < stored; i++) latencies.push((t1 - t0) * 1000)
    }
  })
  const workers = BULK ? 1 : IN_FLIGHT
  yield* Effect.forEach(Array.from({ length: workers }), () => worker, { concurrency: workers, discard: true })
  const cpu = process.cpuUsage(cpuStart)
  const cpuMs = (cpu.user + cpu.system) / 1000
  const sorted = latencies.sort((a, b) => a - b)
  return {
    messages: latencies.length,
    elapsedMs: DURATION_MS,
    perSecond: latencies.length / (DURATION_MS / 1000),
    p50Us: percentile(sorted, 50),
    p99Us: percentile(sorted, 99),
    cpuMs,
    cpuUsPerMessage: (cpuMs * 1000) / Math.max(1, latencies.length),
    failed
  }
})

const live = Producer.layer({ group: `bench_ours_${Date.now().toString(36)}` }).pipe(
  Layer.provide(ClientInstance.layer({ nameServerAddresses: env("BENCH_NAMESRV") }))
)

Effect.runPromise(program.pipe(Effect.provide(live))).then(
  (result) => console.log(JSON.stringify(result)),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
