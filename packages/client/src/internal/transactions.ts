/**
 * The producer's side of transactions after the half message is stored (Java's
 * `DefaultMQProducerImpl.endTransaction` and `checkTransactionState`):
 *
 * - {@link endAfterSend}: END_TRANSACTION (oneway) to the master of the broker that stored the
 *   half message, with its queue offset, its commit-log offset (from the offset message id) and
 *   the resolution; a failure is only logged, as Java does — the broker asks again later.
 * - {@link checkWorker}: the broker's CHECK_TRANSACTION_STATE requests go to a bounded queue
 *   (Java's `checkRequestHoldMax`, 2000; more are dropped with a warning and will be asked again)
 *   and one fiber answers them in turn with the checker's resolution, echoing the offsets of the
 *   check request (those of the half message's latest copy). A checker that fails answers
 *   UNKNOWN, with the failure in the remark.
 *
 * @internal
 */
import { Cause, Effect, Exit, Option, Queue, type Scope } from "effect"
import type * as ClientInstance from "../ClientInstance.ts"
import * as Headers from "../Headers.ts"
import * as StoredMessage from "../StoredMessage.ts"
import * as Transaction from "../Transaction.ts"

/** A broker asks how the local transaction of a half message ended. */
export interface TransactionCheck {
  /** The half message, topic and queue restored to the real ones. */
  readonly message: StoredMessage.StoredMessage
  /** The transaction id (the message's client id, `UNIQ_KEY`). */
  readonly transactionId: string
  /** The broker asking (`host:port`). */
  readonly brokerAddress: string
}

/** Answers a check: COMMIT, ROLLBACK, or UNKNOWN (ask again later). */
export type Checker = (check: TransactionCheck) => Effect.Effect<Transaction.Resolution, unknown>

/** What the send of a half message answered. */
export interface HalfSent {
  readonly topic: string
  readonly brokerName: string
  readonly msgId: string
  readonly offsetMsgId: string
  readonly queueOffset: bigint
  readonly transactionId: string | undefined
}

/** The text of a failure, for remarks and results. */
export const causeText = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  return error instanceof Error ? error.message : String(error)
}

/** Ends the transaction of a half message the producer sent. */
export const endAfterSend = (
  instance: ClientInstance.ClientInstanceShape,
  group: string,
  sent: HalfSent,
  resolution: Transaction.Resolution,
  options: { readonly remark: string | undefined; readonly timeoutMillis: number }
): Effect.Effect<void> =>
  Effect.gen(function*() {
    const address = yield* instance.publishAddress(sent.brokerName)
    const offsets = StoredMessage.parseOffsetMsgId(sent.offsetMsgId)
    if (Option.isNone(address) || offsets === undefined) {
      return yield* Effect.logWarning(
        `Cannot end the transaction of ${sent.msgId} (${resolution}): ` +
          (Option.isNone(address) ? `broker ${sent.brokerName} has no known master` : `offset id ${sent.offsetMsgId} does not parse`) +
          "; the broker will ask again"
      )
    }
    yield* instance.provide(Transaction.endTransaction(address.value, {
      producerGroup: group,
      resolution,
      tranStateTableOffset: sent.queueOffset,
      commitLogOffset: offsets.commitLogOffset,
      msgId: sent.msgId,
      transactionId: sent.transactionId,
      topic: sent.topic,
      brokerName: sent.brokerName,
      fromTransactionCheck: false
    }, { remark: options.remark, timeoutMillis: options.timeoutMillis })).pipe(
      Effect.catch((error) =>
        Effect.logWarning(`END_TRANSACTION of ${sent.msgId} (${resolution}) to ${address.value} failed: ${error.message}`)
      )
    )
  })

const answer = (
  instance: ClientInstance.ClientInstanceShape,
  group: string,
  checker: Checker,
  check: ClientInstance.TransactionCheckRequest
) =>
  Effect.gen(function*() {
    const header = yield* Headers.CheckTransactionStateRequestHeader.decode(check.request.extFields)
    const msgId = check.message.msgId
    const exit = yield* Effect.exit(checker({ message: check.message, transactionId: msgId, brokerAddress: check.address }))
    const resolution = Exit.isSuccess(exit) ? exit.value : "UNKNOWN"
    const remark = Exit.isSuccess(exit) ? undefined : `checkLocalTransactionState Exception: ${causeText(exit.cause)}`
    yield* instance.provide(Transaction.endTransaction(check.address, {
      producerGroup: group,
      resolution,
      tranStateTableOffset: header.tranStateTableOffset,
      commitLogOffset: header.commitLogOffset,
      msgId,
      transactionId: header.transactionId,
      topic: header.topic,
      brokerName: header.bname,
      fromTransactionCheck: true
    }, { remark }))
  }).pipe(
    Effect.catch((error) =>
      Effect.logWarning(`Could not answer the transaction check of ${check.message.msgId} from ${check.address}: ${error.message}`)
    )
  )

/**
 * Starts the worker in the current scope; returns the handler to register with the client
 * instance (it only enqueues).
 */
export const checkWorker = (
  instance: ClientInstance.ClientInstanceShape,
  group: string,
  checker: Checker,
  holdMax: number
): Effect.Effect<(check: ClientInstance.TransactionCheckRequest) => Effect.Effect<void>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const queue = yield* Effect.acquireRelease(Queue.dropping<ClientInstance.TransactionCheckRequest>(holdMax), Queue.shutdown)
    yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.take(queue), (check) => answer(instance, group, checker, check))))
    return (check) =>
      Effect.flatMap(Queue.offer(queue, check), (accepted) =>
        accepted
          ? Effect.void
          : Effect.logWarning(
            `Dropped a transaction check of ${check.message.msgId}: ${holdMax} checks are already waiting; the broker will ask again`
          ))
  })
