/**
 * What a queue's puller does with the broker's answer to a pull, as the Java push consumer does
 * (its `PullCallback`):
 *
 * | answer | next offset | then |
 * | --- | --- | --- |
 * | FOUND with messages | `nextBeginOffset` | hold and hand out the messages that pass the exact tag check (records whose body could not be decoded are held too, and go to the DLQ); pull again |
 * | FOUND, every message filtered out | `nextBeginOffset` | nothing to consume; pull again at once |
 * | NO_NEW_MSG (19) / NO_MATCHED_MSG (20) | `nextBeginOffset` | if nothing is held, move the committed offset there (over filtered or empty ranges, else lag never drops); pull again at once |
 * | OFFSET_ILLEGAL (21) | `nextBeginOffset` | drop the queue, persist that offset (frozen), let the next rebalance re-add it |
 * | FLOW_CONTROL (215) | unchanged | retry after 20 ms |
 * | any other failure | unchanged | retry after 1 s |
 *
 * Unlike Java, an all-filtered FOUND also moves the committed offset when nothing is held: those
 * messages were consumed by being filtered out, and waiting for the next NO_NEW_MSG to say so only
 * delays the same correction.
 *
 * Pure; no I/O.
 *
 * @internal
 */
import { ResponseCode } from "@effect-rocketmq/remoting"
import type * as Broker from "../../Broker.ts"
import * as FlowControl from "./flowControl.ts"

/** @internal */
export type Outcome<M> =
  | {
    readonly _tag: "Consume"
    readonly messages: ReadonlyArray<M>
    /** Records whose content could not be decoded (they pass the same tag check). */
    readonly undecodable: ReadonlyArray<M>
    readonly nextOffset: bigint
  }
  | { readonly _tag: "Empty"; readonly nextOffset: bigint }
  | { readonly _tag: "OffsetIllegal"; readonly nextOffset: bigint }
  | { readonly _tag: "Retry"; readonly delayMillis: number }

/**
 * The outcome of a successful pull. `accept` is the client's exact filter; `prepare` turns a kept
 * message into what the consumer holds (e.g. the user-facing topic of a retried message).
 *
 * @internal
 */
export const fromResult = <S, M>(
  result: Broker.PullResult,
  accept: (message: S) => boolean,
  prepare: (message: S) => M,
  messagesOf: (result: Extract<Broker.PullResult, { readonly _tag: "Found" }>) => {
    readonly messages: ReadonlyArray<S>
    readonly undecodable: ReadonlyArray<S>
  }
): Outcome<M> => {
  switch (result._tag) {
    case "Found": {
      const { messages, undecodable } = messagesOf(result)
      const kept: Array<M> = []
      for (const message of messages) if (accept(message)) kept.push(prepare(message))
      const broken: Array<M> = []
      for (const message of undecodable) if (accept(message)) broken.push(prepare(message))
      return kept.length === 0 && broken.length === 0
        ? { _tag: "Empty", nextOffset: result.nextBeginOffset }
        : { _tag: "Consume", messages: kept, undecodable: broken, nextOffset: result.nextBeginOffset }
    }
    case "NoNewMsg":
    case "NoMatchedMsg":
      return { _tag: "Empty", nextOffset: result.nextBeginOffset }
    case "OffsetIllegal":
      return { _tag: "OffsetIllegal", nextOffset: result.nextBeginOffset }
  }
}

/**
 * The outcome of a failed pull: the broker's FLOW_CONTROL is retried after 20 ms, anything else
 * (a timeout, SUBSCRIPTION_NOT_EXIST before the heartbeat arrived, a closed connection) after 1 s.
 *
 * @internal
 */
export const fromError = (
  error: { readonly _tag: string; readonly responseCode?: number | undefined }
): Extract<Outcome<never>, { readonly _tag: "Retry" }> => ({
  _tag: "Retry",
  delayMillis: error._tag === "RemoteError" && error.responseCode === ResponseCode.FLOW_CONTROL
    ? FlowControl.BROKER_FLOW_CONTROL_DELAY_MILLIS
    : FlowControl.EXCEPTION_DELAY_MILLIS
})
