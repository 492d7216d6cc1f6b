/**
 * Every way a typed RocketMQ operation can fail, besides the transport failures of the remoting
 * client (connect, send, timeout, close), which pass through unchanged.
 *
 * - {@link RemoteError}: the server answered with a response code the operation does not treat as
 *   success. It carries the request code, the response code, both Java names and the server's remark.
 * - {@link TopicNotExist}: the same, for `TOPIC_NOT_EXIST` (17), with the topic: callers usually
 *   want to catch this one alone (create the topic, or report it).
 * - {@link ResponseDecodeError}: a success response whose header or body could not be read.
 * - {@link InvalidRequest}: the arguments cannot be turned into a request (out-of-range numbers,
 *   properties too long); nothing was sent.
 * - {@link MessageDecodeError}, {@link MessageEncodeError}, {@link PropertiesError},
 *   {@link JsonParseError}, {@link BodyDecodeError}: failures of the pure codecs.
 *
 * Each error says what happened and what to do in its `message`. Nothing here throws. Like the
 * remoting errors, each one answers `isRetryable` (sending the same request again — later, or to
 * another address — may succeed) and `mayHaveReachedPeer` (false only when the request provably
 * never left this process); `RemotingError.isRetryable` / `RemotingError.mayHaveReachedPeer` read
 * them from any error of either package.
 *
 * @since 0.1.0
 */
import { RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Schema } from "effect"

const where = (address: string): string => (address === "" ? "the name server" : address)

const withRemark = (remark: string | undefined): string =>
  remark === undefined || remark.trim() === "" ? "" : `: ${JSON.stringify(remark.trim())}`

/**
 * NO_PERMISSION (16) comes from the topic's perm bits or, on a broker with authentication or
 * authorization on, from the auth pipeline, whose remarks name the problem: say it in words.
 */
const noPermissionAdvice = (remark: string | undefined): string => {
  const text = remark ?? ""
  if (text.includes("check signature failed")) {
    return "The request's signature does not match: the secret key is not the password of the access key's user."
  }
  if (/username cannot be null/.test(text)) {
    return "The broker requires authentication and the request was not signed: give the client credentials " +
      "(the AclSigner hook, ROCKETMQ_ACCESS_KEY / ROCKETMQ_SECRET_KEY)."
  }
  if (/User:.* (is )?not found/.test(text)) {
    return "The broker knows no user with this access key: create the user (AuthAdmin.createUser) or fix the access key."
  }
  if (/is disabled/.test(text)) return "The access key's user is disabled on the broker."
  if (text.includes("has no permission to access")) {
    return "The user's ACL does not allow this action on this resource: add an entry for it (AuthAdmin.createAcl)."
  }
  return "Check the topic's permissions (perm) and the ACL credentials."
}

const advice = (responseCode: number, remark?: string | undefined): string => {
  switch (responseCode) {
    case ResponseCode.SYSTEM_BUSY:
    case ResponseCode.FLOW_CONTROL:
    case ResponseCode.POLLING_FULL:
      return "The server is overloaded; retry after a short pause."
    case ResponseCode.GO_AWAY:
      return "The server is shutting down; retry against another server or after it restarts."
    case ResponseCode.REQUEST_CODE_NOT_SUPPORTED:
      return "The server does not implement this request: check that the address points to the right kind of " +
        "server (name server or broker) and that its version supports the request."
    case ResponseCode.SERVICE_NOT_AVAILABLE:
      return "The broker cannot serve it now: it may be a slave, shutting down, or its disk may be more than 90% full."
    case ResponseCode.NO_PERMISSION:
      return noPermissionAdvice(remark)
    case ResponseCode.MESSAGE_ILLEGAL:
      return "Check the topic name, the body size (at most 4 MiB by default) and the properties."
    case ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST:
      return "Create the consumer group first (Admin.createSubscriptionGroup, or `rmq group create`), or enable " +
        "autoCreateSubscriptionGroup on the broker."
    case ResponseCode.SUBSCRIPTION_NOT_EXIST:
    case ResponseCode.SUBSCRIPTION_NOT_LATEST:
      return "Send the subscription with the pull (sysFlag bit 4), or register it with a heartbeat first."
    case ResponseCode.INVALID_PARAMETER:
      return "A request field was rejected; the remark names it."
    default:
      return "The remark above is the server's explanation."
  }
}

