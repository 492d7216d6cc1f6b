import { assert, describe, it } from "@effect/vitest"
import * as ClientId from "../../src/internal/clientId.ts"

const v4 = (address: string, internal = false) => ({ address, family: "IPv4", internal })
const v6 = (address: string) => ({ address, family: "IPv6", internal: false })

describe("clientId", () => {
  it("picks the first public IPv4 address, skipping loopback and private ones", () => {
    assert.strictEqual(ClientId.localAddress([v4("127.0.0.1", true), v4("192.168.1.4"), v4("8.8.4.4"), v4("1.1.1.1")]), "8.8.4.4")
  })

  it("falls back to the last private IPv4 address when there is no public one", () => {
    assert.strictEqual(ClientId.localAddress([v4("10.0.0.5"), v4("172.17.0.1"), v4("192.168.1.4")]), "192.168.1.4")
  })

  it("uses the first IPv6 address in brackets, without its scope, when there is no IPv4 one", () => {
    assert.strictEqual(ClientId.localAddress([v4("127.0.0.1", true), v6("fe80::1%eth0"), v6("2001:db8::1")]), "[fe80::1]")
  })

  it("falls back to 127.0.0.1 when no interface has an address", () => {
    assert.strictEqual(ClientId.localAddress([v4("127.0.0.1", true)]), "127.0.0.1")
  })

  it("replaces only the DEFAULT instance name with pid#nanos", () => {
    assert.strictEqual(ClientId.instanceNameOf("DEFAULT", 12345, 81637520312345n), "12345#81637520312345")
    assert.strictEqual(ClientId.instanceNameOf("orders", 12345, 1n), "orders")
  })

  it("forms ip@instance and appends a non-blank unit name", () => {
    assert.strictEqual(ClientId.format("10.0.0.5", "12345#1"), "10.0.0.5@12345#1")
    assert.strictEqual(ClientId.format("10.0.0.5", "i", "  "), "10.0.0.5@i")
    assert.strictEqual(ClientId.format("10.0.0.5", "i", "unit1"), "10.0.0.5@i@unit1")
  })
})
