import { assert, describe, expect, it } from "@effect/vitest"
import type { RemotingCommand } from "@effect-rocketmq/remoting"
import { Effect, Redacted } from "effect"
import * as AuthAdmin from "../src/AuthAdmin.ts"
import { RemoteError } from "../src/ClientError.ts"
import * as Fake from "./support/FakeRemotingClient.ts"

const BROKER = "127.0.0.1:10911"
const ext = (request: RemotingCommand.RemotingCommand) => ({ ...request.extFields })
const body = (request: RemotingCommand.RemotingCommand): unknown => JSON.parse(new TextDecoder().decode(request.body))

describe("AuthAdmin users", () => {
  it.effect("createUser sends 3001 with the username field and a UserInfo body (Normal, enable by default) within 5 s", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0))
      yield* AuthAdmin.createUser(BROKER, { username: "alice", password: Redacted.make("s3cret") }).pipe(Effect.provide(fake.layer))
      const { address, request, timeoutMillis } = fake.sent[0]!
      expect([address, request.code, timeoutMillis]).toEqual([BROKER, 3001, 5000])
      expect(ext(request)).toEqual({ username: "alice" })
      expect(body(request)).toEqual({ username: "alice", password: "s3cret", userType: "Normal", userStatus: "enable" })
    }))

  it.effect("createUser with an empty password or name fails with InvalidRequest and sends nothing", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0))
      const noPassword = yield* Effect.flip(
        AuthAdmin.createUser(BROKER, { username: "alice", password: Redacted.make("") }).pipe(Effect.provide(fake.layer))
      )
      expect(noPassword).toMatchObject({ _tag: "InvalidRequest", operation: "createUser" })
      const noName = yield* Effect.flip(
        AuthAdmin.createUser(BROKER, { username: "", password: Redacted.make("p") }).pipe(Effect.provide(fake.layer))
      )
      expect(noName).toMatchObject({ _tag: "InvalidRequest", operation: "createUser" })
      expect(noName.message).toContain("username is empty")
      expect(fake.sent).toEqual([])
    }))

  it.effect("deleteUser sends 3003 with the username; a refusal is a NO_PERMISSION RemoteError with the broker's remark", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(16, { remark: "The user is not exist" }))
      const error = yield* Effect.flip(AuthAdmin.deleteUser(BROKER, "bob").pipe(Effect.provide(fake.layer)))
      expect([fake.sent[0]!.request.code, ext(fake.sent[0]!.request)]).toEqual([3003, { username: "bob" }])
      assert(AuthAdmin.isNoPermission(error))
      expect(error).toMatchObject({ requestName: "AUTH_DELETE_USER", responseName: "NO_PERMISSION", remark: "The user is not exist" })
    }))
})

describe("AuthAdmin ACLs", () => {
  it.effect("createAcl sends 3006 with subject User:<name> and an AclInfo body of one Custom policy (Allow by default)", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0))
      yield* AuthAdmin.createAcl(BROKER, "alice", [
        { resource: "Topic:orders", actions: ["Pub", "Sub"] },
        { resource: "Group:billing-*", actions: ["Sub"], decision: "Deny", sourceIps: ["10.0.0.0/8"] }
      ]).pipe(Effect.provide(fake.layer))
      const { request } = fake.sent[0]!
      expect([request.code, ext(request)]).toEqual([3006, { subject: "User:alice" }])
      expect(body(request)).toEqual({
        subject: "User:alice",
        policies: [{
          policyType: "Custom",
          entries: [
            { resource: "Topic:orders", actions: ["Pub", "Sub"], decision: "Allow" },
            { resource: "Group:billing-*", actions: ["Sub"], decision: "Deny", sourceIps: ["10.0.0.0/8"] }
          ]
        }]
      })
    }))

  it.effect("createAcl refuses no entries, a resource that is not Type:name and an entry without actions, sending nothing", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0))
      const run = (entries: ReadonlyArray<AuthAdmin.PolicyEntry>) =>
        Effect.flip(AuthAdmin.createAcl(BROKER, "alice", entries).pipe(Effect.provide(fake.layer)))
      expect((yield* run([])).message).toContain("at least one entry")
      expect((yield* run([{ resource: "orders", actions: ["Pub"] }])).message).toContain("\"orders\"")
      expect((yield* run([{ resource: "Topic:orders", actions: [] }])).message).toContain("actions must not be empty")
      expect(fake.sent).toEqual([])
    }))

  it.effect("deleteAcl sends 3008 with the subject, and the resource only when given", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0))
      yield* AuthAdmin.deleteAcl(BROKER, "alice").pipe(Effect.provide(fake.layer))
      yield* AuthAdmin.deleteAcl(BROKER, "alice", { resource: "Topic:orders" }).pipe(Effect.provide(fake.layer))
      expect(fake.sent.map(({ request }) => [request.code, ext(request)])).toEqual([
        [3008, { subject: "User:alice" }],
        [3008, { subject: "User:alice", resource: "Topic:orders" }]
      ])
    }))
})

describe("NO_PERMISSION messages", () => {
  it.each([
    ["check signature failed.", "the secret key is not the password of the access key's user"],
    ["User:ghost is not found.", "knows no user with this access key"],
    ["username cannot be null.", "requires authentication and the request was not signed"],
    ["User:alice is disabled.", "user is disabled"],
    ["User:alice has no permission to access Topic:t from 127.0.0.1, no matched policies.", "ACL does not allow this action"],
    ["[PERMISSION] topic t has no write permission", "Check the topic's permissions (perm)"]
  ])("the broker's remark %j reads as %j", (remark, words) => {
    const error = new RemoteError({
      address: BROKER,
      requestCode: 310,
      requestName: "SEND_MESSAGE_V2",
      responseCode: 16,
      responseName: "NO_PERMISSION",
      remark
    })
    expect(error.message).toContain(JSON.stringify(remark))
    expect(error.message).toContain(words)
    expect(AuthAdmin.isNoPermission(error)).toBe(true)
  })
})
