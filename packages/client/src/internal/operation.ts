/**
 * What every typed operation does the same way: build the request's ext fields from a typed
 * header, send it to a broker address or to the name servers, and turn the response into a value
 * or a typed error.
 *
 * @internal
 */
import { type Header, RemotingClient, RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import { InvalidRequest, ResponseDecodeError } from "../ClientError.ts"
import * as ClientError from "../ClientError.ts"

/** @internal: `""` means "the configured name servers". */
export type Address = string

/** @internal */
export const NAME_SERVER: Address = ""

/** @internal */
export const encodeHeader = <F extends Header.Fields>(
  header: Header.Header<F>,
  value: Header.Header<F>["schema"]["Type"],
  operation: string
): Effect.Effect<RemotingCommand.ExtFields, InvalidRequest> =>
  Effect.mapError(header.encode(value), (error) => new InvalidRequest({ operation, detail: error.message }))

/** @internal */
export const decodeHeader = <F extends Header.Fields>(
  header: Header.Header<F>,
  address: Address,
  requestCode: number,
  response: RemotingCommand.RemotingCommand
): Effect.Effect<Header.Header<F>["schema"]["Type"], ResponseDecodeError> =>
  Effect.mapError(header.decode(response.extFields), (error) =>
    new ResponseDecodeError({
      address,
      requestCode,
      requestName: RequestCode.name(requestCode),
      part: "header",
      detail: error.message
    }))

/** @internal */
export const bodyError = (address: Address, requestCode: number, detail: string): ResponseDecodeError =>
  new ResponseDecodeError({ address, requestCode, requestName: RequestCode.name(requestCode), part: "body", detail })

/** @internal: reads a response body with `decode`; any failure is the operation's ResponseDecodeError. */
export const decodeBody = <A>(
  address: Address,
  requestCode: number,
  decode: (body: Uint8Array | undefined) => Effect.Effect<A, { readonly message: string }>,
  body: Uint8Array | undefined
): Effect.Effect<A, ResponseDecodeError> => Effect.mapError(decode(body), (error) => bodyError(address, requestCode, error.message))

/** @internal: sends `request` and waits for the response. */
export const invoke = (
  address: Address,
  request: RemotingCommand.RemotingCommand,
  timeoutMillis: number | undefined
): Effect.Effect<RemotingCommand.RemotingCommand, RemotingClient.RemotingClientError, RemotingClient.RemotingClient> =>
  RemotingClient.RemotingClient.use((client) =>
    address === NAME_SERVER
      ? client.invokeNameServer(request, timeoutMillis)
      : client.invoke(address, request, timeoutMillis)
  )

/** @internal: sends `request` oneway: no response is awaited, so no broker-side error is seen. */
export const invokeOneway = (
  address: Address,
  request: RemotingCommand.RemotingCommand,
  timeoutMillis: number | undefined
): Effect.Effect<void, RemotingClient.RemotingClientError, RemotingClient.RemotingClient> =>
  RemotingClient.RemotingClient.use((client) => client.invokeOneway(address, request, timeoutMillis))

/**
 * @internal: the timeouts the Java client gives each kind of call, used as the operations'
 * defaults (a caller's `timeoutMillis` overrides them).
 */
export const JavaTimeout = {
  /** `ClientConfig.mqClientApiTimeout`: unregister, consumer list, route and cluster queries. */
  CLIENT_API: 3000,
  /** `DefaultMQProducer.sendMsgTimeout`: END_TRANSACTION. */
  SEND: 3000,
  /** The push consumer's offset store and send-back: query/update consumer offset, CONSUMER_SEND_MSG_BACK. */
  CONSUMER: 5000,
  /** `MQAdminImpl`: min/max offset, search by timestamp. */
  ADMIN_IMPL: 6000,
  /** `DefaultMQAdminExt`: topics, subscription groups, stats. */
  ADMIN_EXT: 5000,
  /** Orderly consumption: LOCK_BATCH_MQ / UNLOCK_BATCH_MQ. */
  LOCK: 1000
} as const

/** @internal: succeeds on SUCCESS (0); any other code is the operation's typed error. */
export const expectSuccess = (
  address: Address,
  request: RemotingCommand.RemotingCommand,
  response: RemotingCommand.RemotingCommand,
  topic?: string | undefined
): Effect.Effect<void, ClientError.RemoteError | ClientError.TopicNotExist> =>
  response.code === ResponseCode.SUCCESS
    ? Effect.void
    : Effect.fail(ClientError.fromResponse(address, request.code, response, topic))

/** @internal: the typed error for a response code the operation does not accept. */
export const unexpected = (
  address: Address,
  request: RemotingCommand.RemotingCommand,
  response: RemotingCommand.RemotingCommand
): ClientError.RemoteError =>
  new ClientError.RemoteError({
    address,
    requestCode: request.code,
    requestName: RequestCode.name(request.code),
    responseCode: response.code,
    responseName: ResponseCode.name(response.code),
    remark: response.remark
  })

/** @internal: as {@link unexpected}, but TOPIC_NOT_EXIST becomes {@link ClientError.TopicNotExist}. */
export const unexpectedForTopic = (
  address: Address,
  request: RemotingCommand.RemotingCommand,
  response: RemotingCommand.RemotingCommand,
  topic: string
): ClientError.RemoteError | ClientError.TopicNotExist => ClientError.fromResponse(address, request.code, response, topic)
