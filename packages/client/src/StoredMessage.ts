/**
 * The stored message format: how a broker keeps a message in its commit log and returns it in
 * pull, query and view bodies (Java's `MessageDecoder.decode`). A record is, big-endian:
 * totalSize int32, magicCode int32, bodyCRC int32, queueId int32, flag int32, queueOffset int64,
 * physicalOffset int64, sysFlag int32, bornTimestamp int64, bornHost (4 or 16 address bytes +
 * port int32), storeTimestamp int64, storeHost (likewise), reconsumeTimes int32,
 * preparedTransactionOffset int64, bodyLength int32 + body, topicLength (int8 for V1, int16 for
 * V2) + topic, propertiesLength int16 + properties. A pull body is records back to back.
 *
 * Decoding checks every length against the record and the buffer: truncated or inconsistent
 * records, unknown magic codes and unsupported compression are {@link MessageDecodeError}s, never
 * exceptions. Unlike Java's decoder, which stops silently at the first bad record, a bad record
 * fails the whole body. Hosts are IPv4 unless sysFlag bit `0x10` (born host) or `0x20` (store
 * host) says IPv6. A body with sysFlag bit `0x1` is decompressed (ZLIB, compression type 0 or 3
 * in bits 8–10; LZ4 and ZSTD are refused) and the bit is cleared, as Java does. Bodies and other
 * byte fields are views of the input, not copies.
 *
 * The encoder writes the same format (what an in-memory broker stores); the IPv6 bits of sysFlag
 * follow the host addresses given, and the magic code follows the topic length unless chosen.
 * Nothing here does I/O.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { isIPv4, isIPv6 } from "node:net"
import * as zlib from "node:zlib"
import { MessageDecodeError, MessageEncodeError } from "./ClientError.ts"
import * as Properties from "./Properties.ts"

/**
 * Magic code of the V1 record (1-byte topic length).
 *
 * @since 0.1.0
 * @category constants
 */
export const MAGIC_CODE_V1 = 0xdaa320a7 | 0

/**
 * Magic code of the V2 record (2-byte topic length, needed for topics over 127 bytes).
 *
 * @since 0.1.0
 * @category constants
 */
export const MAGIC_CODE_V2 = 0xdaa320ab | 0

/**
 * Magic code that marks the unused end of a commit-log file; never a message.
 *
 * @since 0.1.0
 * @category constants
 */
export const BLANK_MAGIC_CODE = 0xcbd43194 | 0

/**
 * The bits of a message's `sysFlag` (Java's `MessageSysFlag`).
 *
 * @since 0.1.0
 * @category constants
 */
export const SysFlag = {
  COMPRESSED: 0x1,
  MULTI_TAGS: 0x2,
  TRANSACTION_PREPARED: 0x4,
  TRANSACTION_COMMIT: 0x8,
  TRANSACTION_ROLLBACK: 0xc,
  BORNHOST_V6: 0x10,
  STOREHOST_V6: 0x20,
  NEED_UNWRAP: 0x40,
  INNER_BATCH: 0x80,
  COMPRESSION_LZ4: 0x100,
  COMPRESSION_ZSTD: 0x200,
  COMPRESSION_ZLIB: 0x300,
  COMPRESSION_TYPE_MASK: 0x700
} as const

/**
 * Largest decompressed body accepted by default (64 MiB): a guard against compression bombs.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024

/**
 * A host and port. `host` is dotted IPv4, or IPv6 written as Java does (eight groups of lowercase
 * hex, no `::` shortening).
 *
 * @since 0.1.0
 * @category models
 */
export interface SocketAddress {
  readonly host: string
  readonly port: number
}

/**
 * A decoded stored message.
 *
 * @since 0.1.0
 * @category models
 */
