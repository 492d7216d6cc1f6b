/**
 * The stored message format: how a broker keeps a message in its commit log and returns it in
 * pull, query and view bodies (Java's `MessageDecoder.decode`). A record is, big-endian:
 * totalSize int32, magicCode int32, bodyCRC int32, queueId int32, flag int32, queueOffset int64,
 * physicalOffset int64, sysFlag int32, bornTimestamp int64, bornHost (4 or 16 address bytes +
 * port int32), storeTimestamp int64, storeHost (likewise), reconsumeTimes int32,
 * preparedTransactionOffset int64, bodyLength int32 + body, topicLength (int8 for V1, int16 for
 * V2) + topic, propertiesLength int16 + properties. A pull body is records back to back.
 *
 * Decoding checks every length against the record and the buffer, and tells two kinds of
 * failure apart:
 *
 * - the **framing** of a record is broken (truncated, unknown magic code, lengths that do not add
 *   up): the records after it cannot be found, so the body fails with a
 *   {@link MessageDecodeError} — never an exception, and never a silent stop as Java's decoder
 *   does;
 * - the framing is intact but the **content** cannot be decoded (a body compressed with an
 *   unknown type, or corrupt, or larger than `maxDecompressedBytes` once decompressed): that
 *   record alone is an {@link UndecodableMessage} — every field, the stored (still compressed)
 *   body and the error — and the records around it decode as usual. {@link decodeBody} returns
 *   both lists; {@link decode} is the strict form that fails on either.
 *
 * Hosts are IPv4 unless sysFlag bit `0x10` (born host) or `0x20` (store host) says IPv6. A body
 * with sysFlag bit `0x1` is decompressed (ZLIB, LZ4 or ZSTD by the type in bits 8–10, see
 * `Compression`) and the bit is cleared, as Java does. Bodies and other byte fields are views of
 * the input, not copies.
 *
 * The encoder writes the same format (what an in-memory broker stores); the IPv6 bits of sysFlag
 * follow the host addresses given, and the magic code follows the topic length unless chosen.
 * Nothing here does I/O.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import * as zlib from "node:zlib"
import { MessageDecodeError, MessageEncodeError } from "./ClientError.ts"
import * as Compression from "./Compression.ts"
import * as Record from "./internal/storedRecord.ts"
import * as Properties from "./Properties.ts"

/**
 * Magic code of the V1 record (1-byte topic length).
 *
 * @since 0.1.0
 * @category constants
 */
export const MAGIC_CODE_V1 = Record.MAGIC_CODE_V1

/**
 * Magic code of the V2 record (2-byte topic length, needed for topics over 127 bytes).
 *
 * @since 0.1.0
 * @category constants
 */
export const MAGIC_CODE_V2 = Record.MAGIC_CODE_V2

/**
 * Magic code that marks the unused end of a commit-log file; never a message.
 *
 * @since 0.1.0
 * @category constants
 */
export const BLANK_MAGIC_CODE = Record.BLANK_MAGIC_CODE

/**
 * The bits of a message's `sysFlag` (Java's `MessageSysFlag`).
 *
 * @since 0.1.0
 * @category constants
 */
export const SysFlag = Record.SysFlag

/**
 * Largest decompressed body accepted by default (64 MiB): a guard against compression bombs.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = Compression.DEFAULT_MAX_BYTES

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
 * A record whose framing is intact but whose content could not be decoded: every field as
 * stored — `body` is the stored (still compressed) bytes and `sysFlag` keeps its compression
 * bits — and the `error` that says why. Its `queueOffset` lets a consumer account for it (skip
 * it, log it, forward it) without losing its place in the queue.
 *
 * @since 0.1.0
 * @category models
 */
export interface UndecodableMessage extends StoredMessage {
  readonly error: MessageDecodeError
}

/**
 * The records of a body, split by {@link decodeBody}: those that decoded, and those whose
 * content did not.
 *
 * @since 0.1.0
 * @category models
 */
export interface DecodedBody {
  readonly messages: ReadonlyArray<StoredMessage>
  readonly undecodable: ReadonlyArray<UndecodableMessage>
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

/** @internal: the 4 or 16 address bytes of a textual IPv4/IPv6 host, or undefined. */
export const parseIp = Record.parseIp

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
  return Record.toHex(buffer)
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
    storeHost: { host: Record.formatIp(bytes.subarray(0, ipLength)), port: bytes.readInt32BE(ipLength) },
    commitLogOffset: bytes.readBigInt64BE(ipLength + 4)
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/** @internal: the synchronous decoder behind {@link decodeBody}. */
export const decodeBodySync = (bytes: Uint8Array, options?: DecodeOptions): DecodedBody | MessageDecodeError => {
  const buf = Record.asBuffer(bytes)
  const decompress = options?.decompress ?? true
  const maxDecompressed = options?.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES
  const messages: Array<StoredMessage> = []
  const undecodable: Array<UndecodableMessage> = []
  const shared = new Record.Shared()
  let pos = 0
  while (pos < buf.length) {
    const record = Record.decodeRecord(buf, pos, decompress, maxDecompressed, shared)
    if (record instanceof MessageDecodeError) return record
    if ("error" in record) undecodable.push(record)
    else messages.push(record)
    pos += record.storeSize
  }
  return { messages, undecodable }
}

/** @internal: the synchronous decoder behind {@link decode}. */
export const decodeSync = (
  bytes: Uint8Array,
  options?: DecodeOptions
): ReadonlyArray<StoredMessage> | MessageDecodeError => {
  const body = decodeBodySync(bytes, options)
  if (body instanceof MessageDecodeError) return body
  return body.undecodable.length > 0 ? body.undecodable[0]!.error : body.messages
}

/**
 * Decodes every record of `bytes` (a pull body: records back to back), keeping going past
 * records whose content cannot be decoded: they come back in `undecodable`, each with every
 * field and its error. Fails with a {@link MessageDecodeError} only when the framing breaks (see
 * the module header). An empty buffer gives two empty lists.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeBody = (bytes: Uint8Array, options?: DecodeOptions): Effect.Effect<DecodedBody, MessageDecodeError> =>
  Effect.suspend(() => {
    const out = decodeBodySync(bytes, options)
    return out instanceof MessageDecodeError ? Effect.fail(out) : Effect.succeed(out)
  })

/**
 * Decodes every record of `bytes`, strictly: any record that cannot be decoded, framing or
 * content, fails the whole body with a {@link MessageDecodeError}. An empty buffer gives no
 * messages. Pull responses use {@link decodeBody}, which isolates a bad record instead.
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
