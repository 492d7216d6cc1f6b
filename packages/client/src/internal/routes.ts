/**
 * What the client instance derives from topic routes, as the Java client derives it
 * (`MQClientInstance`): publish queues, subscribe queues, the `TBW102` template route for a topic
 * that does not exist yet, whether a route changed, and the broker address table with its
 * lookups. Pure functions over immutable values.
 *
 * Static-topic mappings (`topicQueueMappingByBroker`) are not interpreted: such topics are
 * published to by their physical queues.
 *
 * @internal
 */
import * as MessageQueue from "../MessageQueue.ts"
import * as RouteData from "../RouteData.ts"

/** `brokerName -> brokerId -> address`, the union of every route's broker addresses. */
export type AddressTable = ReadonlyMap<string, ReadonlyMap<string, string>>

/** The queues a producer may send to, and whether they come from `orderTopicConf`. */
export interface PublishQueues {
  readonly orderTopic: boolean
  readonly queues: ReadonlyArray<MessageQueue.MessageQueue>
}

/**
 * Java's `topicRouteData2TopicPublishInfo`: with an `orderTopicConf` (`"broker-a:4;broker-b:4"`),
 * its queues in its order; otherwise the writable queues of brokers that have a master, by broker
 * name. Malformed `orderTopicConf` entries are skipped.
 */
export const publishQueues = (topic: string, route: RouteData.TopicRouteData): PublishQueues => {
  const conf = route.orderTopicConf
  if (conf !== undefined && conf.length > 0) {
    const queues: Array<MessageQueue.MessageQueue> = []
    for (const entry of conf.split(";")) {
      const [brokerName, count] = entry.split(":")
      const nums = Number(count)
      if (brokerName === undefined || brokerName === "" || !Number.isInteger(nums)) continue
      for (let queueId = 0; queueId < nums; queueId++) queues.push(MessageQueue.make(topic, brokerName, queueId))
    }
    return { orderTopic: true, queues }
  }
  return { orderTopic: false, queues: RouteData.writeQueues(topic, route) }
}

/**
 * Java's `topicRouteData2TopicSubscribeInfo`: every queue of every readable queue data (no master
 * needed: consumers may pull from slaves), in {@link MessageQueue.Order}.
 */
export const subscribeQueues = (topic: string, route: RouteData.TopicRouteData): ReadonlyArray<MessageQueue.MessageQueue> => {
  const queues: Array<MessageQueue.MessageQueue> = []
  for (const data of route.queueDatas) {
    if ((data.perm & RouteData.Perm.READ) === 0) continue
    for (let queueId = 0; queueId < data.readQueueNums; queueId++) {
      queues.push(MessageQueue.make(topic, data.brokerName, queueId))
    }
  }
  return MessageQueue.sort(queues)
}

/**
 * The route a producer uses for a topic with no route yet: `TBW102`'s, with every queue data's
 * read and write counts set to `min(defaultTopicQueueNums, readQueueNums)`. The broker creates the
 * topic on the first send when its `TBW102` is inheritable.
 */
export const fromTemplate = (template: RouteData.TopicRouteData, defaultTopicQueueNums: number): RouteData.TopicRouteData => ({
  ...template,
  queueDatas: template.queueDatas.map((data) => {
    const nums = Math.min(defaultTopicQueueNums, data.readQueueNums)
    return { ...data, readQueueNums: nums, writeQueueNums: nums }
  })
})

// JSON with object keys sorted, so that equal routes give equal text whatever their key order.
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v)

const byBrokerName = <A extends { readonly brokerName: string }>(items: ReadonlyArray<A>): Array<A> =>
  [...items].sort((a, b) => (a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0))

/** Java's `topicRouteDataChanged`: the routes differ once queue and broker data are sorted. */
export const changed = (previous: RouteData.TopicRouteData | undefined, next: RouteData.TopicRouteData): boolean => {
  if (previous === undefined) return true
  const normal = (route: RouteData.TopicRouteData) =>
    canonical({ ...route, queueDatas: byBrokerName(route.queueDatas), brokerDatas: byBrokerName(route.brokerDatas) })
  return normal(previous) !== normal(next)
}

