/**
 * The client-management codes: HEART_BEAT (34), UNREGISTER_CLIENT (35) and
 * GET_CONSUMER_LIST_BY_GROUP (38), as Java's `ClientManageProcessor` and `ConsumerManageProcessor`
 * answer them.
 *
 * A heartbeat registers its connection under each producer group and each consumer group it names
 * (a consumer group only when its subscription group exists or can be auto-created; the broker then
 * creates `%RETRY%<group>`), and answers SUCCESS with `IS_SUPPORT_HEART_BEAT_V2` and
 * `IS_SUB_CHANGE` set to `true`. Members of a clustering group whose membership or subscriptions
 * changed are sent NOTIFY_CONSUMER_IDS_CHANGED before the answer.
 */
import { Headers, Heartbeat } from "@effect-rocketmq/client"
import { type RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Clock, Effect } from "effect"
import type { ClientChannel, Handler } from "../../InMemoryRocketMQ.ts"
import type * as Clients from "./Clients.ts"
import * as Parts from "./Parts.ts"
import * as Channels from "./Channels.ts"
import * as Wire from "./wire.ts"

/** The connection a request came on; requests handled without a transport share one that refuses requests. */
export const channelOf = (context: Parameters<Handler>[1]): ClientChannel => context?.channel ?? Channels.detached

export const make = (parts: Parts.Parts): Parts.Processors => {
  const register = (request: RemotingCommand.RemotingCommand, data: Heartbeat.HeartbeatData, channel: ClientChannel, now: number) => {
    const member = (): Clients.Member => ({
      channel,
      clientId: data.clientID,
      language: String(request.language),
      version: request.version,
      lastUpdate: now
    })
    const notices: Array<Clients.Notice> = []
    for (const consumer of data.consumerDataSet) {
      const group = parts.groups.find(consumer.groupName)
      if (group === undefined) continue
      parts.topics.createForSendBack(Wire.retryTopic(consumer.groupName), group.retryQueueNums, 6, 0)
      notices.push(...parts.clients.registerConsumer(consumer, member(), group.notifyConsumerIdsChangedEnable))
    }
    for (const producer of data.producerDataSet) parts.clients.registerProducer(producer.groupName, member())
    parts.wake("housekeeping")
    return notices
  }

  const heartbeat: Handler = (request, context) =>
    Heartbeat.decode(request.body).pipe(
      Effect.matchEffect({
        onFailure: (error) => Effect.succeed(Wire.respond(request, ResponseCode.SYSTEM_ERROR, error.message)),
        onSuccess: (data) =>
          Effect.gen(function*() {
            const now = yield* Clock.currentTimeMillis
            yield* Parts.notify(register(request, data, channelOf(context), now))
            return Wire.respond(request, ResponseCode.SUCCESS, undefined, {
              extFields: { IS_SUPPORT_HEART_BEAT_V2: "true", IS_SUB_CHANGE: "true" }
            })
          })
      })
    )

  const unregister: Handler = (request, context) =>
    Wire.withHeader(Headers.UnregisterClientRequestHeader, request, (header) =>
      Effect.gen(function*() {
        const channel = channelOf(context)
        if (header.producerGroup !== undefined) parts.clients.unregisterProducer(header.producerGroup, channel.id)
        if (header.consumerGroup !== undefined) {
          const group = header.consumerGroup
          yield* Parts.notify(parts.clients.unregisterConsumer(group, channel.id, parts.groups.notifyEnabled(group)))
        }
        return Wire.respond(request, ResponseCode.SUCCESS)
      }))

  const consumerList: Handler = (request) =>
    Wire.withHeader(Headers.GetConsumerListByGroupRequestHeader, request, (header) =>
      Effect.sync(() => {
        const group = parts.clients.consumer(header.consumerGroup)
        const ids = group === undefined ? [] : [...group.members.values()].map((member) => member.clientId)
        return ids.length === 0
          ? Wire.respond(request, ResponseCode.SYSTEM_ERROR, `no consumer for this group, ${header.consumerGroup}`)
          : Wire.respondJson(request, Wire.fastJson({ consumerIdList: ids }))
      }))

  return [
    [RequestCode.HEART_BEAT, heartbeat],
    [RequestCode.UNREGISTER_CLIENT, unregister],
    [RequestCode.GET_CONSUMER_LIST_BY_GROUP, consumerList]
  ]
}
