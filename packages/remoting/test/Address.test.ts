/**
 * Address parsing: examples for every accepted and refused form, and properties with fast-check
 * (format -> parse round trips for IPv4, IPv6 and host names; junk never throws).
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Result } from "effect"
import * as fc from "fast-check"
import * as Net from "node:net"
import * as Address from "../src/Address.ts"

const ok = (input: string) => {
  const parsed = Address.parse(input)
  if (Result.isFailure(parsed)) throw new Error(`expected ${JSON.stringify(input)} to parse: ${parsed.failure.message}`)
  return parsed.success
}

const bad = (input: string) => {
  const parsed = Address.parse(input)
  if (Result.isSuccess(parsed)) throw new Error(`expected ${JSON.stringify(input)} to be refused, got ${JSON.stringify(parsed.success)}`)
  return parsed.failure
}

/** The 128-bit value of an IPv6 address, as 8 groups: an oracle independent of the parser. */
const ipv6Groups = (text: string): Array<number> => {
  let address = text
  const tail: Array<number> = []
  const lastColon = address.lastIndexOf(":")
  const last = address.slice(lastColon + 1)
  if (last.includes(".")) {
    const octets = last.split(".").map(Number)
    tail.push((octets[0]! << 8) | octets[1]!, (octets[2]! << 8) | octets[3]!)
    address = address.slice(0, lastColon + 1) + "0:0"
  }
  const [head, rest] = address.includes("::") ? address.split("::") as [string, string] : [address, undefined]
  const parse = (part: string) => (part.length === 0 ? [] : part.split(":").map((group) => parseInt(group, 16)))
  let groups: Array<number>
  if (rest === undefined) groups = parse(head)
  else {
    const a = parse(head)
    const b = parse(rest)
    groups = [...a, ...Array(8 - a.length - b.length).fill(0), ...b]
  }
  if (tail.length > 0) groups.splice(6, 2, ...tail)
  return groups
}

describe("Address.parse: accepted forms", () => {
  it("reads host:port for IPv4 and host names, lower-casing names", () => {
    expect(ok("127.0.0.1:9876")).toEqual({ host: "127.0.0.1", port: 9876 })
    expect(ok("Broker-A.Example.COM:10911")).toEqual({ host: "broker-a.example.com", port: 10911 })
    expect(ok("localhost:1")).toEqual({ host: "localhost", port: 1 })
    expect(ok("rmq_namesrv:65535")).toEqual({ host: "rmq_namesrv", port: 65535 })
    expect(ok("  10.0.0.1:80 \t")).toEqual({ host: "10.0.0.1", port: 80 })
  })

  it("reads [ipv6]:port in any notation and keeps the canonical compressed form", () => {
    expect(ok("[::1]:9876")).toEqual({ host: "::1", port: 9876 })
    expect(ok("[0:0:0:0:0:0:0:1]:9876")).toEqual({ host: "::1", port: 9876 })
    expect(ok("[2001:DB8:0:0:1:0:0:1]:10911")).toEqual({ host: "2001:db8::1:0:0:1", port: 10911 })
    expect(Address.format(ok("[::ffff:10.0.0.1]:1"))).toBe("[::ffff:10.0.0.1]:1")
  })

  it("keeps the IPv6 scope id, so a link-local address stays connectable (and distinct)", () => {
    expect(ok("[fe80::1%eth0]:9876")).toEqual({ host: "fe80::1%eth0", port: 9876 })
    expect(Address.format(ok("[FE80:0::1%2]:9876"))).toBe("[fe80::1%2]:9876")
    expect(Address.format(ok("[fe80::1%eth0]:1"))).not.toBe(Address.format(ok("[fe80::1]:1")))
  })

  it("formats IPv6 with brackets and round-trips through normalize", () => {
    expect(Address.format({ host: "::1", port: 1 })).toBe("[::1]:1")
    expect(Address.format({ host: "a", port: 2 })).toBe("a:2")
    expect(Address.normalize(" [0::1]:9876 ")).toEqual(Result.succeed("[::1]:9876"))
  })
})

describe("Address.parse: refused forms name the input and the problem", () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ["", "empty"],
    ["   ", "empty"],
    ["127.0.0.1", "port is missing"],
    ["localhost:", "port is missing"],
    [":9876", "host is missing"],
    ["127.0.0.1:0", "out of range"],
    ["127.0.0.1:65536", "out of range"],
    ["127.0.0.1:99999", "out of range"],
    ["127.0.0.1:123456", "is not a number"],
    ["127.0.0.1:-1", "is not a number"],
    ["127.0.0.1:9876x", "is not a number"],
    ["127.0.0.1: 9876", "is not a number"],
    ["::1:9876", "needs brackets"],
    ["2001:db8::1", "needs brackets"],
    ["[::1]", "port is missing"],
    ["[::1]9876", "expected ':'"],
    ["[::1:9876", "never closed"],
    ["[127.0.0.1]:9876", "not an IPv6 address"],
    ["[fe80::1%]:1", "scope id"],
    ["[fe80::1%a b]:1", "scope id"],
    ["256.1.1.1:1", "not an IPv4 address"],
    ["1.2.3:1", "not an IPv4 address"],
    ["01.2.3.4:1", "not an IPv4 address"],
    ["bad host:1", "not a host name"],
    ["-broker:1", "not a host name"],
    ["a..b:1", "empty label"],
    ["http://broker:1", "needs brackets"],
    ["broker:1/path", "is not a number"]
  ]
  for (const [input, fragment] of cases) {
    it(`${JSON.stringify(input)} -> ${fragment}`, () => {
      const error = bad(input)
      expect(error._tag).toBe("InvalidAddress")
      expect(error.input).toBe(input)
      expect(error.detail).toContain(fragment)
      expect(error.message).toContain(JSON.stringify(input))
      expect(error.message).toContain("host:port")
    })
  }
})

