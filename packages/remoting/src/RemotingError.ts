/**
 * Every way a remoting operation can fail, as `Schema.TaggedError` classes.
 *
 * Each error says what happened and what to do about it in its `message`, and carries the address,
 * request code and opaque where they apply. Nothing in this package throws: these values travel in
 * the error channel of an `Effect`.
 *
 * Every error also answers the caller's next two questions (see {@link Classified}):
 *
 * - `isRetryable`: sending the same request again — later, or to another address — may succeed;
 * - `mayHaveReachedPeer`: false only when the request provably never left this process, so it is
 *   safe to send it elsewhere; true when it was written, or its fate is unknown.
 *
 * The "closed" family says who closed what: a channel closes because of a {@link CloseReason}
 * ({@link ClosedByPeer}, {@link ConnectionReset}, {@link FrameDecodeError}, {@link ClosedLocally});
 * a request on it fails with {@link ChannelClosed} carrying that reason and whether its frame had
 * been written; a client used after its scope closed fails with {@link RemotingClientShutDown}.
 *
 * The package README has the whole taxonomy as one table. The classes stay in this one module on
 * purpose (it is longer than the others): one place to read every failure and its two answers.
 *
 * @since 0.1.0
 */
import { Cause, Schema } from "effect"
import * as TlsProblem from "./internal/tlsProblem.ts"

/**
 * What every error of this package (and of `@effect-rocketmq/client`) tells about the request that
 * failed.
 *
 * @since 0.1.0
 * @category models
 */
export interface Classified {
  /** Sending the same request again — later, or to another address — may succeed. */
  readonly isRetryable: boolean
  /**
   * False only when the request provably never left this process (safe to send elsewhere); true
   * when it was written or its fate is unknown.
   */
  readonly mayHaveReachedPeer: boolean
}

/**
 * Whether sending the same request again — later, or to another address — may succeed.
 *
 * @since 0.1.0
 * @category guards
 */
export const isRetryable = (error: Classified): boolean => error.isRetryable

/**
 * Whether the peer may have seen the request that failed with `error`: false only when it provably
 * never left this process (then it is safe to send it elsewhere).
 *
 * @since 0.1.0
 * @category guards
 */
export const mayHaveReachedPeer = (error: Classified): boolean => error.mayHaveReachedPeer

/**
 * The longest text {@link describeCause} returns: the length of a SYSTEM_ERROR remark.
 *
 * @since 0.1.0
 * @category constants
 */
export const DESCRIPTION_MAX_LENGTH = 256

const safeString = (u: unknown): string => {
  try {
    return typeof u === "string" ? u : JSON.stringify(u) ?? String(u)
  } catch {
    return String(u)
  }
}

/**
 * A short description of a failure, as Java's `exceptionSimpleDesc`: the error's tag (or name) and
 * its message, at most {@link DESCRIPTION_MAX_LENGTH} characters (cut with "..."). The remark of a
 * SYSTEM_ERROR answer, and the `detail` of errors that wrap a foreign failure (a hook, a channel
 * factory).
 *
 * @since 0.1.0
 * @category formatting
 */
export const describeCause = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  let text: string
  if (typeof error === "object" && error !== null) {
    const tag = (error as { _tag?: unknown })._tag
    const name = typeof tag === "string" ? tag : (error as { name?: unknown }).name
    const message = (error as { message?: unknown }).message
    text = typeof message === "string" && message.length > 0
      ? (typeof name === "string" ? `${name}: ${message}` : message)
      : typeof name === "string"
      ? name
      : safeString(error)
  } else {
    text = safeString(error)
  }
  return text.length > DESCRIPTION_MAX_LENGTH ? text.slice(0, DESCRIPTION_MAX_LENGTH - 3) + "..." : text
}

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
 * these (no error reply); so does the channel, and this is then its close reason.
 *
 * Not retryable (the peer does not speak this protocol, or not on this port); says nothing about a
 * request reaching the peer (`mayHaveReachedPeer` false: a request on the channel learns from
 * {@link ChannelClosed.written}).
 *
 * @since 0.1.0
 * @category errors
 */
