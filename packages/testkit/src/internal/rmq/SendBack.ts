/**
 * CONSUMER_SEND_MSG_BACK (36): a consumer hands back a message it failed to consume, as 5.3.3's
 * `consumerSendMsgBack` takes it.
 *
 * The broker looks the message up by commit-log offset in its own store and stores a copy for the
 * group: in `%RETRY%<group>` through the delay-level hook (level `3 + reconsumeTimes` when the
 * request says 0, so Java's 10 s, 30 s, 1 min … 2 h schedule), or in `%DLQ%<group>` when the
 * message was already consumed `maxReconsumeTimes` times (the request's, from clients of version
 * ≥ 121, else the group's `retryMaxTimes`, 16) or the request says a negative level. The copy has
 * reconsume times + 1, the original body, flag, sysFlag, born time and host, and the original
 * properties plus `RETRY_TOPIC` (the first topic), `WAIT=false`, `DELAY` and `ORIGIN_MESSAGE_ID`
 * (kept, or the offset message id of the looked-up message). `UNIQ_KEY` is kept, so the client
 * message id stays the same across retries.
 */

import { Headers } from "@effect-rocketmq/client"
import { RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Clock, Effect } from "effect"
import type { Handler } from "../../InMemoryRocketMQ.ts"
import type * as Parts from "./Parts.ts"
import * as Put from "./Put.ts"
import * as Wire from "./wire.ts"

/** Request version from which the broker reads `maxReconsumeTimes` (V3_4_9). */
const VERSION_WITH_MAX_RECONSUME_TIMES = 121

export const make = (parts: Parts.Parts): Parts.Processors => {
  let nextQueue = 0
  const sendBack: Handler = (request) =>
    Wire.withHeader(Headers.ConsumerSendMsgBackRequestHeader, request, (header) =>
      Effect.gen(function*() {
        const group = parts.groups.find(header.group)
        if (group === undefined) {
          return Wire.respond(request, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `subscription group not exist, ${header.group} ${Wire.FAQ}`)
        }
        if (group.retryQueueNums <= 0) return Wire.respond(request, ResponseCode.SUCCESS)
        const retry = parts.topics.createForSendBack(Wire.retryTopic(header.group), group.retryQueueNums, 6, 0)
        if ((retry.perm & 2) === 0) {
          return Wire.respond(request, ResponseCode.NO_PERMISSION, `the topic[${retry.topic}] sending message is forbidden`)
        }
        const original = parts.store.lookup(header.offset)
        if (original === undefined) {
          return Wire.respond(request, ResponseCode.SYSTEM_ERROR, `look message by offset failed, ${header.offset}`)
        }
        const message = original.message
        const max = request.version >= VERSION_WITH_MAX_RECONSUME_TIMES && header.maxReconsumeTimes !== undefined
          ? header.maxReconsumeTimes
          : group.retryMaxTimes
        const dead = message.reconsumeTimes >= max || header.delayLevel < 0
        const topic = dead ? parts.topics.createForSendBack(Wire.dlqTopic(header.group), 1, 6, 0).topic : retry.topic
        const properties: Record<string, string> = { ...message.properties }
        properties["RETRY_TOPIC"] ??= message.topic
        properties["WAIT"] = "false"
        properties["DELAY"] = String(dead ? 0 : header.delayLevel === 0 ? 3 + message.reconsumeTimes : header.delayLevel)
        if ((properties["ORIGIN_MESSAGE_ID"] ?? "").trim() === "") properties["ORIGIN_MESSAGE_ID"] = original.offsetMsgId
        nextQueue = (nextQueue + 1) | 0
        const outcome = Put.put(parts, {
          topic,
          queueId: dead ? 0 : Math.abs(nextQueue) % group.retryQueueNums,
          flag: message.flag,
          sysFlag: message.sysFlag,
          bornTimestamp: message.bornTimestamp,
          bornHost: message.bornHost,
          reconsumeTimes: message.reconsumeTimes + 1,
          body: message.body,
          properties
        }, yield* Clock.currentTimeMillis)
        return outcome._tag === "Stored"
          ? Wire.respond(request, ResponseCode.SUCCESS)
          : Wire.respond(request, ResponseCode.SYSTEM_ERROR, outcome.code === ResponseCode.MESSAGE_ILLEGAL ? "MESSAGE_ILLEGAL" : outcome.remark)
      }))
  return [[RequestCode.CONSUMER_SEND_MSG_BACK, sendBack]]
}
