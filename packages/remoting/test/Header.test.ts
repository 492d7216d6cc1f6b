import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as Header from "../src/Header.ts"
import * as RemotingCommand from "../src/RemotingCommand.ts"

const PullHeader = Header.make("PullMessageRequestHeader", {
  consumerGroup: Schema.String,
  queueId: Header.Int,
  queueOffset: Header.Long,
  suspendTimeoutMillis: Header.LongNumber,
  commitOffset: Schema.optionalKey(Header.Long),
  subscription: Schema.optionalKey(Schema.String),
  lo: Schema.optionalKey(Header.Boolean)
})

describe("Header", () => {
  it.effect("encodes fields as Java's toString() would: decimal numbers, true/false, absent optionals left out", () =>
    Effect.gen(function*() {
      const ext = yield* PullHeader.encode({
        consumerGroup: "g",
        queueId: -1,
        queueOffset: 9223372036854775807n,
        suspendTimeoutMillis: 15000,
        lo: false
      })
      expect(ext).toEqual({
        consumerGroup: "g",
        queueId: "-1",
        queueOffset: "9223372036854775807",
        suspendTimeoutMillis: "15000",
        lo: "false"
      })
      expect(Object.getPrototypeOf(Object.getPrototypeOf(ext))).toBeNull()
    }))

  it.effect("decodes from extFields and ignores keys it does not declare", () =>
    Effect.gen(function*() {
      const command = RemotingCommand.make({
        code: 11,
        extFields: {
          consumerGroup: "g",
          queueId: "+3",
          queueOffset: "-9223372036854775808",
          suspendTimeoutMillis: "007",
          lo: "TRUE",
          other: "x"
        }
      })
      const header = yield* PullHeader.decode(command.extFields)
      expect(header).toEqual({
        consumerGroup: "g",
        queueId: 3,
        queueOffset: -9223372036854775808n,
        suspendTimeoutMillis: 7,
        lo: true
      })
    }))

  it.effect("names every missing or malformed field in one error", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        PullHeader.decode(RemotingCommand.make({ code: 11, extFields: { queueId: "1.5", queueOffset: "x", lo: "yes" } }).extFields)
      )
      expect(error._tag).toBe("HeaderError")
      expect(error.message).toContain("PullMessageRequestHeader")
      expect(error.message).toContain("consumerGroup")
      expect(error.message).toContain("queueId")
      expect(error.message).toContain("queueOffset")
      expect(error.message).toContain("lo")
      expect(error.direction).toBe("decode")
    }))

  it.effect("rejects numbers outside the Java type's range", () =>
    Effect.gen(function*() {
      const Ints = Header.make("Ints", { i: Header.Int })
      const Longs = Header.make("Longs", { l: Header.Long })
      const Safe = Header.make("Safe", { n: Header.LongNumber })
      assert.strictEqual((yield* Ints.decode({ i: "2147483647" })).i, 2147483647)
      expect((yield* Effect.flip(Ints.decode({ i: "2147483648" })))._tag).toBe("HeaderError")
      expect((yield* Effect.flip(Longs.decode({ l: "9223372036854775808" })))._tag).toBe("HeaderError")
      const tooBig = yield* Effect.flip(Safe.decode({ n: "9007199254740993" }))
      expect(tooBig.message).toContain("Header.Long")
      expect((yield* Effect.flip(Ints.encode({ i: 1.5 })))._tag).toBe("HeaderError")
    }))

  it.effect("reads hostile extFields keys as data", () =>
    Effect.gen(function*() {
      const H = Header.make("H", { constructor: Schema.optionalKey(Schema.String), topic: Schema.String })
      const decoded = yield* H.decode(RemotingCommand.make({ code: 1, extFields: { topic: "t" } }).extFields)
      expect(decoded).toEqual({ topic: "t" })
    }))
})
