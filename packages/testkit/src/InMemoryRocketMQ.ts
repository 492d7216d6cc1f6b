/**
 * An embedded Apache RocketMQ: one name server and one or more brokers (`broker-a`, `broker-b`, …)
 * of one cluster, in memory, answering the requests a RocketMQ client sends with the response
 * codes, remarks, ext fields and bodies a 5.3.3 cluster gives — the default broker of `npm start`,
 * of producer and consumer unit tests (under `TestClock`), and of `rmq dev`.
 *
 * {@link make} builds the cluster in the current scope (a {@link layer} provides it as a service).
 * Reach it in process with {@link remotingClient} (no sockets; every command still crosses the
 * frame codec), over an in-memory network with {@link network} (real `RemotingClient` channels, no
 * sockets), or on loopback TCP with {@link listen} / {@link serve} (each broker and the name server
 * on a port of its own). A broker can be stopped and started: it leaves the routes and refuses
 * connections while it is down, so a client's retry on another broker shows without Java.
 *
 * Everything timed runs on Effect's `Clock` (`TestClock` drives it): held pulls, delay levels and
 * timer messages, transaction check-back, client expiry, queue-lock expiry, name-server
 * registration. The broker sends requests of its own to clients over their connections.
 *
 * What it keeps and answers is listed in the testkit README ("InMemoryRocketMQ"), with what it does
 * not simulate. This module is the facade — its models and constructors, mostly documentation,
 * which is why it runs past 400 lines; the name server, the broker's parts and its processors live
 * under `internal/rmq/`.
 *
 * @since 0.1.0
 */
import type { Heartbeat, StoredMessage } from "@effect-rocketmq/client"
import type { RemotingCommand, RemotingError, RemotingServer } from "@effect-rocketmq/remoting"
import { Channel, RemotingClient } from "@effect-rocketmq/remoting"
import { Context, type Duration, Effect, Layer, type Scope } from "effect"
import * as Cluster from "./internal/rmq/Cluster.ts"
import type * as RemotingTest from "./RemotingTest.ts"
import type { InvalidOptions } from "./internal/rmq/errors.ts"

// -------------------------------------------------------------------------------------------------
// Models
// -------------------------------------------------------------------------------------------------

/**
 * Broker settings, with Java's defaults. Set them for the whole cluster in {@link Options} or per
 * broker in {@link BrokerOptions}.
 *
 * @since 0.1.0
 * @category models
 */
export interface BrokerSettings {
  /** Create unknown topics on send from `TBW102` (`autoCreateTopicEnable`). Default true. */
  readonly autoCreateTopic?: boolean | undefined
  /** Create unknown consumer groups on first use (`autoCreateSubscriptionGroup`). Default true. */
  readonly autoCreateSubscriptionGroup?: boolean | undefined
  /** Queues of `TBW102`, the cap of auto-created topics (`defaultTopicQueueNums`). Default 8. */
  readonly defaultTopicQueueNums?: number | undefined
  /** Largest message body stored (`maxMessageSize`). Default 4 MiB. */
  readonly maxMessageSize?: number | undefined
  /** Delay of each level (`messageDelayLevel`). Default `"1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h"`. */
  readonly messageDelayLevel?: string | undefined
  /** Accept 5.x timer messages (`timerWheelEnable`). Default true. */
  readonly timerWheelEnable?: boolean | undefined
  /** Longest timer delay (`timerMaxDelaySec`). Default 3 days. */
  readonly timerMaxDelay?: Duration.Input | undefined
  /** Age of a half message before the broker asks its producer about it (`transactionTimeOut`). Default 6 s. */
  readonly transactionTimeout?: Duration.Input | undefined
  /** Period of the transaction check-back (`transactionCheckInterval`). Default 30 s. */
  readonly transactionCheckInterval?: Duration.Input | undefined
  /** Checks before a half message is discarded (`transactionCheckMax`). Default 15. */
  readonly transactionCheckMax?: number | undefined
  /** Refuse transactional messages (`rejectTransactionMessage`). Default false. */
  readonly rejectTransactionMessage?: boolean | undefined
  /** A client connection without a heartbeat for this long is dropped (`channelExpiredTimeout`). Default 120 s. */
  readonly channelExpiredTimeout?: Duration.Input | undefined
  /** An orderly queue lock not renewed for this long can be taken (`lockMaxLiveTime`). Default 60 s. */
  readonly lockMaxLiveTime?: Duration.Input | undefined
  /** Period of the broker's registration with the name server. Default 30 s. */
  readonly registerInterval?: Duration.Input | undefined
  /**
   * Reset consumer offsets in the broker (INVOKE_BROKER_TO_RESET_OFFSET), as 5.3.3 does by default;
   * false sends RESET_CONSUMER_CLIENT_OFFSET to the group's clients instead, as older brokers did.
   */
  readonly useServerSideResetOffset?: boolean | undefined
}

