/**
 * How `Broker.sendMessage`, `Broker.sendMessageOneway` and `Broker.sendBatchMessage` build their
 * SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE requests and read the answer: one place for the V2 header
 * fields all three share, so the three cannot drift apart.
 *
 * @internal
 */
import { RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Clock, Effect } from "effect"
import * as zlib from "node:zlib"
import type { BatchSendOptions, SendOptions, SendStatus, SendTarget } from "../Broker.ts"
import { InvalidRequest } from "../ClientError.ts"
import * as Headers from "../Headers.ts"
import * as Message from "../Message.ts"
import * as MessageBatch from "../MessageBatch.ts"
import * as Properties from "../Properties.ts"
import { SysFlag } from "../StoredMessage.ts"
import * as Op from "./operation.ts"
import * as Rec from "./record.ts"

/** @internal */
export const DEFAULT_TOPIC = "TBW102"

/** @internal */
export const DEFAULT_PRODUCER_GROUP = "DEFAULT_PRODUCER"

/** @internal */
export const MAX_MESSAGE_SIZE = 4 * 1024 * 1024

const invalid = (operation: string, detail: string) => new InvalidRequest({ operation, detail })

const SEND_STATUS: ReadonlyMap<number, SendStatus> = new Map([
  [ResponseCode.SUCCESS, "SEND_OK"],
  [ResponseCode.FLUSH_DISK_TIMEOUT, "FLUSH_DISK_TIMEOUT"],
  [ResponseCode.FLUSH_SLAVE_TIMEOUT, "FLUSH_SLAVE_TIMEOUT"],
  [ResponseCode.SLAVE_NOT_AVAILABLE, "SLAVE_NOT_AVAILABLE"]
])

/** The V2 header fields every send shares (`a`–`e`, `g`, `j`–`l`, `n`). */
const headerBase = (
  topic: string,
  target: SendTarget | undefined,
  bornTimestamp: number,
  retry?: { readonly reconsumeTimes?: number | undefined; readonly maxReconsumeTimes?: number | undefined }
) => ({
  a: target?.producerGroup ?? DEFAULT_PRODUCER_GROUP,
  b: topic,
  c: target?.defaultTopic ?? DEFAULT_TOPIC,
  d: target?.defaultTopicQueueNums ?? 4,
  e: target?.queueId ?? -1,
  g: bornTimestamp,
  j: retry?.reconsumeTimes ?? 0,
  k: false,
  ...(retry?.maxReconsumeTimes !== undefined ? { l: retry.maxReconsumeTimes } : {}),
  ...(target?.brokerName !== undefined ? { n: target.brokerName } : {})
})

const compress = (operation: string, body: Uint8Array): Effect.Effect<Uint8Array, InvalidRequest> =>
  Effect.try({
    try: () => zlib.deflateSync(body, { level: 5 }),
    catch: (error) => invalid(operation, `the body could not be compressed: ${String(error)}`)
  })

/**
 * @internal: the SEND_MESSAGE_V2 request for one message, and the client message id it carries
 * (`UNIQ_KEY` after `systemProperties` are applied).
 */
export const messageRequest = Effect.fnUntraced(function*(message: Message.Message, options: SendOptions | undefined, operation: string) {
  if (message.topic.length === 0) return yield* invalid(operation, "the topic is empty")
  // Java's producer refuses empty bodies too; a 5.3.3 broker answers one with a NullPointerException.
  if (message.body.length === 0) {
    return yield* invalid(operation, "the body is empty; RocketMQ cannot store a message without a body")
  }
  const properties = Rec.copy(yield* Message.toProperties(message, options?.uniqId ?? (yield* Message.makeUniqId)))
  if (options?.systemProperties !== undefined) {
    for (const name of Object.keys(options.systemProperties)) properties[name] = options.systemProperties[name]!
  }
  const encoded = Properties.encodeSync(properties)
  if (typeof encoded !== "string") return yield* invalid(operation, encoded.message)
  const threshold = options?.compressOverBytes
  const compressed = threshold !== undefined && message.body.length >= threshold
  const body = compressed ? yield* compress(operation, message.body) : message.body
  const extFields = yield* Op.encodeHeader(Headers.SendMessageRequestHeaderV2, {
    ...headerBase(message.topic, options, yield* Clock.currentTimeMillis, options),
    f: (options?.sysFlag ?? 0) | (compressed ? SysFlag.COMPRESSED | SysFlag.COMPRESSION_ZLIB : 0),
    h: message.flag ?? 0,
    i: encoded,
    m: false
  }, operation)
  const request = RemotingCommand.make({ code: RequestCode.SEND_MESSAGE_V2, extFields, body })
  return { request, uniqId: properties[Message.PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX]! }
})

