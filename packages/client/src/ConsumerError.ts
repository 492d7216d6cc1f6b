/**
 * The errors of the {@link Consumer}, besides those of the operations it calls (which pass through
 * unchanged: {@link ClientError} and the remoting client's).
 *
 * Every error says what happened and what to do in its `message`, and answers the caller's next two
 * questions with `isRetryable` (may the same thing succeed later?) and `mayHaveReachedPeer` (may a
 * broker have acted on it?).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * The consumer's options cannot work: a group or topic name Java would refuse, a number out of the
 * range Java accepts, a subscription expression that cannot be parsed. Nothing was started.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidConsumerOptions extends Schema.TaggedError<InvalidConsumerOptions>()("InvalidConsumerOptions", {
  option: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `Invalid consumer option ${this.option}: ${this.detail}. Nothing was started; fix the option.`
  }

  get isRetryable(): boolean {
    return false
  }

  get mayHaveReachedPeer(): boolean {
    return false
  }
}

/**
 * The local offset file of a broadcasting consumer could not be read or written.
 *
 * @since 0.1.0
 * @category errors
 */
export class OffsetFileError extends Schema.TaggedError<OffsetFileError>()("OffsetFileError", {
  path: Schema.String,
  operation: Schema.Literals(["read", "write", "parse"]),
  detail: Schema.String
}) {
  override get message(): string {
    return this.operation === "parse"
      ? `The offset file ${this.path} is not one this client wrote: ${this.detail}. Move it away to start ` +
        "the broadcasting consumer from its consumeFromWhere position, or restore it from a backup."
      : `Cannot ${this.operation} the offset file ${this.path}: ${this.detail}. Check that the directory ` +
        "exists and is writable (option offsetStoreDir)."
  }

  get isRetryable(): boolean {
    return this.operation !== "parse"
  }

  get mayHaveReachedPeer(): boolean {
    return false
  }
}
