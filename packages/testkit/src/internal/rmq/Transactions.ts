/**
 * Transactional half messages of one broker.
 *
 * `prepare` stores a half message as 5.3.3's `TransactionalMessageBridge` does: in
 * `RMQ_SYS_TRANS_HALF_TOPIC` queue 0, with `REAL_TOPIC`, `REAL_QID` and `__transactionId__`
 * (its `UNIQ_KEY`) added and the transaction bits of its sysFlag cleared, so nobody consuming its
 * topic sees it. It goes in as it is: delay levels and timers apply when it is committed (a real
 * broker would also run its timer hook on the half message, which breaks the transaction; that is
 * not reproduced).
 */
import type * as Parts from "./Parts.ts"
import * as Put from "./Put.ts"
import type * as Store from "./Store.ts"
import * as Wire from "./wire.ts"

/** A transaction waiting for its producer's word: the latest copy of its half message. */
export interface Half {
  current: Store.Entry
  /** Store time of the first copy: the check-back waits `transactionTimeout` from it. */
  readonly firstStored: number
  checks: number
}

export interface Table {
  /** Unresolved transactions, oldest first. */
  readonly pending: Set<Half>
}

export const makeTable = (): Table => ({ pending: new Set() })

export const prepare = (parts: Parts.Parts, input: Store.PutInput, now: number): Put.Outcome => {
  const properties: Record<string, string> = { ...input.properties }
  const uniqKey = properties["UNIQ_KEY"]
  if (uniqKey !== undefined && uniqKey !== "") properties["__transactionId__"] = uniqKey
  properties["REAL_TOPIC"] = input.topic
  properties["REAL_QID"] = String(input.queueId)
  const outcome = Put.put(parts, {
    ...input,
    topic: Wire.HALF_TOPIC,
    queueId: 0,
    sysFlag: input.sysFlag & ~0xc,
    properties
  }, now, false)
  if (outcome._tag === "Stored") parts.transactions.pending.add({ current: outcome.entry, firstStored: now, checks: 0 })
  return outcome
}