/**
 * The response codes on which Java's producer sends the message again, to another broker:
 * TOPIC_NOT_EXIST (17), SERVICE_NOT_AVAILABLE (14), SYSTEM_ERROR (1), SYSTEM_BUSY (2),
 * NO_PERMISSION (16), NO_BUYER_ID (204), NOT_IN_CURRENT_UNIT (205) and GO_AWAY (1500).
 *
 * @since 0.1.0
 * @category constants
 */
export const RETRY_RESPONSE_CODES: ReadonlySet<number> = new Set([
  ResponseCode.TOPIC_NOT_EXIST,
  ResponseCode.SERVICE_NOT_AVAILABLE,
  ResponseCode.SYSTEM_ERROR,
  ResponseCode.SYSTEM_BUSY,
  ResponseCode.NO_PERMISSION,
  ResponseCode.NO_BUYER_ID,
  ResponseCode.NOT_IN_CURRENT_UNIT,
  ResponseCode.GO_AWAY
])

/**
 * Whether a request answered with `responseCode` may succeed if sent again: a code of
 * {@link RETRY_RESPONSE_CODES}, or one of the two overload answers that only ask the caller to
 * wait (FLOW_CONTROL 215, POLLING_FULL 209).
 *
 * @since 0.1.0
 * @category guards
 */
export const isRetryableResponseCode = (responseCode: number): boolean =>
  RETRY_RESPONSE_CODES.has(responseCode) || responseCode === ResponseCode.FLOW_CONTROL ||
  responseCode === ResponseCode.POLLING_FULL

/**
 * The server answered with a response code that the operation does not treat as success.
 *
 * `address` is the server's `host:port`, or `""` when the request went to the configured name
 * servers (any of them). The server saw the request (`mayHaveReachedPeer` true); `isRetryable`
 * follows {@link isRetryableResponseCode}.
 *
 * @since 0.1.0
 * @category errors
 */
export class RemoteError extends Schema.TaggedError<RemoteError>()("RemoteError", {
  address: Schema.String,
  requestCode: Schema.Number,
  requestName: Schema.String,
  responseCode: Schema.Number,
  responseName: Schema.String,
  remark: Schema.UndefinedOr(Schema.String)
}) {
  override get message(): string {
    return `${this.requestName} (code ${this.requestCode}) to ${where(this.address)} failed with ` +
      `${this.responseName} (${this.responseCode})${withRemark(this.remark)}. ${advice(this.responseCode, this.remark)}`
  }

  /** Whether the same request may succeed if sent again, later or to another broker ({@link isRetryableResponseCode}). */
  get isRetryable(): boolean {
    return isRetryableResponseCode(this.responseCode)
  }
  /** True: the server answered. */
  get mayHaveReachedPeer(): boolean {
    return true
  }
}

/**
 * The server answered `TOPIC_NOT_EXIST` (17): the name server has no route for the topic, or the
 * broker does not host it. Retryable (another broker may host it, or it may be created meanwhile,
 * as Java's producer assumes); the server saw the request.
 *
 * @since 0.1.0
 * @category errors
 */
export class TopicNotExist extends Schema.TaggedError<TopicNotExist>()("TopicNotExist", {
  address: Schema.String,
  requestCode: Schema.Number,
  requestName: Schema.String,
  responseCode: Schema.Number,
  responseName: Schema.String,
  remark: Schema.UndefinedOr(Schema.String),
  topic: Schema.String
}) {
  override get message(): string {
    return `${this.requestName} (code ${this.requestCode}) to ${where(this.address)}: topic ` +
      `${JSON.stringify(this.topic)} does not exist (${this.responseName}, ${this.responseCode}). Create it with ` +
      "Admin.createTopic (or enable autoCreateTopicEnable on the broker), then ask again."
  }
  /** True: code 17 is one Java's producer retries on another broker. */
  get isRetryable(): boolean {
    return true
  }
  /** True: the server answered. */
  get mayHaveReachedPeer(): boolean {
    return true
  }
}

