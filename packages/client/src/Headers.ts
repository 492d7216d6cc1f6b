/**
 * The custom headers of the operations in {@link NameServer} and {@link Broker}, declared with
 * `Header.make` under their Java class names (REMOTING.md §7.2–§7.8). Field names are the
 * `extFields` keys exactly as a Java 5.3.3 client and broker use them; Java `long` offsets are
 * `bigint` (`Header.Long`), Java `long` timestamps and durations are `number`
 * (`Header.LongNumber`).
 *
 * The inherited 5.x RPC fields (`ns`, `nsd`, `bname`, `oway`, `lo`) are optional everywhere and
 * left out here; brokers do not need them outside proxy and static-topic setups.
 *
 * @since 0.1.0
 */
import { Header } from "@effect-rocketmq/remoting"
import { Schema } from "effect"

/**
 * GET_ROUTEINFO_BY_TOPIC (105) request.
 *
 * @since 0.1.0
 * @category headers
 */
export const GetRouteInfoRequestHeader = Header.make("GetRouteInfoRequestHeader", {
  topic: Schema.String,
  acceptStandardJsonOnly: Schema.optionalKey(Header.Boolean)
})

/**
 * SEND_MESSAGE_V2 (310) request: the short field names of `SendMessageRequestHeaderV2`.
 *
 * | key | Java field |
 * | --- | --- |
 * | a | producerGroup |
 * | b | topic |
 * | c | defaultTopic |
 * | d | defaultTopicQueueNums |
 * | e | queueId |
 * | f | sysFlag |
 * | g | bornTimestamp |
 * | h | flag |
 * | i | properties |
 * | j | reconsumeTimes |
 * | k | unitMode |
 * | l | maxReconsumeTimes |
 * | m | batch |
 * | n | brokerName |
 *
 * @since 0.1.0
 * @category headers
 */
export const SendMessageRequestHeaderV2 = Header.make("SendMessageRequestHeaderV2", {
  a: Schema.String,
  b: Schema.String,
  c: Schema.String,
  d: Header.Int,
  e: Header.Int,
  f: Header.Int,
  g: Header.LongNumber,
  h: Header.Int,
  i: Schema.optionalKey(Schema.String),
  j: Schema.optionalKey(Header.Int),
  k: Schema.optionalKey(Header.Boolean),
  l: Schema.optionalKey(Header.Int),
  m: Schema.optionalKey(Header.Boolean),
  n: Schema.optionalKey(Schema.String)
})

/**
 * Response to SEND_MESSAGE / SEND_MESSAGE_V2, including the two extra keys Java reads from it.
 *
 * @since 0.1.0
 * @category headers
 */
export const SendMessageResponseHeader = Header.make("SendMessageResponseHeader", {
  /** The offset message id (store host + commit-log offset). */
  msgId: Schema.String,
  queueId: Header.Int,
  queueOffset: Header.Long,
  transactionId: Schema.optionalKey(Schema.String),
  batchUniqId: Schema.optionalKey(Schema.String),
  recallHandle: Schema.optionalKey(Schema.String),
  MSG_REGION: Schema.optionalKey(Schema.String),
  TRACE_ON: Schema.optionalKey(Schema.String)
})

/**
 * PULL_MESSAGE (11) request.
 *
 * @since 0.1.0
 * @category headers
 */
export const PullMessageRequestHeader = Header.make("PullMessageRequestHeader", {
  consumerGroup: Schema.String,
  topic: Schema.String,
  queueId: Header.Int,
  queueOffset: Header.Long,
  maxMsgNums: Header.Int,
  sysFlag: Header.Int,
  commitOffset: Header.Long,
  suspendTimeoutMillis: Header.LongNumber,
  subscription: Schema.optionalKey(Schema.String),
  subVersion: Header.LongNumber,
  expressionType: Schema.optionalKey(Schema.String),
  maxMsgBytes: Schema.optionalKey(Header.Int)
})

/**
 * Response to PULL_MESSAGE, for FOUND and for the three "nothing here" codes alike.
 *
 * @since 0.1.0
 * @category headers
 */
export const PullMessageResponseHeader = Header.make("PullMessageResponseHeader", {
  suggestWhichBrokerId: Header.LongNumber,
  nextBeginOffset: Header.Long,
  minOffset: Header.Long,
  maxOffset: Header.Long,
  offsetDelta: Schema.optionalKey(Header.Long),
  topicSysFlag: Schema.optionalKey(Header.Int),
  groupSysFlag: Schema.optionalKey(Header.Int),
  forbiddenType: Schema.optionalKey(Header.Int)
})

/**
 * UPDATE_AND_CREATE_TOPIC (17) request.
 *
 * @since 0.1.0
 * @category headers
 */
export const CreateTopicRequestHeader = Header.make("CreateTopicRequestHeader", {
  topic: Schema.String,
  defaultTopic: Schema.String,
  readQueueNums: Header.Int,
  writeQueueNums: Header.Int,
  perm: Header.Int,
  topicFilterType: Schema.String,
  topicSysFlag: Schema.optionalKey(Header.Int),
  order: Header.Boolean,
  attributes: Schema.optionalKey(Schema.String),
  force: Schema.optionalKey(Header.Boolean)
})

/**
 * GET_MAX_OFFSET (30) request. Java always sends `committed` (a primitive, default true).
 *
 * @since 0.1.0
 * @category headers
 */
export const GetMaxOffsetRequestHeader = Header.make("GetMaxOffsetRequestHeader", {
  topic: Schema.String,
  queueId: Header.Int,
  committed: Schema.optionalKey(Header.Boolean)
})

/**
 * Response to GET_MAX_OFFSET (also the shape of GET_MIN_OFFSET and SEARCH_OFFSET responses).
 *
 * @since 0.1.0
 * @category headers
 */
export const GetMaxOffsetResponseHeader = Header.make("GetMaxOffsetResponseHeader", {
  offset: Header.Long
})

/**
 * QUERY_CONSUMER_OFFSET (14) request.
 *
 * @since 0.1.0
 * @category headers
 */
export const QueryConsumerOffsetRequestHeader = Header.make("QueryConsumerOffsetRequestHeader", {
  consumerGroup: Schema.String,
  topic: Schema.String,
  queueId: Header.Int,
  setZeroIfNotFound: Schema.optionalKey(Header.Boolean)
})

/**
 * Response to QUERY_CONSUMER_OFFSET.
 *
 * @since 0.1.0
 * @category headers
 */
export const QueryConsumerOffsetResponseHeader = Header.make("QueryConsumerOffsetResponseHeader", {
  offset: Header.Long
})

/**
 * UPDATE_CONSUMER_OFFSET (15) request.
 *
 * @since 0.1.0
 * @category headers
 */
export const UpdateConsumerOffsetRequestHeader = Header.make("UpdateConsumerOffsetRequestHeader", {
  consumerGroup: Schema.String,
  topic: Schema.String,
  queueId: Header.Int,
  commitOffset: Header.Long
})