/** The table with the brokers of `route` replaced by the route's addresses for them. */
export const withRoute = (table: AddressTable, route: RouteData.TopicRouteData): AddressTable => {
  const next = new Map(table)
  for (const broker of route.brokerDatas) {
    next.set(broker.brokerName, new Map(Object.entries(broker.brokerAddrs)))
  }
  return next
}

/**
 * Java's `cleanOfflineBroker`: drops every address that no route in `routes` names, and broker
 * names left with no address.
 */
export const withoutOffline = (table: AddressTable, routes: Iterable<RouteData.TopicRouteData>): AddressTable => {
  const live = new Set<string>()
  for (const route of routes) {
    for (const broker of route.brokerDatas) for (const address of Object.values(broker.brokerAddrs)) live.add(address)
  }
  const next = new Map<string, ReadonlyMap<string, string>>()
  for (const [brokerName, addresses] of table) {
    const kept = new Map([...addresses].filter(([, address]) => live.has(address)))
    if (kept.size > 0) next.set(brokerName, kept)
  }
  return next
}

/** Java's `findBrokerAddressInPublish`: the master's address. */
export const publishAddress = (table: AddressTable, brokerName: string): string | undefined =>
  table.get(brokerName)?.get(RouteData.MASTER_ID)

/** Where {@link subscribeAddress} found a broker. */
export interface FoundBroker {
  readonly address: string
  readonly brokerId: number
  /** Not the master. */
  readonly slave: boolean
}

const lowestId = (addresses: ReadonlyMap<string, string>): [string, string] | undefined => {
  let best: [string, string] | undefined
  for (const entry of addresses) if (best === undefined || Number(entry[0]) < Number(best[0])) best = entry
  return best
}

/**
 * Java's `findBrokerAddressInSubscribe`: the node `brokerId`; for a missing slave id, the next id;
 * then, unless `onlyThisBroker`, any node (Java's map iterates small ids first: the lowest id).
 */
export const subscribeAddress = (
  table: AddressTable,
  brokerName: string,
  brokerId: number,
  onlyThisBroker: boolean
): FoundBroker | undefined => {
  const addresses = table.get(brokerName)
  if (addresses === undefined || addresses.size === 0) return undefined
  const exact = addresses.get(String(brokerId))
  if (exact !== undefined) return { address: exact, brokerId, slave: brokerId !== 0 }
  if (brokerId !== 0) {
    const next = addresses.get(String(brokerId + 1))
    if (next !== undefined) return { address: next, brokerId: brokerId + 1, slave: true }
  }
  if (onlyThisBroker) return undefined
  const any = lowestId(addresses)
  return any === undefined ? undefined : { address: any[1], brokerId: Number(any[0]), slave: any[0] !== RouteData.MASTER_ID }
}

/**
 * Java's `findBrokerAddrByTopic`: the broker at `pick(count)` among the route's brokers, its master
 * or else one of its nodes picked the same way. `pick(n)` returns an integer in `[0, n)`.
 */
export const anyBrokerAddress = (route: RouteData.TopicRouteData, pick: (n: number) => number): string | undefined => {
  const brokers = route.brokerDatas
  if (brokers.length === 0) return undefined
  const broker = brokers[pick(brokers.length)]!
  const master = RouteData.masterAddress(broker)
  if (master !== undefined) return master
  const nodes = Object.values(broker.brokerAddrs)
  return nodes.length === 0 ? undefined : nodes[pick(nodes.length)]
}

/** Every address of the table; only masters when `mastersOnly`. */
export const addresses = (table: AddressTable, mastersOnly: boolean): ReadonlyArray<{ readonly brokerName: string; readonly address: string }> => {
  const out: Array<{ brokerName: string; address: string }> = []
  for (const [brokerName, nodes] of table) {
    for (const [id, address] of nodes) if (!mastersOnly || id === RouteData.MASTER_ID) out.push({ brokerName, address })
  }
  return out
}
