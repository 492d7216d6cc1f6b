/**
 * Topic administration: UPDATE_AND_CREATE_TOPIC (17) and DELETE_TOPIC_IN_BROKER (215), as 5.3.3's
 * `AdminBrokerProcessor` answers them.
 *
 * Creating validates the name and refuses system topics (INVALID_PARAMETER with Java's remarks),
 * then stores the configuration and registers it with the name server at once; success carries
 * Java's default remark "not set any response code". Deleting refuses system topics, then forgets
 * the topic's configuration, messages and consumer offsets here (the name server keeps its route
 * until DELETE_TOPIC_IN_NAMESRV).
 */
import { Headers } from "@effect-rocketmq/client"
import { RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import type { Handler } from "../../InMemoryRocketMQ.ts"
import type * as Parts from "./Parts.ts"
import * as Requests from "./requests.ts"
import * as Wire from "./wire.ts"

const conflict = (topic: string) => `The topic[${topic}] is conflict with system topic.`

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
    Wire.withHeader(Requests.DeleteTopicRequestHeader, request, (header) =>
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

  return [
    [RequestCode.UPDATE_AND_CREATE_TOPIC, createTopic],
    [RequestCode.DELETE_TOPIC_IN_BROKER, deleteTopic]
  ]
}
