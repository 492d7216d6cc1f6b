/**
 * TLS between a RemotingServer and a Channel, with a self-signed certificate generated per run by
 * the openssl CLI. TestClock never moves in these tests: every failure below is noticed from the
 * bytes on the wire, not from a timeout.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Queue } from "effect"
import * as Channel from "../src/Channel.ts"
import * as RemotingClient from "../src/RemotingClient.ts"
import * as RemotingCommand from "../src/RemotingCommand.ts"
import * as RemotingError from "../src/RemotingError.ts"
import * as RemotingServer from "../src/RemotingServer.ts"
import { failureOf } from "./support/Effects.ts"
import { selfSigned, testPki } from "./support/TlsCert.ts"

const echo: RemotingServer.Processor = (r) =>
  Effect.succeed(RemotingCommand.response(r, 0, "over tls?", { extFields: r.extFields, body: r.body }))

const acceptedQueue = Effect.gen(function*() {
  const accepted = yield* Queue.unbounded<RemotingServer.ServerConnection>()
  return { accepted, onConnection: (c: RemotingServer.ServerConnection) => Queue.offer(accepted, c).pipe(Effect.asVoid) }
})

describe("TLS", () => {
  it.effect("a TLS client that trusts the server's certificate round trips, both ways", () =>
    Effect.gen(function*() {
      const { cert, key } = yield* selfSigned
      const { accepted, onConnection } = yield* acceptedQueue
      const server = yield* RemotingServer.make({ tls: { key, cert }, defaultProcessor: echo, onConnection })
      const channel = yield* Channel.make({ host: "127.0.0.1", port: server.port, tls: { ca: cert } }).pipe(
        Effect.provideService(Channel.RequestHandler, {
          handle: (r) => Effect.succeed(RemotingCommand.response(r, 0, "client here"))
        })
      )
      const response = yield* channel.sendWaitResponse(
        RemotingCommand.make({ code: 10, extFields: { topic: "T" }, body: new Uint8Array(100_000).fill(7) }),
        5000
      )
      expect(response.extFields.topic).toBe("T")
      expect(response.body?.length).toBe(100_000)
      expect(response.body?.every((b) => b === 7)).toBe(true)
      const connection = yield* Queue.take(accepted)
      expect((connection.socket as { encrypted?: boolean }).encrypted).toBe(true)
      // Server-initiated requests go over the same TLS session.
      const reply = yield* connection.channel.sendWaitResponse(RemotingCommand.make({ code: 307 }), 5000)
      expect(reply.remark).toBe("client here")
    }))

  it.effect("rejectUnauthorized: false connects without the CA", () =>
    Effect.gen(function*() {
      const { cert, key } = yield* selfSigned
      const server = yield* RemotingServer.make({ tls: { key, cert }, defaultProcessor: echo })
      const channel = yield* Channel.make({ host: "127.0.0.1", port: server.port, tls: { rejectUnauthorized: false } })
      expect((yield* channel.sendWaitResponse(RemotingCommand.make({ code: 1 }), 5000)).remark).toBe("over tls?")
    }))

  it.effect("a TLS client that does not trust the certificate fails to connect with a typed ConnectError", () =>
    Effect.gen(function*() {
      const { cert, key } = yield* selfSigned
      const server = yield* RemotingServer.make({ tls: { key, cert }, defaultProcessor: echo })
      const error = failureOf(yield* Effect.exit(Channel.make({ host: "127.0.0.1", port: server.port, tls: true })))
      assert(error._tag === "ConnectError")
      expect(error.reason).toBe("Tls")
      expect(error.detail).toBe("DEPTH_ZERO_SELF_SIGNED_CERT")
      expect(error.message).toContain(`127.0.0.1:${server.port}`)
      expect(error.message).toContain("presents a self-signed certificate this client does not trust")
      expect(yield* server.connections).toEqual([])
    }))

  it.effect("a TLS client against a plaintext server fails to connect; the server names TLS as the reason", () =>
    Effect.gen(function*() {
      const { accepted, onConnection } = yield* acceptedQueue
      const server = yield* RemotingServer.make({ defaultProcessor: echo, onConnection })
      const error = failureOf(
        yield* Effect.exit(Channel.make({ host: "127.0.0.1", port: server.port, tls: { rejectUnauthorized: false } }))
      )
      assert(error._tag === "ConnectError")
      expect(error.reason).toBe("Tls")
      expect(error.message).toContain(`127.0.0.1:${server.port}`)
      expect(error.message).toContain("this port does not speak TLS (a plaintext port")
      // The server read a ClientHello where a frame length should be and closed the connection.
      const connection = yield* Queue.take(accepted)
      const reason = yield* connection.channel.closed
      assert(reason._tag === "FrameDecodeError")
      expect(reason.message).toContain("TLS")
      expect(reason.message).toContain("Enable TLS for this connection, or use the server's plaintext port")
    }))

  it.effect("a plaintext client against a TLS server fails its request at once with ChannelClosed(ClosedByPeer); nothing hangs", () =>
    Effect.gen(function*() {
      const { cert, key } = yield* selfSigned
      const server = yield* RemotingServer.make({ tls: { key, cert }, defaultProcessor: echo })
      const channel = yield* Channel.make({ host: "127.0.0.1", port: server.port })
      const error = failureOf(yield* Effect.exit(channel.sendWaitResponse(RemotingCommand.make({ code: 1 }), 60_000)))
      assert(error._tag === "ChannelClosed")
      // A Node TLS server (like Java's in ENFORCING mode) drops a connection whose first bytes are
      // not a TLS handshake without writing anything back, so the client sees the peer close right
      // after its first request — TestClock never moved, so this is not the 60 s timeout.
      expect(error.cause._tag).toBe("ClosedByPeer")
      expect(error.message).toContain(`127.0.0.1:${server.port}`)
      // It said nothing at all: the error suggests TLS.
      expect(error.message).toContain("enable TLS for the connection")
      expect(yield* channel.pending).toBe(0)
      expect(yield* channel.isHealthy).toBe(false)
      expect(yield* server.connections).toEqual([])
    }))

  it.effect("a wrong CA, an expired certificate and a host-name mismatch each fail with a ConnectError naming the problem", () =>
    Effect.gen(function*() {
      const pki = yield* testPki
      const good = yield* RemotingServer.make({ tls: { key: pki.key, cert: pki.cert }, defaultProcessor: echo })
      const expired = yield* RemotingServer.make({ tls: { key: pki.expiredKey, cert: pki.expiredCert }, defaultProcessor: echo })
      const connect = (port: number, tls: Channel.ChannelOptions["tls"]) =>
        Effect.map(Effect.exit(Channel.make({ host: "127.0.0.1", port, tls })), failureOf)
      const cases = [
        [yield* connect(good.port, { ca: pki.otherCa }), "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "not signed by any CA this client trusts"],
        [yield* connect(expired.port, { ca: pki.ca }), "CERT_HAS_EXPIRED", "the server's certificate has expired"],
        [
          yield* connect(good.port, { ca: pki.ca, servername: "broker.example" }),
          "ERR_TLS_CERT_ALTNAME_INVALID",
          "not issued for the host name or IP address this client connected to"
        ]
      ] as const
      for (const [error, code, words] of cases) {
        assert(error._tag === "ConnectError")
        expect(error.reason).toBe("Tls")
        expect(error.detail).toBe(code)
        expect(error.message).toContain(words)
        expect(error.message).not.toContain("port is right")
      }
      // The right CA and the address the certificate names: accepted.
      const channel = yield* Channel.make({ host: "127.0.0.1", port: good.port, tls: { ca: pki.ca } })
      expect((yield* channel.sendWaitResponse(RemotingCommand.make({ code: 1 }), 5000)).remark).toBe("over tls?")
    }))

  it.effect("through the name server, a certificate problem reads as one, without advice to check the address", () =>
    Effect.gen(function*() {
      const pki = yield* testPki
      const server = yield* RemotingServer.make({ tls: { key: pki.key, cert: pki.cert }, defaultProcessor: echo })
      const client = yield* RemotingClient.make({
        nameServerAddresses: `127.0.0.1:${server.port}`,
        channel: { tls: { ca: pki.otherCa } }
      })
      const error = failureOf(yield* Effect.exit(client.invokeNameServer(RemotingCommand.make({ code: 106 }), 5000)))
      assert(error._tag === "NameServerUnavailable")
      expect(error.message).toContain("no name server accepted a TLS connection")
      expect(error.message).toContain("not signed by any CA this client trusts")
      expect(error.message).not.toContain("ROCKETMQ_NAMESRV_ADDR")
      expect(error.message).not.toContain("running")
    }))

  it.each([
    ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "not signed by any CA this client trusts"],
    ["SELF_SIGNED_CERT_IN_CHAIN", "ends in a self-signed CA this client does not trust"],
    ["DEPTH_ZERO_SELF_SIGNED_CERT", "presents a self-signed certificate"],
    ["UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "issuer of the server's certificate is not among the CAs"],
    ["CERT_HAS_EXPIRED", "has expired"],
    ["CERT_NOT_YET_VALID", "is not valid yet"],
    ["ERR_TLS_CERT_ALTNAME_INVALID", "not issued for the host name or IP address"],
    ["ECONNRESET", "this port does not speak TLS"],
    ["ERR_SSL_WRONG_VERSION_NUMBER", "bytes that are not TLS"],
    ["SOMETHING_NEW", "the TLS handshake failed (SOMETHING_NEW)"]
  ])("a TLS ConnectError with detail %s says %j, and a backoff after it does not ask whether the peer runs", (code, words) => {
    const error = new RemotingError.ConnectError({ address: "127.0.0.1:9876", reason: "Tls", detail: code })
    expect(error.message).toContain("Cannot connect to 127.0.0.1:9876 over TLS: ")
    expect(error.message).toContain(words)
    expect(RemotingError.isTlsFailure(error)).toBe(true)
    const backoff = new RemotingError.ConnectBackoff({ address: "127.0.0.1:9876", failures: 2, retryInMillis: 500, lastError: error })
    expect(backoff.message).toContain("will not go away by itself")
    expect(backoff.message).not.toContain("Check that the peer is running")
  })
})
