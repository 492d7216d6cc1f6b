/**
 * The `language` field of a remoting command: which client library sent it.
 *
 * JSON headers carry the name (`"JAVA"`), ROCKETMQ binary headers carry one byte. The value is
 * informational for Apache RocketMQ servers (no processor branches on it), but a server that does
 * not know a name cannot map it: `RUST` exists since 4.9.4 and `NODE_JS` only since 5.3.2.
 *
 * @since 0.1.0
 */

/**
 * The names Apache RocketMQ 5.3.3 knows, in byte order.
 *
 * @since 0.1.0
 * @category models
 */
export type LanguageCode =
  | "JAVA"
  | "CPP"
  | "DOTNET"
  | "PYTHON"
  | "DELPHI"
  | "ERLANG"
  | "RUBY"
  | "OTHER"
  | "HTTP"
  | "GO"
  | "PHP"
  | "OMS"
  | "RUST"
  | "NODE_JS"

/**
 * Every name, indexed by its wire byte.
 *
 * @since 0.1.0
 * @category constants
 */
export const all: ReadonlyArray<LanguageCode> = [
  "JAVA",
  "CPP",
  "DOTNET",
  "PYTHON",
  "DELPHI",
  "ERLANG",
  "RUBY",
  "OTHER",
  "HTTP",
  "GO",
  "PHP",
  "OMS",
  "RUST",
  "NODE_JS"
]

const byName: ReadonlyMap<string, number> = new Map(all.map((name, index) => [name, index]))

/**
 * The language every request carries unless told otherwise.
 *
 * `JAVA` is the one name that every server since 3.x maps, and it is what Java clients send, so a
 * server treats our requests exactly as its own client's. `NODE_JS` would be truthful but a server
 * older than 5.3.2 cannot map it (binary: `null`; JSON: an enum lookup that fails).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT: LanguageCode = "JAVA"

/**
 * The wire byte of a language (ROCKETMQ binary headers).
 *
 * @since 0.1.0
 * @category conversions
 */
export const toByte = (language: LanguageCode): number => byName.get(language) ?? 7

/**
 * The language of a wire byte. Unknown bytes map to `OTHER`, as rocketmq-rust does (Java would keep
 * `null`, which a string field cannot hold).
 *
 * @since 0.1.0
 * @category conversions
 */
export const fromByte = (byte: number): LanguageCode => all[byte] ?? "OTHER"

/**
 * The language of a JSON `language` value. Unknown names map to `OTHER`.
 *
 * @since 0.1.0
 * @category conversions
 */
export const fromName = (name: string): LanguageCode => {
  const index = byName.get(name)
  return index === undefined ? "OTHER" : all[index]!
}

/**
 * Whether a string is a known language name.
 *
 * @since 0.1.0
 * @category guards
 */
export const isLanguageCode = (u: unknown): u is LanguageCode => typeof u === "string" && byName.has(u)
