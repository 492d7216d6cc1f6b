/**
 * Orderly-consumption queue locks of one broker (Java's `RebalanceLockManager`): per consumer group,
 * each message queue is locked by at most one client id. A lock is granted when the queue is free,
 * already held by that client (its time is refreshed) or expired — not refreshed for
 * `lockMaxLiveTime` (60 s) on Effect's `Clock`. Unlocking only releases locks the client holds.
 * Locks live in memory: a broker that stops forgets them.
 */
import type * as Wire from "./wire.ts"

interface LockEntry {
  clientId: string
  lastUpdate: number
}

export interface LockView {
  readonly queue: Wire.MessageQueueJson
  readonly clientId: string
  readonly expired: boolean
}

export interface Locks {
  /** Locks what it can of `queues` for `clientId`; returns the queues now locked by it. */
  readonly tryLock: (
    group: string,
    queues: ReadonlyArray<Wire.MessageQueueJson>,
    clientId: string,
    now: number
  ) => ReadonlyArray<Wire.MessageQueueJson>
  readonly unlock: (group: string, queues: ReadonlyArray<Wire.MessageQueueJson>, clientId: string) => void
  /** True when the group holds no unexpired lock (Java's `isLockAllExpired`). */
  readonly allExpired: (group: string, now: number) => boolean
  readonly view: (group: string, now: number) => ReadonlyArray<LockView>
  readonly clear: () => void
}

const queueKey = (queue: Wire.MessageQueueJson) => `${queue.topic}\u0000${queue.brokerName}\u0000${queue.queueId}`

export const make = (lockMaxLiveTimeMillis: number): Locks => {
  const groups = new Map<string, Map<string, { readonly queue: Wire.MessageQueueJson; readonly entry: LockEntry }>>()
  const expired = (entry: LockEntry, now: number) => now - entry.lastUpdate > lockMaxLiveTimeMillis
  return {
    tryLock: (group, queues, clientId, now) => {
      const table = groups.get(group) ?? new Map()
      groups.set(group, table)
      const locked: Array<Wire.MessageQueueJson> = []
      for (const queue of queues) {
        const k = queueKey(queue)
        const held = table.get(k)
        if (held === undefined) {
          table.set(k, { queue, entry: { clientId, lastUpdate: now } })
          locked.push(queue)
        } else if (held.entry.clientId === clientId || expired(held.entry, now)) {
          held.entry.clientId = clientId
          held.entry.lastUpdate = now
          locked.push(queue)
        }
      }
      return locked
    },
    unlock: (group, queues, clientId) => {
      const table = groups.get(group)
      if (table === undefined) return
      for (const queue of queues) {
        const k = queueKey(queue)
        if (table.get(k)?.entry.clientId === clientId) table.delete(k)
      }
    },
    allExpired: (group, now) => {
      for (const { entry } of groups.get(group)?.values() ?? []) {
        if (!expired(entry, now)) return false
      }
      return true
    },
    view: (group, now) =>
      [...(groups.get(group)?.values() ?? [])].map(({ entry, queue }) => ({
        queue,
        clientId: entry.clientId,
        expired: expired(entry, now)
      })),
    clear: () => groups.clear()
  }
}
