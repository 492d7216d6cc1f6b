/**
 * The error model: every error answers `isRetryable` and `mayHaveReachedPeer` as the README's table
 * says, and `ChannelClosed` decides the second by whether its frame had been written.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import * as Channel from "../src/Channel.ts"
import type * as Connection from "../src/Connection.ts"
import * as RemotingCommand from "../src/RemotingCommand.ts"
import * as RemotingError from "../src/RemotingError.ts"
import { ServerListenError } from "../src/RemotingServer.ts"
import * as ResponseTable from "../src/ResponseTable.ts"
import * as SendQueue from "../src/SendQueue.ts"
import { failureOf } from "./support/Effects.ts"

const address = "127.0.0.1:10911"
const closedByPeer = new RemotingError.ClosedByPeer({ address })
const connectError = (reason: "NoAddress" | "Timeout" | "Refused" | "Failed") =>
  new RemotingError.ConnectError({ address, reason, detail: "test" })
const sendFailed = (reason: "QueueFull" | "FrameTooLarge") =>
  new RemotingError.ChannelSendRequestFailed({ address, requestCode: 10, opaque: 1, reason, detail: "test" })
const timeout = (written: boolean) =>
  new RemotingError.RequestTimeout({ address, requestCode: 10, opaque: 1, timeoutMillis: 3000, written })
const channelClosed = (written: boolean) =>
  new RemotingError.ChannelClosed({ address, requestCode: 10, opaque: 1, cause: closedByPeer, written })
const hookFailed = (phase: "beforeRequest" | "afterResponse") =>
  new RemotingError.RpcHookFailed({ hook: "h", phase, address, requestCode: 10, detail: "test" })

// [error, isRetryable, mayHaveReachedPeer]: the table of the package README.
const table: ReadonlyArray<readonly [RemotingError.Classified & { readonly _tag: string }, boolean, boolean]> = [
  [connectError("Refused"), true, false],
  [connectError("Timeout"), true, false],
  [connectError("Failed"), true, false],
  [connectError("NoAddress"), false, false],
  [
    new RemotingError.ConnectBackoff({ address, failures: 1, retryInMillis: 100, lastError: connectError("Refused") }),
    true,
    false
  ],
  [new RemotingError.NameServerUnavailable({ requestCode: 105, errors: [connectError("Refused")] }), true, false],
  [
    new RemotingError.TooManyRequests({ address, requestCode: 10, kind: "invoke", permits: 1, timeoutMillis: 10 }),
    true,
    false
  ],
  [new RemotingError.GoAway({ address, requestCode: 10, retried: true }), true, false],
  [sendFailed("QueueFull"), true, false],
  [sendFailed("FrameTooLarge"), false, false],
  [timeout(true), true, true],
  [timeout(false), true, false],
  [channelClosed(true), true, true],
  [channelClosed(false), true, false],
  [new RemotingError.InvalidAddress({ input: "x", detail: "test" }), false, false],
  [new RemotingError.NoNameServerAddress({ requestCode: 105 }), false, false],
  [new RemotingError.RemotingClientShutDown({ address, requestCode: 10 }), false, false],
  [new RemotingError.HeaderError({ header: "H", direction: "encode", detail: "test" }), false, false],
  [new RemotingError.FrameDecodeError({ reason: "FrameTooLarge", message: "test" }), false, false],
  [hookFailed("beforeRequest"), false, false],
  [hookFailed("afterResponse"), false, true],
  [closedByPeer, true, true],
  [new RemotingError.ConnectionReset({ address, detail: "ECONNRESET" }), true, true],
  [new RemotingError.ClosedLocally({ address }), true, true],
  [new ServerListenError({ address, detail: "EADDRINUSE" }), false, false]
]

describe("RemotingError: classification", () => {
  it("every error answers isRetryable and mayHaveReachedPeer as the README table says", () => {
    for (const [error, retryable, reached] of table) {
      expect([error._tag, error.isRetryable, error.mayHaveReachedPeer]).toEqual([error._tag, retryable, reached])
      expect(RemotingError.isRetryable(error)).toBe(retryable)
      expect(RemotingError.mayHaveReachedPeer(error)).toBe(reached)
    }
  })

  it("the table covers every error class the package exports", () => {
    const exported = Object.values(RemotingError as Record<string, unknown>).filter((value): value is Function =>
      typeof value === "function" && value.prototype instanceof Error
    ).map((value) => value.name)
    const covered = new Set(table.map(([error]) => error.constructor.name))
    expect(exported.length).toBe(17)
    expect(exported.filter((name) => !covered.has(name))).toEqual([])
  })
})

/**
 * A connection whose first write never completes (a peer that stopped reading, as far as the send
 * fiber can tell) and whose read side stays quiet: what was handed to the socket counts as written,
 * what is still queued behind it never is.
 */
const stalledConnection = (): Connection.ConnectionShape & { readonly writes: () => number } => {
  let writes = 0
  let open = true
  const stall = Effect.suspend(() => {
    writes++
    return Effect.never
  })
  return {
    address,
    readLoop: () => Effect.never,
    write: () => stall,
    writeAll: () => stall,
    isHealthy: () => open,
    close: () => {
      open = false
    },
    writes: () => writes
  }
}

describe("RemotingError: ChannelClosed.mayHaveReachedPeer is its written flag", () => {
  it.effect("a request still queued when its channel closes has not reached the peer; one already written may have", () =>
    Effect.gen(function*() {
      const connection = stalledConnection()
      const channel = yield* Channel.fromParts({
        connection,
        queue: SendQueue.makeUnsafe({ address }),
        table: ResponseTable.makeUnsafe()
      })
      const first = yield* Effect.forkChild(channel.sendWaitResponse(RemotingCommand.make({ code: 10 }), 60_000))
      for (let i = 0; i < 100 && connection.writes() === 0; i++) yield* Effect.yieldNow
      expect(connection.writes()).toBe(1)
      const second = yield* Effect.forkChild(channel.sendWaitResponse(RemotingCommand.make({ code: 11 }), 60_000))
      for (let i = 0; i < 100 && channel.diagnostics().queued === 0; i++) yield* Effect.yieldNow
      expect(channel.diagnostics().queued).toBe(1)

      yield* channel.close

      const written = failureOf(yield* Fiber.await(first))
      const queued = failureOf(yield* Fiber.await(second))
      assert(written._tag === "ChannelClosed" && queued._tag === "ChannelClosed")
      expect([written.written, RemotingError.mayHaveReachedPeer(written)]).toEqual([true, true])
      // The queued request had an opaque of its own (it was registered); it never left the process.
      expect(queued.opaque).not.toBe(-1)
      expect([queued.written, RemotingError.mayHaveReachedPeer(queued)]).toEqual([false, false])
      expect(queued.cause._tag).toBe("ClosedLocally")
    }))
})
