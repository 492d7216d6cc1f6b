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
 * bodies are views into those bytes.
 *
 * @since 0.1.0
 */
import { Buffer } from "node:buffer"
import { Effect, Result } from "effect"
import * as LanguageCode from "./LanguageCode.ts"
import type { ExtFields, RemotingCommand } from "./RemotingCommand.ts"
import { emptyExtFields, extFieldsFrom, isSafeExtFields, newExtFields, unsafeMake } from "./RemotingCommand.ts"
import * as FastJsonHeader from "./internal/fastJsonHeader.ts"
import { asciiKey } from "./internal/keyCache.ts"
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

// Headers are written into one reusable scratch buffer, then copied out once. `reserve` grows it
// (keeping the bytes written so far) so the encoders make a single pass over the command.
let scratch = Buffer.allocUnsafe(8192)

const reserve = (pos: number, extra: number): Buffer => {
  if (pos + extra > scratch.length) {
    const next = Buffer.allocUnsafe(Math.max(scratch.length * 2, pos + extra))
    scratch.copy(next, 0, 0, pos)
    scratch = next
  }
  return scratch
}

/** The command's ext fields as an object `for…in` may walk (own keys only). */
const safeExt = (command: RemotingCommand): ExtFields =>
  isSafeExtFields(command.extFields) ? command.extFields : extFieldsFrom(command.extFields)

const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

// -------------------------------------------------------------------------------------------------
// JSON header
// -------------------------------------------------------------------------------------------------

