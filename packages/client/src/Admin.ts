/**
 * Administration of a broker: topics and subscription groups (the broker's record of a consumer
 * group: whether it may consume, its retry queue and maximum retries, …).
 *
 * Each is an Effect that needs a {@link RemotingClient.RemotingClient} and takes the broker's
 * `host:port` first. A code other than success is a typed error ({@link RemoteError}, or
 * {@link TopicNotExist} for 17). Default timeouts are those of Java's admin tool
 * (`DefaultMQAdminExt`, 5 s).
 *
 * | operation | request code and fields | success | default timeout |
 * | --- | --- | --- | --- |
 * | {@link createTopic} | 17: `topic`, `defaultTopic`, `readQueueNums`, `writeQueueNums`, `perm`, `topicFilterType`, `topicSysFlag`, `order` (+ `attributes`) | 0 (5.3.3 remarks "not set any response code") | 5 s |
 * | {@link deleteTopicInBroker} | 215: `topic` | 0 | 5 s |
 * | {@link createSubscriptionGroup} | 200: body `SubscriptionGroupConfig` JSON | 0 | 5 s |
 * | {@link getAllSubscriptionGroup} | 201: no fields | 0 + `SubscriptionGroupWrapper` JSON | 5 s |
 * | {@link deleteSubscriptionGroup} | 207: `groupName`, `cleanOffset` | 0 | 5 s |
 * | {@link getConsumeStats} | 208: `consumerGroup` (+ `topic`) | 0 + `ConsumeStats` JSON (queue-keyed map) | 5 s |
 * | {@link getBrokerRuntimeInfo} | 28: no fields | 0 + `KVTable` JSON | 5 s |
 *
 * The name server's side (the topic list, deleting a topic's route) is in `NameServer`.
 *
 * @since 0.1.0
 */
import type { RemotingClient } from "@effect-rocketmq/remoting"
import { RemotingCommand, RequestCode } from "@effect-rocketmq/remoting"
import { Effect, Schema } from "effect"
import type { BrokerError, CallOptions } from "./Broker.ts"
import { DEFAULT_TOPIC } from "./Broker.ts"
import type { RemoteError, TopicNotExist } from "./ClientError.ts"
import { InvalidRequest } from "./ClientError.ts"
import { MessageQueueJson } from "./ConsumerGroup.ts"
import * as FastJson from "./FastJson.ts"
import * as Headers from "./Headers.ts"
import * as Op from "./internal/operation.ts"

/** Sends a request with no fields, or the given ones, and checks the answer is SUCCESS. */
const invokeAdmin = Effect.fnUntraced(function*(
  address: string,
  code: number,
  parts: { readonly extFields?: RemotingCommand.ExtFields | undefined; readonly body?: Uint8Array | undefined },
  options: CallOptions | undefined,
  topic?: string | undefined
) {
  const request = RemotingCommand.make({ code, ...parts })
  const response = yield* Op.invoke(address, request, options?.timeoutMillis ?? Op.JavaTimeout.ADMIN_EXT)
  yield* Op.expectSuccess(address, request, response, topic)
  return response
})

/**
 * The configuration of a topic to create. Defaults: 4 read and 4 write queues, perm 6
 * (read + write), `SINGLE_TAG`, topicSysFlag 0, not ordered, template topic `TBW102`.
 *
 * @since 0.1.0
 * @category models
 */
export interface CreateTopicOptions extends CallOptions {
  /** Sets both queue counts (overridden by `readQueueNums` / `writeQueueNums`). */
  readonly queueNums?: number | undefined
  readonly readQueueNums?: number | undefined
  readonly writeQueueNums?: number | undefined
  readonly perm?: number | undefined
  readonly topicFilterType?: "SINGLE_TAG" | "MULTI_TAG" | undefined
  readonly topicSysFlag?: number | undefined
  readonly order?: boolean | undefined
  /** Topic attributes, e.g. `+message.type=NORMAL`. */
  readonly attributes?: string | undefined
  readonly defaultTopic?: string | undefined
}

