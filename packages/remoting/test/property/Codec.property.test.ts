/**
 * Property tests of the codec: encode -> decode is the identity (modulo the documented
 * null/empty rules of ROCKETMQ headers), any chunking of a frame stream decodes to the same
 * commands, and random or mutated bytes never throw: they give a command or a FrameDecodeError.
 * The frame reader (the decoder that owns the memory a socket reads into) decodes any stream read
 * in any sizes as the frame decoder does, bad bytes included, and never lets a later read change a
 * body it delivered.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Result } from "effect"
import fc from "fast-check"
import { Buffer } from "node:buffer"
import * as Codec from "../../src/Codec.ts"
import { FrameReader } from "../../src/internal/frameReader.ts"
import * as LanguageCode from "../../src/LanguageCode.ts"
import * as RemotingCommand from "../../src/RemotingCommand.ts"
import { FrameDecodeError } from "../../src/RemotingError.ts"

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })
const int16 = fc.integer({ min: -32768, max: 32767 })
// Well-formed Unicode (any code point, no lone surrogates): what UTF-8 can carry.
const text = fc.string({ unit: "binary", maxLength: 40 })

// Bodies from 0 bytes to 1 MiB; large ones are filled from a seed rather than drawn byte by byte.
const body = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 256 }) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: 0, max: 255 })).map(([n, seed]) => {
      const bytes = Buffer.allocUnsafe(n)
      for (let i = 0; i < n; i++) bytes[i] = (seed + i * 31) & 0xff
      return bytes
    })
  }
)

const extFields = fc
  .uniqueArray(fc.tuple(fc.oneof(text, fc.constantFrom("__proto__", "constructor", "toString", "1", "0")), text), {
    maxLength: 200,
    selector: ([key]) => key
  })
  .map((entries) => Object.fromEntries(entries) as Record<string, string>)

const command = (codes: fc.Arbitrary<number>, versions: fc.Arbitrary<number>) =>
  fc
    .record({
      code: codes,
      language: fc.constantFrom(...LanguageCode.all),
      version: versions,
      opaque: int32,
      flag: int32,
      remark: fc.option(text, { nil: undefined }),
      extFields,
      body: fc.option(body, { nil: undefined })
    })
    .map((input) =>
      RemotingCommand.make({
        ...input,
        // Object.fromEntries made "__proto__" an own key; make() copies it as data.
        extFields: input.extFields
      })
    )

const jsonCommand = command(int32, int32)
const binaryCommand = command(int16, int16)

/** What a ROCKETMQ header carries back: zero-length strings are null to Java. */
const binaryView = (c: RemotingCommand.RemotingCommand) =>
  RemotingCommand.make({
    ...c,
    remark: c.remark === "" ? undefined : c.remark,
    extFields: Object.fromEntries(Object.entries(c.extFields).filter(([k, v]) => k !== "" && v !== ""))
  })

