/**
 * One broker's subscription groups (consumer group configurations), as Java's
 * `SubscriptionGroupManager` keeps them: the system groups of a fresh broker, groups created with
 * UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200), and — with `autoCreateSubscriptionGroup`, on by default
 * — groups created on first use by a heartbeat, a pull or a send-back. A name that is not a valid
 * group name (over 255 characters, or characters outside `^[%|a-zA-Z0-9_-]+$`) is never
 * auto-created.
 *
 * The retry settings live here: `retryQueueNums` (queues of `%RETRY%<group>`, 1) and
 * `retryMaxTimes` (16, the DLQ threshold when a client does not send its own).
 */

export interface GroupConfig {
  readonly groupName: string
  readonly consumeEnable: boolean
  readonly consumeFromMinEnable: boolean
  readonly consumeBroadcastEnable: boolean
  readonly consumeMessageOrderly: boolean
  readonly retryQueueNums: number
  readonly retryMaxTimes: number
  readonly brokerId: number
  readonly whichBrokerWhenConsumeSlowly: number
  readonly notifyConsumerIdsChangedEnable: boolean
  readonly groupSysFlag: number
  readonly consumeTimeoutMinute: number
  readonly attributes: { readonly [key: string]: string }
}

/** Java's `SubscriptionGroupConfig` defaults. */
export const defaultConfig = (groupName: string): GroupConfig => ({
  groupName,
  consumeEnable: true,
  consumeFromMinEnable: true,
  consumeBroadcastEnable: true,
  consumeMessageOrderly: false,
  retryQueueNums: 1,
  retryMaxTimes: 16,
  brokerId: 0,
  whichBrokerWhenConsumeSlowly: 1,
  notifyConsumerIdsChangedEnable: true,
  groupSysFlag: 0,
  consumeTimeoutMinute: 15,
  attributes: {}
})

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
}

export const make = (options: { readonly autoCreate: boolean }): Groups => {
  const table = new Map<string, GroupConfig>()
  for (const name of SYSTEM_GROUPS) table.set(name, defaultConfig(name))
  const get = (group: string) => table.get(group)
  return {
    get,
    find: (group) => {
      const existing = table.get(group)
      if (existing !== undefined || !options.autoCreate) return existing
      if (group.length > GROUP_MAX_LENGTH || !GROUP_CHARS.test(group)) return undefined
      const created = defaultConfig(group)
      table.set(group, created)
      return created
    },
    contains: (group) => table.has(group),
    put: (config) => {
      table.set(config.groupName, config)
    },
    delete: (group) => table.delete(group),
    all: () => [...table.values()],
    notifyEnabled: (group) => get(group)?.notifyConsumerIdsChangedEnable ?? true
  }
}