/**
 * Creates `topic` on the broker at `address`, or updates its configuration (UPDATE_AND_CREATE_TOPIC).
 * Idempotent. The broker registers the new route with its name servers (asynchronously: a route
 * query right after may not see it yet).
 *
 * @since 0.1.0
 * @category operations
 */
export const createTopic: (
  address: string,
  topic: string,
  options?: CreateTopicOptions
) => Effect.Effect<void, BrokerError, RemotingClient.RemotingClient> = Effect.fn("Admin.createTopic")(
  function*(address: string, topic: string, options?: CreateTopicOptions) {
    const queueNums = options?.queueNums ?? 4
    const extFields = yield* Op.encodeHeader(Headers.CreateTopicRequestHeader, {
      topic,
      defaultTopic: options?.defaultTopic ?? DEFAULT_TOPIC,
      readQueueNums: options?.readQueueNums ?? queueNums,
      writeQueueNums: options?.writeQueueNums ?? queueNums,
      perm: options?.perm ?? 6,
      topicFilterType: options?.topicFilterType ?? "SINGLE_TAG",
      topicSysFlag: options?.topicSysFlag ?? 0,
      order: options?.order ?? false,
      ...(options?.attributes !== undefined ? { attributes: options.attributes } : {})
    }, "createTopic")
    // A 5.3.3 broker answers 0 with the remark "not set any response code": that is success.
    yield* invokeAdmin(address, RequestCode.UPDATE_AND_CREATE_TOPIC, { extFields }, options, topic)
  }
)

/**
 * Deletes `topic` from the broker at `address` (DELETE_TOPIC_IN_BROKER): its configuration, its
 * queues and the groups' offsets in it. The name servers keep the route until they are told too
 * (`NameServer.deleteTopicInNameServer`) or the broker's next registration.
 *
 * @since 0.1.0
 * @category operations
 */
export const deleteTopicInBroker: (
  address: string,
  topic: string,
  options?: CallOptions
) => Effect.Effect<void, BrokerError, RemotingClient.RemotingClient> = Effect.fn("Admin.deleteTopicInBroker")(
  function*(address: string, topic: string, options?: CallOptions) {
    const extFields = yield* Op.encodeHeader(Headers.DeleteTopicRequestHeader, { topic }, "deleteTopicInBroker")
    yield* invokeAdmin(address, RequestCode.DELETE_TOPIC_IN_BROKER, { extFields }, options, topic)
  }
)

// ---------------------------------------------------------------------------------------------
// Subscription groups
// ---------------------------------------------------------------------------------------------

/**
 * A broker's configuration of a consumer group (Java's `SubscriptionGroupConfig`, as fastjson
 * writes it). Only `groupName` is required when reading, so answers of older brokers (without
 * `consumeTimeoutMinute` or `attributes`) read too; other keys (`groupRetryPolicy`,
 * `subscriptionDataSet`) are ignored.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SubscriptionGroupConfig = Schema.Struct({
  groupName: Schema.String,
  consumeEnable: Schema.optionalKey(Schema.Boolean),
  consumeFromMinEnable: Schema.optionalKey(Schema.Boolean),
  consumeBroadcastEnable: Schema.optionalKey(Schema.Boolean),
  consumeMessageOrderly: Schema.optionalKey(Schema.Boolean),
  retryQueueNums: Schema.optionalKey(Schema.Int),
  retryMaxTimes: Schema.optionalKey(Schema.Int),
  brokerId: Schema.optionalKey(Schema.Int),
  whichBrokerWhenConsumeSlowly: Schema.optionalKey(Schema.Int),
  notifyConsumerIdsChangedEnable: Schema.optionalKey(Schema.Boolean),
  groupSysFlag: Schema.optionalKey(Schema.Int),
  consumeTimeoutMinute: Schema.optionalKey(Schema.Int),
  attributes: Schema.optionalKey(Schema.Record(Schema.String, Schema.String))
})

/**
 * @since 0.1.0
 * @category models
 */
