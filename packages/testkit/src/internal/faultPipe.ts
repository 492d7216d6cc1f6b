/**
 * One direction of a FaultProxy connection: bytes read from a source socket, queued, and written
 * to a sink socket by one forwarder fiber that applies the direction's faults in order — hold or
 * drop, latency, coalescing, the rewrite hook, segment splitting and the bandwidth limit.
 *
 * The source's FIN and RST travel through the same queue, so a held or dropped direction holds or
 * drops them too (a partition hides the close). All waiting is on Effect's `Clock`.
 */
import { Buffer } from "node:buffer"
import type * as Net from "node:net"
import { Clock, Deferred, Duration, Effect, Latch, Queue, Random } from "effect"
import type { Direction, DirectionFaults, DirectionStats, Rewrite, RewriteContext } from "../FaultProxy.ts"

/** What the source produced: bytes (with their arrival time on the Clock), its FIN, or its reset. */
export type Item =
  | { readonly _tag: "Data"; readonly bytes: Buffer; readonly at: number }
  | { readonly _tag: "End"; readonly at: number }
  | { readonly _tag: "Reset"; readonly at: number }

// Reading from the source stops while this many bytes wait in the queue (a held direction backs up
// into the kernel buffers and then the sender, as a real partition does) and starts again below
// the low mark.
const HIGH_WATER = 1024 * 1024
const LOW_WATER = 256 * 1024

// Without a split, a bandwidth limit still writes in slices of 1/20 s of its rate, so a throttled
// stream trickles instead of arriving in bursts once a second.
const SLICES_PER_SECOND = 20

// A RocketMQ frame: int32 length of what follows, at least the 4-byte header-length word; Java
// refuses frames over 16 MiB. A length outside that means the stream is not (or no longer) framed.
const MAX_FRAME = 16 * 1024 * 1024

export interface Pipe {
  readonly direction: Direction
  readonly stats: DirectionStats
  faults: DirectionFaults
  /** Replaces the faults (opens or closes the hold gate). */
  readonly setFaults: (faults: DirectionFaults) => void
  /** From the source socket's callbacks. */
  readonly push: (item: Item) => void
  /** The forwarder: runs until it has passed on the source's FIN or reset, or the sink is gone. */
  readonly run: Effect.Effect<void>
}

export interface PipeOptions {
  readonly direction: Direction
  readonly connection: number
  readonly source: Net.Socket
  readonly sink: Net.Socket
  /** Completes when the sink can be written (the target socket has connected). */
  readonly sinkReady: Deferred.Deferred<boolean>
  readonly clock: Clock.Clock
  readonly faults: DirectionFaults
}

const millis = (input: Duration.Input | undefined): number =>
  input === undefined ? 0 : Duration.toMillis(Duration.fromInputUnsafe(input))

/** Writes `bytes` and waits until the socket took them; false when the socket is gone. */
const write = (sink: Net.Socket, bytes: Uint8Array): Effect.Effect<boolean> =>
  Effect.callback<boolean>((resume) => {
    if (sink.destroyed || sink.writableEnded) return resume(Effect.succeed(false))
    sink.write(bytes, (error) => resume(Effect.succeed(error === undefined || error === null)))
  })

/** Writes `bytes` without waiting; false when the socket is gone. */
const writeNow = (sink: Net.Socket, bytes: Uint8Array): boolean => {
  if (sink.destroyed || sink.writableEnded) return false
  sink.write(bytes)
  return true
}

/** Splits a frame stream into whole frames; holds an incomplete tail; gives up on a bad length. */
const makeFramer = () => {
  let pending: Buffer = Buffer.alloc(0)
  let framed = true
  return (bytes: Buffer): { readonly frames: Array<Buffer>; readonly raw: Buffer | undefined } => {
    if (!framed) return { frames: [], raw: bytes }
    pending = pending.length === 0 ? bytes : Buffer.concat([pending, bytes])
    const frames: Array<Buffer> = []
    let offset = 0
    while (pending.length - offset >= 4) {
      const length = pending.readInt32BE(offset)
      if (length < 4 || length > MAX_FRAME) {
        framed = false
        const raw = pending.subarray(offset)
        pending = Buffer.alloc(0)
        return { frames, raw }
      }
      if (pending.length - offset < 4 + length) break
      frames.push(pending.subarray(offset, offset + 4 + length))
      offset += 4 + length
    }
    pending = pending.subarray(offset)
    return { frames, raw: undefined }
  }
}

/** The rewrite hook of a direction, on each raw chunk or on each whole frame. */
const makeRewriter = (connection: number, direction: Direction, stats: DirectionStats) => {
  const framer = makeFramer()
  let index = 0
  const context = (): RewriteContext => ({ connection, direction, index: index++ })
  return (hook: Rewrite | undefined, bytes: Buffer): Effect.Effect<ReadonlyArray<Uint8Array>> =>
    Effect.gen(function*() {
      if (hook === undefined) return [bytes]
      if (hook._tag === "Bytes") {
        const out = yield* hook.rewrite(bytes, context())
        return out instanceof Uint8Array ? [out] : out
      }
      const { frames, raw } = framer(bytes)
      const out: Array<Uint8Array> = []
      for (const frame of frames) {
        stats.frames++
        const replaced = yield* hook.rewrite(frame, context())
        if (replaced instanceof Uint8Array) out.push(replaced)
        else out.push(...replaced)
      }
      if (raw !== undefined) out.push(raw)
      return out
    })
}

