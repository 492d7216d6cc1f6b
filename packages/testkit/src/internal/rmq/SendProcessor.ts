/**
 * SEND_MESSAGE (10), SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320): Java's
 * `SendMessageProcessor` over the in-memory store.
 *
 * Every answer carries `MSG_REGION` and `TRACE_ON`. Checks in Java's order: a body (a 5.3.3 broker
 * fails with a NullPointerException without one), the topic name, topics no client may send to,
 * the topic's configuration (auto-created from the header's template topic when allowed, see
 * `Topics.ts`), the queue id. A negative queue id picks a write queue (round-robin here; Java picks
 * at random). The broker adds `MSG_REGION`, `TRACE_ON` and `CLUSTER` to the stored properties, and
 * `UNIQ_KEY` when the message has none.
 *
 * A send to `%RETRY%<group>` goes to `%DLQ%<group>` when its reconsume times (header `j`) exceed
 * the maximum (header `l` from clients of version ≥ 121, else the group's `retryMaxTimes`) or the
 * group holds an unexpired orderly lock here. A message with `TRAN_MSG=true` is stored as a
 * half message (see `Transactions.ts`); others go through the put hooks (delay levels and timers,
 * see `Put.ts`).
 *
 * A batch (header `m=true`, whatever the code) is stored as one record per element, each with its
 * own flag, body and properties followed by the batch's (so the batch's `UNIQ_KEY`, when it has
 * one, is the one a consumer reads, as on 5.3.3); the answer lists every offset message id.
 */
import { Headers } from "@effect-rocketmq/client"
import type { StoredMessage } from "@effect-rocketmq/client"
import { Message, Properties } from "@effect-rocketmq/client"
import { Header, RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Clock, Effect } from "effect"
import type { Handler, TopicConfig } from "../../InMemoryRocketMQ.ts"
import type * as Parts from "./Parts.ts"
import * as Put from "./Put.ts"
import type * as Store from "./Store.ts"
import * as Transactions from "./Transactions.ts"
import * as Wire from "./wire.ts"

type SendHeader = typeof Headers.SendMessageRequestHeaderV2.schema.Type

/** SEND_MESSAGE (10) uses the long names of SendMessageRequestHeader; they map onto V2's. */
const V1_TO_V2: ReadonlyArray<readonly [string, string]> = [
  ["producerGroup", "a"],
  ["topic", "b"],
  ["defaultTopic", "c"],
  ["defaultTopicQueueNums", "d"],
  ["queueId", "e"],
  ["sysFlag", "f"],
  ["bornTimestamp", "g"],
  ["flag", "h"],
  ["properties", "i"],
  ["reconsumeTimes", "j"],
  ["unitMode", "k"],
  ["maxReconsumeTimes", "l"],
  ["batch", "m"],
  ["bname", "n"]
]

const SendMessageRequestHeaderV1 = Header.make("SendMessageRequestHeader", Headers.SendMessageRequestHeaderV2.schema.fields)

/** Request version from which the broker reads `maxReconsumeTimes` (V3_4_9). */
const VERSION_WITH_MAX_RECONSUME_TIMES = 121
const MULTI_TAGS_FLAG = 0x2

const regionFields = { MSG_REGION: Wire.REGION, TRACE_ON: "true" } as const

interface Send {
  readonly request: RemotingCommand.RemotingCommand
  readonly header: SendHeader
  readonly body: Uint8Array
  readonly bornHost: StoredMessage.SocketAddress
  readonly remoteAddress: string
  /** The message's properties with the broker's region and trace switch added. */
  readonly properties: Record<string, string>
}

const fail = (send: Send, code: number, remark: string) =>
  Wire.respond(send.request, code, remark, { extFields: regionFields })

