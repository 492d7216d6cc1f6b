/**
 * LZ4 frames (the LZ4 frame format, version 01) as Java RocketMQ producers write them with
 * lz4-java's `LZ4FrameOutputStream`: block size 4 MiB, independent blocks, no block or content
 * checksum, no content size — header `04 22 4D 18 60 70 73`.
 *
 * The decoder reads any frame of the format: several frames back to back, skippable frames,
 * linked or independent blocks, uncompressed blocks, block and content checksums (checked),
 * content size (checked). Frames that need a dictionary are refused. Every length and match
 * offset is checked before it is used; output beyond `maxBytes` is refused before it is
 * written. Failures are returned as a string (the caller wraps it in its typed error): nothing
 * here throws.
 *
 * The encoder is a greedy single-pass matcher (a 64 Ki-entry hash of 4-byte sequences, the
 * block rules of the format: matches of at least 4 bytes, offsets under 64 KiB, the last 5
 * bytes literals, no match starting in the last 12); a block that does not shrink is stored
 * uncompressed, as the format allows.
 */

const MAGIC = 0x184d2204
const SKIPPABLE_MASK = 0xfffffff0
const SKIPPABLE_MAGIC = 0x184d2a50
const MIN_MATCH = 4
const LAST_LITERALS = 5
const MF_LIMIT = 12
const MAX_OFFSET = 65535
const HASH_LOG = 16

/** Block maximum sizes by the BD byte's 3-bit code (4..7). */
const BLOCK_SIZES: Readonly<Record<number, number>> = { 4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024 }

/** The block size Java writes (BD code 7). */
export const JAVA_BLOCK_SIZE = 4 * 1024 * 1024

// ---------------------------------------------------------------------------------------------
// xxHash32 (the frame format's checksum)
// ---------------------------------------------------------------------------------------------

const P1 = 0x9e3779b1
const P2 = 0x85ebca77
const P3 = 0xc2b2ae3d
const P4 = 0x27d4eb2f
const P5 = 0x165667b1

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r))
const read32 = (b: Uint8Array, i: number): number => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0
const round = (acc: number, lane: number): number => Math.imul(rotl((acc + Math.imul(lane, P2)) | 0, 13), P1)

