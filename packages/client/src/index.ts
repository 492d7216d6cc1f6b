/**
 * @effect-rocketmq/client: typed Apache RocketMQ operations on a RemotingClient.
 *
 * @since 0.1.0
 */
export {}
