/**
 * The client instance's route table (Java's `topicRouteTable` and `brokerAddrTable`): topic routes
 * fetched from the name servers on first use, one fetch per topic at a time however many callers
 * ask, refreshed on demand, kept when the name servers fail or answer TOPIC_NOT_EXIST, and the
 * broker address table that is the union of the routes.
 *
 * Every change of the table publishes the whole table (a snapshot) to a sliding hub of capacity one
 * with replay one: a subscriber always sees the latest snapshot, and a slow one skips intermediate
 * snapshots without losing anything, since each is complete.
 *
 * Fetches run in fibers of the cache's own scope, so a caller that is interrupted never cancels a
 * fetch others wait for.
 *
 * @internal
 */
import { Effect, Fiber, FiberMap, Option, PubSub, type Scope, Stream } from "effect"
import { type InvalidRequest, NoRouteInfo, type TopicNotExist } from "../ClientError.ts"
import type * as MessageQueue from "../MessageQueue.ts"
import type * as NameServer from "../NameServer.ts"
import type * as RouteData from "../RouteData.ts"
import * as Routes from "./routes.ts"

/** The name server's route template for topics that do not exist yet. */
export const TEMPLATE_TOPIC = "TBW102"

/** A topic's route and what the client derives from it. */
export interface TopicRoute {
  readonly topic: string
  readonly route: RouteData.TopicRouteData
  /** The route is `TBW102`'s, used until the topic has its own (the broker creates it on send). */
  readonly fromTemplate: boolean
  /** Queues a producer may send to (Java's publish info), in Java's order. */
  readonly publishQueues: ReadonlyArray<MessageQueue.MessageQueue>
  /** The publish queues come from the route's `orderTopicConf`. */
  readonly orderTopic: boolean
  /** Readable queues of every broker (Java's subscribe info), in `MessageQueue.Order`. */
  readonly subscribeQueues: ReadonlyArray<MessageQueue.MessageQueue>
}

/** Every cached route by topic. */
export type RouteTable = ReadonlyMap<string, TopicRoute>

/** What fetching a route can fail with. */
export type FetchError = NameServer.NameServerError | TopicNotExist | InvalidRequest

/** @internal */
export interface RouteCache {
  readonly get: (topic: string) => TopicRoute | undefined
  readonly table: () => RouteTable
  readonly addresses: () => Routes.AddressTable
  /** The cached route, or the route fetched now. */
  readonly route: (topic: string) => Effect.Effect<TopicRoute, FetchError>
  /** Fetches the route now; on failure the cached route stays and the error is returned. */
  readonly refresh: (topic: string) => Effect.Effect<TopicRoute, FetchError>
  /**
   * A route with publish queues: the cached one, else a fresh one, else the template's (stored
   * under `topic`), else {@link NoRouteInfo}.
   */
  readonly publishRoute: (topic: string, defaultTopicQueueNums: number) => Effect.Effect<TopicRoute, NoRouteInfo>
  /** Drops addresses no route names any more. */
  readonly cleanOffline: Effect.Effect<void>
  /** The current table, then every later one (latest only). */
  readonly changes: Stream.Stream<RouteTable>
}

const entryOf = (topic: string, route: RouteData.TopicRouteData, fromTemplate: boolean): TopicRoute => {
  const publish = Routes.publishQueues(topic, route)
  return {
    topic,
    route,
    fromTemplate,
    publishQueues: publish.queues,
    orderTopic: publish.orderTopic,
    subscribeQueues: Routes.subscribeQueues(topic, route)
  }
}

/**
 * A route cache over `fetch` (GET_ROUTEINFO_BY_TOPIC). `onChange` runs when a topic's route is
 * applied; `onNewAddresses` runs (forked) with the broker addresses a route adds to the address
 * table.
 */
