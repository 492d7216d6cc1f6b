/**
 * Property tests of the codec: encode -> decode is the identity (modulo the documented
 * null/empty rules of ROCKETMQ headers), any chunking of a frame stream decodes to the same
 * commands, and random or mutated bytes never throw: they give a command or a FrameDecodeError.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Result } from "effect"
import fc from "fast-check"
import { Buffer } from "node:buffer"
import * as Codec from "../../src/Codec.ts"
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
