/**
 * The producer's send loop (Java's `sendDefaultImpl`): one deadline for every attempt, a queue per
 * attempt on another broker than the one that just failed, and a new attempt only after a failure
 * Java's producer retries.
 *
 * - Retried: transport failures the error model marks retryable (connect refused, timeouts, closed
 *   channels, back-off, permits…), broker answers with a code of `ClientError.RETRY_RESPONSE_CODES`
 *   (SYSTEM_BUSY, SYSTEM_ERROR, TOPIC_NOT_EXIST, SERVICE_NOT_AVAILABLE, NO_PERMISSION, NO_BUYER_ID,
 *   NOT_IN_CURRENT_UNIT, GO_AWAY), and a queue whose broker has no known master address. Anything
 *   else ends the send with that error (e.g. MESSAGE_ILLEGAL), or with the last non-OK result when
 *   `retryAnotherBrokerWhenNotStoreOK` kept one.
 * - Each attempt gets what is left of the deadline; none starts once it has passed.
 * - With latency fault tolerance, every attempt updates the fault table as Java does: success
 *   `(latency, false, true)`, transport failure `(latency, true, true)`, broker error code
 *   `(latency, true, false)`.
 * - A failed attempt asks the client instance to refresh the topic's route (in the background).
 *
 * @internal
 */
import { RemotingError } from "@effect-rocketmq/remoting"
import { Cause, Clock, Effect, Result } from "effect"
import type * as ClientInstance from "../ClientInstance.ts"
import { RETRY_RESPONSE_CODES } from "../ClientError.ts"
import type { NoRouteInfo } from "../ClientError.ts"
import type * as MessageQueue from "../MessageQueue.ts"
import { ProducerClosed, SendFailed } from "../ProducerError.ts"
import type * as FaultStrategy from "./faultStrategy.ts"
import * as QueueSelection from "./queueSelection.ts"

/** Errors an attempt can end with: each has the error model's two getters. */
export interface AttemptError {
  readonly _tag: string
  readonly message: string
  readonly isRetryable: boolean
  readonly mayHaveReachedPeer: boolean
}

/** What the loop needs from the producer. */
export interface LoopContext {
  readonly group: string
  readonly instance: ClientInstance.ClientInstanceShape
  readonly retryTimes: number
  readonly defaultTopicQueueNums: number
  readonly retryAnotherBrokerWhenNotStoreOK: boolean
  readonly faults: FaultStrategy.FaultTable | undefined
  readonly indexOf: (topic: string) => QueueSelection.SendIndex
  /** A random non-negative 31-bit integer (Java resets the counter to one on retries). */
  readonly random: () => number
  /** The producer is closing: no new attempt may start. */
  readonly isClosing: () => boolean
  /** Runs in the background after a failed attempt (route refresh). */
  readonly afterFailure: (topic: string) => Effect.Effect<void>
  /** Counts a retry. */
  readonly onRetry: (topic: string) => Effect.Effect<void>
}

/** A successful send and where it went. */
export interface Sent<A> {
  readonly result: A
  readonly queue: MessageQueue.MessageQueue
  readonly attempts: number
}

const isBrokerAnswer = (error: AttemptError): error is AttemptError & { readonly responseCode: number } =>
  (error._tag === "RemoteError" || error._tag === "TopicNotExist") && "responseCode" in error

/**
 * Records an attempt's outcome in the fault table, as Java does: success `(latency, false, true)`,
 * transport failure `(latency, true, true)`, broker error code `(latency, true, false)`.
 */
export const noteAttempt = (
  context: LoopContext,
  brokerName: string,
  startedAt: number,
  latencyMillis: number,
  error: AttemptError | undefined
): void => {
  if (error === undefined) context.faults?.update(brokerName, latencyMillis, false, true, startedAt + latencyMillis)
  else context.faults?.update(brokerName, latencyMillis, true, !isBrokerAnswer(error), startedAt + latencyMillis)
}

/**
 * The queue of attempt `times` (0 for the first) among `queues`: round-robin from the topic's
 * counter, avoiding `lastBroker`, through the fault table when latency fault tolerance is on (a
 * retry resets the counter to a random start, as Java).
 */
export const pickQueue = (
  context: LoopContext,
  topic: string,
  queues: ReadonlyArray<MessageQueue.MessageQueue>,
  lastBroker: string | undefined,
  times: number,
  now: number
): MessageQueue.MessageQueue => {
  const latency = context.faults === undefined
    ? undefined
    : { faults: context.faults, now, resetTo: times > 0 ? context.random() : undefined }
  return QueueSelection.select(queues, context.indexOf(topic), lastBroker, latency)
}

/** Whether Java's producer sends again after `error`. */
export const isRetried = (error: AttemptError): boolean =>
  isBrokerAnswer(error) ? RETRY_RESPONSE_CODES.has(error.responseCode) : RemotingError.isRetryable(error)

/** A queue's broker has no master address, even after a route refresh (Java: "The broker[…] not exist"). */
export interface NoBrokerAddress extends AttemptError {
  readonly _tag: "NoBrokerAddress"
}

const noBrokerAddress = (brokerName: string): NoBrokerAddress => ({
  _tag: "NoBrokerAddress",
  message: `the broker ${brokerName} has no known master address`,
  isRetryable: true,
  mayHaveReachedPeer: false
})

const addressOf = (context: LoopContext, topic: string, brokerName: string) =>
  Effect.flatMap(context.instance.publishAddress(brokerName), (found) =>
    found._tag === "Some"
      ? Effect.succeed(found.value)
      : Effect.flatMap(Effect.ignore(context.instance.refreshRoute(topic)), () =>
        Effect.map(context.instance.publishAddress(brokerName), (again) => again._tag === "Some" ? again.value : undefined)))

