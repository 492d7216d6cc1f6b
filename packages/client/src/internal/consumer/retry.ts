/**
 * What happens to a message the handler failed, with the Java client's numbers.
 *
 * Concurrent consumption (clustering): the message is sent back to the broker
 * (CONSUMER_SEND_MSG_BACK) with delay level 0, so the broker picks level `3 + reconsumeTimes`
 * (10 s, 30 s, 1 min, 2 min, … 2 h) and moves it to `%DLQ%<group>` once `reconsumeTimes` reaches
 * `maxReconsumeTimes` (16). If the send-back fails, a copy is sent to `%RETRY%<group>` as a
 * normal message ({@link fallbackProperties}); if that fails too, the message stays held and is
 * consumed again locally after {@link LOCAL_RETRY_DELAY_MILLIS} — it is never dropped, and its
 * offset is never committed past.
 *
 * Orderly consumption: failures are retried in place (the queue is suspended
 * {@link suspendMillis}) until `maxReconsumeTimes` (unbounded by default); past it the message
 * goes to the DLQ through the retry topic ({@link orderlyDecision}).
 *
 * Broadcasting: Java drops failed messages (logged); this client does the same, and says so in
 * the consumer's documentation.
 *
 * Pure; no I/O.
 *
 * @internal
 */
import * as Message from "../../Message.ts"
import type * as Properties from "../../Properties.ts"
import * as Rec from "../record.ts"

/**
 * The broker's default `messageDelayLevel`: level `n` (1-based) waits `DELAY_LEVELS[n - 1]`.
 *
 * @internal
 */
export const DELAY_LEVELS: ReadonlyArray<string> = [
  "1 second", "5 seconds", "10 seconds", "30 seconds", "1 minute", "2 minutes", "3 minutes", "4 minutes",
  "5 minutes", "6 minutes", "7 minutes", "8 minutes", "9 minutes", "10 minutes", "20 minutes", "30 minutes",
  "1 hour", "2 hours"
]

/** @internal: Java's default for concurrent consumers (`maxReconsumeTimes = -1` means 16). */
export const DEFAULT_MAX_RECONSUME_TIMES = 16

/** @internal: Java's default for orderly consumers: retry in place forever. */
export const ORDERLY_MAX_RECONSUME_TIMES = 2147483647

/** @internal: how long a message whose send-back failed waits before it is consumed again. */
export const LOCAL_RETRY_DELAY_MILLIS = 5_000

/** @internal: `suspendCurrentQueueTimeMillis`. */
export const DEFAULT_SUSPEND_MILLIS = 1_000

/** @internal: the delay level the broker applies to a send-back with level 0. */
export const brokerDelayLevel = (reconsumeTimes: number): number => Math.min(3 + reconsumeTimes, DELAY_LEVELS.length)

/** @internal: the delay before the next delivery of a message that failed `reconsumeTimes` times before. */
export const retryDelay = (reconsumeTimes: number): string => DELAY_LEVELS[brokerDelayLevel(reconsumeTimes) - 1]!

/** @internal: whether the broker will put the next failure of this message in the DLQ. */
export const goesToDlq = (reconsumeTimes: number, maxReconsumeTimes: number): boolean =>
  reconsumeTimes >= maxReconsumeTimes

/**
 * The `maxReconsumeTimes` in effect: a negative setting means the mode's default (16 concurrently,
 * unbounded orderly).
 *
 * @internal
 */
export const effectiveMaxReconsumeTimes = (configured: number, orderly: boolean): number =>
  configured >= 0 ? configured : orderly ? ORDERLY_MAX_RECONSUME_TIMES : DEFAULT_MAX_RECONSUME_TIMES

/**
 * The suspend time of an orderly queue after a failure: `requested` (−1 = the configured default),
 * clamped to 10 ms … 30 s as Java does.
 *
 * @internal
 */
export const suspendMillis = (requested: number, configured: number): number =>
  Math.min(30_000, Math.max(10, requested < 0 ? configured : requested))

/**
 * Orderly: what to do with a failed message. `retry` = put the batch back and suspend the queue
 * (the local reconsume count grows); `dlq` = send it to the DLQ (through the retry topic) and count
 * it as consumed if that succeeds.
 *
 * @internal
 */
export const orderlyDecision = (reconsumeTimes: number, maxReconsumeTimes: number): "retry" | "dlq" =>
  reconsumeTimes >= maxReconsumeTimes ? "dlq" : "retry"

/**
 * The properties of the copy sent to `%RETRY%<group>` when CONSUMER_SEND_MSG_BACK fails (Java's
 * `sendMessageBackAsNormalMessage`): the original properties, with `RETRY_TOPIC` (the original
 * topic, kept if already set), `ORIGIN_MESSAGE_ID` (kept if already set, else the message id),
 * `RECONSUME_TIME` and `MAX_RECONSUME_TIMES`, the delay level `3 + reconsumeTimes`, and without
 * the transaction marker.
 *
 * @internal
 */
export const fallbackProperties = (
  message: {
    readonly topic: string
    readonly msgId: string
    readonly reconsumeTimes: number
    readonly properties: Properties.Properties
  },
  originalTopic: string,
  maxReconsumeTimes: number
): Properties.Properties => {
  const out = Rec.copy(message.properties)
  const key = Message.PropertyKey
  if (!Rec.has(out, key.RETRY_TOPIC)) out[key.RETRY_TOPIC] = originalTopic
  if (!Rec.has(out, key.ORIGIN_MESSAGE_ID)) out[key.ORIGIN_MESSAGE_ID] = message.msgId
  out[key.RECONSUME_TIME] = String(message.reconsumeTimes + 1)
  out[key.MAX_RECONSUME_TIMES] = String(maxReconsumeTimes)
  out[key.DELAY_TIME_LEVEL] = String(brokerDelayLevel(message.reconsumeTimes))
  delete out[key.TRANSACTION_PREPARED]
  return out
}
