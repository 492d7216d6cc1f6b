import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import fc from "fast-check"
import * as Codec from "../src/Codec.ts"
import * as Outbound from "../src/Outbound.ts"
import * as RemotingCommand from "../src/RemotingCommand.ts"
import { RequestTimeout } from "../src/RemotingError.ts"
import { Deadlines } from "../src/internal/deadlines.ts"
import * as ResponseTable from "../src/ResponseTable.ts"

const frame = Codec.prepareFrame(RemotingCommand.make({ code: 10 }))

const entry = (opaque: number, startedAt: number, timeout: number, log: Array<string>) =>
  new Outbound.Outbound(frame, 10, opaque, startedAt, timeout, (effect) => {
    const exit = Effect.runSyncExit(effect)
    log.push(`${opaque}:${Exit.isSuccess(exit) ? "ok" : "fail"}`)
  })

const timeout = (e: Outbound.Outbound) =>
  new RequestTimeout({ address: "a", requestCode: e.code, opaque: e.opaque, timeoutMillis: e.timeoutMillis, written: true })

describe("ResponseTable", () => {
  it("completes an entry once; a second completion of the same opaque is a no-op", () => {
    const table = ResponseTable.makeUnsafe()
    const log: Array<string> = []
    table.register(entry(7, 0, 100, log))
    expect(table.size()).toBe(1)
    expect(table.complete(7, Exit.succeed(RemotingCommand.make({ code: 0 })))).toBe(true)
    expect(table.complete(7, Exit.succeed(RemotingCommand.make({ code: 0 })))).toBe(false)
    expect(table.expireDue(1_000_000, timeout)).toBe(0)
    expect(log).toEqual(["7:ok"])
    expect(table.size()).toBe(0)
    expect(table.nextDeadline()).toBeUndefined()
  })

  it("expires exactly the entries due, earliest first, whatever order they were added in", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 1000 }), fc.boolean()), {
          maxLength: 200
        }),
        fc.integer({ min: 0, max: 2000 }),
        (specs, now) => {
          const table = ResponseTable.makeUnsafe()
          const log: Array<string> = []
          const entries = specs.map(([start, t], i) => entry(i, start, t, log))
          entries.forEach((e) => table.register(e))
          // Some complete early (responses), in arbitrary order.
          const answered = new Set(specs.flatMap(([, , answer], i) => (answer ? [i] : [])))
          for (const i of answered) table.complete(i, Exit.succeed(RemotingCommand.make({ code: 0 })))
          const expired = table.expireDue(now, timeout)
          const due = entries.filter((e, i) => !answered.has(i) && e.deadline <= now)
          expect(expired).toBe(due.length)
          expect(table.size()).toBe(entries.length - answered.size - due.length)
          const failed = log.filter((l) => l.endsWith("fail")).map((l) => Number(l.split(":")[0]))
          const failedDeadlines = failed.map((i) => entries[i]!.deadline)
          expect(failedDeadlines).toEqual([...failedDeadlines].sort((a, b) => a - b))
          const next = table.nextDeadline()
          const rest = entries.filter((e, i) => !answered.has(i) && e.deadline > now).map((e) => e.deadline)
          expect(next).toBe(rest.length === 0 ? undefined : Math.min(...rest))
          expect(table.failAll(timeout)).toBe(rest.length)
          expect(table.size()).toBe(0)
        }
      ),
      { numRuns: 300 }
    )
  })
})

describe("Deadlines (the table's deadline order)", () => {
  // Operations on a model: add with a deadline (mostly in order, as one timeout makes them; some
  // earlier), remove an entry added before, take the first. Long runs reach the run's compaction.
  const op = fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant("add" as const),
        step: fc.integer({ min: 0, max: 3 }),
        early: fc.integer({ min: 0, max: 7 }).map((n) => n === 0)
      })
    },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant("remove" as const), pick: fc.nat(), oldest: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("takeFirst" as const) }) }
  )

  it("first() is always a live entry with the earliest deadline; removed entries never come back", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 1500, size: "max" }), (ops) => {
        const order = new Deadlines<{ deadline: number; place: number; id: number }>()
        const live: Array<{ deadline: number; place: number; id: number }> = []
        let clock = 0
        let id = 0
        const check = () => {
          const first = order.first()
          if (live.length === 0) return expect(first).toBeUndefined()
          const earliest = Math.min(...live.map((e) => e.deadline))
          assert(first !== undefined && live.includes(first), "first is a live entry")
          expect(first.deadline).toBe(earliest)
        }
        for (const o of ops) {
          if (o.kind === "add") {
            clock += o.step
            const entry = { deadline: o.early ? clock - 50 : clock, place: -1, id: id++ }
            order.add(entry)
            live.push(entry)
          } else if (live.length > 0) {
            const i = o.kind === "takeFirst" ? live.indexOf(order.first()!) : o.oldest ? 0 : o.pick % live.length
            const [entry] = live.splice(i, 1)
            order.remove(entry!)
            expect(entry!.place).toBe(-1)
            order.remove(entry!) // a second removal is a no-op
          }
          check()
        }
        // Draining in order gives every live entry once, earliest first.
        const drained: Array<number> = []
        for (let e = order.first(); e !== undefined; e = order.first()) {
          drained.push(e.deadline)
          order.remove(e)
        }
        expect(drained).toEqual(live.map((e) => e.deadline).sort((a, b) => a - b))
      }),
      { numRuns: 200 }
    )
  })
})
