/**
 * What the Producer adds to a send: `Producer.send` against plain `Broker.sendMessage` (the same
 * message, to a queue picked by hand) on the embedded broker served over loopback TCP, in one
 * process, alternating rounds. The broker runs in the same process, so CPU per send includes its
 * share; the difference between the two rows is the Producer's own cost (validation, queue
 * selection, the send loop, admission and metrics, the span).
 *
 *   node --conditions=source scripts/bench/producer-overhead.ts   (on a shared machine, under a `flock` lock file)
 *
 * Env: BENCH_SENDS (10000 per round), BENCH_IN_FLIGHT (64), BENCH_ROUNDS (3).
 */
import { Admin, Broker, ClientInstance, Message, NameServer, Producer, RouteData } from "@effect-rocketmq/client"
import { RemotingClient } from "@effect-rocketmq/remoting"
import { InMemoryRocketMQ } from "@effect-rocketmq/testkit"
import { Effect, Layer, Schedule } from "effect"
import { performance } from "node:perf_hooks"
import { fmt, intFromEnv as int, median, table } from "./harness.ts"

const SENDS = int("BENCH_SENDS", 10_000)
const IN_FLIGHT = int("BENCH_IN_FLIGHT", 64)
const ROUNDS = int("BENCH_ROUNDS", 3)
const QUEUES = 4
const body = new TextEncoder().encode("message ".padEnd(256, "."))
const messageOf = (topic: string, i: number) =>
  Message.make(topic, body, { tags: "demo", keys: `key-${i}`, properties: { index: String(i) } })

interface Round {
  readonly perSecond: number
  readonly cpuUsPerSend: number
}

const measure = <R>(send: (i: number) => Effect.Effect<unknown, unknown, R>) =>
  Effect.gen(function*() {
    // A short warm-up, then the measured sends.
    yield* Effect.forEach(Array.from({ length: 1000 }, (_, i) => i), send, { concurrency: IN_FLIGHT, discard: true })
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    yield* Effect.forEach(Array.from({ length: SENDS }, (_, i) => i), send, { concurrency: IN_FLIGHT, discard: true })
    const seconds = (performance.now() - t0) / 1000
    const cpu = process.cpuUsage(cpu0)
    return { perSecond: SENDS / seconds, cpuUsPerSend: (cpu.user + cpu.system) / SENDS } satisfies Round
  })

const run = (nameServerAddresses: string) => Effect.gen(function*() {
  const cluster = yield* NameServer.getBrokerClusterInfo()
  const data = Object.values(cluster.brokerAddrTable)[0]!
  const broker = RouteData.masterAddress(data)!
  const topic = `bench_overhead_${Date.now().toString(36)}`
  yield* Admin.createTopic(broker, topic, { queueNums: QUEUES })
  yield* NameServer.getRouteInfoByTopic(topic).pipe(Effect.retry({ schedule: Schedule.spaced("200 millis"), times: 25 }))
  const brokerName = data.brokerName
  // Built in this scope (a layer provided to `make` alone would close the instance at once).
  const instance = yield* Layer.build(ClientInstance.layer({ nameServerAddresses }))
  // A generous budget on both paths: on a loaded machine a 3 s send timeout ends the run.
  const producer = yield* Producer.make({ group: "bench_overhead", sendMsgTimeout: "30 seconds" }).pipe(
    Effect.provideContext(instance)
  )
  const plain = (i: number) =>
    Broker.sendMessage(broker, messageOf(topic, i), {
      queueId: i % QUEUES,
      brokerName,
      producerGroup: "bench_overhead",
      timeoutMillis: 30_000
    })
  const viaProducer = (i: number) => producer.send(messageOf(topic, i))
  const results = { plain: [] as Array<Round>, producer: [] as Array<Round> }
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? (["plain", "producer"] as const) : (["producer", "plain"] as const)
    for (const who of order) {
      const result = who === "plain" ? yield* measure(plain) : yield* measure(viaProducer)
      results[who].push(result)
      console.error(`round ${round + 1} ${who}: ${fmt(result.perSecond)} sends/s, ${fmt(result.cpuUsPerSend, 1)} µs CPU/send`)
    }
  }
  const rows = (["plain", "producer"] as const).map((who) => [
    who === "plain" ? "Broker.sendMessage" : "Producer.send",
    results[who].map((r) => fmt(r.perSecond)).join(" / "),
    fmt(median(results[who].map((r) => r.perSecond))),
    results[who].map((r) => fmt(r.cpuUsPerSend, 1)).join(" / "),
    fmt(median(results[who].map((r) => r.cpuUsPerSend)), 1)
  ])
  console.log(`\n${fmt(SENDS)} sends of 256 B per round, ${IN_FLIGHT} in flight, embedded broker in process:\n`)
  console.log(table(["path", "sends/s per round", "median sends/s", "CPU µs/send per round", "median CPU µs/send"], rows))
  const ratio = median(results.producer.map((r) => r.perSecond)) / median(results.plain.map((r) => r.perSecond))
  const cpu = median(results.producer.map((r) => r.cpuUsPerSend)) / median(results.plain.map((r) => r.cpuUsPerSend))
  console.log(`\nProducer / plain: throughput ${ratio.toFixed(2)}x, CPU per send ${cpu.toFixed(2)}x`)
}).pipe(Effect.scoped, Effect.provide(RemotingClient.layer({ nameServerAddresses })))

const program = Effect.gen(function*() {
  const served = yield* InMemoryRocketMQ.serve()
  yield* run(served.address)
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exit(1)
})
