/**
 * What every `rmq` command that talks to a cluster needs: a `RemotingClient` on the name servers
 * the command line names, and the cluster's layout read from them — its brokers and their master
 * addresses, the masters an admin command writes to.
 *
 * Nothing here prints; failures are typed errors (the client's, or `CommandFailed` when the
 * cluster has no broker to act on).
 *
 * @since 0.1.0
 */
import { NameServer, RouteData } from "@effect-rocketmq/client"
import { type RemotingError, RemotingClient } from "@effect-rocketmq/remoting"
import { Effect, type Layer } from "effect"
import { Flag } from "effect/cli"
import { CommandFailed } from "./Output.ts"

/**
 * The name server address `rmq` uses when neither `--namesrv` nor `ROCKETMQ_NAMESRV_ADDR` says
 * otherwise.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_NAMESRV = "127.0.0.1:9876"

/**
 * A `RemotingClient` on `namesrv` (`host:port`, several separated by `;`); an address that is
 * not one fails with `InvalidAddress`. Calls wait 5 s at most unless an operation sets its own
 * (Java's admin tool waits 5 s too).
 *
 * @since 0.1.0
 * @category layers
 */
export const client = (namesrv: string): Layer.Layer<RemotingClient.RemotingClient, RemotingError.InvalidAddress> =>
  RemotingClient.layer({ nameServerAddresses: namesrv, defaultTimeout: "5 seconds", connectTimeout: "3 seconds" })

/**
 * One broker of a cluster, as the name server describes it.
 *
 * @since 0.1.0
 * @category models
 */
export interface BrokerNode {
  readonly cluster: string
  readonly brokerName: string
  /** 0 for the master, more for slaves. */
  readonly brokerId: number
  readonly address: string
}

/**
 * Every broker node the name servers know, sorted by cluster, broker name and id.
 *
 * @since 0.1.0
 * @category operations
 */
export const nodes: Effect.Effect<ReadonlyArray<BrokerNode>, NameServer.NameServerError, RemotingClient.RemotingClient> = Effect
  .map(NameServer.getBrokerClusterInfo(), (info) => {
    const clusterOf = new Map<string, string>()
    for (const [cluster, names] of Object.entries(info.clusterAddrTable)) for (const name of names) clusterOf.set(name, cluster)
    const out: Array<BrokerNode> = []
    for (const [brokerName, data] of Object.entries(info.brokerAddrTable)) {
      for (const [id, address] of Object.entries(data.brokerAddrs)) {
        out.push({ cluster: clusterOf.get(brokerName) ?? data.cluster, brokerName, brokerId: Number(id), address })
      }
    }
    return out.sort((a, b) =>
      a.cluster.localeCompare(b.cluster) || a.brokerName.localeCompare(b.brokerName) || a.brokerId - b.brokerId
    )
  })

/**
 * The master of every broker group of `cluster` (of every cluster when none is given): where
 * topics and consumer groups are created. Fails with `CommandFailed` when there is none.
 *
 * @since 0.1.0
 * @category operations
 */
export const masters = (
  cluster?: string | undefined
): Effect.Effect<ReadonlyArray<BrokerNode>, NameServer.NameServerError | CommandFailed, RemotingClient.RemotingClient> =>
  Effect.flatMap(nodes, (all) => {
    const found = all.filter((node) => node.brokerId === 0 && (cluster === undefined || node.cluster === cluster))
    if (found.length > 0) return Effect.succeed(found)
    const known = [...new Set(all.map((node) => node.cluster))]
    return Effect.fail(
      new CommandFailed({
        detail: cluster === undefined
          ? "the name server knows no broker master. Start a broker (or `rmq dev`) and try again."
          : `cluster ${JSON.stringify(cluster)} has no broker master` +
            (known.length > 0 ? `; the name server knows ${known.join(", ")}.` : "; the name server knows no cluster.")
      })
    )
  })

/**
 * The master address of every broker group that holds `topic`, from its route.
 *
 * @since 0.1.0
 * @category operations
 */
export const topicMasters = (topic: string) =>
  Effect.map(NameServer.getRouteInfoByTopic(topic), (route) =>
    route.brokerDatas
      .map((data) => ({ brokerName: data.brokerName, address: RouteData.masterAddress(data) }))
      .filter((broker): broker is { brokerName: string; address: string } => broker.address !== undefined)
      .sort((a, b) => a.brokerName.localeCompare(b.brokerName)))

/**
 * `--cluster NAME`, for the commands that act on every master of a cluster (of every cluster
 * when it is left out).
 *
 * @since 0.1.0
 * @category flags
 */
export const clusterFlag = Flag.String("cluster").pipe(
  Flag.optional,
  Flag.withDescription("Only this cluster (default: every cluster the name servers know)")
)

