/**
 * The fast path of JSON header decoding: one pass over the bytes that understands what RocketMQ
 * peers write — one object whose members are numbers, strings, booleans, null and the
 * `extFields` object of strings — and builds the command directly, without JSON.parse's
 * intermediate objects or a UTF-8 pass over the whole header.
 *
 * Whenever the input leaves that shape (a nested value under an unknown key, a non-integer
 * number, a number inside extFields, malformed text, …) it returns `undefined` and the caller
 * falls back to JSON.parse, which decides — including every error. So both paths accept exactly
 * the same inputs and produce the same commands; a differential property test checks it.
 *
 * @internal
 */
import { Buffer } from "node:buffer"
import * as LanguageCode from "../LanguageCode.ts"
import type { ExtFields, RemotingCommand } from "../RemotingCommand.ts"
import { emptyExtFields, newExtFields, unsafeMake } from "../RemotingCommand.ts"
import { asciiKey } from "./keyCache.ts"

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const COLON = 0x3a
const OPEN = 0x7b
const CLOSE = 0x7d

// Top-level keys, recognised by length and bytes without making strings.
const K_CODE = 1
const K_EXT = 2
const K_FLAG = 3
const K_LANGUAGE = 4
const K_OPAQUE = 5
const K_REMARK = 6
const K_VERSION = 7
const K_OTHER = 0

const KEYS: ReadonlyArray<readonly [string, number]> = [
  ["code", K_CODE],
  ["flag", K_FLAG],
  ["opaque", K_OPAQUE],
  ["remark", K_REMARK],
  ["version", K_VERSION],
  ["language", K_LANGUAGE],
  ["extFields", K_EXT]
]

const same = (b: Buffer, from: number, to: number, word: string): boolean => {
  if (to - from !== word.length) return false
  for (let i = 0; i < word.length; i++) if (b[from + i] !== word.charCodeAt(i)) return false
  return true
}

const keyId = (b: Buffer, from: number, to: number): number => {
  for (let i = 0; i < KEYS.length; i++) if (same(b, from, to, KEYS[i]![0])) return KEYS[i]![1]
  return K_OTHER
}

const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/

// Parser state lives in module variables rather than in closures: no allocation per header, and
// V8 inlines the small functions below (a closure-based version was 2x slower than JSON.parse).
/** The position after whitespace at `pos`. */
const skipWs = (b: Buffer, pos: number, end: number): number => {
  while (pos < end) {
    const c = b[pos]!
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break
    pos++
  }
  return pos
}

/**
 * With `pos` just after an opening quote: the position of the closing quote when the string has
 * no escapes, no control characters and no non-ASCII bytes; otherwise -1.
 */
const plainStringEnd = (b: Buffer, pos: number, end: number): number => {
  for (; pos < end; pos++) {
    const c = b[pos]!
    if (c === QUOTE) return pos
    if (c === BACKSLASH || c >= 0x80 || c < 0x20) return -1
  }
  return -1
}

/** With `pos` just after an opening quote: the position after the closing quote, escapes skipped; -1 if none. */
const anyStringEnd = (b: Buffer, pos: number, end: number): number => {
  for (; pos < end; pos++) {
    const c = b[pos]!
    if (c === BACKSLASH) pos++
    else if (c === QUOTE) return pos + 1
  }
  return -1
}

const matches = (b: Buffer, pos: number, word: string): boolean => {
  for (let i = 0; i < word.length; i++) if (b[pos + i] !== word.charCodeAt(i)) return false
  return true
}

/** The string of a JSON string literal spanning [open, close] (quotes included), through JSON.parse. */
const decodeEscaped = (b: Buffer, open: number, afterClose: number): string | undefined => {
  try {
    const s: unknown = JSON.parse(b.toString("utf8", open, afterClose))
    return typeof s === "string" ? s : undefined
  } catch {
    return undefined
  }
}

/** The language whose name is spelled at `pos` and closed by a quote, if any. */
const languageAt = (b: Buffer, pos: number, end: number): LanguageCode.LanguageCode | undefined => {
  const all = LanguageCode.all
  for (let i = 0; i < all.length; i++) {
    const name = all[i]!
    if (pos + name.length < end && b[pos + name.length] === QUOTE && matches(b, pos, name)) return name
  }
  return undefined
}