/**
 * The JSON header text in Java's own layout: top-level keys in alphabetical order (fastjson's
 * `SortField`), `remark` left out when absent, `extFields` left out when empty, `extFields` in the
 * command's key order. The same bytes the frame encoder writes, as text.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeJsonHeaderText = (command: RemotingCommand): string =>
  scratch.toString("utf8", 0, writeJsonHeader(command, command.opaque))

// --- JSON header straight to bytes ---------------------------------------------------------------
// Written byte by byte into a buffer: no intermediate string, no UTF-8 pass over it, no length
// measuring. ASCII is written char by char; a string with other characters falls back to
// JSON.stringify (which escapes a lone surrogate instead of letting UTF-8 replace it) and a native
// UTF-8 write for its remainder.

const HEX = "0123456789abcdef"

const writeAsciiLiteral = (buf: Buffer, pos: number, literal: Uint8Array): number => {
  for (let i = 0; i < literal.length; i++) buf[pos + i] = literal[i]!
  return pos + literal.length
}

const writeInt = (buf: Buffer, pos: number, n: number): number => {
  if (n < 0) {
    buf[pos++] = 0x2d
    if (n === -2147483648) return writeAsciiLiteral(buf, pos, MIN_INT_DIGITS)
    n = -n
  }
  if (n < 10) {
    buf[pos] = 0x30 + n
    return pos + 1
  }
  let digits = 0
  for (let m = n; m > 0; m = (m / 10) | 0) digits++
  let end = pos + digits
  for (let i = end - 1; i >= pos; i--) {
    buf[i] = 0x30 + (n % 10)
    n = (n / 10) | 0
  }
  return end
}

const MIN_INT_DIGITS = Buffer.from("2147483648", "latin1")

const writeJsonString = (buf: Buffer, pos: number, s: string): number => {
  buf[pos++] = 0x22
  const n = s.length
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0x20 && c < 0x80 && c !== 0x22 && c !== 0x5c) {
      buf[pos++] = c
    } else if (c < 0x80) {
      buf[pos++] = 0x5c
      switch (c) {
        case 0x22:
          buf[pos++] = 0x22
          break
        case 0x5c:
          buf[pos++] = 0x5c
          break
        case 0x08:
          buf[pos++] = 0x62
          break
        case 0x0c:
          buf[pos++] = 0x66
          break
        case 0x0a:
          buf[pos++] = 0x6e
          break
        case 0x0d:
          buf[pos++] = 0x72
          break
        case 0x09:
          buf[pos++] = 0x74
          break
        default:
          buf[pos++] = 0x75
          buf[pos++] = 0x30
          buf[pos++] = 0x30
          buf[pos++] = HEX.charCodeAt(c >> 4)
          buf[pos++] = HEX.charCodeAt(c & 15)
      }
    } else {
      // Non-ASCII: JSON.stringify escapes lone surrogates and leaves the rest as is.
      const rest = JSON.stringify(s.slice(i))
      pos += buf.write(rest.slice(1, -1), pos, "utf8")
      break
    }
  }
  buf[pos++] = 0x22
  return pos
}

const ascii = (s: string) => Buffer.from(s, "latin1")
const J_CODE = ascii("{\"code\":")
const J_EXT = ascii(",\"extFields\":{")
const J_FLAG = ascii(",\"flag\":")
const J_LANGUAGE = ascii(",\"language\":\"")
const J_OPAQUE = ascii("\",\"opaque\":")
const J_REMARK = ascii(",\"remark\":")
const J_TAIL = ascii(",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":")
const LANGUAGE_BYTES = LanguageCode.all.map(ascii)

/** Writes the JSON header of `command` into the scratch buffer; returns its length. */
const writeJsonHeader = (command: RemotingCommand, opaque: number): number => {
  // 6 bytes per UTF-16 unit bounds every escape; 64 covers the punctuation around an entry.
  let buf = reserve(0, 256)
  let pos = writeInt(buf, writeAsciiLiteral(buf, 0, J_CODE), command.code)
  const ext = safeExt(command)
  let first = true
  for (const key in ext) {
    const value = ext[key]!
    buf = reserve(pos, 64 + (key.length + value.length) * 6)
    if (first) {
      pos = writeAsciiLiteral(buf, pos, J_EXT)
      first = false
    } else buf[pos++] = 0x2c
    pos = writeJsonString(buf, pos, key)
    buf[pos++] = 0x3a
    pos = writeJsonString(buf, pos, value)
  }
  if (!first) buf[pos++] = 0x7d
  buf = reserve(pos, 200 + (command.remark === undefined ? 0 : command.remark.length * 6))
  pos = writeInt(buf, writeAsciiLiteral(buf, pos, J_FLAG), command.flag)
  pos = writeAsciiLiteral(buf, writeAsciiLiteral(buf, pos, J_LANGUAGE), LANGUAGE_BYTES[LanguageCode.toByte(command.language)]!)
  pos = writeInt(buf, writeAsciiLiteral(buf, pos, J_OPAQUE), opaque)
  if (command.remark !== undefined) pos = writeJsonString(buf, writeAsciiLiteral(buf, pos, J_REMARK), command.remark)
  pos = writeInt(buf, writeAsciiLiteral(buf, pos, J_TAIL), command.version)
  buf[pos++] = 0x7d
  return pos
}

/** The scratch bytes [0, length) in a buffer of their own (one allocation, one copy). */
const copyScratch = (length: number): Buffer => {
  const out = Buffer.allocUnsafe(length)
  scratch.copy(out, 0, 0, length)
  return out
}

const encodeJsonHeader = (command: RemotingCommand, opaque: number): Buffer => copyScratch(writeJsonHeader(command, opaque))

const isInt32 = (u: unknown): u is number => typeof u === "number" && (u | 0) === u

const preview = (text: string): string => JSON.stringify(text.length > 80 ? text.slice(0, 80) + "…" : text)

const malformedJson = (detail: string): FrameDecodeError =>
  new FrameDecodeError({
    reason: "MalformedJsonHeader",
    message: `Malformed JSON header: ${detail}. The peer sent a frame that is not a RocketMQ remoting command; ` +
      "the connection cannot be trusted any more and is closed."
  })

const intField = (header: Record<string, unknown>, key: string, fallback: number): number | FrameDecodeError => {
  const value = header[key]
  if (value === undefined || value === null) return fallback
  return isInt32(value) ? value : malformedJson(`"${key}" is ${JSON.stringify(value)}, expected a 32-bit integer`)
}

