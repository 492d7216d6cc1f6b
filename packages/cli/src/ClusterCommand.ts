/**
 * `rmq cluster`: every broker the name servers know — cluster, broker name, id (0 = master),
 * address, and the version each broker reports (`-` when it does not answer).
 *
 * @since 0.1.0
 */
import { Admin } from "@effect-rocketmq/client"
import { Effect } from "effect"
import { Command } from "effect/cli"
import * as Cluster from "./Cluster.ts"
import * as Output from "./Output.ts"
import { root, withClient } from "./Root.ts"

/**
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("cluster", {}, () =>
  withClient(Effect.gen(function*() {
    const { json } = yield* root
    const nodes = yield* Cluster.nodes
    const rows = yield* Effect.forEach(nodes, (node) =>
      Admin.getBrokerRuntimeInfo(node.address, { timeoutMillis: 2000 }).pipe(
        Effect.map((info) => ({ ...node, version: info["brokerVersionDesc"] })),
        Effect.orElseSucceed(() => ({ ...node, version: undefined }))
      ), { concurrency: 8 })
    yield* Output.records(json, rows, [
      ["CLUSTER", (r) => r.cluster],
      ["BROKER", (r) => r.brokerName],
      ["ID", (r) => String(r.brokerId)],
      ["ADDRESS", (r) => r.address],
      ["VERSION", (r) => r.version ?? "-"]
    ], (r) => ({ cluster: r.cluster, broker: r.brokerName, brokerId: r.brokerId, address: r.address, version: r.version ?? null }))
  }))).pipe(Command.withDescription("List the clusters and brokers the name servers know"))