/**
 * One broker of the cluster.
 *
 * @since 0.1.0
 * @category models
 */
export interface BrokerOptions extends BrokerSettings {
  readonly name: string
  /**
   * `host:port` published in routes and stored as the store host (serving on TCP replaces it with
   * the bound address). Default `127.0.0.1:10911` for the first broker, then 10921, 10931, ….
   */
  readonly address?: string | undefined
}

/**
 * Options of {@link make}; every field has a default.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends BrokerSettings {
  /** Default `DefaultCluster`. */
  readonly clusterName?: string | undefined
  /** The brokers: a count (named `broker-a`, `broker-b`, …), or names or settings. Default 1. */
  readonly brokers?: number | ReadonlyArray<string | BrokerOptions> | undefined
  /** The name server's address in process (serving on TCP replaces it). Default `127.0.0.1:9876`. */
  readonly nameServerAddress?: string | undefined
}

/**
 * A topic's configuration.
 *
 * @since 0.1.0
 * @category models
 */
export interface TopicConfig {
  readonly topic: string
  readonly readQueueNums: number
  readonly writeQueueNums: number
  readonly perm: number
  readonly topicFilterType: string
  readonly topicSysFlag: number
  readonly order: boolean
}

/**
 * A client's connection as a broker sees it: the broker sends its own requests through it
 * (CHECK_TRANSACTION_STATE, NOTIFY_CONSUMER_IDS_CHANGED, RESET_CONSUMER_CLIENT_OFFSET).
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientChannel {
  /** Unique in the cluster while it lives. */
  readonly id: number
  readonly remoteAddress: string
  readonly invoke: (
    request: RemotingCommand.RemotingCommand,
    timeoutMillis?: number | undefined
  ) => Effect.Effect<RemotingCommand.RemotingCommand, RemotingError.ChannelError>
  readonly invokeOneway: (request: RemotingCommand.RemotingCommand) => Effect.Effect<void, RemotingError.ChannelError>
  readonly close: Effect.Effect<void>
}

/**
 * Where a request came from: the client's `host:port` (the born host of sent messages) and its
 * connection. Both are optional: a request handed to {@link Handler} directly has neither.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestContext {
  readonly remoteAddress?: string | undefined
  readonly channel?: ClientChannel | undefined
}

/**
 * A request handler: the response, or `undefined` when Java writes none (END_TRANSACTION that
 * leaves the state unknown). Handlers never fail: a request they cannot read is answered
 * SYSTEM_ERROR with the reason, as Java does.
 *
 * @since 0.1.0
 * @category models
 */
export type Handler = (
  request: RemotingCommand.RemotingCommand,
  context?: RequestContext | undefined
) => Effect.Effect<RemotingCommand.RemotingCommand | undefined>

/**
 * A consumer group as a broker sees it (from heartbeats).
 *
 * @since 0.1.0
 * @category models
 */
export interface ConsumerGroupView {
  readonly group: string
  /** One per connection, in registration order (duplicates are possible, as in Java). */
  readonly members: ReadonlyArray<{ readonly clientId: string; readonly remoteAddress: string; readonly lastHeartbeat: number }>
  readonly consumeType: string
  readonly messageModel: string
  readonly subscriptions: ReadonlyArray<Heartbeat.SubscriptionData>
}

/**
 * A consumer group's configuration on a broker (Java's `SubscriptionGroupConfig`).
 *
 * @since 0.1.0
 * @category models
 */
export interface SubscriptionGroupConfig {
  readonly groupName: string
  readonly consumeEnable: boolean
  readonly consumeFromMinEnable: boolean
  readonly consumeBroadcastEnable: boolean
  readonly consumeMessageOrderly: boolean
  /** Queues of `%RETRY%<group>`. */
  readonly retryQueueNums: number
  /** Reconsume times before the DLQ, for clients that do not send their own. */
  readonly retryMaxTimes: number
  readonly brokerId: number
  readonly whichBrokerWhenConsumeSlowly: number
  readonly notifyConsumerIdsChangedEnable: boolean
  readonly groupSysFlag: number
  readonly consumeTimeoutMinute: number
  readonly groupRetryPolicy: unknown
  readonly attributes: { readonly [key: string]: string }
}

/**
 * An orderly-consumption queue lock.
 *
 * @since 0.1.0
 * @category models
 */
export interface QueueLock {
  readonly topic: string
  readonly queueId: number
  readonly clientId: string
  /** Not renewed for `lockMaxLiveTime`: another client may take it. */
  readonly expired: boolean
}

