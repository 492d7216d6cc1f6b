/**
 * The hand-written node:net clients of the channel benchmark (see channel.ts), all over the same
 * socket handling — frames reassembled from `data` events, one corked socket write per tick:
 *
 * - raw: the physical limit in Node — a pre-encoded request with its opaque patched in place, the
 *   response header scanned for the opaque without JSON.parse, one callback per in-flight slot;
 * - raw-json: JSON.stringify / JSON.parse of every header and a Map of pending requests (the least
 *   work an honest JSON client does);
 * - effect-floor: raw-json's socket handling behind one `Effect.callback` per request, resumed from
 *   the socket's data handler — the least an Effect program pays per request, driven by the same
 *   callers as our channel.
 */
import { Buffer } from "node:buffer"
import * as Net from "node:net"
import { performance } from "node:perf_hooks"
import { Effect } from "effect"
import * as Codec from "../../packages/remoting/src/Codec.ts"
import * as RemotingCommand from "../../packages/remoting/src/RemotingCommand.ts"

export const OPAQUE_KEY = Buffer.from("\"opaque\":")
const SLOT = 11

export interface Result {
  readonly requests: number
  readonly seconds: number
  readonly latencies: Array<number>
  /** Latency percentiles (ms), for a client that reports them instead of samples (an external one). */
  readonly percentiles?: { readonly p50: number; readonly p99: number } | undefined
  /** Client process CPU (user + system) over the measured window, as a share of one core. */
  readonly cpu: number
}

export interface Timing {
  readonly warmupMs: number
  readonly seconds: number
}

export const requestFor = (bodySize: number) =>
  RemotingCommand.make({
    code: 310,
    extFields: {
      a: "bench-producer-group",
      b: "BenchTopic",
      c: "TBW102",
      d: "4",
      e: "0",
      f: "0",
      g: "1732400000000",
      h: "0"
    },
    body: Buffer.alloc(bodySize, 0x61)
  })

