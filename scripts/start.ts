/**
 * `npm start`: the end-to-end demo.
 *
 * With no configuration it serves the test kit's in-memory NameServer + Broker on a loopback port;
 * with ROCKETMQ_NAMESRV_ADDR=host:port it uses a real Apache RocketMQ cluster. Either way it goes
 * through the same code a user's application would: RemotingClient (one Channel per address), the
 * typed operations of @effect-rocketmq/client, its Producer and its Consumer. It creates a topic,
 * sends N messages with a Producer, consumes them back with a Consumer in a new group from the first offset, checks each
 * message came back exactly once with its body and properties, and prints a short table.
 *
 *   npm start                                         # in-memory broker
 *   ROCKETMQ_NAMESRV_ADDR=127.0.0.1:9876 npm start    # a real cluster
 *   DEMO_MESSAGES=100000 DEMO_CONCURRENCY=256 DEMO_BODY_BYTES=1024 npm start
 */
import { Admin, ClientInstance, Consumer, Message, NameServer, Producer, RouteData } from "@effect-rocketmq/client"
import { RemotingClient } from "@effect-rocketmq/remoting"
import { InMemoryRocketMQ } from "@effect-rocketmq/testkit"
import { Cause, Deferred, Effect, Exit, Fiber, Layer, Schedule } from "effect"
import { performance } from "node:perf_hooks"

const intFromEnv = (name: string, fallback: number, min: number): number => {
  const raw = process.env[name]
  if (raw === undefined || raw === "") return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min) {
    console.error(`${name}=${raw} is not a whole number >= ${min}; using ${fallback}.`)
    return fallback
  }
  return n
}

const MESSAGES = intFromEnv("DEMO_MESSAGES", 10_000, 1)
const CONCURRENCY = intFromEnv("DEMO_CONCURRENCY", 64, 1)
const BODY_BYTES = intFromEnv("DEMO_BODY_BYTES", 256, 16)
const QUEUES = 4
const GROUP = "effect_rocketmq_demo"
/** How long the Consumer may take to bring every message back. */
const CONSUME_TIMEOUT = "120 seconds"

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

const bodyOf = (i: number): Uint8Array => {
  const text = `message ${i} `
  return new TextEncoder().encode(text.padEnd(BODY_BYTES, "."))
}

const progress = (label: string, done: number, total: number) => {
  if (process.stderr.isTTY) process.stderr.write(`\r${label} ${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")}   `)
}
const endProgress = () => {
  if (process.stderr.isTTY) process.stderr.write("\r\x1b[K")
}

