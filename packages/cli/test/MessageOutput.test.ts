/**
 * How `rmq consume` prints a body, and how it reads `--from`: pure functions, checked directly.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fc from "fast-check"
import * as Client from "../src/Client.ts"
import * as MessageOutput from "../src/MessageOutput.ts"

const decode = (printed: MessageOutput.PrintableBody): Buffer =>
  printed.encoding === "utf8" ? Buffer.from(printed.text, "utf8") : Buffer.from(printed.text, "base64")

describe("MessageOutput.body", () => {
  it("gives back exactly the bytes of any body, as text only when it is readable UTF-8", () =>
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 256 }), fc.string({ unit: "grapheme", maxLength: 64 }).map((s) => new TextEncoder().encode(s))),
        (bytes) => {
          const printed = MessageOutput.body(bytes)
          expect(decode(printed)).toEqual(Buffer.from(bytes))
          if (printed.encoding === "utf8") {
            assert.notMatch(printed.text, /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/)
          }
        }
      ),
      { numRuns: 500 }
    ))

  it("prints text with tabs and line breaks as text, and invalid UTF-8 or control bytes as base64", () => {
    expect(MessageOutput.body(new TextEncoder().encode("héllo\tworld\r\n✓"))).toEqual({ encoding: "utf8", text: "héllo\tworld\r\n✓" })
    expect(MessageOutput.body(new Uint8Array([0xc3, 0x28]))).toEqual({ encoding: "base64", text: "wyg=" })
    expect(MessageOutput.body(new Uint8Array([0x61, 0x00, 0x62]))).toEqual({ encoding: "base64", text: "YQBi" })
    expect(MessageOutput.body(new TextEncoder().encode("\u001b[31mred"))).toMatchObject({ encoding: "base64" })
  })

  it("reads a body that is a view into a larger buffer from its own bytes only", () => {
    const buffer = new Uint8Array([0xff, 0x68, 0x69, 0xff])
    expect(MessageOutput.body(buffer.subarray(1, 3))).toEqual({ encoding: "utf8", text: "hi" })
  })
})

describe("Client.startingPoint", () => {
  it.effect("reads first and last as Java's first and last offset, a time as CONSUME_FROM_TIMESTAMP", () =>
    Effect.gen(function*() {
      expect(yield* Client.startingPoint("first")).toEqual({ consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" })
      expect(yield* Client.startingPoint("last")).toEqual({ consumeFromWhere: "CONSUME_FROM_LAST_OFFSET" })
      expect(yield* Client.startingPoint("2026-11-30T12:00:00Z")).toEqual({
        consumeFromWhere: "CONSUME_FROM_TIMESTAMP",
        consumeTimestamp: Date.UTC(2026, 10, 30, 12)
      })
      expect(yield* Client.startingPoint("1764504000000")).toEqual({
        consumeFromWhere: "CONSUME_FROM_TIMESTAMP",
        consumeTimestamp: 1764504000000
      })
    }))

  it.effect("reads Java's yyyyMMddHHmmss as a local time, including a leap day, as the Java client does", () =>
    Effect.gen(function*() {
      expect(yield* Client.startingPoint("20261130120000")).toEqual({
        consumeFromWhere: "CONSUME_FROM_TIMESTAMP",
        consumeTimestamp: new Date(2026, 10, 30, 12, 0, 0).getTime()
      })
      expect(yield* Client.startingPoint("20280229235959")).toEqual({
        consumeFromWhere: "CONSUME_FROM_TIMESTAMP",
        consumeTimestamp: new Date(2028, 1, 29, 23, 59, 59).getTime()
      })
    }))

  it.effect("refuses anything else with a usage error that says what to give", () =>
    Effect.gen(function*() {
      const refused = [
        ...["yesterday", "2026-13-45T99:00:00Z", "-5", "", "1e3", "9".repeat(20)],
        // yyyyMMddHHmmss with a field out of range: month 13, 31 April, 29 February 2027, hour 24, second 60
        ...["20261330120000", "20260431120000", "20270229120000", "20261130240000", "20261130120060"]
      ]
      for (const from of refused) {
        const error = yield* Effect.flip(Client.startingPoint(from))
        expect(error._tag).toBe("UsageError")
        expect(error.message).toBe(
          `--from ${JSON.stringify(from)}: give first, last, an ISO 8601 time (2026-11-30T12:00:00Z), ` +
            `Java's yyyyMMddHHmmss in local time (20261130120000) or epoch milliseconds`
        )
      }
    }))
})
