/**
 * The one scratch buffer both header encoders write into, then copy out of once (with the range
 * copy the frame reader also uses for the bodies it copies out of its reused buffer).
 *
 * @internal
 */
import { Buffer } from "node:buffer"
import type { ExtFields, RemotingCommand } from "../RemotingCommand.ts"
import { extFieldsFrom, isSafeExtFields } from "../RemotingCommand.ts"

// `reserve` grows the buffer (keeping the bytes written so far) so the encoders make a single pass
// over the command.
let scratch = Buffer.allocUnsafe(8192)

/** The scratch buffer, with room for `extra` bytes after `pos`. */
export const reserve = (pos: number, extra: number): Buffer => {
  if (pos + extra > scratch.length) {
    const next = Buffer.allocUnsafe(Math.max(scratch.length * 2, pos + extra))
    scratch.copy(next, 0, 0, pos)
    scratch = next
  }
  return scratch
}

/** `bytes[start, end)` in a buffer of their own: one allocation (from Node's pool when small), one copy. */
export const copyRange = (bytes: Buffer, start: number, end: number): Buffer => {
  const out = Buffer.allocUnsafe(end - start)
  bytes.copy(out, 0, start, end)
  return out
}

/** The scratch bytes [0, length) in a buffer of their own. */
export const copyScratch = (length: number): Buffer => copyRange(scratch, 0, length)

/** The scratch bytes [0, length) as UTF-8 text. */
export const scratchText = (length: number): string => scratch.toString("utf8", 0, length)

/** The command's ext fields as an object `for…in` may walk (own keys only). */
export const safeExt = (command: RemotingCommand): ExtFields =>
  isSafeExtFields(command.extFields) ? command.extFields : extFieldsFrom(command.extFields)