/**
 * A success response whose header or body could not be read. Not retryable (the server would answer
 * the same way); the server did process the request.
 *
 * @since 0.1.0
 * @category errors
 */
export class ResponseDecodeError extends Schema.TaggedError<ResponseDecodeError>()("ResponseDecodeError", {
  address: Schema.String,
  requestCode: Schema.Number,
  requestName: Schema.String,
  part: Schema.Literals(["header", "body"]),
  detail: Schema.String
}) {
  override get message(): string {
    return `The ${this.part} of the ${this.requestName} (code ${this.requestCode}) response from ` +
      `${where(this.address)} could not be read: ${this.detail}. The server may run a RocketMQ version this ` +
      "client does not understand."
  }
  /** False: the same answer would come again. */
  get isRetryable(): boolean {
    return false
  }
  /** True: the server processed the request and answered. */
  get mayHaveReachedPeer(): boolean {
    return true
  }
}

/**
 * The arguments of an operation cannot be turned into a request. Nothing was sent; not retryable.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  operation: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `Cannot build the ${this.operation} request: ${this.detail}. Nothing was sent; fix the arguments.`
  }
  /** False: fix the arguments. */
  get isRetryable(): boolean {
    return false
  }
  /** False: nothing was sent. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
}

/**
 * Why message properties could not be encoded.
 *
 * @since 0.1.0
 * @category models
 */
export const PropertiesErrorReason = Schema.Literals(["EmptyName", "EmptyValue", "Separator", "TooLong"])

/**
 * Message properties that the receiver would not read back as given: an empty name or value
 * (Java drops those), a name containing a separator character (`\u0001` or `\u0002`), a value
 * containing `\u0002`, or an encoding longer than the 32,767 bytes a stored message can hold.
 *
 * @since 0.1.0
 * @category errors
 */