/** @internal: the SEND_BATCH_MESSAGE request for `messages`, and each message's client id. */
export const batchRequest = Effect.fnUntraced(function*(
  messages: ReadonlyArray<Message.Message>,
  options: BatchSendOptions | undefined
) {
  const operation = "sendBatchMessage"
  yield* MessageBatch.validate(messages)
  if (options?.uniqIds !== undefined && options.uniqIds.length !== messages.length) {
    return yield* invalid(operation, `${options.uniqIds.length} uniqIds for ${messages.length} messages; give one per message`)
  }
  const msgIds: Array<string> = []
  const elements: Array<MessageBatch.Element> = []
  for (const [index, message] of messages.entries()) {
    const uniqId = options?.uniqIds?.[index] ?? (yield* Message.makeUniqId)
    msgIds.push(uniqId)
    const properties = yield* Message.toProperties(message, uniqId).pipe(
      Effect.mapError((error) => invalid(operation, `message ${index}: ${error.detail}`))
    )
    elements.push({ flag: message.flag ?? 0, body: message.body, properties })
  }
  const body = yield* MessageBatch.encode(elements).pipe(Effect.mapError((error) => invalid(operation, error.detail)))
  const maxMessageSize = options?.maxMessageSize ?? MAX_MESSAGE_SIZE
  if (body.length > maxMessageSize) {
    return yield* invalid(operation, `the batch body is ${body.length} bytes, over the ${maxMessageSize}-byte limit; split it into smaller batches`)
  }
  // Brokers up to 5.3.3 append the batch's properties to every element's, and a reader keeps
  // the last value of a repeated name: a batch UNIQ_KEY (which Java's producer sends) would
  // become every element's message id when consumed (apache/rocketmq#9416). So it is sent only
  // when asked for, for topics whose consume queue stores batches whole.
  const batchProperties = Properties.fromEntries([
    [Message.PropertyKey.WAIT_STORE_MSG_OK, String(messages[0]!.waitStoreMsgOk ?? true)],
    ...(options?.batchUniqId !== undefined ? [[Message.PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX, options.batchUniqId] as const] : [])
  ])
  const extFields = yield* Op.encodeHeader(Headers.SendMessageRequestHeaderV2, {
    ...headerBase(messages[0]!.topic, options, yield* Clock.currentTimeMillis),
    f: 0,
    h: 0,
    i: yield* Properties.encode(batchProperties).pipe(Effect.mapError((error) => invalid(operation, error.detail))),
    m: true
  }, operation)
  return { request: RemotingCommand.make({ code: RequestCode.SEND_BATCH_MESSAGE, extFields, body }), msgIds }
})

/** @internal: what the answer to a SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE request says, as both results share it. */
export const readAnswer = (
  address: string,
  request: RemotingCommand.RemotingCommand,
  response: RemotingCommand.RemotingCommand,
  topic: string
) =>
  Effect.gen(function*() {
    const status = SEND_STATUS.get(response.code)
    if (status === undefined) return yield* Op.unexpectedForTopic(address, request, response, topic)
    const header = yield* Op.decodeHeader(Headers.SendMessageResponseHeader, address, request.code, response)
    return {
      header,
      status,
      topic,
      queueId: header.queueId,
      queueOffset: header.queueOffset,
      regionId: header.MSG_REGION ?? "DefaultRegion",
      traceOn: header.TRACE_ON === undefined || header.TRACE_ON.toLowerCase() !== "false"
    }
  })

/** @internal: sends a SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE request and reads the answer ({@link readAnswer}). */
export const invoke = (
  address: string,
  request: RemotingCommand.RemotingCommand,
  topic: string,
  timeoutMillis: number | undefined
) => Effect.flatMap(Op.invoke(address, request, timeoutMillis), (response) => readAnswer(address, request, response, topic))
