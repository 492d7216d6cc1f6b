/**
 * What a member of a consumer group asks of a broker: who else is in the group (the input of
 * rebalancing), a message it could not consume sent back for a later retry, and the queue locks
 * of orderly consumption.
 *
 * Each is an Effect that needs a {@link RemotingClient.RemotingClient} and takes the broker's
 * `host:port` first (the master of the broker group, as Java asks). Codes other than success are
 * typed errors ({@link RemoteError}); a body that cannot be read is a {@link ResponseDecodeError}.
 * Default timeouts are Java's for the same call. Creating the group itself is
 * `Admin.createSubscriptionGroup`.
 *
 * | operation | request code, fields and body | answer | default timeout |
 * | --- | --- | --- | --- |
 * | {@link getConsumerListByGroup} | 38: `consumerGroup` | 0 + `{"consumerIdList":[…]}`; SYSTEM_ERROR when the broker knows no member | 3 s |
 * | {@link consumerSendMessageBack} | 36: `offset`, `group`, `delayLevel`, `originMsgId`, `originTopic`, `unitMode`, `maxReconsumeTimes`, `bname` | 0 | 5 s |
 * | {@link lockBatchMQ} | 41: body `{"clientId","consumerGroup","mqSet":[…],"onlyThisBroker"}` | 0 + `{"lockOKMQSet":[…]}` | 1 s |
 * | {@link unlockBatchMQ} | 42: the same body; sync or oneway | 0 | 1 s |
 *
 * @since 0.1.0
 */
import type { RemotingClient } from "@effect-rocketmq/remoting"
import { RemotingCommand, RequestCode } from "@effect-rocketmq/remoting"
import { Effect, Schema } from "effect"
import type { BrokerError, CallOptions } from "./Broker.ts"
import type { RemoteError, ResponseDecodeError } from "./ClientError.ts"
import { InvalidRequest } from "./ClientError.ts"
import * as FastJson from "./FastJson.ts"
import * as Headers from "./Headers.ts"
import * as Op from "./internal/operation.ts"

/**
 * A queue as Java's `MessageQueue` serialises it in request and response bodies.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MessageQueueJson = Schema.Struct({
  brokerName: Schema.String,
  queueId: Schema.Int,
  topic: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export type MessageQueueJson = typeof MessageQueueJson.Type

/**
 * The answer to GET_CONSUMER_LIST_BY_GROUP.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GetConsumerListByGroupResponseBody = Schema.Struct({
  consumerIdList: Schema.Array(Schema.String)
})

/**
 * The answer to LOCK_BATCH_MQ.
 *
 * @since 0.1.0
 * @category schemas
 */
export const LockBatchResponseBody = Schema.Struct({
  lockOKMQSet: Schema.Array(MessageQueueJson)
})

const decodeConsumerList = FastJson.decodeBody(GetConsumerListByGroupResponseBody, "GetConsumerListByGroupResponseBody")
const decodeLocked = FastJson.decodeBody(LockBatchResponseBody, "LockBatchResponseBody")


/**
 * The client ids of the members of `consumerGroup` this broker knows (from their heartbeats),
 * in the broker's order: the list a member rebalances with (sort it first, as Java does). One
 * entry per connection: a client connected twice is listed twice, as Java lists it. A broker that
 * knows no member answers SYSTEM_ERROR ("no consumer for this group"), a {@link RemoteError}.
 * Java's timeout, 3 s, by default.
 *
 * @since 0.1.0
 * @category operations
 */
export const getConsumerListByGroup: (
  address: string,
  consumerGroup: string,
  options?: CallOptions
) => Effect.Effect<ReadonlyArray<string>, BrokerError, RemotingClient.RemotingClient> = Effect.fn(
  "ConsumerGroup.getConsumerListByGroup"
)(function*(address: string, consumerGroup: string, options?: CallOptions) {
  const extFields = yield* Op.encodeHeader(Headers.GetConsumerListByGroupRequestHeader, { consumerGroup }, "getConsumerListByGroup")
  const request = RemotingCommand.make({ code: RequestCode.GET_CONSUMER_LIST_BY_GROUP, extFields })
  const response = yield* Op.invoke(address, request, options?.timeoutMillis ?? Op.JavaTimeout.CLIENT_API)
  yield* Op.expectSuccess(address, request, response)
  return (yield* Op.decodeBody(address, request.code, decodeConsumerList, response.body)).consumerIdList
})

/**
 * A message handed back to the broker for a later retry.
 *
 * @since 0.1.0
 * @category models
 */
export interface SendBackRequest {
  readonly group: string
  /** The message's commit-log offset (`StoredMessage.commitLogOffset`): the broker looks it up by it. */
  readonly commitLogOffset: bigint
  /**
   * `-1` sends it straight to the group's DLQ; `0` (Java's default) lets the broker pick the level
   * (3 + the message's reconsume count); a positive level is used as given.
   */
  readonly delayLevel: number
  /** The message's client id (`UNIQ_KEY`). */
  readonly originMsgId?: string | undefined
  /** The message's topic (the original one, for a message consumed from the retry topic). */
  readonly originTopic?: string | undefined
  /** After this many retries the broker moves the message to the DLQ (Java: 16 by default). */
  readonly maxReconsumeTimes?: number | undefined
  /** The broker group's name (`bname`), as Java sends it. */
  readonly brokerName?: string | undefined
}

