/**
 * How `rmq consume` prints a message: one line of text (where it was stored, its id, tag, keys and
 * user properties, then the body), or one JSON object with every field.
 *
 * A body is printed as text when it is valid UTF-8 without control characters other than tab,
 * line feed and carriage return; anything else (binary data, compressed bytes, a stray NUL) is
 * printed as base64, so a terminal never receives raw bytes and a JSON reader always gets the
 * exact body back.
 *
 * Pure formatting; nothing here prints.
 *
 * @since 0.1.0
 */
import { Message, type MessageQueue, type StoredMessage } from "@effect-rocketmq/client"
import { isUtf8 } from "node:buffer"

/**
 * A body as printable text: `utf8` when it is readable text, else `base64`.
 *
 * @since 0.1.0
 * @category models
 */
export interface PrintableBody {
  readonly encoding: "utf8" | "base64"
  readonly text: string
}

// C0 controls except \t \n \r, DEL, and the C1 controls.
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/

/**
 * The body as text if it is readable text, else as base64.
 *
 * @since 0.1.0
 * @category formatting
 */
export const body = (bytes: Uint8Array): PrintableBody => {
  if (isUtf8(bytes)) {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8")
    if (!CONTROL.test(text)) return { encoding: "utf8", text }
  }
  return { encoding: "base64", text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64") }
}

const host = (address: StoredMessage.SocketAddress): string =>
  address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`

/**
 * One line: `TOPIC BROKER:QUEUE@OFFSET MSGID [tag=…] [keys=…] [k=v…] [reconsumed=N] body: TEXT`
 * (`base64: …` instead of `body: …` for a body that is not text). `source` is the queue it was
 * pulled from: a retried message comes from the group's `%RETRY%` topic and keeps its own topic.
 *
 * @since 0.1.0
 * @category formatting
 */
export const line = (message: StoredMessage.StoredMessage, source: MessageQueue.MessageQueue): string => {
  const tag = Message.tagsOf(message)
  const keys = Message.keysOf(message)
  const printed = body(message.body)
  return [
    message.topic,
    `${source.brokerName}:${source.queueId}@${message.queueOffset}`,
    message.msgId,
    ...(tag === undefined ? [] : [`tag=${tag}`]),
    ...(keys.length === 0 ? [] : [`keys=${keys.join(",")}`]),
    ...Object.entries(Message.userProperties(message)).map(([k, v]) => `${k}=${v}`),
    ...(message.reconsumeTimes > 0 ? [`reconsumed=${message.reconsumeTimes}`] : []),
    `${printed.encoding === "utf8" ? "body" : "base64"}: ${printed.text}`
  ].join(" ")
}

/**
 * Every field of the message as a JSON-ready object (offsets as bigints; `Output.jsonLine`
 * writes them as numbers when exact): the stored record's fields, the tag, keys and user
 * properties read from its properties, all properties as stored, and the body with its encoding.
 *
 * @since 0.1.0
 * @category formatting
 */
export const json = (message: StoredMessage.StoredMessage, source: MessageQueue.MessageQueue): Record<string, unknown> => {
  const printed = body(message.body)
  return {
    topic: message.topic,
    broker: source.brokerName,
    queueTopic: source.topic,
    queueId: source.queueId,
    queueOffset: message.queueOffset,
    msgId: message.msgId,
    offsetMsgId: message.offsetMsgId,
    tags: Message.tagsOf(message) ?? null,
    keys: Message.keysOf(message),
    userProperties: Message.userProperties(message),
    properties: message.properties,
    reconsumeTimes: message.reconsumeTimes,
    bornTimestamp: message.bornTimestamp,
    bornHost: host(message.bornHost),
    storeTimestamp: message.storeTimestamp,
    storeHost: host(message.storeHost),
    commitLogOffset: message.commitLogOffset,
    preparedTransactionOffset: message.preparedTransactionOffset,
    sysFlag: message.sysFlag,
    flag: message.flag,
    bodyCrc: message.bodyCrc,
    storeSize: message.storeSize,
    version: message.version,
    bodySize: message.body.byteLength,
    bodyEncoding: printed.encoding,
    body: printed.text
  }
}
