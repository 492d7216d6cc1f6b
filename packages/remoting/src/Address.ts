/**
 * Peer addresses: `host:port`, `[ipv6]:port`, and name server lists.
 *
 * Parsing is total: every input gives either an {@link Address} or an {@link InvalidAddress} that
 * quotes the input and says what is wrong; nothing throws. What is accepted:
 *
 * - `host:port` where host is a dotted-quad IPv4 address or a DNS name (letters, digits, `-`, `_`,
 *   dot-separated labels of 1–63 characters, at most 253 in all); names are lower-cased.
 * - `[ipv6]:port`, the address in any textual form; it is rewritten in the compressed form of
 *   RFC 5952 (`[0:0:0:0:0:0:0:1]:9876` and `[::1]:9876` are the same peer and share a channel).
 * - `[ipv6%scope]:port`: the scope (zone) id is **kept**, because a link-local address cannot be
 *   connected to without it; it becomes part of the address, so `[fe80::1%eth0]:1` and
 *   `[fe80::1]:1` are different peers. (Java strips the scope, and then cannot reach such a peer;
 *   clients that split on ':' without brackets fail on IPv6 altogether.)
 * - the port is decimal, 1–65535.
 *
 * An IPv6 address without brackets is refused (`::1:9876` has no unambiguous port), as are a missing
 * port, a port out of range and anything with characters no host name has.
 *
 * Name server lists ({@link parseList}) are separated by `;` (Java's separator) or `,`, with any
 * whitespace around entries and empty entries (a trailing `;`) ignored; duplicates are dropped.
 * An empty list is not an error here: the client reports it when a name server call is made.
 *
 * This module does no I/O and resolves no names.
 *
 * @since 0.1.0
 */
import * as Net from "node:net"
import { Effect, Result } from "effect"
import { InvalidAddress } from "./RemotingError.ts"

