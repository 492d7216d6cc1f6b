/**
 * Name server operations: the route of a topic, the cluster layout, the topic list, and deleting
 * a topic's route.
 *
 * Each is an Effect that needs a {@link RemotingClient.RemotingClient}. By default the request
 * goes to the client's configured name servers (`invokeNameServer`); pass `address` to ask one
 * name server. A response code other than success is a typed error ({@link TopicNotExist} for a
 * topic without a route, {@link RemoteError} otherwise); a body that cannot be read is a
 * {@link ResponseDecodeError}. Transport failures pass through as the client's own errors.
 *
 * | operation | request | response |
 * | --- | --- | --- |
 * | {@link getRouteInfoByTopic} | 105, `topic`, `acceptStandardJsonOnly=true` | 0 + TopicRouteData JSON; 17 = no route |
 * | {@link getBrokerClusterInfo} | 106, no fields | 0 + ClusterInfo JSON (bare integer keys) |
 * | {@link getAllTopicList} | 206, no fields | 0 + TopicList JSON |
 * | {@link getTopicsByCluster} | 224, `cluster` | 0 + TopicList JSON |
 * | {@link deleteTopicInNameServer} | 216, `topic` (+ `clusterName`) | 0 |
 *
 * Timeouts default to the remoting client's, except the two admin calls (5 s, as Java's admin
 * tool). Several name servers each keep their own routes: send the deletion to each (`address`).
 *
 * @since 0.1.0
 */
