/**
 * Request headers the in-memory broker reads that `@effect-rocketmq/client` does not declare
 * (yet): declared here under their Java class names, with Java's ext-field keys.
 */
import { Header } from "@effect-rocketmq/remoting"
import { Schema } from "effect"

/** GET_CONSUMER_LIST_BY_GROUP (38). */
export const GetConsumerListByGroupRequestHeader = Header.make("GetConsumerListByGroupRequestHeader", {
  consumerGroup: Schema.String
})

/** DELETE_TOPIC_IN_BROKER (215). */
export const DeleteTopicRequestHeader = Header.make("DeleteTopicRequestHeader", {
  topic: Schema.String
})

/** CONSUMER_SEND_MSG_BACK (36). `unitMode` is a Java primitive: always sent. */
export const ConsumerSendMsgBackRequestHeader = Header.make("ConsumerSendMsgBackRequestHeader", {
  offset: Header.Long,
  group: Schema.String,
  delayLevel: Header.Int,
  originMsgId: Schema.optionalKey(Schema.String),
  originTopic: Schema.optionalKey(Schema.String),
  unitMode: Schema.optionalKey(Header.Boolean),
  maxReconsumeTimes: Schema.optionalKey(Header.Int)
})

/** DELETE_SUBSCRIPTIONGROUP (207). */
export const DeleteSubscriptionGroupRequestHeader = Header.make("DeleteSubscriptionGroupRequestHeader", {
  groupName: Schema.String,
  cleanOffset: Schema.optionalKey(Header.Boolean)
})

/** GET_CONSUME_STATS (208). */
export const GetConsumeStatsRequestHeader = Header.make("GetConsumeStatsRequestHeader", {
  consumerGroup: Schema.String,
  topic: Schema.optionalKey(Schema.String)
})

/** INVOKE_BROKER_TO_RESET_OFFSET (222), and RESET_CONSUMER_CLIENT_OFFSET (220) the broker sends clients. */
export const ResetOffsetRequestHeader = Header.make("ResetOffsetRequestHeader", {
  topic: Schema.String,
  group: Schema.String,
  queueId: Schema.optionalKey(Header.Int),
  offset: Schema.optionalKey(Header.Long),
  timestamp: Header.LongNumber,
  isForce: Schema.optionalKey(Header.Boolean)
})