const readExtFieldsJson = (value: unknown): ExtFields | FrameDecodeError => {
  if (value === undefined || value === null) return emptyExtFields
  if (typeof value !== "object" || Array.isArray(value)) {
    return malformedJson(`"extFields" is ${Array.isArray(value) ? "an array" : typeof value}, expected an object of strings`)
  }
  const source = value as Record<string, unknown>
  const keys = Object.keys(source)
  if (keys.length === 0) return emptyExtFields
  // A copy without Object.prototype in its chain: a "__proto__" key from the wire stays a plain key.
  const out = newExtFields()
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!
    const v = source[key]
    if (typeof v === "string") out[key] = v
    else if (typeof v === "number" || typeof v === "boolean") out[key] = String(v)
    else if (v !== null) {
      return malformedJson(`extFields[${JSON.stringify(key)}] is ${Array.isArray(v) ? "an array" : typeof v}, expected a string`)
    }
    // null: Java's map holds null, which is the same as absent for every header reader.
  }
  return out
}

const decodeJsonHeader = (
  bytes: Buffer,
  start: number,
  end: number,
  body: Uint8Array | undefined
): RemotingCommand | FrameDecodeError => FastJsonHeader.decode(bytes, start, end, body) ?? decodeJsonHeaderSlow(bytes, start, end, body)

/**
 * JSON headers through JSON.parse: the reference behaviour, and the path for everything the fast
 * path (internal/fastJsonHeader.ts) does not take, errors included.
 */
const decodeJsonHeaderSlow = (
  bytes: Buffer,
  start: number,
  end: number,
  body: Uint8Array | undefined
): RemotingCommand | FrameDecodeError => {
  const text = bytes.toString("utf8", start, end)
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (e) {
    return malformedJson(`${(e as Error).message} in ${preview(text)}`)
  }
  return fromJsonValue(parsed, text, body)
}

/**
 * The command a parsed JSON header describes (Java's reader rules: unknown keys ignored, missing
 * ones defaulted, nulls as absent).
 *
 * @internal
 */
export const fromJsonValue = (
  parsed: unknown,
  text: string,
  body: Uint8Array | undefined
): RemotingCommand | FrameDecodeError => {
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return malformedJson(`expected a JSON object, got ${preview(text)}`)
  }
  const header = parsed as Record<string, unknown>
  const code = intField(header, "code", 0)
  if (typeof code !== "number") return code
  const version = intField(header, "version", 0)
  if (typeof version !== "number") return version
  const opaque = intField(header, "opaque", 0)
  if (typeof opaque !== "number") return opaque
  const flag = intField(header, "flag", 0)
  if (typeof flag !== "number") return flag
  const language = header.language
  if (language !== undefined && language !== null && typeof language !== "string") {
    return malformedJson(`"language" is ${JSON.stringify(language)}, expected a name such as "JAVA"`)
  }
  const remark = header.remark
  if (remark !== undefined && remark !== null && typeof remark !== "string") {
    return malformedJson(`"remark" is ${JSON.stringify(remark)}, expected a string`)
  }
  const extFields = readExtFieldsJson(header.extFields)
  if (extFields instanceof FrameDecodeError) return extFields
  return unsafeMake(
    code,
    typeof language === "string" ? LanguageCode.fromName(language) : "JAVA",
    version,
    opaque,
    flag,
    typeof remark === "string" ? remark : undefined,
    extFields,
    body
  )
}

// -------------------------------------------------------------------------------------------------
// ROCKETMQ binary header
// -------------------------------------------------------------------------------------------------

/**
 * Writes `s` as UTF-8 at `pos`; returns the byte count. Short ASCII strings (header keys and
 * values, nearly always) are copied char by char: a native `write` costs ~100 ns of call overhead
 * per string, 3x the whole copy.
 */
const writeUtf8 = (buf: Buffer, s: string, pos: number): number => {
  const n = s.length
  if (n <= 64) {
    let i = 0
    for (; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) break
      buf[pos + i] = c
    }
    if (i === n) return n
  }
  return buf.write(s, pos, "utf8")
}

