/**
 * A RemotingClient that answers from a function and records every request: for testing operations
 * without sockets.
 */
import { RemotingClient, RemotingCommand } from "@effect-rocketmq/remoting"
import { Effect, Layer } from "effect"

export interface Sent {
  readonly address: string | "nameserver"
  readonly request: RemotingCommand.RemotingCommand
  readonly timeoutMillis: number | undefined
  readonly oneway: boolean
}

export const make = (
  reply: (request: RemotingCommand.RemotingCommand, address: string | "nameserver") => RemotingCommand.RemotingCommand
) => {
  const sent: Array<Sent> = []
  const layer = Layer.succeed(RemotingClient.RemotingClient, RemotingClient.fromCalls({
    invoke: (address, request, timeoutMillis) =>
      Effect.sync(() => {
        sent.push({ address, request, timeoutMillis, oneway: false })
        return reply(request, address)
      }),
    invokeOneway: (address, request, timeoutMillis) =>
      Effect.sync(() => {
        sent.push({ address, request, timeoutMillis, oneway: true })
      }),
    invokeNameServer: (request, timeoutMillis) =>
      Effect.sync(() => {
        sent.push({ address: "nameserver", request, timeoutMillis, oneway: false })
        return reply(request, "nameserver")
      })
  }))
  return { sent, layer }
}

/** A reply function that always answers `code` (with optional remark, ext fields and body). */
export const answer = (
  code: number,
  options?: { remark?: string; extFields?: Record<string, string>; body?: Uint8Array | string }
) =>
(request: RemotingCommand.RemotingCommand): RemotingCommand.RemotingCommand =>
  RemotingCommand.response(request, code, options?.remark, {
    extFields: options?.extFields,
    body: typeof options?.body === "string" ? new TextEncoder().encode(options.body) : options?.body
  })

/** The sample response re-addressed to `request` (same opaque), as a broker would send it. */
export const replay = (sample: RemotingCommand.RemotingCommand) =>
(request: RemotingCommand.RemotingCommand): RemotingCommand.RemotingCommand =>
  RemotingCommand.withOpaque(sample, request.opaque)