/**
 * Where an earlier first attempt left a send (the producer's bulk send makes the first attempt of
 * many messages together, then hands each one that needs another try to {@link run}).
 */
export interface Resume<A, E> {
  /** When the send started: its deadline counts from here. */
  readonly start: number
  /** The brokers tried so far, in order (the next attempt avoids the last). */
  readonly brokers: ReadonlyArray<string>
  readonly reached: boolean
  readonly lastError: E | undefined
  /** A result that was not SEND_OK, kept under `retryAnotherBrokerWhenNotStoreOK`. */
  readonly kept: Sent<A> | undefined
}

/**
 * Sends with retries: `attempt(queue, address, remainingMillis)` once per try, at most
 * `1 + retryTimes` tries (`retry: false`: one), within `timeoutMillis` from now (or, with `resume`,
 * from the send's start, counting the tries already made). `isStoreOk` tells whether a result is
 * SEND_OK (for `retryAnotherBrokerWhenNotStoreOK`).
 */
export const run = <A, E extends AttemptError>(
  context: LoopContext,
  topic: string,
  options: {
    readonly timeoutMillis: number
    readonly retry: boolean
    readonly isStoreOk: (result: A) => boolean
    readonly resume?: Resume<A, E> | undefined
  },
  attempt: (queue: MessageQueue.MessageQueue, address: string, remainingMillis: number) => Effect.Effect<A, E>
): Effect.Effect<Sent<A>, E | NoRouteInfo | SendFailed | ProducerClosed> =>
  Effect.gen(function*() {
    const resume = options.resume
    const start = resume?.start ?? (yield* Clock.currentTimeMillis)
    const route = yield* context.instance.publishRoute(topic, { defaultTopicQueueNums: context.defaultTopicQueueNums })
    const tries = options.retry ? 1 + context.retryTimes : 1
    const brokers: Array<string> = [...(resume?.brokers ?? [])]
    let lastError: E | NoBrokerAddress | undefined = resume?.lastError
    let kept: Sent<A> | undefined = resume?.kept
    let reached = resume?.reached ?? false
    let timedOut = false
    for (let times = brokers.length; times < tries; times++) {
      const now = yield* Clock.currentTimeMillis
      const cost = now - start
      if (cost >= options.timeoutMillis) {
        timedOut = true
        break
      }
      // A closing producer lets the attempt in flight finish but starts no other.
      if (times > 0 && context.isClosing()) return yield* new ProducerClosed({ group: context.group, inFlight: reached })
      const queue = pickQueue(context, topic, route.publishQueues, brokers[brokers.length - 1], times, now)
      brokers.push(queue.brokerName)
      if (times > 0) yield* context.onRetry(topic)
      const address = yield* addressOf(context, topic, queue.brokerName)
      if (address === undefined) {
        lastError = noBrokerAddress(queue.brokerName)
        continue
      }
      const exit = yield* Effect.exit(attempt(queue, address, options.timeoutMillis - cost))
      const latencyMillis = (yield* Clock.currentTimeMillis) - now
      if (exit._tag === "Success") {
        noteAttempt(context, queue.brokerName, now, latencyMillis, undefined)
        const sent = { result: exit.value, queue, attempts: times + 1 }
        if (!options.isStoreOk(exit.value) && context.retryAnotherBrokerWhenNotStoreOK) {
          kept = sent
          continue
        }
        return sent
      }
      const failure = Cause.findError(exit.cause)
      if (Result.isFailure(failure)) return yield* Effect.failCause(failure.failure)
      const error = failure.success
      noteAttempt(context, queue.brokerName, now, latencyMillis, error)
      reached = reached || error.mayHaveReachedPeer
      if (!isRetried(error)) return kept ?? (yield* Effect.fail(error))
      lastError = error
      yield* context.afterFailure(topic)
    }
    if (kept !== undefined) return kept
    const elapsedMillis = (yield* Clock.currentTimeMillis) - start
    return yield* new SendFailed({
      topic,
      attempts: brokers.length,
      brokers,
      elapsedMillis,
      timedOut,
      reachedPeer: reached,
      cause: lastError
    })
  })

/**
 * One attempt on the queue `pick` chooses (Java's `sendSelectImpl` and `send(msg, mq)`): no retry
 * and no fault tolerance; the attempt's error is the send's.
 */
export const runOn = <A, E extends AttemptError, E2>(
  context: LoopContext,
  topic: string,
  pick: Effect.Effect<MessageQueue.MessageQueue, E2>,
  options: { readonly timeoutMillis: number },
  attempt: (queue: MessageQueue.MessageQueue, address: string, remainingMillis: number) => Effect.Effect<A, E>
): Effect.Effect<Sent<A>, E | E2 | SendFailed> =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const queue = yield* pick
    const failed = (timedOut: boolean, cause: AttemptError | undefined) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.fail(
          new SendFailed({
            topic,
            attempts: cause === undefined ? 0 : 1,
            brokers: cause === undefined ? [] : [queue.brokerName],
            elapsedMillis: now - start,
            timedOut,
            reachedPeer: false,
            cause
          })
        ))
    const address = yield* addressOf(context, topic, queue.brokerName)
    if (address === undefined) return yield* failed(false, noBrokerAddress(queue.brokerName))
    const cost = (yield* Clock.currentTimeMillis) - start
    if (cost >= options.timeoutMillis) return yield* failed(true, undefined)
    const result = yield* attempt(queue, address, options.timeoutMillis - cost)
    return { result, queue, attempts: 1 }
  })
