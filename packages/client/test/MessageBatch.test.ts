import { assert, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fc from "fast-check"
import * as MessageBatch from "../src/MessageBatch.ts"
import * as Properties from "../src/Properties.ts"

const name = fc.string({ minLength: 1, maxLength: 12, unit: "binary" }).filter((s) => !/[\u0001\u0002]/.test(s))
const value = fc.string({ minLength: 1, maxLength: 24, unit: "binary" }).filter((s) => !s.includes("\u0002"))
const element = fc.record({
  flag: fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }),
  body: fc.uint8Array({ maxLength: 300 }),
  properties: fc.dictionary(name, value, { maxKeys: 6 }).map((d) => Properties.fromEntries(Object.entries(d)))
})

describe("MessageBatch", () => {
  it("writes Java's MessageDecoder.encodeMessage layout: size, magic 0, crc 0, flag, body, int16 properties", () => {
    const body = MessageBatch.encodeSync([
      { flag: 7, body: new Uint8Array([0xaa, 0xbb]), properties: Properties.fromEntries([["TAGS", "t"], ["UNIQ_KEY", "X"]]) }
    ])
    assert.notInstanceOf(body, Error)
    // 20 fixed bytes + 2 body + 2 length + 18 properties = 42 (0x2a).
    assert.strictEqual(
      Buffer.from(body as Uint8Array).toString("hex"),
      "0000002a" + "00000000" + "00000000" + "00000007" + "00000002" + "aabb" + "0012" +
        Buffer.from("TAGS\u0001t\u0002UNIQ_KEY\u0001X\u0002").toString("hex")
    )
  })

  it("reads back what it writes, element for element, for any flags, bodies and properties (fast-check)", () => {
    fc.assert(
      fc.property(fc.array(element, { maxLength: 8 }), (elements) => {
        const encoded = MessageBatch.encodeSync(elements)
        if (encoded instanceof Error) return false
        const decoded = MessageBatch.decodeSync(encoded)
        if (decoded instanceof Error) return false
        expect(decoded.map((e) => ({ flag: e.flag, body: [...e.body], properties: { ...e.properties } })))
          .toEqual(elements.map((e) => ({ flag: e.flag, body: [...e.body], properties: { ...e.properties } })))
        return true
      })
    )
  })

  it("reports a cut or inconsistent body as MessageDecodeError at the element where it breaks (fast-check)", () => {
    fc.assert(
      fc.property(fc.array(element, { minLength: 1, maxLength: 4 }), fc.nat(), (elements, seed) => {
        const encoded = MessageBatch.encodeSync(elements) as Uint8Array
        const cut = seed % encoded.length
        const decoded = MessageBatch.decodeSync(encoded.subarray(0, cut))
        // Cutting at an element boundary leaves a shorter, valid batch; anywhere else is an error.
        if (!(decoded instanceof Error)) return decoded.length < elements.length
        return decoded._tag === "MessageDecodeError" && decoded.offset <= cut
      })
    )
    const twoElements = Buffer.from(MessageBatch.encodeSync([
      { flag: 0, body: new Uint8Array(3), properties: Properties.fromEntries([]) },
      { flag: 0, body: new Uint8Array(3), properties: Properties.fromEntries([]) }
    ]) as Uint8Array)
    twoElements.writeInt32BE(1, 25 + 16) // the second element's lengths no longer add up to its size
    expect(MessageBatch.decodeSync(twoElements)).toMatchObject({ _tag: "MessageDecodeError", reason: "SizeMismatch", offset: 25 })
  })

  it.effect("refuses properties that cannot be encoded and flags outside 32 bits", () =>
    Effect.gen(function*() {
      const tooLong = yield* Effect.flip(MessageBatch.encode([
        { flag: 0, body: new Uint8Array(1), properties: Properties.fromEntries([["big", "v".repeat(40000)]]) }
      ]))
      expect(tooLong.message).toContain("batch element 0")
      const badFlag = yield* Effect.flip(MessageBatch.encode([{ flag: 2 ** 31, body: new Uint8Array(1), properties: Properties.fromEntries([]) }]))
      expect(badFlag.message).toContain("not a 32-bit integer")
    }))
})
