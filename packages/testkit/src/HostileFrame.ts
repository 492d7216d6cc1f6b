/**
 * Hostile RocketMQ frames: what a broken or malicious peer could send instead of a real frame,
 * ready to put into a {@link FaultProxy} frame rewrite (mid-stream, between a client and a real
 * broker) or to write from any test server.
 *
 * | kind | the frame becomes | what a client must do |
 * |---|---|---|
 * | `garbage` | its length prefix and header-length word kept, every later byte random (Effect's `Random`) | close that connection with a typed error, fail what is pending on it |
 * | `oversized` | its length prefix set to 2^31 − 1 (no peer accepts more than 16 MiB) | the same, without waiting for the bytes announced |
 * | `bogusOpaque` | the same answer under an opaque nobody waits for (the opaque with bit 30 flipped) | drop it; the caller it was meant for times out |
 * | `protoJson` | the same answer as a JSON header that also carries `__proto__` (at the top level and as an object in `extFields`) and `constructor.prototype` | refuse the header with a typed error; `Object.prototype` is never touched |
 *
 * A frame that cannot be decoded is already hostile: `bogusOpaque` and `protoJson` pass it on
 * unchanged. The frames are whole frames, 4-byte length prefix included, as
 * {@link FaultProxy.rewriteFrames} hands them over. This module changes bytes only: when and on
 * which connection is the rewrite's business (see {@link rewrite}).
 *
 * @since 0.1.0
 */
import { Codec, RemotingCommand } from "@effect-rocketmq/remoting"
import { Effect, Random } from "effect"
import { Buffer } from "node:buffer"
import * as FaultProxy from "./FaultProxy.ts"

/**
 * @since 0.1.0
 * @category models
 */
export type Kind = "garbage" | "oversized" | "bogusOpaque" | "protoJson"

/**
 * Every kind, in the order of the module's table.
 *
 * @since 0.1.0
 * @category constants
 */
export const kinds: ReadonlyArray<Kind> = ["garbage", "oversized", "bogusOpaque", "protoJson"]

/** The length prefix `oversized` writes: the largest positive int32. */
const OVERSIZED_LENGTH = 0x7fff_ffff

/** Flipped in the opaque by `bogusOpaque`: channels count opaques up from 0, far below it. */
const BOGUS_OPAQUE_BIT = 0x4000_0000

/** What `protoJson` tries to pollute `Object.prototype` with. */
const POLLUTION = "{\"polluted\":\"yes\"}"

const garbage = (frame: Uint8Array): Effect.Effect<Uint8Array> =>
  Effect.gen(function*() {
    const out = Buffer.from(frame)
    for (let i = 8; i < out.length; i++) out[i] = yield* Random.nextIntBetween(0, 255)
    return out
  })

const oversized = (frame: Uint8Array): Uint8Array => {
  const out = Buffer.from(frame)
  if (out.length >= 4) out.writeInt32BE(OVERSIZED_LENGTH, 0)
  return out
}

const serializeTypeOf = (frame: Uint8Array): Codec.SerializeType => (frame[4] === 1 ? "ROCKETMQ" : "JSON")

const bogusOpaque = (frame: Uint8Array): Effect.Effect<Uint8Array> =>
  Codec.decodeFrame(frame).pipe(
    Effect.map((command) =>
      Codec.encodeFrame(RemotingCommand.withOpaque(command, command.opaque ^ BOGUS_OPAQUE_BIT), serializeTypeOf(frame))
    ),
    Effect.orElseSucceed(() => frame)
  )

const protoJson = (frame: Uint8Array): Effect.Effect<Uint8Array> =>
  Codec.decodeFrame(frame).pipe(
    Effect.map((command) => {
      const text = Codec.encodeJsonHeaderText(command)
      const hostileExt = `"__proto__":${POLLUTION},"constructor":{"prototype":${POLLUTION}}`
      const withExt = text.includes("\"extFields\":{")
        ? text.replace("\"extFields\":{", `"extFields":{${hostileExt},`)
        : text.replace(/^\{/, `{"extFields":{${hostileExt}},`)
      const header = Buffer.from(withExt.replace(/^\{/, `{"__proto__":${POLLUTION},`), "utf8")
      const body = command.body ?? new Uint8Array()
      const prefix = Buffer.alloc(8)
      prefix.writeInt32BE(4 + header.length + body.length, 0)
      // Serialize type JSON (0) in the top byte, the header's length in the other three.
      prefix.writeInt32BE(header.length, 4)
      return Buffer.concat([prefix, header, body])
    }),
    Effect.orElseSucceed(() => frame)
  )

/**
 * `frame` (length prefix included) made hostile as `kind` says (see the module's table).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (kind: Kind, frame: Uint8Array): Effect.Effect<Uint8Array> => {
  switch (kind) {
    case "garbage":
      return garbage(frame)
    case "oversized":
      return Effect.succeed(oversized(frame))
    case "bogusOpaque":
      return bogusOpaque(frame)
    case "protoJson":
      return protoJson(frame)
  }
}

/**
 * A FaultProxy frame rewrite that makes hostile the frames `select` picks (default: every frame)
 * and passes the others unchanged. E.g. the 50th answer on every connection:
 * `proxy.set("downstream", { rewrite: HostileFrame.rewrite("garbage", (_, context) => context.index === 49) })`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const rewrite = (
  kind: Kind,
  select?: ((frame: Uint8Array, context: FaultProxy.RewriteContext) => boolean) | undefined
): FaultProxy.Rewrite =>
  FaultProxy.rewriteFrames((frame, context) => (select === undefined || select(frame, context) ? make(kind, frame) : Effect.succeed(frame)))
