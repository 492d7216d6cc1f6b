/**
 * Helpers for RemotingClient tests: a closed loopback port, a channel factory that records (and
 * can slow down or hang) connect attempts on the test's clock, GO_AWAY peers, and polling of real
 * I/O while TestClock stands still.
 */
import { Duration, Effect, Exit } from "effect"
import * as Net from "node:net"
import * as Channel from "../../src/Channel.ts"
import * as Address from "../../src/Address.ts"
import * as RemotingCommand from "../../src/RemotingCommand.ts"

export { failureOf, settle } from "./Effects.ts"
import type { ChannelFactory } from "../../src/RemotingClient.ts"
import * as ResponseCode from "../../src/ResponseCode.ts"
import type * as Peer from "./Peer.ts"

/** A loopback port nothing listens on (bound, then released). */
export const closedPort = (host = "127.0.0.1"): Effect.Effect<number> =>
  Effect.callback<number>((resume) => {
    const server = Net.createServer()
    server.listen(0, host, () => {
      const port = (server.address() as Net.AddressInfo).port
      server.close(() => resume(Effect.succeed(port)))
    })
  })

export interface Attempt {
  readonly address: string
  readonly startedAt: number
  endedAt: number | undefined
  ok: boolean | undefined
}

export interface RecordingFactory {
  readonly factory: ChannelFactory
  readonly attempts: Array<Attempt>
  /** The most connect attempts that were in flight at once. */
  readonly maxConcurrent: () => number
  /** Channels opened, in order. */
  readonly channels: Array<Channel.ChannelShape>
}

/**
 * Wraps `Channel.make`, recording every attempt with its start and end on the test clock.
 * `delay(address)` sleeps on the clock before connecting; `hang(address)` never connects;
 * `hideClose` gives channels whose `closed` never completes (so only `isHealthy` tells).
 */
export const recordingFactory = (options?: {
  readonly delay?: ((address: string) => Duration.Input | undefined) | undefined
  readonly hang?: ((address: string) => boolean) | undefined
  readonly hideClose?: boolean | undefined
}): RecordingFactory => {
  const attempts: Array<Attempt> = []
  const channels: Array<Channel.ChannelShape> = []
  let inFlight = 0
  let max = 0
  const factory: ChannelFactory = (channelOptions) =>
    Effect.gen(function*() {
      const address = Address.format({ host: channelOptions.host!, port: channelOptions.port! })
      const attempt: Attempt = { address, startedAt: yield* Effect.clockWith((c) => c.currentTimeMillis), endedAt: undefined, ok: undefined }
      attempts.push(attempt)
      inFlight++
      max = Math.max(max, inFlight)
      return yield* Effect.gen(function*() {
        const delay = options?.delay?.(address)
        if (delay !== undefined) yield* Effect.sleep(delay)
        if (options?.hang?.(address) === true) return yield* Effect.never
        const channel = yield* Channel.make(channelOptions)
        channels.push(channel)
        return options?.hideClose === true ? { ...channel, closed: Effect.never } : channel
      }).pipe(
        Effect.onExit((exit) =>
          Effect.clockWith((c) =>
            Effect.sync(() => {
              inFlight--
              attempt.endedAt = c.currentTimeMillisUnsafe()
              attempt.ok = Exit.isSuccess(exit)
            })
          )
        )
      )
    })
  return { factory, attempts, maxConcurrent: () => max, channels }
}

/** Answers the first `count` requests with GO_AWAY, echoes the rest. */
export const goAwayFirst = (count: number): Peer.OnRequest => {
  let seen = 0
  return (request, connection) => {
    if (RemotingCommand.isOneway(request)) return
    seen++
    connection.reply(
      seen <= count
        ? RemotingCommand.response(request, ResponseCode.GO_AWAY, "please go away")
        : RemotingCommand.response(request, 0, undefined, { extFields: request.extFields, body: request.body })
    )
  }
}

export const request = (i: number, extra?: Record<string, string>) =>
  RemotingCommand.make({ code: 10, extFields: { i: String(i), ...extra } })