describe("Address.parseList", () => {
  it("splits on ';' and ',', ignores whitespace, empty entries and duplicates", () => {
    const list = Address.parseList(" 127.0.0.1:9876; [::1]:9877 ,broker:1;; 127.0.0.1:9876 ;")
    assert(Result.isSuccess(list))
    expect(list.success.map(Address.format)).toEqual(["127.0.0.1:9876", "[::1]:9877", "broker:1"])
  })

  it("accepts arrays of lists", () => {
    const list = Address.parseList(["a:1;b:2", " c:3 "])
    assert(Result.isSuccess(list))
    expect(list.success.map(Address.format)).toEqual(["a:1", "b:2", "c:3"])
  })

  it("an empty list (or only separators) is empty, not an error", () => {
    for (const input of ["", " ", ";", " ; , ;", []]) {
      expect(Address.parseList(input)).toEqual(Result.succeed([]))
    }
  })

  it("a bad entry fails the list, naming the entry and the list", () => {
    const list = Address.parseList("127.0.0.1:9876;localhost")
    assert(Result.isFailure(list))
    expect(list.failure.input).toBe("localhost")
    expect(list.failure.message).toContain("\"localhost\"")
    expect(list.failure.message).toContain("127.0.0.1:9876;localhost")
    expect(list.failure.message).toContain("port is missing")
  })
})

describe("Address properties", () => {
  const port = fc.integer({ min: 1, max: 65535 })

  it("IPv4: format -> parse gives the same host and port", () => {
    fc.assert(
      fc.property(fc.ipV4(), port, (host, p) => {
        const parsed = ok(`${host}:${p}`)
        expect(parsed).toEqual({ host, port: p })
        expect(Address.format(parsed)).toBe(`${host}:${p}`)
      }),
      { numRuns: 500 }
    )
  })

  it("IPv6 in any notation: parse gives the same 128-bit address, and format -> parse is stable", () => {
    fc.assert(
      fc.property(fc.ipV6(), port, fc.boolean(), (host, p, upper) => {
        const text = upper ? host.toUpperCase() : host
        const parsed = ok(`[${text}]:${p}`)
        expect(parsed.port).toBe(p)
        expect(Net.isIPv6(parsed.host)).toBe(true)
        expect(ipv6Groups(parsed.host)).toEqual(ipv6Groups(host.toLowerCase()))
        expect(ok(Address.format(parsed))).toEqual(parsed)
      }),
      { numRuns: 500 }
    )
  })

  it("host names: format -> parse gives the lower-cased name and the port", () => {
    fc.assert(
      fc.property(fc.domain(), port, (host, p) => {
        const parsed = ok(`${host}:${p}`)
        expect(parsed).toEqual({ host: host.toLowerCase(), port: p })
        expect(ok(Address.format(parsed))).toEqual(parsed)
      }),
      { numRuns: 500 }
    )
  })

  it("lists: joining formatted addresses with ';' or ',' and noise parses back to the same addresses", () => {
    const address = fc.oneof(
      fc.tuple(fc.ipV4(), port).map(([h, p]) => `${h}:${p}`),
      fc.tuple(fc.ipV6(), port).map(([h, p]) => Address.format(ok(`[${h}]:${p}`))),
      fc.tuple(fc.domain(), port).map(([h, p]) => `${h.toLowerCase()}:${p}`)
    )
    fc.assert(
      fc.property(
        fc.uniqueArray(address, { maxLength: 6 }),
        fc.constantFrom(";", ",", " ; ", ";;", " , "),
        fc.boolean(),
        (addresses, separator, trailing) => {
          const text = addresses.join(separator) + (trailing ? separator : "")
          const list = Address.parseList(text)
          assert(Result.isSuccess(list))
          expect(list.success.map(Address.format)).toEqual(addresses)
        }
      ),
      { numRuns: 300 }
    )
  })

  it("random junk never throws: every input gives a success or an InvalidAddress quoting it", () => {
    const junk = fc.oneof(
      fc.string(),
      fc.string({ unit: "binary" }),
      fc.string({ unit: fc.constantFrom("[", "]", ":", "%", ".", "1", "f", ";", ",", " ", "-", "a") }),
      fc.tuple(fc.string(), fc.integer()).map(([h, p]) => `${h}:${p}`),
      fc.tuple(fc.string(), fc.string()).map(([h, p]) => `[${h}]:${p}`)
    )
    fc.assert(
      fc.property(junk, (input) => {
        const parsed = Address.parse(input)
        if (Result.isFailure(parsed)) {
          expect(parsed.failure.input).toBe(input)
          expect(typeof parsed.failure.message).toBe("string")
        } else {
          expect(ok(Address.format(parsed.success))).toEqual(parsed.success)
          expect(parsed.success.port).toBeGreaterThanOrEqual(1)
          expect(parsed.success.port).toBeLessThanOrEqual(65535)
        }
        const list = Address.parseList(input)
        expect(Result.isSuccess(list) || list.failure._tag === "InvalidAddress").toBe(true)
      }),
      { numRuns: 2000 }
    )
  })
})