export class FrameDecodeError extends Schema.TaggedError<FrameDecodeError>()("FrameDecodeError", {
  reason: FrameDecodeReason,
  message: Schema.String
}) {
  /** False: the same bytes would come again. */
  get isRetryable(): boolean {
    return false
  }
  /** False: this error is about bytes received, not a request sent. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
}

/**
 * A typed custom header could not be encoded to, or decoded from, `extFields`. Not retryable (the
 * same fields fail the same way); never reached the peer (it happens before sending, or on a
 * response already received).
 *
 * @since 0.1.0
 * @category errors
 */
export class HeaderError extends Schema.TaggedError<HeaderError>()("HeaderError", {
  header: Schema.String,
  direction: Schema.Literals(["decode", "encode"]),
  detail: Schema.String
}) {
  /** False: the same fields fail the same way. */
  get isRetryable(): boolean {
    return false
  }
  /** False: encoding fails before anything is sent. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
  override get message(): string {
    return this.direction === "decode"
      ? `Cannot read header ${this.header} from extFields: ${this.detail}`
      : `Cannot write header ${this.header} to extFields: ${this.detail}`
  }
}

/**
 * A close reason: the peer ended the connection (TCP FIN / end of stream).
 *
 * Retryable (on a new connection); `mayHaveReachedPeer` is true because a close reason alone does
 * not know about any request — a request on the channel fails with {@link ChannelClosed}, whose
 * `written` flag is exact.
 *
 * @since 0.1.0
 * @category errors
 */
export class ClosedByPeer extends Schema.TaggedError<ClosedByPeer>()("ClosedByPeer", {
  address: Schema.String,
  /** True when the peer closed without ever sending a byte, after we had written to it. */
  silent: Schema.optionalKey(Schema.Boolean)
}) {
  /** True: a new connection may succeed. */
  get isRetryable(): boolean {
    return true
  }
  /** True: unknown at this level (see {@link ChannelClosed.written}). */
  get mayHaveReachedPeer(): boolean {
    return true
  }
  override get message(): string {
    return `${this.address} closed the connection. Requests in flight were not answered; the next request ` +
      "needs a new connection." +
      (this.silent === true
        ? " It closed without sending a single byte after our first request: if it expects TLS on this port, " +
          "enable TLS for the connection (a plaintext request to a TLS port is dropped this way)."
        : "")
  }
}

/**
 * A close reason: the connection failed under us — reset by the peer (RST), or another socket
 * error. Retryable (on a new connection); `mayHaveReachedPeer` true (unknown at this level, see
 * {@link ChannelClosed.written}).
 *
 * @since 0.1.0
 * @category errors
 */
export class ConnectionReset extends Schema.TaggedError<ConnectionReset>()("ConnectionReset", {
  address: Schema.String,
  /** The socket error code (`ECONNRESET`, `EPIPE`, …) or description. */
  detail: Schema.String
}) {
  /** True: a new connection may succeed. */
  get isRetryable(): boolean {
    return true
  }
  /** True: unknown at this level (see {@link ChannelClosed.written}). */
  get mayHaveReachedPeer(): boolean {
    return true
  }
  override get message(): string {
    return `The connection to ${this.address} failed (${this.detail}). Requests in flight were not answered; ` +
      "the next request needs a new connection."
  }
}

/**
 * A close reason: this side closed the channel — its scope closed, or `close` was called (the
 * client does so for a channel it evicts). Retryable (on a new channel); `mayHaveReachedPeer` true
 * (unknown at this level, see {@link ChannelClosed.written}).
 *
 * @since 0.1.0
 * @category errors
 */
export class ClosedLocally extends Schema.TaggedError<ClosedLocally>()("ClosedLocally", {
  address: Schema.String
}) {
  override get message(): string {
    return `The channel to ${this.address} was closed on this side (its scope closed or it was closed on purpose).`
  }
  /** True: a new channel may succeed. */
  get isRetryable(): boolean {
    return true
  }
  /** True: unknown at this level (see {@link ChannelClosed.written}). */
  get mayHaveReachedPeer(): boolean {
    return true
  }
}

/**
 * Why a channel closed: the first of these to happen wins and is kept.
 *
 * @since 0.1.0
 * @category models
 */
export const CloseReason = Schema.Union([ClosedByPeer, ConnectionReset, FrameDecodeError, ClosedLocally])

/**
 * @since 0.1.0
 * @category models
 */
export type CloseReason = ClosedByPeer | ConnectionReset | FrameDecodeError | ClosedLocally

/**
 * A connection could not be opened. Nothing was sent. Retryable — later or elsewhere — except with
 * reason `NoAddress` (no address configured: trying again cannot help).
 *
 * Reason `Tls`: the TCP connection opened but the TLS handshake failed; `detail` is Node's code
 * (`UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `CERT_HAS_EXPIRED`, `ERR_TLS_CERT_ALTNAME_INVALID`, …, or
 * `ECONNRESET` when the peer hung up during the handshake: a plaintext port) and the message says
 * in words what is wrong with the certificate or the port. Still retryable: another address may
 * present a valid certificate.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConnectError extends Schema.TaggedError<ConnectError>()("ConnectError", {
  /** `host:port`, or `""` when no address was configured. */
  address: Schema.String,
  reason: Schema.Literals(["NoAddress", "Timeout", "Refused", "Failed", "Tls"]),
  detail: Schema.String
}) {
  /** True, except for `NoAddress`. */
  get isRetryable(): boolean {
    return this.reason !== "NoAddress"
  }
  /** False: there was no connection to send on. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
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
      case "Tls":
        return `Cannot connect to ${this.address} over TLS: ${TlsProblem.describe(this.detail)}`
    }
  }
}

/**
 * Whether `error` is (or, for a {@link ConnectBackoff}, was last) a failed TLS handshake: the
 * address is right and the peer is up, so advice about addresses and running servers is wrong.
 *
 * @since 0.1.0
 * @category guards
 */
export const isTlsFailure = (error: ConnectError | ConnectBackoff): boolean =>
  (error._tag === "ConnectError" ? error : error.lastError).reason === "Tls"

/**
 * Why a request could not be handed to the socket.
 *
 * @since 0.1.0
 * @category models
 */
export const SendFailureReason = Schema.Literals(["QueueFull", "FrameTooLarge"])

/**
 * A request could not be enqueued: the send queue stayed full until the deadline (`QueueFull`:
 * retryable), or the frame exceeds the maximum frame length (`FrameTooLarge`: not retryable). The
 * request never reached the peer. (An offer to a closed channel fails with {@link ChannelClosed}.)
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
    }
  }
  /** True for `QueueFull` (the queue drains), false for `FrameTooLarge` (the frame stays too large). */
  get isRetryable(): boolean {
    return this.reason === "QueueFull"
  }
  /** False: the frame was never queued. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
}

/**
 * No response arrived before the request's deadline. The entry was removed; a late response is
 * dropped as unmatched. Retryable; may have reached the peer exactly when `written`.
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
        : "The request was never written, so the peer never saw it.")
  }
  /** True: the peer or the network may be faster next time. */
  get isRetryable(): boolean {
    return true
  }
  /** Whether the frame had been written (`written`). */
  get mayHaveReachedPeer(): boolean {
    return this.written
  }
}

