/**
 * Admin requests a broker forwards to one consumer, as 5.3.3's `AdminBrokerProcessor.callConsumer`
 * does: GET_CONSUMER_RUNNING_INFO (307) and CONSUME_MESSAGE_DIRECTLY (309).
 *
 * The broker finds the connection of `clientId` in `consumerGroup`, sends it the request (same ext
 * fields and body, a new opaque) and waits up to 10 s; the client's answer goes back to the admin
 * as it is. A client that is not connected → SYSTEM_ERROR "The Consumer <group> <id> not online";
 * no answer in time → CONSUME_MSG_TIMEOUT (207); any other failure → SYSTEM_ERROR. For 309 the
 * broker first adds `brokerName`, `topicSysFlag` and `groupSysFlag` to the ext fields and puts the
 * stored record its offset message id (`msgId`) names in the body.
 */
import { Headers, StoredMessage } from "@effect-rocketmq/client"
import { RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import type { Handler } from "../../InMemoryRocketMQ.ts"
import type * as Parts from "./Parts.ts"
import * as Wire from "./wire.ts"

/** How long the broker waits for the consumer (Java's `callClient`). */
const CALL_CLIENT_TIMEOUT_MILLIS = 10_000

const callConsumer = (
  parts: Parts.Parts,
  request: RemotingCommand.RemotingCommand,
  group: string,
  clientId: string,
  extFields: { readonly [key: string]: string },
  body: Uint8Array | undefined
) =>
  Effect.suspend(() => {
    const member = [...(parts.clients.consumer(group)?.members.values() ?? [])].find((m) => m.clientId === clientId)
    if (member === undefined) {
      return Effect.succeed(Wire.respond(request, ResponseCode.SYSTEM_ERROR, `The Consumer <${group}> <${clientId}> not online`))
    }
    const forwarded = RemotingCommand.make({ code: request.code, extFields, body })
    return member.channel.invoke(forwarded, CALL_CLIENT_TIMEOUT_MILLIS).pipe(
      Effect.map((answer) => RemotingCommand.withOpaque(answer, request.opaque)),
      Effect.catchTag("RequestTimeout", () =>
        Effect.succeed(Wire.respond(
          request,
          ResponseCode.CONSUME_MSG_TIMEOUT,
          `consumer <${group}> <${clientId}> Timeout: RemotingTimeoutException: wait response on the channel ` +
            `<${member.channel.remoteAddress}> timeout, ${CALL_CLIENT_TIMEOUT_MILLIS}(ms)`
        ))),
      Effect.catch((error) =>
        Effect.succeed(Wire.respond(
          request,
          ResponseCode.SYSTEM_ERROR,
          `invoke consumer <${group}> <${clientId}> Exception: ${error.message}`
        )))
    )
  })

export const make = (parts: Parts.Parts): Parts.Processors => {
  const runningInfo: Handler = (request) =>
    Wire.withHeader(Headers.GetConsumerRunningInfoRequestHeader, request, (header) =>
      callConsumer(parts, request, header.consumerGroup, header.clientId, request.extFields, request.body))

  const consumeDirectly: Handler = (request) =>
    Wire.withHeader(Headers.ConsumeMessageDirectlyResultRequestHeader, request, (header) =>
      Effect.suspend(() => {
        const extFields: Record<string, string> = { ...request.extFields, brokerName: parts.name }
        const topic = header.topic === undefined ? undefined : parts.topics.get(header.topic)
        if (topic !== undefined) extFields["topicSysFlag"] = String(topic.topicSysFlag)
        const group = parts.groups.find(header.consumerGroup)
        if (group !== undefined) extFields["groupSysFlag"] = String(group.groupSysFlag)
        const offset = header.msgId === undefined ? undefined : StoredMessage.parseOffsetMsgId(header.msgId)?.commitLogOffset
        const entry = offset === undefined ? undefined : parts.store.lookup(offset)
        if (offset !== undefined && entry === undefined) {
          return Effect.succeed(Wire.respond(request, ResponseCode.SYSTEM_ERROR, "java.lang.NullPointerException"))
        }
        return callConsumer(parts, request, header.consumerGroup, header.clientId ?? "", extFields, entry?.record ?? request.body)
      }))

  return [
    [RequestCode.GET_CONSUMER_RUNNING_INFO, runningInfo],
    [RequestCode.CONSUME_MESSAGE_DIRECTLY, consumeDirectly]
  ]
}
