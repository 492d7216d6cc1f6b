/**
 * Topic administration — UPDATE_AND_CREATE_TOPIC (17) and DELETE_TOPIC_IN_BROKER (215) — and
 * GET_BROKER_RUNTIME_INFO (28), as 5.3.3's `AdminBrokerProcessor` answers them.
 *
 * Creating validates the name and refuses system topics (INVALID_PARAMETER with Java's remarks),
 * then stores the configuration and registers it with the name server at once; success carries
 * Java's default remark "not set any response code". Deleting refuses system topics, then forgets
 * the topic's configuration, messages and consumer offsets here (the name server keeps its route
 * until DELETE_TOPIC_IN_NAMESRV).
 */
import { Headers } from "@effect-rocketmq/client"
import { RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Clock, Effect } from "effect"
import type { Handler } from "../../InMemoryRocketMQ.ts"
import type * as Parts from "./Parts.ts"
import * as Wire from "./wire.ts"

const conflict = (topic: string) => `The topic[${topic}] is conflict with system topic.`

/** Java's `[ d days, h hours, m minutes, s seconds ]` since boot. */
const runtimeText = (millis: number) => {
  const day = 86_400_000
  const hour = 3_600_000
  const minute = 60_000
  return `[ ${Math.floor(millis / day)} days, ${Math.floor((millis % day) / hour)} hours, ` +
    `${Math.floor((millis % hour) / minute)} minutes, ${Math.floor((millis % minute) / 1000)} seconds ]`
}

/**
 * The part of GET_BROKER_RUNTIME_INFO's `KVTable` an in-memory broker can fill truthfully: version,
 * boot time and run time, commit-log offsets, put totals, earliest message time. (A real broker
 * adds TPS, thread pools, disk use and timer figures.)
 */
const runtimeTable = (parts: Parts.Parts, now: number): Record<string, string> => {
  const stats = parts.store.stats()
  return {
    brokerVersionDesc: "V5_3_3",
    brokerVersion: "479",
    brokerActive: "true",
    bootTimestamp: String(parts.bootTimestamp()),
    runtime: runtimeText(now - parts.bootTimestamp()),
    commitLogMinOffset: "0",
    commitLogMaxOffset: String(stats.commitLogMaxOffset),
    putMessageTimesTotal: String(stats.puts),
    putMessageSizeTotal: String(stats.putBytes),
    earliestMessageTimeStamp: String(stats.earliestStoreTime),
    startAcceptSendRequestTimeStamp: "0"
  }
}

export const make = (parts: Parts.Parts): Parts.Processors => {
  const createTopic: Handler = (request) =>
    Wire.withHeader(Headers.CreateTopicRequestHeader, request, (header) =>
      Effect.sync(() => {
        const invalid = Wire.validateTopic(header.topic)
        if (invalid !== undefined) return Wire.respond(request, ResponseCode.INVALID_PARAMETER, invalid)
        if (parts.topics.isSystemTopic(header.topic)) {
          return Wire.respond(request, ResponseCode.INVALID_PARAMETER, conflict(header.topic))
        }
        parts.topics.put({
          topic: header.topic,
          readQueueNums: header.readQueueNums,
          writeQueueNums: header.writeQueueNums,
          perm: header.perm,
          topicFilterType: header.topicFilterType,
          topicSysFlag: header.topicSysFlag ?? 0,
          order: header.order
        })
        return Wire.respond(request, ResponseCode.SUCCESS, "not set any response code")
      }))

  const deleteTopic: Handler = (request) =>
    Wire.withHeader(Headers.DeleteTopicRequestHeader, request, (header) =>
      Effect.sync(() => {
        if (header.topic.trim() === "") return Wire.respond(request, ResponseCode.INVALID_PARAMETER, "The specified topic is blank.")
        if (parts.topics.isSystemTopic(header.topic)) {
          return Wire.respond(request, ResponseCode.INVALID_PARAMETER, conflict(header.topic))
        }
        parts.topics.delete(header.topic)
        parts.store.deleteTopic(header.topic)
        parts.offsets.deleteTopic(header.topic)
        return Wire.respond(request, ResponseCode.SUCCESS)
      }))

  const runtimeInfo: Handler = (request) =>
    Effect.map(Clock.currentTimeMillis, (now) => Wire.respondJson(request, Wire.fastJson({ table: runtimeTable(parts, now) })))

  return [
    [RequestCode.GET_BROKER_RUNTIME_INFO, runtimeInfo],
    [RequestCode.UPDATE_AND_CREATE_TOPIC, createTopic],
    [RequestCode.DELETE_TOPIC_IN_BROKER, deleteTopic]
  ]
}
