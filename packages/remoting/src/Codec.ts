/**
 * Remoting commands to bytes and back, byte-compatible with Apache RocketMQ (Java) and
 * rocketmq-rust.
 *
 * A frame is `length:int32 | type:uint8 headerLength:uint24 | header | body`, big-endian, where
 * `length` counts everything after itself and `type` is 0 (JSON header) or 1 (ROCKETMQ binary
 * header). Both header types are decoded on every frame: a Java server answers in its own
 * configured type, whatever the request used.
 *
 * This module does no I/O. {@link FrameDecoder} turns a stream of TCP chunks into commands; it
 * checks the announced length against `maxFrameLength` before buffering anything, never copies a
 * frame that arrived in one chunk, and copies a frame that arrived in pieces exactly once. Decoded
 * bodies are views into those bytes. The two header encodings live in `internal/jsonHeader.ts`
 * (with its one-pass fast reader, `internal/fastJsonHeader.ts`) and `internal/binaryHeader.ts`.
 *
 * @since 0.1.0
 */
import { Buffer } from "node:buffer"
import { Effect, Result } from "effect"
import * as BinaryHeader from "./internal/binaryHeader.ts"
import { copyRange } from "./internal/headerScratch.ts"
import * as JsonHeader from "./internal/jsonHeader.ts"
import type { RemotingCommand } from "./RemotingCommand.ts"
import { FrameDecodeError } from "./RemotingError.ts"

/**
 * How the header of a frame is written: `JSON` (type byte 0, what Java sends by default and every
 * server accepts) or `ROCKETMQ` (type byte 1, compact binary).
 *
 * @since 0.1.0
 * @category models
 */
export type SerializeType = "JSON" | "ROCKETMQ"

/**
 * Java's default `com.rocketmq.remoting.frameMaxLength`: 16 MiB, counting the 4-byte length prefix
 * as Netty's `LengthFieldBasedFrameDecoder` does, so the largest accepted length field is
 * 16,777,212.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_FRAME_LENGTH = 16 * 1024 * 1024

/**
 * The header length lives in 24 bits of the marker word.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_HEADER_LENGTH = 0xff_ffff

const TYPE_JSON = 0
const TYPE_ROCKETMQ = 1

const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

// -------------------------------------------------------------------------------------------------
// Headers (the encoders and decoders are internal/jsonHeader.ts and internal/binaryHeader.ts)
// -------------------------------------------------------------------------------------------------

/**
 * The JSON header text in Java's own layout: top-level keys in alphabetical order (fastjson's
 * `SortField`), `remark` left out when absent, `extFields` left out when empty, `extFields` in the
 * command's key order. The same bytes the frame encoder writes, as text.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeJsonHeaderText: (command: RemotingCommand) => string = JsonHeader.encodeJsonHeaderText

/**
 * Whether a command can be carried by a ROCKETMQ binary header: `code` and `version` must fit the
 * 16-bit fields (Java would silently write `code & 0xFFFF`, turning e.g. POP_MESSAGE 200050 into
 * another code) and every ext key must fit a signed 16-bit length. Commands that cannot are sent
 * as JSON.
 *
 * @since 0.1.0
 * @category encoding
 */
export const fitsBinaryHeader: (command: RemotingCommand) => boolean = BinaryHeader.fitsBinaryHeader

/**
 * The command a parsed JSON header describes (Java's reader rules: unknown keys ignored, missing
 * ones defaulted, nulls as absent).
 *
 * @internal
 */
export const fromJsonValue: (
  parsed: unknown,
  text: string,
  body: Uint8Array | undefined
) => RemotingCommand | FrameDecodeError = JsonHeader.fromJsonValue

// -------------------------------------------------------------------------------------------------
// Frames
// -------------------------------------------------------------------------------------------------

/**
 * A command ready to be written: its header is encoded, its total size known. The channel prepares
 * frames in the caller's fiber (so size errors reach the caller) and the send fiber writes many of
 * them into one buffer.
 *
 * @since 0.1.0
 * @category models
 */
export interface PreparedFrame {
  /** Total bytes on the wire, the 4-byte length prefix included. */
  readonly frameLength: number
  readonly headerLength: number
  readonly serializeType: SerializeType
  /** @internal */
  readonly header: string | Buffer
  /** @internal */
  readonly body: Uint8Array | undefined
}

/**
 * Encodes the header of `command` and measures the frame. A `ROCKETMQ` request for a command that
 * {@link fitsBinaryHeader} rejects is prepared as JSON. `opaque` replaces the command's own (the
 * channel assigns opaques without copying the command).
 *
 * @since 0.1.0
 * @category encoding
 */
