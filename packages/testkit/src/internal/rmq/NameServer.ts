/**
 * The in-memory name server: a route table fed by broker registrations, answering the name-server
 * codes as a 5.3.3 name server does.
 *
 * As in Java, brokers register all their topics when they start (upserts only), each topic they
 * create or update at once, and again within `registerInterval` after a topic of theirs was deleted
 * here (a Java broker re-registers every 30 s anyway); a broker that stops unregisters,
 * so its queues leave every route (a topic left with no broker leaves the table). A topic deleted
 * in a broker stays here until DELETE_TOPIC_IN_NAMESRV (216) removes it.
 *
 * Codes: GET_ROUTEINFO_BY_TOPIC (105; standard JSON for clients of version ≥ 401 or with
 * `acceptStandardJsonOnly`, fastjson's bare integer keys otherwise), GET_BROKER_CLUSTER_INFO (106,
 * bare integer keys as every name server writes it), GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206),
 * DELETE_TOPIC_IN_NAMESRV (216) and GET_TOPICS_BY_CLUSTER (224). Brokers and queues are listed in
 * broker-name order (Java's hash order is arbitrary).
 */
import { Headers } from "@effect-rocketmq/client"
import { RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import type { Handler, TopicConfig } from "../../InMemoryRocketMQ.ts"
import * as Wire from "./wire.ts"

interface QueueData {
  readonly brokerName: string
  readonly perm: number
  readonly readQueueNums: number
  readonly topicSysFlag: number
  readonly writeQueueNums: number
}

export interface Registration {
  readonly brokerName: string
  readonly address: string
  readonly topics: ReadonlyArray<TopicConfig>
}

export interface NameServer {
  readonly clusterName: string
  readonly processors: ReadonlyMap<number, Handler>
  readonly register: (registration: Registration) => void
  readonly registerTopic: (brokerName: string, topic: TopicConfig) => void
  readonly unregister: (brokerName: string) => void
  /** The brokers registered now, by name, with their address. */
  readonly brokers: () => ReadonlyMap<string, string>
  /** Called with the topic each DELETE_TOPIC_IN_NAMESRV removes (brokers re-register theirs later). */
  readonly onDelete: (listener: (topic: string) => void) => void
  /** The queue data of `topic` per broker, or undefined when no broker has it. */
  readonly queueData: (topic: string) => ReadonlyArray<QueueData> | undefined
}

const byName = <A extends { readonly brokerName: string }>(a: A, b: A) =>
  a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0

export const make = (clusterName: string): NameServer => {
  const brokers = new Map<string, string>()
  const deleteListeners: Array<(topic: string) => void> = []
  const topicTable = new Map<string, Map<string, QueueData>>()

  const registerTopic = (brokerName: string, topic: TopicConfig) => {
    const byBroker = topicTable.get(topic.topic) ?? new Map<string, QueueData>()
    byBroker.set(brokerName, {
      brokerName,
      perm: topic.perm,
      readQueueNums: topic.readQueueNums,
      topicSysFlag: topic.topicSysFlag,
      writeQueueNums: topic.writeQueueNums
    })
    topicTable.set(topic.topic, byBroker)
  }

  const unregister = (brokerName: string) => {
    brokers.delete(brokerName)
    for (const [topic, byBroker] of topicTable) {
      byBroker.delete(brokerName)
      if (byBroker.size === 0) topicTable.delete(topic)
    }
  }

  const brokerData = (brokerName: string) => ({
    brokerAddrs: { "0": brokers.get(brokerName)! },
    brokerName,
    cluster: clusterName,
    enableActingMaster: false
  })

  const queueData = (topic: string): ReadonlyArray<QueueData> | undefined => {
    const byBroker = topicTable.get(topic)
    if (byBroker === undefined) return undefined
    const live = [...byBroker.values()].filter((queue) => brokers.has(queue.brokerName)).sort(byName)
    return live.length === 0 ? undefined : live
  }

  const getRouteInfo: Handler = (request) =>
    Wire.withHeader(Headers.GetRouteInfoRequestHeader, request, (header) =>
      Effect.sync(() => {
        const queues = queueData(header.topic)
        if (queues === undefined) {
          return Wire.respond(
            request,
            ResponseCode.TOPIC_NOT_EXIST,
            `No topic route info in name server for the topic: ${header.topic}${Wire.FAQ}`
          )
        }
        const standard = request.version >= RemotingCommand.Version.V4_9_4 || header.acceptStandardJsonOnly === true
        const route = {
          brokerDatas: queues.map((queue) => brokerData(queue.brokerName)),
          filterServerTable: {},
          queueDatas: queues
        }
        return Wire.respondJson(request, Wire.fastJson(route, !standard))
      }))

  const getClusterInfo: Handler = (request) =>
    Effect.sync(() => {
      const names = [...brokers.keys()].sort()
      const info = {
        brokerAddrTable: Object.fromEntries(names.map((name) => [name, brokerData(name)])),
        clusterAddrTable: names.length === 0 ? {} : { [clusterName]: names }
      }
      return Wire.respondJson(request, Wire.fastJson(info, true))
    })

  const getTopicList: Handler = (request) =>
    Effect.sync(() => Wire.respondJson(request, Wire.fastJson({ topicList: [...topicTable.keys()] })))

  const deleteTopic: Handler = (request) =>
    Wire.withHeader(Headers.DeleteTopicFromNamesrvRequestHeader, request, (header) =>
      Effect.sync(() => {
        const byBroker = topicTable.get(header.topic)
        if (header.clusterName === undefined || header.clusterName === "") {
          topicTable.delete(header.topic)
        } else if (byBroker !== undefined && header.clusterName === clusterName) {
          for (const name of brokers.keys()) byBroker.delete(name)
          if (byBroker.size === 0) topicTable.delete(header.topic)
        }
        for (const listener of deleteListeners) listener(header.topic)
        return Wire.respond(request, ResponseCode.SUCCESS)
      }))

  const getTopicsByCluster: Handler = (request) =>
    Wire.withHeader(Headers.GetTopicsByClusterRequestHeader, request, (header) =>
      Effect.sync(() => {
        const topics = header.cluster !== clusterName
          ? []
          : [...topicTable].filter(([, byBroker]) => [...byBroker.keys()].some((name) => brokers.has(name)))
            .map(([topic]) => topic)
        return Wire.respondJson(request, Wire.fastJson({ topicList: topics }))
      }))

  return {
    clusterName,
    processors: new Map([
      [RequestCode.GET_ROUTEINFO_BY_TOPIC, getRouteInfo],
      [RequestCode.GET_BROKER_CLUSTER_INFO, getClusterInfo],
      [RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER, getTopicList],
      [RequestCode.DELETE_TOPIC_IN_NAMESRV, deleteTopic],
      [RequestCode.GET_TOPICS_BY_CLUSTER, getTopicsByCluster]
    ]),
    register: (registration) => {
      brokers.set(registration.brokerName, registration.address)
      for (const topic of registration.topics) registerTopic(registration.brokerName, topic)
    },
    registerTopic,
    unregister,
    brokers: () => brokers,
    onDelete: (listener) => {
      deleteListeners.push(listener)
    },
    queueData
  }
}
