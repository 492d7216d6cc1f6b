/**
 * Request headers the in-memory broker reads that `@effect-rocketmq/client` does not declare
 * (yet): declared here under their Java class names, with Java's ext-field keys.
 */
import { Header } from "@effect-rocketmq/remoting"
import { Schema } from "effect"

/** DELETE_TOPIC_IN_BROKER (215). */
export const DeleteTopicRequestHeader = Header.make("DeleteTopicRequestHeader", {
  topic: Schema.String
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

