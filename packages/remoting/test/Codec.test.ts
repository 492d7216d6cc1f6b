import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Result } from "effect"
import { Buffer } from "node:buffer"
import * as Codec from "../src/Codec.ts"
import * as RemotingCommand from "../src/RemotingCommand.ts"
import { FrameDecodeError } from "../src/RemotingError.ts"
import * as Vectors from "./fixtures/vectors.ts"

const hex = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")
const fromHex = (s: string) => Buffer.from(s, "hex")

const fieldsOf = (command: RemotingCommand.RemotingCommand) => ({
  code: command.code,
  language: command.language,
  version: command.version,
  opaque: command.opaque,
  flag: command.flag,
  remark: command.remark,
  extFields: Object.entries(command.extFields),
  body: command.body === undefined ? undefined : hex(command.body)
})

const decodeOk = (frame: Uint8Array, options?: { maxFrameLength?: number }) =>
  Effect.runSync(Codec.decodeFrame(frame, options))

const decodeErr = (frame: Uint8Array, options?: { maxFrameLength?: number }): FrameDecodeError => {
  const exit = Effect.runSyncExit(Codec.decodeFrame(frame, options))
  if (Exit.isSuccess(exit)) throw new Error(`expected a decode error, got ${RemotingCommand.describe(exit.value)}`)
  const error = exit.cause.reasons[0]
  assert(error !== undefined && error._tag === "Fail" && error.error instanceof FrameDecodeError)
  return error.error
}

describe("golden vectors (Java's and rocketmq-rust's wire fixtures)", () => {
  for (const vector of Vectors.frames) {
    it(`${vector.name} decodes to exactly the stated fields`, () => {
      expect(fieldsOf(decodeOk(fromHex(vector.hex)))).toEqual(vector.expected)
    })
    if (vector.reencodes) {
      it(`${vector.name} re-encodes to the same bytes`, () => {
        const command = decodeOk(fromHex(vector.hex))
        expect(hex(Codec.encodeFrame(command, vector.serializeType))).toBe(vector.hex)
      })
    } else {
      it(`${vector.name} survives our encoder in both header types`, () => {
        const command = decodeOk(fromHex(vector.hex))
        for (const type of ["JSON", "ROCKETMQ"] as const) {
          expect(fieldsOf(decodeOk(Codec.encodeFrame(command, type)))).toEqual(vector.expected)
        }
      })
    }
  }

  it("V12 is exactly what RemotingCommand.make writes with its defaults", () => {
    const command = RemotingCommand.make({ code: 105, extFields: { topic: "TopicA" } })
    expect(hex(Codec.encodeFrame(command))).toBe(Vectors.frames.find((v) => v.name.startsWith("V12"))!.hex)
  })

  for (const vector of Vectors.binaryHeaders) {
    it(`V2 binary header (${vector.name}) is ${vector.size} bytes and round-trips`, () => {
      const command = RemotingCommand.make({
        code: 103,
        language: "JAVA",
        version: 2333,
        remark: vector.remark,
        extFields: Object.fromEntries(vector.extFields)
      })
      const header = Codec.encodeHeader(command, "ROCKETMQ")
      expect(header.length).toBe(vector.size)
      expect(hex(header)).toBe(vector.hex)
      const decoded = Codec.decodeHeader(fromHex(vector.hex), "ROCKETMQ")
      assert(Result.isSuccess(decoded))
      expect(fieldsOf(decoded.success)).toEqual(fieldsOf(command))
    })
  }

  it("V1 marker word: header length 261 with JSON is 00 00 01 05", () => {
    // {"code":0,"flag":0,"language":"JAVA","opaque":0,"remark":"…","serializeTypeCurrentRPC":"JSON","version":479}
    const base = Codec.encodeHeader(RemotingCommand.make({ code: 0, remark: "" }), "JSON").length
    const command = RemotingCommand.make({ code: 0, remark: "x".repeat(261 - base) })
    const frame = Codec.encodeFrame(command, "JSON")
    expect(hex(frame.subarray(4, 8))).toBe("00000105")
  })

  it("V1 marker word: header length 16,777,215 with ROCKETMQ is 01 FF FF FF", () => {
    const command = RemotingCommand.make({ code: 0, remark: "r".repeat(Codec.MAX_HEADER_LENGTH - 21) })
    const frame = Codec.encodeFrame(command, "ROCKETMQ")
    expect(hex(frame.subarray(4, 8))).toBe("01ffffff")
    // 8 + 16,777,215 bytes: over the default limit, fine with a larger one.
    expect(decodeErr(frame).reason).toBe("FrameTooLarge")
    expect(decodeOk(frame, { maxFrameLength: frame.length }).remark!.length).toBe(Codec.MAX_HEADER_LENGTH - 21)
  })
})