/**
 * The channel the request was on closed while it was pending, or was already closed when it was
 * offered; `cause` says who closed it and why. Retryable (on a new channel); may have reached the
 * peer exactly when `written`.
 *
 * @since 0.1.0
 * @category errors
 */
export class ChannelClosed extends Schema.TaggedError<ChannelClosed>()("ChannelClosed", {
  address: Schema.String,
  requestCode: Schema.Number,
  opaque: Schema.Number,
  cause: CloseReason,
  /** Whether the frame had been written before the close: if so the peer may have processed it. */
  written: Schema.Boolean
}) {
  override get message(): string {
    return `Request code=${this.requestCode} opaque=${this.opaque} to ${this.address} failed: the channel closed ` +
      `${this.written ? "after the request was written" : "before the request was written"}. ` + this.cause.message
  }
  /** True: a new channel may succeed. */
  get isRetryable(): boolean {
    return true
  }
  /** Whether the frame had been written (`written`): a request still queued never left. */
  get mayHaveReachedPeer(): boolean {
    return this.written
  }
}

/**
 * What a request on a channel can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type ChannelError = ChannelSendRequestFailed | RequestTimeout | ChannelClosed

// -------------------------------------------------------------------------------------------------
// RemotingClient errors: addresses, name servers, permits, GO_AWAY, hooks
// -------------------------------------------------------------------------------------------------

/**
 * An address that is not `host:port` or `[ipv6]:port`: missing or out-of-range port, an IPv6
 * address without brackets, characters no host name has. `input` is the text as given. Not
 * retryable; nothing was sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidAddress extends Schema.TaggedError<InvalidAddress>()("InvalidAddress", {
  input: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `Invalid address ${JSON.stringify(this.input)}: ${this.detail}. Write host:port, e.g. 127.0.0.1:9876, ` +
      "broker-a:10911 or [::1]:9876 (name servers: several separated by ';')."
  }
  /** False: the same text fails the same way. */
  get isRetryable(): boolean {
    return false
  }
  /** False: nothing was sent. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
}

/**
 * A name server call with no name server address configured (Java's "connect to <null> failed").
 * Not retryable until the configuration changes; nothing was sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class NoNameServerAddress extends Schema.TaggedError<NoNameServerAddress>()("NoNameServerAddress", {
  requestCode: Schema.Number
}) {
  override get message(): string {
    return `Cannot send request code=${this.requestCode} to a name server: no name server address configured. ` +
      "Set ROCKETMQ_NAMESRV_ADDR (e.g. 127.0.0.1:9876; several separated by ';') or pass nameServerAddresses " +
      "to the RemotingClient."
  }
  /** False: configure name servers first. */
  get isRetryable(): boolean {
    return false
  }
  /** False: nothing was sent. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
}

/**
 * A call to an address whose recent connect attempts failed, made while the client waits before
 * the next attempt (reconnects back off so that a down peer sees one attempt at a time). Nothing
 * was sent; `lastError` is the failure of the latest attempt. Retryable (after `retryInMillis`,
 * or elsewhere).
 *
 * @since 0.1.0
 * @category errors
 */
