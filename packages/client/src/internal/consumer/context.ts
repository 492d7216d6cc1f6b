/**
 * The state one consumer engine shares between its parts (puller, delivery, orderly consumption,
 * rebalance, broker requests): its resolved configuration, the port to the cluster, the offset
 * store, the owned queues, the hand-off queue to the user, and the scopes its fibers run in.
 *
 * @internal
 */
import { type Cause, type Clock, Deferred, Duration, Effect, Exit, type FiberMap, type FiberSet, Option, type Queue } from "effect"
import type { Delivery, NackOptions } from "../../Consumer.ts"
import type * as Allocation from "../../Allocation.ts"
import type * as FlowControl from "./flowControl.ts"
import type * as Metrics from "./metrics.ts"
import type { OffsetStore } from "./offsetStore.ts"
import type { Port, PortError } from "./port.ts"
import type { QueueEntry } from "./queueEntry.ts"
import type * as StoredMessage from "../../StoredMessage.ts"
import type * as StartOffset from "./startOffset.ts"
import type { Stats } from "./stats.ts"
import type { Subscription } from "./subscription.ts"

/** @internal: the consumer's options, resolved to Java's defaults and validated. */
export interface Config {
  readonly group: string
  readonly clustering: boolean
  readonly orderly: boolean
  readonly subscriptions: ReadonlyArray<Subscription>
  readonly consumeFromWhere: StartOffset.ConsumeFromWhere
  /** Milliseconds since the epoch (`consumeTimestamp`). */
  readonly consumeTimestamp: number
  readonly strategy: Allocation.Strategy
  readonly limits: FlowControl.Limits
  readonly pullBatchSize: number
  readonly pullIntervalMillis: number
  /** Orderly: `suspendCurrentQueueTimeMillis`. */
  readonly suspendMillis: number
  /** In effect for the mode (16 concurrently, unbounded orderly unless set). */
  readonly maxReconsumeTimes: number
  readonly persistIntervalMillis: number
  readonly rebalanceIntervalMillis: number
  /** How long the broker may hold a pull (`brokerSuspendMaxTimeMillis`, 15 s). */
  readonly brokerSuspendMillis: number
  /** How long a leaving queue waits for its handed-out messages before it is dropped. */
  readonly drainMillis: number
  /** Capacity of the hand-off queue between the pullers and the user. */
  readonly handoffCapacity: number
  /** Concurrent consumption: a message handed out this long ago without being settled is sent back. */
  readonly consumeTimeoutMillis: number
}

/** @internal: how a handed-out message was settled. */
export type Outcome =
  | { readonly _tag: "Ack" }
  | { readonly _tag: "Nack"; readonly delayLevel: number; readonly suspendMillis: number; readonly failed: boolean }
  /** Held back: its queue was leaving when the user would have received it. */
  | { readonly _tag: "Skipped" }

/** @internal */
export const ACK: Outcome = { _tag: "Ack" }

/** @internal: the outcome of a nack; `failed` when the handler failed rather than asked for a retry. */
export const nack = (options: NackOptions | undefined, failed: boolean): Outcome => ({
  _tag: "Nack",
  delayLevel: options?.delayLevel ?? 0,
  suspendMillis: options?.suspend === undefined
    ? -1
    : Option.match(Duration.fromInput(options.suspend), { onNone: () => -1, onSome: Duration.toMillis }),
  failed
})

/** @internal: what travels from the pullers to the user: a {@link Delivery} with its settlement. */
export interface Item extends Delivery {
  /** `undefined` for CONSUME_MESSAGE_DIRECTLY. */
  readonly entry: QueueEntry | undefined
  /** Claims the item for the user; false when it must be held back (its queue is leaving). */
  readonly claim: () => boolean
  readonly settle: (outcome: Outcome) => Effect.Effect<void>
  /** `ack`, done synchronously: `run`'s per-message path. */
  readonly ackUnsafe: () => void
  /** The user dropped the item unsettled (its handler was interrupted): deliver it again. */
  readonly abandon: Effect.Effect<void>
}

/**
 * @internal: an item whose outcome the fiber that offered it awaits (`result`): an orderly queue's
 * next message, a CONSUME_MESSAGE_DIRECTLY request. Settling completes `result` once; what the
 * outcome means is up to that fiber.
 */
export abstract class AwaitedItem {
  readonly result = Deferred.makeUnsafe<Outcome>()
  abstract readonly message: StoredMessage.StoredMessage

  settle = (outcome: Outcome): Effect.Effect<void> => Effect.asVoid(Deferred.succeed(this.result, outcome))

  get ack(): Effect.Effect<void> {
    return this.settle(ACK)
  }

  ackUnsafe(): void {
    Deferred.doneUnsafe(this.result, Exit.succeed(ACK))
  }

  nack = (options?: NackOptions): Effect.Effect<void> => this.settle(nack(options, false))

  get abandon(): Effect.Effect<void> {
    return this.settle({ _tag: "Skipped" })
  }
}

/** @internal */
export interface Ctx {
  readonly config: Config
  readonly port: Port
  readonly store: OffsetStore<PortError>
  readonly handoff: Queue.Queue<Item, Cause.Done>
  readonly entries: Map<string, QueueEntry>
  /** Per-queue fibers: the puller under its key, the orderly consumer under `key + "#consume"`. */
  readonly queueFibers: FiberMap.FiberMap<string>
  /** Short-lived tasks: local retries, delayed offset corrections. */
  readonly background: FiberSet.FiberSet
  readonly rebalanceNow: Effect.Effect<void>
  readonly stats: Stats
  readonly metrics: Metrics.Bound
  /** The engine's clock, read synchronously on the per-message path. */
  readonly clock: Clock.Clock
  /** RESET_CONSUMER_CLIENT_OFFSET in progress: pullers wait. */
  paused: boolean
  closing: boolean
}