describe("encoding", () => {
  it("writes JSON by default and ROCKETMQ on request, both decodable", () => {
    const command = RemotingCommand.make({ code: 310, remark: "hé", extFields: { a: "1" }, body: Buffer.from("x") })
    const json = Codec.encodeFrame(command)
    const binary = Codec.encodeFrame(command, "ROCKETMQ")
    expect(json[4]).toBe(0)
    expect(binary[4]).toBe(1)
    expect(fieldsOf(decodeOk(json))).toEqual(fieldsOf(command))
    expect(fieldsOf(decodeOk(binary))).toEqual(fieldsOf(command))
  })

  it("sends a code that does not fit 16 bits as JSON even when ROCKETMQ is asked for", () => {
    // POP_MESSAGE 200050: Java would truncate it to 200050 & 0xFFFF in a binary header.
    const command = RemotingCommand.make({ code: 200050 })
    const frame = Codec.encodeFrame(command, "ROCKETMQ")
    expect(frame[4]).toBe(0)
    expect(decodeOk(frame).code).toBe(200050)
    expect(Codec.fitsBinaryHeader(RemotingCommand.make({ code: 32767 }))).toBe(true)
    expect(Codec.fitsBinaryHeader(RemotingCommand.make({ code: 32768 }))).toBe(false)
    expect(Codec.fitsBinaryHeader(RemotingCommand.make({ code: -32768 }))).toBe(true)
  })

  it("escapes quotes, backslashes, control characters and lone surrogates in JSON and keeps them", () => {
    const tricky = "a\"b\\c\u0001\u0002\n\t\ud800z 漢字 😀"
    const command = RemotingCommand.make({ code: 1, remark: tricky, extFields: { [tricky]: tricky } })
    const decoded = decodeOk(Codec.encodeFrame(command))
    expect(decoded.remark).toBe(tricky)
    expect(decoded.extFields[tricky]).toBe(tricky)
  })

  it("treats an empty string as null in ROCKETMQ headers, as Java reads them", () => {
    const command = RemotingCommand.make({ code: 1, remark: "", extFields: { "": "x", empty: "", kept: "v" } })
    const decoded = decodeOk(Codec.encodeFrame(command, "ROCKETMQ"))
    expect(decoded.remark).toBeUndefined()
    expect(Object.entries(decoded.extFields)).toEqual([["kept", "v"]])
    // JSON keeps them.
    const viaJson = decodeOk(Codec.encodeFrame(command, "JSON"))
    expect(viaJson.remark).toBe("")
    expect(Object.entries(viaJson.extFields)).toEqual([["", "x"], ["empty", ""], ["kept", "v"]])
  })

  it("prepareFrame + writeFrame put several frames into one buffer that decodes back", () => {
    const commands = [1, 2, 3].map((n) => RemotingCommand.make({ code: n, opaque: n, body: Buffer.alloc(n, n) }))
    const prepared = commands.map((c, i) => Codec.prepareFrame(c, i % 2 === 0 ? "JSON" : "ROCKETMQ"))
    const out = Buffer.alloc(prepared.reduce((n, p) => n + p.frameLength, 0))
    let offset = 0
    for (const p of prepared) offset = Codec.writeFrame(p, out, offset)
    expect(offset).toBe(out.length)
    const decoded = new Codec.FrameDecoder().push(out)
    assert(Result.isSuccess(decoded))
    expect(decoded.success.map(fieldsOf)).toEqual(commands.map(fieldsOf))
  })
})