export const prepareFrame = (
  command: RemotingCommand,
  serializeType: SerializeType = "JSON",
  opaque: number = command.opaque
): PreparedFrame => {
  const bodyLength = command.body === undefined ? 0 : command.body.length
  if (serializeType === "ROCKETMQ") {
    const header = BinaryHeader.encodeBinaryHeader(command, opaque)
    if (header !== undefined) {
      return { frameLength: 8 + header.length + bodyLength, headerLength: header.length, serializeType, header, body: command.body }
    }
  }
  const header = JsonHeader.encodeJsonHeader(command, opaque)
  return { frameLength: 8 + header.length + bodyLength, headerLength: header.length, serializeType: "JSON", header, body: command.body }
}

/**
 * Writes a prepared frame into `target` at `offset`; returns the offset after it. `target` must have
 * `frame.frameLength` bytes of room.
 *
 * @since 0.1.0
 * @category encoding
 */
export const writeFrame = (frame: PreparedFrame, target: Buffer, offset: number): number => {
  target.writeInt32BE(frame.frameLength - 4, offset)
  target.writeInt32BE(
    ((frame.serializeType === "JSON" ? TYPE_JSON : TYPE_ROCKETMQ) << 24) | frame.headerLength,
    offset + 4
  )
  let pos = offset + 8
  if (typeof frame.header === "string") target.write(frame.header, pos, frame.headerLength, "utf8")
  else target.set(frame.header, pos)
  pos += frame.headerLength
  if (frame.body !== undefined) {
    target.set(frame.body, pos)
    pos += frame.body.length
  }
  return pos
}

/**
 * The whole wire frame of `command`, length prefix included. JSON unless told otherwise; a
 * `ROCKETMQ` request for a command whose code or version does not fit 16 bits is encoded as JSON
 * (see {@link fitsBinaryHeader}).
 *
 * A header longer than 16,777,215 bytes cannot be framed at all (its length has 24 bits); no peer
 * accepts such a frame (Java's limit is 16 MiB for the whole frame) and this function throws a
 * `RangeError` for it. The channel checks frame sizes against its `maxFrameLength` with
 * {@link prepareFrame} before encoding and fails the request with a typed error instead.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeFrame = (command: RemotingCommand, serializeType: SerializeType = "JSON"): Uint8Array => {
  const frame = prepareFrame(command, serializeType)
  if (frame.headerLength > MAX_HEADER_LENGTH) {
    throw new RangeError(`header of ${frame.headerLength} bytes exceeds the 24-bit header length field`)
  }
  const out = Buffer.allocUnsafe(frame.frameLength)
  writeFrame(frame, out, 0)
  return out
}

/**
 * The header bytes alone (no length prefix, no marker word).
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeHeader = (command: RemotingCommand, serializeType: SerializeType = "JSON"): Uint8Array =>
  (serializeType === "ROCKETMQ" ? BinaryHeader.encodeBinaryHeader(command, command.opaque) : undefined) ??
    JsonHeader.encodeJsonHeader(command, command.opaque)

/**
 * Decodes header bytes (as {@link encodeHeader} writes them) into a command without a body.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeHeader = (
  header: Uint8Array,
  serializeType: SerializeType
): Result.Result<RemotingCommand, FrameDecodeError> => {
  const bytes = asBuffer(header)
  const out = serializeType === "JSON"
    ? JsonHeader.decodeJsonHeader(bytes, 0, bytes.length, undefined)
    : BinaryHeader.decodeBinaryHeader(bytes, 0, bytes.length, undefined)
  return out instanceof FrameDecodeError ? Result.fail(out) : Result.succeed(out)
}

const hex32 = (n: number): string => "0x" + (n >>> 0).toString(16).padStart(8, "0")

/**
 * A hint for a length prefix that is not a plausible frame: other protocols on this port.
 */
const foreignProtocolHint = (b0: number, b1: number, b2: number, b3: number): string => {
  if (b0 >= 0x14 && b0 <= 0x17 && b1 === 0x03) {
    return " These bytes open a TLS record: the peer is speaking TLS. Enable TLS for this connection, or use " +
      "the server's plaintext port."
  }
  const printable = (b: number) => b >= 0x20 && b <= 0x7e
  if (printable(b0) && printable(b1) && printable(b2) && printable(b3)) {
    const text = String.fromCharCode(b0, b1, b2, b3)
    return ` The bytes spell ${JSON.stringify(text)}: the peer is probably speaking ` +
      (/^(GET |POST|PUT |HEAD|HTTP|PRI |DELE|OPTI|PATC)/.test(text) ? "HTTP" : "a text protocol") +
      ", not RocketMQ remoting. Check that the address is a name server or broker remoting port."
  }
  return ""
}

/**
 * Checks a length prefix (the int32 at the start of a frame) against the limits. Returns the total
 * frame length including the prefix, or the error.
 */
