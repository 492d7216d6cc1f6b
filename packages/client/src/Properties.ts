/**
 * Message properties: the `name → value` strings every RocketMQ message carries (tags, keys, the
 * client message id, user properties), and their one-string encoding (Java's `MessageDecoder.messageProperties2String`), used in
 * the send header (`i`) and in stored messages.
 *
 * Encoding: for each entry `name` + `\u0001` + `value` + `\u0002`, the last entry included.
 * Decoding follows Java's `MessageDecoder.string2messageProperties` exactly: split on `\u0002`;
 * a segment counts only if it is at least 3 characters long and its first `\u0001` has a
 * non-empty name before it and a non-empty value after it (the value may itself contain
 * `\u0001`); anything else is skipped silently; a later duplicate name wins.
 *
 * The encoder refuses what the decoder would not give back (empty names or values, separators
 * in the wrong place) and encodings over 32,767 UTF-8 bytes, the most a stored message's signed
 * 16-bit length can describe. Pure functions; no I/O.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { PropertiesError } from "./ClientError.ts"
import * as Rec from "./internal/record.ts"

/**
 * Properties as read from or written to a message. Records made by this package have no
 * `Object.prototype` in their chain: a property named `__proto__` is plain data.
 *
 * @since 0.1.0
 * @category models
 */
export type Properties = { readonly [name: string]: string }

/**
 * Separates a name from its value (char 1).
 *
 * @since 0.1.0
 * @category constants
 */
export const NAME_VALUE_SEPARATOR = "\u0001"

/**
 * Ends every entry (char 2).
 *
 * @since 0.1.0
 * @category constants
 */
export const PROPERTY_SEPARATOR = "\u0002"

/**
 * The largest encoding, in UTF-8 bytes, that fits the signed 16-bit length of a stored message.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_ENCODED_BYTES = 32767

/**
 * Decodes a properties string by Java's rules (see the module header). Never fails: what Java
 * would skip is skipped.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decode = (text: string): Properties => {
  const out = Rec.empty()
  const length = text.length
  let index = 0
  while (index < length) {
    let end = text.indexOf(PROPERTY_SEPARATOR, index)
    if (end < 0) end = length
    if (end - index >= 3) {
      const separator = text.indexOf(NAME_VALUE_SEPARATOR, index)
      if (separator > index && separator < end - 1) {
        out[text.substring(index, separator)] = text.substring(separator + 1, end)
      }
    }
    index = end + 1
  }
  return out
}

const utf8 = new TextEncoder()

/** @internal: the encoding, or why it cannot be made. */
export const encodeSync = (properties: Properties): string | PropertiesError => {
  let text = ""
  for (const name of Object.keys(properties)) {
    const value: unknown = properties[name]
    // Java skips entries whose value is null; at runtime an undefined value is the same thing.
    if (typeof value !== "string") continue
    if (name.length === 0) {
      return new PropertiesError({ reason: "EmptyName", detail: "a property has an empty name (Java drops it)" })
    }
    if (value.length === 0) {
      return new PropertiesError({
        reason: "EmptyValue",
        detail: `property ${JSON.stringify(name)} has an empty value (Java drops it); leave the property out instead`
      })
    }
    if (name.includes(NAME_VALUE_SEPARATOR) || name.includes(PROPERTY_SEPARATOR)) {
      return new PropertiesError({
        reason: "Separator",
        detail: `property name ${JSON.stringify(name)} contains a separator character (\\u0001 or \\u0002)`
      })
    }
    if (value.includes(PROPERTY_SEPARATOR)) {
      return new PropertiesError({
        reason: "Separator",
        detail: `the value of property ${JSON.stringify(name)} contains the separator character \\u0002`
      })
    }
    text += name + NAME_VALUE_SEPARATOR + value + PROPERTY_SEPARATOR
  }
  // UTF-8 needs at most 3 bytes per UTF-16 code unit: short strings skip the exact count.
  if (text.length * 3 > MAX_ENCODED_BYTES) {
    const bytes = utf8.encode(text).length
    if (bytes > MAX_ENCODED_BYTES) {
      return new PropertiesError({
        reason: "TooLong",
        detail: `they take ${bytes} UTF-8 bytes, more than the ${MAX_ENCODED_BYTES} a message can hold; ` +
          "use fewer or shorter properties (large data belongs in the body)"
      })
    }
  }
  return text
}

/**
 * Encodes properties in their insertion order. Entries whose value is not a string are skipped
 * (Java skips null values). Fails with a {@link PropertiesError} on an empty name or value, a
 * separator character in a name (or `\u0002` in a value), or more than {@link MAX_ENCODED_BYTES}
 * bytes in all.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (properties: Properties): Effect.Effect<string, PropertiesError> =>
  Effect.suspend(() => {
    const out = encodeSync(properties)
    return typeof out === "string" ? Effect.succeed(out) : Effect.fail(out)
  })

/**
 * A properties record (no `Object.prototype` in its chain) from entries; a later duplicate name
 * wins.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromEntries = (entries: Iterable<readonly [string, string]>): Properties => Rec.fromEntries(entries)

/**
 * Whether `properties` has its own entry `name` (never an inherited member).
 *
 * @since 0.1.0
 * @category guards
 */
export const has = (properties: Properties, name: string): boolean => Rec.has(properties, name)

/**
 * The value of `name`, or `undefined` when absent (never an inherited member).
 *
 * @since 0.1.0
 * @category getters
 */
export const get = (properties: Properties, name: string): string | undefined =>
  Rec.has(properties, name) ? properties[name] : undefined