export class ConnectBackoff extends Schema.TaggedError<ConnectBackoff>()("ConnectBackoff", {
  address: Schema.String,
  /** Connect attempts that failed in a row. */
  failures: Schema.Number,
  /** Time until the next attempt is allowed. */
  retryInMillis: Schema.Number,
  lastError: ConnectError
}) {
  override get message(): string {
    return `Not connecting to ${this.address} for another ${this.retryInMillis} ms: the last ${this.failures} ` +
      `attempt(s) failed (${this.lastError.message}) ` +
      (this.lastError.reason === "Tls"
        ? "The client retries on its own, but the TLS problem above will not go away by itself."
        : "Check that the peer is running; the client retries on its own.")
  }
  /** True: after `retryInMillis`, or at another address. */
  get isRetryable(): boolean {
    return true
  }
  /** False: nothing was sent. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
}

/**
 * Not one configured name server could be connected to within the call's budget; `errors` holds
 * what happened with each address tried, in order. Retryable; nothing was sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class NameServerUnavailable extends Schema.TaggedError<NameServerUnavailable>()("NameServerUnavailable", {
  requestCode: Schema.Number,
  errors: Schema.Array(Schema.Union([ConnectError, ConnectBackoff]))
}) {
  override get message(): string {
    const tried = this.errors.map((error) => error.message).join(" | ")
    // Name servers that failed the TLS handshake are up and at the right address: say so.
    return this.errors.length > 0 && this.errors.every(isTlsFailure)
      ? `Request code=${this.requestCode} was not sent: no name server accepted a TLS connection (${tried}). ` +
        "Fix the TLS settings as said above."
      : `Request code=${this.requestCode} was not sent: no name server could be reached (${tried}). Check ` +
        "ROCKETMQ_NAMESRV_ADDR and that the name servers are running."
  }
  /** True: a name server may be back later. */
  get isRetryable(): boolean {
    return true
  }
  /** False: nothing was sent. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
}

/**
 * Every permit of the client's invoke (Java: async) or oneway semaphore stayed taken for the whole
 * timeout of the call: too many requests are in flight. Nothing was sent. Retryable.
 *
 * @since 0.1.0
 * @category errors
 */
export class TooManyRequests extends Schema.TaggedError<TooManyRequests>()("TooManyRequests", {
  address: Schema.String,
  requestCode: Schema.Number,
  kind: Schema.Literals(["invoke", "oneway"]),
  permits: Schema.Number,
  timeoutMillis: Schema.Number
}) {
  override get message(): string {
    return `Request code=${this.requestCode} to ${this.address} was not sent: all ${this.permits} ${this.kind} ` +
      `permits stayed in use for ${this.timeoutMillis} ms (too many requests in flight). Slow down, give the call ` +
      `more time, or raise ${this.kind === "invoke" ? "invokePermits" : "onewayPermits"}.`
  }
  /** True: permits come back as calls end. */
  get isRetryable(): boolean {
    return true
  }
  /** False: nothing was sent. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
}

/**
 * The peer answered `GO_AWAY` (1500): it is shutting down and did not process the request. With
 * reconnect-on-GO_AWAY on, the client already reconnected and retried once (`retried`). Retryable
 * (later or elsewhere); `mayHaveReachedPeer` false: the peer refused it unprocessed.
 *
 * @since 0.1.0
 * @category errors
 */
export class GoAway extends Schema.TaggedError<GoAway>()("GoAway", {
  address: Schema.String,
  requestCode: Schema.Number,
  retried: Schema.Boolean
}) {
  override get message(): string {
    return this.retried
      ? `${this.address} answered GO_AWAY (shutting down) to request code=${this.requestCode}, and again after a ` +
        "reconnect and one retry. The request was not processed; retry later or against another server."
      : `${this.address} answered GO_AWAY (shutting down) to request code=${this.requestCode}; reconnecting on ` +
        "GO_AWAY is off. The request was not processed; retry later or against another server."
  }
  /** True: later, or against another server. */
  get isRetryable(): boolean {
    return true
  }
  /** False: the peer answered that it did not process the request. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
}

/**
 * An RPC hook failed (or threw). For `beforeRequest` nothing was sent; for `afterResponse` the
 * peer processed the request and its response is lost. Not retryable (the hook fails the same
 * way); `mayHaveReachedPeer` is true for `afterResponse` only.
 *
 * @since 0.1.0
 * @category errors
 */
export class RpcHookFailed extends Schema.TaggedError<RpcHookFailed>()("RpcHookFailed", {
  hook: Schema.String,
  phase: Schema.Literals(["beforeRequest", "afterResponse"]),
  address: Schema.String,
  requestCode: Schema.Number,
  detail: Schema.String
}) {
  override get message(): string {
    return `RPC hook ${JSON.stringify(this.hook)} failed in ${this.phase} for request code=${this.requestCode} to ` +
      `${this.address}: ${this.detail}.` +
      (this.phase === "beforeRequest" ? " The request was not sent." : " The peer did process the request.")
  }
  /** False: the hook would fail the same way. */
  get isRetryable(): boolean {
    return false
  }
  /** True in `afterResponse` (the peer answered), false in `beforeRequest` (nothing was sent). */
  get mayHaveReachedPeer(): boolean {
    return this.phase === "afterResponse"
  }
}

/**
 * The `RemotingClient` was used after its scope closed (its channels are closed). Not retryable
 * with this client; nothing was sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class RemotingClientShutDown extends Schema.TaggedError<RemotingClientShutDown>()("RemotingClientShutDown", {
  address: Schema.String,
  requestCode: Schema.Number
}) {
  override get message(): string {
    return `Request code=${this.requestCode} to ${this.address} was not sent: the RemotingClient is shut down (its ` +
      "scope closed). Use a client whose layer is still alive."
  }
  /** False: this client stays shut down. */
  get isRetryable(): boolean {
    return false
  }
  /** False: nothing was sent. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
}
