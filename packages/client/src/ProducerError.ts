/**
 * The errors of the `Producer` beyond the operations' own (`ClientError`, the remoting errors),
 * in the same model: each says what happened and what to do, and answers `isRetryable` (sending
 * again may succeed) and `mayHaveReachedPeer` (false only when no broker can have stored the
 * message).
 *
 * - {@link InvalidMessage}: the message breaks a rule checked before any I/O (topic, body, size,
 *   properties, delay, batch); nothing was sent.
 * - {@link InvalidProducerOptions}: the producer's options are not usable (group name, numbers).
 * - {@link SendFailed}: every attempt failed with a retryable error, or the send timeout ran out
 *   between attempts. A failure that is not retryable ends the send with that error itself, as
 *   Java's producer rethrows it.
 * - {@link BatchPartlySent}: a batch split into several requests stored some of them, then one
 *   failed: which ids were stored and which not.
 * - {@link ProducerClosed}: the producer's scope closed before or while the send ran.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * Why a message cannot be sent.
 *
 * @since 0.1.0
 * @category models
 */
export const InvalidMessageReason = Schema.Literals([
  "Topic",
  "TopicForbidden",
  "Body",
  "BodyTooLarge",
  "Properties",
  "Delay",
  "Batch",
  "Queue"
])

/**
 * The message breaks one of Java's rules (`Validators.checkMessage`, the batch rules) or one of
 * ours, checked before anything touches the network: nothing was sent. `detail` says what to
 * change.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidMessage extends Schema.TaggedError<InvalidMessage>()("InvalidMessage", {
  reason: InvalidMessageReason,
  topic: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `Cannot send to topic ${JSON.stringify(this.topic)}: ${this.detail}. Nothing was sent.`
  }

  /** The same message fails the same way. */
  get isRetryable(): boolean {
    return false
  }

  /** Nothing was sent. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
}

/**
 * The producer's options cannot be used (a group name Java refuses, a number out of range).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidProducerOptions extends Schema.TaggedError<InvalidProducerOptions>()("InvalidProducerOptions", {
  option: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `Invalid producer option ${this.option}: ${this.detail}.`
  }

  get isRetryable(): boolean {
    return false
  }

  get mayHaveReachedPeer(): boolean {
    return false
  }
}

/**
 * A send gave up: every attempt (at most `1 + retryTimesWhenSendFailed`, each to another broker
 * when there is one) failed with a retryable error, or the send timeout ran out before the next
 * attempt. `cause` is the last attempt's error; `brokers` the broker of each attempt, in order.
 *
 * @since 0.1.0
 * @category errors
 */
export class SendFailed extends Schema.TaggedError<SendFailed>()("SendFailed", {
  topic: Schema.String,
  attempts: Schema.Number,
  brokers: Schema.Array(Schema.String),
  elapsedMillis: Schema.Number,
  timedOut: Schema.Boolean,
  /** Whether any attempt may have reached its broker (then the message may be stored). */
  reachedPeer: Schema.Boolean,
  cause: Schema.Unknown
}) {
  override get message(): string {
    const last = typeof this.cause === "object" && this.cause !== null && "message" in this.cause
      ? String((this.cause as { readonly message: unknown }).message)
      : String(this.cause)
    const why = this.timedOut
      ? `the send timeout ran out after ${this.attempts} attempt(s) in ${this.elapsedMillis} ms`
      : `${this.attempts} attempt(s) failed in ${this.elapsedMillis} ms`
    const stored = this.reachedPeer
      ? " A broker may have stored it anyway: sending again may duplicate it."
      : ""
    return `Sending to topic ${JSON.stringify(this.topic)} failed: ${why} (brokers ${JSON.stringify(this.brokers)}); ` +
      `the last error: ${last}.${stored} Retry later, or raise sendMsgTimeout / retryTimesWhenSendFailed.`
  }

  /** Every failure was retryable: a later send may succeed. */
  get isRetryable(): boolean {
    return true
  }

  get mayHaveReachedPeer(): boolean {
    return this.reachedPeer
  }
}

/**
 * A batch too large for one request was sent as several (in order); some were stored, then one
 * failed with `cause` and the rest were not sent. `sent` are the client ids of the stored
 * messages, `notSent` those of the others (the failed request's included: it may be stored too
 * when `cause` may have reached its broker).
 *
 * @since 0.1.0
 * @category errors
 */
export class BatchPartlySent extends Schema.TaggedError<BatchPartlySent>()("BatchPartlySent", {
  topic: Schema.String,
  sent: Schema.Array(Schema.String),
  notSent: Schema.Array(Schema.String),
  cause: Schema.Unknown
}) {
  override get message(): string {
    const last = typeof this.cause === "object" && this.cause !== null && "message" in this.cause
      ? String((this.cause as { readonly message: unknown }).message)
      : String(this.cause)
    return `Only ${this.sent.length} of the ${this.sent.length + this.notSent.length} messages of a batch to topic ` +
      `${JSON.stringify(this.topic)} were stored before a request failed: ${last}. Send the messages listed in notSent again.`
  }

  /** Sending the rest again may succeed. */
  get isRetryable(): boolean {
    return true
  }

  /** Part of the batch is stored. */
  get mayHaveReachedPeer(): boolean {
    return true
  }
}

/**
 * The producer was shut down (its scope closed): new sends fail at once, and sends still running
 * when the close grace period ended fail with `inFlight` set.
 *
 * @since 0.1.0
 * @category errors
 */
export class ProducerClosed extends Schema.TaggedError<ProducerClosed>()("ProducerClosed", {
  group: Schema.String,
  /** The send was running when the producer closed: a broker may have stored the message. */
  inFlight: Schema.Boolean
}) {
  override get message(): string {
    return this.inFlight
      ? `The producer of group ${JSON.stringify(this.group)} closed while this send was in flight; the message ` +
        "may or may not be stored. Check before sending it again with a new producer."
      : `The producer of group ${JSON.stringify(this.group)} is closed; send with a producer whose scope is open.`
  }

  get isRetryable(): boolean {
    return false
  }

  get mayHaveReachedPeer(): boolean {
    return this.inFlight
  }
}