export interface StoredMessage {
  /** `totalSize`: the record's length in bytes. */
  readonly storeSize: number
  readonly version: "V1" | "V2"
  /** CRC32 of the stored (possibly compressed) body, masked to 31 bits. */
  readonly bodyCrc: number
  readonly queueId: number
  /** The user flag of the message. */
  readonly flag: number
  readonly queueOffset: bigint
  /** The commit-log (physical) offset. */
  readonly commitLogOffset: bigint
  /** `MessageSysFlag` bits; `COMPRESSED` is cleared once the body has been decompressed. */
  readonly sysFlag: number
  /** Milliseconds since the epoch. */
  readonly bornTimestamp: number
  readonly bornHost: SocketAddress
  readonly storeTimestamp: number
  readonly storeHost: SocketAddress
  readonly reconsumeTimes: number
  readonly preparedTransactionOffset: bigint
  readonly body: Uint8Array
  readonly topic: string
  readonly properties: Properties.Properties
  /** The client message id: the `UNIQ_KEY` property when present, else {@link offsetMsgId}. */
  readonly msgId: string
  /** Store host and commit-log offset as uppercase hex (see {@link makeOffsetMsgId}). */
  readonly offsetMsgId: string
}

/**
 * What {@link encode} writes. `bodyCrc` defaults to the CRC32 of `body` masked to 31 bits;
 * `version` defaults to V1, or V2 when the topic takes more than 127 UTF-8 bytes.
 *
 * @since 0.1.0
 * @category models
 */
export interface StoredMessageInput {
  readonly version?: "V1" | "V2" | undefined
  readonly bodyCrc?: number | undefined
  readonly queueId: number
  readonly flag: number
  readonly queueOffset: bigint
  readonly commitLogOffset: bigint
  readonly sysFlag: number
  readonly bornTimestamp: number
  readonly bornHost: SocketAddress
  readonly storeTimestamp: number
  readonly storeHost: SocketAddress
  readonly reconsumeTimes: number
  readonly preparedTransactionOffset: bigint
  readonly body: Uint8Array
  readonly topic: string
  readonly properties: Properties.Properties
}

/**
 * Options of {@link decode}.
 *
 * @since 0.1.0
 * @category models
 */
export interface DecodeOptions {
  /** Decompress compressed bodies (default true). When false, bodies and sysFlag stay as stored. */
  readonly decompress?: boolean | undefined
  /** Largest decompressed body (default {@link DEFAULT_MAX_DECOMPRESSED_BYTES}). */
  readonly maxDecompressedBytes?: number | undefined
}

// ---------------------------------------------------------------------------------------------
// Hosts and message ids
// ---------------------------------------------------------------------------------------------

const HEX = "0123456789ABCDEF"

const toHex = (bytes: Uint8Array): string => {
  let out = ""
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]! >> 4]! + HEX[bytes[i]! & 0xf]!
  return out
}

