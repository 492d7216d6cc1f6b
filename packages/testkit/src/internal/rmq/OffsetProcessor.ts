/**
 * Offsets: QUERY_CONSUMER_OFFSET (14), UPDATE_CONSUMER_OFFSET (15), SEARCH_OFFSET_BY_TIMESTAMP
 * (29), GET_MAX_OFFSET (30) and GET_MIN_OFFSET (31), answered as a 5.3.3 broker answers them.
 *
 * Java's rule for a group with no stored offset: QUERY_NOT_FOUND when the request says
 * `setZeroIfNotFound=false`; offset 0 when the queue starts at 0 and its first message is still in
 * memory (here: the queue has a message); QUERY_NOT_FOUND otherwise. An update needs the
 * subscription group (pulls, heartbeats and code 200 create it) and the topic. Max and min offsets
 * of unknown queues are 0; a search by time follows the consume queue's binary search (LOWER unless
 * `boundaryType` is "upper" in any case).
 */
import { Headers } from "@effect-rocketmq/client"
import { RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import type { Handler } from "../../InMemoryRocketMQ.ts"
import type * as Parts from "./Parts.ts"
import * as Wire from "./wire.ts"

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

  return [
    [RequestCode.QUERY_CONSUMER_OFFSET, query],
    [RequestCode.UPDATE_CONSUMER_OFFSET, update],
    [RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, search],
    [RequestCode.GET_MAX_OFFSET, max],
    [RequestCode.GET_MIN_OFFSET, min]
  ]
}
