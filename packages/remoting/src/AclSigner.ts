/**
 * Request signing, as Java's `AclClientRPCHook`, packaged as an {@link RpcHook}.
 *
 * Which brokers check it:
 *
 * - 5.x with the 5.3 authentication model (`authenticationEnabled=true`, users created with the
 *   AUTH_* admin codes, see the client's `AuthAdmin`): the access key is the user's name and the
 *   secret key its password. Checked against a real 5.3.3 broker with authentication and
 *   authorization on (the testkit's `Auth.integration.test.ts`).
 * - 4.x with the plain ACL (`aclEnable=true` and `plain_acl.yml`): the same signature, keyed by
 *   the file's access and secret keys. A 5.3 broker accepts `aclEnable` and ignores it (nothing
 *   reads it any more; `migrateAuthFromV1Enabled` imports `plain_acl.yml` users into the 5.3 model).
 *
 * Signing a request (also in `docs/protocol-notes.md`):
 *
 * 1. set `AccessKey` (and `SecurityToken` when one is configured) in the ext fields;
 * 2. take every ext field except `Signature`, sorted by key in UTF-16 code-unit order (Java's
 *    `TreeMap`; JavaScript's default string order is the same), and concatenate the **values**;
 * 3. UTF-8 encode that text and append the body bytes;
 * 4. `Signature` = Base64 of HmacSHA1 over those bytes, keyed with the UTF-8 secret key.
 *
 * The server recomputes the signature over every ext field it receives, so nothing may be added
 * after signing: the hook is marked `runLast`, and the client runs it after every other hook
 * whatever the registration order. The secret key (and security token) are `Redacted`: they never
 * appear in logs or error messages, and the secret key is never sent.
 *
 * Not covered: the `_UNIQUE_KEY_QUERY` quirk of 4.9.x servers, which leave that key out of their check — pass it
 * in `excludeFromSignature` when talking to such a server.
 *
 * @since 0.1.0
 */
import { Buffer } from "node:buffer"
import * as Crypto from "node:crypto"
import { Config, Effect, Redacted } from "effect"
import type { ExtFields, RemotingCommand } from "./RemotingCommand.ts"
import { withExtFields } from "./RemotingCommand.ts"
import type { RpcHook } from "./RpcHook.ts"

/**
 * @since 0.1.0
 * @category constants
 */
export const ACCESS_KEY = "AccessKey"

/**
 * @since 0.1.0
 * @category constants
 */
export const SECURITY_TOKEN = "SecurityToken"

/**
 * @since 0.1.0
 * @category constants
 */
export const SIGNATURE = "Signature"

/**
 * @since 0.1.0
 * @category models
 */
export interface Credentials {
  readonly accessKey: string
  readonly secretKey: Redacted.Redacted<string>
  /** Sent as the `SecurityToken` ext field (and signed) when present. */
  readonly securityToken?: Redacted.Redacted<string> | undefined
  /** Ext-field keys left out of the signed content (e.g. `_UNIQUE_KEY_QUERY` for 4.9.x servers). */
  readonly excludeFromSignature?: ReadonlyArray<string> | undefined
}

/**
 * The bytes that get signed: the values of `extFields` sorted by key (UTF-16 code units), without
 * `Signature` and the `exclude`d keys, as UTF-8, followed by `body`.
 *
 * @since 0.1.0
 * @category signing
 */
export const signatureContent = (
  extFields: ExtFields,
  body: Uint8Array | undefined,
  exclude?: ReadonlyArray<string> | undefined
): Uint8Array => {
  const keys = Object.keys(extFields).sort()
  let text = ""
  for (const key of keys) {
    if (key === SIGNATURE || (exclude !== undefined && exclude.includes(key))) continue
    text += extFields[key]!
  }
  const head = Buffer.from(text, "utf8")
  return body === undefined || body.length === 0 ? head : Buffer.concat([head, body])
}

/**
 * Base64 of HmacSHA1(`data`) keyed with the UTF-8 bytes of `secretKey` (Java's `AclSigner`).
 *
 * @since 0.1.0
 * @category signing
 */
export const hmacSha1Base64 = (data: Uint8Array | string, secretKey: Redacted.Redacted<string>): string =>
  Crypto.createHmac("sha1", Buffer.from(Redacted.value(secretKey), "utf8"))
    .update(typeof data === "string" ? Buffer.from(data, "utf8") : data)
    .digest("base64")

/**
 * `request` with `AccessKey`, `SecurityToken` (when configured) and `Signature` set.
 *
 * @since 0.1.0
 * @category signing
 */
export const signRequest = (request: RemotingCommand, credentials: Credentials): RemotingCommand => {
  const fields: Record<string, string> = { [ACCESS_KEY]: credentials.accessKey }
  if (credentials.securityToken !== undefined) fields[SECURITY_TOKEN] = Redacted.value(credentials.securityToken)
  const withKeys = withExtFields(request, fields)
  const signature = hmacSha1Base64(
    signatureContent(withKeys.extFields, withKeys.body, credentials.excludeFromSignature),
    credentials.secretKey
  )
  return withExtFields(withKeys, { [SIGNATURE]: signature })
}

/**
 * The signing hook: signs every outbound request, after every other hook (`runLast`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (credentials: Credentials): RpcHook => ({
  name: "AclSigner",
  runLast: true,
  beforeRequest: (_address, request) => Effect.sync(() => signRequest(request, credentials))
})

/**
 * Credentials from configuration: `ROCKETMQ_ACCESS_KEY`, `ROCKETMQ_SECRET_KEY` and the optional
 * `ROCKETMQ_SECURITY_TOKEN` (with the default, environment-backed provider).
 *
 * @since 0.1.0
 * @category config
 */
export const credentialsConfig: Config.Config<Credentials> = Config.all({
  accessKey: Config.String("ROCKETMQ_ACCESS_KEY"),
  secretKey: Config.Redacted("ROCKETMQ_SECRET_KEY"),
  securityToken: Config.option(Config.Redacted("ROCKETMQ_SECURITY_TOKEN"))
}).pipe(
  Config.map(({ accessKey, secretKey, securityToken }): Credentials =>
    securityToken._tag === "Some"
      ? { accessKey, secretKey, securityToken: securityToken.value }
      : { accessKey, secretKey }
  )
)
