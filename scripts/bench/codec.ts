/**
 * Codec benchmark: header encode and decode (ns/op) for JSON and ROCKETMQ with 0, 16 and 128 ext
 * fields, each against a naive baseline measured in the same run (JSON.stringify + UTF-8 bytes,
 * and UTF-8 text + JSON.parse, of the same header object); plus 4 MiB-body frame decode throughput.
 *
 *   npm run bench:codec
 */
import { Buffer } from "node:buffer"
import * as Codec from "../../packages/remoting/src/Codec.ts"
import * as RemotingCommand from "../../packages/remoting/src/RemotingCommand.ts"
import { consume, fmt, measure, table } from "./harness.ts"

const commandWith = (extCount: number) => {
  const extFields: Record<string, string> = {}
  for (let i = 0; i < extCount; i++) {
    extFields[i % 3 === 0 ? `queueOffset${i}` : i % 3 === 1 ? `topic${i}` : `k${i}`] = i % 3 === 0
      ? String(1_700_000_000_000 + i)
      : i % 3 === 1
      ? `TopicTest-${i}`
      : "true"
  }
  return RemotingCommand.make({ code: 310, opaque: 123456, remark: extCount > 0 ? "ok" : undefined, extFields })
}

/** The same header as a plain object, as a naive client would hold and stringify it. */
const plainHeader = (c: RemotingCommand.RemotingCommand) => ({
  code: c.code,
  language: c.language,
  version: c.version,
  opaque: c.opaque,
  flag: c.flag,
  ...(c.remark === undefined ? {} : { remark: c.remark }),
  extFields: { ...c.extFields },
  serializeTypeCurrentRPC: "JSON"
})

const rows: Array<Array<string>> = []
for (const extCount of [0, 16, 128]) {
  const command = commandWith(extCount)
  const plain = plainHeader(command)
  const jsonBytes = Codec.encodeHeader(command, "JSON")
  const binaryBytes = Codec.encodeHeader(command, "ROCKETMQ")
  const baselineBytes = Buffer.from(JSON.stringify(plain), "utf8")
  const results = measure([
    {
      name: "baseline encode",
      run: (n) => {
        let last
        for (let i = 0; i < n; i++) last = Buffer.from(JSON.stringify(plain), "utf8")
        return last
      }
    },
    {
      name: "baseline decode",
      run: (n) => {
        let last
        for (let i = 0; i < n; i++) last = JSON.parse(baselineBytes.toString("utf8"))
        return last
      }
    },
    {
      name: "JSON encode",
      run: (n) => {
        let last
        for (let i = 0; i < n; i++) last = Codec.encodeHeader(command, "JSON")
        return last
      }
    },
    {
      name: "JSON decode",
      run: (n) => {
        let last
        for (let i = 0; i < n; i++) last = Codec.decodeHeader(jsonBytes, "JSON")
        return last
      }
    },
    {
      name: "ROCKETMQ encode",
      run: (n) => {
        let last
        for (let i = 0; i < n; i++) last = Codec.encodeHeader(command, "ROCKETMQ")
        return last
      }
    },
    {
      name: "ROCKETMQ decode",
      run: (n) => {
        let last
        for (let i = 0; i < n; i++) last = Codec.decodeHeader(binaryBytes, "ROCKETMQ")
        return last
      }
    }
  ])
  const get = (name: string) => results.get(name)!
  const baseEnc = get("baseline encode")
  const baseDec = get("baseline decode")
  for (const type of ["JSON", "ROCKETMQ"] as const) {
    const enc = get(`${type} encode`)
    const dec = get(`${type} decode`)
    rows.push([
      type,
      String(extCount),
      String(type === "JSON" ? jsonBytes.length : binaryBytes.length),
      fmt(enc),
      fmt(baseEnc / enc, 2) + "x",
      fmt(dec),
      fmt(baseDec / dec, 2) + "x",
      fmt(enc + dec),
      fmt((baseEnc + baseDec) / (enc + dec), 2) + "x"
    ])
  }
}

console.log("Header encode/decode, ns/op (median of 7 interleaved rounds). Speedup = baseline ns / ours (>1 is faster).")
console.log("Baseline: Buffer.from(JSON.stringify(header)) and JSON.parse(bytes.toString()) of the same header object.\n")
console.log(table(
  ["header", "ext", "bytes", "encode ns", "vs baseline", "decode ns", "vs baseline", "enc+dec ns", "vs baseline"],
  rows
))

// 4 MiB body: one frame decoded from one chunk (the body is a view) and from 64 KiB socket-sized
// chunks (one copy into the frame's own buffer).
const body = Buffer.alloc(4 * 1024 * 1024, 0x5a)
const frame = Buffer.from(Codec.encodeFrame(RemotingCommand.make({ code: 0, flag: 1, opaque: 1, extFields: { queueId: "1" }, body })))
const pieces: Array<Buffer> = []
for (let i = 0; i < frame.length; i += 65536) pieces.push(Buffer.from(frame.subarray(i, i + 65536)))
const big = measure([
  {
    name: "one chunk",
    run: (n) => {
      let count = 0
      for (let i = 0; i < n; i++) {
        new Codec.FrameDecoder().pushEach(frame, (c) => {
          count += c.body!.length
        })
      }
      return count
    }
  },
  {
    name: "64 KiB chunks",
    run: (n) => {
      let count = 0
      for (let i = 0; i < n; i++) {
        const decoder = new Codec.FrameDecoder()
        for (const piece of pieces) {
          decoder.pushEach(piece, (c) => {
            count += c.body!.length
          })
        }
      }
      return count
    }
  },
  {
    name: "memcpy 4 MiB (reference)",
    run: (n) => {
      const target = Buffer.allocUnsafe(frame.length)
      for (let i = 0; i < n; i++) frame.copy(target)
      return target
    }
  }
], { rounds: 5, targetMs: 100 })
consume(big)
console.log("\n4 MiB-body frame decode (FrameDecoder), effective throughput = frame bytes / time:\n")
console.log(table(
  ["input", "µs/frame", "GB/s"],
  [...big].map(([name, ns]) => [name, fmt(ns / 1000, 1), fmt(frame.length / ns, 1)])
))
