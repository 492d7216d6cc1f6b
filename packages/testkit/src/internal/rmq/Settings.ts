/**
 * A broker's settings with Java's defaults filled in, in milliseconds.
 */
import { Duration } from "effect"
import type { BrokerSettings } from "../../InMemoryRocketMQ.ts"

export interface Settings {
  readonly autoCreateTopic: boolean
  readonly autoCreateSubscriptionGroup: boolean
  readonly defaultTopicQueueNums: number
  readonly maxMessageSize: number
  /** Delay of each level, level 1 first. */
  readonly delayLevels: ReadonlyArray<number>
  readonly timerWheelEnable: boolean
  readonly timerMaxDelayMillis: number
  readonly transactionTimeoutMillis: number
  readonly transactionCheckIntervalMillis: number
  readonly transactionCheckMax: number
  readonly rejectTransactionMessage: boolean
  readonly channelExpiredTimeoutMillis: number
  readonly lockMaxLiveTimeMillis: number
  readonly registerIntervalMillis: number
  readonly useServerSideResetOffset: boolean
}

/** Java's `messageDelayLevel`. */
export const DEFAULT_DELAY_LEVELS = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h"

const UNIT_MILLIS: { readonly [unit: string]: number } = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** Parses a `messageDelayLevel` string (`"1s 5s … 2h"`, units s, m, h, d) into milliseconds per level. */
export const parseDelayLevels = (text: string): ReadonlyArray<number> | string => {
  const levels: Array<number> = []
  for (const part of text.trim().split(/\s+/)) {
    const match = /^(\d+)([smhd])$/.exec(part)
    if (match === null) return `"${part}" is not a delay such as 1s, 5m, 2h or 1d`
    levels.push(Number(match[1]) * UNIT_MILLIS[match[2]!]!)
  }
  return levels
}

const millis = (input: Duration.Input | undefined, fallback: number): number =>
  input === undefined ? fallback : Duration.toMillis(Duration.fromInputUnsafe(input))

/**
 * The settings of a broker: its own over the cluster's over Java's defaults; a string saying what
 * is wrong when a setting is invalid.
 */
export const resolve = (...layers: ReadonlyArray<BrokerSettings | undefined>): Settings | string => {
  const pick = <K extends keyof BrokerSettings>(key: K): BrokerSettings[K] => {
    for (const layer of layers) {
      if (layer?.[key] !== undefined) return layer[key]
    }
    return undefined
  }
  const levels = parseDelayLevels(pick("messageDelayLevel") ?? DEFAULT_DELAY_LEVELS)
  if (typeof levels === "string") return `messageDelayLevel: ${levels}`
  return {
    autoCreateTopic: pick("autoCreateTopic") ?? true,
    autoCreateSubscriptionGroup: pick("autoCreateSubscriptionGroup") ?? true,
    defaultTopicQueueNums: pick("defaultTopicQueueNums") ?? 8,
    maxMessageSize: pick("maxMessageSize") ?? 4 * 1024 * 1024,
    delayLevels: levels,
    timerWheelEnable: pick("timerWheelEnable") ?? true,
    timerMaxDelayMillis: millis(pick("timerMaxDelay"), 259_200_000),
    transactionTimeoutMillis: millis(pick("transactionTimeout"), 6_000),
    transactionCheckIntervalMillis: millis(pick("transactionCheckInterval"), 30_000),
    transactionCheckMax: pick("transactionCheckMax") ?? 15,
    rejectTransactionMessage: pick("rejectTransactionMessage") ?? false,
    channelExpiredTimeoutMillis: millis(pick("channelExpiredTimeout"), 120_000),
    lockMaxLiveTimeMillis: millis(pick("lockMaxLiveTime"), 60_000),
    registerIntervalMillis: millis(pick("registerInterval"), 30_000),
    useServerSideResetOffset: pick("useServerSideResetOffset") ?? true
  }
}