const formatIp = (bytes: Uint8Array): string => {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`
  const groups: Array<string> = []
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16))
  return groups.join(":")
}

/** @internal: the 4 or 16 address bytes of a textual IPv4/IPv6 host, or undefined. */
export const parseIp = (host: string): Uint8Array | undefined => {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host
  if (isIPv4(bare)) return Uint8Array.from(bare.split(".").map(Number))
  if (!isIPv6(bare) || bare.includes("%")) return undefined
  let text = bare
  const tail: Array<number> = []
  const lastColon = text.lastIndexOf(":")
  const last = text.slice(lastColon + 1)
  if (last.includes(".")) {
    const parts = last.split(".").map(Number)
    tail.push((parts[0]! << 8) | parts[1]!, (parts[2]! << 8) | parts[3]!)
    text = text.slice(0, lastColon + 1) + "0:0"
  }
  const [head, rest] = text.includes("::") ? text.split("::") as [string, string] : [text, undefined]
  const parse = (s: string) => (s === "" ? [] : s.split(":").map((g) => parseInt(g, 16)))
  const left = parse(head)
  const right = rest === undefined ? [] : parse(rest)
  let groups = rest === undefined ? left : [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right]
  if (tail.length === 2) groups = [...groups.slice(0, 6), ...tail]
  if (groups.length !== 8) return undefined
  const out = new Uint8Array(16)
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i]! >> 8
    out[2 * i + 1] = groups[i]! & 0xff
  }
  return out
}

/**
 * The offset message id of a stored message: uppercase hex of the store host's address bytes
 * (4 or 16), its port (int32) and the commit-log offset (int64): 32 hex characters for IPv4, 56
 * for IPv6. `undefined` when `storeHost.host` is not an IP address.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeOffsetMsgId = (storeHost: SocketAddress, commitLogOffset: bigint): string | undefined => {
  const ip = parseIp(storeHost.host)
  if (ip === undefined) return undefined
  const buffer = Buffer.alloc(ip.length + 12)
  buffer.set(ip, 0)
  buffer.writeInt32BE(storeHost.port | 0, ip.length)
  buffer.writeBigInt64BE(BigInt.asIntN(64, commitLogOffset), ip.length + 4)
  return toHex(buffer)
}

/**
 * The store host and commit-log offset an offset message id holds (the inverse of
 * {@link makeOffsetMsgId}, as Java's `MessageDecoder.decodeMessageId`): 32 hex characters for an
 * IPv4 store host, 56 for IPv6. `undefined` for any other text. A transactional producer reads the
 * half message's commit-log offset from it for END_TRANSACTION.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseOffsetMsgId = (
  offsetMsgId: string
): { readonly storeHost: SocketAddress; readonly commitLogOffset: bigint } | undefined => {
  if ((offsetMsgId.length !== 32 && offsetMsgId.length !== 56) || !/^[0-9A-Fa-f]+$/.test(offsetMsgId)) return undefined
  const bytes = Buffer.from(offsetMsgId, "hex")
  const ipLength = bytes.length - 12
  return {
    storeHost: { host: formatIp(bytes.subarray(0, ipLength)), port: bytes.readInt32BE(ipLength) },
    commitLogOffset: bytes.readBigInt64BE(ipLength + 4)
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

const utf8Decoder = new TextDecoder("utf-8")
const EMPTY = new Uint8Array(0)

const asBuffer = (bytes: Uint8Array): Buffer =>
  Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

/** A cursor over one record: every read is checked against the record's end. */
class Reader {
  readonly buf: Buffer
  readonly start: number
  readonly end: number
  pos: number
  constructor(buf: Buffer, start: number, end: number) {
    this.buf = buf
    this.start = start
    this.end = end
    this.pos = start
  }
  need(n: number, field: string): MessageDecodeError | undefined {
    if (this.end - this.pos >= n) return undefined
    return new MessageDecodeError({
      reason: "Truncated",
      offset: this.start,
      detail: `the record (${this.end - this.start} bytes) ends inside field ${field} ` +
        `(needs ${n} bytes at record byte ${this.pos - this.start})`
    })
  }
  int32(): number {
    const v = this.buf.readInt32BE(this.pos)
    this.pos += 4
    return v
  }
  int64(): bigint {
    const v = this.buf.readBigInt64BE(this.pos)
    this.pos += 8
    return v
  }
  bytes(n: number): Uint8Array {
    const v = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return v
  }
}

const badLength = (offset: number, detail: string) => new MessageDecodeError({ reason: "BadLength", offset, detail })

const inflate = (
  body: Uint8Array,
  sysFlag: number,
  offset: number,
  maxBytes: number
): Uint8Array | MessageDecodeError => {
  const type = (sysFlag & SysFlag.COMPRESSION_TYPE_MASK) >> 8
  if (type === 1 || type === 2) {
    return new MessageDecodeError({
      reason: "UnsupportedCompression",
      offset,
      detail: `the body is compressed with ${type === 1 ? "LZ4" : "ZSTD"} (sysFlag 0x${sysFlag.toString(16)}), ` +
        "which this client does not support; only ZLIB is. Have producers use ZLIB (Java's default)"
    })
  }
  if (type !== 0 && type !== 3) {
    return new MessageDecodeError({
      reason: "UnsupportedCompression",
      offset,
      detail: `unknown compression type ${type} in sysFlag 0x${sysFlag.toString(16)}`
    })
  }
  try {
    return zlib.inflateSync(body, { maxOutputLength: maxBytes })
  } catch (error) {
    return new MessageDecodeError({
      reason: "DecompressFailed",
      offset,
      detail: `the ZLIB body (${body.length} bytes) could not be inflated: ` +
        `${error instanceof Error ? error.message : String(error)}` +
        (error instanceof RangeError ? ` (limit ${maxBytes} bytes)` : "")
    })
  }
}

// The smallest record: 84 fixed bytes (IPv4 hosts), body length, 1-byte topic length, properties length.
const MIN_RECORD = 84 + 4 + 1 + 2

const decodeRecord = (
  buf: Buffer,
  start: number,
  decompress: boolean,
  maxDecompressed: number
): StoredMessage | MessageDecodeError => {
  const available = buf.length - start
  if (available < 8) {
    return new MessageDecodeError({
      reason: "Truncated",
      offset: start,
      detail: `${available} bytes remain, fewer than a record's size and magic code`
    })
  }
  const storeSize = buf.readInt32BE(start)
  const magic = buf.readInt32BE(start + 4)
  if (magic !== MAGIC_CODE_V1 && magic !== MAGIC_CODE_V2) {
    return new MessageDecodeError({
      reason: "BadMagicCode",
      offset: start,
      detail: `magic code 0x${(magic >>> 0).toString(16).padStart(8, "0")} is ` +
        (magic === BLANK_MAGIC_CODE
          ? "the commit-log end-of-file marker, not a message"
          : `neither V1 (0xdaa320a7) nor V2 (0xdaa320ab)`)
    })
  }
  if (storeSize < MIN_RECORD) {
    return badLength(start, `the record announces ${storeSize} bytes; a record takes at least ${MIN_RECORD}`)
  }
  if (storeSize > available) {
    return new MessageDecodeError({
      reason: "Truncated",
      offset: start,
      detail: `the record announces ${storeSize} bytes but only ${available} remain`
    })
  }
  const r = new Reader(buf, start, start + storeSize)
  r.pos += 8
  // Fixed fields up to the born host's address: bodyCRC .. bornTimestamp.
  const bodyCrc = r.int32()
  const queueId = r.int32()
  const flag = r.int32()
  const queueOffset = r.int64()
  const commitLogOffset = r.int64()
  let sysFlag = r.int32()
  const bornTimestamp = Number(r.int64())
  const bornIpLength = (sysFlag & SysFlag.BORNHOST_V6) === 0 ? 4 : 16
  const storeIpLength = (sysFlag & SysFlag.STOREHOST_V6) === 0 ? 4 : 16
  const e1 = r.need(bornIpLength + 4 + 8 + storeIpLength + 4 + 4 + 8 + 4, "bornHost..bodyLength")
  if (e1 !== undefined) return e1
  const bornIp = r.bytes(bornIpLength)
  const bornPort = r.int32()
  const storeTimestamp = Number(r.int64())
  const storeIp = r.bytes(storeIpLength)
  const storePort = r.int32()
  const reconsumeTimes = r.int32()
  const preparedTransactionOffset = r.int64()
  const bodyLength = r.int32()
  if (bodyLength < 0) return badLength(start, `negative body length ${bodyLength}`)
  const e2 = r.need(bodyLength, "body")
  if (e2 !== undefined) return e2
  let body: Uint8Array = bodyLength === 0 ? EMPTY : r.bytes(bodyLength)
  if (decompress && bodyLength > 0 && (sysFlag & SysFlag.COMPRESSED) !== 0) {
    const inflated = inflate(body, sysFlag, start, maxDecompressed)
    if (inflated instanceof MessageDecodeError) return inflated
    body = inflated
    sysFlag &= ~SysFlag.COMPRESSED
  }
  const version = magic === MAGIC_CODE_V1 ? "V1" : "V2"
  const e3 = r.need(version === "V1" ? 1 : 2, "topicLength")
  if (e3 !== undefined) return e3
  const topicLength = version === "V1" ? buf.readInt8(r.pos) : buf.readInt16BE(r.pos)
  r.pos += version === "V1" ? 1 : 2
  if (topicLength < 0) return badLength(start, `negative topic length ${topicLength}`)
  const e4 = r.need(topicLength + 2, "topic")
  if (e4 !== undefined) return e4
  const topic = utf8Decoder.decode(r.bytes(topicLength))
  const propertiesLength = buf.readInt16BE(r.pos)
  r.pos += 2
  if (propertiesLength < 0) return badLength(start, `negative properties length ${propertiesLength}`)
  const e5 = r.need(propertiesLength, "properties")
  if (e5 !== undefined) return e5
  const properties = propertiesLength === 0
    ? Properties.fromEntries([])
    : Properties.decode(utf8Decoder.decode(r.bytes(propertiesLength)))
  if (r.pos !== r.end) {
    return new MessageDecodeError({
      reason: "SizeMismatch",
      offset: start,
      detail: `the record announces ${storeSize} bytes but its fields take ${r.pos - start}`
    })
  }
  const storeHost: SocketAddress = { host: formatIp(storeIp), port: storePort }
  const idBytes = Buffer.alloc(storeIpLength + 12)
  idBytes.set(storeIp, 0)
  idBytes.writeInt32BE(storePort, storeIpLength)
  idBytes.writeBigInt64BE(commitLogOffset, storeIpLength + 4)
  const offsetMsgId = toHex(idBytes)
  return {
    storeSize,
    version,
    bodyCrc,
    queueId,
    flag,
    queueOffset,
    commitLogOffset,
    sysFlag,
    bornTimestamp,
    bornHost: { host: formatIp(bornIp), port: bornPort },
    storeTimestamp,
    storeHost,
    reconsumeTimes,
    preparedTransactionOffset,
    body,
    topic,
    properties,
    msgId: Properties.get(properties, "UNIQ_KEY") ?? offsetMsgId,
    offsetMsgId
  }
}

