/**
 * @effect-rocketmq/remoting: the Apache RocketMQ remoting protocol for Effect.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Channel from "./Channel.ts"

/** @since 0.1.0 */
export * as Codec from "./Codec.ts"

/** @since 0.1.0 */
export * as Connection from "./Connection.ts"

/** @since 0.1.0 */
export * as Header from "./Header.ts"

/** @since 0.1.0 */
export * as LanguageCode from "./LanguageCode.ts"

/** @since 0.1.0 */
export * as RemotingCommand from "./RemotingCommand.ts"

/** @since 0.1.0 */
export * as RemotingError from "./RemotingError.ts"

/** @since 0.1.0 */
export * as RequestCode from "./RequestCode.ts"

/** @since 0.1.0 */
export * as ResponseCode from "./ResponseCode.ts"

/** @since 0.1.0 */
export * as RemotingClient from "./RemotingClient.ts"

/** @since 0.1.0 */
export * as RpcHook from "./RpcHook.ts"

/** @since 0.1.0 */
export * as ResponseTable from "./ResponseTable.ts"

/** @since 0.1.0 */
export * as SendQueue from "./SendQueue.ts"

/** @since 0.1.0 */
export * as Tracing from "./Tracing.ts"

/** @since 0.1.0 */
export * as RemotingServer from "./RemotingServer.ts"

/** @since 0.1.0 */
export * as Address from "./Address.ts"

/** @since 0.1.0 */
export * as AclSigner from "./AclSigner.ts"

/** @since 0.1.0 */
export * as Outbound from "./Outbound.ts"

/** @since 0.1.0 */
export * as ChannelPool from "./ChannelPool.ts"

/** @since 0.1.0 */
export * as ReconnectBackoff from "./ReconnectBackoff.ts"

/** @since 0.1.0 */
export * as NameServerSelector from "./NameServerSelector.ts"
