/**
 * The channel's send fiber: takes what the send queue holds, writes it to the connection in one
 * socket write per batch, and marks each entry written.
 *
 * @internal
 */
import { Buffer } from "node:buffer"
import { Effect } from "effect"
import * as Codec from "../Codec.ts"
import type { ConnectionShape } from "../Connection.ts"
import type { Outbound } from "../Outbound.ts"
import type { ConnectionReset } from "../RemotingError.ts"
import type { SendQueueShape } from "../SendQueue.ts"

// Large bodies are handed to the socket beside the batch buffer (one writev) instead of being
// copied into it.
const INLINE_BODY_LIMIT = 16 * 1024

/** Bytes of `frame` that go into the batch buffer (all of it, or all but a large body). */
const inlineLength = (frame: Codec.PreparedFrame): number =>
  frame.body !== undefined && frame.body.length > INLINE_BODY_LIMIT ? frame.frameLength - frame.body.length : frame.frameLength

/**
 * The chunks one batch is written as: small frames copied into one buffer, large bodies beside it.
 * Entries that are no longer writable (resolved while queued) are skipped; the others move to
 * WRITTEN. Returns undefined when nothing in the batch is writable.
 */
const encodeBatch = (
  batch: ReadonlyArray<Outbound>,
  onRequests: (count: number) => void
): ReadonlyArray<Uint8Array> | undefined => {
  let inline = 0
  let requests = 0
  for (let i = 0; i < batch.length; i++) {
    const item = batch[i]!
    if (!item.isWritable()) continue
    if (item.resume !== undefined) requests++
    inline += inlineLength(item.frame!)
  }
  if (inline === 0) return undefined
  if (requests > 0) onRequests(requests)
  const out = Buffer.allocUnsafe(inline)
  const chunks: Array<Uint8Array> = []
  let start = 0
  let offset = 0
  for (let i = 0; i < batch.length; i++) {
    const frame = batch[i]!.takeFrame()
    if (frame === undefined) continue
    const body = frame.body
    if (body !== undefined && body.length > INLINE_BODY_LIMIT) {
      offset = Codec.writeFrame({ ...frame, body: undefined }, out, offset)
      chunks.push(out.subarray(start, offset), body)
      start = offset
    } else {
      offset = Codec.writeFrame(frame, out, offset)
    }
  }
  if (start < offset) chunks.push(out.subarray(start, offset))
  return chunks
}

/**
 * Writes batches forever; fails when a write fails. `onRequests` is told how many requests (entries
 * awaiting a response) each batch carries, before they are written.
 *
 * When the connection can write synchronously, the queue writes each batch itself at the end of
 * the tick its callers queued it in, while this fiber is idle (`SendQueue.writeDirectly`): at one
 * request in flight that takes a scheduler turn out of every round trip. This fiber then only
 * waits for `drain` and writes what was queued meanwhile.
 *
 * @internal
 */
export const sendLoop = (
  queue: SendQueueShape,
  connection: ConnectionShape,
  onRequests: (count: number) => void
): Effect.Effect<never, ConnectionReset> => {
  const { writeNow, awaitDrain } = connection
  if (writeNow !== undefined) {
    queue.writeDirectly((batch) => {
      const chunks = encodeBatch(batch, onRequests)
      return chunks === undefined || writeNow(chunks)
    })
  }
  return Effect.gen(function*() {
    for (;;) {
      const batch = yield* queue.take
      if (batch.length === 0 && awaitDrain !== undefined) {
        yield* awaitDrain
        continue
      }
      const chunks = encodeBatch(batch, onRequests)
      if (chunks === undefined) continue
      if (chunks.length === 1) yield* connection.write(chunks[0]!)
      else yield* connection.writeAll(chunks)
    }
  })
}
