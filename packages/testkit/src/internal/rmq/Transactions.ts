/**
 * Transactional half messages of one broker: storing them, END_TRANSACTION (37) and the
 * check-back, as 5.3.3's `TransactionalMessageBridge`, `EndTransactionProcessor` and
 * `TransactionalMessageCheckService` do.
 *
 * `prepare` stores a half message in `RMQ_SYS_TRANS_HALF_TOPIC` queue 0, with `REAL_TOPIC`,
 * `REAL_QID` and `__transactionId__` (its `UNIQ_KEY`) added and the transaction bits of its sysFlag
 * cleared, so nobody consuming its topic sees it. It goes in as it is: delay levels and timers
 * apply when it is committed (a real broker would also run its timer hook on the half message,
 * which breaks the transaction; that is not reproduced).
 *
 * END_TRANSACTION finds the half message by commit-log offset, checks its producer group and its
 * queue offset, and then commits — stores it in its real topic and queue with sysFlag COMMIT, the
 * half message's properties (5.3.3 keeps `TRAN_MSG`, `REAL_TOPIC` and `REAL_QID` on the committed
 * copy) and `preparedTransactionOffset`, through the put hooks — or rolls back. UNKNOWN (0) gets no
 * answer at all, as in Java. A second commit of the same half message stores it again, as 5.3.3
 * does.
 *
 * The check-back runs every `transactionCheckInterval` while a transaction is pending. A half
 * message at least `transactionTimeout` old (or its `CHECK_IMMUNITY_TIME_IN_SECONDS`, when longer)
 * is stored again in the half queue with `TRANSACTION_CHECK_TIMES` counted up and `WAIT=false`,
 * and CHECK_TRANSACTION_STATE (39, oneway) goes to one connection of its producer group (round
 * robin over the group's heartbeats), naming that new copy; after `transactionCheckMax` checks it
 * is moved to `TRANS_CHECK_MAX_TIME_TOPIC` and forgotten. Age is counted from when the broker first
 * stored it (Java counts from the client's born time; the two differ by the network).
 */
import { Headers, StoredMessage } from "@effect-rocketmq/client"
import { RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Clock, Effect } from "effect"
import type { Handler } from "../../InMemoryRocketMQ.ts"
import type * as Parts from "./Parts.ts"
import * as Put from "./Put.ts"
import type * as Store from "./Store.ts"
import * as Wire from "./wire.ts"

/** A transaction waiting for its producer's word. */
export interface Half {
  /** The latest copy of its half message (check-backs append new ones). */
  current: Store.Entry
  /** Store time of the first copy: the check-back waits from it. */
  readonly firstStored: number
}

export interface Table {
  /** Unresolved transactions, oldest first. */
  readonly pending: Set<Half>
  /** Every copy of every half message, by commit-log offset. */
  readonly byOffset: Map<bigint, Half>
}

export const makeTable = (): Table => ({ pending: new Set(), byOffset: new Map() })

const TRANSACTION_COMMIT = 0x8
const TRANSACTION_ROLLBACK = 0xc
const TRANSACTION_BITS = 0xc

export const prepare = (parts: Parts.Parts, input: Store.PutInput, now: number): Put.Outcome => {
  const properties: Record<string, string> = { ...input.properties }
  const uniqKey = properties["UNIQ_KEY"]
  if (uniqKey !== undefined && uniqKey !== "") properties["__transactionId__"] = uniqKey
  properties["REAL_TOPIC"] = input.topic
  properties["REAL_QID"] = String(input.queueId)
  const outcome = Put.put(parts, {
    ...input,
    topic: Wire.HALF_TOPIC,
    queueId: 0,
    sysFlag: input.sysFlag & ~TRANSACTION_BITS,
    properties
  }, now, false)
  if (outcome._tag === "Stored") {
    const half: Half = { current: outcome.entry, firstStored: now }
    parts.transactions.pending.add(half)
    parts.transactions.byOffset.set(outcome.entry.commitLogOffset, half)
    parts.wake("transactions")
  }
  return outcome
}

type EndHeader = typeof Headers.EndTransactionRequestHeader.schema.Type

/** Java's `checkPrepareMessage`: undefined when the half message matches the request, else the refusal. */
const checkPrepared = (request: RemotingCommand.RemotingCommand, header: EndHeader, entry: Store.Entry | undefined) => {
  if (entry === undefined) return Wire.respond(request, ResponseCode.SYSTEM_ERROR, "Find prepared transaction message failed")
  const group = entry.message.properties["PGROUP"]
  if (group === undefined) {
    // What 5.3.3 answers when the offset names a message that is not a half message.
    return Wire.respond(
      request,
      ResponseCode.SYSTEM_ERROR,
      `java.lang.NullPointerException: Cannot invoke "String.equals(Object)" because "pgroupRead" is null, ` +
        "org.apache.rocketmq.broker.processor.EndTransactionProcessor.checkPrepareMessage(EndTransactionProcessor.java:224)"
    )
  }
  if (group !== header.producerGroup) return Wire.respond(request, ResponseCode.SYSTEM_ERROR, "The producer group wrong")
  if (entry.queueOffset !== header.tranStateTableOffset) {
    return Wire.respond(request, ResponseCode.SYSTEM_ERROR, "The transaction state table offset wrong")
  }
  return undefined
}