const plain = (c: RemotingCommand.RemotingCommand) => ({
  code: c.code,
  language: c.language,
  version: c.version,
  opaque: c.opaque,
  flag: c.flag,
  remark: c.remark,
  extFields: Object.entries(c.extFields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  body: c.body === undefined ? undefined : Buffer.from(c.body.buffer, c.body.byteOffset, c.body.byteLength).toString("base64")
})

const decodeAll = (decoder: Codec.FrameDecoder, chunks: ReadonlyArray<Uint8Array>) => {
  const out: Array<RemotingCommand.RemotingCommand> = []
  for (const chunk of chunks) {
    const r = decoder.push(chunk)
    if (Result.isFailure(r)) return r.failure
    out.push(...r.success)
  }
  return out
}

const maxFrameLength = 4 * 1024 * 1024

describe("codec properties", () => {
  it("JSON: encode -> decode is the identity", () => {
    fc.assert(
      fc.property(jsonCommand, (c) => {
        const decoded = decodeAll(new Codec.FrameDecoder({ maxFrameLength }), [Codec.encodeFrame(c, "JSON")])
        assert(Array.isArray(decoded) && decoded.length === 1)
        expect(plain(decoded[0]!)).toEqual(plain(c))
      }),
      { numRuns: 300 }
    )
  })

  it("ROCKETMQ: encode -> decode is the identity modulo zero-length strings", () => {
    fc.assert(
      fc.property(binaryCommand, (c) => {
        const frame = Codec.encodeFrame(c, "ROCKETMQ")
        expect(frame[4]).toBe(1)
        const decoded = decodeAll(new Codec.FrameDecoder({ maxFrameLength }), [frame])
        assert(Array.isArray(decoded) && decoded.length === 1)
        expect(plain(decoded[0]!)).toEqual(plain(binaryView(c)))
      }),
      { numRuns: 300 }
    )
  })

  it("any split of a stream of frames into chunks decodes to the same commands", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(binaryCommand, fc.constantFrom("JSON" as const, "ROCKETMQ" as const)), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.boolean(),
        (items, cuts, byteByByte) => {
          const expected = items.map(([c, type]) => plain(type === "ROCKETMQ" ? binaryView(c) : c))
          const stream = Buffer.concat(items.map(([c, type]) => Codec.encodeFrame(c, type)))
          let chunks: Array<Uint8Array>
          if (byteByByte && stream.length <= 4096) {
            chunks = Array.from({ length: stream.length }, (_, i) => stream.subarray(i, i + 1))
          } else {
            const points = [...new Set(cuts.map((n) => n % (stream.length + 1)))].sort((a, b) => a - b)
            chunks = [0, ...points].map((start, i) => stream.subarray(start, [...points, stream.length][i]))
          }
          const decoder = new Codec.FrameDecoder({ maxFrameLength })
          const decoded = decodeAll(decoder, chunks)
          assert(Array.isArray(decoded))
          expect(decoded.map(plain)).toEqual(expected)
          expect(decoder.bufferedBytes).toBe(0)
        }
      ),
      { numRuns: 150 }
    )
  })
})

describe("fuzz: hostile bytes never throw or hang", () => {
  const feed = (chunks: ReadonlyArray<Uint8Array>) => {
    const decoder = new Codec.FrameDecoder({ maxFrameLength: 1 << 16 })
    for (const chunk of chunks) {
      const r = decoder.push(chunk)
      if (Result.isFailure(r)) {
        expect(r.failure).toBeInstanceOf(FrameDecodeError)
        expect(r.failure.message.length).toBeGreaterThan(0)
        // Terminal: the same error again, nothing buffered.
        const again = decoder.push(chunk)
        assert(Result.isFailure(again) && again.failure === r.failure)
        expect(decoder.bufferedBytes).toBe(0)
        return
      }
      for (const command of r.success) expect(typeof command.code).toBe("number")
    }
  }

  it("random bytes in random chunks", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => feed(chunks)),
      { numRuns: 2000 }
    )
  })

  it("random bytes behind a plausible frame prefix", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(0, 1, 2, 0x7f), (payload, type) => {
        const frame = Buffer.alloc(8 + payload.length)
        frame.writeInt32BE(4 + payload.length, 0)
        frame.writeInt32BE((type << 24) | Math.min(payload.length, 0xffffff), 4)
        Buffer.from(payload).copy(frame, 8)
        feed([frame])
      }),
      { numRuns: 2000 }
    )
  })

  it("valid frames with bytes flipped, inserted or removed", () => {
    fc.assert(
      fc.property(
        binaryCommand,
        fc.constantFrom("JSON" as const, "ROCKETMQ" as const),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom("flip", "insert", "delete")), {
          minLength: 1,
          maxLength: 6
        }),
        (c, type, mutations) => {
          const bytes = Array.from(Codec.encodeFrame(c, type).subarray(0, 2048))
          for (const [at, value, kind] of mutations) {
            const i = at % (bytes.length + 1)
            if (kind === "flip") bytes[Math.min(i, bytes.length - 1)] = value
            else if (kind === "insert") bytes.splice(i, 0, value)
            else bytes.splice(i, 1)
          }
          feed([Uint8Array.from(bytes)])
        }
      ),
      { numRuns: 2000 }
    )
  })
})

/** Bodies around the reader's thresholds: small, about 16 KiB (read straight into their own buffer
 * from there), about 64 KiB (its staging buffer's size) and beyond. */
const readerBody = fc
  .tuple(
    fc.oneof(
      fc.integer({ min: 0, max: 300 }),
      fc.integer({ min: 16 * 1024 - 400, max: 16 * 1024 + 40 }),
      fc.integer({ min: 64 * 1024 - 400, max: 64 * 1024 + 40 }),
      fc.integer({ min: 0, max: 200 * 1024 })
    ),
    fc.integer({ min: 0, max: 255 })
  )
  .map(([n, seed]) => {
    const bytes = Buffer.allocUnsafe(n)
    for (let i = 0; i < n; i++) bytes[i] = (seed + i * 7 + (i >>> 9)) & 0xff
    return n === 0 ? undefined : bytes
  })