const checkLength = (
  length: number,
  maxFrameLength: number,
  b0: number,
  b1: number,
  b2: number,
  b3: number
): number | FrameDecodeError => {
  if (length < 0) {
    return new FrameDecodeError({
      reason: "FrameTooLarge",
      message: `Frame length is negative (${length}, ${hex32(length)}): the peer is not speaking RocketMQ remoting ` +
        "or the stream is out of step." + foreignProtocolHint(b0, b1, b2, b3)
    })
  }
  if (length > maxFrameLength - 4) {
    return new FrameDecodeError({
      reason: "FrameTooLarge",
      message: `Frame length ${length} (${hex32(length)}) plus its 4-byte prefix exceeds the maximum frame ` +
        `length of ${maxFrameLength} bytes.` +
        (foreignProtocolHint(b0, b1, b2, b3) ||
          " If the peer really sends frames this large, raise maxFrameLength on both sides (Java: " +
            "-Dcom.rocketmq.remoting.frameMaxLength).")
    })
  }
  if (length < 4) {
    return new FrameDecodeError({
      reason: "FrameTooSmall",
      message: `Frame length ${length} is smaller than the 4-byte header-length field every frame starts with: ` +
        "the peer is not speaking RocketMQ remoting."
    })
  }
  return length + 4
}

/**
 * The total length (prefix included) of the frame whose 4-byte prefix starts at `bytes[at]`, checked
 * against the limits, or the error.
 *
 * @internal
 */
export const frameLengthAt = (bytes: Buffer, at: number, maxFrameLength: number): number | FrameDecodeError =>
  checkLength(bytes.readInt32BE(at), maxFrameLength, bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!)

/**
 * Decodes the frame occupying `bytes[start, start + total)`; the length prefix is already checked.
 * The body is a view of `bytes`, or its own copy with `copyBody` (for a buffer that is reused).
 *
 * @internal
 */
export const decodeFrameAt = (
  bytes: Buffer,
  start: number,
  total: number,
  copyBody = false
): RemotingCommand | FrameDecodeError => {
  const type = bytes[start + 4]!
  const headerLength = (bytes[start + 5]! << 16) | (bytes[start + 6]! << 8) | bytes[start + 7]!
  const headerStart = start + 8
  const headerEnd = headerStart + headerLength
  const end = start + total
  if (headerLength > total - 8) {
    return new FrameDecodeError({
      reason: "HeaderLengthOutOfRange",
      message: `Header length ${headerLength} exceeds the ${total - 8} bytes the frame has after its marker word: ` +
        "the peer is not speaking RocketMQ remoting or the stream is out of step."
    })
  }
  const body = headerEnd === end ? undefined : copyBody ? copyRange(bytes, headerEnd, end) : bytes.subarray(headerEnd, end)
  if (type === TYPE_JSON) return JsonHeader.decodeJsonHeader(bytes, headerStart, headerEnd, body)
  if (type === TYPE_ROCKETMQ) return BinaryHeader.decodeBinaryHeader(bytes, headerStart, headerEnd, body)
  return new FrameDecodeError({
    reason: "UnknownSerializeType",
    message: `Serialize type byte ${type} (0x${type.toString(16).padStart(2, "0")}) is neither JSON (0) nor ` +
      "ROCKETMQ (1): the peer is not speaking RocketMQ remoting."
  })
}

/**
 * Decodes one whole frame, length prefix included. Fails when the prefix does not announce exactly
 * the bytes given, or when it exceeds `maxFrameLength` (default {@link DEFAULT_MAX_FRAME_LENGTH}).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeFrame = (
  frame: Uint8Array,
  options?: { readonly maxFrameLength?: number | undefined }
): Effect.Effect<RemotingCommand, FrameDecodeError> =>
  Effect.suspend(() => {
    const out = decodeFrameSync(frame, options?.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH)
    return out instanceof FrameDecodeError ? Effect.fail(out) : Effect.succeed(out)
  })

const decodeFrameSync = (frame: Uint8Array, maxFrameLength: number): RemotingCommand | FrameDecodeError => {
  const bytes = asBuffer(frame)
  if (bytes.length < 4) {
    return new FrameDecodeError({
      reason: "TruncatedFrame",
      message: `A frame needs at least its 4-byte length prefix; got ${bytes.length} bytes.`
    })
  }
  const total = frameLengthAt(bytes, 0, maxFrameLength)
  if (typeof total !== "number") return total
  if (total !== bytes.length) {
    return new FrameDecodeError({
      reason: "TruncatedFrame",
      message: `The length prefix announces a ${total}-byte frame (prefix included) but ${bytes.length} bytes were given.`
    })
  }
  return decodeFrameAt(bytes, 0, total)
}

/**
 * Options of a {@link FrameDecoder}.
 *
 * @since 0.1.0
 * @category models
 */