import { RemotingClient, RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import type { InvalidRequest, RemoteError, ResponseDecodeError, TopicNotExist } from "./ClientError.ts"
import * as Headers from "./Headers.ts"
import * as Op from "./internal/operation.ts"
import * as RouteData from "./RouteData.ts"

/**
 * Where to send a name server request and how long to wait.
 *
 * @since 0.1.0
 * @category models
 */
export interface CallOptions {
  /** One name server's `host:port`; by default the client's configured name servers. */
  readonly address?: string | undefined
  /** Response timeout; by default the client's. */
  readonly timeoutMillis?: number | undefined
}

/**
 * The errors of a name server operation.
 *
 * @since 0.1.0
 * @category models
 */
export type NameServerError = RemoteError | ResponseDecodeError | RemotingClient.RemotingClientError


/**
 * The route of `topic`: its queues per broker group and the brokers' addresses. Asks for standard
 * JSON (`acceptStandardJsonOnly=true`, and the request's version is 479), and still accepts
 * fastjson's bare integer keys from older name servers.
 *
 * @since 0.1.0
 * @category operations
 */
export const getRouteInfoByTopic: (
  topic: string,
  options?: CallOptions
) => Effect.Effect<
  RouteData.TopicRouteData,
  NameServerError | TopicNotExist | InvalidRequest,
  RemotingClient.RemotingClient
> = Effect.fn("NameServer.getRouteInfoByTopic")(function*(topic: string, options?: CallOptions) {
  const address = options?.address ?? Op.NAME_SERVER
  const extFields = yield* Op.encodeHeader(
    Headers.GetRouteInfoRequestHeader,
    { topic, acceptStandardJsonOnly: true },
    "getRouteInfoByTopic"
  )
  const request = RemotingCommand.make({ code: RequestCode.GET_ROUTEINFO_BY_TOPIC, extFields })
  const response = yield* Op.invoke(address, request, options?.timeoutMillis)
  if (response.code !== ResponseCode.SUCCESS) return yield* Op.unexpectedForTopic(address, request, response, topic)
  return yield* Op.decodeBody(address, request.code, RouteData.decodeTopicRouteData, response.body)
})

/**
 * Every broker group and cluster the name server knows.
 *
 * @since 0.1.0
 * @category operations
 */
export const getBrokerClusterInfo: (
  options?: CallOptions
) => Effect.Effect<RouteData.ClusterInfo, NameServerError, RemotingClient.RemotingClient> = Effect.fn(
  "NameServer.getBrokerClusterInfo"
)(function*(options?: CallOptions) {
  const address = options?.address ?? Op.NAME_SERVER
  const request = RemotingCommand.make({ code: RequestCode.GET_BROKER_CLUSTER_INFO })
  const response = yield* Op.invoke(address, request, options?.timeoutMillis)
  if (response.code !== ResponseCode.SUCCESS) return yield* Op.unexpected(address, request, response)
  return yield* Op.decodeBody(address, request.code, RouteData.decodeClusterInfo, response.body)
})

/**
 * Every topic the name server has a route for.
 *
 * @since 0.1.0
 * @category operations
 */
export const getAllTopicList: (
  options?: CallOptions
) => Effect.Effect<RouteData.TopicList, NameServerError, RemotingClient.RemotingClient> = Effect.fn(
  "NameServer.getAllTopicList"
)(function*(options?: CallOptions) {
  const address = options?.address ?? Op.NAME_SERVER
  const request = RemotingCommand.make({ code: RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER })
  const response = yield* Op.invoke(address, request, options?.timeoutMillis)
  if (response.code !== ResponseCode.SUCCESS) return yield* Op.unexpected(address, request, response)
  return yield* Op.decodeBody(address, request.code, RouteData.decodeTopicList, response.body)
})

/**
 * The topics of `cluster` (GET_TOPICS_BY_CLUSTER): those with a queue on any of its brokers.
 *
 * @since 0.1.0
 * @category operations
 */
export const getTopicsByCluster: (
  cluster: string,
  options?: CallOptions
) => Effect.Effect<RouteData.TopicList, NameServerError | InvalidRequest, RemotingClient.RemotingClient> = Effect.fn(
  "NameServer.getTopicsByCluster"
)(function*(cluster: string, options?: CallOptions) {
  const address = options?.address ?? Op.NAME_SERVER
  const extFields = yield* Op.encodeHeader(Headers.GetTopicsByClusterRequestHeader, { cluster }, "getTopicsByCluster")
  const request = RemotingCommand.make({ code: RequestCode.GET_TOPICS_BY_CLUSTER, extFields })
  const response = yield* Op.invoke(address, request, options?.timeoutMillis ?? Op.JavaTimeout.ADMIN_EXT)
  if (response.code !== ResponseCode.SUCCESS) return yield* Op.unexpected(address, request, response)
  return yield* Op.decodeBody(address, request.code, RouteData.decodeTopicList, response.body)
})

/**
 * Options of {@link deleteTopicInNameServer}.
 *
 * @since 0.1.0
 * @category models
 */
export interface DeleteTopicOptions extends CallOptions {
  /** Forget the topic's queues on this cluster's brokers only; by default on every cluster. */
  readonly clusterName?: string | undefined
}

/**
 * Makes a name server forget the route of `topic` (DELETE_TOPIC_IN_NAMESRV): delete the topic on
 * its brokers first (`Admin.deleteTopicInBroker`), or their next registration brings it back.
 * Succeeds for a topic the name server does not know.
 *
 * @since 0.1.0
 * @category operations
 */
export const deleteTopicInNameServer: (
  topic: string,
  options?: DeleteTopicOptions
) => Effect.Effect<void, NameServerError | InvalidRequest, RemotingClient.RemotingClient> = Effect.fn(
  "NameServer.deleteTopicInNameServer"
)(function*(topic: string, options?: DeleteTopicOptions) {
  const address = options?.address ?? Op.NAME_SERVER
  const extFields = yield* Op.encodeHeader(Headers.DeleteTopicFromNamesrvRequestHeader, {
    topic,
    ...(options?.clusterName !== undefined ? { clusterName: options.clusterName } : {})
  }, "deleteTopicInNameServer")
  const request = RemotingCommand.make({ code: RequestCode.DELETE_TOPIC_IN_NAMESRV, extFields })
  const response = yield* Op.invoke(address, request, options?.timeoutMillis ?? Op.JavaTimeout.ADMIN_EXT)
  if (response.code !== ResponseCode.SUCCESS) return yield* Op.unexpected(address, request, response)
})

