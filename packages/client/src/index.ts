/**
 * @effect-rocketmq/client: typed Apache RocketMQ operations on a RemotingClient.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Admin from "./Admin.ts"

/** @since 0.1.0 */
export * as Allocation from "./Allocation.ts"

/** @since 0.1.0 */
export * as AuthAdmin from "./AuthAdmin.ts"

/** @since 0.1.0 */
export * as Broker from "./Broker.ts"

/** @since 0.1.0 */
export * as ClientError from "./ClientError.ts"

/** @since 0.1.0 */
export * as ClientInstance from "./ClientInstance.ts"

/** @since 0.1.0 */
export * as Compression from "./Compression.ts"

/** @since 0.1.0 */
export * as Consumer from "./Consumer.ts"

/** @since 0.1.0 */
export * as ConsumerError from "./ConsumerError.ts"

/** @since 0.1.0 */
export * as ConsumerGroup from "./ConsumerGroup.ts"

/** @since 0.1.0 */
export * as FastJson from "./FastJson.ts"

/** @since 0.1.0 */
export * as Headers from "./Headers.ts"

/** @since 0.1.0 */
export * as Heartbeat from "./Heartbeat.ts"

/** @since 0.1.0 */
export * as Message from "./Message.ts"

/** @since 0.1.0 */
export * as MessageBatch from "./MessageBatch.ts"

/** @since 0.1.0 */
export * as MessageQueue from "./MessageQueue.ts"

/** @since 0.1.0 */
export * as NameServer from "./NameServer.ts"

/** @since 0.1.0 */
export * as Offsets from "./Offsets.ts"

/** @since 0.1.0 */
export * as Producer from "./Producer.ts"

/** @since 0.1.0 */
export * as ProducerError from "./ProducerError.ts"

/** @since 0.1.0 */
export * as Properties from "./Properties.ts"

/** @since 0.1.0 */
export * as RouteData from "./RouteData.ts"

/** @since 0.1.0 */
export * as StoredMessage from "./StoredMessage.ts"

/** @since 0.1.0 */
export * as Transaction from "./Transaction.ts"
