/**
 * Client connections as a broker sees them (`ClientChannel`): the channel of a connection a
 * `RemotingServer` accepted, a client wired in process, or none (requests handed to a processor
 * directly). Brokers send their own requests to clients through them (check-back, consumer-ids
 * changed, offset reset) and close them when a client's heartbeats expire.
 */
import type { Channel } from "@effect-rocketmq/remoting"
import { RemotingCommand, RemotingError, type RemotingServer } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import type { ClientChannel } from "../../InMemoryRocketMQ.ts"

const closed = (address: string, request: RemotingCommand.RemotingCommand) =>
  new RemotingError.ChannelClosed({
    address,
    requestCode: request.code,
    opaque: -1,
    cause: new RemotingError.ClosedLocally({ address }),
    written: false
  })

/**
 * The connection of requests handled without a transport (`handle` called directly): it has no
 * client behind it, so requests to it fail with `ChannelClosed`.
 */
export const detached: ClientChannel = {
  id: 0,
  remoteAddress: "127.0.0.1:0",
  invoke: (request) => Effect.fail(closed("127.0.0.1:0", request)),
  invokeOneway: (request) => Effect.fail(closed("127.0.0.1:0", request)),
  close: Effect.void
}

/** The channel of a connection a `RemotingServer` accepted. */
export const fromServerConnection = (id: number, connection: RemotingServer.ServerConnection): ClientChannel =>
  fromChannel(id, connection.channel)

/** A `Channel` to a client as a `ClientChannel`. */
export const fromChannel = (id: number, channel: Channel.ChannelShape): ClientChannel => ({
  id,
  remoteAddress: channel.remoteAddress,
  invoke: (request, timeoutMillis) => channel.sendWaitResponse(request, timeoutMillis),
  invokeOneway: (request) => Effect.asVoid(channel.sendOneway(request)),
  close: channel.close
})

/** Java answers a request to a channel it cannot use with this (for in-process channels that are gone). */
export const closedError = closed

/** A request as a client receives it: a fresh opaque, the oneway bit when asked. */
export const outbound = (request: RemotingCommand.RemotingCommand, opaque: number, oneway: boolean) => {
  const withOpaque = RemotingCommand.withOpaque(request, opaque)
  return oneway ? RemotingCommand.markOneway(withOpaque) : withOpaque
}
