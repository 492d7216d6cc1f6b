/**
 * The client side of RocketMQ remoting: one shared {@link Channel} per peer address.
 *
 * (Interface first; the implementation lands with the client/server issue.)
 *
 * @since 0.1.0
 */
import { Context, type Effect } from "effect"
import type { RemotingCommand } from "./RemotingCommand.ts"
import type { ChannelClosed, ChannelSendRequestFailed, ConnectError, RequestTimeout } from "./RemotingError.ts"

/**
 * What a call through the client can fail with. (The implementation adds its own reasons, such as
 * "no name server address configured", to this union.)
 *
 * @since 0.1.0
 * @category models
 */
export type RemotingClientError = ConnectError | ChannelSendRequestFailed | RequestTimeout | ChannelClosed

/**
 * @since 0.1.0
 * @category models
 */
export interface RemotingClientShape {
  /** Sends `request` to `address` (`host:port` or `[v6]:port`) and waits for the response. */
  readonly invoke: (
    address: string,
    request: RemotingCommand,
    timeoutMillis?: number | undefined
  ) => Effect.Effect<RemotingCommand, RemotingClientError>
  /** Sends `request` to `address` with the oneway bit; the timeout bounds connecting and enqueueing. */
  readonly invokeOneway: (
    address: string,
    request: RemotingCommand,
    timeoutMillis?: number | undefined
  ) => Effect.Effect<void, RemotingClientError>
  /** Sends `request` to the configured name servers, failing over to the next on connect errors. */
  readonly invokeNameServer: (
    request: RemotingCommand,
    timeoutMillis?: number | undefined
  ) => Effect.Effect<RemotingCommand, RemotingClientError>
}

/**
 * @since 0.1.0
 * @category services
 */
export class RemotingClient extends Context.Service<RemotingClient, RemotingClientShape>()(
  "rocketmq/remoting/RemotingClient"
) {}
