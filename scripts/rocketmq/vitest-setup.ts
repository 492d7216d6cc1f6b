/**
 * Vitest global setup of the "integration" project: makes a real Apache RocketMQ NameServer and
 * Broker available to `*.integration.test.ts` files.
 *
 * - ROCKETMQ_NAMESRV_ADDR (and ROCKETMQ_BROKER_ADDR) set: use that cluster (CI starts one with
 *   scripts/rocketmq/up before `npm test`).
 * - otherwise, when Java and Maven (or an already downloaded jar cache) are here: start one on
 *   free loopback ports with scripts/rocketmq/up, and stop it after the run.
 * - otherwise: the suites skip, saying why — unless ROCKETMQ_IT is set, which makes a missing
 *   broker a failure.
 */
import { execFileSync, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import * as Net from "node:net"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import type { TestProject } from "vitest/node"

export interface RocketMQCluster {
  readonly namesrvAddr: string
  readonly brokerAddr: string
  /** Set when this setup started the cluster: the script that stops it. */
  readonly startedHere: boolean
}

declare module "vitest" {
  export interface ProvidedContext {
    rocketmq: RocketMQCluster | { readonly skip: string }
  }
}

const here = dirname(fileURLToPath(import.meta.url))
const required = process.env.ROCKETMQ_IT !== undefined && process.env.ROCKETMQ_IT !== "" && process.env.ROCKETMQ_IT !== "0"

const has = (command: string): boolean => {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

const portFree = (port: number, host: string): Promise<boolean> =>
  new Promise((resolve) => {
    const server = Net.createServer()
    server.once("error", () => resolve(false))
    server.listen(port, host, () => server.close(() => resolve(true)))
  })

/** A name server port and a broker port whose neighbours (port-2, port+1) are free too. */
const freePorts = async (): Promise<[number, number]> => {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 20000)
    const ports = [base, base + 10, base + 8, base + 11]
    const free = await Promise.all(ports.map((p, i) => portFree(p, i === 3 ? "0.0.0.0" : "127.0.0.1")))
    if (free.every(Boolean)) return [base, base + 10]
  }
  throw new Error("could not find free loopback ports for a RocketMQ name server and broker")
}

const run = (script: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(join(here, script), [], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] })
    let stdout = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    child.once("error", reject)
    child.once("close", (code) => resolve({ code: code ?? 1, stdout }))
  })

export default async function setup(project: TestProject) {
  const given = process.env.ROCKETMQ_NAMESRV_ADDR
  if (given !== undefined && given !== "") {
    const broker = process.env.ROCKETMQ_BROKER_ADDR
    if (broker === undefined || broker === "") {
      throw new Error(
        "ROCKETMQ_NAMESRV_ADDR is set but ROCKETMQ_BROKER_ADDR is not: the integration suite needs both " +
          "(scripts/rocketmq/up prints them; `source scripts/rocketmq/run/env`)."
      )
    }
    project.provide("rocketmq", { namesrvAddr: given, brokerAddr: broker, startedHere: false })
    return
  }
  const cached = existsSync(join(here, "lib", process.env.ROCKETMQ_VERSION ?? "5.3.3", ".complete"))
  const missing = !has("java") ? "java" : !cached && !has("mvn") ? "mvn" : undefined
  if (missing !== undefined) {
    const reason = `${missing} is not installed, so no real RocketMQ broker can be started`
    if (required) throw new Error(`ROCKETMQ_IT is set but ${reason}. Install JDK 17 and Maven, or unset ROCKETMQ_IT.`)
    console.warn(`[integration] skipping the real-broker suites: ${reason} (set ROCKETMQ_IT=1 to make this an error).`)
    project.provide("rocketmq", { skip: reason })
    return
  }
  const [namesrvPort, brokerPort] = await freePorts()
  const env = { ROCKETMQ_NAMESRV_PORT: String(namesrvPort), ROCKETMQ_BROKER_PORT: String(brokerPort) }
  console.warn(`[integration] starting Apache RocketMQ on 127.0.0.1:${namesrvPort} / :${brokerPort} (scripts/rocketmq/up)`)
  const up = await run("up", env)
  if (up.code !== 0) {
    throw new Error(`scripts/rocketmq/up failed (exit ${up.code}); its log is above. Run it by hand to see why.`)
  }
  const vars = Object.fromEntries(
    up.stdout.split("\n").map((line) => /^(\w+)=(.*)$/.exec(line.trim())).filter((m) => m !== null).map((m) => [m![1], m![2]])
  )
  const cluster: RocketMQCluster = {
    namesrvAddr: vars.ROCKETMQ_NAMESRV_ADDR ?? `127.0.0.1:${namesrvPort}`,
    brokerAddr: vars.ROCKETMQ_BROKER_ADDR ?? `127.0.0.1:${brokerPort}`,
    startedHere: true
  }
  project.provide("rocketmq", cluster)
  return async () => {
    await run("down", { ...env, ROCKETMQ_STOP_TIMEOUT: "5" })
  }
}
