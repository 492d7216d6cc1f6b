/**
 * @effect-rocketmq/testkit: test your own RocketMQ code without a broker, or against a scripted one.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as FakeBroker from "./FakeBroker.ts"

/** @since 0.1.0 */
export * as FaultProxy from "./FaultProxy.ts"

/** @since 0.1.0 */
export * as HostileFrame from "./HostileFrame.ts"

/** @since 0.1.0 */
export * as InMemoryRocketMQ from "./InMemoryRocketMQ.ts"

/** @since 0.1.0 */
export * as RemotingTest from "./RemotingTest.ts"
