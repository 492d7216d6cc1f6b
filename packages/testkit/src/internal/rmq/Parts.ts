/**
 * The parts of one in-memory broker that its processors share: identity and settings, the store,
 * topics, subscription groups, clients, offsets, held pulls, the delay/timer schedule and the
 * half messages of transactions. The broker (`Broker.ts`) builds them; processor modules take
 * them and return handlers by request code.
 */
import type { StoredMessage } from "@effect-rocketmq/client"
import { RemotingCommand, RequestCode } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import type { Handler } from "../../InMemoryRocketMQ.ts"
import type * as Clients from "./Clients.ts"
import type * as Groups from "./Groups.ts"
import type * as Locks from "./Locks.ts"
import type * as LongPolling from "./LongPolling.ts"
import type * as Offsets from "./Offsets.ts"
import type * as Settings from "./Settings.ts"
import type * as Store from "./Store.ts"
import type * as Topics from "./Topics.ts"
import type * as Transactions from "./Transactions.ts"

export interface Parts {
  readonly name: string
  readonly clusterName: string
  readonly settings: Settings.Settings
  /** The address published in routes. */
  readonly address: () => string
  /** When the broker last started (epoch ms). */
  readonly bootTimestamp: () => number
  readonly storeHost: () => StoredMessage.SocketAddress
  readonly store: Store.Store
  readonly topics: Topics.Topics
  readonly groups: Groups.Groups
  readonly clients: Clients.Clients
  readonly offsets: Offsets.Offsets
  readonly polling: LongPolling.LongPolling
  readonly locks: Locks.Locks
  /**
   * Stores a message for delivery when due (delay levels and timers): `dueAt` is epoch ms, the
   * entry is the copy stored in the schedule or timer topic.
   */
  readonly schedule: (entry: Store.Entry, dueAt: number) => void
  readonly transactions: Transactions.Table
  /** Wakes an idle timer: clients were registered, or a half message was stored (see `Timers.ts`). */
  readonly wake: (timer: "housekeeping" | "transactions") => void
}

/** Handlers by request code. */
export type Processors = ReadonlyArray<readonly [number, Handler]>

/**
 * Sends NOTIFY_CONSUMER_IDS_CHANGED (40, oneway, header `consumerGroup`) to each channel of each
 * notice, as Java's `Broker2Client` does after a membership change. A channel that cannot take it
 * is skipped (logged at debug level).
 */
export const notify = (notices: ReadonlyArray<Clients.Notice>): Effect.Effect<void> =>
  Effect.forEach(
    notices,
    (notice) =>
      Effect.forEach(notice.channels, (channel) =>
        channel.invokeOneway(
          RemotingCommand.make({
            code: RequestCode.NOTIFY_CONSUMER_IDS_CHANGED,
            extFields: { consumerGroup: notice.group }
          })
        ).pipe(Effect.catchCause((cause) =>
          Effect.logDebug(`Could not notify ${channel.remoteAddress} that group ${notice.group} changed`, cause)
        )), { discard: true }),
    { discard: true }
  )
