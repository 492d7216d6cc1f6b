/**
 * The record decoder behind `StoredMessage`: one stored-format record at a time, every read
 * checked against the record's end, and the host/id helpers the encoder shares. Framing
 * failures come back as a `MessageDecodeError`; a body that cannot be decompressed makes the
 * record an `UndecodableMessage` (see `StoredMessage`'s header for the contract).
 */
import { isIPv4, isIPv6 } from "node:net"
import { CompressionError, MessageDecodeError } from "../ClientError.ts"
import * as Compression from "../Compression.ts"
import * as Properties from "../Properties.ts"
import type { SocketAddress, StoredMessage, UndecodableMessage } from "../StoredMessage.ts"

/**
 * Magic code of the V1 record (1-byte topic length).
 */
export const MAGIC_CODE_V1 = 0xdaa320a7 | 0

/**
 * Magic code of the V2 record (2-byte topic length, needed for topics over 127 bytes).
 */
export const MAGIC_CODE_V2 = 0xdaa320ab | 0

/**
 * Magic code that marks the unused end of a commit-log file; never a message.
 */
export const BLANK_MAGIC_CODE = 0xcbd43194 | 0

/**
 * The bits of a message's `sysFlag` (Java's `MessageSysFlag`).
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

const HEX = "0123456789ABCDEF"

export const toHex = (bytes: Uint8Array): string => {
  let out = ""
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]! >> 4]! + HEX[bytes[i]! & 0xf]!
  return out
}

export const formatIp = (bytes: Uint8Array): string => {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`
  const groups: Array<string> = []
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16))
  return groups.join(":")
}

/** The 4 or 16 address bytes of a textual IPv4/IPv6 host, or undefined. */
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

const utf8Decoder = new TextDecoder("utf-8")
const EMPTY = new Uint8Array(0)

export const asBuffer = (bytes: Uint8Array): Buffer =>
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
    const hi = this.buf.readInt32BE(this.pos)
    const lo = this.buf.readUInt32BE(this.pos + 4)
    // One BigInt where the value fits a double exactly (every offset in practice), instead of
    // `readBigInt64BE`'s three and a shift: a pull decodes three of these per message.
    const v = hi === 0 ? (lo === 0 ? 0n : BigInt(lo)) : Math.abs(hi) < 0x200000 ? BigInt(hi * 0x100000000 + lo) : this.buf.readBigInt64BE(this.pos)
    this.pos += 8
    return v
  }
  /** An int64 as a number, rounded as `Number(bigint)` would (timestamps). */
  int64Number(): number {
    const v = this.buf.readInt32BE(this.pos) * 0x100000000 + this.buf.readUInt32BE(this.pos + 4)
    this.pos += 8
    return v
  }
  bytes(n: number): Uint8Array {
    const v = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return v
  }
}

const HEX_BYTE = Array.from({ length: 256 }, (_, b) => HEX[b >> 4]! + HEX[b & 0xf]!)

// Uppercase hex of `n` bytes of `buf` from `at`.
const hexAt = (buf: Buffer, at: number, n: number): string => {
  let out = ""
  for (let i = at; i < at + n; i++) out += HEX_BYTE[buf[i]!]!
  return out
}

interface Host {
  readonly address: SocketAddress
  /** Uppercase hex of the address bytes and the port: the start of an offset message id. */
  readonly idPrefix: string
}

/**
 * What the records of one pull body usually share, decoded once per body instead of once per
 * record: the topic (same bytes as the previous record: same string) and the born and store
 * hosts (same IPv4 address and port: same {@link SocketAddress} object, which is read-only).
 * Decoding every record on its own made these strings and objects most of a pull's allocations.
 */
export class Shared {
  private topicBuf: Buffer | undefined = undefined
  private topicAt = 0
  private topicLength = -1
  private topic = ""
  private readonly hosts = new Map<number, Map<number, Host>>()

  /** The topic of `length` bytes at `at` of `buf`. */
  topicOf(buf: Buffer, at: number, length: number): string {
    const last = this.topicBuf
    if (last === buf && length === this.topicLength && sameBytes(buf, this.topicAt, at, length)) return this.topic
    this.topicBuf = buf
    this.topicAt = at
    this.topicLength = length
    this.topic = length === 0 ? "" : utf8Decoder.decode(buf.subarray(at, at + length))
    return this.topic
  }

  /** The host of `ipLength` (4 or 16) address bytes at `at` of `buf`, and `port`. */
  hostOf(buf: Buffer, at: number, ipLength: number, port: number): Host {
    if (ipLength !== 4) return makeHost(buf, at, ipLength, port)
    const ip = buf.readInt32BE(at)
    let byPort = this.hosts.get(ip)
    if (byPort === undefined) this.hosts.set(ip, byPort = new Map())
    let host = byPort.get(port)
    if (host === undefined) byPort.set(port, host = makeHost(buf, at, ipLength, port))
    return host
  }
}

const sameBytes = (buf: Buffer, a: number, b: number, n: number): boolean => {
  for (let i = 0; i < n; i++) if (buf[a + i] !== buf[b + i]) return false
  return true
}

