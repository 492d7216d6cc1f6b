/**
 * Our side of `npm run bench:consumer`, in its own process so its CPU time is its own: a Consumer
 * in a new group drains BENCH_COUNT messages of BENCH_TOPIC from the first offset. The measured
 * window starts after BENCH_WARMUP messages (start-up, rebalance and warm-up excluded, as the Java
 * side does) and ends at the last one. Prints one JSON line: messages, elapsedMs, perSecond, cpuMs,
 * cpuUsPerMessage (process.cpuUsage over the window: every thread of the process, GC included),
 * elu (the event loop's utilization over the window, 0 … 1: near 1, the JavaScript thread is the
 * limit; lower, the process waits on the broker), p50Us / p99Us (store-to-consume latency, mostly
 * the backlog's age).
 */
import { ClientInstance, Consumer } from "@effect-rocketmq/client"
import { Deferred, Effect, Layer } from "effect"
import { performance } from "node:perf_hooks"
import { requiredEnv as env } from "./harness.ts"


const namesrv = env("BENCH_NAMESRV")
const topic = env("BENCH_TOPIC")
const group = env("BENCH_GROUP")
const count = Number(env("BENCH_COUNT"))
const warmup = Number(env("BENCH_WARMUP"))
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 20)

const program = Effect.gen(function*() {
  const done = yield* Deferred.make<void>()
  let seen = 0
  let t0 = 0
  let cpu0 = process.cpuUsage()
  let elu0 = performance.eventLoopUtilization()
  const latencies = new Float64Array(count - warmup)
  yield* Effect.forkChild(Consumer.run((delivery) =>
    Effect.sync(() => {
      seen++
      if (seen === warmup) {
        t0 = performance.now()
        cpu0 = process.cpuUsage()
        elu0 = performance.eventLoopUtilization()
      } else if (seen > warmup && seen <= count) {
        latencies[seen - warmup - 1] = (Date.now() - delivery.message.storeTimestamp) * 1000
        if (seen === count) Deferred.doneUnsafe(done, Effect.void)
      }
    }), { concurrency }))
  yield* Deferred.await(done).pipe(Effect.timeout("300 seconds"))
  const elapsedMs = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  const elu = performance.eventLoopUtilization(elu0).utilization
  const cpuMs = (cpu.user + cpu.system) / 1000
  const messages = count - warmup
  const sorted = Array.from(latencies).sort((a, b) => a - b)
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
  process.stdout.write(JSON.stringify({
    messages,
    elapsedMs,
    perSecond: messages / (elapsedMs / 1000),
    cpuMs,
    cpuUsPerMessage: (cpuMs * 1000) / messages,
    elu,
    p50Us: at(0.5),
    p99Us: at(0.99)
  }) + "\n")
})

const live = Consumer.layer({
  consumerGroup: group,
  subscriptions: { [topic]: "*" },
  consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET"
}).pipe(Layer.provide(ClientInstance.layer({ nameServerAddresses: namesrv })))

Effect.runPromise(program.pipe(Effect.provide(live))).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