describe("frame limits (the limit counts the 4-byte prefix, as Netty's frame decoder does)", () => {
  const frameOfTotal = (total: number) => {
    // A JSON frame whose total wire size is exactly `total` bytes, padded with body bytes.
    const header = Codec.encodeHeader(RemotingCommand.make({ code: 0 }), "JSON")
    return Codec.encodeFrame(RemotingCommand.make({ code: 0, body: Buffer.alloc(total - 8 - header.length, 1) }))
  }
  const MAX = Codec.DEFAULT_MAX_FRAME_LENGTH

  it("accepts 16,777,215 and 16,777,216 total bytes and rejects 16,777,217", () => {
    expect(frameOfTotal(MAX - 1).length).toBe(MAX - 1)
    expect(decodeOk(frameOfTotal(MAX - 1)).body!.length).toBeGreaterThan(0)
    expect(decodeOk(frameOfTotal(MAX)).code).toBe(0)
    const tooLarge = frameOfTotal(MAX + 1)
    const error = decodeErr(tooLarge)
    expect(error.reason).toBe("FrameTooLarge")
    expect(error.message).toContain("16777213")
    expect(error.message).toContain("16777216")
  })

  it("rejects an oversized length from its prefix alone, before the bytes arrive", () => {
    const decoder = new Codec.FrameDecoder({ maxFrameLength: 1024 })
    const prefix = Buffer.alloc(4)
    prefix.writeInt32BE(1021)
    const out = decoder.push(prefix)
    assert(Result.isFailure(out))
    expect(out.failure.reason).toBe("FrameTooLarge")
    expect(decoder.bufferedBytes).toBe(0)
  })

  it("names HTTP when the length prefix spells \"POST\"", () => {
    const out = new Codec.FrameDecoder().push(Buffer.from("POST /v1/send HTTP/1.1\r\n"))
    assert(Result.isFailure(out))
    expect(out.failure.reason).toBe("FrameTooLarge")
    expect(out.failure.message).toContain("1347375956")
    expect(out.failure.message).toContain("\"POST\"")
    expect(out.failure.message).toContain("HTTP")
  })

  it("names TLS when the bytes open a TLS handshake record", () => {
    const clientHello = fromHex("160301020001")
    const out = new Codec.FrameDecoder().push(clientHello)
    assert(Result.isFailure(out))
    expect(out.failure.message).toContain("TLS")
  })

  it("rejects negative lengths, lengths below 4, and a header longer than the frame", () => {
    const negative = fromHex("ffffffff00000000")
    expect(decodeErr(negative).message).toContain("negative")
    const tiny = fromHex("00000002abcd")
    expect(decodeErr(tiny).reason).toBe("FrameTooSmall")
    const headerTooLong = fromHex("0000000800000010" + "7b7d7b7d")
    expect(decodeErr(headerTooLong).reason).toBe("HeaderLengthOutOfRange")
  })

  it("rejects an unknown serialize type and frames whose prefix disagrees with their size", () => {
    const unknownType = fromHex("00000006" + "02000002" + "7b7d")
    const error = decodeErr(unknownType)
    expect(error.reason).toBe("UnknownSerializeType")
    expect(error.message).toContain("neither JSON (0) nor ROCKETMQ (1)")
    expect(decodeErr(fromHex("0000000600000002")).reason).toBe("TruncatedFrame")
    expect(decodeErr(fromHex("00")).reason).toBe("TruncatedFrame")
  })
})

