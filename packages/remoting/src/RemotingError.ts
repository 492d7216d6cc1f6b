/**
 * Every way a remoting operation can fail, as `Schema.TaggedError` classes.
 *
 * Each error says what happened and what to do about it in its `message`, and carries the address,
 * request code and opaque where they apply. Nothing in this package throws: these values travel in
 * the error channel of an `Effect`.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * Why a frame could not be decoded.
 *
 * @since 0.1.0
 * @category models
 */
export const FrameDecodeReason = Schema.Literals([
  "FrameTooLarge",
  "FrameTooSmall",
  "TruncatedFrame",
  "HeaderLengthOutOfRange",
  "UnknownSerializeType",
  "MalformedJsonHeader",
  "MalformedBinaryHeader"
])

/**
 * @since 0.1.0
 * @category models
 */
export type FrameDecodeReason = typeof FrameDecodeReason.Type

/**
 * Bytes from the peer that are not a valid remoting frame. Java closes the connection on any of
 * these (no error reply); so does the channel.
 *
 * @since 0.1.0
 * @category errors
 */
export class FrameDecodeError extends Schema.TaggedError<FrameDecodeError>()("FrameDecodeError", {
  reason: FrameDecodeReason,
  message: Schema.String
}) {}

/**
 * A typed custom header could not be encoded to, or decoded from, `extFields`.
 *
 * @since 0.1.0
 * @category errors
 */
export class HeaderError extends Schema.TaggedError<HeaderError>()("HeaderError", {
  header: Schema.String,
  direction: Schema.Literals(["decode", "encode"]),
  detail: Schema.String
}) {
  override get message(): string {
    return this.direction === "decode"
      ? `Cannot read header ${this.header} from extFields: ${this.detail}`
      : `Cannot write header ${this.header} to extFields: ${this.detail}`
  }
}