/** @internal: the synchronous decoder behind {@link decode}. */
export const decodeSync = (
  bytes: Uint8Array,
  options?: DecodeOptions
): ReadonlyArray<StoredMessage> | MessageDecodeError => {
  const buf = asBuffer(bytes)
  const decompress = options?.decompress ?? true
  const maxDecompressed = options?.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES
  const out: Array<StoredMessage> = []
  let pos = 0
  while (pos < buf.length) {
    const message = decodeRecord(buf, pos, decompress, maxDecompressed)
    if (message instanceof MessageDecodeError) return message
    out.push(message)
    pos += message.storeSize
  }
  return out
}

/**
 * Decodes every record of `bytes` (a pull body: records back to back). An empty buffer gives no
 * messages; any bad record fails the whole body with a {@link MessageDecodeError}.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (
  bytes: Uint8Array,
  options?: DecodeOptions
): Effect.Effect<ReadonlyArray<StoredMessage>, MessageDecodeError> =>
  Effect.suspend(() => {
    const out = decodeSync(bytes, options)
    return out instanceof MessageDecodeError ? Effect.fail(out) : Effect.succeed(out)
  })

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

const utf8Encoder = new TextEncoder()
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

const encodeError = (detail: string) => new MessageEncodeError({ detail })

const checkInt32 = (name: string, value: number, unsigned = false): MessageEncodeError | undefined =>
  Number.isInteger(value) && value >= (unsigned ? 0 : -2147483648) && value <= (unsigned ? 4294967295 : 2147483647)
    ? undefined
    : encodeError(`${name} ${value} is not a${unsigned ? "n unsigned" : ""} 32-bit integer`)

const checkInt64 = (name: string, value: bigint | number): MessageEncodeError | undefined => {
  const v = typeof value === "bigint" ? value : Number.isInteger(value) ? BigInt(value) : undefined
  return v !== undefined && v >= INT64_MIN && v <= INT64_MAX ? undefined : encodeError(`${name} ${value} is not a 64-bit integer`)
}

/**
 * CRC32 of `body` masked to 31 bits, as brokers store it in `bodyCRC`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const bodyCrc = (body: Uint8Array): number => zlib.crc32(body) & 0x7fffffff

/** @internal: the synchronous encoder behind {@link encode}. */
export const encodeSync = (input: StoredMessageInput): Uint8Array | MessageEncodeError => {
  const checks = [
    checkInt32("queueId", input.queueId),
    checkInt32("flag", input.flag),
    checkInt32("sysFlag", input.sysFlag),
    checkInt32("reconsumeTimes", input.reconsumeTimes),
    checkInt32("bornHost port", input.bornHost.port),
    checkInt32("storeHost port", input.storeHost.port),
    input.bodyCrc === undefined || input.bodyCrc < 0 ? undefined : checkInt32("bodyCrc", input.bodyCrc, true),
    input.bodyCrc === undefined || input.bodyCrc >= 0 ? undefined : checkInt32("bodyCrc", input.bodyCrc),
    checkInt64("queueOffset", input.queueOffset),
    checkInt64("commitLogOffset", input.commitLogOffset),
    checkInt64("preparedTransactionOffset", input.preparedTransactionOffset),
    checkInt64("bornTimestamp", input.bornTimestamp),
    checkInt64("storeTimestamp", input.storeTimestamp)
  ]
  for (const check of checks) if (check !== undefined) return check
  const bornIp = parseIp(input.bornHost.host)
  if (bornIp === undefined) return encodeError(`bornHost ${JSON.stringify(input.bornHost.host)} is not an IP address`)
  const storeIp = parseIp(input.storeHost.host)
  if (storeIp === undefined) return encodeError(`storeHost ${JSON.stringify(input.storeHost.host)} is not an IP address`)
  const topic = utf8Encoder.encode(input.topic)
  const version = input.version ?? (topic.length > 127 ? "V2" : "V1")
  const topicLimit = version === "V1" ? 127 : 32767
  if (topic.length > topicLimit) {
    return encodeError(`the topic takes ${topic.length} bytes, more than the ${topicLimit} a ${version} record allows`)
  }
  const propertiesText = Properties.encodeSync(input.properties)
  if (typeof propertiesText !== "string") return encodeError(propertiesText.detail)
  const properties = utf8Encoder.encode(propertiesText)
  const sysFlag = (input.sysFlag & ~(SysFlag.BORNHOST_V6 | SysFlag.STOREHOST_V6)) |
    (bornIp.length === 16 ? SysFlag.BORNHOST_V6 : 0) |
    (storeIp.length === 16 ? SysFlag.STOREHOST_V6 : 0)
  const topicLengthSize = version === "V1" ? 1 : 2
  const size = 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + bornIp.length + 4 + 8 + storeIp.length + 4 + 4 + 8 +
    4 + input.body.length + topicLengthSize + topic.length + 2 + properties.length
  if (size > 0x7fffffff) return encodeError(`the record would take ${size} bytes, more than a 32-bit size allows`)
  const buf = Buffer.alloc(size)
  let pos = 0
  pos = buf.writeInt32BE(size, pos)
  pos = buf.writeInt32BE(version === "V1" ? MAGIC_CODE_V1 : MAGIC_CODE_V2, pos)
  pos = buf.writeInt32BE((input.bodyCrc ?? bodyCrc(input.body)) | 0, pos)
  pos = buf.writeInt32BE(input.queueId | 0, pos)
  pos = buf.writeInt32BE(input.flag | 0, pos)
  pos = buf.writeBigInt64BE(input.queueOffset, pos)
  pos = buf.writeBigInt64BE(input.commitLogOffset, pos)
  pos = buf.writeInt32BE(sysFlag | 0, pos)
  pos = buf.writeBigInt64BE(BigInt(input.bornTimestamp), pos)
  buf.set(bornIp, pos)
  pos += bornIp.length
  pos = buf.writeInt32BE(input.bornHost.port | 0, pos)
  pos = buf.writeBigInt64BE(BigInt(input.storeTimestamp), pos)
  buf.set(storeIp, pos)
  pos += storeIp.length
  pos = buf.writeInt32BE(input.storeHost.port | 0, pos)
  pos = buf.writeInt32BE(input.reconsumeTimes | 0, pos)
  pos = buf.writeBigInt64BE(input.preparedTransactionOffset, pos)
  pos = buf.writeInt32BE(input.body.length, pos)
  buf.set(input.body, pos)
  pos += input.body.length
  pos = version === "V1" ? buf.writeInt8(topic.length, pos) : buf.writeInt16BE(topic.length, pos)
  buf.set(topic, pos)
  pos += topic.length
  pos = buf.writeInt16BE(properties.length, pos)
  buf.set(properties, pos)
  return buf
}

/**
 * Writes one stored-format record. Fails with a {@link MessageEncodeError} when a number does not
 * fit its field, a host is not an IP address, the topic is too long for the record version, or
 * the properties cannot be encoded.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (input: StoredMessageInput): Effect.Effect<Uint8Array, MessageEncodeError> =>
  Effect.suspend(() => {
    const out = encodeSync(input)
    return out instanceof MessageEncodeError ? Effect.fail(out) : Effect.succeed(out)
  })