export type SubscriptionGroupConfig = typeof SubscriptionGroupConfig.Type

/**
 * The settings of a new consumer group; Java's defaults fill what is left out.
 *
 * @since 0.1.0
 * @category models
 */
export type SubscriptionGroupSettings = Omit<SubscriptionGroupConfig, "groupName">

/**
 * What Java's `SubscriptionGroupConfig` starts with: may consume (also from the min offset and
 * by broadcast), not orderly, 1 retry queue, 16 retries before the DLQ, read from the master (or
 * from broker 1 when lagging), members told of membership changes, 15-minute consume timeout.
 *
 * @since 0.1.0
 * @category constants
 */
export const SUBSCRIPTION_GROUP_DEFAULTS = {
  consumeEnable: true,
  consumeFromMinEnable: true,
  consumeBroadcastEnable: true,
  consumeMessageOrderly: false,
  retryQueueNums: 1,
  retryMaxTimes: 16,
  brokerId: 0,
  whichBrokerWhenConsumeSlowly: 1,
  notifyConsumerIdsChangedEnable: true,
  groupSysFlag: 0,
  consumeTimeoutMinute: 15
} as const satisfies SubscriptionGroupSettings

const encodeSubscriptionGroup = Schema.encodeEffect(SubscriptionGroupConfig)

/**
 * Options of {@link createSubscriptionGroup}.
 *
 * @since 0.1.0
 * @category models
 */
export interface CreateSubscriptionGroupOptions extends CallOptions {
  readonly settings?: SubscriptionGroupSettings | undefined
}

/**
 * Creates the consumer group `groupName` on the broker at `address`, or replaces its settings
 * (UPDATE_AND_CREATE_SUBSCRIPTIONGROUP), sending the whole configuration as Java's admin tool
 * does: Java's defaults ({@link SUBSCRIPTION_GROUP_DEFAULTS}) for what `settings` leaves out.
 * A broker with `autoCreateSubscriptionGroup` (the default) also creates a group on its first pull
 * or heartbeat; one without it refuses offsets and pulls of a group not created this way.
 *
 * @since 0.1.0
 * @category operations
 */
export const createSubscriptionGroup: (
  address: string,
  groupName: string,
  options?: CreateSubscriptionGroupOptions
) => Effect.Effect<void, BrokerError, RemotingClient.RemotingClient> = Effect.fn("Admin.createSubscriptionGroup")(
  function*(address: string, groupName: string, options?: CreateSubscriptionGroupOptions) {
    if (groupName.length === 0) return yield* new InvalidRequest({ operation: "createSubscriptionGroup", detail: "the group name is empty" })
    const config = yield* encodeSubscriptionGroup({ groupName, ...SUBSCRIPTION_GROUP_DEFAULTS, ...options?.settings }).pipe(
      Effect.mapError((error) => new InvalidRequest({ operation: "createSubscriptionGroup", detail: error.message }))
    )
    const body = new TextEncoder().encode(JSON.stringify(config))
    yield* invokeAdmin(address, RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, { body }, options)
  }
)

/**
 * The answer to GET_ALL_SUBSCRIPTIONGROUP_CONFIG (`SubscriptionGroupWrapper`; its `dataVersion`
 * is ignored).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SubscriptionGroupWrapper = Schema.Struct({
  subscriptionGroupTable: Schema.Record(Schema.String, SubscriptionGroupConfig)
})

const decodeSubscriptionGroups = FastJson.decodeBody(SubscriptionGroupWrapper, "SubscriptionGroupWrapper")


/**
 * Every consumer group the broker at `address` knows (GET_ALL_SUBSCRIPTIONGROUP_CONFIG), system
 * groups included (`TOOLS_CONSUMER`, `CID_RMQ_SYS_…`, …), sorted by name.
 *
 * @since 0.1.0
 * @category operations
 */
