/**
 * The client side of `rmq send`, `consume` and `bench`: a `ClientInstance` on the command line's
 * name servers, and a `Producer` on it. Built per command, closed with it (the client then
 * unregisters from the brokers, as Java's does on shutdown).
 *
 * @since 0.1.0
 */
import { ClientInstance, Producer } from "@effect-rocketmq/client"
import { Layer } from "effect"
import { Flag } from "effect/cli"

/**
 * The producer group `rmq` sends with unless told otherwise.
 *
 * @since 0.1.0
 * @category constants
 */
export const PRODUCER_GROUP = "rmq-cli"

/**
 * A client instance on `namesrv`.
 *
 * @since 0.1.0
 * @category layers
 */
export const instance = (namesrv: string) => ClientInstance.layer({ nameServerAddresses: namesrv })

/**
 * A producer of `group` on a client instance on `namesrv`.
 *
 * @since 0.1.0
 * @category layers
 */
export const producer = (namesrv: string, options: Producer.ProducerOptions) =>
  Producer.layer(options).pipe(Layer.provide(instance(namesrv)))

/**
 * `--group NAME`: the producer group to send with.
 *
 * @since 0.1.0
 * @category flags
 */
export const producerGroupFlag = Flag.String("group").pipe(
  Flag.withDefault(PRODUCER_GROUP),
  Flag.withDescription("The producer group")
)

