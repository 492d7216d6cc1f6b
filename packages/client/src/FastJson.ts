/**
 * Reading JSON written by Java's fastjson with its default settings, which is not always JSON. A
 * map whose keys are not strings is written with its keys as they are:
 * - integer keys bare, e.g. `{"brokerAddrs":{0:"127.0.0.1:10911"}}` (`TopicRouteData` when the
 *   request's version is below 401 without `acceptStandardJsonOnly`, `ClusterInfo` always);
 * - object keys as objects, e.g. `{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"t"}:42}}`
 *   (maps keyed by a message queue: `ConsumeStats`, `ResetOffsetBody`, `ConsumerRunningInfo`).
 *
 * {@link toStandardJson} is a small pre-pass that turns both into standard JSON, looking only at
 * key positions outside string literals: a bare integer key is quoted (`"0"`), an object key
 * becomes a string holding its JSON text (`"{\"brokerName\":\"b\",…}"`), which
 * {@link objectKeyedEntries} reads back. Then a standard parser reads the result. Nothing here
 * throws, and nothing is evaluated.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import { BodyDecodeError, JsonParseError } from "./ClientError.ts"

const isDigit = (c: number): boolean => c >= 48 && c <= 57
const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13

const skipSpace = (text: string, from: number): number => {
  let j = from
  while (j < text.length && isSpace(text.charCodeAt(j))) j++
  return j
}

/** The index of the quote that ends the string literal opening at `from`, or the text's length. */
const endOfString = (text: string, from: number): number => {
  for (let i = from + 1; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 92 /* \ */) i++
    else if (c === 34 /* " */) return i
  }
  return text.length
}

/** The index of the `}` that closes the object opening at `from` (strings skipped), or -1. */
const endOfObject = (text: string, from: number): number => {
  let depth = 0
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 34) i = endOfString(text, i)
    else if (c === 123 || c === 91) depth++
    else if (c === 125 || c === 93) {
      depth--
      if (depth === 0) return c === 125 ? i : -1
    }
  }
  return -1
}

/** The end (exclusive) of a bare integer key starting at `from` and followed by `:`, or -1. */
const endOfIntegerKey = (text: string, from: number): number => {
  let j = from
  if (j < text.length && text.charCodeAt(j) === 45 /* - */) j++
  const digits = j
  while (j < text.length && isDigit(text.charCodeAt(j))) j++
  if (j === digits) return -1
  return text.charCodeAt(skipSpace(text, j)) === 58 /* : */ ? j : -1
}

/**
 * Standard JSON for fastjson output: bare (optionally negative) integer keys are quoted, object
 * keys become strings holding their JSON text; `{0:"a",{"q":1}:2}` becomes
 * `{"0":"a","{\"q\":1}":2}`. Only key positions (after `{` or `,` inside an object) are looked
 * at, outside string literals, so standard JSON comes back unchanged.
 *
 * @since 0.1.0
 * @category parsing
 */
export const toStandardJson = (text: string): string => {
  let out: Array<string> | undefined
  let copied = 0
  const containers: Array<number> = []
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 34) {
      i = endOfString(text, i)
      continue
    }
    if (c === 91) containers.push(91)
    else if (c === 93 || c === 125) containers.pop()
    if (c === 123) containers.push(123)
    else if (c !== 44 || containers[containers.length - 1] !== 123) continue
    // A key position: `{` opened an object, or `,` separates two of its members.
    const keyStart = skipSpace(text, i + 1)
    const k = text.charCodeAt(keyStart)
    if (k === 123) {
      const close = endOfObject(text, keyStart)
      if (close < 0 || text.charCodeAt(skipSpace(text, close + 1)) !== 58) continue
      out ??= []
      out.push(text.slice(copied, keyStart), JSON.stringify(text.slice(keyStart, close + 1)))
      copied = close + 1
      i = close
    } else if (k === 45 || isDigit(k)) {
      const keyEnd = endOfIntegerKey(text, keyStart)
      if (keyEnd < 0) continue
      out ??= []
      out.push(text.slice(copied, keyStart), "\"", text.slice(keyStart, keyEnd), "\"")
      copied = keyEnd
      i = keyEnd - 1
    }
  }
  if (out === undefined) return text
  out.push(text.slice(copied))
  return out.join("")
}

const utf8 = new TextDecoder("utf-8")

/**
 * Parses fastjson output: {@link toStandardJson}, then `JSON.parse`. Accepts text or UTF-8
 * bytes.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (input: string | Uint8Array): Effect.Effect<unknown, JsonParseError> =>
  Effect.suspend(() => {
    const text = typeof input === "string" ? input : utf8.decode(input)
    try {
      return Effect.succeed(JSON.parse(toStandardJson(text)) as unknown)
    } catch (error) {
      return Effect.fail(new JsonParseError({ detail: error instanceof Error ? error.message : String(error) }))
    }
  })

/**
 * A decoder of fastjson bodies into `schema`: parse (see {@link parse}), then validate. Every
 * failure is a {@link BodyDecodeError} naming `bodyName`; a missing body reads as no JSON.
 *
 * @since 0.1.0
 * @category parsing
 */
export const decodeBody = <S extends Schema.Top & { readonly DecodingServices: never }>(schema: S, bodyName: string) => {
  const decodeSchema = Schema.decodeUnknownEffect(schema)
  return (body: Uint8Array | string | undefined): Effect.Effect<S["Type"], BodyDecodeError> =>
    body === undefined
      ? Effect.fail(new BodyDecodeError({ body: bodyName, detail: "the response has no body" }))
      : parse(body).pipe(
        Effect.mapError((error) => new BodyDecodeError({ body: bodyName, detail: error.message })),
        Effect.flatMap((json) =>
          decodeSchema(json, { errors: "all" }).pipe(
            Effect.mapError((error) =>
              new BodyDecodeError({ body: bodyName, detail: error.message.replace(/\s*\n\s*/g, " ") })
            )
          )
        )
      )
}

/**
 * The entries of a map fastjson wrote with object keys, after {@link toStandardJson} made each key
 * a string of JSON text: every key parsed and validated with `keySchema`, paired with its value.
 * A key that is not JSON, or not a `keySchema`, is a {@link BodyDecodeError} naming `bodyName`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const objectKeyedEntries = <K extends Schema.Top & { readonly DecodingServices: never }, V>(
  keySchema: K,
  record: { readonly [key: string]: V },
  bodyName: string
): Effect.Effect<Array<readonly [K["Type"], V]>, BodyDecodeError> => {
  const decodeKey = Schema.decodeUnknownEffect(keySchema)
  return Effect.forEach(Object.keys(record), (key) =>
    parse(key).pipe(
      Effect.flatMap((json) => decodeKey(json)),
      Effect.map((decoded) => [decoded, record[key]!] as const),
      Effect.mapError((error) =>
        new BodyDecodeError({ body: bodyName, detail: `map key ${JSON.stringify(key)}: ${error.message.replace(/\s*\n\s*/g, " ")}` })
      )
    ))
}

