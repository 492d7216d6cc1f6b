/**
 * A `RemotingClient` wired to an in-memory cluster without sockets or channels.
 *
 * Every command crosses the frame codec both ways, so handlers read exactly what a server would
 * and callers get what a socket would give. Calls go to the name server's processors (its address,
 * or `invokeNameServer`) or to the running broker published at that address; other addresses, and
 * stopped brokers, fail with `ConnectError` (refused). A call a broker is still processing when it
 * stops fails with `ChannelClosed`; one that gets no answer fails with `RequestTimeout` at its
 * deadline (default 3 s) on Effect's `Clock`.
 *
 * Each (client, broker running period) is one connection, as a real client has one channel per
 * broker: brokers see it in heartbeats and send their own requests (check-back, consumer-ids
 * changed, offset reset) to the client's `requestHandler` through it — oneway ones in a fiber of
 * their own, answered ones within their timeout. `closeChannel(address)` closes the connection to
 * that broker, as a disconnect.
 */
import {
  type Channel,
  Codec,
  RemotingClient,
  RemotingCommand,
  RemotingError,
  RemotingServer,
  ResponseCode
} from "@effect-rocketmq/remoting"
import { Channel as RemotingChannel } from "@effect-rocketmq/remoting"
import { Effect, type Scope } from "effect"
import type { ClientChannel, Handler } from "../../InMemoryRocketMQ.ts"
import type * as Broker from "./Broker.ts"
import * as Channels from "./Channels.ts"
import * as Wire from "./wire.ts"

export interface Target {
  readonly nameServerAddress: string
  readonly nameServer: Handler
  readonly brokers: ReadonlyArray<Broker.Broker>
  readonly scope: Scope.Scope
  readonly nextChannelId: () => number
}

export interface InProcessOptions {
  readonly nameServerAddress?: string | undefined
  readonly clientAddress?: string | undefined
  readonly requestHandler?: Channel.RequestHandlerShape | undefined
}

const DEFAULT_TIMEOUT_MILLIS = 3000

/** `command` as the other end reads it: encoded to a frame and decoded again. */
const wire = (address: string, command: RemotingCommand.RemotingCommand) =>
  Effect.try({
    try: () => Codec.encodeFrame(command),
    catch: (error) =>
      new RemotingError.ChannelSendRequestFailed({
        address,
        requestCode: command.code,
        opaque: command.opaque,
        reason: "FrameTooLarge",
        detail: String(error)
      })
  }).pipe(
    Effect.flatMap((frame) => Codec.decodeFrame(frame)),
    Effect.catchTag("FrameDecodeError", (cause) =>
      Effect.fail(
        new RemotingError.ChannelClosed({ address, requestCode: command.code, opaque: command.opaque, cause, written: true })
      ))
  )

const timeout = (address: string, request: RemotingCommand.RemotingCommand, millis: number) =>
  new RemotingError.RequestTimeout({ address, requestCode: request.code, opaque: request.opaque, timeoutMillis: millis, written: true })

/** The broker→client direction of one in-process connection. */
const clientChannel = (
  target: Target,
  broker: Broker.Broker,
  clientAddress: string,
  handler: Channel.RequestHandlerShape,
  onClose: () => void
): ClientChannel => {
  let opaque = 0
  let open = true
  const deliver = (request: RemotingCommand.RemotingCommand, oneway: boolean) =>
    Effect.gen(function*() {
      if (!open) return yield* Channels.closedError(clientAddress, request)
      opaque = (opaque + 1) | 0
      const received = yield* wire(clientAddress, Channels.outbound(request, opaque, oneway))
      return yield* handler.handle(received, { address: broker.address() }).pipe(
        Effect.catchCause((cause) =>
          Effect.succeed(Wire.respond(received, ResponseCode.SYSTEM_ERROR, RemotingServer.describeFailure(cause)))
        )
      )
    })
  const channel: ClientChannel = {
    id: target.nextChannelId(),
    remoteAddress: clientAddress,
    invoke: (request, timeoutMillis) => {
      const millis = timeoutMillis ?? DEFAULT_TIMEOUT_MILLIS
      return deliver(request, false).pipe(
        Effect.flatMap((response) =>
          response === undefined
            ? Effect.never
            : wire(clientAddress, RemotingCommand.withOpaque(RemotingCommand.markResponse(response), opaque))
        ),
        Effect.timeoutOrElse({ duration: millis, orElse: () => Effect.fail(timeout(clientAddress, request, millis)) })
      )
    },
    invokeOneway: (request) =>
      open
        ? Effect.asVoid(Effect.forkIn(Effect.ignore(deliver(request, true)), target.scope))
        : Effect.fail(Channels.closedError(clientAddress, request)),
    close: Effect.suspend(() => {
      if (!open) return Effect.void
      open = false
      onClose()
      return broker.connectionClosed(channel)
    })
  }
  return channel
}

