/**
 * One RocketMQ client per process (Java's `MQClientInstance`), shared by every producer and
 * consumer in it: one client id, one `RemotingClient` (one connection per broker and name server),
 * one route table, one heartbeat.
 *
 * Contract:
 *
 * - **Client id** `clientIP@instanceName[@unitName]`, formed as Java forms it. The default
 *   instance name `DEFAULT` becomes `pid#nanos`, so two processes never share an id (brokers
 *   allocate queues and own locks by client id).
 * - **Routes** are fetched from the name servers on first use (one fetch per topic at a time),
 *   refreshed every `pollNameServerInterval` (30 s) for every topic in the table and every topic
 *   a registered consumer subscribes to, and on demand ({@link ClientInstanceShape.refreshRoute},
 *   which producers call after a failed send). A failed refresh, TOPIC_NOT_EXIST included, keeps
 *   the route already known. {@link ClientInstanceShape.publishRoute} falls back, as Java does, to
 *   the `TBW102` template route (queue counts capped at `defaultTopicQueueNums`, stored under the
 *   topic's name) for a topic the name servers do not know: the broker creates the topic on the
 *   first send when auto-creation is on.
 * - **Broker addresses**: the union of every route's `brokerName → brokerId → address`; addresses
 *   no route names any more are dropped before each heartbeat. Lookups as Java's:
 *   {@link ClientInstanceShape.publishAddress} (master only), {@link ClientInstanceShape.subscribeAddress}
 *   (`findBrokerAddressInSubscribe`), {@link ClientInstanceShape.anyBrokerAddress} (`findBrokerAddrByTopic`).
 * - **Registrations** are scoped: {@link ClientInstanceShape.registerProducer} and
 *   {@link ClientInstanceShape.registerConsumer} add a group (a second registration of the same
 *   group fails with `GroupAlreadyRegistered`); closing the registration's scope removes it and
 *   sends UNREGISTER_CLIENT to every broker address (bounded by `apiTimeout`; failures are logged,
 *   never raised).
 * - **Heartbeat**: HEART_BEAT with every registered group to every broker address (masters only
 *   when no consumer is registered) every `heartbeatBrokerInterval` (30 s, a beat still running is
 *   not doubled), after each registration, to brokers a new route brings in (as Java beats a broker
 *   it newly connects to), and on demand ({@link ClientInstanceShape.heartbeatNow}). Nothing is
 *   sent while nothing is registered. Each broker's version is kept from its answer.
 * - **Requests from brokers** go to the registered groups: CHECK_TRANSACTION_STATE to the producer
 *   of the half message's `PGROUP`; NOTIFY_CONSUMER_IDS_CHANGED, RESET_CONSUMER_CLIENT_OFFSET,
 *   GET_CONSUMER_STATUS_FROM_CLIENT, GET_CONSUMER_RUNNING_INFO and CONSUME_MESSAGE_DIRECTLY to the
 *   handler a consumer registered for the code (an unknown group gets Java's SYSTEM_ERROR answer);
 *   any other code REQUEST_CODE_NOT_SUPPORTED.
 * - **Lifetime**: the timers run in the instance's scope; closing it stops them and closes the
 *   remoting client (every channel). Producers and consumers built on the instance close first
 *   when composed as layers.
 *
 * Not done here: fetching name server addresses over HTTP (Java's address server), the
 * consumer-offset persistence timer (the consumer's), Java's heartbeat V2 fingerprints (the
 * fingerprint is always 0, the classic heartbeat).
 *
 * Compose one instance for every producer and consumer of a process:
 *
 * ```ts
 * const Live = Layer.mergeAll(Producer.layer({ group: "orders" }), Consumer.layer({ ... })).pipe(
 *   Layer.provide(ClientInstance.layerConfig())
 * )
 * ```
 *
 * @since 0.1.0
 */
