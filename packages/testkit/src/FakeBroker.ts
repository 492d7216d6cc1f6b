/**
 * A fake RocketMQ peer on loopback TCP whose behaviour per request code is scripted: answer,
 * answer late, stay silent, answer twice or with the wrong opaque, send garbage or an absurd
 * frame length, close (FIN) or reset (RST) the connection, stop reading, answer GO_AWAY, or ask
 * the client something first. Point the code under test at {@link FakeBrokerShape.address} and
 * watch what it does. (Other kits call this a mock remoting peer.)
 *
 * It is a real `RemotingServer` underneath (same framing, same channel per connection): every
 * behaviour is a processor, and the byte-level faults write to the connection's Node socket
 * directly. Delays use `Effect.sleep`, so under `TestClock` they happen when the test adjusts the
 * clock; the network itself is real, so a test waits for bytes with
 * {@link FakeBrokerShape.waitForRequests} rather than with sleeps.
 *
 * Requests are recorded before their behaviour runs. Codes without a script get the default
 * behaviour: {@link reply} (SUCCESS, echoing ext fields and body) unless told otherwise.
 *
 * @since 0.1.0
 */
import * as Channel from "@effect-rocketmq/remoting/Channel"
import * as RemotingCommand from "@effect-rocketmq/remoting/RemotingCommand"
import type { ChannelError } from "@effect-rocketmq/remoting/RemotingError"
import * as RemotingServer from "@effect-rocketmq/remoting/RemotingServer"
import * as ResponseCode from "@effect-rocketmq/remoting/ResponseCode"
import type * as RpcHook from "@effect-rocketmq/remoting/RpcHook"
import { Context, type Duration, Effect, Exit, Layer, type Scope } from "effect"
import { Buffer } from "node:buffer"

// -------------------------------------------------------------------------------------------------
// Behaviours
// -------------------------------------------------------------------------------------------------

/**
 * What a behaviour is told besides the request.
 *
 * @since 0.1.0
 * @category models
 */
export interface BehaviorContext extends RemotingServer.ProcessorContext {
  /** Records the outcome of a request the broker sent the client (see {@link serverRequest}). */
  readonly recordServerResponse: (exit: Exit.Exit<RemotingCommand.RemotingCommand, ChannelError>) => void
}

/**
 * How the broker handles one request: return a response (the broker sets its opaque and response
 * bit), or `undefined` to write nothing. A failure is answered with SYSTEM_ERROR.
 *
 * @since 0.1.0
 * @category models
 */
export type Behavior = (
  request: RemotingCommand.RemotingCommand,
  context: BehaviorContext
) => Effect.Effect<RemotingCommand.RemotingCommand | undefined, unknown>

/**
 * The response a replying behaviour sends: a response code (no remark), or a function of the
 * request. Default: SUCCESS echoing the request's ext fields and body.
 *
 * @since 0.1.0
 * @category models
 */
export type ResponseSpec = number | ((request: RemotingCommand.RemotingCommand) => RemotingCommand.RemotingCommand)

const responseTo = (request: RemotingCommand.RemotingCommand, spec: ResponseSpec | undefined) =>
  spec === undefined
    ? RemotingCommand.response(request, ResponseCode.SUCCESS, undefined, { extFields: request.extFields, body: request.body })
    : typeof spec === "number"
    ? RemotingCommand.response(request, spec)
    : spec(request)

/** The response as the broker would write it: the request's opaque (unless told), response bit. */
const asWritten = (request: RemotingCommand.RemotingCommand, response: RemotingCommand.RemotingCommand, opaque = request.opaque) =>
  RemotingCommand.withOpaque(RemotingCommand.markResponse(response), opaque)

/**
 * Answers at once.
 *
 * @since 0.1.0
 * @category behaviors
 */
export const reply = (response?: ResponseSpec | undefined): Behavior => (request) =>
  Effect.succeed(responseTo(request, response))

/**
 * Answers after `delay` on Effect's clock (`TestClock.adjust` moves it in tests).
 *
 * @since 0.1.0
 * @category behaviors
 */
export const replyAfter = (delay: Duration.Input, response?: ResponseSpec | undefined): Behavior => (request) =>
  Effect.as(Effect.sleep(delay), responseTo(request, response))

/**
 * Never answers: the caller's deadline decides.
 *
 * @since 0.1.0
 * @category behaviors
 */
export const noReply: Behavior = () => Effect.succeed(undefined)

/**
 * Answers twice with the same opaque: the client must deliver the first and drop the second.
 *
 * @since 0.1.0
 * @category behaviors
 */
