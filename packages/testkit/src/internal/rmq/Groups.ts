/**
 * One broker's subscription groups (consumer group configurations), as Java's
 * `SubscriptionGroupManager` keeps them: the system groups of a fresh broker, groups created with
 * UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200), and — with `autoCreateSubscriptionGroup`, on by default
 * — groups created on first use by a heartbeat, a pull or a send-back. A name that is not a valid
 * group name (over 255 characters, or characters outside `^[%|a-zA-Z0-9_-]+$`) is never
 * auto-created. Every change moves the table's data version (counter and time), which
 * GET_ALL_SUBSCRIPTIONGROUP_CONFIG reports.
 *
 * The retry settings live here: `retryQueueNums` (queues of `%RETRY%<group>`, 1) and
 * `retryMaxTimes` (16, the DLQ threshold when a client does not send its own).
 */
import { Admin } from "@effect-rocketmq/client"
import { Result, Schema } from "effect"
import type { SubscriptionGroupConfig } from "../../InMemoryRocketMQ.ts"
import * as Wire from "./wire.ts"

export type GroupConfig = SubscriptionGroupConfig

/** Java's `SubscriptionGroupConfig` defaults. */
export const defaultConfig = (groupName: string): GroupConfig => ({
  groupName,
  ...Admin.SUBSCRIPTION_GROUP_DEFAULTS,
  groupRetryPolicy: { type: "CUSTOMIZED" },
  attributes: {}
})

/** A configuration as fastjson writes it: keys in alphabetical order. */
export const toJson = (config: GroupConfig): string =>
  Wire.fastJson({
    attributes: config.attributes,
    brokerId: config.brokerId,
    consumeBroadcastEnable: config.consumeBroadcastEnable,
    consumeEnable: config.consumeEnable,
    consumeFromMinEnable: config.consumeFromMinEnable,
    consumeMessageOrderly: config.consumeMessageOrderly,
    consumeTimeoutMinute: config.consumeTimeoutMinute,
    groupName: config.groupName,
    groupRetryPolicy: config.groupRetryPolicy,
    groupSysFlag: config.groupSysFlag,
    notifyConsumerIdsChangedEnable: config.notifyConsumerIdsChangedEnable,
    retryMaxTimes: config.retryMaxTimes,
    retryQueueNums: config.retryQueueNums,
    whichBrokerWhenConsumeSlowly: config.whichBrokerWhenConsumeSlowly
  })

const decodeConfig = Schema.decodeUnknownResult(Admin.SubscriptionGroupConfig)

/**
 * A configuration from JSON as Java reads one (missing fields take their defaults, unknown ones
 * are ignored, `groupRetryPolicy` is kept as given); what is wrong with it otherwise.
 */
export const fromJson = (json: unknown): GroupConfig | string => {
  const decoded = decodeConfig(json)
  if (Result.isFailure(decoded)) return decoded.failure.message
  if (decoded.success.groupName === "") return "groupName is empty"
  const policy = (json as { readonly groupRetryPolicy?: unknown }).groupRetryPolicy
  return {
    ...defaultConfig(decoded.success.groupName),
    ...decoded.success,
    ...(typeof policy === "object" && policy !== null ? { groupRetryPolicy: policy } : {})
  }
}

const SYSTEM_GROUPS = [
  "TOOLS_CONSUMER",
  "FILTERSRV_CONSUMER",
  "SELF_TEST_C_GROUP",
  "CID_ONS-HTTP-PROXY",
  "CID_ONSAPI_PULL",
  "CID_ONSAPI_PERMISSION",
  "CID_ONSAPI_OWNER",
  "CID_RMQ_SYS_TRANS"
]

const GROUP_CHARS = /^[%|a-zA-Z0-9_-]+$/
const GROUP_MAX_LENGTH = 255

export interface Groups {
  readonly get: (group: string) => GroupConfig | undefined
  /** The group's configuration, auto-creating it when allowed (Java's `findSubscriptionGroupConfig`). */
  readonly find: (group: string) => GroupConfig | undefined
  readonly contains: (group: string) => boolean
  readonly put: (config: GroupConfig) => void
  readonly delete: (group: string) => boolean
  readonly all: () => ReadonlyArray<GroupConfig>
  /** Whether members of `group` are notified of membership changes (unknown groups: yes). */
  readonly notifyEnabled: (group: string) => boolean
  /** The table's version: changes counted, and when the last one happened. */
  readonly dataVersion: () => { readonly counter: number; readonly timestamp: number }
}

export const make = (options: { readonly autoCreate: boolean; readonly now: () => number }): Groups => {
  const table = new Map<string, GroupConfig>()
  for (const name of SYSTEM_GROUPS) table.set(name, defaultConfig(name))
  let version = { counter: 0, timestamp: options.now() }
  const changed = () => {
    version = { counter: version.counter + 1, timestamp: options.now() }
  }
  const put = (config: GroupConfig) => {
    table.set(config.groupName, config)
    changed()
  }
  return {
    get: (group) => table.get(group),
    find: (group) => {
      const existing = table.get(group)
      if (existing !== undefined || !options.autoCreate) return existing
      if (group.length > GROUP_MAX_LENGTH || !GROUP_CHARS.test(group)) return undefined
      const created = defaultConfig(group)
      put(created)
      return created
    },
    contains: (group) => table.has(group),
    put,
    delete: (group) => {
      const deleted = table.delete(group)
      if (deleted) changed()
      return deleted
    },
    all: () => [...table.values()],
    notifyEnabled: (group) => table.get(group)?.notifyConsumerIdsChangedEnable ?? true,
    dataVersion: () => version
  }
}