describe("malformed headers", () => {
  const jsonFrame = (text: string) => {
    const header = Buffer.from(text, "utf8")
    const frame = Buffer.alloc(8 + header.length)
    frame.writeInt32BE(4 + header.length, 0)
    frame.writeInt32BE(header.length, 4)
    header.copy(frame, 8)
    return frame
  }
  const binaryFrame = (header: Buffer) => {
    const frame = Buffer.alloc(8 + header.length)
    frame.writeInt32BE(4 + header.length, 0)
    frame.writeInt32BE((1 << 24) | header.length, 4)
    header.copy(frame, 8)
    return frame
  }

  it.each([
    ["not JSON", "{code:1", "MalformedJsonHeader"],
    ["an array", "[1,2]", "MalformedJsonHeader"],
    ["a string", "\"x\"", "MalformedJsonHeader"],
    ["a fractional code", "{\"code\":1.5}", "MalformedJsonHeader"],
    ["a code beyond int32", "{\"code\":4294967296}", "MalformedJsonHeader"],
    ["a numeric language", "{\"code\":1,\"language\":3}", "MalformedJsonHeader"],
    ["an object remark", "{\"code\":1,\"remark\":{}}", "MalformedJsonHeader"],
    ["extFields as an array", "{\"code\":1,\"extFields\":[]}", "MalformedJsonHeader"],
    ["an object ext value", "{\"code\":1,\"extFields\":{\"a\":{\"b\":\"c\"}}}", "MalformedJsonHeader"]
  ])("a JSON header that is %s gives %s", (_, text, reason) => {
    const error = decodeErr(jsonFrame(text))
    expect(error.reason).toBe(reason)
    expect(error.message.length).toBeGreaterThan(20)
  })

  it("reads Java's defaults for missing keys, nulls as absent, and tolerates unknown keys", () => {
    const command = decodeOk(jsonFrame("{\"remark\":null,\"extFields\":null,\"unknown\":[1],\"serializeTypeCurrentRPC\":\"JSON\"}"))
    expect(fieldsOf(command)).toEqual({
      code: 0,
      language: "JAVA",
      version: 0,
      opaque: 0,
      flag: 0,
      remark: undefined,
      extFields: [],
      body: undefined
    })
    const mixed = decodeOk(jsonFrame("{\"code\":1,\"language\":\"COBOL\",\"extFields\":{\"n\":5,\"b\":true,\"z\":null}}"))
    expect(mixed.language).toBe("OTHER")
    expect(Object.entries(mixed.extFields)).toEqual([["n", "5"], ["b", "true"]])
  })

  it("rejects binary headers whose lengths run past the header", () => {
    const fixed = fromHex("0067 00 091d 00000000 00000000".replace(/ /g, ""))
    const cases: Array<[string, Buffer]> = [
      ["shorter than 21 bytes", fixed],
      ["remark length past the end", Buffer.concat([fixed, fromHex("0000ffff00000000")])],
      ["negative remark length", Buffer.concat([fixed, fromHex("ffffffff00000000")])],
      ["ext length not matching", Buffer.concat([fixed, fromHex("0000000000000010")])],
      ["key length past the end", Buffer.concat([fixed, fromHex("00000000000000080fff00000000ffff")])],
      ["negative key length", Buffer.concat([fixed, fromHex("0000000000000008ffff0000000000ff")])],
      ["value length past the end", Buffer.concat([fixed, fromHex("0000000000000007000161000000ff")])],
      ["truncated entry", Buffer.concat([fixed, fromHex("00000000000000030001ff")])]
    ]
    for (const [name, header] of cases) {
      const error = decodeErr(binaryFrame(header))
      expect(error.reason, name).toBe("MalformedBinaryHeader")
    }
  })

  it("keeps the last of duplicate binary ext keys, as Java's map does", () => {
    const header = Buffer.concat([
      fromHex("0067000 91d0000000000000000 00000000".replace(/ /g, "")),
      fromHex("00000010"),
      fromHex("0001" + "61" + "00000001" + "31"),
      fromHex("0001" + "61" + "00000001" + "32")
    ])
    expect(decodeOk(binaryFrame(header)).extFields.a).toBe("2")
  })
})

describe("hostile JSON keys", () => {
  const frameOf = (text: string) => {
    const header = Buffer.from(text)
    return Buffer.concat([Buffer.from([0, 0, 0, 4 + header.length, 0, 0, 0, header.length].map((b) => b & 0xff)), header])
  }

  it("stores __proto__, constructor and prototype as plain ext keys and pollutes nothing", () => {
    const text = "{\"code\":1,\"__proto__\":{\"polluted\":\"top\"},\"extFields\":{\"__proto__\":\"p\",\"constructor\":\"c\",\"prototype\":\"q\",\"toString\":\"t\"}}"
    const command = decodeOk(frameOf(text))
    expect(Object.keys(command.extFields).sort()).toEqual(["__proto__", "constructor", "prototype", "toString"])
    expect(command.extFields["__proto__"]).toBe("p")
    expect(Object.getPrototypeOf(Object.getPrototypeOf(command.extFields))).toBeNull()
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted")).toBe(false)
    // It round-trips: the key is data on the way out too.
    const again = decodeOk(Codec.encodeFrame(command))
    expect(again.extFields["__proto__"]).toBe("p")
  })

  it("rejects an object under extFields.__proto__ with a typed error", () => {
    const error = decodeErr(frameOf("{\"extFields\":{\"__proto__\":{\"x\":\"1\"}}}"))
    expect(error.reason).toBe("MalformedJsonHeader")
    expect(error.message).toContain("__proto__")
    expect(({} as Record<string, unknown>).x).toBeUndefined()
  })

  it("RemotingCommand.make keeps a __proto__ own key as data", () => {
    const fields = JSON.parse("{\"__proto__\":\"v\",\"a\":\"1\"}") as Record<string, string>
    const command = RemotingCommand.make({ code: 1, extFields: fields })
    expect(command.extFields["__proto__"]).toBe("v")
    expect(Object.getPrototypeOf(Object.getPrototypeOf(command.extFields))).toBeNull()
  })
})