/**
 * A message waiting in the schedule or timer topic, due at `dueAt` (epoch ms).
 *
 * @since 0.1.0
 * @category models
 */
export interface ScheduledMessage {
  readonly dueAt: number
  readonly message: StoredMessage.StoredMessage
}

/**
 * One broker of the cluster: its lifecycle, its handlers and what it holds.
 *
 * @since 0.1.0
 * @category models
 */
export interface Broker {
  readonly name: string
  /** The address published in routes now. */
  readonly address: () => string
  readonly isRunning: () => boolean
  /** Stops the broker: it leaves every route, its connections close, new ones are refused. Idempotent. */
  readonly stop: Effect.Effect<void>
  /** Starts it again with its messages, topics, groups and offsets (fails when its port is taken). */
  readonly start: Effect.Effect<void, RemotingServer.ServerListenError>
  /** The broker's own processors by request code. */
  readonly processors: ReadonlyMap<number, Handler>
  /**
   * Dispatches by code, overrides first; an unknown code is answered REQUEST_CODE_NOT_SUPPORTED (3)
   * as Java does. Every transport goes through it.
   */
  readonly handle: Handler
  /**
   * Answers `code` with `handler` instead of the broker's own processor (a fault to script, a
   * request to record before calling `processors.get(code)`); `undefined` restores the processor.
   */
  readonly override: (code: number, handler: Handler | undefined) => void
  readonly topics: () => ReadonlyArray<TopicConfig>
  readonly topic: (topic: string) => TopicConfig | undefined
  /** Messages in a queue (its max offset). */
  readonly queueSize: (topic: string, queueId: number) => number
  readonly messages: (topic: string, queueId: number) => ReadonlyArray<StoredMessage.StoredMessage>
  /** The offset a consumer group has committed for a queue, if any. */
  readonly consumerOffset: (group: string, topic: string, queueId: number) => bigint | undefined
  readonly consumerGroup: (group: string) => ConsumerGroupView | undefined
  /** Client ids of a producer group's connections. */
  readonly producerGroup: (group: string) => ReadonlyArray<string>
  /** Delayed and timer messages not yet due, soonest first. */
  readonly scheduled: () => ReadonlyArray<ScheduledMessage>
  /** Half messages whose transaction is not resolved yet (their latest copy). */
  readonly halfMessages: () => ReadonlyArray<StoredMessage.StoredMessage>
  readonly subscriptionGroup: (group: string) => SubscriptionGroupConfig | undefined
  /** The group's queue locks on this broker, expired ones included. */
  readonly locks: (group: string) => Effect.Effect<ReadonlyArray<QueueLock>>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface InMemoryRocketMQShape {
  /** The cluster behind the facade, for this module's transports. */
  readonly [Cluster.TypeId]: Cluster.Internal
  readonly clusterName: string
  /** The name server's address now (in process, or where {@link listen} serves it). */
  readonly nameServerAddress: () => string
  readonly nameServerProcessors: ReadonlyMap<number, Handler>
  readonly brokers: ReadonlyArray<Broker>
  /** The first broker, or the one named (undefined when there is none). */
  readonly broker: {
    (): Broker
    (name: string): Broker | undefined
  }
  /** Name-server codes to the name server, every other code to the first broker. */
  readonly handle: Handler
}

/**
 * @since 0.1.0
 * @category services
 */
export class InMemoryRocketMQ extends Context.Service<InMemoryRocketMQ, InMemoryRocketMQShape>()(
  "rocketmq/testkit/InMemoryRocketMQ"
) {}

/**
 * The options do not describe a cluster (the message says which and why).
 *
 * @since 0.1.0
 * @category errors
 */
export { InvalidOptions } from "./internal/rmq/errors.ts"

// -------------------------------------------------------------------------------------------------
// Constructors
// -------------------------------------------------------------------------------------------------

/**
 * A new cluster in the current scope, every broker running. Like fresh 5.3.3 brokers they start
 * with the system topics (`TBW102` when auto-creation is on, the cluster and broker names, the
 * schedule, timer and transaction topics…) and the system consumer groups. Closing the scope stops
 * everything.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options | undefined): Effect.Effect<InMemoryRocketMQShape, InvalidOptions, Scope.Scope> =>
  Effect.flatMap(Cluster.make(options), (cluster) => Effect.succeed(cluster.facade))

/**
 * {@link make} as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options | undefined): Layer.Layer<InMemoryRocketMQ, InvalidOptions> =>
  Layer.effect(InMemoryRocketMQ, make(options))

/**
 * Options of {@link remotingClient}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientOptions {
  /** The address the name server answers on. Default: the cluster's. */
  readonly nameServerAddress?: string | undefined
  /** The client's address as brokers see it (the born host of sent messages). Default `127.0.0.1:50000`. */
  readonly clientAddress?: string | undefined
  /** Handles requests brokers send this client. Default: answers REQUEST_CODE_NOT_SUPPORTED. */
  readonly requestHandler?: Channel.RequestHandlerShape | undefined
}