const fitsInt16 = (n: number): boolean => n >= -32768 && n <= 32767

/**
 * Whether a command can be carried by a ROCKETMQ binary header: `code` and `version` must fit the
 * 16-bit fields (Java would silently write `code & 0xFFFF`, turning e.g. POP_MESSAGE 200050 into
 * another code) and every ext key must fit a signed 16-bit length. Commands that cannot are sent
 * as JSON.
 *
 * @since 0.1.0
 * @category encoding
 */
export const fitsBinaryHeader = (command: RemotingCommand): boolean => {
  if (!fitsInt16(command.code) || !fitsInt16(command.version)) return false
  const ext = safeExt(command)
  for (const key in ext) {
    // 3 bytes per UTF-16 unit is the UTF-8 worst case; only measure when it could matter.
    if (key.length * 3 > 32767 && Buffer.byteLength(key, "utf8") > 32767) return false
  }
  return true
}

/**
 * Writes the ROCKETMQ binary header into the scratch buffer; returns its length, or -1 when a key
 * turns out longer than a signed 16-bit length allows (the caller then uses JSON). Zero-length
 * strings mean null to Java, so an empty remark is written as none and ext entries with an empty
 * key are skipped; an empty value is written with length 0 (the peer reads it as absent).
 */
const writeBinaryHeader = (command: RemotingCommand, opaque: number): number => {
  const remark = command.remark
  let buf = reserve(0, 21 + (remark === undefined ? 0 : remark.length * 3))
  buf.writeInt16BE(command.code, 0)
  buf[2] = LanguageCode.toByte(command.language)
  buf.writeInt16BE(command.version, 3)
  buf.writeInt32BE(opaque, 5)
  buf.writeInt32BE(command.flag, 9)
  let pos = 17
  const remarkLength = remark === undefined || remark.length === 0 ? 0 : writeUtf8(buf, remark, pos)
  buf.writeInt32BE(remarkLength, 13)
  pos += remarkLength
  const extStart = pos + 4
  pos = extStart
  const ext = safeExt(command)
  for (const key in ext) {
    if (key.length === 0) continue
    const value = ext[key]!
    buf = reserve(pos, 6 + (key.length + value.length) * 3)
    const keyLength = writeUtf8(buf, key, pos + 2)
    if (keyLength > 32767) return -1
    buf.writeInt16BE(keyLength, pos)
    pos += 2 + keyLength
    const valueLength = value.length === 0 ? 0 : writeUtf8(buf, value, pos + 4)
    buf.writeInt32BE(valueLength, pos)
    pos += 4 + valueLength
  }
  buf.writeInt32BE(pos - extStart, extStart - 4)
  return pos
}

const encodeBinaryHeader = (command: RemotingCommand, opaque: number): Buffer | undefined => {
  if (!fitsInt16(command.code) || !fitsInt16(command.version)) return undefined
  const length = writeBinaryHeader(command, opaque)
  return length < 0 ? undefined : copyScratch(length)
}

const malformedBinary = (detail: string): FrameDecodeError =>
  new FrameDecodeError({
    reason: "MalformedBinaryHeader",
    message: `Malformed ROCKETMQ binary header: ${detail}. The peer sent a frame that is not a RocketMQ remoting ` +
      "command; the connection cannot be trusted any more and is closed."
  })

const HIGH_BYTE = /[\x80-\xff]/


