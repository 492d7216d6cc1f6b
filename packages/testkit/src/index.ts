/**
 * @effect-rocketmq/testkit: test your own RocketMQ code without a broker, or against a scripted one.
 *
 * @since 0.1.0
 */
export {}
