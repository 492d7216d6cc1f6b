/**
 * The real Apache RocketMQ a benchmark runs against: the one named by ROCKETMQ_NAMESRV_ADDR and
 * ROCKETMQ_BROKER_ADDR, or one started here with scripts/rocketmq/up on free loopback ports and
 * stopped by `stop` (scripts/rocketmq/down).
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { freeClusterPorts } from "../rocketmq/ports.ts"

const here = fileURLToPath(new URL(".", import.meta.url))

export interface BenchCluster {
  readonly namesrv: string
  readonly broker: string
  readonly stop: () => Promise<void>
}

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
  const [namesrvPort, brokerPort] = await freeClusterPorts(1, 20000, 12000)
  const env = { ROCKETMQ_NAMESRV_PORT: String(namesrvPort), ROCKETMQ_BROKER_PORT: String(brokerPort) }
  console.error(`starting Apache RocketMQ on 127.0.0.1:${namesrvPort} / :${brokerPort} (scripts/rocketmq/up)`)
  await runScript("up", env)
  return {
    namesrv: `127.0.0.1:${namesrvPort}`,
    broker: `127.0.0.1:${brokerPort}`,
    stop: () => runScript("down", { ...env, ROCKETMQ_STOP_TIMEOUT: "5" }).then(() => undefined)
  }
}
