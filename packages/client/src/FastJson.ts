/**
 * Reading JSON written by Java's fastjson with its default settings, which is not always JSON:
 * maps with integer keys come out with the keys bare, e.g. `{"brokerAddrs":{0:"127.0.0.1:10911"}}`
 * (`TopicRouteData`, `ClusterInfo`). Name servers write cluster info that way always, and route data when
 * the request's version is below 401 without `acceptStandardJsonOnly`.
 *
 * {@link quoteBareIntegerKeys} is a small pre-pass that quotes such keys, looking only outside
 * string literals, so text like `"{0:"` inside a string is left alone; then a standard parser
 * reads the result. It does not accept fastjson's other extension (objects as map keys, as in
 * `ResetOffsetBody`). Nothing here throws.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import { BodyDecodeError, JsonParseError } from "./ClientError.ts"

const isDigit = (c: number): boolean => c >= 48 && c <= 57
const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13

/**
 * Quotes every bare (optionally negative) integer object key outside string literals:
 * `{0:"a",-1:"b"}` becomes `{"0":"a","-1":"b"}`. A key is a run of digits right after `{` or `,`
 * (whitespace allowed) and right before `:`; in valid JSON no such run exists outside strings, so
 * standard JSON comes back unchanged.
 *
 * @since 0.1.0
 * @category parsing
 */
export const quoteBareIntegerKeys = (text: string): string => {
  let out: Array<string> | undefined
  let copied = 0
  let inString = false
  const length = text.length
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92 /* \ */) i++
      else if (c === 34 /* " */) inString = false
      continue
    }
    if (c === 34) {
      inString = true
      continue
    }
    if (c !== 123 /* { */ && c !== 44 /* , */) continue
    let j = i + 1
    while (j < length && isSpace(text.charCodeAt(j))) j++
    const keyStart = j
    if (j < length && text.charCodeAt(j) === 45 /* - */) j++
    const digitsStart = j
    while (j < length && isDigit(text.charCodeAt(j))) j++
    if (j === digitsStart) continue
    const keyEnd = j
    while (j < length && isSpace(text.charCodeAt(j))) j++
    if (j >= length || text.charCodeAt(j) !== 58 /* : */) continue
    out ??= []
    out.push(text.slice(copied, keyStart), "\"", text.slice(keyStart, keyEnd), "\"")
    copied = keyEnd
    i = keyEnd - 1
  }
  if (out === undefined) return text
  out.push(text.slice(copied))
  return out.join("")
}

const utf8 = new TextDecoder("utf-8")

/**
 * Parses fastjson output: {@link quoteBareIntegerKeys}, then `JSON.parse`. Accepts text or UTF-8
 * bytes.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (input: string | Uint8Array): Effect.Effect<unknown, JsonParseError> =>
  Effect.suspend(() => {
    const text = typeof input === "string" ? input : utf8.decode(input)
    try {
      return Effect.succeed(JSON.parse(quoteBareIntegerKeys(text)) as unknown)
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