const decodeBinaryHeader = (
  bytes: Buffer,
  start: number,
  end: number,
  body: Uint8Array | undefined
): RemotingCommand | FrameDecodeError => {
  const size = end - start
  if (size < 21) return malformedBinary(`header is ${size} bytes, the fixed part alone is 21`)
  const code = bytes.readInt16BE(start)
  const language = LanguageCode.fromByte(bytes[start + 2]!)
  const version = bytes.readInt16BE(start + 3)
  const opaque = bytes.readInt32BE(start + 5)
  const flag = bytes.readInt32BE(start + 9)
  const remarkLength = bytes.readInt32BE(start + 13)
  let pos = start + 17
  if (remarkLength < 0 || remarkLength > end - pos - 4) {
    return malformedBinary(`remark length ${remarkLength} does not fit in the ${size}-byte header`)
  }
  // The header is turned into one latin1 string once; an ASCII key or value (the usual case) is a
  // substring of it. One native call instead of one per key and value: ~9x faster at 16 fields.
  // When some byte is >= 0x80 (a non-ASCII string, or just a length field such as 200 = 0xC8),
  // each string is checked on its own.
  const latin1 = bytes.toString("latin1", pos, end)
  const allAscii = !HIGH_BYTE.test(latin1)
  const base = pos
  const isAsciiAt = (from: number, to: number): boolean => {
    if (allAscii) return true
    for (let i = from; i < to; i++) if (bytes[i]! >= 0x80) return false
    return true
  }
  const str = (from: number, to: number): string =>
    isAsciiAt(from, to) ? latin1.substring(from - base, to - base) : bytes.toString("utf8", from, to)
  const remark = remarkLength === 0 ? undefined : str(pos, pos + remarkLength)
  pos += remarkLength
  const extLength = bytes.readInt32BE(pos)
  pos += 4
  if (extLength < 0 || extLength !== end - pos) {
    return malformedBinary(`ext fields length ${extLength} does not match the ${end - pos} bytes left in the header`)
  }
  let extFields: ExtFields = emptyExtFields
  if (extLength > 0) {
    const out = newExtFields()
    while (pos < end) {
      if (end - pos < 6) return malformedBinary(`ext fields end in the middle of an entry`)
      const keyLength = bytes.readInt16BE(pos)
      pos += 2
      if (keyLength < 0 || keyLength > end - pos - 4) {
        return malformedBinary(`ext key length ${keyLength} runs past the end of the header`)
      }
      const key = keyLength <= 64 && isAsciiAt(pos, pos + keyLength)
        ? asciiKey(bytes, pos, pos + keyLength, () => latin1.substring(pos - base, pos + keyLength - base))
        : str(pos, pos + keyLength)
      pos += keyLength
      const valueLength = bytes.readInt32BE(pos)
      pos += 4
      if (valueLength < 0 || valueLength > end - pos) {
        return malformedBinary(`ext value length ${valueLength} for key ${JSON.stringify(key)} runs past the end of the header`)
      }
      // Zero-length key or value is null to Java: the entry is absent. Duplicates: last wins.
      if (keyLength > 0 && valueLength > 0) out[key] = str(pos, pos + valueLength)
      pos += valueLength
    }
    extFields = out
  }
  return unsafeMake(code, language, version, opaque, flag, remark, extFields, body)
}

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
    const header = encodeBinaryHeader(command, opaque)
    if (header !== undefined) {
      return { frameLength: 8 + header.length + bodyLength, headerLength: header.length, serializeType, header, body: command.body }
    }
  }
  const header = encodeJsonHeader(command, opaque)
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
  (serializeType === "ROCKETMQ" ? encodeBinaryHeader(command, command.opaque) : undefined) ??
    encodeJsonHeader(command, command.opaque)

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
    ? decodeJsonHeader(bytes, 0, bytes.length, undefined)
    : decodeBinaryHeader(bytes, 0, bytes.length, undefined)
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
 * Decodes the frame occupying `bytes[start, start + total)`; the length prefix is already checked.
 */
const decodeFrameAt = (bytes: Buffer, start: number, total: number): RemotingCommand | FrameDecodeError => {
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
  const body = headerEnd === end ? undefined : bytes.subarray(headerEnd, end)
  if (type === TYPE_JSON) return decodeJsonHeader(bytes, headerStart, headerEnd, body)
  if (type === TYPE_ROCKETMQ) return decodeBinaryHeader(bytes, headerStart, headerEnd, body)
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
  const total = checkLength(bytes.readInt32BE(0), maxFrameLength, bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!)
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
