/**
 * The custom headers of the typed operations, declared with `Header.make` under their Java class
 * names (`org.apache.rocketmq.remoting.protocol.header.*`). Field names are the `extFields` keys
 * exactly as a Java 5.3.3 client and broker use them; Java `long` offsets are `bigint`
 * (`Header.Long`), Java `long` timestamps and durations are `number` (`Header.LongNumber`).
 * Required fields are Java's `@CFNotNull` ones; Java primitives (always sent) are required here
 * too.
 *
 * 5.x headers inherit optional RPC fields (`ns`, `nsd`, `bname`, `oway`, `lo`). Brokers need them
 * only in proxy and static-topic setups, so they are left out, except `bname` where the Java
 * client fills it (the target broker's name) on a header an operation here sends.
 *
 * The embedded broker of the test kit decodes requests with these same schemas: they are the
 * contract between both sides, so a change here is a protocol change. They stay in this one
 * file (over the usual size) so that a header can be looked up by its Java class name in one
 * place.
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
 * GET_MIN_OFFSET (31) request; the response has the shape of {@link GetMaxOffsetResponseHeader}.
 *
 * @since 0.1.0
 * @category headers
 */
export const GetMinOffsetRequestHeader = Header.make("GetMinOffsetRequestHeader", {
  topic: Schema.String,
  queueId: Header.Int
})

/**
 * SEARCH_OFFSET_BY_TIMESTAMP (29) request; the response has the shape of
 * {@link GetMaxOffsetResponseHeader}. `timestamp` is in milliseconds since the epoch;
 * `boundaryType` is Java's enum name (`LOWER`, `UPPER`), compared case-insensitively with
 * "upper" by the broker (anything else, or absent, means `LOWER`).
 *
 * @since 0.1.0
 * @category headers
 */