export const getAllSubscriptionGroup: (
  address: string,
  options?: CallOptions
) => Effect.Effect<ReadonlyArray<SubscriptionGroupConfig>, BrokerError, RemotingClient.RemotingClient> = Effect.fn(
  "Admin.getAllSubscriptionGroup"
)(function*(address: string, options?: CallOptions) {
  const response = yield* invokeAdmin(address, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG, {}, options)
  const wrapper = yield* Op.decodeBody(address, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG, decodeSubscriptionGroups, response.body)
  return Object.values(wrapper.subscriptionGroupTable).sort((a, b) => (a.groupName < b.groupName ? -1 : a.groupName > b.groupName ? 1 : 0))
})

/**
 * Options of {@link deleteSubscriptionGroup}.
 *
 * @since 0.1.0
 * @category models
 */
export interface DeleteSubscriptionGroupOptions extends CallOptions {
  /** Also remove the group's committed offsets on this broker (default false, as Java's admin tool). */
  readonly cleanOffset?: boolean | undefined
}

/**
 * Deletes the consumer group `groupName` from the broker at `address` (DELETE_SUBSCRIPTIONGROUP).
 * Succeeds for a group the broker does not have. A broker with `autoCreateSubscriptionGroup`
 * creates the group again on its next pull or heartbeat.
 *
 * @since 0.1.0
 * @category operations
 */
export const deleteSubscriptionGroup: (
  address: string,
  groupName: string,
  options?: DeleteSubscriptionGroupOptions
) => Effect.Effect<void, BrokerError, RemotingClient.RemotingClient> = Effect.fn("Admin.deleteSubscriptionGroup")(
  function*(address: string, groupName: string, options?: DeleteSubscriptionGroupOptions) {
    const extFields = yield* Op.encodeHeader(
      Headers.DeleteSubscriptionGroupRequestHeader,
      { groupName, cleanOffset: options?.cleanOffset ?? false },
      "deleteSubscriptionGroup"
    )
    yield* invokeAdmin(address, RequestCode.DELETE_SUBSCRIPTIONGROUP, { extFields }, options)
  }
)

// ---------------------------------------------------------------------------------------------
// Consume stats and runtime info
// ---------------------------------------------------------------------------------------------

const OffsetWrapper = Schema.Struct({
  brokerOffset: Schema.Int,
  consumerOffset: Schema.Int,
  pullOffset: Schema.optionalKey(Schema.Int),
  lastTimestamp: Schema.optionalKey(Schema.Int)
})

/**
 * The answer to GET_CONSUME_STATS as read off the wire (Java's `ConsumeStats`): `offsetTable` is
 * keyed by message queues, which fastjson writes as object keys ({@link FastJson.toStandardJson}
 * turns each into a string of JSON).
 *
 * @since 0.1.0
 * @category schemas
 */
export const ConsumeStatsJson = Schema.Struct({
  offsetTable: Schema.Record(Schema.String, OffsetWrapper),
  consumeTps: Schema.optionalKey(Schema.Number)
})

const decodeConsumeStats = FastJson.decodeBody(ConsumeStatsJson, "ConsumeStats")

/**
 * A consumer group's position in one queue of one broker.
 *
 * @since 0.1.0
 * @category models
 */
export interface QueueConsumeStats {
  readonly queue: MessageQueueJson
  /** The queue's max offset (one past its last message). */
  readonly brokerOffset: bigint
  /** The group's committed offset (0 when it has none). */
  readonly consumerOffset: bigint
  /** How far the group has pulled (at least the committed offset). */
  readonly pullOffset: bigint
  /** Store time of the last message consumed (at `consumerOffset - 1`), ms; 0 when unknown. */
  readonly lastTimestamp: number
}

/**
 * What {@link getConsumeStats} answers: a row per queue, sorted by topic, broker and queue id.
 * The lag of a queue is `brokerOffset - consumerOffset`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConsumeStats {
  readonly queues: ReadonlyArray<QueueConsumeStats>
  /** Messages per second the group pulled recently (the broker's measure). */
  readonly consumeTps: number
}

