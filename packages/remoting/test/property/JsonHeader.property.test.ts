/**
 * Differential test of the JSON header fast path: on any input it either declines (undefined) or
 * produces exactly the command an independent strict JSON parser plus the codec's own reading
 * rules produce (support/ReferenceJson.ts says why the oracle is not JSON.parse); and it does take
 * the layouts real peers write (Java, rocketmq-rust, Go, ours), so the optimisation cannot
 * silently switch itself off.
 */
import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import { Buffer } from "node:buffer"
import * as Codec from "../../src/Codec.ts"
import * as FastJsonHeader from "../../src/internal/fastJsonHeader.ts"
import * as LanguageCode from "../../src/LanguageCode.ts"
import type * as RemotingCommand from "../../src/RemotingCommand.ts"
import * as ReferenceJson from "../support/ReferenceJson.ts"

const plain = (c: RemotingCommand.RemotingCommand | Codec.PreparedFrame | unknown) => {
  if (typeof c !== "object" || c === null || !("code" in c)) return c
  const command = c as RemotingCommand.RemotingCommand
  return { ...command, extFields: Object.entries(command.extFields) }
}

/** The oracle: a strict independent parser, then the codec's reading rules. */
const reference = (bytes: Buffer) => {
  const text = bytes.toString("utf8")
  let parsed: unknown
  try {
    parsed = ReferenceJson.parse(text)
  } catch (e) {
    if (e instanceof ReferenceJson.JsonSyntaxError) return "invalid JSON"
    throw e
  }
  return Codec.fromJsonValue(parsed, text, undefined)
}

const both = (text: string) => {
  const bytes = Buffer.from(text, "utf8")
  const fast = FastJsonHeader.decode(bytes, 0, bytes.length, undefined)
  const slow = reference(bytes)
  return { fast, slow }
}

const ws = fc.constantFrom("", "", "", " ", "\n", "\t ", "\r\n  ")
const text = fc.oneof(
  fc.string({ unit: "grapheme-ascii", maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 8 }),
  fc.constantFrom("", "TopicTest", "__proto__", "constructor", "1", "0", "\\", "\"", "a\u0001b\u0002", "漢字", "\ud800")
)
const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })

/** A JSON value text for a member: mostly well-typed, sometimes not. */
const intValue = fc.oneof(
  { weight: 8, arbitrary: int32.map(String) },
  { weight: 1, arbitrary: fc.constantFrom("null", "-0", "1.0", "1e3", "01", "-", "2147483648", "true", "\"5\"", "[]", "{}") }
)
const stringValue = fc.oneof(
  { weight: 8, arbitrary: text.map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: fc.constantFrom("null", "3", "true", "{}", "[\"a\"]", "\"\\u0041\"", "\"\\ud83d\\ude00\"") }
)
const extValue = fc.oneof(
  { weight: 8, arbitrary: text.map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: fc.constantFrom("null", "true", "false", "12", "1.5", "{}", "[]") }
)
const extObject = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.tuple(text, extValue, ws), { maxLength: 6 }).map((entries) =>
    "{" + entries.map(([k, v, w]) => `${w}${JSON.stringify(k)}${w}:${w}${v}${w}`).join(",") + "}") },
  { weight: 1, arbitrary: fc.constantFrom("null", "[]", "\"x\"", "{\"a\":{\"b\":\"c\"}}", "{\"a\":\"1\",\"a\":null}") }
)
const member = fc.oneof(
  fc.tuple(fc.constant("code"), intValue),
  fc.tuple(fc.constant("flag"), intValue),
  fc.tuple(fc.constant("opaque"), intValue),
  fc.tuple(fc.constant("version"), intValue),
  fc.tuple(fc.constant("language"), fc.oneof(fc.constantFrom(...LanguageCode.all).map((l) => JSON.stringify(l)), stringValue)),
  fc.tuple(fc.constant("remark"), stringValue),
  fc.tuple(fc.constant("extFields"), extObject),
  fc.tuple(fc.constantFrom("serializeTypeCurrentRPC", "__proto__", "unknown", "co\\u0064e"), fc.oneof(stringValue, intValue, fc.constantFrom("[1,2]", "{\"x\":1}", "1.5e-3", "-", "1.2.3")))
)
const header = fc.tuple(fc.array(fc.tuple(member, ws), { maxLength: 10 }), ws, fc.constantFrom("", "", "", "x", "}", ",")).map(
  ([members, w, tail]) => `${w}{${members.map(([[k, v], w2]) => `${w2}"${k}"${w2}:${w2}${v}`).join(",")}}${w}${tail}`
)

