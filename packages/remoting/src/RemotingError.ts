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

/**
 * The peer closed the connection (TCP FIN / end of stream).
 *
 * @since 0.1.0
 * @category errors
 */
export class PeerClosed extends Schema.TaggedError<PeerClosed>()("PeerClosed", {
  address: Schema.String
}) {
  override get message(): string {
    return `${this.address} closed the connection. Requests in flight were not answered; the next request ` +
      "needs a new connection."
  }
}

/**
 * The connection failed under us: reset by the peer (RST), or another socket error.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConnectionReset extends Schema.TaggedError<ConnectionReset>()("ConnectionReset", {
  address: Schema.String,
  /** The socket error code (`ECONNRESET`, `EPIPE`, …) or description. */
  detail: Schema.String
}) {
  override get message(): string {
    return `The connection to ${this.address} failed (${this.detail}). Requests in flight were not answered; ` +
      "the next request needs a new connection."
  }
}

/**
 * The channel was shut down on our side: its scope closed or it was closed on purpose.
 *
 * @since 0.1.0
 * @category errors
 */
export class ChannelShutdown extends Schema.TaggedError<ChannelShutdown>()("ChannelShutdown", {
  address: Schema.String
}) {
  override get message(): string {
    return `The channel to ${this.address} was shut down (its scope closed).`
  }
}

/**
 * Why a channel closed: the first of these to happen wins and is kept.
 *
 * @since 0.1.0
 * @category models
 */
export const CloseReason = Schema.Union([PeerClosed, ConnectionReset, FrameDecodeError, ChannelShutdown])

/**
 * @since 0.1.0
 * @category models
 */
export type CloseReason = PeerClosed | ConnectionReset | FrameDecodeError | ChannelShutdown

/**
 * A connection could not be opened.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConnectError extends Schema.TaggedError<ConnectError>()("ConnectError", {
  /** `host:port`, or `""` when no address was configured. */
  address: Schema.String,
  reason: Schema.Literals(["NoAddress", "Timeout", "Refused", "Failed"]),
  detail: Schema.String
}) {
  override get message(): string {
    switch (this.reason) {
      case "NoAddress":
        return "Cannot connect: no address configured. Give a host and port (for a name server, e.g. " +
          "ROCKETMQ_NAMESRV_ADDR=127.0.0.1:9876)."
      case "Timeout":
        return `Cannot connect to ${this.address}: no answer within ${this.detail}. Check that the host is ` +
          "reachable and the port is right."
      case "Refused":
        return `Cannot connect to ${this.address}: connection refused. Check that the name server or broker is ` +
          "running and listening on that port."
      case "Failed":
        return `Cannot connect to ${this.address}: ${this.detail}.`
    }
  }
}

/**
 * Why a request could not be handed to the socket.
 *
 * @since 0.1.0
 * @category models
 */
export const SendFailureReason = Schema.Literals(["QueueFull", "FrameTooLarge", "Closed"])

/**
 * A request could not be enqueued or written: the send queue stayed full until the deadline, the
 * frame exceeds the maximum frame length, or the channel was already closed when it was offered.
 * The request never reached the peer.
 *
 * @since 0.1.0
 * @category errors
 */
export class ChannelSendRequestFailed extends Schema.TaggedError<ChannelSendRequestFailed>()(
  "ChannelSendRequestFailed",
  {
    address: Schema.String,
    requestCode: Schema.Number,
    opaque: Schema.Number,
    reason: SendFailureReason,
    detail: Schema.String
  }
) {
  override get message(): string {
    const what = `Request code=${this.requestCode} opaque=${this.opaque} to ${this.address} was not sent`
    switch (this.reason) {
      case "QueueFull":
        return `${what}: the send queue stayed full (${this.detail}). The peer is not reading fast enough or ` +
          "too many requests are in flight; slow down or raise the queue capacity."
      case "FrameTooLarge":
        return `${what}: ${this.detail}. Split the body or raise maxFrameLength on both sides.`
      case "Closed":
        return `${what}: the channel is closed (${this.detail}). Open a new channel.`
    }
  }
}

/**
 * No response arrived before the request's deadline. The entry was removed; a late response is
 * dropped as unmatched.
 *
 * @since 0.1.0
 * @category errors
 */
export class RequestTimeout extends Schema.TaggedError<RequestTimeout>()("RequestTimeout", {
  address: Schema.String,
  requestCode: Schema.Number,
  opaque: Schema.Number,
  timeoutMillis: Schema.Number,
  /** Whether the frame had been written to the socket: if so the peer may have processed it. */
  written: Schema.Boolean
}) {
  override get message(): string {
    return `No response to request code=${this.requestCode} opaque=${this.opaque} from ${this.address} within ` +
      `${this.timeoutMillis} ms. ` +
      (this.written
        ? "The request had been written, so the peer may still have processed it."
        : "The request was never written (the send queue did not drain in time), so the peer never saw it.")
  }
}

/**
 * The channel closed while the request was pending (or before it could be sent); `cause` says why.
 *
 * @since 0.1.0
 * @category errors
 */
export class ChannelClosed extends Schema.TaggedError<ChannelClosed>()("ChannelClosed", {
  address: Schema.String,
  requestCode: Schema.Number,
  opaque: Schema.Number,
  cause: CloseReason
}) {
  override get message(): string {
    return `Request code=${this.requestCode} opaque=${this.opaque} to ${this.address} failed: the channel closed. ` +
      this.cause.message
  }
}

/**
 * What a request on a channel can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type ChannelError = ChannelSendRequestFailed | RequestTimeout | ChannelClosed
