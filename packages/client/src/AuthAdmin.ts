/**
 * Users and ACLs of a broker's authentication and authorization (the RocketMQ 5.3 model: a broker
 * started with `authenticationEnabled=true` and `authorizationEnabled=true`).
 *
 * A request is signed with a user's name as `AccessKey` and its password as the secret (the
 * `AclSigner` hook); the broker refuses an unknown user, a wrong signature, and — with
 * authorization on — any topic or group no ACL of the user allows, each with `NO_PERMISSION` (16)
 * and a remark that names the problem. Managing users and ACLs needs a `Super` user's signature
 * (the broker's `initAuthenticationUser`).
 *
 * | operation | request code and fields | body | success |
 * | --- | --- | --- | --- |
 * | {@link createUser} | 3001 AUTH_CREATE_USER: `username` | `UserInfo` JSON | 0 |
 * | {@link deleteUser} | 3003 AUTH_DELETE_USER: `username` | — | 0 |
 * | {@link createAcl} | 3006 AUTH_CREATE_ACL: `subject` | `AclInfo` JSON | 0 |
 * | {@link deleteAcl} | 3008 AUTH_DELETE_ACL: `subject` (+ `resource`) | — | 0 |
 *
 * Failures are typed like every broker operation: {@link RemoteError} (NO_PERMISSION with the
 * broker's remark, e.g. "The user is existed", or "The subject of User:x is not exist."). Default
 * timeout 5 s, as Java's admin tool. Not covered: updating and listing users and ACLs, and the
 * 4.x `plain_acl.yml` model (a file on the broker, no request codes).
 *
 * @since 0.1.0
 */
import type { RemotingClient } from "@effect-rocketmq/remoting"
import { RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Effect, Redacted } from "effect"
import type { BrokerError, CallOptions } from "./Broker.ts"
import type { RemoteError } from "./ClientError.ts"
import { InvalidRequest } from "./ClientError.ts"
import * as Op from "./internal/operation.ts"

/**
 * A user to create: its name (the `AccessKey` it signs with) and password (the secret key).
 *
 * @since 0.1.0
 * @category models
 */
export interface User {
  readonly username: string
  readonly password: Redacted.Redacted<string>
  /** `Normal` (default) or `Super` (may manage users and ACLs; only a Super user may create one). */
  readonly userType?: "Normal" | "Super" | undefined
  /** `enable` (default) or `disable` (the broker refuses its requests). */
  readonly userStatus?: "enable" | "disable" | undefined
}

/**
 * One rule of an ACL: a resource (`Topic:name`, `Group:name`, a prefix `Topic:orders-*`, `Topic:*`,
 * or `*`), what may be done with it, and whether that is allowed.
 *
 * @since 0.1.0
 * @category models
 */
export interface PolicyEntry {
  readonly resource: string
  /** `Pub`, `Sub`, `Create`, `Update`, `Delete`, `Get`, `List` or `All`. */
  readonly actions: ReadonlyArray<"Pub" | "Sub" | "Create" | "Update" | "Delete" | "Get" | "List" | "All">
  /** Default `Allow`; `Deny` wins over an `Allow` of the same resource. */
  readonly decision?: "Allow" | "Deny" | undefined
  /** Source addresses or CIDR ranges the rule applies to (default: any). */
  readonly sourceIps?: ReadonlyArray<string> | undefined
}

const RESOURCE = /^(\*|(Any|Cluster|Namespace|Topic|Group):.+)$/i

/** Runs one auth request, checks it answered SUCCESS. */
const invokeAuth = (
  operation: string,
  address: string,
  code: number,
  extFields: RemotingCommand.ExtFields,
  body: unknown,
  options: CallOptions | undefined
): Effect.Effect<void, BrokerError, RemotingClient.RemotingClient> =>
  Effect.gen(function*() {
    for (const [key, value] of Object.entries(extFields)) {
      if (value.length === 0) return yield* new InvalidRequest({ operation, detail: `${key} is empty` })
    }
    const request = RemotingCommand.make({
      code,
      extFields,
      ...(body !== undefined ? { body: new TextEncoder().encode(JSON.stringify(body)) } : {})
    })
    const response = yield* Op.invoke(address, request, options?.timeoutMillis ?? Op.JavaTimeout.ADMIN_EXT)
    yield* Op.expectSuccess(address, request, response)
  })

/**
 * Creates `user` on the broker at `address` (AUTH_CREATE_USER). Fails with NO_PERMISSION and the
 * remark "The user is existed" when the name is taken.
 *
 * @since 0.1.0
 * @category operations
 */