/** xxHash32 of `bytes[start, end)` with `seed`, as an unsigned 32-bit number. */
export const xxh32 = (bytes: Uint8Array, start = 0, end = bytes.length, seed = 0): number => {
  let i = start
  let h: number
  if (end - start >= 16) {
    let v1 = (seed + P1 + P2) | 0
    let v2 = (seed + P2) | 0
    let v3 = seed | 0
    let v4 = (seed - P1) | 0
    for (; i + 16 <= end; i += 16) {
      v1 = round(v1, read32(bytes, i))
      v2 = round(v2, read32(bytes, i + 4))
      v3 = round(v3, read32(bytes, i + 8))
      v4 = round(v4, read32(bytes, i + 12))
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0
  } else {
    h = (seed + P5) | 0
  }
  h = (h + (end - start)) | 0
  for (; i + 4 <= end; i += 4) h = Math.imul(rotl((h + Math.imul(read32(bytes, i), P3)) | 0, 17), P4)
  for (; i < end; i++) h = Math.imul(rotl((h + Math.imul(bytes[i]!, P5)) | 0, 11), P1)
  h = Math.imul(h ^ (h >>> 15), P2)
  h = Math.imul(h ^ (h >>> 13), P3)
  return (h ^ (h >>> 16)) >>> 0
}

// ---------------------------------------------------------------------------------------------
// Blocks
// ---------------------------------------------------------------------------------------------

/** A growable output with a hard limit. */
class Output {
  buf: Uint8Array
  pos = 0
  readonly limit: number
  constructor(initial: number, limit: number) {
    this.buf = new Uint8Array(Math.max(16, Math.min(initial, limit)))
    this.limit = limit
  }
  /** Room for `n` more bytes, or an error when that passes the limit. */
  ensure(n: number): string | undefined {
    const need = this.pos + n
    if (need > this.limit) return `the decompressed body would exceed ${this.limit} bytes`
    if (need > this.buf.length) {
      const grown = new Uint8Array(Math.min(this.limit, Math.max(need, this.buf.length * 2)))
      grown.set(this.buf.subarray(0, this.pos))
      this.buf = grown
    }
    return undefined
  }
}

/**
 * Reads the extra bytes of a length whose 4-bit field was 15 (each byte adds, 255 means more
 * follow). Sets `cursor.at` past them; returns the added length, or -1 if the block ends first.
 */
const extraLength = (src: Uint8Array, cursor: { at: number }, end: number): number => {
  let added = 0
  let b: number
  do {
    if (cursor.at >= end) return -1
    b = src[cursor.at++]!
    added += b
  } while (b === 255)
  return added
}

/**
 * Decodes one compressed block `src[start, end)` onto `out`; matches may reach back to
 * `windowStart` (the block's own start for independent blocks, the frame's for linked ones).
 */
const decodeBlock = (src: Uint8Array, start: number, end: number, out: Output, windowStart: number): string | undefined => {
  const cursor = { at: start }
  for (;;) {
    let s = cursor.at
    if (s >= end) return "a block ends inside a sequence"
    const token = src[s++]!
    let literals = token >>> 4
    if (literals === 15) {
      cursor.at = s
      const added = extraLength(src, cursor, end)
      if (added < 0) return "a block ends inside a literal length"
      literals += added
      s = cursor.at
    }
    if (literals > end - s) return `a block announces ${literals} literals but only ${end - s} bytes remain`
    const room = out.ensure(literals)
    if (room !== undefined) return room
    out.buf.set(src.subarray(s, s + literals), out.pos)
    out.pos += literals
    s += literals
    if (s === end) return undefined
    if (end - s < 2) return "a block ends inside a match offset"
    const offset = src[s]! | (src[s + 1]! << 8)
    s += 2
    if (offset === 0 || offset > out.pos - windowStart) return `a match offset ${offset} points before the start of the data`
    let length = (token & 15) + MIN_MATCH
    cursor.at = s
    if ((token & 15) === 15) {
      const added = extraLength(src, cursor, end)
      if (added < 0) return "a block ends inside a match length"
      length += added
    }
    const roomMatch = out.ensure(length)
    if (roomMatch !== undefined) return roomMatch
    const buf = out.buf
    let d = out.pos
    let r = d - offset
    if (offset >= length) {
      buf.copyWithin(d, r, r + length)
    } else {
      // Overlapping match: the copy repeats the last `offset` bytes, byte by byte.
      for (const stop = d + length; d < stop;) buf[d++] = buf[r++]!
    }
    out.pos += length
  }
}

const hash = (sequence: number): number => Math.imul(sequence, 2654435761) >>> (32 - HASH_LOG)

const writeLength = (dst: Uint8Array, d: number, n: number): number => {
  for (; n >= 255; n -= 255) dst[d++] = 255
  dst[d++] = n
  return d
}

/**
 * Compresses `src[start, end)` as one block into `dst` at `d`; returns the new position, or -1
 * when the block would not be smaller than its input (store it uncompressed then).
 */
const encodeBlock = (src: Uint8Array, start: number, end: number, dst: Uint8Array, d: number, table: Int32Array): number => {
  const limit = d + (end - start)
  let anchor = start
  const emit = (literalEnd: number, offset: number, matchLength: number): boolean => {
    const literals = literalEnd - anchor
    // token + literal length bytes + literals + offset + match length bytes
    if (d + 1 + ((literals + 240) / 255 | 0) + literals + 2 + ((matchLength + 240) / 255 | 0) >= limit) return false
    const token = d++
    dst[token] = (Math.min(literals, 15) << 4) | (offset === 0 ? 0 : Math.min(matchLength - MIN_MATCH, 15))
    if (literals >= 15) d = writeLength(dst, d, literals - 15)
    dst.set(src.subarray(anchor, literalEnd), d)
    d += literals
    if (offset === 0) return true
    dst[d++] = offset & 0xff
    dst[d++] = offset >>> 8
    if (matchLength - MIN_MATCH >= 15) d = writeLength(dst, d, matchLength - MIN_MATCH - 15)
    return true
  }
  if (end - start >= MF_LIMIT + 1) {
    table.fill(0)
    const mfLimit = end - MF_LIMIT
    const matchLimit = end - LAST_LITERALS
    let ip = start
    let misses = 0
    while (ip < mfLimit) {
      const sequence = read32(src, ip)
      const h = hash(sequence)
      const ref = table[h]! - 1
      table[h] = ip + 1
      if (ref >= start && ip - ref <= MAX_OFFSET && read32(src, ref) === sequence) {
        let length = MIN_MATCH
        while (ip + length < matchLimit && src[ip + length] === src[ref + length]) length++
        if (!emit(ip, ip - ref, length)) return -1
        ip += length
        anchor = ip
        misses = 0
        if (ip - 2 >= start && ip - 2 < mfLimit) table[hash(read32(src, ip - 2))] = ip - 2 + 1
      } else {
        // Skip faster through data that does not match, as the reference encoder does.
        ip += 1 + (misses++ >> 6)
      }
    }
  }
  if (!emit(end, 0, 0)) return -1
  return d
}

// ---------------------------------------------------------------------------------------------
// Frames
// ---------------------------------------------------------------------------------------------

/** An LZ4 frame of `src` as lz4-java's `LZ4FrameOutputStream` writes it by default. */
export const encodeFrame = (src: Uint8Array, blockSize = JAVA_BLOCK_SIZE): Uint8Array => {
  const blocks = Math.max(1, Math.ceil(src.length / blockSize))
  const out = new Uint8Array(7 + blocks * 4 + src.length + 4)
  const view = new DataView(out.buffer)
  view.setUint32(0, MAGIC, true)
  out[4] = 0x60 // version 01, independent blocks
  out[5] = ({ [64 * 1024]: 4, [256 * 1024]: 5, [1024 * 1024]: 6, [4 * 1024 * 1024]: 7 }[blockSize] ?? 7) << 4
  out[6] = (xxh32(out, 4, 6) >>> 8) & 0xff
  let d = 7
  const table = new Int32Array(1 << HASH_LOG)
  for (let start = 0; start < src.length; start += blockSize) {
    const end = Math.min(src.length, start + blockSize)
    const written = encodeBlock(src, start, end, out, d + 4, table)
    if (written < 0) {
      view.setUint32(d, (end - start) | 0x80000000, true)
      out.set(src.subarray(start, end), d + 4)
      d += 4 + end - start
    } else {
      view.setUint32(d, written - d - 4, true)
      d = written
    }
  }
  view.setUint32(d, 0, true)
  return out.slice(0, d + 4)
}

interface Descriptor {
  readonly independent: boolean
  readonly blockChecksum: boolean
  readonly contentChecksum: boolean
  readonly contentSize: number | undefined
  readonly maxBlock: number
  readonly headerEnd: number
}

const readDescriptor = (src: Uint8Array, at: number): Descriptor | string => {
  if (src.length - at < 7) return "the frame header is truncated"
  const flg = src[at + 4]!
  const bd = src[at + 5]!
  if (flg >>> 6 !== 1) return `unsupported frame version ${flg >>> 6} (only 01 exists)`
  if ((flg & 0x02) !== 0 || (bd & 0x8f) !== 0) return "reserved bits of the frame descriptor are set"
  if ((flg & 0x01) !== 0) return "the frame needs a dictionary, which RocketMQ never uses"
  const maxBlock = BLOCK_SIZES[(bd >>> 4) & 7]
  if (maxBlock === undefined) return `unknown block maximum size code ${(bd >>> 4) & 7}`
  const hasSize = (flg & 0x08) !== 0
  const headerEnd = at + 6 + (hasSize ? 8 : 0) + 1
  if (src.length < headerEnd) return "the frame header is truncated"
  let contentSize: number | undefined
  if (hasSize) {
    const size = new DataView(src.buffer, src.byteOffset + at + 6, 8).getBigUint64(0, true)
    if (size > BigInt(Number.MAX_SAFE_INTEGER)) return `the frame announces ${size} bytes of content`
    contentSize = Number(size)
  }
  const checksum = (xxh32(src, at + 4, headerEnd - 1) >>> 8) & 0xff
  if (checksum !== src[headerEnd - 1]) return "the frame header checksum does not match"
  return {
    independent: (flg & 0x20) !== 0,
    blockChecksum: (flg & 0x10) !== 0,
    contentChecksum: (flg & 0x04) !== 0,
    contentSize,
    maxBlock,
    headerEnd
  }
}

/** Decodes one frame starting at `at` onto `out`; returns where the frame ends. */
const decodeOneFrame = (src: Uint8Array, at: number, out: Output): number | string => {
  const descriptor = readDescriptor(src, at)
  if (typeof descriptor === "string") return descriptor
  const frameStart = out.pos
  let s = descriptor.headerEnd
  for (;;) {
    if (src.length - s < 4) return "the frame ends before its end mark"
    const word = read32(src, s)
    s += 4
    if (word === 0) break
    const size = word & 0x7fffffff
    const stored = (word & 0x80000000) !== 0
    if (size > descriptor.maxBlock) return `a block of ${size} bytes exceeds the frame's ${descriptor.maxBlock}-byte maximum`
    if (src.length - s < size + (descriptor.blockChecksum ? 4 : 0)) return "the frame ends inside a block"
    if (descriptor.blockChecksum && xxh32(src, s, s + size) !== read32(src, s + size)) return "a block checksum does not match"
    const blockStart = out.pos
    if (stored) {
      const room = out.ensure(size)
      if (room !== undefined) return room
      out.buf.set(src.subarray(s, s + size), out.pos)
      out.pos += size
    } else {
      const failed = decodeBlock(src, s, s + size, out, descriptor.independent ? blockStart : frameStart)
      if (failed !== undefined) return failed
    }
    if (out.pos - blockStart > descriptor.maxBlock) return `a block decodes to more than the frame's ${descriptor.maxBlock}-byte maximum`
    s += size + (descriptor.blockChecksum ? 4 : 0)
  }
  const length = out.pos - frameStart
  if (descriptor.contentSize !== undefined && descriptor.contentSize !== length) {
    return `the frame announces ${descriptor.contentSize} bytes of content but holds ${length}`
  }
  if (descriptor.contentChecksum) {
    if (src.length - s < 4) return "the frame ends inside its content checksum"
    if (xxh32(out.buf, frameStart, out.pos) !== read32(src, s)) return "the content checksum does not match"
    s += 4
  }
  return s
}

/**
 * Decodes every frame of `src` (frames back to back; skippable frames skipped), refusing more
 * than `maxBytes` of output. Returns the content, or a sentence saying what is wrong.
 */
export const decodeFrames = (src: Uint8Array, maxBytes: number): Uint8Array | string => {
  if (src.length === 0) return "the body is empty, not an LZ4 frame"
  const out = new Output(src.length * 3, maxBytes)
  let at = 0
  while (at < src.length) {
    if (src.length - at < 4) return `${src.length - at} stray bytes after the last frame`
    const magic = read32(src, at)
    if (((magic & SKIPPABLE_MASK) >>> 0) === SKIPPABLE_MAGIC) {
      if (src.length - at < 8) return "a skippable frame is truncated"
      const size = read32(src, at + 4)
      if (size > src.length - at - 8) return "a skippable frame is truncated"
      at += 8 + size
      continue
    }
    if (magic !== MAGIC) {
      return `not an LZ4 frame: magic 0x${magic.toString(16).padStart(8, "0")} at byte ${at} (expected 0x184d2204)`
    }
    const next = decodeOneFrame(src, at, out)
    if (typeof next === "string") return next
    at = next
  }
  return out.buf.subarray(0, out.pos)
}