const NUMBER_CHARS = (c: number) => (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d

// What the readers below produce besides the position they return (-1: not this path's input).
// Module variables, not objects: no allocation per value, and decode is never re-entered.
let header: Buffer
let headerStart = 0
let headerEnd = 0
let latin1: string | undefined
let intValue = 0
let stringValue: string | undefined
let extValue: ExtFields = emptyExtFields

/** The header's bytes [from, to) as text, when they are ASCII (one latin1 string per header). */
const asciiText = (from: number, to: number): string =>
  (latin1 ??= header.toString("latin1", headerStart, headerEnd)).substring(from - headerStart, to - headerStart)

/** A 32-bit integer or null (as 0) at `pos`, into `intValue`. */
const readInt = (b: Buffer, pos: number, end: number): number => {
  intValue = 0
  const c = b[pos]
  if (c === 0x6e) return matches(b, pos, "null") ? pos + 4 : -1
  const negative = c === 0x2d
  if (negative) pos++
  const digits = pos
  let value = 0
  while (pos < end) {
    const d = b[pos]!
    if (d < 0x30 || d > 0x39) break
    value = value * 10 + (d - 0x30)
    pos++
  }
  const n = pos - digits
  if (n === 0 || n > 10 || (b[digits] === 0x30 && (n > 1 || negative))) return -1
  const next = b[pos]
  if (next === 0x2e || next === 0x65 || next === 0x45) return -1
  if (negative) value = -value
  if (value > 2147483647 || value < -2147483648) return -1
  intValue = value
  return pos
}

/** A string literal at `pos` (its opening quote), into `stringValue`. */
const readString = (b: Buffer, pos: number, end: number): number => {
  const to = plainStringEnd(b, pos + 1, end)
  if (to >= 0) {
    stringValue = asciiText(pos + 1, to)
    return to + 1
  }
  const after = anyStringEnd(b, pos + 1, end)
  if (after < 0) return -1
  stringValue = decodeEscaped(b, pos, after)
  return stringValue === undefined ? -1 : after
}

/** A string or null at `pos`, into `stringValue` (undefined for null). */
const readOptionalString = (b: Buffer, pos: number, end: number): number => {
  stringValue = undefined
  const c = b[pos]
  if (c === 0x6e) return matches(b, pos, "null") ? pos + 4 : -1
  return c === QUOTE ? readString(b, pos, end) : -1
}

/** An ext field key at `pos` (its opening quote); plain keys come from the key cache. */
const readKey = (b: Buffer, pos: number, end: number): number => {
  const from = pos + 1
  const to = plainStringEnd(b, from, end)
  if (to < 0) return readString(b, pos, end)
  stringValue = asciiKey(b, from, to, () => asciiText(from, to))
  return to + 1
}

/** The value of one ext field: a string, or true/false as text. Null, numbers and nesting are JSON.parse's. */
const readExtValue = (b: Buffer, pos: number, end: number): number => {
  const v = b[pos]
  if (v === QUOTE) return readString(b, pos, end)
  if (v === 0x74 && matches(b, pos, "true")) {
    stringValue = "true"
    return pos + 4
  }
  if (v === 0x66 && matches(b, pos, "false")) {
    stringValue = "false"
    return pos + 5
  }
  return -1
}

/** The `extFields` object (or null) at `pos`, into `extValue`. */
const readExtFields = (b: Buffer, pos: number, end: number): number => {
  extValue = emptyExtFields
  const c = b[pos]
  if (c === 0x6e) return matches(b, pos, "null") ? pos + 4 : -1
  if (c !== OPEN) return -1
  pos = skipWs(b, pos + 1, end)
  if (b[pos] === CLOSE) return pos + 1
  const out = newExtFields()
  for (;;) {
    if (b[pos] !== QUOTE) return -1
    pos = readKey(b, pos, end)
    if (pos < 0) return -1
    const key = stringValue!
    pos = skipWs(b, pos, end)
    if (b[pos] !== COLON) return -1
    pos = readExtValue(b, skipWs(b, pos + 1, end), end)
    if (pos < 0) return -1
    out[key] = stringValue!
    pos = skipWs(b, pos, end)
    const d = b[pos++]
    if (d === CLOSE) break
    if (d !== COMMA) return -1
    pos = skipWs(b, pos, end)
  }
  extValue = out
  return pos
}

/** Skips the primitive value of a key this path does not read; nested values are JSON.parse's. */
const skipValue = (b: Buffer, pos: number, end: number): number => {
  const c = b[pos]
  if (c === QUOTE) {
    const after = anyStringEnd(b, pos + 1, end)
    if (after < 0) return -1
    return plainStringEnd(b, pos + 1, end) < 0 && decodeEscaped(b, pos, after) === undefined ? -1 : after
  }
  if (c === 0x6e) return matches(b, pos, "null") ? pos + 4 : -1
  if (c === 0x74) return matches(b, pos, "true") ? pos + 4 : -1
  if (c === 0x66) return matches(b, pos, "false") ? pos + 5 : -1
  if (c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39)) {
    const from = pos++
    while (pos < end && NUMBER_CHARS(b[pos]!)) pos++
    return JSON_NUMBER.test(b.toString("latin1", from, pos)) ? pos : -1
  }
  return -1
}

