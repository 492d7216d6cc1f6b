import { assert, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fc from "fast-check"
import * as zlib from "node:zlib"
import { generatedBody } from "../../../scripts/java/JavaClient.ts"
import * as Compression from "../src/Compression.ts"
import * as Properties from "../src/Properties.ts"
import * as StoredMessage from "../src/StoredMessage.ts"
import { JAVA_COMPRESSED } from "./fixtures/javaCompressed.ts"
import { fromHex, sampleFrame } from "./support/samples.ts"

// A test vector of the rocketmq-rust project: the record its frozen_message_frame() builds.
const V11 = fromHex(`
  0000006c daa320a7 00000007 00000003 00000009 000000000000000b 000000000000000d 00000000
  0000000000000011 7f000001 00002a9f 0000000000000013 7f000002 00002aa0 00000002 0000000000000017
  00000004 626f6479 05 746f706963 0008 6b0176616c756502`)

const input = (overrides?: Partial<StoredMessage.StoredMessageInput>): StoredMessage.StoredMessageInput => ({
  queueId: 1,
  flag: 0,
  queueOffset: 5n,
  commitLogOffset: 1000n,
  sysFlag: 0,
  bornTimestamp: 1_700_000_000_000,
  bornHost: { host: "10.0.0.5", port: 50000 },
  storeTimestamp: 1_700_000_000_001,
  storeHost: { host: "10.0.0.1", port: 10911 },
  reconsumeTimes: 0,
  preparedTransactionOffset: 0n,
  body: new TextEncoder().encode("payload"),
  topic: "TopicA",
  properties: Properties.fromEntries([["TAGS", "t"]]),
  ...overrides
})

const decodeOne = (bytes: Uint8Array) => Effect.map(StoredMessage.decode(bytes), (all) => all[0]!)

describe("StoredMessage", () => {
  it.effect("decodes vector V11 field by field", () =>
    Effect.gen(function*() {
      const messages = yield* StoredMessage.decode(V11)
      assert.strictEqual(messages.length, 1)
      const m = messages[0]!
      expect({ ...m, body: new TextDecoder().decode(m.body), properties: { ...m.properties } }).toEqual({
        storeSize: 108,
        version: "V1",
        bodyCrc: 7,
        queueId: 3,
        flag: 9,
        queueOffset: 11n,
        commitLogOffset: 13n,
        sysFlag: 0,
        bornTimestamp: 17,
        bornHost: { host: "127.0.0.1", port: 10911 },
        storeTimestamp: 19,
        storeHost: { host: "127.0.0.2", port: 10912 },
        reconsumeTimes: 2,
        preparedTransactionOffset: 23n,
        body: "body",
        topic: "topic",
        properties: { k: "value" },
        msgId: "7F00000200002AA0000000000000000D",
        offsetMsgId: "7F00000200002AA0000000000000000D"
      })
    }))

  it.effect("encodes vector V11 byte for byte", () =>
    Effect.gen(function*() {
      const m = yield* decodeOne(V11)
      const bytes = yield* StoredMessage.encode(m)
      assert.strictEqual(Buffer.from(bytes).toString("hex"), Buffer.from(V11).toString("hex"))
    }))

  it.effect("decodes the message of a real 5.3.3 pull (golden pull-11) and re-encodes it exactly", () =>
    Effect.gen(function*() {
      const response = sampleFrame("pull-11")
      const messages = yield* StoredMessage.decode(response.body!)
      assert.strictEqual(messages.length, 1)
      const m = messages[0]!
      assert.strictEqual(new TextDecoder().decode(m.body), "hello rocketmq")
      assert.strictEqual(m.topic, "TestTopic")
      assert.strictEqual(m.storeSize, 236)
      assert.strictEqual(m.queueOffset, 0n)
      assert.strictEqual(m.commitLogOffset, 0n)
      expect(m.storeHost).toEqual({ host: "127.0.0.1", port: 10911 })
      assert.strictEqual(m.bornHost.host, "127.0.0.1")
      expect({ ...m.properties }).toEqual({
        MSG_REGION: "DefaultRegion",
        UNIQ_KEY: "C0A80001000018B4AAC2000000000000",
        CLUSTER: "DefaultCluster",
        TAGS: "tagA",
        KEYS: "k1",
        TRACE_ON: "true"
      })
      // The client id is the UNIQ_KEY; the offset id matches the send response (send-310).
      assert.strictEqual(m.msgId, "C0A80001000018B4AAC2000000000000")
      assert.strictEqual(m.offsetMsgId, "7F00000100002A9F0000000000000000")
      assert.strictEqual(m.offsetMsgId, sampleFrame("send-310").extFields["msgId"])
      // The broker's bodyCRC is CRC32 & 0x7FFFFFFF, which the encoder computes by default.
      assert.strictEqual(StoredMessage.bodyCrc(m.body), m.bodyCrc)
      const { bodyCrc: _, ...rest } = m
      const again = yield* StoredMessage.encode(rest)
      assert.isTrue(Buffer.from(again).equals(Buffer.from(response.body!)))
    }))

  it.effect("decodes records back to back and an empty body as no messages", () =>
    Effect.gen(function*() {
      const a = yield* StoredMessage.encode(input({ queueOffset: 0n }))
      const b = yield* StoredMessage.encode(input({ queueOffset: 1n, body: new Uint8Array(0) }))
      const messages = yield* StoredMessage.decode(Buffer.concat([a, b]))
      expect(messages.map((m) => [m.queueOffset, m.body.length])).toEqual([[0n, 7], [1n, 0]])
      expect(yield* StoredMessage.decode(new Uint8Array(0))).toEqual([])
    }))

  it.effect("reads IPv6 born and store hosts by sysFlag 0x10 / 0x20 and builds a 56-character offset id", () =>
    Effect.gen(function*() {
      const bytes = yield* StoredMessage.encode(
        input({ bornHost: { host: "::1", port: 1 }, storeHost: { host: "2001:db8::7", port: 10911 } })
      )
      const m = yield* decodeOne(bytes)
      assert.strictEqual(m.sysFlag & 0x30, 0x30)
      assert.strictEqual(m.storeSize, 84 + 24 + 4 + 7 + 1 + 6 + 2 + 7)
      expect(m.bornHost).toEqual({ host: "0:0:0:0:0:0:0:1", port: 1 })
      expect(m.storeHost).toEqual({ host: "2001:db8:0:0:0:0:0:7", port: 10911 })
      assert.strictEqual(m.offsetMsgId, "20010DB8000000000000000000000007" + "00002A9F" + "00000000000003E8")
      assert.strictEqual(m.offsetMsgId, StoredMessage.makeOffsetMsgId(m.storeHost, m.commitLogOffset))
      // Only the store host in IPv6.
      const mixed = yield* decodeOne(yield* StoredMessage.encode(input({ storeHost: { host: "::ffff:1.2.3.4", port: 9 } })))
      assert.strictEqual(mixed.sysFlag & 0x30, 0x20)
      assert.strictEqual(mixed.bornHost.host, "10.0.0.5")
      assert.strictEqual(mixed.storeHost.host, "0:0:0:0:0:ffff:102:304")
    }))

  it.effect("uses a V2 record (2-byte topic length) for topics over 127 bytes", () =>
    Effect.gen(function*() {
      const topic = "t".repeat(200)
      const bytes = yield* StoredMessage.encode(input({ topic }))
      assert.strictEqual(Buffer.from(bytes).readInt32BE(4), StoredMessage.MAGIC_CODE_V2)
      const m = yield* decodeOne(bytes)
      assert.strictEqual(m.version, "V2")
      assert.strictEqual(m.topic, topic)
      const v2Short = yield* decodeOne(yield* StoredMessage.encode(input({ version: "V2" })))
      assert.strictEqual(v2Short.topic, "TopicA")
      const tooLong = yield* Effect.flip(StoredMessage.encode(input({ topic, version: "V1" })))
      expect(tooLong.message).toContain("more than the 127 a V1 record allows")
    }))

  it.effect("inflates ZLIB bodies (compression type 0 and 3) and clears the COMPRESSED bit", () =>
    Effect.gen(function*() {
      const plain = new TextEncoder().encode("x".repeat(5000))
      for (const sysFlag of [0x1, 0x301]) {
        const bytes = yield* StoredMessage.encode(input({ body: zlib.deflateSync(plain, { level: 5 }), sysFlag }))
        const m = yield* decodeOne(bytes)
        assert.isTrue(Buffer.from(m.body).equals(Buffer.from(plain)))
        assert.strictEqual(m.sysFlag & 0x1, 0)
        const raw = yield* Effect.map(StoredMessage.decode(bytes, { decompress: false }), (all) => all[0]!)
        assert.strictEqual(raw.sysFlag & 0x1, 1)
        assert.strictEqual(raw.body.length < plain.length, true)
      }
    }))

  it.effect("decompresses the LZ4, ZSTD and ZLIB bodies a Java producer wrote, clearing the COMPRESSED bit", () =>
    Effect.gen(function*() {
      for (const type of Compression.types) {
        const sample = JAVA_COMPRESSED[type]
        const bytes = yield* StoredMessage.encode(input({ body: Buffer.from(sample.body, "base64"), sysFlag: sample.sysFlag }))
        const m = yield* decodeOne(bytes)
        assert.deepStrictEqual(m.body, generatedBody(0, 5000), type)
        assert.strictEqual(m.sysFlag, sample.sysFlag & ~0x1)
      }
    }))

  it.effect("fails strict decoding of an unknown compression type, a corrupt body and oversized inflation with typed errors", () =>
    Effect.gen(function*() {
      const body = zlib.deflateSync(new Uint8Array(10000))
      const fail = (sysFlag: number, options?: StoredMessage.DecodeOptions, b: Uint8Array = body) =>
        Effect.flatMap(StoredMessage.encode(input({ body: b, sysFlag })), (bytes) => Effect.flip(StoredMessage.decode(bytes, options)))
      const unknown = yield* fail(0x501)
      assert.strictEqual(unknown.reason, "UnsupportedCompression")
      expect(unknown.message).toContain("unknown compression type 5")
      const lz4 = yield* fail(0x101)
      assert.strictEqual(lz4.reason, "DecompressFailed")
      expect(lz4.message).toContain("LZ4 body")
      assert.strictEqual((yield* fail(0x1, undefined, new Uint8Array([1, 2, 3, 4]))).reason, "DecompressFailed")
      const bomb = yield* fail(0x1, { maxDecompressedBytes: 1000 })
      assert.strictEqual(bomb.reason, "DecompressFailed")
      expect(bomb.message).toContain("exceed 1000 bytes")
      expect(bomb.message).toContain("TopicA queue 1 offset 5")
    }))

  it("decodeBody returns every record whose framing holds: bad bodies apart, with their fields, and the rest decoded (property)", () =>
    fc.assert(
      fc.property(fc.array(fc.constantFrom("ok", "zlib", "lz4", "bad-lz4", "bad-zstd", "unknown"), { maxLength: 12 }), (kinds) => {
        const plain = new TextEncoder().encode("body ".repeat(50))
        const records = kinds.map((kind, i) => {
          const [body, sysFlag] = kind === "ok" ? [plain, 0]
            : kind === "zlib" ? [zlib.deflateSync(plain), 0x301]
            : kind === "lz4" ? [Compression.compressSync("LZ4", plain) as Uint8Array, 0x101]
            : kind === "bad-lz4" ? [plain, 0x101]
            : kind === "bad-zstd" ? [plain, 0x201]
            : [plain, 0x601]
          return StoredMessage.encodeSync(input({ queueOffset: BigInt(i), body, sysFlag })) as Uint8Array
        })
        const decoded = StoredMessage.decodeBodySync(Buffer.concat(records))
        assert(!(decoded instanceof Error))
        const good = kinds.flatMap((k, i) => (k === "ok" || k === "zlib" || k === "lz4" ? [BigInt(i)] : []))
        assert.deepStrictEqual(decoded.messages.map((m) => m.queueOffset), good)
        for (const m of decoded.messages) assert.deepStrictEqual(m.body, plain)
        const bad = kinds.flatMap((k, i) => (k.startsWith("bad") || k === "unknown" ? [BigInt(i)] : []))
        assert.deepStrictEqual(decoded.undecodable.map((m) => m.queueOffset), bad)
        for (const m of decoded.undecodable) {
          assert.deepStrictEqual(m.body, plain, "the stored body, as it was")
          assert.strictEqual(m.sysFlag & 0x1, 0x1)
          assert.strictEqual(m.error.reason, m.sysFlag === 0x601 ? "UnsupportedCompression" : "DecompressFailed")
          assert.strictEqual(m.topic, "TopicA")
        }
      })
    ), 60_000)

  it("decodeBody still fails the whole body when a record's framing breaks", () => {
    const good = StoredMessage.encodeSync(input()) as Uint8Array
    const out = StoredMessage.decodeBodySync(Buffer.concat([good, V11.subarray(0, 50)]))
    assert(out instanceof Error)
    assert.strictEqual(out.reason, "Truncated")
    assert.strictEqual(out.offset, good.length)
  })

  it.effect("fails truncated, oversized and inconsistent records with typed errors", () =>
    Effect.gen(function*() {
      const reason = (bytes: Uint8Array) => Effect.map(Effect.flip(StoredMessage.decode(bytes)), (e) => e.reason)
      assert.strictEqual(yield* reason(V11.subarray(0, 107)), "Truncated")
      assert.strictEqual(yield* reason(V11.subarray(0, 6)), "Truncated")
      const badMagic = Buffer.from(V11)
      badMagic.writeInt32BE(StoredMessage.BLANK_MAGIC_CODE, 4)
      assert.strictEqual(yield* reason(badMagic), "BadMagicCode")
      const tooSmall = Buffer.from(V11)
      tooSmall.writeInt32BE(20, 0)
      assert.strictEqual(yield* reason(tooSmall), "BadLength")
      // Body length running past the record.
      const longBody = Buffer.from(V11)
      longBody.writeInt32BE(1000, 84)
      assert.strictEqual(yield* reason(longBody), "Truncated")
      const negativeBody = Buffer.from(V11)
      negativeBody.writeInt32BE(-1, 84)
      assert.strictEqual(yield* reason(negativeBody), "BadLength")
      const negativeTopic = Buffer.from(V11)
      negativeTopic.writeInt8(-5, 92)
      assert.strictEqual(yield* reason(negativeTopic), "BadLength")
      // A record that announces more bytes than its fields use.
      const padded = Buffer.concat([V11, Buffer.alloc(4)])
      padded.writeInt32BE(112, 0)
      assert.strictEqual(yield* reason(padded), "SizeMismatch")
      // A good record followed by garbage fails the whole body, naming the offset.
      const trailing = yield* Effect.flip(StoredMessage.decode(Buffer.concat([V11, Buffer.from([0, 0, 0])])))
      assert.strictEqual(trailing.offset, 108)
    }))

  it("never throws on arbitrary bytes or on mutations of a valid record (fast-check)", () => {
    const valid = Buffer.concat([V11, Effect.runSync(StoredMessage.encode(input({ sysFlag: 0x30, bornHost: { host: "::2", port: 3 }, storeHost: { host: "fe80::1", port: 4 } })))])
    const check = (bytes: Uint8Array) => {
      const exit = Effect.runSyncExit(StoredMessage.decode(bytes))
      if (exit._tag === "Failure") {
        const error = exit.cause.reasons[0]
        assert.strictEqual(error?._tag, "Fail")
      }
    }
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), check), { numRuns: 500 })
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        fc.nat(valid.length),
        (mutations, cut) => {
          const bytes = Buffer.from(valid)
          for (const [at, value] of mutations) bytes[at] = value
          check(bytes.subarray(0, cut))
          check(bytes)
        }
      ),
      { numRuns: 2000 }
    )
  })

  it("round-trips any encodable message (fast-check)", () => {
    const host = fc.oneof(fc.ipV4(), fc.ipV6().filter((h) => !h.includes("%")))
    fc.assert(
      fc.property(
        fc.record({
          queueId: fc.integer({ min: -2147483648, max: 2147483647 }),
          queueOffset: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
          bornHost: host,
          storeHost: host,
          body: fc.uint8Array({ maxLength: 64 }),
          topic: fc.string({ maxLength: 200 }),
          properties: fc.dictionary(
            fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !/[\u0001\u0002]/.test(s)),
            fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !s.includes("\u0002"))
          )
        }),
        (r) => {
          const bytes = Effect.runSync(StoredMessage.encode(input({
            queueId: r.queueId,
            queueOffset: r.queueOffset,
            bornHost: { host: r.bornHost, port: 1 },
            storeHost: { host: r.storeHost, port: 2 },
            body: r.body,
            topic: r.topic,
            properties: r.properties
          })))
          const m = Effect.runSync(decodeOne(bytes))
          assert.strictEqual(m.queueId, r.queueId)
          assert.strictEqual(m.queueOffset, r.queueOffset)
          assert.strictEqual(m.topic, r.topic)
          assert.isTrue(Buffer.from(m.body).equals(Buffer.from(r.body)))
          expect({ ...m.properties }).toEqual(r.properties)
          assert.deepStrictEqual(StoredMessage.parseIp(m.bornHost.host), StoredMessage.parseIp(r.bornHost))
          assert.deepStrictEqual(StoredMessage.parseIp(m.storeHost.host), StoredMessage.parseIp(r.storeHost))
          // Re-encoding the decoded message gives the same bytes.
          assert.isTrue(Buffer.from(Effect.runSync(StoredMessage.encode(m))).equals(Buffer.from(bytes)))
        }
      ),
      { numRuns: 300 }
    )
  })

  it("decodes each record of a body whose records share topics and hosts exactly as it decodes alone, 64-bit fields and offset ids included (property)", () => {
    const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
    // Epoch milliseconds as numbers: today's, and any double a 64-bit long can hold.
    const millis = fc.oneof(fc.integer({ min: 0, max: 2 ** 45 }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1025n }).map(Number))
    const host = fc.record({ host: fc.oneof(fc.constantFrom("10.0.0.1", "10.0.0.2"), fc.ipV6().filter((h) => !h.includes("%"))), port: fc.constantFrom(10911, -1, 0) })
    const record = fc.record({
      queueOffset: int64,
      commitLogOffset: int64,
      preparedTransactionOffset: int64,
      bornTimestamp: millis,
      storeTimestamp: millis,
      bornHost: host,
      storeHost: host,
      topic: fc.constantFrom("T", "Tö", "%RETRY%g", "U".repeat(130), "")
    })
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 8 }), (records) => {
        const alone = records.map((r) => Effect.runSync(StoredMessage.encode(input(r))))
        const decoded = Effect.runSync(StoredMessage.decode(Buffer.concat(alone)))
        assert.strictEqual(decoded.length, records.length)
        decoded.forEach((m, i) => {
          const single = Effect.runSync(decodeOne(alone[i]!))
          expect(m).toEqual(single)
          const r = records[i]!
          assert.strictEqual(m.commitLogOffset, r.commitLogOffset)
          assert.strictEqual(m.preparedTransactionOffset, r.preparedTransactionOffset)
          assert.strictEqual(m.bornTimestamp, r.bornTimestamp)
          assert.strictEqual(m.storeTimestamp, r.storeTimestamp)
          assert.strictEqual(m.topic, r.topic)
          assert.strictEqual(m.offsetMsgId, StoredMessage.makeOffsetMsgId(r.storeHost, r.commitLogOffset))
        })
      }),
      { numRuns: 300 }
    )
  })

  it.effect("refuses to encode numbers that do not fit and hosts that are not IP addresses", () =>
    Effect.gen(function*() {
      const message = (i: StoredMessage.StoredMessageInput) => Effect.map(Effect.flip(StoredMessage.encode(i)), (e) => e.message)
      expect(yield* message(input({ queueId: 2 ** 31 }))).toContain("queueId 2147483648 is not a 32-bit integer")
      expect(yield* message(input({ queueOffset: 2n ** 63n }))).toContain("queueOffset")
      expect(yield* message(input({ bornTimestamp: 1.5 }))).toContain("bornTimestamp")
      expect(yield* message(input({ storeHost: { host: "broker-a", port: 1 } }))).toContain("storeHost \"broker-a\" is not an IP address")
      expect(yield* message(input({ properties: { "": "x" } }))).toContain("empty name")
    }))
})

