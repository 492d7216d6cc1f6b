/**
 * Administration of a broker: create topics.
 *
 * Each is an Effect that needs a {@link RemotingClient.RemotingClient} and takes the broker's
 * `host:port` first. A code other than success is a typed error ({@link RemoteError}, or
 * {@link TopicNotExist} for 17). Default timeouts are those of Java's admin tool
 * (`DefaultMQAdminExt`, 5 s).
 *
 * | operation | request code and fields | success | default timeout |
 * | --- | --- | --- | --- |
 * | {@link createTopic} | 17: `topic`, `defaultTopic`, `readQueueNums`, `writeQueueNums`, `perm`, `topicFilterType`, `topicSysFlag`, `order` (+ `attributes`) | 0 (5.3.3 remarks "not set any response code") | 5 s |
 *
 * @since 0.1.0
 */
import type { RemotingClient } from "@effect-rocketmq/remoting"
import { RemotingCommand, RequestCode } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import type { BrokerError, CallOptions } from "./Broker.ts"
import { DEFAULT_TOPIC } from "./Broker.ts"
import type { RemoteError, TopicNotExist } from "./ClientError.ts"
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
