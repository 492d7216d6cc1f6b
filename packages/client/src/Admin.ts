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
 * | {@link createSubscriptionGroup} | 200: body `SubscriptionGroupConfig` JSON | 0 | 5 s |
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
import * as Headers from "./Headers.ts"
import * as Op from "./internal/operation.ts"

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
    const request = RemotingCommand.make({ code: RequestCode.UPDATE_AND_CREATE_TOPIC, extFields })
    const response = yield* Op.invoke(address, request, options?.timeoutMillis ?? Op.JavaTimeout.ADMIN_EXT)
    // A 5.3.3 broker answers 0 with the remark "not set any response code": that is success.
    yield* Op.expectSuccess(address, request, response, topic)
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
    const request = RemotingCommand.make({ code: RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, body })
    const response = yield* Op.invoke(address, request, options?.timeoutMillis ?? Op.JavaTimeout.ADMIN_EXT)
    yield* Op.expectSuccess(address, request, response)
  }
)