const makeHost = (buf: Buffer, at: number, ipLength: number, port: number): Host => {
  const portHex = HEX_BYTE[(port >>> 24) & 0xff]! + HEX_BYTE[(port >>> 16) & 0xff]! + HEX_BYTE[(port >>> 8) & 0xff]! +
    HEX_BYTE[port & 0xff]!
  return {
    address: { host: formatIp(buf.subarray(at, at + ipLength)), port },
    idPrefix: hexAt(buf, at, ipLength) + portHex
  }
}

const badLength = (offset: number, detail: string) => new MessageDecodeError({ reason: "BadLength", offset, detail })

/** Decompresses a body by its sysFlag; a failure is described for the record's error. */
const inflate = (
  body: Uint8Array,
  sysFlag: number,
  maxBytes: number
): Uint8Array | { readonly reason: "UnsupportedCompression" | "DecompressFailed"; readonly detail: string } => {
  const type = Compression.typeOfSysFlag(sysFlag)
  if (type === "unknown" || type === undefined) {
    return {
      reason: "UnsupportedCompression",
      detail: `unknown compression type ${(sysFlag & SysFlag.COMPRESSION_TYPE_MASK) >> 8} in sysFlag 0x${sysFlag.toString(16)}`
    }
  }
  const out = Compression.decompressSync(type, body, { maxBytes })
  if (!(out instanceof CompressionError)) return out
  return {
    reason: Compression.isSupported(type) ? "DecompressFailed" : "UnsupportedCompression",
    detail: `the ${type} body (${body.length} bytes) could not be decompressed: ${out.detail}`
  }
}

// The smallest record: 84 fixed bytes (IPv4 hosts), body length, 1-byte topic length, properties length.
const MIN_RECORD = 84 + 4 + 1 + 2

export const decodeRecord = (
  buf: Buffer,
  start: number,
  decompress: boolean,
  maxDecompressed: number,
  shared: Shared = new Shared()
): StoredMessage | UndecodableMessage | MessageDecodeError => {
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
  const commitLogOffsetAt = r.pos
  const commitLogOffset = r.int64()
  let sysFlag = r.int32()
  const bornTimestamp = r.int64Number()
  const bornIpLength = (sysFlag & SysFlag.BORNHOST_V6) === 0 ? 4 : 16
  const storeIpLength = (sysFlag & SysFlag.STOREHOST_V6) === 0 ? 4 : 16
  const e1 = r.need(bornIpLength + 4 + 8 + storeIpLength + 4 + 4 + 8 + 4, "bornHost..bodyLength")
  if (e1 !== undefined) return e1
  const bornIpAt = r.pos
  r.pos += bornIpLength
  const bornPort = r.int32()
  const storeTimestamp = r.int64Number()
  const storeIpAt = r.pos
  r.pos += storeIpLength
  const storePort = r.int32()
  const reconsumeTimes = r.int32()
  const preparedTransactionOffset = r.int64()
  const bodyLength = r.int32()
  if (bodyLength < 0) return badLength(start, `negative body length ${bodyLength}`)
  const e2 = r.need(bodyLength, "body")
  if (e2 !== undefined) return e2
  let body: Uint8Array = bodyLength === 0 ? EMPTY : r.bytes(bodyLength)
  // A body that cannot be decompressed fails this record only: the framing fields that follow
  // are still read, so the next record is found and this one is reported with every field.
  let failure: ReturnType<typeof inflate> | undefined
  if (decompress && bodyLength > 0 && (sysFlag & SysFlag.COMPRESSED) !== 0) {
    const inflated = inflate(body, sysFlag, maxDecompressed)
    if (inflated instanceof Uint8Array) {
      body = inflated
      sysFlag &= ~SysFlag.COMPRESSED
    } else {
      failure = inflated
    }
  }
  const version = magic === MAGIC_CODE_V1 ? "V1" : "V2"
  const e3 = r.need(version === "V1" ? 1 : 2, "topicLength")
  if (e3 !== undefined) return e3
  const topicLength = version === "V1" ? buf.readInt8(r.pos) : buf.readInt16BE(r.pos)
  r.pos += version === "V1" ? 1 : 2
  if (topicLength < 0) return badLength(start, `negative topic length ${topicLength}`)
  const e4 = r.need(topicLength + 2, "topic")
  if (e4 !== undefined) return e4
  const topic = shared.topicOf(buf, r.pos, topicLength)
  r.pos += topicLength
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
  const storeHost = shared.hostOf(buf, storeIpAt, storeIpLength, storePort)
  const offsetMsgId = storeHost.idPrefix + hexAt(buf, commitLogOffsetAt, 8)
  const message: StoredMessage = {
    storeSize,
    version,
    bodyCrc,
    queueId,
    flag,
    queueOffset,
    commitLogOffset,
    sysFlag,
    bornTimestamp,
    bornHost: shared.hostOf(buf, bornIpAt, bornIpLength, bornPort).address,
    storeTimestamp,
    storeHost: storeHost.address,
    reconsumeTimes,
    preparedTransactionOffset,
    body,
    topic,
    properties,
    msgId: Properties.get(properties, "UNIQ_KEY") ?? offsetMsgId,
    offsetMsgId
  }
  if (failure === undefined || failure instanceof Uint8Array) return message
  const error = new MessageDecodeError({
    reason: failure.reason,
    offset: start,
    detail: `${failure.detail}; the message (${topic} queue ${queueId} offset ${queueOffset}, msgId ${message.msgId}) ` +
      "is returned undecoded, with its stored body"
  })
  return { ...message, error }
}

