/**
 * Delay levels and 5.x timer messages of one broker, on Effect's `Clock` (so `TestClock` drives
 * them).
 *
 * A message sent with `DELAY` (a level) or a timer property is stored in the schedule topic
 * (`SCHEDULE_TOPIC_XXXX`, queue level − 1) or the timer topic (`rmq_sys_wheel_timer`, queue 0) with
 * `REAL_TOPIC` / `REAL_QID`, as a 5.3.3 broker stores it, and is invisible in its own topic until it
 * is due. Then one fiber (`run`) stores a copy in the real topic and queue, as Java's schedule and
 * timer services do. Its properties are those of the scheduled copy — `DELAY`, `REAL_TOPIC` and
 * `REAL_QID` included: Java clears them only in a copy it does not write (as a 5.3.3 broker shows) —
 * plus, for a timer, `TIMER_ENQUEUE_MS` (the second it entered the wheel) and `TIMER_DEQUEUE_MS`
 * (now). The copy gets a new queue offset, commit-log offset and store time, and keeps the body,
 * flags, born time and host and reconsume times.
 *
 * When due: a delay level `storeTime + delay(level)`; a timer at the end of its one-second slot
 * (`TIMER_OUT_MS` + 1 s), which is the requested time rounded up to a whole second, as the timer
 * wheel delivers it.
 */
import { Clock, Deferred, Effect, Exit } from "effect"
import type * as Store from "./Store.ts"
import * as Wire from "./wire.ts"

export interface Pending {
  readonly entry: Store.Entry
  readonly dueAt: number
}

export interface Schedule {
  readonly add: (entry: Store.Entry, dueAt: number) => void
  /** Delivers what is due, then waits for the next due time or a new entry; forever. */
  readonly run: Effect.Effect<never>
  readonly pending: () => ReadonlyArray<Pending>
}

/** The copy of a scheduled message stored in its real topic and queue. */
export const delivered = (entry: Store.Entry, now: number): Store.PutInput => {
  const message = entry.message
  const properties: Record<string, string> = { ...message.properties }
  const topic = properties["REAL_TOPIC"] ?? message.topic
  const queueId = Number(properties["REAL_QID"] ?? message.queueId)
  if (message.topic === Wire.TIMER_TOPIC) {
    properties["TIMER_ENQUEUE_MS"] = String(Math.floor(entry.storeTimestamp / 1000) * 1000)
    properties["TIMER_DEQUEUE_MS"] = String(now)
  }
  return {
    topic,
    queueId: Number.isInteger(queueId) ? queueId : 0,
    flag: message.flag,
    sysFlag: message.sysFlag,
    bornTimestamp: message.bornTimestamp,
    bornHost: message.bornHost,
    reconsumeTimes: message.reconsumeTimes,
    body: message.body,
    properties
  }
}

export const make = (deliver: (entry: Store.Entry, now: number) => void): Schedule => {
  // Sorted by due time; ties keep their order of arrival.
  const queue: Array<Pending> = []
  let wake = Deferred.makeUnsafe<void>()

  const add = (entry: Store.Entry, dueAt: number) => {
    let i = queue.length
    while (i > 0 && queue[i - 1]!.dueAt > dueAt) i--
    queue.splice(i, 0, { entry, dueAt })
    Deferred.doneUnsafe(wake, Exit.void)
  }

  const deliverDue = (now: number) => {
    while (queue.length > 0 && queue[0]!.dueAt <= now) deliver(queue.shift()!.entry, now)
  }

  const step = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    deliverDue(now)
    wake = Deferred.makeUnsafe<void>()
    const next = queue[0]?.dueAt
    if (next === undefined) return yield* Deferred.await(wake)
    yield* Deferred.await(wake).pipe(Effect.timeoutOption(next - now))
  })

  return {
    add,
    run: Effect.forever(step),
    pending: () => [...queue]
  }
}
