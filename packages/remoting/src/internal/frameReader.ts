/**
 * A frame decoder that owns the memory the socket reads into (Node's `onread` option), for the
 * plain TCP connections this package opens itself.
 *
 * Node's usual read path allocates a fresh buffer for every read, and a frame spread over several
 * reads is copied once more into a buffer of its own: about three large allocations per large
 * response. Each counts as external memory, whose growth makes V8 run full (mark-compact) garbage
 * collections; with 64 KiB bodies at one request in flight that was a full collection every 50 ms
 * or so. Here:
 *
 * - reads go into one reusable staging buffer; a frame found whole in it is decoded from it, its
 *   body copied out (small bodies come from Node's shared pool);
 * - once a partly read frame is known to be large, its own buffer is allocated at its full length
 *   (the prefix is checked against `maxFrameLength` first) and the rest of the frame is read
 *   straight into it: one allocation and no copy beyond the first read's part.
 *
 * The socket must be created paused with `onread: { buffer: () => reader.next(), callback }`, the
 * callback calling {@link FrameReader.read}. After the first error the reader is terminal.
 *
 * @internal
 */
import { Buffer } from "node:buffer"
import * as Codec from "../Codec.ts"
import { FrameDecodeError } from "../RemotingError.ts"
import type { RemotingCommand } from "../RemotingCommand.ts"

/** Size of the staging buffer. */
const STAGE_BYTES = 64 * 1024

/** A partly read frame longer than this is read straight into its own buffer. */
const DIRECT_FROM = 16 * 1024

/** @internal */
export class FrameReader {
  readonly maxFrameLength: number
  private readonly stage = Buffer.allocUnsafe(STAGE_BYTES)
  /** First byte of the stage not yet decoded. */
  private start = 0
  /** End of the bytes read into the stage. */
  private end = 0
  /** A large frame being read straight into its own buffer, and how much of it is there. */
  private frame: Buffer | undefined = undefined
  private filled = 0
  private failure: FrameDecodeError | undefined = undefined

  constructor(options?: { readonly maxFrameLength?: number | undefined }) {
    this.maxFrameLength = options?.maxFrameLength ?? Codec.DEFAULT_MAX_FRAME_LENGTH
  }

  /** The error that made this reader terminal, if any. */
  get error(): FrameDecodeError | undefined {
    return this.failure
  }

  /** Where the socket's next read goes: never empty. */
  next(): Buffer {
    return this.frame !== undefined ? this.frame.subarray(this.filled) : this.stage.subarray(this.end)
  }

  /**
   * Takes `n` bytes just read into the buffer {@link next} returned and calls `onCommand` for every
   * command they complete, in order; commands before a bad frame are delivered before its error.
   */
  read(n: number, onCommand: (command: RemotingCommand) => void): FrameDecodeError | undefined {
    if (this.failure !== undefined) return this.failure
    if (this.frame !== undefined) return this.readDirect(n, onCommand)
    this.end += n
    const stage = this.stage
    for (;;) {
      const available = this.end - this.start
      if (available < 4) break
      const total = Codec.frameLengthAt(stage, this.start, this.maxFrameLength)
      if (typeof total !== "number") return this.fail(total)
      if (available < total) {
        if (total > DIRECT_FROM) this.goDirect(total)
        break
      }
      const out = Codec.decodeFrameAt(stage, this.start, total, true)
      this.start += total
      if (out instanceof FrameDecodeError) return this.fail(out)
      onCommand(out)
    }
    this.makeRoom()
    return undefined
  }

  private readDirect(n: number, onCommand: (command: RemotingCommand) => void): FrameDecodeError | undefined {
    const frame = this.frame!
    this.filled += n
    if (this.filled < frame.length) return undefined
    this.frame = undefined
    this.filled = 0
    const out = Codec.decodeFrameAt(frame, 0, frame.length)
    if (out instanceof FrameDecodeError) return this.fail(out)
    onCommand(out)
    return undefined
  }

  /** The partly read frame at the stage's start moves to a buffer of its own, read into from now on. */
  private goDirect(total: number): void {
    const frame = Buffer.allocUnsafe(total)
    this.filled = this.stage.copy(frame, 0, this.start, this.end)
    this.frame = frame
    this.start = this.end = 0
  }

  /** Keeps at least DIRECT_FROM bytes free after the stage's end for the next read. */
  private makeRoom(): void {
    if (this.start === this.end) this.start = this.end = 0
    else if (STAGE_BYTES - this.end < DIRECT_FROM) {
      this.stage.copyWithin(0, this.start, this.end)
      this.end -= this.start
      this.start = 0
    }
  }

  private fail(error: FrameDecodeError): FrameDecodeError {
    this.failure = error
    this.frame = undefined
    this.start = this.end = this.filled = 0
    return error
  }
}
