/**
 * A connection straight over an open `node:net` (or `node:tls`) socket, for the channels this
 * package opens itself (`Connection.make`). It keeps the contract of a connection built over an
 * Effect socket (`Connection.fromSocket`) — the same close reasons, bytes received before the
 * peer's FIN decoded before the failure, never a throw — and takes two hops out of each round trip:
 *
 * - reading: each chunk is decoded as soon as it is read, so a response resumes its caller from
 *   there. Effect's socket reader reads in paused mode: each chunk wakes the receive fiber (one
 *   scheduler turn) before the caller's own turn, and `read()` concatenates what is buffered into a
 *   new buffer (a copy of every large body). A plain TCP socket reads into the memory of a
 *   {@link FrameReader} (Node's `onread`, see {@link directReads}), past Node's stream machinery and
 *   its buffer per read; a TLS socket flows and each `data` chunk is decoded inside its event;
 * - writing: {@link ConnectionShape.writeNow} writes synchronously, so the channel can write a batch
 *   at the end of the tick its callers queued it in rather than wake its send fiber to do it.
 *
 * The flowing reader is safe only because it is the sole reader: nothing else listens for
 * `readable` (a `readable` listener stops `data` from flowing, which stalls reads until somebody
 * calls `read()`), and `data` is listened to from the first `readLoop` on, so no byte is emitted to
 * nobody. A socket with `onread` is created paused and resumed by the first `readLoop`, for the
 * same reason. Decoding is synchronous and bounded by the frame decoder, so neither adds buffering.
 *
 * @internal
 */
import { Effect } from "effect"
import type * as Net from "node:net"
import * as Codec from "../Codec.ts"
import type { ConnectionShape } from "../Connection.ts"
import type { RemotingCommand } from "../RemotingCommand.ts"
import { ClosedByPeer, ClosedLocally, type CloseReason, ConnectionReset, type FrameDecodeError } from "../RemotingError.ts"
import { FrameReader } from "./frameReader.ts"

/** A Node error's code (or message) for an error's detail. @internal */
export const errorCode = (cause: unknown): string => {
  if (typeof cause === "object" && cause !== null) {
    const code = (cause as { code?: unknown }).code
    if (typeof code === "string") return code
    const message = (cause as { message?: unknown }).message
    if (typeof message === "string") return message
  }
  return String(cause)
}

/**
 * Reads into a {@link FrameReader}: `onread` goes into the socket's options (a plain TCP socket
 * created paused), `reads` to {@link make}, which sets where each read is handed.
 *
 * @internal
 */
export interface DirectReads {
  readonly reader: FrameReader
  onRead: (bytes: number) => void
}

/** @internal */
export const directReads = (maxFrameLength: number | undefined): {
  readonly reads: DirectReads
  readonly onread: Net.OnReadOpts
} => {
  const reads: DirectReads = { reader: new FrameReader({ maxFrameLength }), onRead: () => {} }
  // The callback returns true: keep reading (a failed connection is destroyed, which stops reads).
  const callback = (bytes: number): boolean => {
    reads.onRead(bytes)
    return true
  }
  return { reads, onread: { buffer: () => reads.reader.next(), callback } }
}

/**
 * The connection over `socket` (open, with a permanent `error` listener already attached), read
 * through `reads` when the socket was created with its `onread`, else through its `data` events.
 * The caller's scope owns the socket and destroys it.
 *
 * @internal
 */
