/**
 * One broker's consumer offsets (Java's `ConsumerOffsetManager`): the committed offset of each
 * (group, topic, queue), written by UPDATE_CONSUMER_OFFSET and by pulls carrying the commit bit,
 * and the pull offset (where the group last pulled from), which consume stats report.
 *
 * Offsets are stored as given: the broker does not check them against the queue.
 *
 * A server-side reset (5.3.3's default for INVOKE_BROKER_TO_RESET_OFFSET) assigns an offset that
 * the group's next pull of the queue takes (answering it OFFSET_MOVED there) and that stands in for
 * the committed one until then; updates from clients are ignored while it is pending.
 */

export interface Offsets {
  readonly commit: (group: string, topic: string, queueId: number, offset: bigint) => void
  /** The committed offset, or undefined when the group has none for the queue. */
  readonly query: (group: string, topic: string, queueId: number) => bigint | undefined
  readonly commitPull: (group: string, topic: string, queueId: number, offset: bigint) => void
  readonly queryPull: (group: string, topic: string, queueId: number) => bigint | undefined
  /** Topics the group has committed offsets of. */
  readonly topicsOf: (group: string) => ReadonlyArray<string>
  readonly groups: () => ReadonlyArray<string>
  /** Assigns a reset: committed at once, and handed to the next pull of the queue. */
  readonly assignReset: (group: string, topic: string, queueId: number, offset: bigint) => void
  readonly hasReset: (group: string, topic: string, queueId: number) => boolean
  /** The pending reset of the queue, removed (Java's `queryThenEraseResetOffset`). */
  readonly takeReset: (group: string, topic: string, queueId: number) => bigint | undefined
  readonly deleteTopic: (topic: string) => void
  readonly deleteGroup: (group: string) => void
}

const SEP = "\u0000"
const key = (group: string, topic: string, queueId: number) => `${group}${SEP}${topic}${SEP}${queueId}`

export const make = (): Offsets => {
  const committed = new Map<string, bigint>()
  const pulled = new Map<string, bigint>()
  const resets = new Map<string, bigint>()
  const forget = (matches: (group: string, topic: string) => boolean) => {
    for (const table of [committed, pulled, resets]) {
      for (const k of [...table.keys()]) {
        const [group, topic] = k.split(SEP)
        if (matches(group!, topic!)) table.delete(k)
      }
    }
  }
  return {
    commit: (group, topic, queueId, offset) => {
      committed.set(key(group, topic, queueId), offset)
    },
    query: (group, topic, queueId) => resets.get(key(group, topic, queueId)) ?? committed.get(key(group, topic, queueId)),
    commitPull: (group, topic, queueId, offset) => {
      pulled.set(key(group, topic, queueId), offset)
    },
    queryPull: (group, topic, queueId) => pulled.get(key(group, topic, queueId)),
    topicsOf: (group) => {
      const topics = new Set<string>()
      for (const k of committed.keys()) {
        const [g, topic] = k.split(SEP)
        if (g === group) topics.add(topic!)
      }
      return [...topics]
    },
    groups: () => [...new Set([...committed.keys()].map((k) => k.split(SEP)[0]!))],
    assignReset: (group, topic, queueId, offset) => {
      resets.set(key(group, topic, queueId), offset)
      committed.set(key(group, topic, queueId), offset)
    },
    hasReset: (group, topic, queueId) => resets.has(key(group, topic, queueId)),
    takeReset: (group, topic, queueId) => {
      const k = key(group, topic, queueId)
      const offset = resets.get(k)
      resets.delete(k)
      return offset
    },
    deleteTopic: (topic) => forget((_, t) => t === topic),
    deleteGroup: (group) => forget((g) => g === group)
  }
}
