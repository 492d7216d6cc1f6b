/**
 * Typed custom headers: `effect/Schema` structs that encode to, and decode from, a command's
 * `extFields`.
 *
 * Java turns every non-null field of a header class into `extFields[name] = value.toString()` and
 * parses it back with `Integer.parseInt`, `Long.parseLong` and `Boolean.parseBoolean`. The field
 * codecs here do the same in both directions: {@link Int} (32-bit), {@link Long} (64-bit as
 * `bigint`), {@link LongNumber} (64-bit as `number`, refusing values beyond 2^53), {@link Boolean}
 * and plain `Schema.String`. Optional fields are `Schema.optionalKey(...)`: absent in `extFields`
 * when absent in the value.
 *
 * ```ts
 * const PullHeader = Header.make("PullMessageRequestHeader", {
 *   consumerGroup: Schema.String,
 *   queueId: Header.Int,
 *   queueOffset: Header.Long,
 *   subscription: Schema.optionalKey(Schema.String)
 * })
 * const extFields = yield* PullHeader.encode({ consumerGroup: "g", queueId: 0, queueOffset: 0n })
 * const header = yield* PullHeader.decode(response.extFields)
 * ```
 *
 * @since 0.1.0
 */
import { Effect, Schema, SchemaTransformation } from "effect"
import type { ExtFields } from "./RemotingCommand.ts"
import { newExtFields } from "./RemotingCommand.ts"
import { HeaderError } from "./RemotingError.ts"

const decimal = Schema.String.check(
  Schema.isPattern(/^[+-]?\d+$/, { expected: "a decimal integer such as \"42\"" })
)

/**
 * A Java `int`/`Integer` field: decimal text, 32-bit signed.
 *
 * @since 0.1.0
 * @category fields
 */
export const Int: Schema.Codec<number, string> = decimal.pipe(
  Schema.decodeTo(Schema.Int.check(Schema.isInt32()), SchemaTransformation.numberFromString)
)

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/**
 * A Java `long`/`Long` field as `bigint`: exact over the whole 64-bit range (offsets, timestamps).
 *
 * @since 0.1.0
 * @category fields
 */
export const Long: Schema.Codec<bigint, string> = decimal.pipe(
  Schema.decodeTo(
    Schema.BigInt.check(Schema.isBetweenBigInt({ minimum: INT64_MIN, maximum: INT64_MAX })),
    SchemaTransformation.bigintFromString
  )
)

/**
 * A Java `long`/`Long` field as `number`, for values that stay within ±(2^53 − 1) (timestamps,
 * sizes). A larger value is a decode error that says to use {@link Long}.
 *
 * @since 0.1.0
 * @category fields
 */
export const LongNumber: Schema.Codec<number, string> = decimal.pipe(
  Schema.decodeTo(
    Schema.Int.check(
      Schema.isBetween({ minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER }, {
        expected: "an integer within ±(2^53 − 1); use Header.Long (bigint) for larger values"
      })
    ),
    SchemaTransformation.numberFromString
  )
)

/**
 * A Java `boolean`/`Boolean` field: `"true"` / `"false"` (read case-insensitively, as
 * `Boolean.parseBoolean` does; any other text is an error rather than a silent `false`).
 *
 * @since 0.1.0
 * @category fields
 */
export const Boolean: Schema.Codec<boolean, string> = Schema.String.check(
  Schema.isPattern(/^(true|false)$/i, { expected: "\"true\" or \"false\"" })
).pipe(
  Schema.decodeTo(
    Schema.Boolean,
    SchemaTransformation.transform<boolean, string>({
      decode: (s) => s.toLowerCase() === "true",
      encode: (b) => (b ? "true" : "false")
    })
  )
)

/**
 * A field of a header: any schema whose encoded side is a string, possibly as an optional key.
 *
 * @since 0.1.0
 * @category models
 */
export type Field = Schema.Top & { readonly Encoded: string | undefined; readonly DecodingServices: never; readonly EncodingServices: never }

/**
 * @since 0.1.0
 * @category models
 */
export type Fields = { readonly [name: string]: Field }

/**
 * A typed header: its Java class name (for error messages), its schema, and the conversions.
 *
 * @since 0.1.0
 * @category models
 */
export interface Header<F extends Fields> {
  readonly name: string
  readonly schema: Schema.Struct<F>
  /** The value's fields as `extFields` (absent optional fields are left out). */
  readonly encode: (value: Schema.Struct<F>["Type"]) => Effect.Effect<ExtFields, HeaderError>
  /** Reads the fields from `extFields`; other keys are ignored. */
  readonly decode: (extFields: ExtFields) => Effect.Effect<Schema.Struct<F>["Type"], HeaderError>
}

/**
 * Declares a header. `name` is the Java class name, used in error messages.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <const F extends Fields>(name: string, fields: F): Header<F> => {
  const schema = Schema.Struct(fields)
  const encodeSchema = Schema.encodeEffect(schema)
  const decodeSchema = Schema.decodeUnknownEffect(schema)
  return {
    name,
    schema,
    encode: (value) =>
      encodeSchema(value, { errors: "all" }).pipe(
        Effect.map((encoded) => toExtFields(encoded as { readonly [key: string]: string | undefined })),
        Effect.mapError((error) => new HeaderError({ header: name, direction: "encode", detail: describeIssue(error) }))
      ),
    decode: (extFields) =>
      decodeSchema(extFields, { errors: "all" }).pipe(
        Effect.mapError((error) => new HeaderError({ header: name, direction: "decode", detail: describeIssue(error) }))
      )
  }
}

const toExtFields = (encoded: { readonly [key: string]: string | undefined }): ExtFields => {
  const out = newExtFields()
  for (const key of Object.keys(encoded)) {
    const value = encoded[key]
    if (typeof value === "string") out[key] = value
  }
  return out
}

// SchemaError messages read "Missing key\n  at [\"topic\"]": one line per problem is easier to log.
const describeIssue = (error: Schema.SchemaError): string =>
  error.message
    .split("\n")
    .reduce<Array<string>>((lines, line) => {
      const at = /^\s+at (.*)$/.exec(line)
      if (at !== null && lines.length > 0) lines[lines.length - 1] += ` at ${at[1]}`
      else if (line.trim().length > 0) lines.push(line.trim())
      return lines
    }, [])
    .join("; ")