const topicConfigText = (config: TopicConfig) =>
  `TopicConfig [topicName=${config.topic}, readQueueNums=${config.readQueueNums}, writeQueueNums=` +
  `${config.writeQueueNums}, perm=${(config.perm & 4) !== 0 ? "R" : "-"}${(config.perm & 2) !== 0 ? "W" : "-"}` +
  `${(config.perm & 1) !== 0 ? "X" : "-"}, topicFilterType=${config.topicFilterType}, topicSysFlag=` +
  `${config.topicSysFlag}, order=${config.order}, attributes={}]`

/** Java's `msgCheck`: the topic's configuration, or the answer refusing the send. */
const msgCheck = (parts: Parts.Parts, send: Send): TopicConfig | RemotingCommand.RemotingCommand => {
  const topic = send.header.b
  const invalid = Wire.validateTopic(topic)
  if (invalid !== undefined) return fail(send, ResponseCode.INVALID_PARAMETER, invalid)
  if (Wire.NOT_ALLOWED_SEND_TOPICS.has(topic)) {
    return fail(send, ResponseCode.NO_PERMISSION, `Sending message to topic[${topic}] is forbidden.`)
  }
  let config = parts.topics.get(topic) ?? parts.topics.createForSend(topic, send.header.c, send.header.d, 0)
  if (config === undefined && topic.startsWith(Wire.RETRY_PREFIX)) config = parts.topics.createForSendBack(topic, 1, 6, 0)
  if (config === undefined) {
    return fail(send, ResponseCode.TOPIC_NOT_EXIST, `topic[${topic}] not exist, apply first please!${Wire.FAQ}`)
  }
  if (send.header.e >= Math.max(config.writeQueueNums, config.readQueueNums)) {
    return fail(
      send,
      ResponseCode.INVALID_PARAMETER,
      `request queueId[${send.header.e}] is illegal, ${topicConfigText(config)} Producer: ${send.remoteAddress}`
    )
  }
  return config
}

/** Where a `%RETRY%` send really goes: its topic and queue, DLQ when it must; else the refusal. */
const retryOrDlq = (
  parts: Parts.Parts,
  send: Send,
  now: number
): { readonly topic: string; readonly queueId?: number } | RemotingCommand.RemotingCommand => {
  const topic = send.header.b
  if (!topic.startsWith(Wire.RETRY_PREFIX)) return { topic }
  const group = topic.slice(Wire.RETRY_PREFIX.length)
  const config = parts.groups.find(group)
  if (config === undefined) {
    return fail(send, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `subscription group not exist, ${group} ${Wire.FAQ}`)
  }
  const max = send.request.version >= VERSION_WITH_MAX_RECONSUME_TIMES && send.header.l !== undefined
    ? send.header.l
    : config.retryMaxTimes
  if ((send.header.j ?? 0) <= max && parts.locks.allExpired(group, now)) return { topic }
  send.properties["DELAY"] = "-1"
  const dlq = parts.topics.createForSendBack(Wire.dlqTopic(group), 1, 6, 0)
  return { topic: dlq.topic, queueId: 0 }
}

const pickQueue = (config: TopicConfig, requested: number, counters: Map<string, number>): number => {
  if (requested >= 0) return requested
  const next = counters.get(config.topic) ?? 0
  counters.set(config.topic, next + 1)
  return config.writeQueueNums <= 0 ? 0 : next % config.writeQueueNums
}

/**
 * The handle a 5.3 broker gives a timer message so it can be recalled: base64url (padded) of
 * `v1 <topic> <broker> <TIMER_OUT_MS + 1> <UNIQ_KEY>`. Not for batches or retry topics.
 */
const recallHandle = (parts: Parts.Parts, entry: Store.Entry): string | undefined => {
  const slot = entry.message.properties["TIMER_OUT_MS"]
  const realTopic = entry.message.properties["REAL_TOPIC"]
  if (slot === undefined || realTopic === undefined || realTopic.startsWith(Wire.RETRY_PREFIX)) return undefined
  const raw = ["v1", realTopic, parts.name, String(Number(slot) + 1), entry.message.properties["UNIQ_KEY"] ?? ""].join(" ")
  const unpadded = Buffer.from(raw, "utf8").toString("base64url")
  return unpadded.padEnd(Math.ceil(unpadded.length / 4) * 4, "=")
}

