import { assert, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fc from "fast-check"
import * as Properties from "../src/Properties.ts"

// Names and values Java reads back as written: non-empty, no \u0002, and no \u0001 in names.
const name = fc.string({ minLength: 1, maxLength: 12, unit: "binary" }).filter((s) => !/[\u0001\u0002]/.test(s))
const value = fc.string({ minLength: 1, maxLength: 24, unit: "binary" }).filter((s) => !s.includes("\u0002"))
const record = fc.dictionary(name, value, { maxKeys: 12 })

describe("Properties", () => {
  it.effect("encodes name \\u0001 value \\u0002 for every entry, the last one included", () =>
    Effect.gen(function*() {
      const text = yield* Properties.encode(Properties.fromEntries([["TAGS", "tagA"], ["KEYS", "k1 k2"]]))
      assert.strictEqual(text, "TAGS\u0001tagA\u0002KEYS\u0001k1 k2\u0002")
      assert.strictEqual(yield* Properties.encode({}), "")
    }))

  it("decodes what it encodes, for any names and values Java keeps (fast-check)", () => {
    fc.assert(
      fc.property(record, (input) => {
        const text = Effect.runSync(Properties.encode(input))
        expect({ ...Properties.decode(text) }).toEqual(input)
      }),
      { numRuns: 300 }
    )
  })

  it("decodes like Java: short segments, empty names and empty values are skipped silently", () => {
    const decoded = Properties.decode(
      "a\u0001b\u0002" + // 3 chars: kept
      "\u0001v\u0002" + // empty name
      "k\u0001\u0002" + // empty value (and too short)
      "ab\u0001\u0002" + // empty value, 3 chars
      "\u0001ab\u0002" + // empty name, 3 chars
      "ab\u0002" + // no separator
      "x\u0001\u0002" + // 2 chars
      "\u0002" + // empty segment
      "key\u0001va\u0001lue\u0002" + // value may contain \u0001 (Java splits at the first)
      "last\u0001unterminated" // no trailing \u0002: still read
    )
    expect({ ...decoded }).toEqual({ a: "b", key: "va\u0001lue", last: "unterminated" })
  })

  it("lets a later duplicate name win, as Java's HashMap.put does", () => {
    expect({ ...Properties.decode("k\u0001one\u0002k\u0001two\u0002") }).toEqual({ k: "two" })
  })

  it("keeps __proto__ and constructor as plain entries, never touching a prototype", () => {
    const decoded = Properties.decode("__proto__\u0001x\u0002constructor\u0001y\u0002")
    assert.strictEqual(Properties.get(decoded, "__proto__"), "x")
    assert.strictEqual(Properties.get(decoded, "constructor"), "y")
    assert.isUndefined(Properties.get(decoded, "toString"))
    assert.isUndefined(({} as Record<string, unknown>)["x"])
    expect(Object.keys(decoded)).toEqual(["__proto__", "constructor"])
  })

  it.effect("refuses what the receiver would drop or split differently", () =>
    Effect.gen(function*() {
      const reason = (input: Properties.Properties) => Effect.map(Effect.flip(Properties.encode(input)), (e) => e.reason)
      assert.strictEqual(yield* reason({ "": "v" }), "EmptyName")
      assert.strictEqual(yield* reason({ k: "" }), "EmptyValue")
      assert.strictEqual(yield* reason({ "a\u0001b": "v" }), "Separator")
      assert.strictEqual(yield* reason({ "a\u0002b": "v" }), "Separator")
      assert.strictEqual(yield* reason({ k: "v\u0002w" }), "Separator")
      // A value with \u0001 survives (Java splits at the first \u0001).
      assert.strictEqual(yield* Properties.encode({ k: "v\u0001w" }), "k\u0001v\u0001w\u0002")
    }))

  it.effect("enforces the 32,767-byte limit on the UTF-8 encoding, not on characters", () =>
    Effect.gen(function*() {
      // "k" + \u0001 + value + \u0002 = value + 3 bytes.
      const fits = yield* Properties.encode({ k: "x".repeat(32764) })
      assert.strictEqual(fits.length, 32767)
      const error = yield* Effect.flip(Properties.encode({ k: "x".repeat(32765) }))
      assert.strictEqual(error._tag, "PropertiesError")
      assert.strictEqual(error.reason, "TooLong")
      expect(error.message).toContain("32768 UTF-8 bytes")
      // 11,000 three-byte characters: 11,000 chars but 33,003 bytes.
      const wide = yield* Effect.flip(Properties.encode({ k: "€".repeat(11000) }))
      assert.strictEqual(wide.reason, "TooLong")
    }))

  it("skips entries whose value is not a string, as Java skips null values", () => {
    const input = { a: "1", b: undefined } as unknown as Properties.Properties
    assert.strictEqual(Effect.runSync(Properties.encode(input)), "a\u00011\u0002")
  })
})
