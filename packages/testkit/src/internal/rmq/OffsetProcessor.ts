/**
 * Offsets: QUERY_CONSUMER_OFFSET (14), UPDATE_CONSUMER_OFFSET (15), SEARCH_OFFSET_BY_TIMESTAMP
 * (29), GET_MAX_OFFSET (30), GET_MIN_OFFSET (31) and GET_CONSUME_STATS (208), answered as a 5.3.3
 * broker answers them.
 *
 * Java's rule for a group with no stored offset: QUERY_NOT_FOUND when the request says
 * `setZeroIfNotFound=false`; offset 0 when the queue starts at 0 and its first message is still in
 * memory (here: the queue has a message); QUERY_NOT_FOUND otherwise. An update needs the
 * subscription group (pulls, heartbeats and code 200 create it) and the topic, and is ignored
 * ("Offset has been previously reset") while a server-side reset of the queue is pending. Max and min offsets
 * of unknown queues are 0; a search by time follows the consume queue's binary search (LOWER unless
 * `boundaryType` is "upper" in any case).
 */
import { Headers } from "@effect-rocketmq/client"
import { RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import type { Handler } from "../../InMemoryRocketMQ.ts"
import type * as Parts from "./Parts.ts"
import * as Wire from "./wire.ts"

/**
 * `ConsumeStats` of a group: per queue of the topic (or of every topic the group has offsets of)
 * the broker's max offset, the group's committed and pull offsets and the store time of the last
 * consumed message, keyed by message queue objects as fastjson writes them; `consumeTps` is 0.0
 * (no rate is measured here). Topics the group's heartbeat does not subscribe to are left out when
 * it subscribes to any, unless the request lists its topics (`topicList`).
 */
const consumeStats = (parts: Parts.Parts, group: string, topic: string | undefined, list: ReadonlyArray<string>): string => {
  // A topic list (5.x `topicList`, `;`-separated) is taken as it is, without the subscription check.
  const subscriptions = list.length > 0 ? undefined : parts.clients.consumer(group)?.subscriptions
  const topics = list.length > 0 ? list : topic === undefined || topic === "" ? parts.offsets.topicsOf(group) : [topic]
  const entries: Array<readonly [object, unknown]> = []
  for (const name of topics) {
    const config = parts.topics.get(name)
    if (config === undefined) continue
    if (subscriptions !== undefined && subscriptions.size > 0 && !subscriptions.has(name)) continue
    for (let queueId = 0; queueId < config.readQueueNums; queueId++) {
      const stored = parts.offsets.query(group, name, queueId) ?? -1n
      const consumerOffset = stored < 0n ? 0n : stored
      const pullOffset = parts.offsets.queryPull(group, name, queueId) ?? -1n
      const lastTimestamp = consumerOffset > 0n ? parts.store.storeTimeAt(name, queueId, consumerOffset - 1n) : 0
      entries.push([Wire.messageQueueJson(name, parts.name, queueId), {
        brokerOffset: parts.store.maxOffset(name, queueId),
        consumerOffset,
        lastTimestamp: lastTimestamp > 0 ? lastTimestamp : 0,
        pullOffset: pullOffset > consumerOffset ? pullOffset : consumerOffset
      }])
    }
  }
  return `{"consumeTps":0.0,"offsetTable":${Wire.fastJson(new Wire.ObjectKeyMap(entries))}}`
}

export const make = (parts: Parts.Parts): Parts.Processors => {
  const offset = (request: Parameters<Handler>[0], value: bigint, remark?: string) =>
    Wire.respond(request, ResponseCode.SUCCESS, remark, { extFields: { offset: String(value) } })

  const query: Handler = (request) =>
    Wire.withHeader(Headers.QueryConsumerOffsetRequestHeader, request, (header) =>
      Effect.sync(() => {
        const stored = parts.offsets.query(header.consumerGroup, header.topic, header.queueId)
        if (stored !== undefined && stored >= 0n) return offset(request, stored)
        if (header.setZeroIfNotFound === false) {
          return Wire.respond(request, ResponseCode.QUERY_NOT_FOUND, "Not found, do not set to zero, maybe this group boot first")
        }
        if (parts.store.minOffset(header.topic, header.queueId) <= 0n && parts.store.maxOffset(header.topic, header.queueId) > 0n) {
          return offset(request, 0n)
        }
        return Wire.respond(request, ResponseCode.QUERY_NOT_FOUND, "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first")
      }))

  const update: Handler = (request) =>
    Wire.withHeader(Headers.UpdateConsumerOffsetRequestHeader, request, (header) =>
      Effect.sync(() => {
        if (!parts.groups.contains(header.consumerGroup)) {
          return Wire.respond(request, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `Group ${header.consumerGroup} not exist!`)
        }
        if (parts.topics.get(header.topic) === undefined) {
          return Wire.respond(request, ResponseCode.TOPIC_NOT_EXIST, `Topic ${header.topic} not exist!`)
        }
        if (parts.settings.useServerSideResetOffset && parts.offsets.hasReset(header.consumerGroup, header.topic, header.queueId)) {
          return Wire.respond(request, ResponseCode.SUCCESS, "Offset has been previously reset")
        }
        parts.offsets.commit(header.consumerGroup, header.topic, header.queueId, header.commitOffset)
        return Wire.respond(request, ResponseCode.SUCCESS)
      }))

  const search: Handler = (request) =>
    Wire.withHeader(Headers.SearchOffsetRequestHeader, request, (header) =>
      Effect.sync(() => {
        const boundary = header.boundaryType?.toLowerCase() === "upper" ? "UPPER" : "LOWER"
        return offset(request, parts.store.searchOffset(header.topic, header.queueId, header.timestamp, boundary))
      }))

  const max: Handler = (request) =>
    Wire.withHeader(Headers.GetMaxOffsetRequestHeader, request, (header) =>
      Effect.sync(() => offset(request, parts.store.maxOffset(header.topic, header.queueId))))

  // 5.3.3 answers GET_MIN_OFFSET through its RPC layer, which sets an empty remark.
  const min: Handler = (request) =>
    Wire.withHeader(Headers.GetMinOffsetRequestHeader, request, (header) =>
      Effect.sync(() => offset(request, parts.store.minOffset(header.topic, header.queueId), "")))

  const stats: Handler = (request) =>
    Wire.withHeader(Headers.GetConsumeStatsRequestHeader, request, (header) =>
      Effect.sync(() => {
        const list = (header.topicList ?? "").split(";").filter((topic) => topic.trim() !== "")
        return Wire.respondJson(request, consumeStats(parts, header.consumerGroup, header.topic, list))
      }))

  return [
    [RequestCode.GET_CONSUME_STATS, stats],
    [RequestCode.QUERY_CONSUMER_OFFSET, query],
    [RequestCode.UPDATE_CONSUMER_OFFSET, update],
    [RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, search],
    [RequestCode.GET_MAX_OFFSET, max],
    [RequestCode.GET_MIN_OFFSET, min]
  ]
}