/** The most bytes each read may bring: a byte, a few, a segment's worth, anything. */
const readSizes = fc.array(
  fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 1500 }), fc.integer({ min: 1, max: 70_000 })),
  { minLength: 1, maxLength: 20 }
)

/**
 * Feeds `stream` to `reader` as a socket with `onread` does: each read fills at most the next of
 * `sizes` (cyclically) of the buffer the reader offers, and after 2,000 reads all it can (so a
 * large stream in tiny reads stays quick). Stops at the first error.
 */
const readAll = (reader: FrameReader, stream: Buffer, sizes: ReadonlyArray<number>) => {
  const commands: Array<RemotingCommand.RemotingCommand> = []
  let error: FrameDecodeError | undefined
  for (let pos = 0, i = 0; pos < stream.length && error === undefined; i++) {
    const target = reader.next()
    assert.isAbove(target.length, 0, "the reader always offers room for a read")
    const n = Math.min(target.length, stream.length - pos, i < 2000 ? sizes[i % sizes.length]! : Infinity)
    stream.copy(target, 0, pos, pos + n)
    pos += n
    error = reader.read(n, (command) => commands.push(command))
  }
  return { commands, error }
}

/** What the frame decoder makes of `stream` in one chunk: the commands before any error, and the error. */
const viaDecoder = (stream: Buffer, maxFrameLength: number) => {
  const commands: Array<RemotingCommand.RemotingCommand> = []
  const error = new Codec.FrameDecoder({ maxFrameLength }).pushEach(stream, (command) => commands.push(command))
  return { commands, error }
}

describe("frame reader", () => {
  it("any stream of frames read in any sizes decodes to the same commands, bodies intact after later reads", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(binaryCommand, readerBody, fc.constantFrom("JSON" as const, "ROCKETMQ" as const)), {
          minLength: 1,
          maxLength: 8
        }),
        readSizes,
        (items, sizes) => {
          const commands = items.map(([c, body]) => RemotingCommand.make({ ...c, body }))
          const expected = commands.map((c, i) => plain(items[i]![2] === "ROCKETMQ" ? binaryView(c) : c))
          const stream = Buffer.concat(commands.map((c, i) => Codec.encodeFrame(c, items[i]![2])))
          const { commands: decoded, error } = readAll(new FrameReader({ maxFrameLength }), stream, sizes)
          expect(error).toBeUndefined()
          // Compared only now: a body that were a view of reused memory would have changed.
          expect(decoded.map(plain)).toEqual(expected)
        }
      ),
      { numRuns: 100 }
    )
  }, 30_000)

  it("hostile bytes: the frame decoder's commands and error, then terminal; never a throw", () => {
    const frameOf = (payload: Uint8Array, type: number, headerLength: number) => {
      const frame = Buffer.alloc(8 + payload.length)
      frame.writeInt32BE(4 + payload.length, 0)
      frame.writeInt32BE((type << 24) | (headerLength & 0xffffff), 4)
      Buffer.from(payload).copy(frame, 8)
      return frame
    }
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 64 }),
            fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(0, 1, 2, 0x7f), fc.nat(400)).map(([p, t, h]) =>
              frameOf(p, t, h)
            ),
            binaryCommand.map((c) => Codec.encodeFrame(c, "JSON").subarray(0, 4096))
          ),
          { minLength: 1, maxLength: 6 }
        ),
        readSizes,
        (parts, sizes) => {
          const stream = Buffer.concat(parts)
          const reader = new FrameReader({ maxFrameLength: 1 << 16 })
          const read = readAll(reader, stream, sizes)
          const decoded = viaDecoder(stream, 1 << 16)
          expect(read.commands.map(plain)).toEqual(decoded.commands.map(plain))
          expect([read.error?.reason, read.error?.message]).toEqual([decoded.error?.reason, decoded.error?.message])
          if (read.error !== undefined) {
            expect(reader.read(1, () => assert.fail("a terminal reader delivers nothing"))).toBe(read.error)
            expect(reader.error).toBe(read.error)
          }
        }
      ),
      { numRuns: 2000 }
    )
  })
})
