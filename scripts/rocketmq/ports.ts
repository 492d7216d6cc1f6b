/**
 * Free loopback ports for a cluster `scripts/rocketmq/up` starts: a name server port and a first
 * broker port such that every broker's ports are free. Broker i listens on the first broker's port
 * + 10 i, with its fast port (port - 2) and its HA port (port + 1, bound on every interface), as
 * `_common.sh` lays them out.
 *
 * Ranges should stay below Linux's ephemeral range (32768-60999): there an outgoing connection of
 * any process can take a port between this check and the JVM's bind.
 */
import * as Net from "node:net"

/** The distance between two brokers' ports. */
export const PORT_STEP = 10

/** Whether `port` can be bound on `host` right now. */
export const portFree = (port: number, host: string): Promise<boolean> =>
  new Promise((resolve) => {
    const server = Net.createServer()
    server.once("error", () => resolve(false))
    server.listen(port, host, () => server.close(() => resolve(true)))
  })

/**
 * `[namesrvPort, firstBrokerPort]` for `brokers` brokers, the name server port drawn from
 * `[from, from + span)`; the brokers' ports start 10 above it.
 */
export const freeClusterPorts = async (brokers: number, from: number, span: number): Promise<[number, number]> => {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = from + Math.floor(Math.random() * span)
    const checks: Array<[number, string]> = [[base, "127.0.0.1"]]
    for (let i = 0; i < brokers; i++) {
      const port = base + 10 + i * PORT_STEP
      checks.push([port, "127.0.0.1"], [port - 2, "127.0.0.1"], [port + 1, "0.0.0.0"])
    }
    const free = await Promise.all(checks.map(([port, host]) => portFree(port, host)))
    if (free.every(Boolean)) return [base, base + 10]
  }
  throw new Error(`could not find free loopback ports for a RocketMQ name server and ${brokers} broker(s)`)
}