export const make = (target: Target, options?: InProcessOptions): RemotingClient.RemotingClientShape => {
  const nameServerAddress = options?.nameServerAddress ?? target.nameServerAddress
  const clientAddress = options?.clientAddress ?? "127.0.0.1:50000"
  const handler = options?.requestHandler ?? { handle: (request) => Effect.succeed(RemotingChannel.notSupported(request)) }
  const connections = new Map<Broker.Broker, { readonly channel: ClientChannel; readonly generation: number }>()
  let opaque = 0

  /** This client's connection to `broker` in its current running period (a restart means a new connection). */
  const connection = (broker: Broker.Broker): ClientChannel => {
    const existing = connections.get(broker)
    if (existing !== undefined && existing.generation === broker.generation()) return existing.channel
    const channel = clientChannel(target, broker, clientAddress, handler, () => {
      if (connections.get(broker)?.channel === channel) connections.delete(broker)
    })
    connections.set(broker, { channel, generation: broker.generation() })
    return channel
  }

  /** Sends `request` (with the oneway bit when asked) and returns the peer's answer, if it gives one. */
  const send = (address: string, request: RemotingCommand.RemotingCommand, timeoutMillis: number | undefined, oneway: boolean) =>
    Effect.gen(function*() {
      const broker = target.brokers.find((b) => b.isRunning() && b.address() === address)
      if (broker === undefined && address !== nameServerAddress) {
        return yield* new RemotingError.ConnectError({ address, reason: "Refused", detail: "no in-memory server at this address" })
      }
      opaque = (opaque + 1) | 0
      const id = opaque
      const sent = yield* wire(address, Channels.outbound(request, id, oneway))
      const millis = timeoutMillis ?? DEFAULT_TIMEOUT_MILLIS
      const stopped = (b: Broker.Broker) =>
        Effect.andThen(b.stopped(), Effect.fail(new RemotingError.ChannelClosed({
          address,
          requestCode: request.code,
          opaque: id,
          cause: new RemotingError.ClosedByPeer({ address }),
          written: true
        })))
      const answer = broker === undefined
        ? target.nameServer(sent, { remoteAddress: clientAddress })
        : Effect.raceFirst(broker.handle(sent, { remoteAddress: clientAddress, channel: connection(broker) }), stopped(broker))
      if (oneway) return yield* Effect.as(answer, undefined)
      // Java's client waits for an answer that never comes until its deadline.
      const response = yield* answer.pipe(
        Effect.flatMap((response) => response === undefined ? Effect.never : Effect.succeed(response)),
        Effect.timeoutOrElse({ duration: millis, orElse: () => Effect.fail(timeout(address, sent, millis)) })
      )
      return yield* wire(address, RemotingCommand.withOpaque(RemotingCommand.markResponse(response), id))
    })

  const invoke = (address: string, request: RemotingCommand.RemotingCommand, timeoutMillis?: number) =>
    Effect.flatMap(send(address, request, timeoutMillis, false), (response) =>
      response === undefined ? Effect.fail(timeout(address, request, timeoutMillis ?? DEFAULT_TIMEOUT_MILLIS)) : Effect.succeed(response))

  return RemotingClient.fromCalls({
    invoke,
    invokeOneway: (address, request, timeoutMillis) => Effect.asVoid(send(address, request, timeoutMillis, true)),
    invokeNameServer: (request, timeoutMillis) => invoke(nameServerAddress, request, timeoutMillis),
    closeChannel: (address) =>
      Effect.suspend(() => {
        const broker = target.brokers.find((b) => b.address() === address)
        const current = broker === undefined ? undefined : connections.get(broker)
        return current === undefined ? Effect.void : current.channel.close
      })
  })
}