export const make = (options: {
  readonly fetch: (topic: string) => Effect.Effect<RouteData.TopicRouteData, FetchError>
  readonly onNewAddresses: (addresses: ReadonlyArray<string>) => Effect.Effect<void>
  readonly onChange: (topic: string) => Effect.Effect<void>
}): Effect.Effect<RouteCache, never, Scope.Scope> =>
  Effect.gen(function*() {
    let table: Map<string, TopicRoute> = new Map()
    let addressTable: Routes.AddressTable = new Map()
    const hub = yield* PubSub.sliding<RouteTable>({ capacity: 1, replay: 1 })
    yield* PubSub.publish(hub, table)
    const fetches = yield* FiberMap.make<string, TopicRoute, FetchError>()
    const background = yield* FiberMap.make<string>()

    const publish = () => PubSub.publish(hub, table)

    const apply = (topic: string, route: RouteData.TopicRouteData, fromTemplate: boolean) =>
      Effect.suspend(() => {
        const previous = table.get(topic)
        if (previous !== undefined && previous.fromTemplate === fromTemplate && !Routes.changed(previous.route, route)) {
          return Effect.succeed(previous)
        }
        const entry = entryOf(topic, route, fromTemplate)
        const known = new Set(Routes.addresses(addressTable, false).map((a) => a.address))
        addressTable = Routes.withRoute(addressTable, route)
        table = new Map(table).set(topic, entry)
        const added = Routes.addresses(addressTable, false).map((a) => a.address).filter((a) => !known.has(a))
        const notify = added.length === 0
          ? Effect.void
          : Effect.asVoid(FiberMap.run(background, `new:${added.join(",")}`, options.onNewAddresses(added)))
        return Effect.as(Effect.andThen(Effect.andThen(options.onChange(topic), publish()), notify), entry)
      })

    const refresh = (topic: string): Effect.Effect<TopicRoute, FetchError> =>
      Effect.suspend(() => {
        const running = FiberMap.getUnsafe(fetches, topic)
        const fiber = Option.isSome(running)
          ? Effect.succeed(running.value)
          : FiberMap.run(fetches, topic, Effect.flatMap(options.fetch(topic), (route) => apply(topic, route, false)))
        return Effect.flatMap(fiber, Fiber.join)
      })

    const route = (topic: string) =>
      Effect.suspend(() => {
        const cached = table.get(topic)
        return cached === undefined ? refresh(topic) : Effect.succeed(cached)
      })

    const fromTemplate = (topic: string, defaultTopicQueueNums: number, why: string) =>
      Effect.matchEffect(options.fetch(TEMPLATE_TOPIC), {
        onFailure: (error) =>
          Effect.fail(
            new NoRouteInfo({ topic, detail: `${why}, and the ${TEMPLATE_TOPIC} template route failed too (${error.message})` })
          ),
        onSuccess: (template) => apply(topic, Routes.fromTemplate(template, defaultTopicQueueNums), true)
      })

    const usable = (entry: TopicRoute, topic: string): Effect.Effect<TopicRoute, NoRouteInfo> =>
      entry.publishQueues.length > 0
        ? Effect.succeed(entry)
        : Effect.fail(new NoRouteInfo({ topic, detail: "its route has no writable queue on a broker with a master" }))

    const publishRoute = (topic: string, defaultTopicQueueNums: number) =>
      Effect.suspend(() => {
        const cached = table.get(topic)
        if (cached !== undefined && cached.publishQueues.length > 0) return Effect.succeed(cached)
        return refresh(topic).pipe(
          Effect.matchEffect({
            onSuccess: (entry) => usable(entry, topic),
            onFailure: (error) =>
              error._tag === "TopicNotExist"
                ? Effect.flatMap(fromTemplate(topic, defaultTopicQueueNums, "the name servers know no such topic"), (e) => usable(e, topic))
                : cached !== undefined
                ? usable(cached, topic)
                : Effect.fail(new NoRouteInfo({ topic, detail: `its route could not be fetched (${error.message})` }))
          })
        )
      })

    const cleanOffline = Effect.suspend(() => {
      addressTable = Routes.withoutOffline(addressTable, [...table.values()].map((entry) => entry.route))
      return Effect.void
    })

    return {
      get: (topic) => table.get(topic),
      table: () => table,
      addresses: () => addressTable,
      route,
      refresh,
      publishRoute,
      cleanOffline,
      changes: Stream.fromPubSub(hub)
    } satisfies RouteCache
  })
