/**
 * INVOKE_BROKER_TO_RESET_OFFSET (222): moving a consumer group's offsets of a topic to a time, as
 * 5.3.3 answers it.
 *
 * By default (`useServerSideResetOffset`, as 5.3.3) the broker resets the offsets itself: each
 * queue of the topic (or the one `queueId` names) gets the offset of the time (`timestamp` −1: the
 * queue's end), or the `offset` given (checked against the queue), committed at once and handed to
 * the group's next pull of that queue; the answer's body lists the new offsets
 * (`ResetOffsetBody`). The topic and the group must exist.
 *
 * With `useServerSideResetOffset: false` the broker does what older brokers do: it works out each
 * write queue's offset (the time's, unless the group is already before it and `isForce` is false)
 * and sends RESET_CONSUMER_CLIENT_OFFSET (220, oneway, the same body) to every connection of the
 * group, which must have a stored offset for each queue and at least one member online
 * (CONSUMER_NOT_ONLINE otherwise). Its clients then move their offsets.
 */
import { Headers } from "@effect-rocketmq/client"
import { RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import type { Handler } from "../../InMemoryRocketMQ.ts"
import type * as Parts from "./Parts.ts"
import * as Wire from "./wire.ts"

type ResetHeader = typeof Headers.ResetOffsetRequestHeader.schema.Type

/** `ResetOffsetBody`: `{"offsetTable":{{"brokerName":…,"queueId":…,"topic":…}:offset,…}}`. */
const resetBody = (parts: Parts.Parts, topic: string, offsets: ReadonlyArray<readonly [number, bigint]>) =>
  Wire.fastJson({
    offsetTable: new Wire.ObjectKeyMap(offsets.map(([queueId, offset]) => [Wire.messageQueueJson(topic, parts.name, queueId), offset]))
  })

/** The offset of `timestamp` in a queue; a negative time is the queue's end. */
const offsetAt = (parts: Parts.Parts, topic: string, queueId: number, timestamp: number) =>
  timestamp < 0 ? parts.store.maxOffset(topic, queueId) : parts.store.searchOffset(topic, queueId, timestamp, "LOWER")

const serverSide = (parts: Parts.Parts, request: RemotingCommand.RemotingCommand, header: ResetHeader) => {
  const topic = parts.topics.get(header.topic)
  if (topic === undefined) return Wire.respond(request, ResponseCode.TOPIC_NOT_EXIST, `Topic ${header.topic} does not exist`)
  if (!parts.groups.contains(header.group)) {
    return Wire.respond(request, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `Group ${header.group} does not exist`)
  }
  const offsets: Array<readonly [number, bigint]> = []
  const queueId = header.queueId
  if (queueId >= 0) {
    const offset = header.offset
    if (offset !== undefined && offset !== -1n) {
      const min = parts.store.minOffset(header.topic, queueId)
      const max = parts.store.maxOffset(header.topic, queueId)
      if ((min >= 0n && offset < min) || offset > max + 1n) {
        return Wire.respond(request, ResponseCode.SYSTEM_ERROR, `Target offset ${offset} not in consume queue range [${min}-${max}]`)
      }
      offsets.push([queueId, offset])
    } else {
      offsets.push([queueId, offsetAt(parts, header.topic, queueId, header.timestamp)])
    }
  } else {
    for (let i = 0; i < topic.readQueueNums; i++) offsets.push([i, offsetAt(parts, header.topic, i, header.timestamp)])
  }
  if (offsets.length === 0) return Wire.respond(request, ResponseCode.SYSTEM_ERROR, "No queues to reset.")
  for (const [q, offset] of offsets) parts.offsets.assignReset(header.group, header.topic, q, offset)
  return Wire.respondJson(request, resetBody(parts, header.topic, offsets))
}

const throughClients = (parts: Parts.Parts, request: RemotingCommand.RemotingCommand, header: ResetHeader) =>
  Effect.gen(function*() {
    const topic = parts.topics.get(header.topic)
    if (topic === undefined) {
      return Wire.respond(
        request,
        ResponseCode.TOPIC_NOT_EXIST,
        `[reset-offset] reset offset failed, no topic in this broker. topic=${header.topic}`
      )
    }
    const offsets: Array<readonly [number, bigint]> = []
    for (let i = 0; i < topic.writeQueueNums; i++) {
      const consumerOffset = parts.offsets.query(header.group, header.topic, i)
      if (consumerOffset === undefined) {
        return Wire.respond(request, ResponseCode.SYSTEM_ERROR, `THe consumer group <${header.group}> not exist`)
      }
      const at = offsetAt(parts, header.topic, i, header.timestamp)
      offsets.push([i, header.isForce || at < consumerOffset ? at : consumerOffset])
    }
    const members = [...(parts.clients.consumer(header.group)?.members.values() ?? [])]
    if (members.length === 0) {
      return Wire.respond(
        request,
        ResponseCode.CONSUMER_NOT_ONLINE,
        `Consumer not online, so can not reset offset, Group: ${header.group} Topic: ${header.topic} Timestamp: ${header.timestamp}`
      )
    }
    const body = resetBody(parts, header.topic, offsets)
    // Java's request names the topic, group and time; queueId and isForce keep their defaults.
    // (These values always encode: the schema cannot refuse them.)
    const extFields = yield* Headers.ResetOffsetRequestHeader.encode({
      topic: header.topic,
      group: header.group,
      queueId: -1,
      timestamp: header.timestamp,
      isForce: false
    }).pipe(Effect.orDie)
    const reset = RemotingCommand.make({
      code: RequestCode.RESET_CONSUMER_CLIENT_OFFSET,
      extFields,
      body: new TextEncoder().encode(body)
    })
    yield* Effect.forEach(members, (member) =>
      member.channel.invokeOneway(reset).pipe(
        Effect.catchCause((cause) => Effect.logDebug(`Could not tell ${member.clientId} to reset its offsets`, cause))
      ), { discard: true })
    return Wire.respondJson(request, body)
  })

export const make = (parts: Parts.Parts): Parts.Processors => {
  const reset: Handler = (request) =>
    Wire.withHeader(Headers.ResetOffsetRequestHeader, request, (header) =>
      parts.settings.useServerSideResetOffset
        ? Effect.sync(() => serverSide(parts, request, header))
        : throughClients(parts, request, header))
  return [[RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, reset]]
}