import { RemotingClient } from "@effect-rocketmq/remoting"
import type { RemotingError } from "@effect-rocketmq/remoting"
import { Clock, Config, Context, Duration, Effect, FiberSet, Layer, Metric, Option, Random, Schedule, Semaphore, type Scope, type Stream } from "effect"
import * as Broker from "./Broker.ts"
import type { GroupAlreadyRegistered, NoRouteInfo } from "./ClientError.ts"
import * as ClientId from "./internal/clientId.ts"
import * as Registry from "./internal/registry.ts"
import * as RouteCache from "./internal/routeCache.ts"
import * as Routes from "./internal/routes.ts"
import type * as MessageQueue from "./MessageQueue.ts"
import * as NameServer from "./NameServer.ts"

/**
 * @since 0.1.0
 * @category models
 */
export type TopicRoute = RouteCache.TopicRoute

/**
 * Every cached route, by topic.
 *
 * @since 0.1.0
 * @category models
 */
export type RouteTable = RouteCache.RouteTable

/**
 * What fetching a route can fail with (TOPIC_NOT_EXIST is `TopicNotExist`).
 *
 * @since 0.1.0
 * @category models
 */
export type RouteError = RouteCache.FetchError

/**
 * `brokerName → brokerId → address` (`"0"` is the master).
 *
 * @since 0.1.0
 * @category models
 */
export type AddressTable = Routes.AddressTable

/**
 * A broker node found by {@link ClientInstanceShape.subscribeAddress}.
 *
 * @since 0.1.0
 * @category models
 */
export type FoundBroker = Routes.FoundBroker

/**
 * @since 0.1.0
 * @category models
 */
export type BrokerRequestHandler = Registry.BrokerRequestHandler

/**
 * @since 0.1.0
 * @category models
 */
export type TransactionCheckRequest = Registry.TransactionCheckRequest

/**
 * What a producer group registers: the handler of the broker's transaction checks, if it sends
 * transactional messages.
 *
 * @since 0.1.0
 * @category models
 */
export type ProducerRegistration = Registry.ProducerRegistration

/**
 * What a consumer group registers: its heartbeat entry and its handlers of broker requests.
 *
 * @since 0.1.0
 * @category models
 */
export type ConsumerRegistration = Registry.ConsumerRegistration

/**
 * Plain data; every field has Java's default.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientInstanceOptions {
  /** Name servers, `"host:port;host:port"` or a list. */
  readonly nameServerAddresses?: string | ReadonlyArray<string> | undefined
  /** Default `DEFAULT`, which becomes `pid#nanos`. */
  readonly instanceName?: string | undefined
  /** Appended to the client id when set. */
  readonly unitName?: string | undefined
  /** The IP in the client id. Default: this host's address, chosen as Java does. */
  readonly clientIP?: string | undefined
  /** Route refresh period. Default 30 s (`pollNameServerInterval`). */
  readonly pollNameServerInterval?: Duration.Input | undefined
  /** Heartbeat period. Default 30 s (`heartbeatBrokerInterval`). */
  readonly heartbeatBrokerInterval?: Duration.Input | undefined
  /** Timeout of route queries, heartbeats and unregistrations. Default 3 s (`mqClientApiTimeout`). */
  readonly apiTimeout?: Duration.Input | undefined
  /** Options of the instance's `RemotingClient` (hooks such as the ACL signer, TLS, timeouts…). */
  readonly remoting?: Omit<RemotingClient.RemotingClientOptions, "nameServerAddresses" | "requestHandler"> | undefined
}

/**
 * @since 0.1.0
 * @category constants
 */
export const defaults = {
  instanceName: ClientId.DEFAULT_INSTANCE_NAME,
  pollNameServerInterval: Duration.seconds(30),
  heartbeatBrokerInterval: Duration.seconds(30),
  apiTimeout: Duration.seconds(3),
  /** Queue count of a topic created from the template (`defaultTopicQueueNums`). */
  defaultTopicQueueNums: 4
} as const

/**
 * @since 0.1.0
 * @category models
 */
