/**
 * The JSON bodies a name server answers with: {@link TopicRouteData} (GET_ROUTEINFO_BY_TOPIC),
 * {@link ClusterInfo} (GET_BROKER_CLUSTER_INFO) and {@link TopicList}
 * (GET_ALL_TOPIC_LIST_FROM_NAMESERVER), as `effect/Schema` structs, with decoders that accept
 * fastjson's bare integer keys (see {@link FastJson}) and helpers that read routes the way the Java
 * client does.
 *
 * Unknown keys are ignored; map keys such as `__proto__` stay plain data. Decoding failures are
 * {@link BodyDecodeError}s.
 *
 * @since 0.1.0
 */
import type { Effect } from "effect"
import { Schema } from "effect"
import type { BodyDecodeError } from "./ClientError.ts"
import * as FastJson from "./FastJson.ts"

/**
 * One broker group: its name, cluster and addresses by broker id (`"0"` is the master).
 *
 * @since 0.1.0
 * @category schemas
 */
export const BrokerData = Schema.Struct({
  cluster: Schema.String,
  brokerName: Schema.String,
  brokerAddrs: Schema.Record(Schema.String, Schema.String),
  enableActingMaster: Schema.optionalKey(Schema.Boolean),
  zoneName: Schema.optionalKey(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type BrokerData = typeof BrokerData.Type

/**
 * The queues a broker group hosts for a topic, and their permissions.
 *
 * @since 0.1.0
 * @category schemas
 */
export const QueueData = Schema.Struct({
  brokerName: Schema.String,
  readQueueNums: Schema.Int,
  writeQueueNums: Schema.Int,
  perm: Schema.Int,
  topicSysFlag: Schema.optionalKey(Schema.Int)
})

/**
 * @since 0.1.0
 * @category models
 */
export type QueueData = typeof QueueData.Type

/**
 * The route of a topic.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TopicRouteData = Schema.Struct({
  orderTopicConf: Schema.optionalKey(Schema.String),
  queueDatas: Schema.Array(QueueData),
  brokerDatas: Schema.Array(BrokerData),
  filterServerTable: Schema.optionalKey(Schema.Record(Schema.String, Schema.Array(Schema.String))),
  /** Static-topic mappings, kept as raw JSON. */
  topicQueueMappingByBroker: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown))
})

/**
 * @since 0.1.0
 * @category models
 */
export type TopicRouteData = typeof TopicRouteData.Type

/**
 * Every broker group by name, and the broker names of every cluster.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ClusterInfo = Schema.Struct({
  brokerAddrTable: Schema.Record(Schema.String, BrokerData),
  clusterAddrTable: Schema.Record(Schema.String, Schema.Array(Schema.String))
})

/**
 * @since 0.1.0
 * @category models
 */
export type ClusterInfo = typeof ClusterInfo.Type

/**
 * Topic names.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TopicList = Schema.Struct({
  topicList: Schema.Array(Schema.String),
  brokerAddr: Schema.optionalKey(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type TopicList = typeof TopicList.Type

/**
 * Decodes a GET_ROUTEINFO_BY_TOPIC body (standard JSON or fastjson's bare keys).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeTopicRouteData: (body: Uint8Array | string | undefined) => Effect.Effect<TopicRouteData, BodyDecodeError> =
  FastJson.decodeBody(TopicRouteData, "TopicRouteData")

/**
 * Decodes a GET_BROKER_CLUSTER_INFO body (fastjson's bare keys included).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeClusterInfo: (body: Uint8Array | string | undefined) => Effect.Effect<ClusterInfo, BodyDecodeError> =
  FastJson.decodeBody(ClusterInfo, "ClusterInfo")

/**
 * Decodes a GET_ALL_TOPIC_LIST_FROM_NAMESERVER body.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeTopicList: (body: Uint8Array | string | undefined) => Effect.Effect<TopicList, BodyDecodeError> =
  FastJson.decodeBody(TopicList, "TopicList")

/**
 * `PermName` bits of a queue's or topic's `perm`.
 *
 * @since 0.1.0
 * @category constants
 */
export const Perm = {
  PRIORITY: 8,
  READ: 4,
  WRITE: 2,
  INHERIT: 1
} as const

/**
 * The broker id of a master.
 *
 * @since 0.1.0
 * @category constants
 */
export const MASTER_ID = "0"

/**
 * The master's address of a broker group, if it has one.
 *
 * @since 0.1.0
 * @category getters
 */
export const masterAddress = (broker: BrokerData): string | undefined =>
  Object.prototype.hasOwnProperty.call(broker.brokerAddrs, MASTER_ID) ? broker.brokerAddrs[MASTER_ID] : undefined

/**
 * One queue of a topic on one broker group.
 *
 * @since 0.1.0
 * @category models
 */
export interface MessageQueue {
  readonly topic: string
  readonly brokerName: string
  readonly queueId: number
}

const queues = (
  topic: string,
  route: TopicRouteData,
  bit: number,
  count: (queue: QueueData) => number
): ReadonlyArray<MessageQueue> => {
  const masters = new Set(
    route.brokerDatas.filter((broker) => masterAddress(broker) !== undefined).map((broker) => broker.brokerName)
  )
  const out: Array<MessageQueue> = []
  const sorted = [...route.queueDatas].sort((a, b) => (a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0))
  for (const queue of sorted) {
    if ((queue.perm & bit) === 0 || !masters.has(queue.brokerName)) continue
    for (let queueId = 0; queueId < count(queue); queueId++) out.push({ topic, brokerName: queue.brokerName, queueId })
  }
  return out
}

/**
 * The queues a producer can send to, as the Java client lists them: for each broker group that is
 * writable (`perm & 2`) and has a master, queue ids `0 … writeQueueNums − 1`, by broker name.
 *
 * @since 0.1.0
 * @category getters
 */
export const writeQueues = (topic: string, route: TopicRouteData): ReadonlyArray<MessageQueue> =>
  queues(topic, route, Perm.WRITE, (queue) => queue.writeQueueNums)

/**
 * The queues a consumer can pull from: for each broker group that is readable (`perm & 4`) and
 * has a master, queue ids `0 … readQueueNums − 1`, by broker name.
 *
 * @since 0.1.0
 * @category getters
 */
export const readQueues = (topic: string, route: TopicRouteData): ReadonlyArray<MessageQueue> =>
  queues(topic, route, Perm.READ, (queue) => queue.readQueueNums)

/**
 * The master address of broker group `brokerName` in a route, if any.
 *
 * @since 0.1.0
 * @category getters
 */
export const brokerAddress = (route: TopicRouteData, brokerName: string): string | undefined => {
  const broker = route.brokerDatas.find((data) => data.brokerName === brokerName)
  return broker === undefined ? undefined : masterAddress(broker)
}
