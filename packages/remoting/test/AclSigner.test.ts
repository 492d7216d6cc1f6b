/**
 * Request signing (AclClientRPCHook): the HMAC primitive against Java's test vector (V10 below), the two derived
 * examples, the signed-content rules, and the hook through a RemotingClient against a loopback peer
 * (signed last whatever the registration order).
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import { Buffer } from "node:buffer"
import * as Crypto from "node:crypto"
import * as AclSigner from "../src/AclSigner.ts"
import * as RemotingClient from "../src/RemotingClient.ts"
import * as RemotingCommand from "../src/RemotingCommand.ts"
import * as RpcHook from "../src/RpcHook.ts"
import { failureOf } from "./support/ClientKit.ts"
import * as Peer from "./support/Peer.ts"

const sk = Redacted.make("sk")

describe("AclSigner: vectors", () => {
  it("V10: HmacSHA1(key 12345678, \"RocketMQ\") in Base64", () => {
    expect(AclSigner.hmacSha1Base64("RocketMQ", Redacted.make("12345678"))).toBe("IUc8rrO/0gDch8CjObLQsW2rsiA=")
    expect(AclSigner.hmacSha1Base64(Buffer.from("RocketMQ"), Redacted.make("12345678"))).toBe("IUc8rrO/0gDch8CjObLQsW2rsiA=")
  })

  it("derived example: ext {topic: TopicA}, AccessKey ak, secret sk, no body", () => {
    const signed = AclSigner.signRequest(RemotingCommand.make({ code: 10, extFields: { topic: "TopicA" } }), {
      accessKey: "ak",
      secretKey: sk
    })
    expect({ ...signed.extFields }).toEqual({ topic: "TopicA", AccessKey: "ak", Signature: "LaFvs8ZmttDE4nOZYPB8+nLiOHA=" })
  })

  it("derived example: the same with body 01 02", () => {
    const signed = AclSigner.signRequest(
      RemotingCommand.make({ code: 10, extFields: { topic: "TopicA" }, body: new Uint8Array([1, 2]) }),
      { accessKey: "ak", secretKey: sk }
    )
    expect(signed.extFields.Signature).toBe("R8FAg3T0pxof+mi3L44NYbPMmVc=")
  })
})

describe("AclSigner: signed content", () => {
  it("sorts keys by UTF-16 code unit (uppercase before lowercase, no locale), concatenates values, skips Signature", () => {
    const content = AclSigner.signatureContent(
      RemotingCommand.extFieldsFrom({ b: "2", a: "1", B: "U", Signature: "old", "\u00e9": "E", Z: "z" }),
      undefined
    )
    // Code units: B (0x42) < Z (0x5a) < a < b < é (0xe9); a locale sort would put a/A together.
    expect(Buffer.from(content).toString("utf8")).toBe("Uz12E")
  })

  it("appends the raw body bytes after the UTF-8 values, and honours excludeFromSignature", () => {
    const content = AclSigner.signatureContent(
      RemotingCommand.extFieldsFrom({ k: "\u00fc", _UNIQUE_KEY_QUERY: "x" }),
      new Uint8Array([0, 255]),
      ["_UNIQUE_KEY_QUERY"]
    )
    expect([...content]).toEqual([0xc3, 0xbc, 0, 255])
  })

  it("signs the security token too, and never puts the secret key in the request", () => {
    const signed = AclSigner.signRequest(RemotingCommand.make({ code: 10, extFields: { topic: "T" } }), {
      accessKey: "ak",
      secretKey: sk,
      securityToken: Redacted.make("tok")
    })
    expect(signed.extFields.SecurityToken).toBe("tok")
    const expected = Crypto.createHmac("sha1", "sk").update("aktokT").digest("base64")
    expect(signed.extFields.Signature).toBe(expected)
    expect(Object.values(signed.extFields)).not.toContain("sk")
    expect(String(sk)).not.toContain("sk")
  })

  it("re-signing a signed request gives the same signature (the old Signature is not signed)", () => {
    const credentials = { accessKey: "ak", secretKey: sk }
    const once = AclSigner.signRequest(RemotingCommand.make({ code: 10, extFields: { topic: "TopicA" } }), credentials)
    expect(AclSigner.signRequest(once, credentials).extFields.Signature).toBe("LaFvs8ZmttDE4nOZYPB8+nLiOHA=")
  })
})

describe("AclSigner: as a hook", () => {
  it("is ordered after every other hook whatever the registration order", () => {
    const signer = AclSigner.make({ accessKey: "ak", secretKey: sk })
    const a: RpcHook.RpcHook = { name: "a" }
    const b: RpcHook.RpcHook = { name: "b" }
    expect(RpcHook.order([signer, a, b]).map((h) => h.name)).toEqual(["a", "b", "AclSigner"])
    expect(RpcHook.order([a, signer, b]).map((h) => h.name)).toEqual(["a", "b", "AclSigner"])
  })

  it.effect("runBeforeRequest signs last, so fields added by later-registered hooks are covered", () =>
    Effect.gen(function*() {
      const signer = AclSigner.make({ accessKey: "ak", secretKey: sk })
      const zone: RpcHook.RpcHook = {
        name: "zone",
        beforeRequest: (_address, request) => Effect.succeed(RemotingCommand.withExtFields(request, { __ZONE_NAME: "z1" }))
      }
      const out = yield* RpcHook.runBeforeRequest(
        [signer, zone],
        "127.0.0.1:1",
        RemotingCommand.make({ code: 10, extFields: { topic: "TopicA" } })
      )
      expect(out.extFields.__ZONE_NAME).toBe("z1")
      // Sorted: AccessKey, __ZONE_NAME, topic.
      expect(out.extFields.Signature).toBe(Crypto.createHmac("sha1", "sk").update("akz1TopicA").digest("base64"))
    }))

  it.effect("through the client: the peer receives a request signed over every field it carries", () =>
    Effect.gen(function*() {
      const peer = yield* Peer.make(Peer.echo)
      const custom: RpcHook.RpcHook = {
        name: "custom",
        beforeRequest: (_address, request) => Effect.succeed(RemotingCommand.withExtFields(request, { ReqT: "UNARY" }))
      }
      const client = yield* RemotingClient.make({ hooks: [AclSigner.make({ accessKey: "ak", secretKey: sk }), custom] })
      const body = Buffer.from([1, 2, 3])
      yield* client.invoke(peer.address, RemotingCommand.make({ code: 10, extFields: { topic: "TopicA" }, body }), 1000)
      yield* client.invokeOneway(peer.address, RemotingCommand.make({ code: 11, extFields: { topic: "TopicA" } }), 1000)
      const received = yield* peer.waitForRequests(2)
      for (const request of received) {
        expect(request.extFields.ReqT).toBe("UNARY")
        const recomputed = AclSigner.hmacSha1Base64(AclSigner.signatureContent(request.extFields, request.body), sk)
        expect(request.extFields.Signature).toBe(recomputed)
      }
      expect(received[0]!.extFields.Signature).toBe(
        Crypto.createHmac("sha1", "sk").update(Buffer.concat([Buffer.from("akUNARYTopicA"), body])).digest("base64")
      )
    }))

  it.effect("credentials from configuration are Redacted", () =>
    Effect.gen(function*() {
      const credentials = yield* AclSigner.credentialsConfig.pipe(
        Effect.provide(
          ConfigProvider.layer(
            ConfigProvider.fromEnv({ env: { ROCKETMQ_ACCESS_KEY: "ak", ROCKETMQ_SECRET_KEY: "sk" } })
          )
        )
      )
      expect(credentials.accessKey).toBe("ak")
      assert(Redacted.isRedacted(credentials.secretKey))
      expect(Redacted.value(credentials.secretKey)).toBe("sk")
      expect(credentials.securityToken).toBeUndefined()
      const missing = yield* Effect.exit(
        AclSigner.credentialsConfig.pipe(Effect.provide(Layer.mergeAll(ConfigProvider.layer(ConfigProvider.fromEnv({ env: {} })))))
      )
      expect(failureOf(missing)._tag).toBe("ConfigError")
    }))
})