export interface ClientInstanceShape {
  readonly clientId: string
  /** The instance's remoting client (its request handler is the instance's dispatcher). */
  readonly remotingClient: RemotingClient.RemotingClientShape
  /** Runs a typed operation (`Broker.*`, `NameServer.*`) on the instance's remoting client. */
  readonly provide: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, Exclude<R, RemotingClient.RemotingClient>>
  /** The cached route of `topic`, or the one fetched now. */
  readonly route: (topic: string) => Effect.Effect<TopicRoute, RouteError>
  /** Fetches the route of `topic` now; on failure the known route stays. */
  readonly refreshRoute: (topic: string) => Effect.Effect<TopicRoute, RouteError>
  /** A route with publish queues (Java's `tryToFindTopicPublishInfo`, template fallback included). */
  readonly publishRoute: (
    topic: string,
    options?: { readonly defaultTopicQueueNums?: number | undefined }
  ) => Effect.Effect<TopicRoute, NoRouteInfo>
  /** Readable queues of every broker of `topic` (Java's subscribe info). */
  readonly subscribeQueues: (topic: string) => Effect.Effect<ReadonlyArray<MessageQueue.MessageQueue>, RouteError>
  readonly routes: Effect.Effect<RouteTable>
  /** The current route table, then every changed one (a slow reader sees the latest only). */
  readonly routeChanges: Stream.Stream<RouteTable>
  readonly brokerAddresses: Effect.Effect<AddressTable>
  /** The master's address of `brokerName`. */
  readonly publishAddress: (brokerName: string) => Effect.Effect<Option.Option<string>>
  /** Java's `findBrokerAddressInSubscribe`. */
  readonly subscribeAddress: (
    brokerName: string,
    brokerId: number,
    onlyThisBroker: boolean
  ) => Effect.Effect<Option.Option<FoundBroker>>
  /** Java's `findBrokerAddrByTopic`: a master (or any node) of a random broker of the topic. */
  readonly anyBrokerAddress: (topic: string) => Effect.Effect<Option.Option<string>, RouteError>
  /** The version a broker answered the last heartbeat with (e.g. 479 for 5.3.3). */
  readonly brokerVersion: (address: string) => Effect.Effect<Option.Option<number>>
  readonly registerProducer: (
    group: string,
    registration?: ProducerRegistration | undefined
  ) => Effect.Effect<void, GroupAlreadyRegistered, Scope.Scope>
  readonly registerConsumer: (
    group: string,
    registration: ConsumerRegistration
  ) => Effect.Effect<void, GroupAlreadyRegistered, Scope.Scope>
  /** Heartbeats every broker now (waits for a beat in progress first). */
  readonly heartbeatNow: Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category services
 */
export class ClientInstance extends Context.Service<ClientInstance, ClientInstanceShape>()(
  "rocketmq/client/ClientInstance"
) {}

/**
 * Heartbeats sent, by `result` (`ok` / `failed`).
 *
 * @since 0.1.0
 * @category metrics
 */
export const heartbeatsTotal = Metric.counter("rocketmq_client_heartbeats_total", {
  description: "HEART_BEAT requests sent to brokers",
  incremental: true
})

/**
 * Routes that changed and were applied, by topic.
 *
 * @since 0.1.0
 * @category metrics
 */
export const routeUpdatesTotal = Metric.counter("rocketmq_client_route_updates_total", {
  description: "Topic routes fetched that differed from the known one",
  incremental: true
})

const millis = (input: Duration.Input | undefined, fallback: Duration.Duration): number =>
  Duration.toMillis(input === undefined ? fallback : Duration.fromInputUnsafe(input))

/**
 * A client instance in the current scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options?: ClientInstanceOptions | undefined
): Effect.Effect<ClientInstanceShape, RemotingError.InvalidAddress, Scope.Scope> =>
  Effect.gen(function*() {
    const nanos = yield* Clock.currentTimeNanos
    const clientId = ClientId.format(
      options?.clientIP ?? ClientId.localAddress(),
      ClientId.instanceNameOf(options?.instanceName ?? defaults.instanceName, process.pid, nanos),
      options?.unitName
    )
    const apiTimeout = millis(options?.apiTimeout, defaults.apiTimeout)
    const registry = Registry.make(clientId)
    const remotingClient = yield* RemotingClient.make({
      ...options?.remoting,
      nameServerAddresses: options?.nameServerAddresses,
      requestHandler: registry.handler
    })
    const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.provideService(effect, RemotingClient.RemotingClient, remotingClient) as Effect.Effect<
        A,
        E,
        Exclude<R, RemotingClient.RemotingClient>
      >
    const background = yield* FiberSet.make<unknown, never>()
    const versions = new Map<string, number>()
    const heartbeatLock = yield* Semaphore.make(1)

    const beat = (address: string, data: Parameters<typeof Broker.heartbeat>[1]) =>
      provide(Broker.heartbeat(address, data, { timeoutMillis: apiTimeout })).pipe(
        Effect.tap(({ brokerVersion }) => Effect.sync(() => versions.set(address, brokerVersion))),
        Effect.tap(() => Metric.update(Metric.withAttributes(heartbeatsTotal, { result: "ok" }), 1)),
        Effect.catch((error) =>
          Effect.andThen(
            Metric.update(Metric.withAttributes(heartbeatsTotal, { result: "failed" }), 1),
            Effect.logWarning(`Heartbeat of client ${clientId} to ${address} failed: ${error.message}`)
          )
        )
      )

    // Sends the heartbeat to `only` (every address when undefined); masters only without consumers.
    const heartbeatTo = (only: ReadonlySet<string> | undefined) =>
      Effect.gen(function*() {
        const data = yield* registry.heartbeatData
        if (data === undefined) return
        const targets = Routes.addresses(routes.addresses(), data.consumerDataSet.length === 0)
          .filter((target) => only === undefined || only.has(target.address))
        yield* Effect.forEach(targets, (target) => beat(target.address, data), { concurrency: 8, discard: true })
      }).pipe(Effect.withSpan("ClientInstance.heartbeat", { attributes: { "rocketmq.client_id": clientId } }))

    const routes: RouteCache.RouteCache = yield* RouteCache.make({
      fetch: (topic) =>
        provide(NameServer.getRouteInfoByTopic(topic, { timeoutMillis: apiTimeout })).pipe(
          Effect.withSpan("ClientInstance.fetchRoute", { attributes: { "rocketmq.topic": topic } })
        ),
      onNewAddresses: (added) => Semaphore.withPermits(heartbeatLock, 1)(heartbeatTo(new Set(added))),
      onChange: (topic) => Metric.update(Metric.withAttributes(routeUpdatesTotal, { topic }), 1)
    })

    const heartbeatNow = Semaphore.withPermits(heartbeatLock, 1)(heartbeatTo(undefined))

    const unregister = (role: "producer" | "consumer", group: string) =>
      Effect.suspend(() => {
        registry.remove(role, group)
        const targets = Routes.addresses(routes.addresses(), false)
        const request = role === "producer"
          ? { clientID: clientId, producerGroup: group }
          : { clientID: clientId, consumerGroup: group }
        return Effect.forEach(targets, (target) =>
          provide(Broker.unregisterClient(target.address, request, { timeoutMillis: apiTimeout })).pipe(
            Effect.catch((error) =>
              Effect.logWarning(`Unregistering ${role} group ${group} of ${clientId} from ${target.address} failed: ${error.message}`)
            )
          ), { concurrency: 8, discard: true })
      })

    const register = (
      role: "producer" | "consumer",
      group: string,
      add: Effect.Effect<void, GroupAlreadyRegistered>
    ): Effect.Effect<void, GroupAlreadyRegistered, Scope.Scope> =>
      Effect.acquireRelease(add, () => unregister(role, group)).pipe(
        Effect.andThen(FiberSet.run(background, heartbeatNow)),
        Effect.asVoid
      )

    const refreshAll = Effect.gen(function*() {
      const topics = new Set([...routes.table().keys(), ...(yield* registry.subscribedTopics)])
      yield* Effect.forEach(topics, (topic) =>
        routes.refresh(topic).pipe(
          Effect.catch((error) => Effect.logDebug(`Route refresh of ${topic} failed; keeping the known route: ${error.message}`))
        ), { concurrency: 4, discard: true })
    })

    const pollInterval = millis(options?.pollNameServerInterval, defaults.pollNameServerInterval)
    const heartbeatInterval = millis(options?.heartbeatBrokerInterval, defaults.heartbeatBrokerInterval)
    // Java's first route refresh runs 10 ms after start, the first heartbeat after 1 s.
    yield* FiberSet.run(
      background,
      Effect.sleep(Duration.millis(10)).pipe(Effect.andThen(Effect.repeat(refreshAll, Schedule.spaced(Duration.millis(pollInterval)))))
    )
    yield* FiberSet.run(
      background,
      Effect.sleep(Duration.seconds(1)).pipe(
        Effect.andThen(Effect.repeat(
          Effect.andThen(routes.cleanOffline, Effect.asVoid(Semaphore.withPermitsIfAvailable(heartbeatLock, 1)(heartbeatTo(undefined)))),
          Schedule.spaced(Duration.millis(heartbeatInterval))
        ))
      )
    )

    return {
      clientId,
      remotingClient,
      provide,
      route: routes.route,
      refreshRoute: routes.refresh,
      publishRoute: (topic, publishOptions) =>
        routes.publishRoute(topic, publishOptions?.defaultTopicQueueNums ?? defaults.defaultTopicQueueNums),
      subscribeQueues: (topic) => Effect.map(routes.route(topic), (entry) => entry.subscribeQueues),
      routes: Effect.sync(routes.table),
      routeChanges: routes.changes,
      brokerAddresses: Effect.sync(routes.addresses),
      publishAddress: (brokerName) => Effect.sync(() => Option.fromUndefinedOr(Routes.publishAddress(routes.addresses(), brokerName))),
      subscribeAddress: (brokerName, brokerId, onlyThisBroker) =>
        Effect.sync(() => Option.fromUndefinedOr(Routes.subscribeAddress(routes.addresses(), brokerName, brokerId, onlyThisBroker))),
      anyBrokerAddress: (topic) =>
        Effect.flatMap(routes.route(topic), (entry) =>
          Effect.map(Random.nextInt, (seed) =>
            Option.fromUndefinedOr(Routes.anyBrokerAddress(entry.route, (n) => Math.abs(seed) % n)))),
      brokerVersion: (address) => Effect.sync(() => Option.fromUndefinedOr(versions.get(address))),
      registerProducer: (group, registration) => register("producer", group, registry.addProducer(group, registration ?? {})),
      registerConsumer: (group, registration) => register("consumer", group, registry.addConsumer(group, registration)),
      heartbeatNow
    } satisfies ClientInstanceShape
  })

/**
 * The client instance as a layer; its scope owns the remoting client and the timers.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: ClientInstanceOptions | undefined): Layer.Layer<ClientInstance, RemotingError.InvalidAddress> =>
  Layer.effect(ClientInstance, make(options))

/**
 * {@link layer} with the name servers from configuration (`ROCKETMQ_NAMESRV_ADDR`, else Java's
 * `NAMESRV_ADDR`) and the instance name from `ROCKETMQ_CLIENT_NAME` when set (Java's
 * `rocketmq.client.name`); the other options are given.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options?: Omit<ClientInstanceOptions, "nameServerAddresses"> | undefined
): Layer.Layer<ClientInstance, Config.ConfigError | RemotingError.InvalidAddress> =>
  Layer.effect(
    ClientInstance,
    Effect.gen(function*() {
      const nameServerAddresses = yield* RemotingClient.nameServerAddressesConfig
      const instanceName = yield* Config.option(Config.String("ROCKETMQ_CLIENT_NAME"))
      return yield* make({
        ...options,
        nameServerAddresses,
        instanceName: options?.instanceName ?? Option.getOrUndefined(instanceName)
      })
    })
  )
