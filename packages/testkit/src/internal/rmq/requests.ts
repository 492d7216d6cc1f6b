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