export const createUser: (
  address: string,
  user: User,
  options?: CallOptions
) => Effect.Effect<void, BrokerError, RemotingClient.RemotingClient> = Effect.fn("AuthAdmin.createUser")(
  function*(address: string, user: User, options?: CallOptions) {
    const password = Redacted.value(user.password)
    if (password.length === 0) return yield* new InvalidRequest({ operation: "createUser", detail: "the password is empty" })
    yield* invokeAuth("createUser", address, RequestCode.AUTH_CREATE_USER, { username: user.username }, {
      username: user.username,
      password,
      userType: user.userType ?? "Normal",
      userStatus: user.userStatus ?? "enable"
    }, options)
  }
)

/**
 * Deletes the user `username` from the broker at `address` (AUTH_DELETE_USER).
 *
 * @since 0.1.0
 * @category operations
 */
export const deleteUser: (
  address: string,
  username: string,
  options?: CallOptions
) => Effect.Effect<void, BrokerError, RemotingClient.RemotingClient> = Effect.fn("AuthAdmin.deleteUser")(
  function*(address: string, username: string, options?: CallOptions) {
    yield* invokeAuth("deleteUser", address, RequestCode.AUTH_DELETE_USER, { username }, undefined, options)
  }
)

const checkEntries = (entries: ReadonlyArray<PolicyEntry>): string | undefined => {
  if (entries.length === 0) return "an ACL needs at least one entry"
  const bad = entries.find((entry) => !RESOURCE.test(entry.resource) || entry.actions.length === 0)
  return bad === undefined ? undefined : `entry ${JSON.stringify(bad.resource)}: the resource must be "*" or ` +
    "Type:name (Topic, Group, Cluster, Namespace, Any; the name may end in *) and the actions must not be empty"
}

/**
 * Gives the user `username` an ACL of `entries` on the broker at `address` (AUTH_CREATE_ACL, as
 * a `Custom` policy; the subject is `User:<username>`). The user must exist. Anything no entry
 * allows is refused once authorization is on.
 *
 * @since 0.1.0
 * @category operations
 */
export const createAcl: (
  address: string,
  username: string,
  entries: ReadonlyArray<PolicyEntry>,
  options?: CallOptions
) => Effect.Effect<void, BrokerError, RemotingClient.RemotingClient> = Effect.fn("AuthAdmin.createAcl")(
  function*(address: string, username: string, entries: ReadonlyArray<PolicyEntry>, options?: CallOptions) {
    const problem = checkEntries(entries)
    if (problem !== undefined) return yield* new InvalidRequest({ operation: "createAcl", detail: problem })
    const subject = `User:${username}`
    yield* invokeAuth("createAcl", address, RequestCode.AUTH_CREATE_ACL, { subject }, {
      subject,
      policies: [{
        policyType: "Custom",
        entries: entries.map((entry) => ({
          resource: entry.resource,
          actions: entry.actions,
          decision: entry.decision ?? "Allow",
          ...(entry.sourceIps !== undefined ? { sourceIps: entry.sourceIps } : {})
        }))
      }]
    }, options)
  }
)

/**
 * Options of {@link deleteAcl}.
 *
 * @since 0.1.0
 * @category models
 */
export interface DeleteAclOptions extends CallOptions {
  /** Delete only the entry for this resource (default: the whole ACL). */
  readonly resource?: string | undefined
}

/**
 * Deletes the ACL of `username` on the broker at `address` (AUTH_DELETE_ACL): all of it, or only
 * the entry for `options.resource`.
 *
 * @since 0.1.0
 * @category operations
 */
export const deleteAcl: (
  address: string,
  username: string,
  options?: DeleteAclOptions
) => Effect.Effect<void, BrokerError, RemotingClient.RemotingClient> = Effect.fn("AuthAdmin.deleteAcl")(
  function*(address: string, username: string, options?: DeleteAclOptions) {
    const extFields = {
      subject: `User:${username}`,
      ...(options?.resource !== undefined ? { resource: options.resource } : {})
    }
    yield* invokeAuth("deleteAcl", address, RequestCode.AUTH_DELETE_ACL, extFields, undefined, options)
  }
)

/**
 * Whether `error` is the broker refusing a request for authentication or authorization
 * (NO_PERMISSION, 16); its remark names the problem ("User:x is not found.", "check signature
 * failed.", "User:x has no permission to access Topic:t from 127.0.0.1, no matched policies.").
 *
 * @since 0.1.0
 * @category guards
 */
export const isNoPermission = (error: { readonly _tag: string }): error is RemoteError =>
  error._tag === "RemoteError" && (error as RemoteError).responseCode === ResponseCode.NO_PERMISSION