const storedAnswer = (send: Send, entries: ReadonlyArray<Store.Entry>, queueId: number, transactionId?: string, recall?: string) =>
  Wire.respond(send.request, ResponseCode.SUCCESS, undefined, {
    extFields: {
      msgId: entries.map((entry) => entry.offsetMsgId).join(","),
      queueId: String(queueId),
      queueOffset: String(entries[0]!.queueOffset),
      ...(transactionId !== undefined ? { transactionId } : {}),
      ...(recall !== undefined ? { recallHandle: recall } : {}),
      ...regionFields
    }
  })

/** The elements of a batch body: flag, body and properties of each (Java's `decodeMessages`). */
export const decodeBatch = (
  body: Uint8Array
): ReadonlyArray<{ readonly flag: number; readonly body: Uint8Array; readonly properties: Properties.Properties }> | string => {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  const out: Array<{ flag: number; body: Uint8Array; properties: Properties.Properties }> = []
  let pos = 0
  while (pos < buf.length) {
    if (pos + 20 > buf.length) return "java.nio.BufferUnderflowException"
    const flag = buf.readInt32BE(pos + 12)
    const bodyLength = buf.readInt32BE(pos + 16)
    const bodyStart = pos + 20
    if (bodyLength < 0 || bodyStart + bodyLength + 2 > buf.length) return "java.nio.BufferUnderflowException"
    const propertiesLength = buf.readInt16BE(bodyStart + bodyLength)
    const propertiesStart = bodyStart + bodyLength + 2
    if (propertiesLength < 0 || propertiesStart + propertiesLength > buf.length) return "java.nio.BufferUnderflowException"
    out.push({
      flag,
      body: buf.subarray(bodyStart, bodyStart + bodyLength),
      properties: Properties.decode(buf.toString("utf8", propertiesStart, propertiesStart + propertiesLength))
    })
    pos = propertiesStart + propertiesLength
  }
  return out
}

