/**
 * Offsets: where a queue starts and ends, where a timestamp falls in it, and the position a
 * consumer group has committed in it.
 *
 * Each is an Effect that needs a {@link RemotingClient.RemotingClient} and takes the broker's
 * `host:port` first; the broker must be the master of the queue's broker group (as Java asks).
 * Codes other than the answers listed are typed errors ({@link TopicNotExist} for 17,
 * {@link RemoteError} otherwise). Default timeouts are Java's for the same call. A 5.3.3 broker
 * does not check the topic of the min, max and search queries: a queue it does not have answers 0.
 *
 * | operation | request code and fields | answer | default timeout |
 * | --- | --- | --- | --- |
 * | {@link getMaxOffset} | 30: `topic`, `queueId`, `committed` | 0 + `offset` | 6 s |
 * | {@link getMinOffset} | 31: `topic`, `queueId` | 0 + `offset` | 6 s |
 * | {@link searchOffsetByTimestamp} | 29: `topic`, `queueId`, `timestamp` (+ `boundaryType`) | 0 + `offset` | 6 s |
 * | {@link queryConsumerOffset} | 14: `consumerGroup`, `topic`, `queueId` (+ `setZeroIfNotFound`) | 0 + `offset`; 22 = none stored | 5 s |
 * | {@link updateConsumerOffset} | 15: `consumerGroup`, `topic`, `queueId`, `commitOffset` | 0 (or oneway) | 5 s |
 *
 * @since 0.1.0
 */
import type { RemotingClient } from "@effect-rocketmq/remoting"
import { RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Effect, Option } from "effect"
import type { BrokerError, CallOptions } from "./Broker.ts"
import type { RemoteError, TopicNotExist } from "./ClientError.ts"
import * as Headers from "./Headers.ts"
import * as Op from "./internal/operation.ts"

/** Sends an offset request and reads the `offset` of its answer. */
const invokeForOffset = Effect.fnUntraced(function*(
  address: string,
  code: number,
  extFields: RemotingCommand.ExtFields,
  topic: string,
  options: CallOptions | undefined
) {
  const request = RemotingCommand.make({ code, extFields })
  const response = yield* Op.invoke(address, request, options?.timeoutMillis ?? Op.JavaTimeout.ADMIN_IMPL)
  yield* Op.expectSuccess(address, request, response, topic)
  return (yield* Op.decodeHeader(Headers.GetMaxOffsetResponseHeader, address, code, response)).offset
})

/**
 * A queue of a topic.
 *
 * @since 0.1.0
 * @category models
 */
export interface QueueRef {
  readonly topic: string
  readonly queueId: number
}

/**
 * The offset one past the last message of a queue (GET_MAX_OFFSET, committed messages only, as
 * Java asks by default). 0 for an empty queue. Java's timeout, 6 s, by default.
 *
 * @since 0.1.0
 * @category operations
 */
export const getMaxOffset: (
  address: string,
  queue: QueueRef,
  options?: CallOptions
) => Effect.Effect<bigint, BrokerError, RemotingClient.RemotingClient> = Effect.fn("Offsets.getMaxOffset")(
  function*(address: string, queue: QueueRef, options?: CallOptions) {
    const extFields = yield* Op.encodeHeader(
      Headers.GetMaxOffsetRequestHeader,
      { topic: queue.topic, queueId: queue.queueId, committed: true },
      "getMaxOffset"
    )
    return yield* invokeForOffset(address, RequestCode.GET_MAX_OFFSET, extFields, queue.topic, options)
  }
)

/**
 * The offset of the first message still stored in a queue (GET_MIN_OFFSET): 0 until the broker
 * deletes old commit-log files, then the first offset it still has. Java's timeout, 6 s, by
 * default.
 *
 * @since 0.1.0
 * @category operations
 */
export const getMinOffset: (
  address: string,
  queue: QueueRef,
  options?: CallOptions
) => Effect.Effect<bigint, BrokerError, RemotingClient.RemotingClient> = Effect.fn("Offsets.getMinOffset")(
  function*(address: string, queue: QueueRef, options?: CallOptions) {
    const extFields = yield* Op.encodeHeader(
      Headers.GetMinOffsetRequestHeader,
      { topic: queue.topic, queueId: queue.queueId },
      "getMinOffset"
    )
    return yield* invokeForOffset(address, RequestCode.GET_MIN_OFFSET, extFields, queue.topic, options)
  }
)

/**
 * Which offset {@link searchOffsetByTimestamp} answers: `LOWER` (Java's default) the first message
 * stored at or after the time, `UPPER` the last one stored at or before it. They differ when
 * several messages share the store time (first or last of them) and when none has it (the next
 * message after, or the last one before).
 *
 * @since 0.1.0
 * @category models
 */
export type BoundaryType = "LOWER" | "UPPER"

/**
 * Options of {@link searchOffsetByTimestamp}.
 *
 * @since 0.1.0
 * @category models
 */
export interface SearchOffsetOptions extends CallOptions {
  /** Not sent by default: the broker then takes `LOWER`, as Java's consumers do. */
  readonly boundaryType?: BoundaryType | undefined
}

/**
 * The offset of the first message of a queue stored at or after `timestamp` (milliseconds since
 * the epoch, compared with the broker's store times), by SEARCH_OFFSET_BY_TIMESTAMP; a consumer
 * starting "from a timestamp" asks this (see {@link BoundaryType} for `UPPER`). Past the last
 * message it answers the max offset; before the first, the min offset. Java's timeout, 6 s, by
 * default.
 *
 * @since 0.1.0
 * @category operations
 */