/**
 * Sends a message the consumer could not process back to the broker (CONSUMER_SEND_MSG_BACK): it
 * stores a copy in `%RETRY%<group>` to be delivered again after the delay level's time, or in
 * `%DLQ%<group>` once the message was retried `maxReconsumeTimes` times (or `delayLevel` is -1).
 * The group must exist on the broker (else SUBSCRIPTION_GROUP_NOT_EXIST, 26), and so must the
 * message at `commitLogOffset` (else SYSTEM_ERROR). Java's timeout, 5 s, by default.
 *
 * The request goes with this client's version (5.3.3), above the 3.4.9 from which a broker honours
 * the request's `maxReconsumeTimes` instead of the group's setting.
 *
 * @since 0.1.0
 * @category operations
 */
export const consumerSendMessageBack: (
  address: string,
  request: SendBackRequest,
  options?: CallOptions
) => Effect.Effect<void, BrokerError, RemotingClient.RemotingClient> = Effect.fn("ConsumerGroup.consumerSendMessageBack")(
  function*(address: string, back: SendBackRequest, options?: CallOptions) {
    const extFields = yield* Op.encodeHeader(Headers.ConsumerSendMsgBackRequestHeader, {
      offset: back.commitLogOffset,
      group: back.group,
      delayLevel: back.delayLevel,
      ...(back.originMsgId !== undefined ? { originMsgId: back.originMsgId } : {}),
      ...(back.originTopic !== undefined ? { originTopic: back.originTopic } : {}),
      unitMode: false,
      ...(back.maxReconsumeTimes !== undefined ? { maxReconsumeTimes: back.maxReconsumeTimes } : {}),
      ...(back.brokerName !== undefined ? { bname: back.brokerName } : {})
    }, "consumerSendMessageBack")
    const request = RemotingCommand.make({ code: RequestCode.CONSUMER_SEND_MSG_BACK, extFields })
    const response = yield* Op.invoke(address, request, options?.timeoutMillis ?? Op.JavaTimeout.CONSUMER)
    yield* Op.expectSuccess(address, request, response, back.originTopic)
  }
)

/**
 * The queues to lock or unlock, for whom.
 *
 * @since 0.1.0
 * @category models
 */
export interface LockRequest {
  readonly consumerGroup: string
  readonly clientId: string
  readonly queues: ReadonlyArray<MessageQueueJson>
  /** Java sends false. */
  readonly onlyThisBroker?: boolean | undefined
}

const lockBody = (operation: string, lock: LockRequest): Effect.Effect<Uint8Array, InvalidRequest> =>
  Effect.suspend(() => {
    const bad = lock.queues.find((q) => !Number.isInteger(q.queueId) || q.queueId < 0 || q.queueId > 0x7fff_ffff)
    if (bad !== undefined) {
      return Effect.fail(new InvalidRequest({ operation, detail: `queue id ${bad.queueId} of ${bad.topic} is not a queue id` }))
    }
    // Key order as fastjson writes the Java class: alphabetical.
    const json = {
      clientId: lock.clientId,
      consumerGroup: lock.consumerGroup,
      mqSet: lock.queues.map((q) => ({ brokerName: q.brokerName, queueId: q.queueId, topic: q.topic })),
      onlyThisBroker: lock.onlyThisBroker ?? false
    }
    return Effect.succeed(new TextEncoder().encode(JSON.stringify(json)))
  })

/**
 * Locks queues for `clientId` in `consumerGroup` (LOCK_BATCH_MQ), as an orderly consumer does
 * before consuming a queue and every 20 s after; answers the queues the broker locked for it
 * (free ones, ones it already holds, and ones whose lock expired: a broker's lock lasts 60 s since
 * its last renewal). Java's timeout, 1 s, by default.
 *
 * @since 0.1.0
 * @category operations
 */
export const lockBatchMQ: (
  address: string,
  request: LockRequest,
  options?: CallOptions
) => Effect.Effect<ReadonlyArray<MessageQueueJson>, BrokerError, RemotingClient.RemotingClient> = Effect.fn(
  "ConsumerGroup.lockBatchMQ"
)(function*(address: string, lock: LockRequest, options?: CallOptions) {
  const request = RemotingCommand.make({ code: RequestCode.LOCK_BATCH_MQ, body: yield* lockBody("lockBatchMQ", lock) })
  const response = yield* Op.invoke(address, request, options?.timeoutMillis ?? Op.JavaTimeout.LOCK)
  yield* Op.expectSuccess(address, request, response)
  return (yield* Op.decodeBody(address, request.code, decodeLocked, response.body)).lockOKMQSet
})

/**
 * Options of {@link unlockBatchMQ}.
 *
 * @since 0.1.0
 * @category models
 */
export interface UnlockOptions extends CallOptions {
  /** Send oneway, as Java does when a rebalance takes a queue away (it unlocks synchronously on shutdown). */
  readonly oneway?: boolean | undefined
}

/**
 * Releases queue locks `clientId` holds (UNLOCK_BATCH_MQ), so the next owner need not wait for
 * them to expire. A lock held by another client is left alone. Java's timeout, 1 s, by default.
 *
 * @since 0.1.0
 * @category operations
 */
export const unlockBatchMQ: (
  address: string,
  request: LockRequest,
  options?: UnlockOptions
) => Effect.Effect<void, BrokerError, RemotingClient.RemotingClient> = Effect.fn("ConsumerGroup.unlockBatchMQ")(
  function*(address: string, unlock: LockRequest, options?: UnlockOptions) {
    const request = RemotingCommand.make({ code: RequestCode.UNLOCK_BATCH_MQ, body: yield* lockBody("unlockBatchMQ", unlock) })
    const timeout = options?.timeoutMillis ?? Op.JavaTimeout.LOCK
    if (options?.oneway === true) return yield* Op.invokeOneway(address, request, timeout)
    const response = yield* Op.invoke(address, request, timeout)
    yield* Op.expectSuccess(address, request, response)
  }
)
