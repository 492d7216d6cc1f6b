/**
 * String-keyed records without `Object.prototype` in their chain, for data read off the wire
 * (message properties): keys such as `__proto__` or `constructor` are plain data there and a missing
 * key reads as `undefined`, never as an inherited member.
 *
 * @internal
 */

// Inheriting from one frozen prototype-less object (rather than `Object.create(null)` per record)
// keeps V8 from putting every record in dictionary mode; the remoting package measured the same
// trick for `extFields`.
const PROTO: object = Object.freeze(Object.create(null))

/** @internal */
export const empty = (): Record<string, string> => Object.create(PROTO)

/** @internal */
export const fromEntries = (entries: Iterable<readonly [string, string]>): Record<string, string> => {
  const out = empty()
  for (const [key, value] of entries) out[key] = value
  return out
}

/** @internal: the own enumerable string-valued entries of `input`, copied into a safe record. */
export const copy = (input: { readonly [key: string]: string } | undefined): Record<string, string> => {
  const out = empty()
  if (input === undefined) return out
  for (const key of Object.keys(input)) {
    const value = input[key]
    if (typeof value === "string") out[key] = value
  }
  return out
}

/** @internal */
export const has = (record: { readonly [key: string]: string }, key: string): boolean =>
  Object.prototype.hasOwnProperty.call(record, key)