export const searchOffsetByTimestamp: (
  address: string,
  queue: QueueRef & { readonly timestamp: number },
  options?: SearchOffsetOptions
) => Effect.Effect<bigint, BrokerError, RemotingClient.RemotingClient> = Effect.fn("Offsets.searchOffsetByTimestamp")(
  function*(address: string, queue: QueueRef & { readonly timestamp: number }, options?: SearchOffsetOptions) {
    const extFields = yield* Op.encodeHeader(Headers.SearchOffsetRequestHeader, {
      topic: queue.topic,
      queueId: queue.queueId,
      timestamp: queue.timestamp,
      ...(options?.boundaryType !== undefined ? { boundaryType: options.boundaryType } : {})
    }, "searchOffsetByTimestamp")
    return yield* invokeForOffset(address, RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, extFields, queue.topic, options)
  }
)

/**
 * A consumer group's position in a queue.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConsumerQueueRef extends QueueRef {
  readonly consumerGroup: string
}

/**
 * Options of {@link queryConsumerOffset}.
 *
 * @since 0.1.0
 * @category models
 */
export interface QueryOffsetOptions extends CallOptions {
  /**
   * `setZeroIfNotFound`: not sent by default (what Java's consumers do); `false` makes a broker
   * answer QUERY_NOT_FOUND whenever the group has no stored offset for the queue. See
   * {@link queryConsumerOffset}.
   */
  readonly setZeroIfNotFound?: boolean | undefined
}

/**
 * The offset `consumerGroup` has committed for a queue (QUERY_CONSUMER_OFFSET). Java's timeout
 * for it, 5 s, by default.
 *
 * When the group has committed an offset for the queue, the answer is `Some(offset)`. When it has
 * not, a 5.3.3 broker applies Java's rule (`ConsumerManageProcessor.queryConsumerOffset`):
 * - with `setZeroIfNotFound: false`: `None` (QUERY_NOT_FOUND, 22);
 * - otherwise, if the queue's minimum offset is 0 **and** its first message (offset 0) is still in
 *   the broker's page cache: `Some(0n)` — so a brand-new group on a young queue reads 0, not
 *   `None`, and a consumer starting from it consumes the queue from its first message whatever
 *   "consume from" setting it has;
 * - otherwise (an empty queue, a queue whose first messages were deleted, or data no longer in
 *   memory): `None`.
 *
 * `None` is not a failure; every other answer code is.
 *
 * @since 0.1.0
 * @category operations
 */
export const queryConsumerOffset: (
  address: string,
  queue: ConsumerQueueRef,
  options?: QueryOffsetOptions
) => Effect.Effect<Option.Option<bigint>, BrokerError, RemotingClient.RemotingClient> = Effect.fn(
  "Offsets.queryConsumerOffset"
)(function*(address: string, queue: ConsumerQueueRef, options?: QueryOffsetOptions) {
  const extFields = yield* Op.encodeHeader(
    Headers.QueryConsumerOffsetRequestHeader,
    {
      consumerGroup: queue.consumerGroup,
      topic: queue.topic,
      queueId: queue.queueId,
      ...(options?.setZeroIfNotFound !== undefined ? { setZeroIfNotFound: options.setZeroIfNotFound } : {})
    },
    "queryConsumerOffset"
  )
  const request = RemotingCommand.make({ code: RequestCode.QUERY_CONSUMER_OFFSET, extFields })
  const response = yield* Op.invoke(address, request, options?.timeoutMillis ?? Op.JavaTimeout.CONSUMER)
  if (response.code === ResponseCode.QUERY_NOT_FOUND) return Option.none()
  if (response.code !== ResponseCode.SUCCESS) {
    return yield* Op.unexpectedForTopic(address, request, response, queue.topic)
  }
  const header = yield* Op.decodeHeader(Headers.QueryConsumerOffsetResponseHeader, address, request.code, response)
  return Option.some(header.offset)
})

/**
 * Options of {@link updateConsumerOffset}.
 *
 * @since 0.1.0
 * @category models
 */
export interface UpdateOffsetOptions extends CallOptions {
  /** Send oneway, as Java's consumers do: no response, so no broker-side error is seen. */
  readonly oneway?: boolean | undefined
}

/**
 * Stores `commitOffset` as `consumerGroup`'s position in a queue (UPDATE_CONSUMER_OFFSET). Java's
 * timeout for it, 5 s, by default.
 *
 * The broker stores offsets only for a group it knows: create it first with
 * `Admin.createSubscriptionGroup`, or let the broker create it on the group's first pull or
 * heartbeat (`autoCreateSubscriptionGroup`, on by default); otherwise the answer is
 * SUBSCRIPTION_GROUP_NOT_EXIST (26).
 *
 * @since 0.1.0
 * @category operations
 */
export const updateConsumerOffset: (
  address: string,
  queue: ConsumerQueueRef & { readonly commitOffset: bigint },
  options?: UpdateOffsetOptions
) => Effect.Effect<void, BrokerError, RemotingClient.RemotingClient> = Effect.fn("Offsets.updateConsumerOffset")(
  function*(address: string, queue: ConsumerQueueRef & { readonly commitOffset: bigint }, options?: UpdateOffsetOptions) {
    const extFields = yield* Op.encodeHeader(Headers.UpdateConsumerOffsetRequestHeader, {
      consumerGroup: queue.consumerGroup,
      topic: queue.topic,
      queueId: queue.queueId,
      commitOffset: queue.commitOffset
    }, "updateConsumerOffset")
    const request = RemotingCommand.make({ code: RequestCode.UPDATE_CONSUMER_OFFSET, extFields })
    const timeout = options?.timeoutMillis ?? Op.JavaTimeout.CONSUMER
    if (options?.oneway === true) return yield* Op.invokeOneway(address, request, timeout)
    const response = yield* Op.invoke(address, request, timeout)
    yield* Op.expectSuccess(address, request, response, queue.topic)
  }
)
