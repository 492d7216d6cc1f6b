/**
 * A put through the broker's put hooks, as 5.3.3's `HookUtils.handleScheduleMessage` runs them
 * before the store: a message that is not a prepared half message and carries a timer property
 * (`TIMER_DELAY_SEC` over `TIMER_DELAY_MS` over `TIMER_DELIVER_MS`, relative ones from the broker's
 * clock) or a delay level (`DELAY`, which wins over timer properties and removes them) is stored in
 * the timer or schedule topic and handed to the schedule (see `Schedule.ts`); everything else is
 * stored as it is.
 *
 * Timer answers as Java's: a wheel that is off → SYSTEM_ERROR; an unparsable value, or a delay over
 * `timerMaxDelay` → MESSAGE_ILLEGAL; a time already past → stored at once as a normal message. A
 * level above the highest is the highest.
 */
import { ResponseCode } from "@effect-rocketmq/remoting"
import type * as Parts from "./Parts.ts"
import type * as Store from "./Store.ts"
import * as Wire from "./wire.ts"

export type Outcome =
  | { readonly _tag: "Stored"; readonly entry: Store.Entry }
  | { readonly _tag: "Failed"; readonly code: number; readonly remark: string }

const TIMER_PRECISION_MILLIS = 1000
const TIMER_PROPERTIES = ["TIMER_DELAY_SEC", "TIMER_DELAY_MS", "TIMER_DELIVER_MS"] as const

const failed = (code: number, remark: string): Outcome => ({ _tag: "Failed", code, remark })

/** Java's `Long.parseLong`: an optional sign and decimal digits within 64 bits, else undefined. */
export const parseLong = (text: string): bigint | undefined => {
  if (!/^[+-]?\d+$/.test(text)) return undefined
  const value = BigInt(text)
  return value >= -(2n ** 63n) && value < 2n ** 63n ? value : undefined
}

/** The message's delay level (`DELAY`), 0 without one; a string when it is not an int (Java throws). */
const delayLevelOf = (properties: { readonly [key: string]: string }): number | string => {
  const text = properties["DELAY"]
  if (text === undefined) return 0
  const value = parseLong(text)
  return value === undefined || value > 2147483647n || value < -2147483648n
    ? `java.lang.NumberFormatException: For input string: "${text}"`
    : Number(value)
}

const timerIllegal = (parts: Parts.Parts) =>
  failed(
    ResponseCode.MESSAGE_ILLEGAL,
    `timer message illegal, the delay time should not be bigger than the max delay ${parts.settings.timerMaxDelayMillis}ms; ` +
      "or if set del msg, the delay time should be bigger than the current time"
  )

/** Where a timer message is due, or an answer; undefined when the time is already past. */
const timerDue = (
  parts: Parts.Parts,
  properties: { readonly [key: string]: string },
  now: number
): number | Outcome | undefined => {
  const [sec, ms, deliver] = TIMER_PROPERTIES.map((name) => properties[name])
  const parsed = parseLong(sec ?? ms ?? deliver!)
  if (parsed === undefined) return timerIllegal(parts)
  let deliverMs = sec !== undefined ? now + Number(parsed) * 1000 : ms !== undefined ? now + Number(parsed) : Number(parsed)
  if (deliverMs <= now) return undefined
  if (deliverMs - now > parts.settings.timerMaxDelayMillis) return timerIllegal(parts)
  deliverMs = deliverMs % TIMER_PRECISION_MILLIS === 0
    ? deliverMs - TIMER_PRECISION_MILLIS
    : Math.floor(deliverMs / TIMER_PRECISION_MILLIS) * TIMER_PRECISION_MILLIS
  return deliverMs
}

/**
 * Stores `input` through the hooks. `hooks: false` stores it as it is (half messages, and copies
 * the schedule delivers).
 */
export const put = (parts: Parts.Parts, input: Store.PutInput, now: number, hooks = true): Outcome => {
  const properties: Record<string, string> = { ...input.properties }
  let message: Store.PutInput = input
  let dueAt: number | undefined
  const transaction = input.sysFlag & 0xc
  if (hooks && (transaction === 0 || transaction === 0x8) && input.topic !== Wire.TIMER_TOPIC) {
    const level = delayLevelOf(properties)
    if (typeof level === "string") return failed(ResponseCode.SYSTEM_ERROR, level)
    const real = { REAL_TOPIC: input.topic, REAL_QID: String(input.queueId) }
    if (level > 0) {
      for (const name of TIMER_PROPERTIES) delete properties[name]
      const max = parts.settings.delayLevels.length
      const clamped = Math.min(level, max)
      if (clamped !== level) properties["DELAY"] = String(clamped)
      message = { ...input, topic: Wire.SCHEDULE_TOPIC, queueId: clamped - 1, properties: { ...properties, ...real } }
      dueAt = now + parts.settings.delayLevels[clamped - 1]!
    } else if (properties["TIMER_OUT_MS"] === undefined && TIMER_PROPERTIES.some((name) => properties[name] !== undefined)) {
      if (!parts.settings.timerWheelEnable) {
        return failed(ResponseCode.SYSTEM_ERROR, "accurate timer message is not enabled, timerWheelEnable is false")
      }
      const slot = timerDue(parts, properties, now)
      if (typeof slot === "object") return slot
      if (slot !== undefined) {
        message = {
          ...input,
          topic: Wire.TIMER_TOPIC,
          queueId: 0,
          properties: { ...properties, TIMER_OUT_MS: String(slot), ...real }
        }
        dueAt = slot + TIMER_PRECISION_MILLIS
      }
    }
  }
  const stored = parts.store.put(message, now)
  if (stored._tag === "Illegal") return failed(ResponseCode.MESSAGE_ILLEGAL, stored.detail)
  if (dueAt !== undefined) parts.schedule(stored.entry, dueAt)
  return { _tag: "Stored", entry: stored.entry }
}