const compareQueues = (a: QueueConsumeStats, b: QueueConsumeStats): number =>
  a.queue.topic < b.queue.topic ? -1 : a.queue.topic > b.queue.topic ? 1 :
  a.queue.brokerName < b.queue.brokerName ? -1 : a.queue.brokerName > b.queue.brokerName ? 1 :
  a.queue.queueId - b.queue.queueId

/**
 * Options of {@link getConsumeStats}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConsumeStatsOptions extends CallOptions {
  /** Only this topic; by default every topic the group has committed offsets for on the broker. */
  readonly topic?: string | undefined
}

/**
 * Where `consumerGroup` stands in the queues of the broker at `address` (GET_CONSUME_STATS): per
 * queue the max offset, the committed offset, the pulled offset and the store time of the last
 * consumed message. Covers the topics the group has committed offsets for (filtered to its live
 * subscriptions when it has members), or `topic`; an unknown group has no rows. `rmq lag` sums
 * these over the brokers of a cluster.
 *
 * @since 0.1.0
 * @category operations
 */
export const getConsumeStats: (
  address: string,
  consumerGroup: string,
  options?: ConsumeStatsOptions
) => Effect.Effect<ConsumeStats, BrokerError, RemotingClient.RemotingClient> = Effect.fn("Admin.getConsumeStats")(
  function*(address: string, consumerGroup: string, options?: ConsumeStatsOptions) {
    const extFields = yield* Op.encodeHeader(Headers.GetConsumeStatsRequestHeader, {
      consumerGroup,
      ...(options?.topic !== undefined ? { topic: options.topic } : {})
    }, "getConsumeStats")
    const response = yield* invokeAdmin(address, RequestCode.GET_CONSUME_STATS, { extFields }, options, options?.topic)
    const json = yield* Op.decodeBody(address, RequestCode.GET_CONSUME_STATS, decodeConsumeStats, response.body)
    const entries = yield* Op.decodeBody(
      address,
      RequestCode.GET_CONSUME_STATS,
      () => FastJson.objectKeyedEntries(MessageQueueJson, json.offsetTable, "ConsumeStats"),
      response.body
    )
    const queues = entries.map(([queue, offsets]): QueueConsumeStats => ({
      queue,
      brokerOffset: BigInt(offsets.brokerOffset),
      consumerOffset: BigInt(offsets.consumerOffset),
      pullOffset: BigInt(offsets.pullOffset ?? offsets.consumerOffset),
      lastTimestamp: offsets.lastTimestamp ?? 0
    }))
    const stats: ConsumeStats = { queues: queues.sort(compareQueues), consumeTps: json.consumeTps ?? 0 }
    return stats
  }
)

const KVTable = Schema.Struct({ table: Schema.Record(Schema.String, Schema.String) })
const decodeKVTable = FastJson.decodeBody(KVTable, "KVTable")

/**
 * The broker's runtime figures (GET_BROKER_RUNTIME_INFO): a string table with its version
 * (`brokerVersionDesc`, e.g. `V5_3_3`), TPS, disk use, queue sizes and more, as Java's admin
 * tool's `brokerStatus` prints it.
 *
 * @since 0.1.0
 * @category operations
 */
export const getBrokerRuntimeInfo: (
  address: string,
  options?: CallOptions
) => Effect.Effect<Readonly<Record<string, string>>, BrokerError, RemotingClient.RemotingClient> = Effect.fn(
  "Admin.getBrokerRuntimeInfo"
)(function*(address: string, options?: CallOptions) {
  const response = yield* invokeAdmin(address, RequestCode.GET_BROKER_RUNTIME_INFO, {}, options)
  return (yield* Op.decodeBody(address, RequestCode.GET_BROKER_RUNTIME_INFO, decodeKVTable, response.body)).table
})