export const make = (options: {
  readonly address: string
  readonly socket: Net.Socket
  readonly maxFrameLength?: number | undefined
  readonly reads?: DirectReads | undefined
}): ConnectionShape => {
  const { address, socket, reads } = options
  const decoder = reads === undefined ? new Codec.FrameDecoder({ maxFrameLength: options.maxFrameLength }) : undefined
  let failure: CloseReason | undefined
  let closedByUs = false
  let wrote = false
  let received = false
  let onCommand: ((command: RemotingCommand) => void) | undefined
  let onFailure: ((reason: CloseReason) => void) | undefined

  const fail = (reason: CloseReason): void => {
    if (failure !== undefined) return
    failure = closedByUs ? new ClosedLocally({ address }) : reason
    const notify = onFailure
    onFailure = undefined
    notify?.(failure)
  }
  const decoded = (error: FrameDecodeError | undefined): void => {
    if (error === undefined) return
    fail(error)
    socket.destroy()
  }
  const onData = (chunk: Buffer): void => {
    if (failure !== undefined) return
    received = true
    decoded(decoder!.pushEach(chunk, onCommand!))
  }
  if (reads !== undefined) {
    reads.onRead = (bytes) => {
      if (failure !== undefined) return
      received = true
      decoded(reads.reader.read(bytes, onCommand!))
    }
  }
  // A peer that closes without a word after our first request probably expects another protocol
  // (TLS): `silent` makes the error say so.
  const onEnd = () => fail(new ClosedByPeer(wrote && !received ? { address, silent: true } : { address }))
  const onError = (cause: unknown) => fail(new ConnectionReset({ address, detail: errorCode(cause) }))
  const onClose = (hadError: boolean) =>
    fail(hadError ? new ConnectionReset({ address, detail: "the socket closed with an error" }) : new ClosedByPeer({ address }))
  socket.on("end", onEnd)
  socket.on("error", onError)
  socket.on("close", onClose)

  const readLoop = (handle: (command: RemotingCommand) => void): Effect.Effect<never, CloseReason> =>
    Effect.callback<never, CloseReason>((resume) => {
      if (failure !== undefined) return resume(Effect.fail(failure))
      onCommand = handle
      onFailure = (reason) => resume(Effect.fail(reason))
      if (reads === undefined) socket.on("data", onData)
      socket.resume() // reading again after creation or an interrupted loop paused it
      return Effect.sync(() => {
        onFailure = undefined
        if (reads === undefined) socket.off("data", onData)
        socket.pause()
      })
    })

  const writeError = (cause: unknown) => new ConnectionReset({ address, detail: `write failed: ${errorCode(cause)}` })

  // As Effect's socket writer: resumes on `drain`, fails on `error` or `close`; and at once when the
  // socket has drained already (a direct write that wanted a drain wakes the send fiber a scheduler
  // turn later, and the `drain` may have come in between).
  const awaitDrain: Effect.Effect<void, ConnectionReset> = Effect.callback((resume) => {
    if (!socket.writableNeedDrain) return resume(Effect.void)
    const cleanup = () => {
      socket.off("drain", onDrain)
      socket.off("error", onWriteError)
      socket.off("close", onWriteClose)
    }
    const onDrain = () => {
      cleanup()
      resume(Effect.void)
    }
    const onWriteError = (cause: unknown) => {
      cleanup()
      resume(Effect.fail(writeError(cause)))
    }
    const onWriteClose = () => {
      cleanup()
      resume(Effect.fail(writeError(new Error("socket closed"))))
    }
    socket.on("drain", onDrain)
    socket.on("error", onWriteError)
    socket.on("close", onWriteClose)
    return Effect.sync(cleanup)
  })

  /** One (corked) socket write; true when the socket wants no drain. Throws what the socket throws. */
  const writeChunks = (chunks: ReadonlyArray<Uint8Array>): boolean => {
    wrote = true
    if (chunks.length === 1) return socket.write(chunks[0]!)
    let ok = true
    socket.cork()
    try {
      for (let i = 0; i < chunks.length; i++) ok = socket.write(chunks[i]!) && ok
    } finally {
      socket.uncork()
    }
    return ok
  }

  const writeAll = (chunks: ReadonlyArray<Uint8Array>): Effect.Effect<void, ConnectionReset> =>
    Effect.suspend(() => {
      if (chunks.length === 0) return Effect.void
      try {
        return writeChunks(chunks) ? Effect.void : awaitDrain
      } catch (cause) {
        return Effect.fail(writeError(cause))
      }
    })

  const writeNow = (chunks: ReadonlyArray<Uint8Array>): boolean => {
    try {
      return chunks.length === 0 || writeChunks(chunks)
    } catch {
      return false // the send fiber's awaitDrain sees the failure
    }
  }

  return {
    address,
    readLoop,
    write: (bytes) => writeAll([bytes]),
    writeAll,
    writeNow,
    awaitDrain,
    isHealthy: () =>
      failure === undefined && !closedByUs && (reads?.reader.error ?? decoder?.error) === undefined && !socket.destroyed,
    close: (how) => {
      if (closedByUs) return
      closedByUs = true
      if (socket.destroyed) return
      if (how === "reset") socket.resetAndDestroy()
      else socket.destroy()
    }
  }
}
