/**
 * Authentication and authorization against a real Apache RocketMQ broker with the 5.3 auth model on
 * (`ROCKETMQ_AUTH=on scripts/rocketmq/up`: `authenticationEnabled`, `authorizationEnabled`, a Super
 * user from `initAuthenticationUser`). The suite creates a user and its ACL through the admin codes
 * (AuthAdmin, signed as the Super user), then checks what the broker lets through: the right
 * credentials send and pull; a wrong secret, an unknown access key and an unsigned request are
 * refused with NO_PERMISSION errors that name the problem; so is a topic or a group outside the
 * user's ACL. It starts its own one-broker cluster on free ports and stops it.
 */
import { Admin, AuthAdmin, Broker, Message } from "@effect-rocketmq/client"
import type { ClientError } from "@effect-rocketmq/client"
import { AclSigner, RemotingClient } from "@effect-rocketmq/remoting"
import { afterAll, assert, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as OwnCluster from "./ownCluster.ts"
import { cluster, runId, skipReason } from "./support.ts"

const real = cluster()
const skip = real === undefined ? skipReason() : OwnCluster.required() ? undefined : OwnCluster.cannotStart()
const run = runId()
const admin = { user: "rocketmq", password: `admin-${run}` }
const user = { name: `alice-${run}`, password: `alice-secret-${run}` }
const topic = `auth-ok-${run}`
const forbiddenTopic = `auth-no-${run}`
const group = `auth-g-${run}`

/** A client on the auth cluster that signs every request with `accessKey` / `secretKey` (or not at all). */
const client = (own: OwnCluster.OwnCluster, credentials?: { readonly accessKey: string; readonly secretKey: string }) =>
  RemotingClient.layer({
    nameServerAddresses: own.namesrvAddr,
    defaultTimeout: "10 seconds",
    hooks: credentials === undefined
      ? []
      : [AclSigner.make({ accessKey: credentials.accessKey, secretKey: Redacted.make(credentials.secretKey) })]
  })

/** The RemoteError `effect` fails with; it must be NO_PERMISSION. */
const refused = <A, E extends { readonly _tag: string; readonly message: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(effect)
    assert(AuthAdmin.isNoPermission(error), `expected NO_PERMISSION, got ${error._tag}: ${error.message}`)
    return error as ClientError.RemoteError
  })

describe.skipIf(skip !== undefined)(`authentication and authorization against a real broker${skip !== undefined ? ` (skipped: ${skip})` : ""}`, () => {
  let own: OwnCluster.OwnCluster | undefined

  beforeAll(async () => {
    own = await OwnCluster.start("auth", { ROCKETMQ_AUTH: "on", ROCKETMQ_AUTH_ADMIN: `${admin.user}:${admin.password}` })
  }, 400_000)

  afterAll(async () => {
    await own?.stop()
  }, 120_000)

  const asAdmin = () => client(own!, { accessKey: admin.user, secretKey: admin.password })
  const asUser = (secretKey = user.password, accessKey = user.name) => client(own!, { accessKey, secretKey })

  it.live("the Super user creates topics, a user and its ACL through the admin codes; a second create of the user is refused by name", () =>
    Effect.gen(function*() {
      const broker = own!.brokerAddr
      yield* Admin.createTopic(broker, topic, { queueNums: 1, timeoutMillis: 10_000 })
      yield* Admin.createTopic(broker, forbiddenTopic, { queueNums: 1, timeoutMillis: 10_000 })
      yield* AuthAdmin.createUser(broker, { username: user.name, password: Redacted.make(user.password) })
      yield* AuthAdmin.createAcl(broker, user.name, [
        { resource: `Topic:${topic}`, actions: ["Pub", "Sub"] },
        { resource: `Group:${group}`, actions: ["Sub"] }
      ])
      const again = yield* refused(AuthAdmin.createUser(broker, { username: user.name, password: Redacted.make("x") }))
      expect(again.remark).toBe("The user is existed")
      const orphan = yield* refused(AuthAdmin.createAcl(broker, `nobody-${run}`, [{ resource: `Topic:${topic}`, actions: ["Pub"] }]))
      expect(orphan.remark).toContain(`User:nobody-${run}`)
    }).pipe(Effect.provide(asAdmin())))

  it.live("the user with the right secret sends to and pulls from its topic with its group", () =>
    Effect.gen(function*() {
      const sent = yield* Broker.sendMessage(own!.brokerAddr, Message.make(topic, "signed"), { queueId: 0 })
      expect(sent.status).toBe("SEND_OK")
      const pulled = yield* Broker.pullMessage(own!.brokerAddr, { consumerGroup: group, topic, queueId: 0, queueOffset: 0n })
      assert(pulled._tag === "Found")
      expect(pulled.messages.map((m) => new TextDecoder().decode(m.body))).toEqual(["signed"])
    }).pipe(Effect.provide(asUser())))

  it.live("a wrong secret is refused with NO_PERMISSION saying the signature does not match", () =>
    Effect.gen(function*() {
      const error = yield* refused(Broker.sendMessage(own!.brokerAddr, Message.make(topic, "x"), { queueId: 0 }))
      expect(error.remark).toContain("check signature failed")
      expect(error.message).toContain("the secret key is not the password of the access key's user")
    }).pipe(Effect.provide(asUser("not-the-password"))))

  it.live("an unknown access key is refused with NO_PERMISSION saying the broker knows no such user", () =>
    Effect.gen(function*() {
      const error = yield* refused(Broker.sendMessage(own!.brokerAddr, Message.make(topic, "x"), { queueId: 0 }))
      expect(error.remark).toContain(`User:ghost-${run}`)
      expect(error.message).toContain("knows no user with this access key")
    }).pipe(Effect.provide(asUser(user.password, `ghost-${run}`))))

  it.live("an unsigned request is refused with NO_PERMISSION saying the broker requires authentication", () =>
    Effect.gen(function*() {
      const error = yield* refused(Broker.sendMessage(own!.brokerAddr, Message.make(topic, "x"), { queueId: 0 }))
      expect(error.message).toContain("requires authentication and the request was not signed")
    }).pipe(Effect.provide(client(own!))))

  it.live("a topic and a group outside the user's ACL are refused, naming the resource", () =>
    Effect.gen(function*() {
      const send = yield* refused(Broker.sendMessage(own!.brokerAddr, Message.make(forbiddenTopic, "x"), { queueId: 0 }))
      expect(send.remark).toContain(`Topic:${forbiddenTopic}`)
      expect(send.message).toContain("ACL does not allow this action on this resource")
      const otherGroup = `auth-other-${run}`
      const pull = yield* refused(
        Broker.pullMessage(own!.brokerAddr, { consumerGroup: otherGroup, topic, queueId: 0, queueOffset: 0n })
      )
      expect(pull.remark).toContain(`Group:${otherGroup}`)
      // A Normal user may not manage users.
      const create = yield* refused(
        AuthAdmin.createUser(own!.brokerAddr, { username: `mallory-${run}`, password: Redacted.make("p") })
      )
      expect(create.remark).toContain(user.name)
    }).pipe(Effect.provide(asUser())))
})