/**
 * A `RemotingClient` wired to `rmq` in process, without sockets: each command is encoded to a
 * frame and decoded again both ways; calls reach the name server at its address (or through
 * `invokeNameServer`) and running brokers at theirs; other addresses and stopped brokers fail with
 * `ConnectError` (refused). The client has one connection per broker (per running period), through
 * which brokers reach `requestHandler`; `closeChannel(address)` disconnects from that broker.
 *
 * @since 0.1.0
 * @category constructors
 */
export const remotingClient = (rmq: InMemoryRocketMQShape, options?: ClientOptions | undefined): RemotingClient.RemotingClientShape =>
  Cluster.remotingClient(rmq, options)

/**
 * A fresh cluster and a {@link remotingClient} to it, as a layer of both services. The client's
 * `requestHandler` defaults to the `Channel.RequestHandler` in context.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient = (
  options?: (Options & ClientOptions) | undefined
): Layer.Layer<RemotingClient.RemotingClient | InMemoryRocketMQ, InvalidOptions> =>
  Layer.effectContext(Effect.gen(function*() {
    const rmq = yield* make(options)
    const requestHandler = options?.requestHandler ?? (yield* Channel.RequestHandler)
    const client = remotingClient(rmq, { ...options, requestHandler })
    return Context.make(InMemoryRocketMQ, rmq).pipe(Context.add(RemotingClient.RemotingClient, client))
  }))

/**
 * `rmq` on an in-memory network (see testkit `RemotingTest`): the name server and each broker are
 * `RemotingServer`s at their addresses, and `channelFactory` opens real channels to them, so a
 * `RemotingClient.make({ channelFactory, nameServerAddresses })` — or anything built on one —
 * talks to the cluster as over TCP, with `TestClock` driving every timeout.
 *
 * @since 0.1.0
 * @category constructors
 */
export const network = (
  rmq: InMemoryRocketMQShape
): Effect.Effect<NetworkServed, RemotingServer.ServerListenError, Scope.Scope> => Cluster.network(rmq)

/**
 * A cluster served on an in-memory network (see {@link network}).
 *
 * @since 0.1.0
 * @category models
 */
export interface NetworkServed {
  /** Opens channels to the cluster's name server and brokers: a `RemotingClient.ChannelFactory`. */
  readonly channelFactory: RemotingClient.ChannelFactory
  /** The name server's address on the network. */
  readonly nameServerAddress: string
  /** The network itself, to serve more servers beside the cluster. */
  readonly network: RemotingTest.InMemoryNetwork
}

/**
 * Serves `rmq` on loopback TCP in the current scope: the name server on `host:port`, each broker
 * on a port of its own (`brokerPorts[i]`, or a free one, kept across restarts). Routes then name
 * the brokers' TCP addresses. Closing the scope stops the servers.
 *
 * @since 0.1.0
 * @category constructors
 */
export const listen = (
  rmq: InMemoryRocketMQShape,
  options?: ListenOptions | undefined
): Effect.Effect<Served, RemotingServer.ServerListenError, Scope.Scope> => Cluster.listen(rmq, options)

/**
 * Where {@link listen} serves.
 *
 * @since 0.1.0
 * @category models
 */
export interface ListenOptions {
  /** Default `127.0.0.1`. */
  readonly host?: string | undefined
  /** The name server's port; 0 (default) picks a free one. */
  readonly port?: number | undefined
  /** Each broker's port, in order; missing or 0 picks a free one. */
  readonly brokerPorts?: ReadonlyArray<number> | undefined
}

/**
 * A cluster served on loopback TCP.
 *
 * @since 0.1.0
 * @category models
 */
export interface Served {
  readonly rmq: InMemoryRocketMQShape
  /** The name server's `host:port`: what clients take as their name server address. */
  readonly address: string
  readonly nameServer: RemotingServer.RemotingServerShape
}

/**
 * A new cluster ({@link make}) served on loopback TCP ({@link listen}): a local RocketMQ without
 * Java that any RocketMQ remoting client can use.
 *
 * @since 0.1.0
 * @category constructors
 */
export const serve = (
  options?: (Options & ListenOptions) | undefined
): Effect.Effect<Served, InvalidOptions | RemotingServer.ServerListenError, Scope.Scope> =>
  Effect.flatMap(make(options), (rmq) => listen(rmq, options))
