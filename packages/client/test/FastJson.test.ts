import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as fc from "fast-check"
import * as FastJson from "../src/FastJson.ts"

describe("FastJson", () => {
  it("quotes bare integer keys after { and , (whitespace and minus signs allowed)", () => {
    assert.strictEqual(FastJson.toStandardJson("{0:\"a\"}"), "{\"0\":\"a\"}")
    assert.strictEqual(
      FastJson.toStandardJson("{ 0 :\"a\",\n 12:\"b\",-1:{3:4}}"),
      "{ \"0\" :\"a\",\n \"12\":\"b\",\"-1\":{\"3\":4}}"
    )
  })

  it("leaves text inside strings alone, escaped quotes included", () => {
    const text = "{\"remark\":\"{0:\\\"x\\\",1:2}\",\"k\\\\\":{7:\"{8:\"}}"
    const quoted = FastJson.toStandardJson(text)
    assert.strictEqual(quoted, "{\"remark\":\"{0:\\\"x\\\",1:2}\",\"k\\\\\":{\"7\":\"{8:\"}}")
    expect(JSON.parse(quoted)).toEqual({ remark: "{0:\"x\",1:2}", "k\\": { "7": "{8:" } })
  })

  it("does not end a string at an escaped quote", () => {
    const text = "{\"a\":\"x\\\"{0:1}\"}"
    assert.strictEqual(FastJson.toStandardJson(text), text)
    expect(JSON.parse(text)).toEqual({ a: "x\"{0:1}" })
  })

  it("does not touch numbers in arrays or values", () => {
    const text = "{\"a\":[1,2,3],\"b\":{\"c\":4},\"d\":-5}"
    assert.strictEqual(FastJson.toStandardJson(text), text)
  })

  it("returns standard JSON unchanged (fast-check over JSON.stringify output)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value)
        assert.strictEqual(FastJson.toStandardJson(text), text)
      }),
      { numRuns: 500 }
    )
  })

  it("makes fastjson's bare-key output parse to the standard encoding (fast-check)", () => {
    // fastjson writes Map<Long, V> keys bare; emulate that on random integer-keyed maps.
    fc.assert(
      fc.property(fc.dictionary(fc.integer().map(String), fc.string()), (map) => {
        const standard = JSON.stringify({ m: map })
        const bare = "{\"m\":{" +
          Object.entries(map).map(([k, v]) => `${k}:${JSON.stringify(v)}`).join(",") + "}}"
        expect(JSON.parse(FastJson.toStandardJson(bare))).toEqual(JSON.parse(standard))
      }),
      { numRuns: 300 }
    )
  })

  it.effect("parses bytes and text, and fails with a typed error on what is not JSON", () =>
    Effect.gen(function*() {
      expect(yield* FastJson.parse(new TextEncoder().encode("{0:\"x\"}"))).toEqual({ "0": "x" })
      const error = yield* Effect.flip(FastJson.parse("{0:"))
      assert.strictEqual(error._tag, "JsonParseError")
      expect(error.message).toContain("Not valid JSON")
      assert.strictEqual((yield* Effect.flip(FastJson.parse("{1.5:2}")))._tag, "JsonParseError")
      assert.strictEqual((yield* Effect.flip(FastJson.parse("")))._tag, "JsonParseError")
    }))

  it("turns object keys into strings of their JSON text, as in ConsumeStats' offsetTable", () => {
    const text = "{\"consumeTps\":0.0,\"offsetTable\":{{\"brokerName\":\"broker-a\",\"queueId\":0,\"topic\":\"T\"}:" +
      "{\"brokerOffset\":5},{\"brokerName\":\"b,:{\",\"queueId\":1,\"topic\":\"T\"} : {\"brokerOffset\":7}}}"
    expect(JSON.parse(FastJson.toStandardJson(text))).toEqual({
      consumeTps: 0,
      offsetTable: {
        "{\"brokerName\":\"broker-a\",\"queueId\":0,\"topic\":\"T\"}": { brokerOffset: 5 },
        "{\"brokerName\":\"b,:{\",\"queueId\":1,\"topic\":\"T\"}": { brokerOffset: 7 }
      }
    })
    // Objects that are values, and objects in arrays, are left alone.
    const values = "{\"a\":{\"b\":1},\"c\":[{\"d\":2},{\"e\":3}]}"
    assert.strictEqual(FastJson.toStandardJson(values), values)
  })

  it("makes maps keyed by objects read back as their entries, whatever the keys (fast-check)", () => {
    const queue = fc.record({ brokerName: fc.string(), queueId: fc.integer({ min: 0, max: 1000 }), topic: fc.string() })
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(queue, fc.integer()), { selector: ([q]) => JSON.stringify(q), maxLength: 8 }), (entries) => {
        const fastjson = "{\"offsetTable\":{" + entries.map(([q, v]) => `${JSON.stringify(q)}:${v}`).join(",") + "}}"
        const parsed = Effect.runSync(FastJson.parse(fastjson)) as { offsetTable: Record<string, number> }
        const back = Effect.runSync(FastJson.objectKeyedEntries(Schema.Struct({ brokerName: Schema.String, queueId: Schema.Int, topic: Schema.String }), parsed.offsetTable, "T"))
        expect(back).toEqual(entries)
      }),
      { numRuns: 100 }
    )
  })

  it.effect("reports a map key that is not the expected object as a BodyDecodeError naming the body", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(FastJson.objectKeyedEntries(Schema.Struct({ queueId: Schema.Int }), { "{\"queueId\":\"x\"}": 1 }, "ConsumeStats"))
      expect(error).toMatchObject({ _tag: "BodyDecodeError", body: "ConsumeStats" })
      expect(error.message).toContain("queueId")
      const notJson = yield* Effect.flip(FastJson.objectKeyedEntries(Schema.Struct({ queueId: Schema.Int }), { plain: 1 }, "ConsumeStats"))
      expect(notJson.message).toContain("map key \"plain\"")
    }))
})

