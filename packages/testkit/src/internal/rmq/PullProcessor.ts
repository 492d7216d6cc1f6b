/**
 * PULL_MESSAGE (11): Java's `PullMessageProcessor` over the in-memory store.
 *
 * Checks in Java's order (subscription group, consume permission, topic, read permission, queue
 * id, subscription from the request or from the group's heartbeat, its version, the expression
 * type), then one pass of the store's `getMessage`: its status and code (FOUND 0,
 * NO_MATCHED_MESSAGE 20, NO_MESSAGE_IN_QUEUE 19 at offset 0 else 21, OFFSET_OVERFLOW_ONE 19,
 * OFFSET_OVERFLOW_BADLY / OFFSET_TOO_SMALL 21) with the status name as remark, tag filtering by
 * hash code, at most `maxMsgNums` and 32 messages and 256 KiB per response (always at least one).
 *
 * Every pass records the group's pull offset; the first pass stores `commitOffset` when the commit
 * bit is set. A pending server-side offset reset of the queue is taken by the group's next pull,
 * answered OFFSET_RESET (21) with the reset offset as `nextBeginOffset`. A pass answering 19 with the suspend bit set holds the pull (see `LongPolling`) and
 * runs it once more when a matching message arrives or the suspend timeout passes.
 */
import { Broker, Headers, Heartbeat } from "@effect-rocketmq/client"
import { RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import type { Handler } from "../../InMemoryRocketMQ.ts"
import type * as Parts from "./Parts.ts"
import * as Topics from "./Topics.ts"
import * as Wire from "./wire.ts"

const MAX_TRANSFER_COUNT = 32
const MAX_TRANSFER_BYTES = 256 * 1024

type PullHeader = typeof Headers.PullMessageRequestHeader.schema.Type

/** The tag codes a subscription accepts, or undefined for all (Java's `ExpressionMessageFilter`). */
const tagFilter = (subscription: Heartbeat.SubscriptionData): ((tagsCode: number) => boolean) => {
  if (subscription.subString === Heartbeat.SUB_ALL) return () => true
  const codes = new Set(subscription.codeSet)
  return (tagsCode) => codes.has(tagsCode)
}

interface PassResult {
  readonly code: number
  readonly status: string
  readonly next: bigint
  readonly records: ReadonlyArray<Uint8Array>
}

/** One pass of the store's `getMessage` plus the processor's status-to-code mapping. */
const getMessage = (parts: Parts.Parts, header: PullHeader, matches: (tagsCode: number) => boolean): PassResult => {
  const queue = parts.store.entries(header.topic, header.queueId)
  const maxOffset = BigInt(queue.length)
  const minOffset = parts.store.minOffset(header.topic, header.queueId)
  const offset = header.queueOffset
  if (maxOffset === 0n) {
    return {
      code: offset !== 0n ? ResponseCode.PULL_OFFSET_MOVED : ResponseCode.PULL_NOT_FOUND,
      status: "NO_MESSAGE_IN_QUEUE",
      next: 0n,
      records: []
    }
  }
  if (offset < minOffset) return { code: ResponseCode.PULL_OFFSET_MOVED, status: "OFFSET_TOO_SMALL", next: minOffset, records: [] }
  if (offset === maxOffset) return { code: ResponseCode.PULL_NOT_FOUND, status: "OFFSET_OVERFLOW_ONE", next: offset, records: [] }
  if (offset > maxOffset) {
    return { code: ResponseCode.PULL_OFFSET_MOVED, status: "OFFSET_OVERFLOW_BADLY", next: maxOffset, records: [] }
  }
  const records: Array<Uint8Array> = []
  let bytes = 0
  let next = offset
  // The store scans at most max(16000 / 20, maxMsgNums) consume-queue units per call.
  const scanLimit = Math.max(800, header.maxMsgNums)
  for (let i = Number(offset); i < queue.length && i - Number(offset) < scanLimit; i++) {
    const entry = queue[i]!
    if (
      records.length > 0 &&
      (records.length >= header.maxMsgNums || records.length >= MAX_TRANSFER_COUNT ||
        bytes + entry.record.length > MAX_TRANSFER_BYTES)
    ) break
    next = BigInt(i + 1)
    if (!matches(entry.tagsCode)) continue
    records.push(entry.record)
    bytes += entry.record.length
  }
  return records.length > 0
    ? { code: ResponseCode.SUCCESS, status: "FOUND", next, records }
    : { code: ResponseCode.PULL_RETRY_IMMEDIATELY, status: "NO_MATCHED_MESSAGE", next, records }
}

/** The subscription the pull uses: from the request, or from the group's heartbeat; else an error answer. */
const subscriptionOf = (
  parts: Parts.Parts,
  request: RemotingCommand.RemotingCommand,
  header: PullHeader
): Heartbeat.SubscriptionData | RemotingCommand.RemotingCommand => {
  if ((header.sysFlag & Broker.PullSysFlag.SUBSCRIPTION) !== 0) {
    return {
      ...Heartbeat.subscription(header.topic, header.subscription ?? Heartbeat.SUB_ALL, header.subVersion),
      expressionType: header.expressionType ?? "TAG"
    }
  }
  const group = parts.clients.consumer(header.consumerGroup)
  if (group === undefined) {
    return Wire.respond(request, ResponseCode.SUBSCRIPTION_NOT_EXIST, `the consumer's group info not exist${Wire.FAQ}`)
  }
  const subscription = group.subscriptions.get(header.topic)
  if (subscription === undefined) {
    return Wire.respond(request, ResponseCode.SUBSCRIPTION_NOT_EXIST, `the consumer's subscription not exist${Wire.FAQ}`)
  }
  if (subscription.subVersion < header.subVersion) {
    return Wire.respond(request, ResponseCode.SUBSCRIPTION_NOT_LATEST, "the consumer's subscription not latest")
  }
  return subscription
}

/** The checks before the store is read; an error answer, or the filter to read with. */
const check = (
  parts: Parts.Parts,
  request: RemotingCommand.RemotingCommand,
  header: PullHeader,
  remoteAddress: string
): RemotingCommand.RemotingCommand | ((tagsCode: number) => boolean) => {
  const group = parts.groups.find(header.consumerGroup)
  if (group === undefined) {
    return Wire.respond(
      request,
      ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
      `subscription group [${header.consumerGroup}] does not exist, ${Wire.FAQ}`
    )
  }
  if (!group.consumeEnable) {
    return Wire.respond(request, ResponseCode.NO_PERMISSION, `subscription group no permission, ${header.consumerGroup}`)
  }
  const topic = parts.topics.get(header.topic)
  if (topic === undefined) {
    return Wire.respond(request, ResponseCode.TOPIC_NOT_EXIST, `topic[${header.topic}] not exist, apply first please! ${Wire.FAQ}`)
  }
  if ((topic.perm & Topics.PERM_READ) === 0) {
    return Wire.respond(request, ResponseCode.NO_PERMISSION, `the topic[${header.topic}] pulling message is forbidden`)
  }
  if (header.queueId < 0 || header.queueId >= topic.readQueueNums) {
    return Wire.respond(
      request,
      ResponseCode.INVALID_PARAMETER,
      `queueId[${header.queueId}] is illegal, topic:[${header.topic}] topicConfig.readQueueNums:` +
        `[${topic.readQueueNums}] consumer:[/${remoteAddress}]`
    )
  }
  const subscription = subscriptionOf(parts, request, header)
  if (!("subString" in subscription)) return subscription
  if (subscription.expressionType !== "TAG") {
    return Wire.respond(
      request,
      ResponseCode.SYSTEM_ERROR,
      `The broker does not support consumer to filter message by ${subscription.expressionType}`
    )
  }
  return tagFilter(subscription)
}

const answer = (parts: Parts.Parts, request: RemotingCommand.RemotingCommand, header: PullHeader, pass: PassResult) =>
  Wire.respond(request, pass.code, pass.status, {
    extFields: {
      suggestWhichBrokerId: "0",
      groupSysFlag: "0",
      nextBeginOffset: String(pass.next),
      maxOffset: String(parts.store.maxOffset(header.topic, header.queueId)),
      minOffset: String(parts.store.minOffset(header.topic, header.queueId)),
      topicSysFlag: String(parts.topics.get(header.topic)?.topicSysFlag ?? 0)
    },
    body: pass.records.length === 0 ? undefined : Buffer.concat(pass.records)
  })

export const make = (parts: Parts.Parts): Parts.Processors => {
  /** One execution; `allowSuspend` on the first, which may return the wait instead of an answer. */
  const execute = (
    request: RemotingCommand.RemotingCommand,
    header: PullHeader,
    remoteAddress: string,
    allowSuspend: boolean
  ): RemotingCommand.RemotingCommand | Effect.Effect<void> => {
    const filter = check(parts, request, header, remoteAddress)
    if (typeof filter !== "function") return filter
    // A pending server-side reset answers the pull OFFSET_RESET (21) with the reset offset.
    const reset = parts.settings.useServerSideResetOffset
      ? parts.offsets.takeReset(header.consumerGroup, header.topic, header.queueId)
      : undefined
    const pass = reset !== undefined
      ? { code: ResponseCode.PULL_OFFSET_MOVED, status: "OFFSET_RESET", next: reset, records: [] }
      : getMessage(parts, header, filter)
    parts.offsets.commitPull(header.consumerGroup, header.topic, header.queueId, pass.next)
    if (allowSuspend && (header.sysFlag & Broker.PullSysFlag.COMMIT_OFFSET) !== 0) {
      parts.offsets.commit(header.consumerGroup, header.topic, header.queueId, header.commitOffset)
    }
    const suspend = (header.sysFlag & Broker.PullSysFlag.SUSPEND) !== 0 ? header.suspendTimeoutMillis : 0
    if (!allowSuspend || pass.code !== ResponseCode.PULL_NOT_FOUND || suspend <= 0) {
      return answer(parts, request, header, pass)
    }
    // Registered in the same synchronous step as the read: no arrival slips between them.
    return parts.polling.hold(header.topic, header.queueId, header.queueOffset, filter, suspend)
  }

  const pull: Handler = (request, context) =>
    Wire.withHeader(Headers.PullMessageRequestHeader, request, (header) =>
      Effect.suspend(() => {
        const remoteAddress = context?.remoteAddress ?? "127.0.0.1:0"
        const first = execute(request, header, remoteAddress, true)
        if (!Effect.isEffect(first)) return Effect.succeed(first)
        return first.pipe(
          Effect.map(() => execute(request, header, remoteAddress, false) as RemotingCommand.RemotingCommand)
        )
      }))
  return [[RequestCode.PULL_MESSAGE, pull]]
}
