/**
 * Vitest global setup of the "integration" project: makes a real Apache RocketMQ cluster — a
 * NameServer and two Brokers, `broker-a` and `broker-b`, both masters of `DefaultCluster` — available
 * to `*.integration.test.ts` files. CI runs the same cluster (`.ci/run`), so a local run equals CI.
 *
 * - ROCKETMQ_NAMESRV_ADDR (and ROCKETMQ_BROKER_ADDR, and ROCKETMQ_BROKER_ADDRS for more than one
 *   broker) set: use that cluster (CI starts one with scripts/rocketmq/up before `npm test`).
 * - otherwise, when Java and Maven (or an already downloaded jar cache) are here: start one on
 *   free loopback ports with `ROCKETMQ_BROKERS=2 scripts/rocketmq/up` (ROCKETMQ_BROKERS overrides
 *   the count), and stop it after the run.
 * - otherwise: the suites skip, saying why — unless ROCKETMQ_IT is set, which makes a missing
 *   broker a failure.
 */
import { execFileSync, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import type { TestProject } from "vitest/node"
import { freeClusterPorts, PORT_STEP } from "./ports.ts"

/** One broker of the cluster: its name (`broker-a`, …) and the address of its master. */
export interface RocketMQBroker {
  readonly name: string
  readonly address: string
}

export interface RocketMQCluster {
  readonly namesrvAddr: string
  /** The first broker's address (`broker-a`). */
  readonly brokerAddr: string
  /** Every broker, in order; `brokers[0]` is at `brokerAddr`. */
  readonly brokers: ReadonlyArray<RocketMQBroker>
  /** The RocketMQ version, when known (`ROCKETMQ_VERSION`; the harness's default is 5.3.3). */
  readonly version: string | undefined
  /** Set when this setup started the cluster. */
  readonly startedHere: boolean
}

declare module "vitest" {
  export interface ProvidedContext {
    rocketmq: RocketMQCluster | { readonly skip: string }
  }
}

const here = dirname(fileURLToPath(import.meta.url))
const required = process.env.ROCKETMQ_IT !== undefined && process.env.ROCKETMQ_IT !== "" && process.env.ROCKETMQ_IT !== "0"
const brokerCount = Number(process.env.ROCKETMQ_BROKERS ?? "2")

const has = (command: string): boolean => {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

/**
 * `broker-a=127.0.0.1:10911;broker-b=127.0.0.1:10921` (quotes around it, from `up`'s stdout or
 * run/env, are dropped; `,` separates too).
 */
export const parseBrokerAddrs = (text: string): Array<RocketMQBroker> =>
  text.trim().replace(/^"|"$/g, "").split(/[;,]/).map((entry) => entry.trim()).filter((entry) => entry !== "").map((entry) => {
    const at = entry.indexOf("=")
    if (at <= 0 || at === entry.length - 1) {
      throw new Error(`ROCKETMQ_BROKER_ADDRS: "${entry}" is not <brokerName>=<host:port> (e.g. broker-a=127.0.0.1:10911)`)
    }
    return { name: entry.slice(0, at), address: entry.slice(at + 1) }
  })

const run = (script: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(join(here, script), [], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] })
    let stdout = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    child.once("error", reject)
    child.once("close", (code) => resolve({ code: code ?? 1, stdout }))
  })

const given = (namesrvAddr: string): RocketMQCluster => {
  const brokerAddr = process.env.ROCKETMQ_BROKER_ADDR
  if (brokerAddr === undefined || brokerAddr === "") {
    throw new Error(
      "ROCKETMQ_NAMESRV_ADDR is set but ROCKETMQ_BROKER_ADDR is not: the integration suite needs both " +
        "(scripts/rocketmq/up prints them; `source scripts/rocketmq/run/env`)."
    )
  }
  const listed = parseBrokerAddrs(process.env.ROCKETMQ_BROKER_ADDRS ?? "")
  const brokers = listed.length > 0 ? listed : [{ name: process.env.ROCKETMQ_BROKER_NAME ?? "broker-a", address: brokerAddr }]
  if (brokers[0]!.address !== brokerAddr) {
    throw new Error(
      `ROCKETMQ_BROKER_ADDRS starts with ${brokers[0]!.name}=${brokers[0]!.address}, but ROCKETMQ_BROKER_ADDR is ${brokerAddr}: ` +
        "they must name the same first broker."
    )
  }
  return { namesrvAddr, brokerAddr, brokers, version: process.env.ROCKETMQ_VERSION || undefined, startedHere: false }
}

export default async function setup(project: TestProject) {
  const namesrvAddr = process.env.ROCKETMQ_NAMESRV_ADDR
  if (namesrvAddr !== undefined && namesrvAddr !== "") {
    project.provide("rocketmq", given(namesrvAddr))
    return
  }
  if (!Number.isInteger(brokerCount) || brokerCount < 1) {
    throw new Error(`ROCKETMQ_BROKERS=${process.env.ROCKETMQ_BROKERS} is not a broker count (1..8)`)
  }
  const version = process.env.ROCKETMQ_VERSION ?? "5.3.3"
  const cached = existsSync(join(here, "lib", version, ".complete"))
  const missing = !has("java") ? "java" : !cached && !has("mvn") ? "mvn" : undefined
  if (missing !== undefined) {
    const reason = `${missing} is not installed, so no real RocketMQ broker can be started`
    if (required) throw new Error(`ROCKETMQ_IT is set but ${reason}. Install JDK 17 and Maven, or unset ROCKETMQ_IT.`)
    console.warn(`[integration] skipping the real-broker suites: ${reason} (set ROCKETMQ_IT=1 to make this an error).`)
    project.provide("rocketmq", { skip: reason })
    return
  }
  const [namesrvPort, brokerPort] = await freeClusterPorts(brokerCount, 20000, 12000 - brokerCount * PORT_STEP)
  const env = {
    ROCKETMQ_NAMESRV_PORT: String(namesrvPort),
    ROCKETMQ_BROKER_PORT: String(brokerPort),
    ROCKETMQ_BROKERS: String(brokerCount),
    // A busy machine (other builds, other clusters) can take minutes to boot three JVMs.
    ROCKETMQ_START_TIMEOUT: process.env.ROCKETMQ_START_TIMEOUT ?? "300"
  }
  console.warn(
    `[integration] starting Apache RocketMQ ${version}: name server 127.0.0.1:${namesrvPort}, ${brokerCount} broker(s) from ` +
      `127.0.0.1:${brokerPort} (scripts/rocketmq/up)`
  )
  const up = await run("up", env)
  if (up.code !== 0) {
    throw new Error(`scripts/rocketmq/up failed (exit ${up.code}); its log is above. Run it by hand to see why.`)
  }
  const vars = Object.fromEntries(
    up.stdout.split("\n").map((line) => /^(\w+)=(.*)$/.exec(line.trim())).filter((m) => m !== null).map((m) => [m![1], m![2]])
  )
  const brokerAddr = vars.ROCKETMQ_BROKER_ADDR ?? `127.0.0.1:${brokerPort}`
  const cluster: RocketMQCluster = {
    namesrvAddr: vars.ROCKETMQ_NAMESRV_ADDR ?? `127.0.0.1:${namesrvPort}`,
    brokerAddr,
    brokers: parseBrokerAddrs(vars.ROCKETMQ_BROKER_ADDRS ?? `broker-a=${brokerAddr}`),
    version,
    startedHere: true
  }
  project.provide("rocketmq", cluster)
  return async () => {
    await run("down", { ...env, ROCKETMQ_STOP_TIMEOUT: "5" })
  }
}
