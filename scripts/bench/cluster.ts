/**
 * The real Apache RocketMQ a benchmark runs against: the one named by ROCKETMQ_NAMESRV_ADDR and
 * ROCKETMQ_BROKER_ADDR, or one started here with scripts/rocketmq/up on free loopback ports and
 * stopped by `stop` (scripts/rocketmq/down).
 */
import { spawn } from "node:child_process"
import * as Net from "node:net"
import { fileURLToPath } from "node:url"

const here = fileURLToPath(new URL(".", import.meta.url))

export interface BenchCluster {
  readonly namesrv: string
  readonly broker: string
  readonly stop: () => Promise<void>
}

const portFree = (port: number, host: string): Promise<boolean> =>
  new Promise((resolve) => {
    const server = Net.createServer()
    server.once("error", () => resolve(false))
    server.listen(port, host, () => server.close(() => resolve(true)))
  })

const runScript = (script: string, env: NodeJS.ProcessEnv): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn(`${here}../rocketmq/${script}`, [], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()))
    child.once("error", reject)
    child.once("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`scripts/rocketmq/${script} exited ${code}`))))
  })

export const cluster = async (): Promise<BenchCluster> => {
  const given = process.env.ROCKETMQ_NAMESRV_ADDR
  const broker = process.env.ROCKETMQ_BROKER_ADDR
  if (given !== undefined && given !== "" && broker !== undefined && broker !== "") {
    return { namesrv: given, broker, stop: async () => {} }
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    // Below Linux's ephemeral range (32768-60999), where an outgoing connection may take a port first.
    const base = 20000 + Math.floor(Math.random() * 12000)
    // The name server, the broker, its fast port (-2) and its HA port (+1, bound on every interface).
    const ports = [base, base + 10, base + 8, base + 11]
    const free = await Promise.all(ports.map((p, i) => portFree(p, i === 3 ? "0.0.0.0" : "127.0.0.1")))
    if (!free.every(Boolean)) continue
    const env = { ROCKETMQ_NAMESRV_PORT: String(base), ROCKETMQ_BROKER_PORT: String(base + 10) }
    console.error(`starting Apache RocketMQ on 127.0.0.1:${base} / :${base + 10} (scripts/rocketmq/up)`)
    await runScript("up", env)
    return {
      namesrv: `127.0.0.1:${base}`,
      broker: `127.0.0.1:${base + 10}`,
      stop: () => runScript("down", { ...env, ROCKETMQ_STOP_TIMEOUT: "5" }).then(() => undefined)
    }
  }
  throw new Error("no free loopback ports for a RocketMQ name server and broker")
}
