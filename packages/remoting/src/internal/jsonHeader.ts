/**
 * JSON headers (serialize type 0): written straight to bytes in Java's layout, read by the fast
 * path (`fastJsonHeader.ts`) or, for anything it declines, by JSON.parse.
 *
 * @internal
 */
import { Buffer } from "node:buffer"
import * as LanguageCode from "../LanguageCode.ts"
import type { ExtFields, RemotingCommand } from "../RemotingCommand.ts"
import { emptyExtFields, newExtFields, unsafeMake } from "../RemotingCommand.ts"
import { FrameDecodeError } from "../RemotingError.ts"
import * as FastJsonHeader from "./fastJsonHeader.ts"
import { copyScratch, reserve, safeExt, scratchText } from "./headerScratch.ts"

/** The JSON header text of `command` (see `Codec.encodeJsonHeaderText`). */
export const encodeJsonHeaderText = (command: RemotingCommand): string =>
  scratchText(writeJsonHeader(command, command.opaque))

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

export const encodeJsonHeader = (command: RemotingCommand, opaque: number): Buffer => copyScratch(writeJsonHeader(command, opaque))

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

export const decodeJsonHeader = (
  bytes: Buffer,
  start: number,
  end: number,
  body: Uint8Array | undefined
): RemotingCommand | FrameDecodeError => FastJsonHeader.decode(bytes, start, end, body) ?? decodeJsonHeaderSlow(bytes, start, end, body)

/**
 * JSON headers through JSON.parse: the reference behaviour, and the path for everything the fast
 * path (fastJsonHeader.ts) does not take, errors included.
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

/** The command a parsed JSON header describes (Java's reader rules: unknown keys ignored, missing ones defaulted, nulls as absent). */
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