export const make = (parts: Parts.Parts): Parts.Processors => {
  const counters = new Map<string, number>()

  const single = (send: Send, config: TopicConfig, now: number): RemotingCommand.RemotingCommand => {
    const target = retryOrDlq(parts, send, now)
    if (!("topic" in target)) return target
    const queueId = target.queueId ?? pickQueue(config, send.header.e, counters)
    const properties = send.properties
    properties["CLUSTER"] = parts.clusterName
    const targetConfig = parts.topics.get(target.topic) ?? config
    const input: Store.PutInput = {
      topic: target.topic,
      queueId,
      flag: send.header.h,
      sysFlag: send.header.f | (targetConfig.topicFilterType === "MULTI_TAG" ? MULTI_TAGS_FLAG : 0),
      bornTimestamp: send.header.g,
      bornHost: send.bornHost,
      reconsumeTimes: send.header.j ?? 0,
      body: send.body,
      properties
    }
    const prepared = Wire.parseBoolean(properties["TRAN_MSG"]) && !((send.header.j ?? 0) > 0 && Number(properties["DELAY"] ?? 0) > 0)
    if (prepared && parts.settings.rejectTransactionMessage) {
      return fail(send, ResponseCode.NO_PERMISSION, `the broker[${parts.storeHost().host}] sending transaction message is forbidden`)
    }
    const outcome = prepared ? Transactions.prepare(parts, input, now) : Put.put(parts, input, now)
    if (outcome._tag === "Failed") return fail(send, outcome.code, outcome.remark)
    return storedAnswer(send, [outcome.entry], queueId, properties["UNIQ_KEY"], recallHandle(parts, outcome.entry))
  }

  const batch = (send: Send, config: TopicConfig, now: number): RemotingCommand.RemotingCommand => {
    const topic = send.header.b
    const queueId = pickQueue(config, send.header.e, counters)
    if (topic.length > 127) return fail(send, ResponseCode.MESSAGE_ILLEGAL, `message topic length too long ${topic.length}`)
    if (topic.startsWith(Wire.RETRY_PREFIX)) {
      return fail(send, ResponseCode.MESSAGE_ILLEGAL, `batch request does not support retry group ${topic}`)
    }
    const elements = decodeBatch(send.body)
    if (typeof elements === "string") return fail(send, ResponseCode.SYSTEM_ERROR, elements)
    if (send.body.length > parts.settings.maxMessageSize) {
      return fail(
        send,
        ResponseCode.MESSAGE_ILLEGAL,
        `the message is illegal, maybe msg body or properties length not matched. msg body length limit ` +
          `${parts.settings.maxMessageSize}B, msg properties length limit 32KB.`
      )
    }
    const batchProperties: Record<string, string> = { ...send.properties, CLUSTER: parts.clusterName }
    const sysFlag = send.header.f | (config.topicFilterType === "MULTI_TAG" ? MULTI_TAGS_FLAG : 0)
    const entries: Array<Store.Entry> = []
    for (const element of elements) {
      const stored = parts.store.put({
        topic,
        queueId,
        flag: element.flag,
        sysFlag,
        bornTimestamp: send.header.g,
        bornHost: send.bornHost,
        reconsumeTimes: send.header.j ?? 0,
        body: element.body,
        properties: { ...element.properties, ...batchProperties }
      }, now)
      if (stored._tag === "Illegal") return fail(send, ResponseCode.MESSAGE_ILLEGAL, stored.detail)
      entries.push(stored.entry)
    }
    if (entries.length === 0) return fail(send, ResponseCode.MESSAGE_ILLEGAL, "the batch has no message")
    return storedAnswer(send, entries, queueId, batchProperties["UNIQ_KEY"])
  }

  const process = (request: RemotingCommand.RemotingCommand, header: SendHeader, context: Parameters<Handler>[1]) =>
    Effect.gen(function*() {
      const body = request.body
      if (body === undefined) {
        // A 5.3.3 broker fails here with a NullPointerException (an empty body decodes as null).
        return Wire.respond(
          request,
          ResponseCode.SYSTEM_ERROR,
          "java.lang.NullPointerException: the request has no body (a message needs a non-empty body)"
        )
      }
      const remoteAddress = context?.remoteAddress ?? "127.0.0.1:0"
      const send: Send = {
        request,
        header,
        body,
        bornHost: Wire.splitAddress(remoteAddress) ?? { host: "127.0.0.1", port: 0 },
        remoteAddress,
        properties: { ...Properties.decode(header.i ?? ""), ...regionFields }
      }
      const config = msgCheck(parts, send)
      if (!("topic" in config)) return config
      const now = yield* Clock.currentTimeMillis
      if (header.m === true) return batch(send, config, now)
      if ((send.properties["UNIQ_KEY"] ?? "") === "") send.properties["UNIQ_KEY"] = yield* Message.makeUniqId
      return single(send, config, now)
    })

  const sendV2: Handler = (request, context) =>
    Wire.withHeader(Headers.SendMessageRequestHeaderV2, request, (header) => process(request, header, context))

  const sendV1: Handler = (request, context) => {
    const mapped = RemotingCommand.newExtFields()
    for (const [long, short] of V1_TO_V2) {
      const value = request.extFields[long]
      if (Object.prototype.hasOwnProperty.call(request.extFields, long) && value !== undefined) mapped[short] = value
    }
    return SendMessageRequestHeaderV1.decode(mapped).pipe(
      Effect.matchEffect({
        onFailure: (error) => Effect.succeed(Wire.respond(request, ResponseCode.SYSTEM_ERROR, error.message)),
        onSuccess: (header) => process(request, header, context)
      })
    )
  }

  return [
    [RequestCode.SEND_MESSAGE, sendV1],
    [RequestCode.SEND_MESSAGE_V2, sendV2],
    [RequestCode.SEND_BATCH_MESSAGE, sendV2]
  ]
}
