/**
 * A one-broker RocketMQ cluster of a suite's own (scripts/rocketmq/up with its own run dir and free
 * ports), for suites that need the broker configured differently from the shared cluster: TLS
 * enforced, authentication on. Started and stopped by the suite; never touches the shared cluster.
 */
import { execFileSync, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { freeClusterPorts } from "../../../../scripts/rocketmq/ports.ts"

const scripts = fileURLToPath(new URL("../../../../scripts/rocketmq/", import.meta.url))

/** Whether ROCKETMQ_IT asks for the real-broker suites to run (CI): then a missing tool is a failure. */
export const required = (): boolean => {
  const it = process.env.ROCKETMQ_IT
  return it !== undefined && it !== "" && it !== "0"
}

/** Whether `command` is on the PATH. */
export const has = (command: string): boolean => {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

/**
 * Why this machine cannot start a cluster of its own (no `java`, or neither the jar cache nor
 * `mvn` to fill it), or undefined when it can. The shared cluster may have been given by address
 * (ROCKETMQ_NAMESRV_ADDR) from a machine that has no Java.
 */
export const cannotStart = (): string | undefined => {
  const version = process.env.ROCKETMQ_VERSION ?? "5.3.3"
  if (!has("java")) return "java is not installed, so no cluster of the suite's own can be started"
  if (!Fs.existsSync(Path.join(scripts, "lib", version, ".complete")) && !has("mvn")) {
    return `mvn is not installed and the RocketMQ ${version} jars are not cached`
  }
  return undefined
}

export interface OwnCluster {
  readonly namesrvAddr: string
  readonly brokerAddr: string
  /** Wall-clock seconds `up` took. */
  readonly startSeconds: number
  /** Stops the JVMs (at once: the store is thrown away) and removes the run dir. */
  readonly stop: () => Promise<void>
}

/**
 * A name server port and a broker port (with its fast and HA ports) free now: 11000-19000, below
 * the ephemeral range and the shared cluster's range (20000-32000), above the harness's defaults.
 */
const freePorts = () => freeClusterPorts(1, 11000, 8000)

const run = (script: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(Path.join(scripts, script), [], { env, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    child.once("error", reject)
    child.once("close", (code) => resolve({ code: code ?? 1, stdout, stderr }))
  })

/**
 * Starts `scripts/rocketmq/up` with one broker, `env` on top (ROCKETMQ_TLS…, ROCKETMQ_BROKER_EXTRA_CONF…),
 * in a fresh run dir under the OS temp dir. Fails with the end of `up`'s log when it does.
 */
export const start = async (label: string, env: Readonly<Record<string, string>>): Promise<OwnCluster> => {
  try {
    return await startOnce(label, env)
  } catch (error) {
    // Another process took one of the free ports before the JVM bound it: once more, on others.
    if (!(error instanceof PortTaken)) throw error
    console.log(`[${label}] ${error.message}; starting again on other ports`)
    return await startOnce(label, env)
  }
}

class PortTaken extends Error {}

const startOnce = async (label: string, env: Readonly<Record<string, string>>): Promise<OwnCluster> => {
  const [namesrvPort, brokerPort] = await freePorts()
  const runDir = Path.join(Fs.mkdtempSync(Path.join(Os.tmpdir(), `rmq-${label}-`)), "run")
  const fullEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ROCKETMQ_RUN_DIR: runDir,
    ROCKETMQ_NAMESRV_PORT: String(namesrvPort),
    ROCKETMQ_BROKER_PORT: String(brokerPort),
    ROCKETMQ_BROKERS: "1",
    ROCKETMQ_START_TIMEOUT: process.env.ROCKETMQ_START_TIMEOUT ?? "300",
    ROCKETMQ_STOP_TIMEOUT: "0",
    ...env
  }
  const startedAt = Date.now()
  const up = await run("up", fullEnv)
  const startSeconds = (Date.now() - startedAt) / 1000
  const stop = async () => {
    await run("down", fullEnv)
    Fs.rmSync(Path.dirname(runDir), { recursive: true, force: true })
  }
  if (up.code !== 0) {
    await stop()
    if (/Address already in use|port\(s\) already in use/.test(up.stderr)) {
      throw new PortTaken(`scripts/rocketmq/up (${label}) found a port taken by another process`)
    }
    throw new Error(`scripts/rocketmq/up (${label}) failed with exit ${up.code}:\n${up.stderr.split("\n").slice(-40).join("\n")}`)
  }
  console.log(`[${label}] own cluster: name server 127.0.0.1:${namesrvPort}, broker 127.0.0.1:${brokerPort}, up in ${startSeconds.toFixed(1)} s`)
  return { namesrvAddr: `127.0.0.1:${namesrvPort}`, brokerAddr: `127.0.0.1:${brokerPort}`, startSeconds, stop }
}

/** Runs `scripts/rocketmq/tls-certs DIR` (openssl) and returns the directory's PEM file paths. */
export const makeCertificates = (dir: string) => {
  execFileSync(Path.join(scripts, "tls-certs"), [dir], { stdio: ["ignore", "ignore", "pipe"], timeout: 60_000 })
  const file = (name: string) => Path.join(dir, name)
  return {
    ca: file("ca.crt"),
    otherCa: file("other-ca.crt"),
    cert: file("server.crt"),
    key: file("server.key"),
    expiredCert: file("expired.crt"),
    expiredKey: file("expired.key")
  }
}