/**
 * Writes one buffer as the split and bandwidth faults (read afresh for each piece) say; false when
 * the sink is gone. The pieces of a split without pause or bandwidth limit are written back to
 * back (separate writes, so separate segments with Nagle off) and only the last is waited for:
 * waiting for each of thousands of tiny writes made a split stream ~50x slower.
 */
const emit = (
  sink: Net.Socket,
  stats: DirectionStats,
  faults: () => DirectionFaults,
  bytes: Uint8Array
): Effect.Effect<boolean> =>
  Effect.gen(function*() {
    let offset = 0
    while (offset < bytes.length) {
      const { bytesPerSecond, split } = faults()
      let size = bytes.length - offset
      if (split !== undefined) {
        const min = Math.min(split.minSegment ?? split.maxSegment, split.maxSegment)
        size = Math.min(size, min === split.maxSegment ? min : yield* Random.nextIntBetween(min, split.maxSegment))
      } else if (bytesPerSecond !== undefined) {
        size = Math.min(size, Math.max(1, Math.floor(bytesPerSecond / SLICES_PER_SECOND)))
      }
      const piece = bytes.subarray(offset, offset + size)
      const pause = split === undefined ? 0 : millis(split.pause)
      const wait = offset + size >= bytes.length || bytesPerSecond !== undefined || pause > 0
      if (!(wait ? yield* write(sink, piece) : writeNow(sink, piece))) return false
      stats.forwarded += size
      stats.writes++
      offset += size
      if (bytesPerSecond !== undefined) yield* Effect.sleep(Math.ceil((size * 1000) / bytesPerSecond))
      if (pause > 0 && offset < bytes.length) yield* Effect.sleep(pause)
    }
    return true
  })

export const make = (options: PipeOptions): Effect.Effect<Pipe> => Effect.map(Queue.unbounded<Item>(), (queue) => build(options, queue))

const build = (options: PipeOptions, queue: Queue.Queue<Item>): Pipe => {
  const { clock, direction, sink, source } = options
  const gate = Latch.makeUnsafe(options.faults.forward !== "hold")
  const stats: DirectionStats = { received: 0, forwarded: 0, dropped: 0, writes: 0, frames: 0 }
  const rewrite = makeRewriter(options.connection, direction, stats)
  let queuedBytes = 0
  let paused = false
  let lookahead: Item | undefined

  const pipe: Pipe = {
    direction,
    stats,
    faults: options.faults,
    setFaults: (faults) => {
      pipe.faults = faults
      if (faults.forward === "hold") Latch.closeUnsafe(gate)
      else Latch.openUnsafe(gate)
    },
    push: (item) => {
      if (item._tag === "Data") {
        stats.received += item.bytes.length
        queuedBytes += item.bytes.length
        if (!paused && queuedBytes > HIGH_WATER) {
          paused = true
          source.pause()
        }
      }
      Queue.offerUnsafe(queue, item)
    },
    run: Effect.suspend(() => forward)
  }

  const taken = (item: Item): Item => {
    if (item._tag === "Data") {
      queuedBytes -= item.bytes.length
      if (paused && queuedBytes < LOW_WATER) {
        paused = false
        source.resume()
      }
    }
    return item
  }

  const next: Effect.Effect<Item> = Effect.suspend(() => {
    const item = lookahead
    lookahead = undefined
    return item !== undefined ? Effect.succeed(item) : Effect.map(Queue.take(queue), taken)
  })

  /** Waits out the latency of an item that arrived at `at`. */
  const delay = (at: number): Effect.Effect<void> => {
    const wait = at + millis(pipe.faults.latency) - clock.currentTimeMillisUnsafe()
    return wait > 0 ? Effect.sleep(wait) : Effect.void
  }

  /** With coalescing on: waits the window, then takes every byte queued meanwhile (up to maxBytes). */
  const coalesce = (first: Buffer): Effect.Effect<Buffer> =>
    Effect.gen(function*() {
      const options = pipe.faults.coalesce
      if (options === undefined) return first
      yield* Effect.sleep(options.window)
      const limit = options.maxBytes ?? Number.POSITIVE_INFINITY
      const parts = [first]
      let size = first.length
      while (size < limit && Queue.sizeUnsafe(queue) > 0) {
        const item = taken(yield* Queue.take(queue))
        if (item._tag !== "Data") {
          lookahead = item
          break
        }
        parts.push(item.bytes)
        size += item.bytes.length
      }
      return parts.length === 1 ? first : Buffer.concat(parts, size)
    })

  /** Passes on the source's FIN or reset. */
  const close = (item: Item): void => {
    if (item._tag === "End") {
      if (!sink.destroyed) sink.end()
    } else if (!sink.destroyed) {
      sink.resetAndDestroy()
    }
  }

  /** True (after counting it) when the item must be dropped; read again after every wait. */
  const dropped = (item: Item): boolean => {
    if (pipe.faults.forward !== "drop") return false
    if (item._tag === "Data") stats.dropped += item.bytes.length
    return true
  }

  const forward: Effect.Effect<void> = Effect.gen(function*() {
    if (!(yield* Deferred.await(options.sinkReady))) return
    while (true) {
      yield* gate.await
      const item = yield* next
      if (dropped(item)) continue
      yield* delay(item.at)
      yield* gate.await
      if (dropped(item)) continue
      if (item._tag !== "Data") return close(item)
      const outputs = yield* rewrite(pipe.faults.rewrite, yield* coalesce(item.bytes))
      for (const output of outputs) {
        if (output.length > 0 && !(yield* emit(sink, stats, () => pipe.faults, output))) return
      }
    }
  })

  return pipe
}
