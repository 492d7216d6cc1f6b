/**
 * One broker's message store: a commit log (every record, by commit-log offset) and the consume
 * queues over it (topic → queue id → records in queue-offset order).
 *
 * `put` encodes the record in the stored format a pull returns, gives it the next queue offset of
 * its queue (from 0) and the next commit-log offset (which grows by each record's size), and tells
 * the arrival listener (long polling). Records are never rewritten or dropped, except by deleting
 * their topic. Store timestamps come from the caller (the broker reads Effect's `Clock`).
 *
 * Not modelled: files, flushing, page cache, expiry of old records (the min offset stays 0).
 */
import { Heartbeat, Properties, StoredMessage } from "@effect-rocketmq/client"

/** A stored record and the fields it was made from (re-put by the schedule, transactions and send-back). */
export interface Entry {
  readonly commitLogOffset: bigint
  readonly queueOffset: bigint
  readonly storeTimestamp: number
  /** Java's consume-queue tag code: the `String.hashCode` of the `TAGS` property, 0 without tags. */
  readonly tagsCode: number
  readonly record: Uint8Array
  readonly message: StoredMessage.StoredMessageInput
  /** The offset message id (store host and commit-log offset, hex). */
  readonly offsetMsgId: string
}

/** What a put needs; the store fills in offsets, store host and store time. */
export type PutInput = Omit<
  StoredMessage.StoredMessageInput,
  "queueOffset" | "commitLogOffset" | "storeHost" | "storeTimestamp" | "preparedTransactionOffset" | "version" | "bodyCrc"
> & { readonly preparedTransactionOffset?: bigint | undefined }

export type PutResult =
  | { readonly _tag: "Stored"; readonly entry: Entry }
  /** The record cannot be stored (body over the maximum, properties too long, a bad host…). */
  | { readonly _tag: "Illegal"; readonly detail: string }

export interface StoreOptions {
  readonly storeHost: () => StoredMessage.SocketAddress
  readonly maxMessageSize: number
}

export type Boundary = "LOWER" | "UPPER"

export interface Store {
  readonly put: (input: PutInput, storeTimestamp: number) => PutResult
  readonly lookup: (commitLogOffset: bigint) => Entry | undefined
  readonly entries: (topic: string, queueId: number) => ReadonlyArray<Entry>
  /** The queue's max offset: the offset the next record will get (0 for an unknown queue). */
  readonly maxOffset: (topic: string, queueId: number) => bigint
  readonly minOffset: (topic: string, queueId: number) => bigint
  /** Java's `getOffsetInQueueByTime` over the queue's store timestamps. */
  readonly searchOffset: (topic: string, queueId: number, timestamp: number, boundary: Boundary) => bigint
  /** The store time of the record at `queueOffset`, or -1. */
  readonly storeTimeAt: (topic: string, queueId: number, queueOffset: bigint) => number
  /** Forgets every record of `topic` (the commit log keeps its offsets growing). */
  readonly deleteTopic: (topic: string) => void
  /** Totals for runtime info: the commit log's end, records and bytes put, the oldest store time (-1: none). */
  readonly stats: () => {
    readonly commitLogMaxOffset: bigint
    readonly puts: number
    readonly putBytes: number
    readonly earliestStoreTime: number
  }
  /** Called after each put with the record's topic and queue. */
  readonly onArrival: (listener: (topic: string, queueId: number) => void) => void
}

const queueKey = (topic: string, queueId: number) => `${topic}\u0000${queueId}`

/** Java's tag code of a message's `TAGS` property (0 when it has none). */
export const tagsCodeOf = (properties: Properties.Properties): number => {
  const tags = Properties.get(properties, "TAGS")
  return tags === undefined || tags === "" ? 0 : Heartbeat.javaHashCode(tags)
}

/**
 * The store's index of `timestamp` in `times` (ascending), as Java's consume-queue binary search:
 * LOWER is the first record stored at or after it (the queue's end when all are older), UPPER the
 * last one stored at or before it (the first when all are newer).
 */
export const searchByTime = (times: ReadonlyArray<number>, timestamp: number, boundary: Boundary): number => {
  if (times.length === 0) return 0
  const last = times.length - 1
  if (times[last]! < timestamp) return boundary === "LOWER" ? times.length : last
  if (times[0]! > timestamp) return 0
  if (boundary === "LOWER") {
    let lo = 0
    let hi = last
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (times[mid]! < timestamp) lo = mid + 1
      else hi = mid
    }
    return lo
  }
  let lo = 0
  let hi = last
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (times[mid]! > timestamp) hi = mid - 1
    else lo = mid
  }
  return lo
}

export const make = (options: StoreOptions): Store => {
  const queues = new Map<string, Array<Entry>>()
  const byOffset = new Map<bigint, Entry>()
  const listeners: Array<(topic: string, queueId: number) => void> = []
  let commitLogOffset = 0n
  let puts = 0
  let putBytes = 0
  let earliestStoreTime = -1

  const illegal = (): PutResult => ({
    _tag: "Illegal",
    detail: `the message is illegal, maybe msg body or properties length not matched. msg body length limit ` +
      `${options.maxMessageSize}B, msg properties length limit 32KB.`
  })

  const put = (input: PutInput, storeTimestamp: number): PutResult => {
    if (input.body.length > options.maxMessageSize) return illegal()
    const key = queueKey(input.topic, input.queueId)
    const queue = queues.get(key) ?? []
    const storeHost = options.storeHost()
    const message: StoredMessage.StoredMessageInput = {
      ...input,
      queueOffset: BigInt(queue.length),
      commitLogOffset,
      storeHost,
      storeTimestamp,
      preparedTransactionOffset: input.preparedTransactionOffset ?? 0n
    }
    const record = StoredMessage.encodeSync(message)
    if (!(record instanceof Uint8Array)) return illegal()
    const entry: Entry = {
      commitLogOffset,
      queueOffset: message.queueOffset,
      storeTimestamp,
      tagsCode: tagsCodeOf(input.properties),
      record,
      message,
      offsetMsgId: StoredMessage.makeOffsetMsgId(storeHost, commitLogOffset) ?? ""
    }
    queue.push(entry)
    queues.set(key, queue)
    byOffset.set(commitLogOffset, entry)
    commitLogOffset += BigInt(record.length)
    puts++
    putBytes += record.length
    if (earliestStoreTime < 0) earliestStoreTime = storeTimestamp
    for (const listener of listeners) listener(input.topic, input.queueId)
    return { _tag: "Stored", entry }
  }

  const entries = (topic: string, queueId: number): ReadonlyArray<Entry> => queues.get(queueKey(topic, queueId)) ?? []

  return {
    put,
    lookup: (offset) => byOffset.get(offset),
    entries,
    maxOffset: (topic, queueId) => BigInt(entries(topic, queueId).length),
    minOffset: () => 0n,
    searchOffset: (topic, queueId, timestamp, boundary) =>
      BigInt(searchByTime(entries(topic, queueId).map((entry) => entry.storeTimestamp), timestamp, boundary)),
    storeTimeAt: (topic, queueId, queueOffset) => entries(topic, queueId)[Number(queueOffset)]?.storeTimestamp ?? -1,
    deleteTopic: (topic) => {
      for (const [key, queue] of queues) {
        if (!key.startsWith(`${topic}\u0000`)) continue
        for (const entry of queue) byOffset.delete(entry.commitLogOffset)
        queues.delete(key)
      }
    },
    stats: () => ({ commitLogMaxOffset: commitLogOffset, puts, putBytes, earliestStoreTime }),
    onArrival: (listener) => {
      listeners.push(listener)
    }
  }
}
