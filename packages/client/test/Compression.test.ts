import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fc from "fast-check"
import { generatedBody } from "../../../scripts/java/JavaClient.ts"
import { CompressionError } from "../src/ClientError.ts"
import * as Compression from "../src/Compression.ts"
import * as Lz4 from "../src/internal/lz4.ts"
import { JAVA_COMPRESSED } from "./fixtures/javaCompressed.ts"

// Property tests run hundreds of (de)compressions: CPU-bound, so slow on a loaded shared machine.
const PROPERTY_TIMEOUT = 60_000

const bytes = (base64: string) => new Uint8Array(Buffer.from(base64, "base64"))
const text = (s: string) => new TextEncoder().encode(s)
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex")
const le32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]

/** A frame header with `flg` and `bd`, its checksum computed, and optional content size. */
const header = (flg: number, bd: number, contentSize?: number): Array<number> => {
  const descriptor = [flg, bd, ...(contentSize === undefined ? [] : [...le32(contentSize), 0, 0, 0, 0])]
  const hc = (Lz4.xxh32(Uint8Array.from(descriptor)) >>> 8) & 0xff
  return [0x04, 0x22, 0x4d, 0x18, ...descriptor, hc]
}

/** A compressed-data arbitrary: random runs, repeats and literals, so matches of every length occur. */
const compressible = fc.array(
  fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 300 })).map(([unit, times]) => {
      const out = new Uint8Array(unit.length * times)
      for (let i = 0; i < times; i++) out.set(unit, i * unit.length)
      return out
    })
  ),
  { maxLength: 40 }
).map((parts) => Uint8Array.from(parts.flatMap((p) => [...p])))

describe("Compression", () => {
  it("maps each type to Java's sysFlag bits and back; type 0 is ZLIB and 5–7 are unknown", () => {
    assert.strictEqual(Compression.sysFlagOf("LZ4"), 0x101)
    assert.strictEqual(Compression.sysFlagOf("ZSTD"), 0x201)
    assert.strictEqual(Compression.sysFlagOf("ZLIB"), 0x301)
    for (const type of Compression.types) assert.strictEqual(Compression.typeOfSysFlag(Compression.sysFlagOf(type) | 0x30), type)
    assert.strictEqual(Compression.typeOfSysFlag(0x300), undefined)
    assert.strictEqual(Compression.typeOfSysFlag(0x1), "ZLIB")
    assert.strictEqual(Compression.typeOfSysFlag(0x501), "unknown")
  })

  for (const type of Compression.types) {
    it(`decompresses the ${type} body the Java 5.3.3 producer wrote to the original bytes`, () => {
      const sample = JAVA_COMPRESSED[type]
      assert.strictEqual(Compression.typeOfSysFlag(sample.sysFlag), type)
      const out = Compression.decompressSync(type, bytes(sample.body))
      assert.deepStrictEqual(out, generatedBody(0, 5000))
    })

    it(`round-trips any body through ${type} (property)`, () =>
      fc.assert(
        fc.property(fc.oneof(fc.uint8Array({ maxLength: 20_000 }), compressible), (body) => {
          const packed = Compression.compressSync(type, body)
          assert(packed instanceof Uint8Array)
          assert.deepStrictEqual(Compression.decompressSync(type, packed), body)
        }),
        { numRuns: 100 }
      ), PROPERTY_TIMEOUT)

    it(`refuses a ${type} body that would decompress beyond maxBytes, with a typed error`, () => {
      const packed = Compression.compressSync(type, new Uint8Array(100_000)) as Uint8Array
      const out = Compression.decompressSync(type, packed, { maxBytes: 50_000 })
      assert(out instanceof CompressionError, String(out))
      assert.strictEqual(out.operation, "decompress")
      assert.match(out.message, /50000 bytes/)
    })

    it(`fails ${type} garbage with a typed error, never an exception`, () =>
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (garbage) => {
          const out = Compression.decompressSync(type, garbage, { maxBytes: 1 << 20 })
          if (out instanceof CompressionError) assert.strictEqual(out.compression, type)
        }),
        { numRuns: 200 }
      ), PROPERTY_TIMEOUT)
  }

  it.effect("compress and decompress are Effects failing with CompressionError", () =>
    Effect.gen(function*() {
      const packed = yield* Compression.compress("LZ4", text("effect effect effect effect effect"))
      assert.deepStrictEqual(yield* Compression.decompress("LZ4", packed), text("effect effect effect effect effect"))
      const error = yield* Effect.flip(Compression.decompress("ZLIB", text("not zlib")))
      assert.strictEqual(error._tag, "CompressionError")
      assert.isFalse(error.isRetryable)
    }))
})

