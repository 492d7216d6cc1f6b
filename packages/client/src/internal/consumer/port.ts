/**
 * Everything the consumer engine asks of the cluster, as one interface: routes, the group's member
 * list, pulls, offsets, send-back, orderly locks and heartbeats. The engine only sees this seam;
 * the live implementation ({@link livePort}, over the client instance and the broker operations)
 * picks broker addresses, timeouts and request fields, and tests script it.
 *
 * Errors are whatever the operations fail with; the engine only logs them and tells the broker's
 * FLOW_CONTROL answer apart, so they are kept structural here.
 *
 * @internal
 */
import type { Effect, Option } from "effect"
import type { Backend } from "./offsetStore.ts"
import type * as Broker from "../../Broker.ts"
import type * as Heartbeat from "../../Heartbeat.ts"
import type * as MessageQueue from "../../MessageQueue.ts"
import type * as StoredMessage from "../../StoredMessage.ts"

/** @internal: any typed failure of an operation. */
export interface PortError {
  readonly _tag: string
  readonly message: string
  readonly responseCode?: number | undefined
}

/** @internal */
export interface PullRequest {
  readonly queue: MessageQueue.MessageQueue
  readonly offset: bigint
  readonly subscription: Heartbeat.SubscriptionData
  /** The in-memory committed offset, piggy-backed on the pull (clustering only). */
  readonly commitOffset: bigint | undefined
  readonly maxMessages: number
  /** The broker id to pull from: the last one the broker suggested (0 = master). */
  readonly brokerId: number
  /** How long the broker may hold the pull when nothing is there (long polling). */
  readonly suspendMillis: number
}

/** @internal: CONSUMER_SEND_MSG_BACK of a message that failed. */
export interface SendBackRequest {
  readonly message: StoredMessage.StoredMessage
  /** The broker the message was pulled from. */
  readonly brokerName: string
  /** The topic the user saw (the original topic of a retried message). */
  readonly originalTopic: string
  /** −1 straight to the DLQ, 0 the broker picks `3 + reconsumeTimes`, > 0 that level. */
  readonly delayLevel: number
  readonly maxReconsumeTimes: number
}

/** @internal */
export interface Port {
  readonly clientId: string
  /** The readable queues of a topic on every broker. */
  readonly subscribeQueues: (topic: string) => Effect.Effect<ReadonlyArray<MessageQueue.MessageQueue>, PortError>
  /** The client ids of the group, as one broker of the topic knows them. */
  readonly consumerIds: (topic: string) => Effect.Effect<ReadonlyArray<string>, PortError>
  readonly pull: (request: PullRequest) => Effect.Effect<Broker.PullResult, PortError>
  /** The group's stored offset; `None` when the broker stores none. */
  readonly queryOffset: (queue: MessageQueue.MessageQueue) => Effect.Effect<Option.Option<bigint>, PortError>
  readonly commitOffsets: (
    entries: ReadonlyArray<{ readonly queue: MessageQueue.MessageQueue; readonly offset: bigint }>
  ) => Effect.Effect<void, PortError>
  readonly maxOffset: (queue: MessageQueue.MessageQueue) => Effect.Effect<bigint, PortError>
  readonly searchOffset: (queue: MessageQueue.MessageQueue, timestamp: number) => Effect.Effect<bigint, PortError>
  readonly sendBack: (request: SendBackRequest) => Effect.Effect<void, PortError>
  /** The fallback: a copy sent to `%RETRY%<group>` as a normal message. */
  readonly sendRetryCopy: (request: SendBackRequest) => Effect.Effect<void, PortError>
  /** LOCK_BATCH_MQ to the broker's master; the queues it granted. */
  readonly lock: (
    brokerName: string,
    queues: ReadonlyArray<MessageQueue.MessageQueue>
  ) => Effect.Effect<ReadonlyArray<MessageQueue.MessageQueue>, PortError>
  readonly unlock: (
    brokerName: string,
    queues: ReadonlyArray<MessageQueue.MessageQueue>,
    oneway: boolean
  ) => Effect.Effect<void, PortError>
  readonly heartbeatNow: Effect.Effect<void>
}

/**
 * The clustering offset backend: offsets are stored by the brokers (QUERY_CONSUMER_OFFSET,
 * UPDATE_CONSUMER_OFFSET).
 *
 * @internal
 */
export const remoteBackend = (port: Port): Backend<PortError> => ({
  read: port.queryOffset,
  write: port.commitOffsets
})
