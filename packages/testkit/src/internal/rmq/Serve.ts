/**
 * Serving an in-memory cluster with `RemotingServer`: the name server and each broker on an address
 * of its own, over loopback TCP or over an in-memory network (`RemotingTest.makeNetwork`).
 *
 * A broker's server is one of its listeners: it is opened in each running period (on the port it
 * first got) and closed when the broker stops, so clients see refused connects while it is down.
 * Each accepted connection is a `ClientChannel` of the broker; when it closes the broker drops it
 * from its groups.
 */
import { type RemotingServer } from "@effect-rocketmq/remoting"
import { Effect, Scope } from "effect"
import type { ClientChannel, Handler } from "../../InMemoryRocketMQ.ts"
import type * as Broker from "./Broker.ts"
import * as Channels from "./Channels.ts"

/** Starts a `RemotingServer` at `host:port` (port 0: a free one) in the current scope. */
export type ServeAt = (
  host: string,
  port: number,
  options: RemotingServer.RemotingServerOptions
) => Effect.Effect<RemotingServer.RemotingServerShape, RemotingServer.ServerListenError, Scope.Scope>

/** A handler as a `RemotingServer` default processor, for a server with no client channels (the name server). */
export const processorOf = (handler: Handler): RemotingServer.Processor => (request, context) =>
  handler(request, { remoteAddress: context.remoteAddress })

/**
 * Serves `broker` at `host:port` now and at every start. The broker's published address becomes
 * the server's (with the port actually bound).
 */
export const serveBroker = (
  broker: Broker.Broker,
  serveAt: ServeAt,
  host: string,
  port: number,
  nextChannelId: () => number
): Effect.Effect<void, RemotingServer.ServerListenError> => {
  const channels = new WeakMap<RemotingServer.ServerConnection, ClientChannel>()
  const channelOf = (connection: RemotingServer.ServerConnection) => {
    let channel = channels.get(connection)
    if (channel === undefined) {
      channel = Channels.fromServerConnection(nextChannelId(), connection)
      channels.set(connection, channel)
    }
    return channel
  }
  let bound = port
  const options: RemotingServer.RemotingServerOptions = {
    shutdownTimeout: 0,
    defaultProcessor: (request, context) =>
      broker.handle(request, { remoteAddress: context.remoteAddress, channel: channelOf(context.connection) }),
    onConnection: (connection) => Effect.ensuring(Effect.never, broker.connectionClosed(channelOf(connection)))
  }
  return broker.listen((scope) =>
    serveAt(host, bound, options).pipe(
      Scope.provide(scope),
      Effect.map((server) => {
        bound = server.port
        broker.setAddress(server.address)
      })
    )
  )
}