describe("FrameDecoder", () => {
  const commands = [
    RemotingCommand.make({ code: 10, opaque: 1, extFields: { topic: "T" }, body: Buffer.from("hello") }),
    RemotingCommand.make({ code: 11, opaque: 2, remark: "r" }),
    RemotingCommand.make({ code: 12, opaque: 3, body: Buffer.alloc(3000, 7) })
  ]
  const stream = Buffer.concat(commands.map((c, i) => Codec.encodeFrame(c, i === 1 ? "ROCKETMQ" : "JSON")))

  it("decodes a stream fed one byte at a time", () => {
    const decoder = new Codec.FrameDecoder()
    const out: Array<RemotingCommand.RemotingCommand> = []
    for (let i = 0; i < stream.length; i++) {
      const r = decoder.push(stream.subarray(i, i + 1))
      assert(Result.isSuccess(r))
      out.push(...r.success)
    }
    expect(out.map(fieldsOf)).toEqual(commands.map(fieldsOf))
    expect(decoder.bufferedBytes).toBe(0)
  })

  it("decodes a frame split at every byte offset", () => {
    const frame = Codec.encodeFrame(commands[0]!)
    for (let cut = 0; cut <= frame.length; cut++) {
      const decoder = new Codec.FrameDecoder()
      const a = decoder.push(frame.subarray(0, cut))
      const b = decoder.push(frame.subarray(cut))
      assert(Result.isSuccess(a) && Result.isSuccess(b))
      expect([...a.success, ...b.success].map(fieldsOf)).toEqual([fieldsOf(commands[0]!)])
    }
  })

  it("does not copy a frame that arrives in one chunk: the body is a view of that chunk", () => {
    const decoder = new Codec.FrameDecoder()
    const out = decoder.push(stream)
    assert(Result.isSuccess(out))
    const body = out.success[2]!.body!
    expect(body.buffer).toBe(stream.buffer)
    expect(body.byteOffset).toBe(stream.byteOffset + stream.length - 3000)
  })

  it("copies a frame that arrives in pieces exactly once, into a buffer of the frame's size", () => {
    const frame = Codec.encodeFrame(commands[2]!)
    const pieces = [frame.subarray(0, 100), frame.subarray(100, 2000), frame.subarray(2000)].map((p) => Uint8Array.from(p))
    const decoder = new Codec.FrameDecoder()
    const outs = pieces.map((piece) => decoder.push(piece))
    const out = outs[2]!
    assert(Result.isSuccess(out))
    expect(outs.slice(0, 2).every((o) => Result.isSuccess(o) && o.success.length === 0)).toBe(true)
    const body = out.success[0]!.body!
    for (const piece of pieces) expect(body.buffer).not.toBe(piece.buffer)
    expect(Buffer.from(body).equals(Buffer.alloc(3000, 7))).toBe(true)
  })

  it("delivers the commands before a bad frame, then stays failed", () => {
    const garbage = Buffer.from("GET / HTTP/1.1\r\n\r\n")
    const decoder = new Codec.FrameDecoder()
    const seen: Array<number> = []
    const error = decoder.pushEach(Buffer.concat([stream, garbage]), (c) => seen.push(c.opaque))
    expect(seen).toEqual([1, 2, 3])
    expect(error?.reason).toBe("FrameTooLarge")
    expect(decoder.error).toBe(error)
    const later = decoder.push(Codec.encodeFrame(commands[0]!))
    assert(Result.isFailure(later))
    expect(later.failure).toBe(error)
    expect(decoder.bufferedBytes).toBe(0)
  })
})