export const replyTwice = (response?: ResponseSpec | undefined): Behavior => (request, { connection }) =>
  Effect.gen(function*() {
    const written = asWritten(request, responseTo(request, response))
    yield* connection.channel.send(written)
    yield* connection.channel.send(written)
    return undefined
  })

/**
 * Answers with another opaque (default: the bitwise complement of the request's, which no client
 * counting up from 0 has pending): the client cannot match it and the caller times out.
 *
 * @since 0.1.0
 * @category behaviors
 */
export const replyWithOpaque = (
  opaque?: number | ((request: RemotingCommand.RemotingCommand) => number) | undefined,
  response?: ResponseSpec | undefined
): Behavior =>
(request, { connection }) => {
  const other = opaque === undefined ? ~request.opaque : typeof opaque === "number" ? opaque : opaque(request)
  return Effect.as(connection.channel.send(asWritten(request, responseTo(request, response), other)), undefined)
}

/**
 * Writes `bytes` (default an HTTP status line: not a remoting frame) instead of an answer. The
 * client's decoder must close the connection with a `FrameDecodeError`.
 *
 * @since 0.1.0
 * @category behaviors
 */
export const garbage = (bytes?: Uint8Array | string | undefined): Behavior => (_request, { connection }) =>
  Effect.sync(() => {
    connection.socket.write(bytes ?? "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    return undefined
  })

/**
 * Writes a length prefix announcing a frame of `length` bytes (default 64 MiB, four times Java's
 * 16 MiB limit) and nothing else. The client must refuse it before buffering anything.
 *
 * @since 0.1.0
 * @category behaviors
 */
export const oversizedLength = (length?: number | undefined): Behavior => (_request, { connection }) =>
  Effect.sync(() => {
    const prefix = Buffer.alloc(4)
    prefix.writeInt32BE((length ?? 64 * 1024 * 1024) | 0, 0)
    connection.socket.write(prefix)
    return undefined
  })

/**
 * Closes the connection gracefully (TCP FIN) instead of answering.
 *
 * @since 0.1.0
 * @category behaviors
 */
export const close: Behavior = (_request, { connection }) =>
  Effect.sync(() => {
    connection.socket.end()
    return undefined
  })

/**
 * Resets the connection (TCP RST) instead of answering.
 *
 * @since 0.1.0
 * @category behaviors
 */
export const reset: Behavior = (_request, { connection }) =>
  Effect.sync(() => {
    const socket = connection.socket as { resetAndDestroy?: () => unknown }
    if (typeof socket.resetAndDestroy === "function") socket.resetAndDestroy()
    else connection.socket.destroy(Object.assign(new Error("ECONNRESET"), { code: "ECONNRESET" }))
    return undefined
  })

/**
 * Stops reading from the connection for good (the client's writes back up: its socket buffer,
 * then its send queue), then behaves as `then` (default {@link noReply}).
 *
 * @since 0.1.0
 * @category behaviors
 */
export const stopReading = (then?: Behavior | undefined): Behavior => (request, context) =>
  Effect.andThen(context.connection.pauseReading, (then ?? noReply)(request, context))

/**
 * Reads slowly: stops reading for `duration` on Effect's clock, reads again, then behaves as
 * `then` (default {@link reply}). Requests the client sends meanwhile wait in the socket.
 *
 * @since 0.1.0
 * @category behaviors
 */
export const pauseReading = (duration: Duration.Input, then?: Behavior | undefined): Behavior => (request, context) =>
  context.connection.pauseReading.pipe(
    Effect.andThen(Effect.sleep(duration)),
    Effect.ensuring(context.connection.resumeReading),
    Effect.andThen((then ?? reply())(request, context))
  )

/**
 * Answers GO_AWAY (1500, "please go away"), as a shutting-down Java server does.
 *
 * @since 0.1.0
 * @category behaviors
 */
export const goAway: Behavior = (request) => Effect.succeed(RemotingServer.goAway(request))

/**
 * Answers REQUEST_CODE_NOT_SUPPORTED with Java's remark, as a server without a processor does.
 *
 * @since 0.1.0
 * @category behaviors
 */
export const notSupported: Behavior = (request) => Effect.succeed(Channel.notSupported(request))

/**
 * Fails: the broker answers SYSTEM_ERROR with a description of `error`.
 *
 * @since 0.1.0
 * @category behaviors
 */
export const fail = (error: unknown): Behavior => () => Effect.fail(error)

/**
 * First sends the client a request of its own (a server-initiated request such as
 * CHECK_TRANSACTION_STATE or GET_CONSUMER_RUNNING_INFO) on the same connection, records the
 * client's answer (see {@link FakeBrokerShape.serverResponses}), then behaves as `then` (default
 * {@link reply}). With `oneway: true` the request carries the oneway bit and nothing is awaited.
 *
 * @since 0.1.0
 * @category behaviors
 */
export const serverRequest = (
  command: RemotingCommand.RemotingCommand | ((request: RemotingCommand.RemotingCommand) => RemotingCommand.RemotingCommand),
  options?: {
    readonly timeoutMillis?: number | undefined
    readonly oneway?: boolean | undefined
    readonly then?: Behavior | undefined
  } | undefined
): Behavior =>
(request, context) =>
  Effect.gen(function*() {
    const outbound = typeof command === "function" ? command(request) : command
    const channel = context.connection.channel
    if (options?.oneway === true) {
      yield* channel.sendOneway(outbound, options.timeoutMillis)
    } else {
      context.recordServerResponse(yield* Effect.exit(channel.sendWaitResponse(outbound, options?.timeoutMillis)))
    }
    return yield* (options?.then ?? reply())(request, context)
  })

/**
 * Behaves as `behaviors[0]` for the first request it sees, `behaviors[1]` for the second, … and as
 * the last one from then on. E.g. `sequence(goAway, reply())` answers GO_AWAY once, then SUCCESS.
 *
 * @since 0.1.0
 * @category behaviors
 */
export const sequence = (...behaviors: readonly [Behavior, ...Array<Behavior>]): Behavior => {
  let calls = 0
  return (request, context) => {
    const behavior = behaviors[Math.min(calls++, behaviors.length - 1)]!
    return behavior(request, context)
  }
}

/**
 * A behaviour as a plain `RemotingServer` processor, to script any server (for example one from
 * `RemotingTest`) with the behaviours above. `onServerResponse` receives what {@link serverRequest}
 * records (default: nothing is kept).
 *
 * @since 0.1.0
 * @category conversions
 */
export const toProcessor = (
  behavior: Behavior,
  onServerResponse?: ((exit: Exit.Exit<RemotingCommand.RemotingCommand, ChannelError>) => void) | undefined
): RemotingServer.Processor => (request, context) =>
  behavior(request, { ...context, recordServerResponse: onServerResponse ?? (() => {}) })

// -------------------------------------------------------------------------------------------------
// The broker
// -------------------------------------------------------------------------------------------------

/**
 * @since 0.1.0
 * @category models
 */
export interface FakeBrokerOptions {
  /** Default `127.0.0.1` (use `::1` for IPv6). */
  readonly host?: string | undefined
  /** Default 0: a free port (see {@link FakeBrokerShape.port}). */
  readonly port?: number | undefined
  /** Behaviours by request code. */
  readonly scripts?: ReadonlyMap<number, Behavior> | { readonly [code: number]: Behavior } | undefined
  /** For codes without a script. Default {@link reply}(). */
  readonly defaultBehavior?: Behavior | undefined
  /** Inbound hooks, as on a `RemotingServer`. */
  readonly hooks?: ReadonlyArray<RpcHook.RpcHook> | undefined
  /** Serve TLS. */
  readonly tls?: RemotingServer.ServerTlsOptions | undefined
  readonly channel?: RemotingServer.ServerChannelOptions | undefined
  /** How long closing waits for behaviours still running. Default 0: close at once. */
  readonly shutdownTimeout?: Duration.Input | undefined
}

/**
 * A request the broker received.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReceivedRequest {
  readonly request: RemotingCommand.RemotingCommand
  /** The `id` of the connection it came on (1 for the first accepted connection). */
  readonly connectionId: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface FakeBrokerShape {
  /** `host:port` to point clients at. */
  readonly address: string
  readonly host: string
  readonly port: number
  /** The server underneath (connections, in-flight count, shutdown). */
  readonly server: RemotingServer.RemotingServerShape
  /** Sets the behaviour of `code` from now on. */
  readonly script: (code: number, behavior: Behavior) => Effect.Effect<void>
  /** Sets the behaviour of codes without a script. */
  readonly scriptDefault: (behavior: Behavior) => Effect.Effect<void>
  /** Every request received so far, in arrival order. */
  readonly received: Effect.Effect<ReadonlyArray<ReceivedRequest>>
  /** Waits until `count` requests have arrived; returns the first `count`. */
  readonly waitForRequests: (count: number) => Effect.Effect<ReadonlyArray<ReceivedRequest>>
  /** Waits for the `n`-th accepted connection (1-based; default 1), open or not by now. */
  readonly connection: (n?: number | undefined) => Effect.Effect<RemotingServer.ServerConnection>
  /** Outcomes of the requests {@link serverRequest} sent, in completion order. */
  readonly serverResponses: Effect.Effect<ReadonlyArray<Exit.Exit<RemotingCommand.RemotingCommand, ChannelError>>>
  /** Waits until `count` server-initiated requests have completed. */
  readonly waitForServerResponses: (
    count: number
  ) => Effect.Effect<ReadonlyArray<Exit.Exit<RemotingCommand.RemotingCommand, ChannelError>>>
}

/**
 * @since 0.1.0
 * @category services
 */
export class FakeBroker extends Context.Service<FakeBroker, FakeBrokerShape>()("rocketmq/testkit/FakeBroker") {}

/** Waiters woken whenever recorded state changes. */
const makeSignal = () => {
  let waiters: Array<() => void> = []
  const notify = () => {
    const woken = waiters
    waiters = []
    for (const waiter of woken) waiter()
  }
  const waitUntil = <A>(check: () => A | undefined): Effect.Effect<A> =>
    Effect.callback<A>((resume) => {
      const poll = () => {
        const value = check()
        if (value !== undefined) resume(Effect.succeed(value))
        else waiters.push(poll)
      }
      poll()
      return Effect.sync(() => {
        waiters = waiters.filter((w) => w !== poll)
      })
    })
  return { notify, waitUntil }
}

/**
 * A fake broker listening on loopback in the current scope.
 *
 * ```ts
 * const broker = yield* FakeBroker.make({ scripts: { [RequestCode.SEND_MESSAGE]: FakeBroker.noReply } })
 * const channel = yield* Channel.make({ host: broker.host, port: broker.port })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options?: FakeBrokerOptions | undefined
): Effect.Effect<FakeBrokerShape, RemotingServer.ServerListenError, Scope.Scope> =>
  Effect.gen(function*() {
    const scripts = new Map<number, Behavior>()
    const initial = options?.scripts
    if (initial instanceof Map) for (const [code, behavior] of initial) scripts.set(code, behavior)
    else if (initial !== undefined) {
      for (const key of Object.keys(initial)) {
        const behavior = (initial as { readonly [code: string]: Behavior })[key]
        if (behavior !== undefined) scripts.set(Number(key), behavior)
      }
    }
    let defaultBehavior: Behavior = options?.defaultBehavior ?? reply()
    const received: Array<ReceivedRequest> = []
    const connections: Array<RemotingServer.ServerConnection> = []
    const serverResponses: Array<Exit.Exit<RemotingCommand.RemotingCommand, ChannelError>> = []
    const signal = makeSignal()

    const server = yield* RemotingServer.make({
      host: options?.host,
      port: options?.port,
      tls: options?.tls,
      hooks: options?.hooks,
      channel: options?.channel,
      shutdownTimeout: options?.shutdownTimeout ?? 0,
      onConnection: (connection) =>
        Effect.sync(() => {
          connections.push(connection)
          signal.notify()
        }),
      defaultProcessor: (request, context) => {
        received.push({ request, connectionId: context.connection.id })
        signal.notify()
        const behavior = scripts.get(request.code) ?? defaultBehavior
        return behavior(request, {
          ...context,
          recordServerResponse: (exit) => {
            serverResponses.push(exit)
            signal.notify()
          }
        })
      }
    })

    return FakeBroker.of({
      address: server.address,
      host: server.host,
      port: server.port,
      server,
      script: (code, behavior) => Effect.sync(() => void scripts.set(code, behavior)),
      scriptDefault: (behavior) => Effect.sync(() => void (defaultBehavior = behavior)),
      received: Effect.sync(() => [...received]),
      waitForRequests: (count) => signal.waitUntil(() => (received.length >= count ? received.slice(0, count) : undefined)),
      connection: (n) => signal.waitUntil(() => connections[(n ?? 1) - 1]),
      serverResponses: Effect.sync(() => [...serverResponses]),
      waitForServerResponses: (count) =>
        signal.waitUntil(() => (serverResponses.length >= count ? serverResponses.slice(0, count) : undefined))
    })
  })

/**
 * The {@link FakeBroker} service, listening while the layer is alive.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: FakeBrokerOptions | undefined): Layer.Layer<FakeBroker, RemotingServer.ServerListenError> =>
  Layer.effect(FakeBroker, make(options))
