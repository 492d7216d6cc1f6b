/**
 * A minimal RocketMQ responder for benchmarks, meant to run in its own process so it never shares
 * an event loop with the client under test. For every request frame it sends back a response with
 * the request's opaque and a body of the same size, using a pre-encoded JSON header whose opaque
 * slot is padded with spaces and patched in place (no JSON work on this side). Oneway requests get
 * nothing. Listens on 127.0.0.1 only and prints its port.
 *
 *   node scripts/bench/echo-server.ts [port] [--silent]   (--silent: read everything, answer nothing)
 */
import { Buffer } from "node:buffer"
import * as Net from "node:net"

const OPAQUE_KEY = Buffer.from("\"opaque\":")
const SLOT = 11 // "-2147483648"

const template = (bodyLength: number) => {
  const text = `{"code":0,"flag":1,"language":"JAVA","opaque":${" ".repeat(SLOT)},"serializeTypeCurrentRPC":"JSON","version":479}`
  const header = Buffer.from(text)
  const frame = Buffer.alloc(8 + header.length)
  frame.writeInt32BE(4 + header.length + bodyLength, 0)
  frame.writeInt32BE(header.length, 4)
  header.copy(frame, 8)
  return { frame, slot: 8 + text.indexOf("\"opaque\":") + OPAQUE_KEY.length }
}

const templates = new Map<number, { frame: Buffer; slot: number }>()
const bodies = new Map<number, Buffer>()

const readOpaque = (buf: Buffer, start: number, headerEnd: number, type: number): number => {
  if (type === 1) return buf.readInt32BE(start + 5)
  const at = buf.indexOf(OPAQUE_KEY, start)
  if (at < 0 || at >= headerEnd) return 0
  let i = at + OPAQUE_KEY.length
  let negative = false
  if (buf[i] === 0x2d) {
    negative = true
    i++
  }
  let n = 0
  while (i < headerEnd && buf[i]! >= 0x30 && buf[i]! <= 0x39) n = n * 10 + (buf[i++]! - 0x30)
  return negative ? -n : n
}

const silent = process.argv.includes("--silent")

const server = Net.createServer({ noDelay: true }, (socket) => {
  socket.setNoDelay(true)
  socket.on("error", () => {})
  let pending: Buffer | undefined
  socket.on("data", (chunk: Buffer) => {
    if (silent) return
    let buf = pending === undefined ? chunk : Buffer.concat([pending, chunk])
    pending = undefined
    let pos = 0
    const out: Array<Buffer> = []
    let bytes = 0
    while (buf.length - pos >= 8) {
      const length = buf.readInt32BE(pos)
      if (buf.length - pos < 4 + length) break
      const marker = buf.readInt32BE(pos + 4)
      const type = marker >>> 24
      const headerLength = marker & 0xffffff
      const headerStart = pos + 8
      const headerEnd = headerStart + headerLength
      const flag = type === 1 ? buf.readInt32BE(headerStart + 9) : 0
      const bodyLength = length - 4 - headerLength
      if ((flag & 2) === 0) {
        const opaque = readOpaque(buf, headerStart, headerEnd, type)
        let t = templates.get(bodyLength)
        if (t === undefined) templates.set(bodyLength, (t = template(bodyLength)))
        const response = Buffer.from(t.frame)
        response.write(String(opaque).padEnd(SLOT, " "), t.slot, "latin1")
        out.push(response)
        bytes += response.length
        if (bodyLength > 0) {
          let body = bodies.get(bodyLength)
          if (body === undefined) bodies.set(bodyLength, (body = Buffer.alloc(bodyLength, 0x62)))
          out.push(body)
          bytes += bodyLength
        }
      }
      pos += 4 + length
    }
    if (pos < buf.length) pending = buf.subarray(pos)
    if (out.length === 0) return
    if (out.length === 1) socket.write(out[0]!)
    else if (bytes < 256 * 1024) socket.write(Buffer.concat(out, bytes))
    else {
      socket.cork()
      for (const b of out) socket.write(b)
      socket.uncork()
    }
  })
})

server.listen(Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 0), "127.0.0.1", () => {
  const { port } = server.address() as Net.AddressInfo
  console.log(`listening ${port}`)
})
process.on("SIGTERM", () => process.exit(0))
