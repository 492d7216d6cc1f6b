/**
 * One broker's topic configurations, created as a 5.3.3 broker creates them: the system topics of
 * a fresh broker, `UPDATE_AND_CREATE_TOPIC`, auto-creation on send from an inheritable template
 * topic (`TBW102`, present only with `autoCreateTopicEnable`), and the retry and dead-letter topics
 * the broker makes for consumer groups.
 *
 * Every change is reported to `onChange` (the broker registers it with the name server). Deleting
 * is not reported: as in Java, the name server keeps a deleted topic until it is deleted there too.
 */
import type { TopicConfig } from "../../InMemoryRocketMQ.ts"
import * as Wire from "./wire.ts"

export const PERM_READ = 4
export const PERM_WRITE = 2
export const PERM_INHERIT = 1

export interface TopicsOptions {
  readonly clusterName: string
  readonly brokerName: string
  readonly autoCreateTopic: boolean
  /** Queues of `TBW102` (Java `defaultTopicQueueNums`, 8). */
  readonly defaultTopicQueueNums: number
  readonly timerWheelEnable: boolean
  readonly onChange: (config: TopicConfig) => void
}

export interface Topics {
  readonly get: (topic: string) => TopicConfig | undefined
  readonly all: () => ReadonlyArray<TopicConfig>
  readonly put: (config: TopicConfig) => void
  /**
   * Java's `createTopicInSendMessageMethod`: a new topic with `min(queueNums, template writeQueueNums)`
   * queues and the template's permissions minus INHERIT, when `defaultTopic` exists and is
   * inheritable; otherwise undefined.
   */
  readonly createForSend: (topic: string, defaultTopic: string, queueNums: number, topicSysFlag: number) => TopicConfig | undefined
  /** Java's `createTopicInSendMessageBackMethod`: the topic as it is, or a new one with these queues and permissions. */
  readonly createForSendBack: (topic: string, queueNums: number, perm: number, topicSysFlag: number) => TopicConfig
  readonly delete: (topic: string) => boolean
  /** The fixed system topics plus those this broker made at start (its cluster, its name, …). */
  readonly isSystemTopic: (topic: string) => boolean
}

export const config = (topic: string, queueNums: number, perm = PERM_READ | PERM_WRITE): TopicConfig => ({
  topic,
  readQueueNums: queueNums,
  writeQueueNums: queueNums,
  perm,
  topicFilterType: "SINGLE_TAG",
  topicSysFlag: 0,
  order: false
})

/** The topics a fresh 5.3.3 broker has (default settings; the trace topic is off by default). */
const initialTopics = (options: TopicsOptions): ReadonlyArray<TopicConfig> => [
  config("SELF_TEST_TOPIC", 1),
  ...(options.autoCreateTopic ? [config(Wire.TBW102, options.defaultTopicQueueNums, 7)] : []),
  config("BenchmarkTest", 1024),
  config(options.clusterName, 16, 7),
  config(options.brokerName, 1, 7),
  config("OFFSET_MOVED_EVENT", 1),
  config(Wire.SCHEDULE_TOPIC, 18),
  config(`${options.clusterName}_REPLY_TOPIC`, 1),
  config(`rmq_sys_REVIVE_LOG_${options.clusterName}`, 8),
  config(`rmq_sys_SYNC_BROKER_MEMBER_${options.brokerName}`, 1, PERM_INHERIT),
  config(Wire.HALF_TOPIC, 1),
  config(Wire.OP_HALF_TOPIC, 1),
  ...(options.timerWheelEnable ? [config(Wire.TIMER_TOPIC, 1)] : [])
]

export const make = (options: TopicsOptions): Topics => {
  const table = new Map<string, TopicConfig>()
  const system = new Set<string>()
  for (const topic of initialTopics(options)) {
    table.set(topic.topic, topic)
    system.add(topic.topic)
  }

  const put = (topic: TopicConfig) => {
    table.set(topic.topic, topic)
    options.onChange(topic)
  }

  return {
    get: (topic) => table.get(topic),
    all: () => [...table.values()],
    put,
    createForSend: (topic, defaultTopic, queueNums, topicSysFlag) => {
      const existing = table.get(topic)
      if (existing !== undefined) return existing
      const template = table.get(defaultTopic)
      if (template === undefined || (template.perm & PERM_INHERIT) === 0) return undefined
      const nums = Math.max(0, Math.min(queueNums, template.writeQueueNums))
      const created: TopicConfig = {
        ...config(topic, nums, template.perm & ~PERM_INHERIT),
        topicFilterType: template.topicFilterType,
        topicSysFlag
      }
      put(created)
      return created
    },
    createForSendBack: (topic, queueNums, perm, topicSysFlag) => {
      const existing = table.get(topic)
      if (existing !== undefined) return existing
      const created: TopicConfig = { ...config(topic, queueNums, perm), topicSysFlag }
      put(created)
      return created
    },
    delete: (topic) => table.delete(topic),
    isSystemTopic: (topic) => Wire.SYSTEM_TOPICS.has(topic) || system.has(topic) || topic.startsWith("rmq_sys_")
  }
}
