/**
 * A small, strict RFC 8259 JSON parser used only as the oracle of differential tests.
 *
 * Why not JSON.parse: on Node 24.21 (V8 13.6) JSON.parse sometimes returns the wrong key for an
 * object key written as "\"" (an escaped quote comes back as a backslash) once enough other
 * objects have been parsed in the process; Node 20 does not. The property test that compares the
 * codec's JSON fast path with JSON.parse found it (a replayed sequence of 938 parses reproduces it
 * in a fresh process). Objects here are built with defineProperty, so "__proto__" is an own key,
 * later duplicates win and keep the first position — as JSON.parse does.
 */

export class JsonSyntaxError extends Error {}

export const parse = (text: string): unknown => {
  let i = 0
  const fail = (what: string): never => {
    throw new JsonSyntaxError(`${what} at ${i}`)
  }
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++
  }
  const value = (): unknown => {
    ws()
    const c = text[i]
    if (c === "{") return object()
    if (c === "[") return array()
    if (c === "\"") return string()
    if (c === "t") return word("true", true)
    if (c === "f") return word("false", false)
    if (c === "n") return word("null", null)
    return number()
  }
  const word = <A>(w: string, v: A): A => {
    if (text.slice(i, i + w.length) !== w) fail(`expected ${w}`)
    i += w.length
    return v
  }
  const number = (): number => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i))
    if (m === null) return fail("expected a value")
    i += m[0].length
    return Number(m[0])
  }
  const string = (): string => {
    i++ // opening quote
    let out = ""
    for (;;) {
      if (i >= text.length) fail("unterminated string")
      const c = text[i++]!
      if (c === "\"") return out
      if (c.charCodeAt(0) < 0x20) fail("control character in string")
      if (c !== "\\") {
        out += c
        continue
      }
      const e = text[i++]
      switch (e) {
        case "\"":
        case "\\":
        case "/":
          out += e
          break
        case "b":
          out += "\b"
          break
        case "f":
          out += "\f"
          break
        case "n":
          out += "\n"
          break
        case "r":
          out += "\r"
          break
        case "t":
          out += "\t"
          break
        case "u": {
          const hex = text.slice(i, i + 4)
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail("bad \\u escape")
          out += String.fromCharCode(parseInt(hex, 16))
          i += 4
          break
        }
        default:
          fail("bad escape")
      }
    }
  }
  const array = (): Array<unknown> => {
    i++
    const out: Array<unknown> = []
    ws()
    if (text[i] === "]") {
      i++
      return out
    }
    for (;;) {
      out.push(value())
      ws()
      const c = text[i++]
      if (c === "]") return out
      if (c !== ",") fail("expected , or ]")
    }
  }
  const object = (): Record<string, unknown> => {
    i++
    const out: Record<string, unknown> = {}
    ws()
    if (text[i] === "}") {
      i++
      return out
    }
    for (;;) {
      ws()
      if (text[i] !== "\"") fail("expected a key")
      const key = string()
      ws()
      if (text[i++] !== ":") fail("expected :")
      Object.defineProperty(out, key, { value: value(), enumerable: true, writable: true, configurable: true })
      ws()
      const c = text[i++]
      if (c === "}") return out
      if (c !== ",") fail("expected , or }")
    }
  }
  const result = value()
  ws()
  if (i !== text.length) fail("trailing characters")
  return result
}