/**
 * A parsed peer address. `host` has no brackets; an IPv6 host is in RFC 5952 form and may end in
 * `%scope`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Address {
  readonly host: string
  readonly port: number
}

const HOST_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/
const DIGITS_AND_DOTS = /^[0-9.]+$/
const PORT = /^[0-9]{1,5}$/
const SCOPE = /^[A-Za-z0-9_.-]{1,64}$/

const invalid = (input: string, detail: string) => Result.fail(new InvalidAddress({ input, detail }))

const canonicalIpv6 = (text: string): string | undefined => {
  if (!Net.isIPv6(text)) return undefined
  try {
    return new Net.SocketAddress({ address: text, family: "ipv6" }).address
  } catch {
    return undefined
  }
}

const parsePort = (input: string, text: string): Result.Result<number, InvalidAddress> => {
  if (text.length === 0) return invalid(input, "the port is missing after ':'")
  if (!PORT.test(text)) return invalid(input, `the port ${JSON.stringify(text)} is not a number`)
  const port = Number(text)
  if (port < 1 || port > 65535) return invalid(input, `the port ${port} is out of range (1–65535)`)
  return Result.succeed(port)
}

const parseIpv6Host = (input: string, text: string): Result.Result<string, InvalidAddress> => {
  const percent = text.indexOf("%")
  const bare = percent === -1 ? text : text.slice(0, percent)
  const scope = percent === -1 ? undefined : text.slice(percent + 1)
  if (scope !== undefined && !SCOPE.test(scope)) {
    return invalid(input, `the IPv6 scope id ${JSON.stringify(scope)} is not an interface name or number`)
  }
  const canonical = canonicalIpv6(bare)
  if (canonical === undefined) return invalid(input, `${JSON.stringify(bare)} between the brackets is not an IPv6 address`)
  return Result.succeed(scope === undefined ? canonical : `${canonical}%${scope}`)
}

const parseHostName = (input: string, text: string): Result.Result<string, InvalidAddress> => {
  if (text.length === 0) return invalid(input, "the host is missing before ':'")
  if (DIGITS_AND_DOTS.test(text)) {
    return Net.isIPv4(text) ? Result.succeed(text) : invalid(input, `${JSON.stringify(text)} is not an IPv4 address`)
  }
  const host = text.toLowerCase()
  if (host.length > 253) return invalid(input, "the host name is longer than 253 characters")
  const labels = host.split(".")
  for (const label of labels) {
    if (!HOST_LABEL.test(label)) {
      return invalid(
        input,
        label.length === 0
          ? `the host name ${JSON.stringify(text)} has an empty label`
          : `${JSON.stringify(text)} is not a host name (letters, digits, '-', '_' and dots only)`
      )
    }
  }
  return Result.succeed(host)
}

/**
 * Parses one address (surrounding whitespace is ignored).
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (input: string): Result.Result<Address, InvalidAddress> => {
  if (typeof input !== "string") return invalid(String(input), "an address must be a string")
  const text = input.trim()
  if (text.length === 0) return invalid(input, "the address is empty")
  if (text.startsWith("[")) {
    const close = text.indexOf("]")
    if (close === -1) return invalid(input, "the '[' of an IPv6 address is never closed")
    const rest = text.slice(close + 1)
    if (!rest.startsWith(":")) {
      return invalid(input, rest.length === 0 ? "the port is missing (write [ipv6]:port)" : "expected ':' and a port after ']'")
    }
    const host = parseIpv6Host(input, text.slice(1, close))
    if (Result.isFailure(host)) return Result.fail(host.failure)
    const port = parsePort(input, rest.slice(1))
    if (Result.isFailure(port)) return Result.fail(port.failure)
    return Result.succeed({ host: host.success, port: port.success })
  }
  const colon = text.lastIndexOf(":")
  if (colon === -1) return invalid(input, "the port is missing (write host:port)")
  if (text.indexOf(":") !== colon) {
    return invalid(
      input,
      Net.isIPv6(text) ? "an IPv6 address needs brackets and a port, as in [::1]:9876" : "an IPv6 address needs brackets, as in [::1]:9876"
    )
  }
  const host = parseHostName(input, text.slice(0, colon))
  if (Result.isFailure(host)) return Result.fail(host.failure)
  const port = parsePort(input, text.slice(colon + 1))
  if (Result.isFailure(port)) return Result.fail(port.failure)
  return Result.succeed({ host: host.success, port: port.success })
}

/**
 * {@link parse} as an Effect.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseEffect = (input: string): Effect.Effect<Address, InvalidAddress> => Effect.fromResult(parse(input))

/**
 * `host:port`, with brackets around an IPv6 host: the form {@link parse} reads back, and the key
 * the client shares channels by.
 *
 * @since 0.1.0
 * @category formatting
 */
export const format = (address: Address): string =>
  address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`

/**
 * The canonical text of an address: `format(parse(input))`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const normalize = (input: string): Result.Result<string, InvalidAddress> => Result.map(parse(input), format)

/**
 * Parses a list of addresses: one string separated by `;` or `,`, or an array of such strings.
 * Whitespace and empty entries are ignored and duplicates dropped (first one kept); an entry that
 * does not parse fails the whole list, naming that entry and the list.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseList = (
  input: string | ReadonlyArray<string>
): Result.Result<ReadonlyArray<Address>, InvalidAddress> => {
  const parts = (typeof input === "string" ? [input] : input).flatMap((item) =>
    typeof item === "string" ? item.split(/[;,]/) : [String(item)]
  )
  const out: Array<Address> = []
  const seen = new Set<string>()
  for (const part of parts) {
    if (part.trim().length === 0) continue
    const parsed = parse(part)
    if (Result.isFailure(parsed)) {
      const whole = typeof input === "string" ? input : input.join(";")
      return whole.trim() === part.trim()
        ? Result.fail(parsed.failure)
        : invalid(part.trim(), `${parsed.failure.detail} (in the address list ${JSON.stringify(whole)})`)
    }
    const key = format(parsed.success)
    if (seen.has(key)) continue
    seen.add(key)
    out.push(parsed.success)
  }
  return Result.succeed(out)
}
