/**
 * A throwaway self-signed certificate for TLS tests, made with the `openssl` CLI in a temporary
 * directory that is removed when the scope closes. Valid for 127.0.0.1, ::1 and localhost, one day.
 */
import { Effect } from "effect"
import { execFile } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

export interface SelfSigned {
  /** PEM private key (EC P-256). */
  readonly key: string
  /** PEM certificate; also the CA a client trusts to verify it. */
  readonly cert: string
}

export const selfSigned: Effect.Effect<SelfSigned, Error, import("effect").Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "rmq-tls-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
).pipe(
  Effect.flatMap((dir) =>
    Effect.callback<SelfSigned, Error>((resume) => {
      const keyPath = Path.join(dir, "key.pem")
      const certPath = Path.join(dir, "cert.pem")
      execFile(
        "openssl",
        [
          "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
          "-keyout", keyPath, "-out", certPath, "-days", "1", "-subj", "/CN=localhost",
          "-addext", "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost"
        ],
        { timeout: 10_000 },
        (error, _stdout, stderr) => {
          if (error !== null) return resume(Effect.fail(new Error(`openssl failed: ${error.message} ${stderr}`)))
          try {
            resume(Effect.succeed({ key: Fs.readFileSync(keyPath, "utf8"), cert: Fs.readFileSync(certPath, "utf8") }))
          } catch (cause) {
            resume(Effect.fail(new Error(`cannot read the generated certificate: ${String(cause)}`)))
          }
        }
      )
    })
  )
)

/** The PEM files `scripts/rocketmq/tls-certs` makes (see its header). */
export interface TestPki {
  readonly ca: string
  readonly otherCa: string
  /** Signed by `ca`, for IP 127.0.0.1 only. */
  readonly cert: string
  readonly key: string
  /** Signed by `ca`, valid only in January 2020. */
  readonly expiredCert: string
  readonly expiredKey: string
}

const script = Path.resolve(Path.dirname(new URL(import.meta.url).pathname), "../../../../scripts/rocketmq/tls-certs")

/** A CA and certificates signed by it, made by the repository's `tls-certs` script in a temporary directory. */
export const testPki: Effect.Effect<TestPki, Error, import("effect").Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "rmq-pki-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
).pipe(
  Effect.flatMap((dir) =>
    Effect.callback<TestPki, Error>((resume) => {
      execFile(script, [dir], { timeout: 60_000 }, (error, _stdout, stderr) => {
        if (error !== null) return resume(Effect.fail(new Error(`tls-certs failed: ${error.message} ${stderr}`)))
        const read = (name: string) => Fs.readFileSync(Path.join(dir, name), "utf8")
        try {
          resume(Effect.succeed({
            ca: read("ca.crt"),
            otherCa: read("other-ca.crt"),
            cert: read("server.crt"),
            key: read("server.key"),
            expiredCert: read("expired.crt"),
            expiredKey: read("expired.key")
          }))
        } catch (cause) {
          resume(Effect.fail(new Error(`cannot read the generated certificates: ${String(cause)}`)))
        }
      })
    })
  )
)
