/**
 * Ext keys repeat from header to header (the same header classes, again and again). Using a fresh
 * string as a property key makes V8 internalize it (~100 ns); reusing the string an earlier header
 * produced for the same bytes skips that. Direct-mapped and bounded; a hit is checked byte by
 * byte, so a collision only costs a miss.
 *
 * @internal
 */
import type { Buffer } from "node:buffer"

const SIZE = 1024
const cache: Array<string | undefined> = new Array(SIZE).fill(undefined)

/**
 * The string for the ASCII bytes `bytes[from, to)`; `make` produces it on a miss (typically a
 * substring of a latin1 view of the header).
 */
export const asciiKey = (bytes: Buffer, from: number, to: number, make: () => string): string => {
  const length = to - from
  let hash = length
  for (let i = from; i < to; i++) hash = (Math.imul(hash, 31) + bytes[i]!) | 0
  const slot = hash & (SIZE - 1)
  const hit = cache[slot]
  if (hit !== undefined && hit.length === length) {
    let same = true
    for (let i = 0; i < length; i++) {
      if (hit.charCodeAt(i) !== bytes[from + i]) {
        same = false
        break
      }
    }
    if (same) return hit
  }
  const key = make()
  cache[slot] = key
  return key
}
