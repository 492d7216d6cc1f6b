import { describe, expect, it } from "@effect/vitest"
import { Buffer } from "node:buffer"
import * as RemotingCommand from "../src/RemotingCommand.ts"

describe("RemotingCommand", () => {
  it("make fills Java-compatible defaults: JAVA, version 479, opaque 0, flag 0, nothing else", () => {
    const command = RemotingCommand.make({ code: 105 })
    expect(command).toEqual({
      code: 105,
      language: "JAVA",
      version: 479,
      opaque: 0,
      flag: 0,
      remark: undefined,
      extFields: RemotingCommand.emptyExtFields,
      body: undefined
    })
    expect(Object.keys(command.extFields)).toEqual([])
  })

  it("make truncates numbers to signed 32-bit like Java ints and drops an empty body", () => {
    const command = RemotingCommand.make({ code: 2 ** 32 + 5, opaque: 2 ** 31, flag: 1.7, body: new Uint8Array(0) })
    expect(command.code).toBe(5)
    expect(command.opaque).toBe(-(2 ** 31))
    expect(command.flag).toBe(1)
    expect(command.body).toBeUndefined()
  })

  it("copies extFields into a prototype-less object and leaves out non-string values", () => {
    const input: Record<string, string> = { a: "1" }
    const command = RemotingCommand.make({ code: 1, extFields: { ...input, n: 5 as unknown as string } })
    input.a = "changed"
    expect(command.extFields).toEqual({ a: "1" })
    expect(Object.getPrototypeOf(Object.getPrototypeOf(command.extFields))).toBeNull()
    expect("toString" in command.extFields).toBe(false)
    expect(command.extFields["constructor"]).toBeUndefined()
  })

  it("flag helpers read and set the response and oneway bits", () => {
    const request = RemotingCommand.make({ code: 10, opaque: 42 })
    expect(RemotingCommand.isResponse(request)).toBe(false)
    expect(RemotingCommand.isOneway(request)).toBe(false)
    const oneway = RemotingCommand.markOneway(request)
    expect(oneway.flag).toBe(2)
    expect(RemotingCommand.isOneway(oneway)).toBe(true)
    expect(RemotingCommand.isResponse(RemotingCommand.markResponse(oneway))).toBe(true)
    expect(RemotingCommand.markResponse(oneway).flag).toBe(3)
    expect(request.flag).toBe(0)
  })

  it("response echoes the request's opaque, sets the response bit and carries code and remark", () => {
    const request = RemotingCommand.make({ code: 10, opaque: -7, flag: 0 })
    const response = RemotingCommand.response(request, 17, "No topic route info", {
      extFields: { k: "v" },
      body: Buffer.from("b")
    })
    expect(response.opaque).toBe(-7)
    expect(response.flag).toBe(1)
    expect(response.code).toBe(17)
    expect(response.remark).toBe("No topic route info")
    expect(response.extFields).toEqual({ k: "v" })
    expect(RemotingCommand.isResponse(response)).toBe(true)
  })

  it("withExtFields merges without touching the original; withOpaque and withBody copy", () => {
    const a = RemotingCommand.make({ code: 1, extFields: { x: "1" } })
    const b = RemotingCommand.withExtFields(a, { y: "2", x: "3" })
    expect(a.extFields).toEqual({ x: "1" })
    expect(b.extFields).toEqual({ x: "3", y: "2" })
    expect(Object.getPrototypeOf(Object.getPrototypeOf(b.extFields))).toBeNull()
    expect(RemotingCommand.withOpaque(a, 9).opaque).toBe(9)
    expect(a.opaque).toBe(0)
    expect(RemotingCommand.withBody(a, new Uint8Array(0)).body).toBeUndefined()
  })

  it("describe names the kind, code and opaque and never prints the body", () => {
    const line = RemotingCommand.describe(RemotingCommand.make({ code: 10, opaque: 3, body: Buffer.from("secret") }))
    expect(line).toBe("request code=10 opaque=3 ext=0 body=6B")
  })
})
