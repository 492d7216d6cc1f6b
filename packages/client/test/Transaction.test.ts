import { assert, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Transaction from "../src/Transaction.ts"
import * as Fake from "./support/FakeRemotingClient.ts"

const BROKER = "127.0.0.1:10911"

describe("Transaction.endTransaction", () => {
  const end: Transaction.EndTransactionRequest = {
    producerGroup: "tx_pg",
    resolution: "COMMIT",
    tranStateTableOffset: 12n,
    commitLogOffset: 9007199254740993n,
    msgId: "C0A80001000018B4AAC2000000000000",
    transactionId: "C0A80001000018B4AAC2000000000000",
    topic: "T",
    brokerName: "broker-a"
  }

  it.effect("sends 37 oneway with Java's header fields, fromTransactionCheck=false and its 3 s send timeout", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0))
      yield* Transaction.endTransaction(BROKER, end).pipe(Effect.provide(fake.layer))
      const { address, request, oneway, timeoutMillis } = fake.sent[0]!
      expect([address, request.code, oneway, timeoutMillis, request.remark]).toEqual([BROKER, 37, true, 3000, undefined])
      expect({ ...request.extFields }).toEqual({
        topic: "T",
        producerGroup: "tx_pg",
        tranStateTableOffset: "12",
        commitLogOffset: "9007199254740993",
        commitOrRollback: "8",
        fromTransactionCheck: "false",
        msgId: "C0A80001000018B4AAC2000000000000",
        transactionId: "C0A80001000018B4AAC2000000000000",
        bname: "broker-a"
      })
    }))

  it.effect("writes rollback as 12 and unknown as 0, carries the remark and answers a check with fromTransactionCheck=true", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0))
      yield* Transaction.endTransaction(BROKER, { ...end, resolution: "ROLLBACK" }, { remark: "local transaction threw" })
        .pipe(Effect.provide(fake.layer))
      yield* Transaction.endTransaction(BROKER, { ...end, resolution: "UNKNOWN", fromTransactionCheck: true })
        .pipe(Effect.provide(fake.layer))
      expect(fake.sent.map((s) => [s.request.extFields?.["commitOrRollback"], s.request.extFields?.["fromTransactionCheck"], s.request.remark]))
        .toEqual([["12", "false", "local transaction threw"], ["0", "true", undefined]])
      const minimal = { producerGroup: "g", resolution: "COMMIT", tranStateTableOffset: 0n, commitLogOffset: 0n, msgId: "m" } as const
      yield* Transaction.endTransaction(BROKER, minimal).pipe(Effect.provide(fake.layer))
      expect(Object.keys(fake.sent[2]!.request.extFields ?? {}).sort()).toEqual(
        ["commitLogOffset", "commitOrRollback", "fromTransactionCheck", "msgId", "producerGroup", "tranStateTableOffset"]
      )
    }))

  it.effect("refuses an offset outside 64 bits with InvalidRequest and sends nothing", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0))
      const error = yield* Effect.flip(Transaction.endTransaction(BROKER, { ...end, commitLogOffset: 2n ** 63n }).pipe(Effect.provide(fake.layer)))
      expect(error).toMatchObject({ _tag: "InvalidRequest", operation: "endTransaction" })
      assert.strictEqual(fake.sent.length, 0)
    }))
})