export interface FrameDecoderOptions {
  /** Largest frame accepted, the 4-byte prefix included. Default {@link DEFAULT_MAX_FRAME_LENGTH}. */
  readonly maxFrameLength?: number | undefined
}

/**
 * Incremental frame decoder: feed it TCP chunks as they arrive, get complete commands.
 *
 * The length prefix is checked before any byte of the frame is buffered beyond what the socket
 * already delivered. A frame contained in one chunk is decoded in place (its body is a view of that
 * chunk); a frame spread over several chunks is copied once into its own buffer. After the first
 * error the decoder is terminal: every later push returns the same error.
 *
 * @since 0.1.0
 * @category decoding
 */
export class FrameDecoder {
  readonly maxFrameLength: number
  private chunks: Array<Buffer> = []
  /** Bytes of `chunks[0]` already consumed. */
  private offset = 0
  /** Unconsumed bytes across `chunks`. */
  private buffered = 0
  /** Total length (prefix included) of the frame being assembled, or -1 while its prefix is unread. */
  private expected = -1
  private failure: FrameDecodeError | undefined = undefined

  constructor(options?: FrameDecoderOptions) {
    this.maxFrameLength = options?.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH
  }

  /** Bytes received but not yet part of a complete frame. */
  get bufferedBytes(): number {
    return this.buffered
  }

  /** The error that made this decoder terminal, if any. */
  get error(): FrameDecodeError | undefined {
    return this.failure
  }

  /**
   * Feeds one chunk and calls `onCommand` for every command it completes, in order. Commands that
   * precede a bad frame are delivered before the error is returned (as Java processes them before
   * its decoder closes the channel).
   */
  pushEach(chunk: Uint8Array, onCommand: (command: RemotingCommand) => void): FrameDecodeError | undefined {
    if (this.failure !== undefined) return this.failure
    if (chunk.length === 0) return undefined
    this.chunks.push(asBuffer(chunk))
    this.buffered += chunk.length
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < 4) return undefined
        const expected = this.readLength()
        if (typeof expected !== "number") return this.fail(expected)
        this.expected = expected
      }
      const total = this.expected
      if (this.buffered < total) return undefined
      const head = this.chunks[0]!
      let out: RemotingCommand | FrameDecodeError
      if (head.length - this.offset >= total) {
        out = decodeFrameAt(head, this.offset, total)
        this.offset += total
        if (this.offset === head.length) {
          this.chunks.shift()
          this.offset = 0
        }
      } else {
        out = decodeFrameAt(this.take(total), 0, total)
      }
      this.buffered -= total
      this.expected = -1
      if (out instanceof FrameDecodeError) return this.fail(out)
      onCommand(out)
    }
  }

  /**
   * Feeds one chunk and returns the commands it completes, or the error that made the decoder
   * terminal (use {@link pushEach} to also receive the commands that preceded a bad frame).
   */
  push(chunk: Uint8Array): Result.Result<ReadonlyArray<RemotingCommand>, FrameDecodeError> {
    const commands: Array<RemotingCommand> = []
    const error = this.pushEach(chunk, (command) => commands.push(command))
    return error === undefined ? Result.succeed(commands) : Result.fail(error)
  }

  private fail(error: FrameDecodeError): FrameDecodeError {
    this.failure = error
    this.chunks = []
    this.offset = 0
    this.buffered = 0
    return error
  }

  /** Reads the 4-byte length prefix at the head (it may span chunks) and checks it. */
  private readLength(): number | FrameDecodeError {
    const head = this.chunks[0]!
    let b0: number, b1: number, b2: number, b3: number
    if (head.length - this.offset >= 4) {
      b0 = head[this.offset]!
      b1 = head[this.offset + 1]!
      b2 = head[this.offset + 2]!
      b3 = head[this.offset + 3]!
    } else {
      const bytes: Array<number> = []
      let chunkIndex = 0
      let pos = this.offset
      while (bytes.length < 4) {
        const chunk = this.chunks[chunkIndex]!
        if (pos < chunk.length) bytes.push(chunk[pos++]!)
        else {
          chunkIndex++
          pos = 0
        }
      }
      ;[b0, b1, b2, b3] = bytes as [number, number, number, number]
    }
    const length = ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) | 0
    return checkLength(length, this.maxFrameLength, b0, b1, b2, b3)
  }

  /** Removes `total` bytes from the head of the chunk list into one new buffer (the only copy). */
  private take(total: number): Buffer {
    const out = Buffer.allocUnsafe(total)
    let filled = 0
    let used = 0
    while (filled < total) {
      const chunk = this.chunks[used]!
      const available = chunk.length - this.offset
      const n = Math.min(available, total - filled)
      chunk.copy(out, filled, this.offset, this.offset + n)
      filled += n
      if (n === available) {
        used++
        this.offset = 0
      } else {
        this.offset += n
      }
    }
    this.chunks.splice(0, used)
    return out
  }
}
