/**
 * The end of a transactional send: END_TRANSACTION (37), which tells the broker to deliver a half
 * message (commit), drop it (rollback) or keep it and ask again later (unknown).
 *
 * A transactional producer sends the half message with `Broker.sendMessage` (property
 * `TRAN_MSG=true` and `PGROUP`, sysFlag `TRANSACTION_PREPARED`), runs its local transaction, then
 * calls {@link endTransaction} with what the send answered; when the broker asks with
 * CHECK_TRANSACTION_STATE, it answers with {@link endTransaction} again, `fromTransactionCheck`
 * set and the offsets of the check request. Running the local transaction and answering checks is
 * the producer's job, not this module's.
 *
 * | operation | request code and fields | answer | default timeout |
 * | --- | --- | --- | --- |
 * | {@link endTransaction} | 37, oneway: `topic`, `producerGroup`, `tranStateTableOffset`, `commitLogOffset`, `commitOrRollback`, `fromTransactionCheck`, `msgId`, `transactionId`, `bname`; remark | none | 3 s (Java's send timeout) to hand the frame over |
 *
 * @since 0.1.0
 */
import type { RemotingClient } from "@effect-rocketmq/remoting"
import { RemotingCommand, RequestCode } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import type { CallOptions } from "./Broker.ts"
import type { InvalidRequest } from "./ClientError.ts"
import * as Headers from "./Headers.ts"
import * as Op from "./internal/operation.ts"
import { SysFlag } from "./StoredMessage.ts"

/**
 * How a transaction ended, as the `commitOrRollback` values of `MessageSysFlag`.
 *
 * @since 0.1.0
 * @category constants
 */
export const CommitOrRollback = {
  /** `TRANSACTION_NOT_TYPE`: not known yet; the broker keeps the half message and checks back. */
  UNKNOWN: 0,
  /** `TRANSACTION_COMMIT_TYPE`: deliver the message. */
  COMMIT: SysFlag.TRANSACTION_COMMIT,
  /** `TRANSACTION_ROLLBACK_TYPE`: drop the message. */
  ROLLBACK: SysFlag.TRANSACTION_ROLLBACK
} as const

/**
 * @since 0.1.0
 * @category models
 */
export type Resolution = keyof typeof CommitOrRollback

/**
 * What to tell the broker about one half message.
 *
 * @since 0.1.0
 * @category models
 */
export interface EndTransactionRequest {
  readonly producerGroup: string
  readonly resolution: Resolution
  /** The half message's queue offset: the send result's `queueOffset` (or the check request's). */
  readonly tranStateTableOffset: bigint
  /**
   * The half message's commit-log offset: from the send result's `offsetMsgId`
   * (`StoredMessage.parseOffsetMsgId`), or the check request's.
   */
  readonly commitLogOffset: bigint
  /** The message's client id (`UNIQ_KEY`). */
  readonly msgId: string
  readonly transactionId?: string | undefined
  readonly topic?: string | undefined
  /** The broker group's name (`bname`), as Java sends it. */
  readonly brokerName?: string | undefined
  /** Whether this answers a CHECK_TRANSACTION_STATE (default false). */
  readonly fromTransactionCheck?: boolean | undefined
}

/**
 * Options of {@link endTransaction}.
 *
 * @since 0.1.0
 * @category models
 */
export interface EndTransactionOptions extends CallOptions {
  /** The request's remark; Java puts why the local transaction failed there, for the broker's log. */
  readonly remark?: string | undefined
}

/**
 * Sends END_TRANSACTION oneway, as Java does: it succeeds once the frame is handed to the
 * connection, and the broker's answer (none) tells nothing. A broker that does not find the half
 * message, or finds it under another producer group or offset, logs it and keeps the message;
 * it will check back.
 *
 * @since 0.1.0
 * @category operations
 */
export const endTransaction: (
  address: string,
  request: EndTransactionRequest,
  options?: EndTransactionOptions
) => Effect.Effect<void, InvalidRequest | RemotingClient.RemotingClientError, RemotingClient.RemotingClient> = Effect
  .fn("Transaction.endTransaction")(function*(address: string, end: EndTransactionRequest, options?: EndTransactionOptions) {
    const extFields = yield* Op.encodeHeader(Headers.EndTransactionRequestHeader, {
      ...(end.topic !== undefined ? { topic: end.topic } : {}),
      producerGroup: end.producerGroup,
      tranStateTableOffset: end.tranStateTableOffset,
      commitLogOffset: end.commitLogOffset,
      commitOrRollback: CommitOrRollback[end.resolution],
      fromTransactionCheck: end.fromTransactionCheck ?? false,
      msgId: end.msgId,
      ...(end.transactionId !== undefined ? { transactionId: end.transactionId } : {}),
      ...(end.brokerName !== undefined ? { bname: end.brokerName } : {})
    }, "endTransaction")
    const request = RemotingCommand.make({ code: RequestCode.END_TRANSACTION, extFields, remark: options?.remark })
    yield* Op.invokeOneway(address, request, options?.timeoutMillis ?? Op.JavaTimeout.SEND)
  })