const EMPTY = Buffer.alloc(0)

export const decode = (
  b: Buffer,
  start: number,
  end: number,
  body: Uint8Array | undefined
): RemotingCommand | undefined => {
  header = b
  headerStart = start
  headerEnd = end
  latin1 = undefined
  const command = decodeObject(b, start, end, body)
  // Not kept past this call: the frame's buffer and its text can be large.
  header = EMPTY
  latin1 = undefined
  return command
}

const decodeObject = (
  b: Buffer,
  start: number,
  end: number,
  body: Uint8Array | undefined
): RemotingCommand | undefined => {
  let pos = skipWs(b, start, end)
  if (b[pos] !== OPEN) return undefined
  pos = skipWs(b, pos + 1, end)
  let code = 0
  let flag = 0
  let opaque = 0
  let version = 0
  let language: LanguageCode.LanguageCode = "JAVA"
  let remark: string | undefined
  let extFields: ExtFields = emptyExtFields
  if (b[pos] === CLOSE) pos++
  else {
    for (;;) {
      if (b[pos] !== QUOTE) return undefined
      const keyFrom = pos + 1
      const keyTo = plainStringEnd(b, keyFrom, end)
      if (keyTo < 0) return undefined
      const id = keyId(b, keyFrom, keyTo)
      pos = skipWs(b, keyTo + 1, end)
      if (b[pos] !== COLON) return undefined
      pos = skipWs(b, pos + 1, end)
      if (id === K_CODE || id === K_FLAG || id === K_OPAQUE || id === K_VERSION) {
        pos = readInt(b, pos, end)
        if (id === K_CODE) code = intValue
        else if (id === K_FLAG) flag = intValue
        else if (id === K_OPAQUE) opaque = intValue
        else version = intValue
      } else if (id === K_LANGUAGE && b[pos] === QUOTE && languageAt(b, pos + 1, end) !== undefined) {
        // A known language name, recognised by its bytes: no string is made for it.
        language = languageAt(b, pos + 1, end)!
        pos += language.length + 2
      } else if (id === K_LANGUAGE) {
        pos = readOptionalString(b, pos, end)
        language = stringValue === undefined ? "JAVA" : LanguageCode.fromName(stringValue)
      } else if (id === K_REMARK) {
        pos = readOptionalString(b, pos, end)
        remark = stringValue
      } else if (id === K_EXT) {
        pos = readExtFields(b, pos, end)
        extFields = extValue
      } else {
        pos = skipValue(b, pos, end)
      }
      if (pos < 0) return undefined
      pos = skipWs(b, pos, end)
      const d = b[pos++]
      if (d === CLOSE) break
      if (d !== COMMA) return undefined
      pos = skipWs(b, pos, end)
    }
  }
  if (skipWs(b, pos, end) !== end) return undefined
  return unsafeMake(code, language, version, opaque, flag, remark, extFields, body)
}
