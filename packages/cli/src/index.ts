/**
 * @effect-rocketmq/cli: `rmq`, a command line for Apache RocketMQ on effect-rocketmq.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Cli from "./Cli.ts"

/** @since 0.1.0 */
export * as Cluster from "./Cluster.ts"

/** @since 0.1.0 */
export * as Names from "./Names.ts"

/** @since 0.1.0 */
export * as Output from "./Output.ts"
