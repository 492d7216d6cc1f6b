/**
 * Request headers the in-memory broker reads or writes that `@effect-rocketmq/client` does not
 * declare (yet): declared here under their Java class names, with Java's ext-field keys.
 */
import { Header } from "@effect-rocketmq/remoting"
import { Schema } from "effect"

/** UNREGISTER_CLIENT (35). */
export const UnregisterClientRequestHeader = Header.make("UnregisterClientRequestHeader", {
  clientID: Schema.String,
  producerGroup: Schema.optionalKey(Schema.String),
  consumerGroup: Schema.optionalKey(Schema.String)
})

/** GET_CONSUMER_LIST_BY_GROUP (38). */
export const GetConsumerListByGroupRequestHeader = Header.make("GetConsumerListByGroupRequestHeader", {
  consumerGroup: Schema.String
})

/** GET_MIN_OFFSET (31). */
export const GetMinOffsetRequestHeader = Header.make("GetMinOffsetRequestHeader", {
  topic: Schema.String,
  queueId: Header.Int
})

/** SEARCH_OFFSET_BY_TIMESTAMP (29). `boundaryType` is compared case-insensitively with "upper". */
export const SearchOffsetRequestHeader = Header.make("SearchOffsetRequestHeader", {
  topic: Schema.String,
  queueId: Header.Int,
  timestamp: Header.LongNumber,
  boundaryType: Schema.optionalKey(Schema.String)
})

/** DELETE_TOPIC_IN_BROKER (215). */
export const DeleteTopicRequestHeader = Header.make("DeleteTopicRequestHeader", {
  topic: Schema.String
})