describe("JSON header fast path", () => {
  it("either declines or agrees with JSON.parse on arbitrary headers", () => {
    fc.assert(
      fc.property(header, (t) => {
        const { fast, slow } = both(t)
        if (fast !== undefined) expect(plain(fast)).toEqual(plain(slow))
      }),
      { numRuns: 5000 }
    )
  })

  it("either declines or agrees on random bytes and truncations of valid headers", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const b = Buffer.from(bytes)
        const fast = FastJsonHeader.decode(b, 0, b.length, undefined)
        if (fast !== undefined) expect(plain(fast)).toEqual(plain(reference(b)))
      }),
      { numRuns: 3000 }
    )
    const valid = Buffer.from("{\"code\":10,\"extFields\":{\"a\":\"1\"},\"flag\":0,\"language\":\"JAVA\",\"opaque\":7,\"version\":479}")
    for (let n = 0; n < valid.length; n++) {
      const fast = FastJsonHeader.decode(valid, 0, n, undefined)
      if (fast !== undefined) expect(plain(fast)).toEqual(plain(reference(valid.subarray(0, n))))
    }
  })

  it.each([
    ["Java (alphabetical, no remark)", "{\"code\":10,\"extFields\":{\"queueId\":\"1\",\"msgId\":\"7F00\"},\"flag\":0,\"language\":\"RUST\",\"opaque\":7,\"serializeTypeCurrentRPC\":\"JSON\",\"version\":501}"],
    ["rocketmq-rust (explicit nulls)", "{\"code\":0,\"language\":\"RUST\",\"version\":322,\"opaque\":-1234567,\"flag\":1,\"remark\":null,\"extFields\":{\"hasMsg\":\"true\"},\"serializeTypeCurrentRPC\":\"JSON\"}"],
    ["Go (empty remark, no serializeType)", "{\"code\":105,\"language\":\"GO\",\"version\":317,\"opaque\":1,\"flag\":0,\"remark\":\"\",\"extFields\":{\"topic\":\"T\"}}"],
    ["a broker error with a non-ASCII remark", "{\"code\":17,\"flag\":1,\"language\":\"JAVA\",\"opaque\":3,\"remark\":\"No topic route info in name server for the topic: T\\nSee 漢字\",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":479}"],
    ["padded numbers", "{\"code\":0,\"flag\":1,\"language\":\"JAVA\",\"opaque\":123        ,\"serializeTypeCurrentRPC\":\"JSON\",\"version\":479}"]
  ])("takes the layout real peers write: %s", (_, t) => {
    const { fast, slow } = both(t)
    expect(fast).toBeDefined()
    expect(plain(fast)).toEqual(plain(slow))
  })

  it("takes every header our own encoder writes", () => {
    fc.assert(
      fc.property(fc.dictionary(text, text, { maxKeys: 20 }), fc.option(text, { nil: undefined }), int32, (ext, remark, opaque) => {
        const header = Codec.encodeHeader({
          code: 10,
          language: "JAVA",
          version: 479,
          opaque,
          flag: 0,
          remark,
          extFields: ext,
          body: undefined
        }, "JSON")
        const b = Buffer.from(header)
        const fast = FastJsonHeader.decode(b, 0, b.length, undefined)
        const slow = reference(b)
        // Lone surrogates and escapes are decoded per string through JSON.parse: still the fast path.
        expect(fast).toBeDefined()
        expect(plain(fast)).toEqual(plain(slow))
      }),
      { numRuns: 1000 }
    )
  })
})