const demo = (where: string, nameServerAddresses: string) =>
  Effect.gen(function*() {
    console.log(`effect-rocketmq demo: ${MESSAGES.toLocaleString("en-US")} messages of ${BODY_BYTES} B through ${where}`)

    // The broker: the master of the first broker group the name server knows.
    const cluster = yield* NameServer.getBrokerClusterInfo()
    const brokers = Object.values(cluster.brokerAddrTable)
    const broker = brokers.map(RouteData.masterAddress).find((a) => a !== undefined)
    if (broker === undefined) {
      return yield* Effect.fail(new Error("the name server knows no broker with a master: start a broker and try again"))
    }
    const topic = `effect_rocketmq_demo_${Date.now()}`
    yield* Admin.createTopic(broker, topic, { queueNums: QUEUES })
    // The route reaches the name server with the broker's registration; wait for it briefly.
    yield* NameServer.getRouteInfoByTopic(topic).pipe(
      Effect.retry({ schedule: Schedule.spaced("200 millis"), times: 25 })
    )
    console.log(`topic ${topic} with ${QUEUES} queues on broker ${broker}`)

    // Send with a Producer on its own client instance (queues round-robin, retries as Java).
    const latencies = new Float64Array(MESSAGES)
    let sent = 0
    const started = performance.now()
    const ticker = setInterval(() => progress("sent", sent, MESSAGES), 250)
    yield* Effect.gen(function*() {
      const producer = yield* Producer.Producer
      yield* Effect.forEach(
        Array.from({ length: MESSAGES }, (_, i) => i),
        (i) =>
          Effect.suspend(() => {
            const t0 = performance.now()
            return producer.send(
              Message.make(topic, bodyOf(i), { tags: "demo", keys: `key-${i}`, properties: { index: String(i) } })
            ).pipe(Effect.tap(() =>
              Effect.sync(() => {
                latencies[i] = performance.now() - t0
                sent++
              })
            ))
          }),
        { concurrency: CONCURRENCY, discard: true }
      )
    }).pipe(
      Effect.provide(Producer.layer({ group: GROUP }).pipe(Layer.provide(ClientInstance.layer({ nameServerAddresses })))),
      Effect.ensuring(Effect.sync(() => clearInterval(ticker)))
    )
    const sendSeconds = (performance.now() - started) / 1000
    endProgress()

    // Consume everything back with a Consumer (its own client instance), from the first offset.
    const seen = new Uint8Array(MESSAGES)
    let received = 0
    let problems = 0
    const consumeStarted = performance.now()
    const allBack = yield* Deferred.make<void>()
    const check = (delivery: Consumer.Delivery) =>
      Effect.sync(() => {
        const message = delivery.message
        const index = Number(message.properties.index)
        const want = bodyOf(index)
        const sameBody = message.body.length === want.length && message.body.every((b, j) => b === want[j])
        if (!Number.isInteger(index) || index < 0 || index >= MESSAGES || seen[index] === 1 || !sameBody ||
          message.properties.KEYS !== `key-${index}` || message.properties.TAGS !== "demo") {
          problems++
        } else {
          seen[index] = 1
          received++
        }
        progress("received", received, MESSAGES)
        if (received + problems >= MESSAGES) Deferred.doneUnsafe(allBack, Effect.void)
      })
    const consumer = Consumer.layer({
      consumerGroup: `${GROUP}_${topic.slice(topic.lastIndexOf("_") + 1)}`,
      subscriptions: { [topic]: "demo" },
      consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET"
    }).pipe(Layer.provide(ClientInstance.layer({ nameServerAddresses })))
    yield* Effect.gen(function*() {
      const running = yield* Effect.forkChild(Consumer.run(check))
      yield* Deferred.await(allBack).pipe(Effect.timeout(CONSUME_TIMEOUT), Effect.ignore)
      yield* Fiber.interrupt(running)
    }).pipe(Effect.provide(consumer))
    const consumeSeconds = (performance.now() - consumeStarted) / 1000
    endProgress()

    const sorted = Array.from(latencies).sort((a, b) => a - b)
    const rows: Array<[string, string]> = [
      ["sent", MESSAGES.toLocaleString("en-US")],
      ["received (each exactly once, body and properties checked)", received.toLocaleString("en-US")],
      ["send latency p50", `${percentile(sorted, 50).toFixed(2)} ms`],
      ["send latency p99", `${percentile(sorted, 99).toFixed(2)} ms`],
      ["send throughput", `${Math.round(MESSAGES / sendSeconds).toLocaleString("en-US")} msg/s (${CONCURRENCY} in flight)`],
      ["consume throughput (Consumer, start-up included)", `${Math.round(received / consumeSeconds).toLocaleString("en-US")} msg/s`]
    ]
    const width = Math.max(...rows.map(([k]) => k.length))
    console.log("")
    for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`)
    if (received !== MESSAGES || problems > 0) {
      return yield* Effect.fail(
        new Error(`${MESSAGES - received} messages did not come back and ${problems} came back wrong or twice`)
      )
    }
    console.log("\nok: every message came back exactly once")
  })

const program = Effect.gen(function*() {
  const given = process.env.ROCKETMQ_NAMESRV_ADDR
  if (given !== undefined && given.trim() !== "") {
    return yield* demo(`the name server at ${given}`, given).pipe(
      Effect.provide(RemotingClient.layer({ nameServerAddresses: given }))
    )
  }
  const served = yield* InMemoryRocketMQ.serve()
  return yield* demo(`the in-memory broker at ${served.address} (set ROCKETMQ_NAMESRV_ADDR for a real cluster)`, served.address).pipe(
    Effect.provide(RemotingClient.layer({ nameServerAddresses: served.address }))
  )
}).pipe(Effect.scoped)

Effect.runPromiseExit(program).then((exit) => {
  if (Exit.isSuccess(exit)) return
  const error = Cause.squash(exit.cause)
  const message = error instanceof Error ? error.message : String(error)
  console.error(`\nThe demo failed: ${message}`)
  process.exitCode = 1
})