describe("StoredMessage.parseOffsetMsgId", () => {
  it("reads back the store host and commit-log offset makeOffsetMsgId wrote, IPv4 and IPv6 (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.ipV4(), fc.ipV6().map((ip) => StoredMessage.parseIp(ip)).filter((b) => b !== undefined).map((b) => {
          const groups: Array<string> = []
          for (let i = 0; i < 16; i += 2) groups.push(((b![i]! << 8) | b![i + 1]!).toString(16))
          return groups.join(":")
        })),
        fc.integer({ min: 0, max: 65535 }),
        fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
        (host, port, commitLogOffset) => {
          const id = StoredMessage.makeOffsetMsgId({ host, port }, commitLogOffset)!
          expect(StoredMessage.parseOffsetMsgId(id)).toEqual({ storeHost: { host, port }, commitLogOffset })
          expect(StoredMessage.parseOffsetMsgId(id.toLowerCase())).toEqual({ storeHost: { host, port }, commitLogOffset })
        }
      )
    )
  })

  it("gives undefined for text that is not an offset message id", () => {
    for (const id of ["", "7F000001", "7F00000100002A9F000000000000000G", "7F00000100002A9F0000000000000000A", "x".repeat(56)]) {
      assert.isUndefined(StoredMessage.parseOffsetMsgId(id), id)
    }
    expect(StoredMessage.parseOffsetMsgId("7F00000100002A9F0000000000000100")).toEqual({
      storeHost: { host: "127.0.0.1", port: 10911 },
      commitLogOffset: 256n
    })
  })
})
