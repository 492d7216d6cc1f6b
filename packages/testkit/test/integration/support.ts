/**
 * The real cluster the "integration" project's global setup provides, or why there is none, and
 * the harness scripts that kill and restart its brokers and its name server.
 */
import { Admin, ClientInstance, NameServer, Producer } from "@effect-rocketmq/client"
import type { Broker, RouteData } from "@effect-rocketmq/client"
import { Channel, type Codec, RemotingClient } from "@effect-rocketmq/remoting"
import { assert } from "@effect/vitest"
import { Effect } from "effect"
import { execFile, spawnSync } from "node:child_process"
import * as Net from "node:net"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { inject } from "vitest"

/** One broker of the cluster: its name (`broker-a`, …) and the address of its master. */
export interface RocketMQBroker {
  readonly name: string
  readonly address: string
}

/** What scripts/rocketmq/vitest-setup.ts provides (it declares the same shape). */
export interface RocketMQCluster {
  readonly namesrvAddr: string
  /** The first broker's address (`broker-a`). */
  readonly brokerAddr: string
  /** Every broker, in order (two, `broker-a` and `broker-b`, unless the run was given another cluster). */
  readonly brokers: ReadonlyArray<RocketMQBroker>
  readonly version: string | undefined
  readonly startedHere: boolean
}

declare module "vitest" {
  export interface ProvidedContext {
    rocketmq: RocketMQCluster | { readonly skip: string }
  }
}

export const cluster = (): RocketMQCluster | undefined => {
  const provided = inject("rocketmq")
  return "skip" in provided ? undefined : provided
}

export const skipReason = (): string | undefined => {
  const provided = inject("rocketmq")
  return "skip" in provided ? provided.skip : undefined
}

export const hostPort = (address: string): { readonly host: string; readonly port: number } => {
  const at = address.lastIndexOf(":")
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ""), port: Number(address.slice(at + 1)) }
}

/** The names scripts/rocketmq/up gives the cluster and its first broker group. */
export const CLUSTER_NAME = "DefaultCluster"
export const BROKER_NAME = "broker-a"

/** The address of the broker named `name`, or undefined when the cluster has no such broker. */
export const brokerAddress = (real: RocketMQCluster, name: string): string | undefined =>
  real.brokers.find((broker) => broker.name === name)?.address

/** Topic and group names unique to this run, so runs against one long-lived cluster never meet. */
export const runId = (): string => `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`

/** A RemotingClient on the real cluster that also hands out every channel it opened. */
export const clientWithChannels = (real: RocketMQCluster, serializeType: Codec.SerializeType = "JSON") => {
  const channels: Array<Channel.ChannelShape> = []
  const layer = RemotingClient.layer({
    nameServerAddresses: real.namesrvAddr,
    defaultTimeout: "10 seconds",
    channel: { serializeType },
    channelFactory: (options) => Effect.tap(Channel.make(options), (channel) => Effect.sync(() => channels.push(channel)))
  })
  return { channels, layer }
}

/**
 * Runs `effect` again, 100 ms apart, until `done` holds, for at most `seconds` of real time;
 * returns the last value either way (the caller asserts on it).
 */
export const poll = <A, E, R>(seconds: number, effect: Effect.Effect<A, E, R>, done: (a: A) => boolean) =>
  Effect.gen(function*() {
    const until = Date.now() + seconds * 1000
    let value = yield* effect
    while (!done(value) && Date.now() < until) {
      yield* Effect.sleep("100 millis")
      value = yield* effect
    }
    return value
  })

/** Creates `topic` with 4 queues and waits (at most 10 s: registration can lag) for its route. */
export const createTopic = (
  broker: string,
  topic: string
): Effect.Effect<RouteData.TopicRouteData, Broker.BrokerError | NameServer.NameServerError, RemotingClient.RemotingClient> =>
  Effect.gen(function*() {
    yield* Admin.createTopic(broker, topic, { queueNums: 4, timeoutMillis: 10_000 })
    const route = yield* poll(10, Effect.result(NameServer.getRouteInfoByTopic(topic)), (r) => r._tag === "Success")
    assert.strictEqual(route._tag, "Success", `the route of ${topic} within 10 s`)
    return yield* Effect.fromResult(route)
  })

