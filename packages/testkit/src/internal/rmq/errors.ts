/**
 * The errors of the in-memory RocketMQ.
 */
import { Schema } from "effect"

/**
 * The options do not describe a cluster; the message says which and why.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidOptions extends Schema.TaggedError<InvalidOptions>()("InvalidOptions", {
  detail: Schema.String
}) {
  override get message(): string {
    return `Cannot build the in-memory RocketMQ: ${this.detail}. Fix the options passed to InMemoryRocketMQ.`
  }
  /** False: the same options fail again. */
  get isRetryable(): boolean {
    return false
  }
  /** False: nothing was sent anywhere. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
}
