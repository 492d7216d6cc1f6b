/**
 * TLS against a real Apache RocketMQ name server and broker that enforce it
 * (`ROCKETMQ_TLS=enforcing scripts/rocketmq/up`), with a CA and certificates this suite makes with
 * scripts/rocketmq/tls-certs (openssl): the client verifies the certificate and works end to end;
 * a client without TLS, a wrong CA, a host-name mismatch, an expired certificate and a TLS client
 * on a plaintext port each get a typed error that says what is wrong. The suite starts its own
 * one-broker clusters (TLS with a valid certificate, then one with an expired certificate) on
 * free ports, and stops them.
 */
import { Admin, Broker, Message, NameServer } from "@effect-rocketmq/client"
import { RemotingClient } from "@effect-rocketmq/remoting"
import { afterAll, assert, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as OwnCluster from "./ownCluster.ts"
import { cluster, runId, skipReason } from "./support.ts"

const real = cluster()
const openssl = OwnCluster.has("openssl")
const skip = real === undefined
  ? skipReason()
  : OwnCluster.required()
  ? undefined
  : OwnCluster.cannotStart() ?? (openssl ? undefined : "openssl is not installed")

/** The typed failure of `effect` (it must fail). */
const failure = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.flip(effect)

describe.skipIf(skip !== undefined)(`TLS against a real broker${skip !== undefined ? ` (skipped: ${skip})` : ""}`, () => {
  let dir: string | undefined
  let pki: ReturnType<typeof OwnCluster.makeCertificates>
  let tls: OwnCluster.OwnCluster | undefined

  beforeAll(async () => {
    if (!openssl) throw new Error("ROCKETMQ_IT is set but openssl is not installed: the TLS suite needs it to make certificates")
    dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "rmq-tls-pki-"))
    pki = OwnCluster.makeCertificates(dir)
    tls = await OwnCluster.start("tls", {
      ROCKETMQ_TLS: "enforcing",
      ROCKETMQ_TLS_CERT: pki.cert,
      ROCKETMQ_TLS_KEY: pki.key,
      ROCKETMQ_TLS_CA: pki.ca
    })
  }, 400_000)

  afterAll(async () => {
    await tls?.stop()
    if (dir !== undefined) Fs.rmSync(dir, { recursive: true, force: true })
  }, 120_000)

  const client = (channel: RemotingClient.RemotingClientOptions["channel"]) =>
    RemotingClient.layer({ nameServerAddresses: tls!.namesrvAddr, defaultTimeout: "10 seconds", channel })
  const ca = () => Fs.readFileSync(pki.ca, "utf8")

  it.live("with TLS and the right CA the client creates a topic, sends and pulls, through the name server and the broker", () =>
    Effect.gen(function*() {
      const topic = `tls-${runId()}`
      const info = yield* NameServer.getBrokerClusterInfo()
      const brokerAddr = info.brokerAddrTable["broker-a"]?.brokerAddrs["0"]
      expect(brokerAddr).toBe(tls!.brokerAddr)
      yield* Admin.createTopic(tls!.brokerAddr, topic, { queueNums: 1, timeoutMillis: 10_000 })
      let route = yield* Effect.result(NameServer.getRouteInfoByTopic(topic))
      for (let i = 0; i < 100 && route._tag === "Failure"; i++) {
        yield* Effect.sleep("100 millis")
        route = yield* Effect.result(NameServer.getRouteInfoByTopic(topic))
      }
      assert(route._tag === "Success", `the route of ${topic} within 10 s`)
      const sent = yield* Broker.sendMessage(tls!.brokerAddr, Message.make(topic, "over TLS"), { queueId: 0 })
      expect(sent.status).toBe("SEND_OK")
      const pulled = yield* Broker.pullMessage(tls!.brokerAddr, { consumerGroup: `tls-g-${runId()}`, topic, queueId: 0, queueOffset: 0n })
      assert(pulled._tag === "Found")
      expect(pulled.messages.map((m) => new TextDecoder().decode(m.body))).toEqual(["over TLS"])
    }).pipe(Effect.provide(client({ tls: { ca: ca() } }))))

  it.live("a client without TLS gets a typed error that says the server wants TLS, from the name server and the broker", () =>
    Effect.gen(function*() {
      const viaNameServer = yield* failure(NameServer.getBrokerClusterInfo())
      assert(viaNameServer._tag === "ChannelClosed", viaNameServer.message)
      expect(viaNameServer.cause._tag).toBe("ClosedByPeer")
      expect(viaNameServer.message).toContain("enable TLS for the connection")
      const direct = yield* failure(Broker.sendMessage(tls!.brokerAddr, Message.make("TBW102", "x"), { queueId: 0 }))
      assert(direct._tag === "ChannelClosed", direct.message)
      expect(direct.message).toContain(tls!.brokerAddr)
      expect(direct.message).toContain("enable TLS for the connection")
    }).pipe(Effect.provide(client(undefined))))

  it.live("a client that trusts another CA is refused: the message says the certificate is not signed by a trusted CA, and not to check the address", () =>
    Effect.gen(function*() {
      const viaNameServer = yield* failure(NameServer.getBrokerClusterInfo())
      assert(viaNameServer._tag === "NameServerUnavailable", viaNameServer.message)
      expect(viaNameServer.message).toContain("not signed by any CA this client trusts")
      expect(viaNameServer.message).not.toContain("ROCKETMQ_NAMESRV_ADDR")
      expect(viaNameServer.message).not.toContain("running")
      const direct = yield* failure(Broker.sendMessage(tls!.brokerAddr, Message.make("TBW102", "x"), { queueId: 0 }))
      assert(direct._tag === "ConnectError", direct.message)
      expect(direct).toMatchObject({ reason: "Tls", detail: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" })
      expect(direct.message).toContain("not signed by any CA this client trusts")
    }).pipe(Effect.provide(client({ tls: { ca: Fs.readFileSync(pki.otherCa, "utf8") } }))))

  it.live("a client that expects another host name is refused with a host-name mismatch in words", () =>
    Effect.gen(function*() {
      // The certificate names IP 127.0.0.1 only; this client asks for broker.example.
      const error = yield* failure(NameServer.getBrokerClusterInfo())
      assert(error._tag === "NameServerUnavailable", error.message)
      expect(error.message).toContain("not issued for the host name or IP address this client connected to")
      expect(error.message).not.toContain("ROCKETMQ_NAMESRV_ADDR")
      const direct = yield* failure(Broker.sendMessage(tls!.brokerAddr, Message.make("TBW102", "x"), { queueId: 0 }))
      expect(direct).toMatchObject({ _tag: "ConnectError", reason: "Tls", detail: "ERR_TLS_CERT_ALTNAME_INVALID" })
    }).pipe(Effect.provide(client({ tls: { ca: ca(), servername: "broker.example" } }))))

  it.live("a TLS client against the shared cluster's plaintext ports says the port does not speak TLS", () =>
    Effect.gen(function*() {
      const viaNameServer = yield* failure(NameServer.getBrokerClusterInfo())
      assert(viaNameServer._tag === "NameServerUnavailable", viaNameServer.message)
      expect(viaNameServer.message).toContain("this port does not speak TLS")
      expect(viaNameServer.message).not.toContain("ROCKETMQ_NAMESRV_ADDR")
      const direct = yield* failure(Broker.sendMessage(real!.brokerAddr, Message.make("TBW102", "x"), { queueId: 0 }))
      assert(direct._tag === "ConnectError", direct.message)
      expect(direct.reason).toBe("Tls")
      expect(direct.message).toContain("this port does not speak TLS")
    }).pipe(
      Effect.provide(RemotingClient.layer({ nameServerAddresses: real!.namesrvAddr, channel: { tls: { ca: ca() } } }))
    ))

  it.live("an expired certificate is refused with a message that says it has expired", () =>
    Effect.gen(function*() {
      const expired = yield* Effect.acquireRelease(
        Effect.promise(() =>
          OwnCluster.start("tls-expired", {
            ROCKETMQ_TLS: "enforcing",
            ROCKETMQ_TLS_CERT: pki.expiredCert,
            ROCKETMQ_TLS_KEY: pki.expiredKey
          })
        ),
        (own) => Effect.promise(() => own.stop())
      )
      const error = yield* failure(NameServer.getBrokerClusterInfo()).pipe(
        Effect.provide(RemotingClient.layer({ nameServerAddresses: expired.namesrvAddr, channel: { tls: { ca: ca() } } }))
      )
      assert(error._tag === "NameServerUnavailable", error.message)
      expect(error.message).toContain("the server's certificate has expired")
      expect(error.message).not.toContain("ROCKETMQ_NAMESRV_ADDR")
    }), 400_000)
})