export class PropertiesError extends Schema.TaggedError<PropertiesError>()("PropertiesError", {
  reason: PropertiesErrorReason,
  detail: Schema.String
}) {
  override get message(): string {
    return `Cannot encode message properties: ${this.detail}.`
  }  /** False: a pure codec failure; the same input fails the same way. */
  get isRetryable(): boolean {
    return false
  }
  /** False: no request is involved. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
}

/**
 * Why a stored-format message record could not be decoded.
 *
 * @since 0.1.0
 * @category models
 */
export const MessageDecodeReason = Schema.Literals([
  "Truncated",
  "BadMagicCode",
  "BadLength",
  "SizeMismatch",
  "UnsupportedCompression",
  "DecompressFailed"
])

/**
 * Bytes that are not a valid stored-format message record (see `StoredMessage`). `offset` is the
 * position of the record within the decoded buffer.
 *
 * @since 0.1.0
 * @category errors
 */
export class MessageDecodeError extends Schema.TaggedError<MessageDecodeError>()("MessageDecodeError", {
  reason: MessageDecodeReason,
  offset: Schema.Number,
  detail: Schema.String
}) {
  override get message(): string {
    return `Cannot decode the stored message at byte ${this.offset}: ${this.detail}.`
  }  /** False: a pure codec failure; the same input fails the same way. */
  get isRetryable(): boolean {
    return false
  }
  /** False: no request is involved. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
}

/**
 * A message that cannot be written in the stored format (a field does not fit its width).
 *
 * @since 0.1.0
 * @category errors
 */
export class MessageEncodeError extends Schema.TaggedError<MessageEncodeError>()("MessageEncodeError", {
  detail: Schema.String
}) {
  override get message(): string {
    return `Cannot encode the stored message: ${this.detail}.`
  }  /** False: a pure codec failure; the same input fails the same way. */
  get isRetryable(): boolean {
    return false
  }
  /** False: no request is involved. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
}

/**
 * Text that is not JSON, even after quoting fastjson's bare integer keys.
 *
 * @since 0.1.0
 * @category errors
 */
export class JsonParseError extends Schema.TaggedError<JsonParseError>()("JsonParseError", {
  detail: Schema.String
}) {
  override get message(): string {
    return `Not valid JSON: ${this.detail}.`
  }  /** False: a pure codec failure; the same input fails the same way. */
  get isRetryable(): boolean {
    return false
  }
  /** False: no request is involved. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
}

/**
 * A JSON body that parsed but does not have the expected shape (or did not parse at all).
 *
 * @since 0.1.0
 * @category errors
 */
export class BodyDecodeError extends Schema.TaggedError<BodyDecodeError>()("BodyDecodeError", {
  /** The Java class the body should hold, e.g. `TopicRouteData`. */
  body: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `Cannot read a ${this.body} body: ${this.detail}.`
  }  /** False: a pure codec failure; the same input fails the same way. */
  get isRetryable(): boolean {
    return false
  }
  /** False: no request is involved. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
}

/**
 * Builds the error for a response code the operation does not accept: {@link TopicNotExist} for
 * code 17 when the request names a topic, {@link RemoteError} otherwise.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromResponse = (
  address: string,
  requestCode: number,
  response: { readonly code: number; readonly remark: string | undefined },
  topic?: string | undefined
): RemoteError | TopicNotExist => {
  const fields = {
    address,
    requestCode,
    requestName: RequestCode.name(requestCode),
    responseCode: response.code,
    responseName: ResponseCode.name(response.code),
    remark: response.remark
  }
  return response.code === ResponseCode.TOPIC_NOT_EXIST && topic !== undefined
    ? new TopicNotExist({ ...fields, topic })
    : new RemoteError(fields)
}

/**
 * What a typed operation can fail with, besides the remoting client's own errors.
 *
 * @since 0.1.0
 * @category models
 */
export type OperationError = RemoteError | TopicNotExist | ResponseDecodeError | InvalidRequest

/**
 * No usable route for a topic: the name servers know none (and the `TBW102` template route the
 * broker auto-creates topics from is missing too), or the route has no writable queue on a
 * master. Nothing was sent. Retryable: the topic may be created, or a broker may come back.
 *
 * @since 0.1.0
 * @category errors
 */
export class NoRouteInfo extends Schema.TaggedError<NoRouteInfo>()("NoRouteInfo", {
  topic: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `No route for topic ${JSON.stringify(this.topic)}: ${this.detail}. Create the topic on a broker (or ` +
      "enable autoCreateTopicEnable), check that its brokers are up and writable, and that the name server " +
      "addresses are right."
  }

  /** The topic may get a route later (created, broker back). */
  get isRetryable(): boolean {
    return true
  }

  /** Nothing was sent to a broker. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
}

/**
 * A producer or consumer group registered twice on one client instance (Java: "The producer group
 * has been created before"). Brokers know a client by its id, and one id holds each group once.
 *
 * @since 0.1.0
 * @category errors
 */
export class GroupAlreadyRegistered extends Schema.TaggedError<GroupAlreadyRegistered>()("GroupAlreadyRegistered", {
  role: Schema.Literals(["producer", "consumer"]),
  group: Schema.String,
  clientId: Schema.String
}) {
  override get message(): string {
    return `The ${this.role} group ${JSON.stringify(this.group)} is already registered on client ${this.clientId}: ` +
      `a group can have one ${this.role} per client instance. Share the existing one, or use another group name.`
  }

  /** Registering again succeeds only once the other registration is released. */
  get isRetryable(): boolean {
    return false
  }

  /** Registration is local. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
}

/**
 * A body could not be compressed or decompressed with a RocketMQ compression type (see
 * `Compression`). Not retryable: the same bytes fail the same way.
 *
 * @since 0.1.0
 * @category errors
 */
export class CompressionError extends Schema.TaggedError<CompressionError>()("CompressionError", {
  compression: Schema.Literals(["ZLIB", "LZ4", "ZSTD"]),
  operation: Schema.Literals(["compress", "decompress"]),
  detail: Schema.String
}) {
  override get message(): string {
    return `Cannot ${this.operation} the ${this.compression} body: ${this.detail}.`
  }
  /** False: the same bytes fail the same way. */
  get isRetryable(): boolean {
    return false
  }
  /** False: compression happens before sending and after receiving. */
  get mayHaveReachedPeer(): boolean {
    return false
  }
}