export const SearchOffsetRequestHeader = Header.make("SearchOffsetRequestHeader", {
  topic: Schema.String,
  queueId: Header.Int,
  timestamp: Header.LongNumber,
  boundaryType: Schema.optionalKey(Schema.String)
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

/**
 * UNREGISTER_CLIENT (35) request: a client leaves a producer or consumer group (Java sends one per
 * group, with one of the two groups set).
 *
 * @since 0.1.0
 * @category headers
 */
export const UnregisterClientRequestHeader = Header.make("UnregisterClientRequestHeader", {
  clientID: Schema.String,
  producerGroup: Schema.optionalKey(Schema.String),
  consumerGroup: Schema.optionalKey(Schema.String)
})

/**
 * END_TRANSACTION (37) request, sent oneway by a transactional producer (after its local
 * transaction, or when the broker asked with CHECK_TRANSACTION_STATE).
 *
 * `commitOrRollback` is the transaction type of `MessageSysFlag`: 0 unknown (the broker will ask
 * again), 8 commit, 12 rollback. `tranStateTableOffset` is the half message's queue offset and
 * `commitLogOffset` its commit-log offset (from the offset message id).
 *
 * @since 0.1.0
 * @category headers
 */
export const EndTransactionRequestHeader = Header.make("EndTransactionRequestHeader", {
  topic: Schema.optionalKey(Schema.String),
  producerGroup: Schema.String,
  tranStateTableOffset: Header.Long,
  commitLogOffset: Header.Long,
  commitOrRollback: Header.Int,
  fromTransactionCheck: Schema.optionalKey(Header.Boolean),
  msgId: Schema.String,
  transactionId: Schema.optionalKey(Schema.String),
  bname: Schema.optionalKey(Schema.String)
})

/**
 * GET_CONSUMER_LIST_BY_GROUP (38) request.
 *
 * @since 0.1.0
 * @category headers
 */
export const GetConsumerListByGroupRequestHeader = Header.make("GetConsumerListByGroupRequestHeader", {
  consumerGroup: Schema.String
})

/**
 * CONSUMER_SEND_MSG_BACK (36) request. `offset` is the message's commit-log offset; `delayLevel`
 * -1 means straight to the DLQ and 0 lets the broker choose; `unitMode` is a Java primitive,
 * always sent; `maxReconsumeTimes` is honoured when the request's version is at least 121 (3.4.9).
 *
 * @since 0.1.0
 * @category headers
 */
export const ConsumerSendMsgBackRequestHeader = Header.make("ConsumerSendMsgBackRequestHeader", {
  offset: Header.Long,
  group: Schema.String,
  delayLevel: Header.Int,
  originMsgId: Schema.optionalKey(Schema.String),
  originTopic: Schema.optionalKey(Schema.String),
  unitMode: Header.Boolean,
  maxReconsumeTimes: Schema.optionalKey(Header.Int),
  bname: Schema.optionalKey(Schema.String)
})

// ---------------------------------------------------------------------------------------------
// Administration
// ---------------------------------------------------------------------------------------------

/**
 * DELETE_TOPIC_IN_BROKER (215) request.
 *
 * @since 0.1.0
 * @category headers
 */
export const DeleteTopicRequestHeader = Header.make("DeleteTopicRequestHeader", {
  topic: Schema.String
})

/**
 * DELETE_TOPIC_IN_NAMESRV (216) request: the name server forgets the topic's route (of every
 * cluster, or of `clusterName` only).
 *
 * @since 0.1.0
 * @category headers
 */
export const DeleteTopicFromNamesrvRequestHeader = Header.make("DeleteTopicFromNamesrvRequestHeader", {
  topic: Schema.String,
  clusterName: Schema.optionalKey(Schema.String)
})

/**
 * DELETE_SUBSCRIPTIONGROUP (207) request. `cleanOffset` (a Java primitive, always sent) also
 * removes the group's committed offsets.
 *
 * @since 0.1.0
 * @category headers
 */
export const DeleteSubscriptionGroupRequestHeader = Header.make("DeleteSubscriptionGroupRequestHeader", {
  groupName: Schema.String,
  cleanOffset: Header.Boolean
})

/**
 * GET_CONSUME_STATS (208) request: the group's positions in `topic`, in the topics of `topicList`
 * (`;`-separated), or, with neither, in every topic it has committed offsets for.
 *
 * @since 0.1.0
 * @category headers
 */
export const GetConsumeStatsRequestHeader = Header.make("GetConsumeStatsRequestHeader", {
  consumerGroup: Schema.String,
  topic: Schema.optionalKey(Schema.String),
  topicList: Schema.optionalKey(Schema.String)
})

/**
 * GET_TOPICS_BY_CLUSTER (224) request, to a name server.
 *
 * @since 0.1.0
 * @category headers
 */
export const GetTopicsByClusterRequestHeader = Header.make("GetTopicsByClusterRequestHeader", {
  cluster: Schema.String
})

// ---------------------------------------------------------------------------------------------
// Requests a broker sends to a client
// ---------------------------------------------------------------------------------------------

/**
 * CHECK_TRANSACTION_STATE (39, broker → producer, oneway): the broker asks a producer of the half
 * message's group how its transaction ended; the producer answers with END_TRANSACTION, echoing
 * `tranStateTableOffset` and `commitLogOffset` (those of the broker's re-appended copy, not of the
 * original send). `topic` is the half topic (`RMQ_SYS_TRANS_HALF_TOPIC`); the body is the half
 * message in stored format, with its real topic.
 *
 * @since 0.1.0
 * @category headers
 */
export const CheckTransactionStateRequestHeader = Header.make("CheckTransactionStateRequestHeader", {
  topic: Schema.optionalKey(Schema.String),
  tranStateTableOffset: Header.Long,
  commitLogOffset: Header.Long,
  msgId: Schema.optionalKey(Schema.String),
  transactionId: Schema.optionalKey(Schema.String),
  offsetMsgId: Schema.optionalKey(Schema.String),
  bname: Schema.optionalKey(Schema.String)
})

/**
 * NOTIFY_CONSUMER_IDS_CHANGED (40, broker → consumer, oneway): the members of `consumerGroup`
 * changed; every member should rebalance now.
 *
 * @since 0.1.0
 * @category headers
 */
export const NotifyConsumerIdsChangedRequestHeader = Header.make("NotifyConsumerIdsChangedRequestHeader", {
  consumerGroup: Schema.String
})

/**
 * RESET_CONSUMER_CLIENT_OFFSET (220, broker → consumer, oneway): move `group`'s position in the
 * queues of `topic` listed in the body (`ResetOffsetBody`, a map keyed by message queue objects).
 * `queueId` is -1 and `offset` absent when the body lists the queues; `timestamp` is the time the
 * offsets were searched for.
 *
 * @since 0.1.0
 * @category headers
 */
export const ResetOffsetRequestHeader = Header.make("ResetOffsetRequestHeader", {
  topic: Schema.String,
  group: Schema.String,
  queueId: Header.Int,
  offset: Schema.optionalKey(Header.Long),
  timestamp: Header.LongNumber,
  isForce: Header.Boolean
})

/**
 * GET_CONSUMER_RUNNING_INFO (307, broker → consumer, on behalf of an admin tool): describe
 * `consumerGroup` as client `clientId` runs it (`ConsumerRunningInfo` JSON body in the answer).
 * Java always sends `jstackEnable`; it is read as optional.
 *
 * @since 0.1.0
 * @category headers
 */
export const GetConsumerRunningInfoRequestHeader = Header.make("GetConsumerRunningInfoRequestHeader", {
  consumerGroup: Schema.String,
  clientId: Schema.String,
  jstackEnable: Schema.optionalKey(Header.Boolean)
})

/**
 * CONSUME_MESSAGE_DIRECTLY (309, broker → consumer, on behalf of an admin tool): run the
 * consumer's handler once on the message in the body (stored format) and report the result.
 *
 * @since 0.1.0
 * @category headers
 */
export const ConsumeMessageDirectlyResultRequestHeader = Header.make("ConsumeMessageDirectlyResultRequestHeader", {
  consumerGroup: Schema.String,
  clientId: Schema.optionalKey(Schema.String),
  msgId: Schema.optionalKey(Schema.String),
  brokerName: Schema.optionalKey(Schema.String),
  topic: Schema.optionalKey(Schema.String),
  topicSysFlag: Schema.optionalKey(Header.Int),
  groupSysFlag: Schema.optionalKey(Header.Int)
})