/** The committed copy of a half message, as `EndTransactionProcessor.endMessageTransaction` builds it. */
const committed = (entry: Store.Entry): Store.PutInput => {
  const message = entry.message
  return {
    topic: message.properties["REAL_TOPIC"] ?? message.topic,
    queueId: Number(message.properties["REAL_QID"] ?? 0),
    flag: message.flag,
    sysFlag: (message.sysFlag & ~TRANSACTION_BITS) | TRANSACTION_COMMIT,
    bornTimestamp: message.bornTimestamp,
    bornHost: message.bornHost,
    reconsumeTimes: message.reconsumeTimes,
    preparedTransactionOffset: entry.commitLogOffset,
    body: message.body,
    properties: message.properties
  }
}

const resolve = (parts: Parts.Parts, entry: Store.Entry) => {
  const half = parts.transactions.byOffset.get(entry.commitLogOffset)
  if (half !== undefined) parts.transactions.pending.delete(half)
}

export const processors = (parts: Parts.Parts): Parts.Processors => {
  const end: Handler = (request) =>
    Wire.withHeader(Headers.EndTransactionRequestHeader, request, (header) =>
      Effect.gen(function*() {
        const type = header.commitOrRollback
        if (type !== TRANSACTION_COMMIT && type !== TRANSACTION_ROLLBACK) return undefined
        const entry = parts.store.lookup(header.commitLogOffset)
        const refused = checkPrepared(request, header, entry)
        if (refused !== undefined) return refused
        if (type === TRANSACTION_ROLLBACK) {
          resolve(parts, entry!)
          return Wire.respond(request, ResponseCode.SUCCESS, "not set any response code")
        }
        const outcome = Put.put(parts, committed(entry!), yield* Clock.currentTimeMillis)
        if (outcome._tag === "Failed") {
          return Wire.respond(request, outcome.code, outcome.remark.replace(/^the message is illegal/, "The message is illegal"))
        }
        resolve(parts, entry!)
        return Wire.respond(request, ResponseCode.SUCCESS)
      }))
  return [[RequestCode.END_TRANSACTION, end]]
}

/** CHECK_TRANSACTION_STATE for the copy `entry`: header as `sendCheckMessage` fills it, body the copy with its real topic and queue. */
const checkRequest = (parts: Parts.Parts, entry: Store.Entry): RemotingCommand.RemotingCommand => {
  const message = entry.message
  const body = StoredMessage.encodeSync({
    ...message,
    topic: message.properties["REAL_TOPIC"] ?? message.topic,
    queueId: Number(message.properties["REAL_QID"] ?? 0)
  })
  const uniqKey = message.properties["UNIQ_KEY"]
  return RemotingCommand.make({
    code: RequestCode.CHECK_TRANSACTION_STATE,
    extFields: {
      topic: message.topic,
      commitLogOffset: String(entry.commitLogOffset),
      offsetMsgId: entry.offsetMsgId,
      ...(uniqKey !== undefined ? { msgId: uniqKey, transactionId: uniqKey } : {}),
      tranStateTableOffset: String(entry.queueOffset),
      bname: parts.name
    },
    body: body instanceof Uint8Array ? body : undefined
  })
}

/** The next connection of a producer group, round robin (Java's `getAvailableChannel`). */
const producerChannel = (parts: Parts.Parts, counter: { n: number }, group: string | undefined) => {
  const members = group === undefined ? [] : parts.clients.producers(group)
  if (members.length === 0) return undefined
  counter.n = (counter.n + 1) | 0
  return members[Math.abs(counter.n) % members.length]!.channel
}

/** One check pass over the pending transactions. */
export const check = (parts: Parts.Parts, counter: { n: number }): Effect.Effect<void> =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const settings = parts.settings
    for (const half of [...parts.transactions.pending]) {
      const properties = half.current.message.properties
      const immunity = Math.max(Number(properties["CHECK_IMMUNITY_TIME_IN_SECONDS"] ?? 0) * 1000 || 0, settings.transactionTimeoutMillis)
      if (now - half.firstStored < immunity) continue
      const checks = Number(properties["TRANSACTION_CHECK_TIMES"] ?? 0)
      if (checks >= settings.transactionCheckMax) {
        parts.transactions.pending.delete(half)
        const discarded = parts.topics.createForSendBack(Wire.CHECK_MAX_TIME_TOPIC, 1, 6, 0)
        parts.store.put({ ...half.current.message, topic: discarded.topic, queueId: 0 }, now)
        continue
      }
      const copy = parts.store.put({
        ...half.current.message,
        properties: { ...properties, TRANSACTION_CHECK_TIMES: String(checks + 1), WAIT: "false" }
      }, now)
      if (copy._tag !== "Stored") continue
      half.current = copy.entry
      parts.transactions.byOffset.set(copy.entry.commitLogOffset, half)
      const channel = producerChannel(parts, counter, properties["PGROUP"])
      if (channel === undefined) continue
      yield* channel.invokeOneway(checkRequest(parts, copy.entry)).pipe(
        Effect.catchCause((cause) => Effect.logDebug(`Could not ask ${channel.remoteAddress} about a transaction`, cause))
      )
    }
  })