describe("LZ4 frames", () => {
  it("computes xxHash32 as the reference implementation does", () => {
    assert.strictEqual(Lz4.xxh32(text("")), 0x02cc5d05)
    assert.strictEqual(Lz4.xxh32(text("a")), 0x550d7456)
    assert.strictEqual(Lz4.xxh32(text("abc")), 0x32d153ff)
    assert.strictEqual(Lz4.xxh32(text("Nobody inspects the spammish repetition")), 0xe2293b2f)
  })

  it("writes the frame layout of lz4-java's LZ4FrameOutputStream: its header, LE block sizes, an end mark", () => {
    const frame = Lz4.encodeFrame(generatedBody(0, 5000))
    const java = bytes(JAVA_COMPRESSED.LZ4.body)
    assert.strictEqual(hex(frame.subarray(0, 7)), "04224d18607073")
    assert.strictEqual(hex(frame.subarray(0, 7)), hex(java.subarray(0, 7)))
    const blockSize = frame[7]! | (frame[8]! << 8) | (frame[9]! << 16) | (frame[10]! << 24)
    assert.isBelow(blockSize, 5000, "the block is compressed (high bit clear, smaller than its input)")
    assert.strictEqual(frame.length, 7 + 4 + blockSize + 4)
    assert.strictEqual(hex(frame.subarray(-4)), "00000000")
  })

  it("stores an incompressible block uncompressed (size high bit set) and reads it back", () => {
    const body = generatedBody(7, 3000, "random")
    const frame = Lz4.encodeFrame(body)
    assert.strictEqual(frame[10]! & 0x80, 0x80)
    assert.strictEqual(frame.length, 7 + 4 + 3000 + 4)
    assert.deepStrictEqual(Lz4.decodeFrames(frame, 1 << 20), body)
  })

  it("splits bodies over 4 MiB into 4 MiB blocks, as Java does", () => {
    const body = new Uint8Array(9 * 1024 * 1024).map((_, i) => (i * 7) % 251)
    const frame = Lz4.encodeFrame(body)
    let at = 7
    let blocks = 0
    for (;;) {
      const size = (frame[at]! | (frame[at + 1]! << 8) | (frame[at + 2]! << 16) | (frame[at + 3]! << 24)) & 0x7fffffff
      at += 4 + size
      if (size === 0) break
      blocks++
    }
    assert.strictEqual(blocks, 3)
    assert.deepStrictEqual(Lz4.decodeFrames(frame, 16 << 20), body)
  }, PROPERTY_TIMEOUT)

  it("reads frames with content size, block and content checksums, and rejects each corrupted checksum", () => {
    const content = text("abcdabcdabcdabcd-tail")
    // One uncompressed block with its checksum, then the content checksum.
    const blockWord = le32(content.length | 0x80000000)
    const frame = Uint8Array.from([
      ...header(0x40 | 0x20 | 0x10 | 0x08 | 0x04, 0x40, content.length),
      ...blockWord,
      ...content,
      ...le32(Lz4.xxh32(content)),
      0, 0, 0, 0,
      ...le32(Lz4.xxh32(content))
    ])
    assert.deepStrictEqual(Lz4.decodeFrames(frame, 1024), content)
    const badBlock = frame.slice()
    badBlock[7 + 8 + 4 + content.length] = badBlock[7 + 8 + 4 + content.length]! ^ 1
    assert.match(String(Lz4.decodeFrames(badBlock, 1024)), /block checksum/)
    const badContent = frame.slice()
    badContent[badContent.length - 1] = badContent[badContent.length - 1]! ^ 1
    assert.match(String(Lz4.decodeFrames(badContent, 1024)), /content checksum/)
    const badHeader = frame.slice()
    badHeader[6] = badHeader[6]! ^ 1
    assert.match(String(Lz4.decodeFrames(badHeader, 1024)), /header checksum/)
  })

  it("reads linked blocks whose matches reach into the previous block", () => {
    // Block 1: literals "abcdefgh". Block 2: no literals, then a match of 8 at offset 8, then the
    // final literal "!". With linked blocks (FLG bit 5 clear) block 2 decodes to "abcdefgh!".
    const block1 = [0x80, ...text("abcdefgh")]
    const block2 = [0x04, 8, 0, 0x10, ...text("!")]
    const frame = Uint8Array.from([...header(0x40, 0x40), ...le32(block1.length), ...block1, ...le32(block2.length), ...block2, 0, 0, 0, 0])
    assert.deepStrictEqual(Lz4.decodeFrames(frame, 1024), text("abcdefghabcdefgh!"))
    const independent = frame.slice()
    independent[4] = 0x60
    independent[6] = (Lz4.xxh32(Uint8Array.from([0x60, 0x40])) >>> 8) & 0xff
    assert.match(String(Lz4.decodeFrames(independent, 1024)), /points before the start/)
  })

  it("skips skippable frames and reads frames back to back", () => {
    const a = Lz4.encodeFrame(text("first frame "))
    const b = Lz4.encodeFrame(text("second frame"))
    const skippable = [0x5a, 0x2a, 0x4d, 0x18, ...le32(3), 1, 2, 3]
    const joined = Uint8Array.from([...skippable, ...a, ...b])
    assert.deepStrictEqual(Lz4.decodeFrames(joined, 1024), text("first frame second frame"))
  })

  it("refuses dictionaries, unknown versions, bad magic and stray bytes with a sentence", () => {
    assert.match(String(Lz4.decodeFrames(Uint8Array.from([...header(0x61, 0x70), 0, 0, 0, 0]), 1024)), /dictionary/)
    assert.match(String(Lz4.decodeFrames(Uint8Array.from([...header(0x80, 0x70), 0, 0, 0, 0]), 1024)), /version/)
    assert.match(String(Lz4.decodeFrames(text("hello world"), 1024)), /not an LZ4 frame: magic 0x6c6c6568/)
    assert.match(String(Lz4.decodeFrames(Uint8Array.from([...Lz4.encodeFrame(text("x")), 1, 2]), 1024)), /stray bytes/)
  })

  it("fails every truncation of a valid frame with a sentence, never an exception or a wrong result (property)", () => {
    const frame = Lz4.encodeFrame(generatedBody(3, 2000))
    for (let cut = 0; cut < frame.length; cut++) {
      const out = Lz4.decodeFrames(frame.subarray(0, cut), 1 << 20)
      assert.strictEqual(typeof out, "string", `prefix of ${cut} bytes`)
    }
  })

  it("decodes what it encodes for compressible and random data alike (property)", () =>
    fc.assert(
      fc.property(fc.oneof(compressible, fc.uint8Array({ maxLength: 70_000 })), (body) => {
        assert.deepStrictEqual(Lz4.decodeFrames(Lz4.encodeFrame(body), 1 << 20), body)
      }),
      { numRuns: 200 }
    ), PROPERTY_TIMEOUT)

  it("never throws on arbitrary frame-shaped garbage (property)", () =>
    fc.assert(
      fc.property(fc.constantFrom(0x60, 0x40, 0x70, 0x64, 0x68), fc.uint8Array({ maxLength: 200 }), (flg, rest) => {
        const frame = Uint8Array.from([...header(flg, 0x40), ...rest])
        const out = Lz4.decodeFrames(frame, 4096)
        assert(typeof out === "string" || out.length <= 4096)
      }),
      { numRuns: 500 }
    ), PROPERTY_TIMEOUT)
})