/** CPU used by this process since `from` (µs), over `seconds` of wall time, as a share of one core. */
export const cpuShare = (from: NodeJS.CpuUsage, seconds: number): number => {
  const used = process.cpuUsage(from)
  return (used.user + used.system) / 1e6 / seconds
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export const connect = (port: number): Promise<Net.Socket> =>
  new Promise((resolve, reject) => {
    const socket = Net.createConnection({ host: "127.0.0.1", port, noDelay: true })
    socket.once("connect", () => resolve(socket))
    socket.once("error", reject)
  })

/** Frame reassembly shared by the hand-written clients: calls onFrame(buf, start). */
const frameReader = (onFrame: (buf: Buffer, start: number) => void) => {
  let pending: Buffer | undefined
  return (chunk: Buffer) => {
    const buf = pending === undefined ? chunk : Buffer.concat([pending, chunk])
    pending = undefined
    let pos = 0
    while (buf.length - pos >= 4) {
      const total = 4 + buf.readInt32BE(pos)
      if (buf.length - pos < total) break
      onFrame(buf, pos)
      pos += total
    }
    if (pos < buf.length) pending = buf.subarray(pos)
  }
}

/** The request's header as the plain object a naive JSON client holds and stringifies. */
const plainHeaderOf = (request: RemotingCommand.RemotingCommand) => ({
  code: request.code,
  extFields: { ...request.extFields },
  flag: 0,
  language: "JAVA",
  opaque: 0,
  serializeTypeCurrentRPC: "JSON",
  version: 479
})

/** One JSON frame (prefix, header, body) for `header`, as raw-json and effect-floor write it. */
const jsonFrame = (header: object, body: Buffer, parts: Array<Buffer>) => {
  const bytes = Buffer.from(JSON.stringify(header))
  const prefix = Buffer.allocUnsafe(8)
  prefix.writeInt32BE(4 + bytes.length + body.length, 0)
  prefix.writeInt32BE(bytes.length, 4)
  parts.push(prefix, bytes, body)
}

const writeParts = (socket: Net.Socket, parts: ReadonlyArray<Buffer>) => {
  socket.cork()
  for (const p of parts) socket.write(p)
  socket.uncork()
}

const parseHeader = (buf: Buffer, start: number): { opaque: number } => {
  const headerLength = buf.readInt32BE(start + 4) & 0xffffff
  return JSON.parse(buf.toString("utf8", start + 8, start + 8 + headerLength)) as { opaque: number }
}

/** raw (json = false) or raw-json: `inFlight` callback slots in closed loops. */
export const runRaw = async (port: number, inFlight: number, bodySize: number, json: boolean, timing: Timing): Promise<Result> => {
  const socket = await connect(port)
  const request = requestFor(bodySize)
  const body = Buffer.from(request.body!)
  // raw: one template with a space-padded opaque slot, copied into the batch buffer and patched.
  const text = Codec.encodeJsonHeaderText(RemotingCommand.withOpaque(request, 0)).replace("\"opaque\":0", `"opaque":${" ".repeat(SLOT)}`)
  const headerBytes = Buffer.from(text)
  const slot = text.indexOf("\"opaque\":") + OPAQUE_KEY.length
  const plainHeader = plainHeaderOf(request)
  let measuring = false
  let stop = false
  let count = 0
  const latencies: Array<number> = []
  const startedAt = new Float64Array(inFlight)
  const pendingJson = new Map<number, number>() // opaque -> slot
  let nextOpaque = 0
  let queued: Array<number> = []
  let flushScheduled = false

  const flushRaw = (slots: ReadonlyArray<number>, parts: Array<Buffer>) => {
    const frameLength = 8 + headerBytes.length + body.length
    const inlineBody = body.length <= 16384
    const out = Buffer.allocUnsafe(slots.length * (inlineBody ? frameLength : frameLength - body.length))
    let size = 0
    let pos = 0
    for (const i of slots) {
      out.writeInt32BE(frameLength - 4, pos)
      out.writeInt32BE(headerBytes.length, pos + 4)
      headerBytes.copy(out, pos + 8)
      out.write(String(i).padEnd(SLOT, " "), pos + 8 + slot, "latin1")
      pos += 8 + headerBytes.length
      if (inlineBody) pos += body.copy(out, pos)
      else {
        parts.push(out.subarray(size, pos), body)
        size = pos
      }
    }
    if (size < pos) parts.push(out.subarray(size, pos))
  }

  const flush = () => {
    flushScheduled = false
    const slots = queued
    queued = []
    const parts: Array<Buffer> = []
    if (!json) flushRaw(slots, parts)
    else {
      for (const i of slots) {
        const opaque = nextOpaque = (nextOpaque + 1) | 0
        pendingJson.set(opaque, i)
        plainHeader.opaque = opaque
        jsonFrame(plainHeader, body, parts)
      }
    }
    writeParts(socket, parts)
  }

  const sendSlot = (i: number) => {
    startedAt[i] = performance.now()
    queued.push(i)
    if (!flushScheduled) {
      flushScheduled = true
      setImmediate(flush)
    }
  }

  let done: () => void
  const finished = new Promise<void>((r) => (done = r))
  let outstanding = inFlight
  const onFrame = (buf: Buffer, start: number) => {
    let slotIndex: number
    if (!json) {
      const at = buf.indexOf(OPAQUE_KEY, start + 8)
      let p = at + OPAQUE_KEY.length
      let n = 0
      while (buf[p]! >= 0x30 && buf[p]! <= 0x39) n = n * 10 + (buf[p++]! - 0x30)
      slotIndex = n
    } else {
      const header = parseHeader(buf, start)
      slotIndex = pendingJson.get(header.opaque)!
      pendingJson.delete(header.opaque)
    }
    if (stop) {
      if (--outstanding === 0) done()
      return
    }
    if (measuring) {
      count++
      latencies.push(performance.now() - startedAt[slotIndex]!)
    }
    sendSlot(slotIndex)
  }
  socket.on("data", frameReader(onFrame))
  for (let i = 0; i < inFlight; i++) sendSlot(i)
  await sleep(timing.warmupMs)
  measuring = true
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await sleep(timing.seconds * 1000)
  measuring = false
  const seconds = (performance.now() - t0) / 1000
  const cpu = cpuShare(cpu0, seconds)
  stop = true
  await Promise.race([finished, sleep(2000)])
  socket.destroy()
  return { requests: count, seconds, latencies, cpu }
}

/** A request function over one connection: what the Effect callers drive. */
export type Call = (request: RemotingCommand.RemotingCommand) => Effect.Effect<unknown, unknown>

/**
 * effect-floor: raw-json's socket handling, one `Effect.callback` per request resumed from the
 * data handler with the parsed header. No deadline, no interruption cleanup: the floor.
 */
export const openFloor = (port: number): Effect.Effect<Call, never, import("effect").Scope.Scope> =>
  Effect.acquireRelease(Effect.promise(() => connect(port)), (socket) => Effect.sync(() => socket.destroy())).pipe(
    Effect.map((socket) => {
      const pending = new Map<number, (effect: Effect.Effect<unknown>) => void>()
      let nextOpaque = 0
      let parts: Array<Buffer> = []
      let flushScheduled = false
      const flush = () => {
        flushScheduled = false
        const out = parts
        parts = []
        writeParts(socket, out)
      }
      socket.on(
        "data",
        frameReader((buf, start) => {
          const header = parseHeader(buf, start)
          const resume = pending.get(header.opaque)
          if (resume === undefined) return
          pending.delete(header.opaque)
          resume(Effect.succeed(header))
        })
      )
      let header: ReturnType<typeof plainHeaderOf> | undefined
      let body: Buffer | undefined
      return (request: RemotingCommand.RemotingCommand) =>
        Effect.callback<unknown>((resume) => {
          header ??= plainHeaderOf(request)
          body ??= Buffer.from(request.body!)
          const opaque = nextOpaque = (nextOpaque + 1) | 0
          pending.set(opaque, resume)
          header.opaque = opaque
          jsonFrame(header, body, parts)
          if (!flushScheduled) {
            flushScheduled = true
            setImmediate(flush)
          }
        })
    })
  )
