/**
 * scripts/rocketmq/probe.mjs, the readiness probe of the real-broker harness (up, broker-start,
 * namesrv-start, status), against a FakeBroker that answers as a Java server configured with
 * `-Drocketmq.serialize.type=ROCKETMQ` does (binary headers) and as a default one does (JSON).
 */
import { RemotingCommand } from "@effect-rocketmq/remoting"
import { FakeBroker } from "@effect-rocketmq/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFile, execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const probe = fileURLToPath(new URL("../../../scripts/rocketmq/probe.mjs", import.meta.url))
const tlsCerts = fileURLToPath(new URL("../../../scripts/rocketmq/tls-certs", import.meta.url))

/** A CA, a server certificate for 127.0.0.1 and an unrelated CA (scripts/rocketmq/tls-certs), removed with the scope. */
const certificates = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "rmq-probe-pki-"))
    execFileSync(tlsCerts, [dir], { stdio: "ignore", timeout: 60_000 })
    return dir
  }),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

/** Runs the probe with the test's own Node; never fails (the exit code is in the result). */
const runProbe = (args: ReadonlyArray<string>) =>
  Effect.callback<{ readonly code: number; readonly stdout: string; readonly stderr: string }>((resume) => {
    const child = execFile(process.execPath, [probe, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
      resume(Effect.succeed({ code, stdout, stderr }))
    })
    return Effect.sync(() => child.kill("SIGKILL"))
  })

// A GET_BROKER_CLUSTER_INFO body as Java writes it: bare integer keys, a slave next to a master.
const clusterInfo = '{"brokerAddrTable":{"broker-b":{"brokerAddrs":{0:"127.0.0.1:10921",1:"127.0.0.1:10931"},' +
  '"brokerName":"broker-b","cluster":"DefaultCluster"},"broker-a":{"brokerAddrs":{0:"127.0.0.1:10911"},' +
  '"brokerName":"broker-a","cluster":"DefaultCluster"}},"clusterAddrTable":{"DefaultCluster":["broker-a","broker-b"]}}'

const answer106 = FakeBroker.reply((request) =>
  RemotingCommand.response(request, 0, undefined, { body: new TextEncoder().encode(clusterInfo) })
)

describe("the harness readiness probe", () => {
  for (const serializeType of ["ROCKETMQ", "JSON"] as const) {
    it.live(`lists the registered brokers from a ${serializeType}-header answer to GET_BROKER_CLUSTER_INFO`, () =>
      Effect.gen(function*() {
        const broker = yield* FakeBroker.make({ scripts: { 106: answer106 }, channel: { serializeType } })
        const result = yield* runProbe([broker.address, "106", "--brokers"])
        expect([result.code, result.stdout, result.stderr]).toEqual([0, "broker-a=127.0.0.1:10911\nbroker-b=127.0.0.1:10921\n", ""])
      }))
  }

  it.live("prints the code, remark, ext fields and header type of a binary answer, and checks the expected code", () =>
    Effect.gen(function*() {
      const broker = yield* FakeBroker.make({
        scripts: {
          30: FakeBroker.reply((request) =>
            RemotingCommand.response(request, 0, "ünïcode remark", { extFields: { offset: "42", "ключ": "значение" } })
          )
        },
        channel: { serializeType: "ROCKETMQ" }
      })
      const ok = yield* runProbe([broker.address, "30", '{"topic":"t","queueId":0}', "--expect-code", "0"])
      expect(ok.code).toBe(0)
      const [status, ext] = ok.stdout.trim().split("\n")
      expect(status).toMatch(/^code=0 remark="ünïcode remark" opaque=\d+ flag=1 serializeType=ROCKETMQ$/)
      expect(JSON.parse(ext!.replace(/^extFields=/, ""))).toEqual({ offset: "42", "ключ": "значение" })
      const [request] = yield* broker.waitForRequests(1)
      expect(request!.request.extFields).toEqual({ topic: "t", queueId: "0" })

      const wrong = yield* runProbe([broker.address, "30", "--quiet", "--expect-code", "17"])
      expect(wrong.code).toBe(3)
    }))

  it.live("fails with exit 4 and says why when the peer does not speak RocketMQ remoting", () =>
    Effect.gen(function*() {
      const broker = yield* FakeBroker.make({ scripts: { 106: FakeBroker.garbage(new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n")) } })
      const result = yield* runProbe([broker.address, "106", "--timeout", "5000"])
      expect(result.code).toBe(4)
      expect(result.stderr).toMatch(/bad frame length|unknown serializeType|bad header length/)
    }))

  it.live("speaks TLS with --tls (readiness: no check) and --tls-ca (checked); plaintext against a TLS port and another CA exit 4", () =>
    Effect.gen(function*() {
      const dir = yield* certificates
      const read = (name: string) => Fs.readFileSync(Path.join(dir, name), "utf8")
      const broker = yield* FakeBroker.make({ scripts: { 106: answer106 }, tls: { key: read("server.key"), cert: read("server.crt") } })
      const insecure = yield* runProbe([broker.address, "106", "--brokers", "--tls"])
      expect([insecure.code, insecure.stdout]).toEqual([0, "broker-a=127.0.0.1:10911\nbroker-b=127.0.0.1:10921\n"])
      const checked = yield* runProbe([broker.address, "106", "--brokers", "--tls-ca", Path.join(dir, "ca.crt")])
      expect(checked.code).toBe(0)
      const otherCa = yield* runProbe([broker.address, "106", "--tls-ca", Path.join(dir, "other-ca.crt")])
      expect(otherCa.code).toBe(4)
      expect(otherCa.stderr).toContain("UNABLE_TO_VERIFY_LEAF_SIGNATURE")
      const plaintext = yield* runProbe([broker.address, "106", "--timeout", "5000"])
      expect(plaintext.code).toBe(4)
      expect(plaintext.stderr).toContain("connection closed before a complete response frame")
    }), 60_000)
})