/** One response frame for `frame`, raw (length prefix included), from a fresh connection. */
export const rawExchange = (address: string, frame: Uint8Array): Effect.Effect<Buffer> =>
  Effect.callback<Buffer>((resume) => {
    const socket = Net.connect(hostPort(address))
    let received = Buffer.alloc(0)
    socket.on("connect", () => socket.write(frame))
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) {
        socket.destroy()
        resume(Effect.succeed(received.subarray(0, 4 + received.readInt32BE(0))))
      }
    })
    socket.on("error", (error) => resume(Effect.die(error)))
    socket.setTimeout(5000, () => {
      socket.destroy()
      resume(Effect.die(new Error(`no complete frame from ${address} within 5 s (got ${received.length} bytes)`)))
    })
    return Effect.sync(() => socket.destroy())
  })

// ---------------------------------------------------------------------------------------------
// The harness scripts (scripts/rocketmq), for suites that stop and start brokers or the name server.
// ---------------------------------------------------------------------------------------------

const scripts = fileURLToPath(new URL("../../../../scripts/rocketmq/", import.meta.url))

export interface ScriptResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/**
 * The env that names `real` to the harness scripts: its ports, taken from the addresses the suite
 * was given (the setup's free ports, or CI's defaults). The scripts refuse to act when the
 * cluster they manage runs on other ports.
 */
export const harnessEnv = (real: RocketMQCluster): NodeJS.ProcessEnv => ({
  ...process.env,
  ROCKETMQ_NAMESRV_PORT: String(hostPort(real.namesrvAddr).port),
  ROCKETMQ_BROKER_PORT: String(hostPort(real.brokerAddr).port)
})

/** The harness scripts a suite may run against the cluster it was given. */
export type HarnessScript = "broker-kill" | "broker-start" | "namesrv-kill" | "namesrv-start" | "namesrv-restart"

/**
 * Runs `scripts/rocketmq/<name> [args]` for `real` (the broker scripts take the broker's name,
 * `broker-a` by default); never fails (the exit code is in the result).
 */
export const runScript = (
  name: HarnessScript,
  real: RocketMQCluster,
  env?: NodeJS.ProcessEnv,
  args: ReadonlyArray<string> = []
): Effect.Effect<ScriptResult> =>
  Effect.callback<ScriptResult>((resume) => {
    const options = { env: { ...harnessEnv(real), ...env }, timeout: 180_000 }
    const child = execFile(join(scripts, name), args, options, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
      resume(Effect.succeed({ code, stdout, stderr }))
    })
    return Effect.sync(() => child.kill("SIGTERM"))
  })

/**
 * Whether the suite may kill and restart the broker: only a cluster that scripts/rocketmq/up
 * started in this checkout (the vitest setup's, or CI's), which broker-start — idempotent, it
 * only waits for the registration of a running broker — recognises (exit 0). Exit 3 means the
 * addresses belong to a cluster started elsewhere: the reason to skip. Synchronous, for
 * `describe.skipIf` at collection time.
 */
export const harnessCheck = (real: RocketMQCluster): { readonly ok: true } | { readonly ok: false; readonly code: number; readonly output: string } => {
  const result = spawnSync(join(scripts, "broker-start"), [], { env: harnessEnv(real), encoding: "utf8", timeout: 180_000 })
  return result.status === 0 ? { ok: true } : { ok: false, code: result.status ?? 1, output: `${result.stdout}${result.stderr}` }
}

/**
 * A client instance on `real` and a producer of a fresh group named `<prefix>_<runId>`, with
 * timeouts for a loaded machine (10 s API, request and send timeouts unless `options` says).
 */
export const startProducer = (real: RocketMQCluster, prefix: string, options?: Partial<Producer.ProducerOptions>) =>
  Effect.gen(function*() {
    const instance = yield* ClientInstance.make({
      nameServerAddresses: real.namesrvAddr,
      apiTimeout: "10 seconds",
      remoting: { defaultTimeout: "10 seconds" }
    })
    const producer = yield* Producer.make({ group: `${prefix}_${runId()}`, sendMsgTimeout: "10 seconds", ...options }).pipe(
      Effect.provideService(ClientInstance.ClientInstance, instance)
    )
    return { instance, producer }
  })
