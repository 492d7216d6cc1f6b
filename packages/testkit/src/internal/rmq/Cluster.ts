/**
 * Assembles an in-memory cluster (one name server, its brokers) and its transports: the facade the
 * public module hands out, the in-process client, the in-memory network and loopback TCP.
 *
 * The facade is plain data over the internal brokers; it carries the cluster under `TypeId` for the
 * transports.
 */
import { StoredMessage } from "@effect-rocketmq/client"
import { RemotingServer, RequestCode } from "@effect-rocketmq/remoting"
import { Clock, Effect, type Scope } from "effect"
import type * as Public from "../../InMemoryRocketMQ.ts"
import * as RemotingTest from "../../RemotingTest.ts"
import * as Broker from "./Broker.ts"
import { InvalidOptions } from "./errors.ts"
import * as InProcess from "./InProcess.ts"
import * as NameServer from "./NameServer.ts"
import * as Serve from "./Serve.ts"
import * as Settings from "./Settings.ts"

/** The key under which a facade carries its cluster. */
export const TypeId = "~rocketmq/testkit/InMemoryRocketMQ"

export interface Internal {
  readonly nameServer: NameServer.NameServer
  readonly nameServerHandle: Public.Handler
  readonly brokers: ReadonlyArray<Broker.Broker>
  readonly scope: Scope.Scope
  readonly nextChannelId: () => number
  nameServerAddress: string
}

const internalOf = (rmq: Public.InMemoryRocketMQShape): Internal => rmq[TypeId]

const NAME_SERVER_CODES: ReadonlySet<number> = new Set([
  RequestCode.GET_ROUTEINFO_BY_TOPIC,
  RequestCode.GET_BROKER_CLUSTER_INFO,
  RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER,
  RequestCode.DELETE_TOPIC_IN_NAMESRV,
  RequestCode.GET_TOPICS_BY_CLUSTER
])

const letters = "abcdefghijklmnopqrstuvwxyz"

/** The brokers the options describe, or what is wrong with them. */
const brokerList = (options: Public.Options | undefined): ReadonlyArray<Public.BrokerOptions> | string => {
  const given = options?.brokers ?? 1
  const list: ReadonlyArray<string | Public.BrokerOptions> = typeof given === "number"
    ? Array.from({ length: given }, (_, i) => `broker-${letters[i] ?? i}`)
    : given
  if (list.length === 0 || (typeof given === "number" && (!Number.isInteger(given) || given > 26))) {
    return `brokers must be 1 to 26 brokers or a non-empty list, not ${JSON.stringify(given)}`
  }
  const brokers = list.map((b, i) => ({
    ...(typeof b === "string" ? { name: b } : b),
    address: (typeof b === "string" ? undefined : b.address) ?? `127.0.0.1:${10911 + 10 * i}`
  }))
  const names = new Set(brokers.map((b) => b.name))
  const addresses = new Set(brokers.map((b) => b.address))
  if (names.size !== brokers.length) return "two brokers have the same name"
  if (addresses.size !== brokers.length) return "two brokers have the same address"
  const badName = brokers.find((b) => !/^[a-zA-Z0-9_-]+$/.test(b.name))
  if (badName !== undefined) return `the broker name ${JSON.stringify(badName.name)} has characters outside [a-zA-Z0-9_-]`
  return brokers
}

const view = (broker: Broker.Broker): Public.Broker => {
  const parts = broker.parts
  const decode = (records: ReadonlyArray<Uint8Array>) =>
    records.flatMap((record) => {
      const decoded = StoredMessage.decodeSync(record)
      return Array.isArray(decoded) ? decoded : []
    })
  return {
    name: broker.name,
    address: broker.address,
    isRunning: broker.isRunning,
    stop: broker.stop,
    start: broker.start,
    processors: broker.processors,
    handle: broker.handle,
    override: broker.override,
    topics: () => parts.topics.all(),
    topic: (topic) => parts.topics.get(topic),
    queueSize: (topic, queueId) => Number(parts.store.maxOffset(topic, queueId)),
    messages: (topic, queueId) => decode(parts.store.entries(topic, queueId).map((entry) => entry.record)),
    consumerOffset: (group, topic, queueId) => parts.offsets.query(group, topic, queueId),
    consumerGroup: (group) => {
      const info = parts.clients.consumer(group)
      return info === undefined ? undefined : {
        group,
        members: [...info.members.values()].map((member) => ({
          clientId: member.clientId,
          remoteAddress: member.channel.remoteAddress,
          lastHeartbeat: member.lastUpdate
        })),
        consumeType: info.consumeType,
        messageModel: info.messageModel,
        subscriptions: [...info.subscriptions.values()]
      }
    },
    producerGroup: (group) => parts.clients.producers(group).map((member) => member.clientId),
    scheduled: () => broker.scheduled().map(({ dueAt, entry }) => ({ dueAt, message: decode([entry.record])[0]! })),
    halfMessages: () => decode([...parts.transactions.pending].map((half) => half.current.record)),
    subscriptionGroup: (group) => parts.groups.get(group),
    locks: (group) =>
      Effect.map(Clock.currentTimeMillis, (now) =>
        parts.locks.view(group, now).map(({ clientId, expired, queue }) => ({
          topic: queue.topic,
          queueId: queue.queueId,
          clientId,
          expired
        })))
  }
}

export const make = (options: Public.Options | undefined) =>
  Effect.gen(function*() {
    const brokers = brokerList(options)
    if (typeof brokers === "string") return yield* new InvalidOptions({ detail: brokers })
    const scope = yield* Effect.scope
    const clock = yield* Effect.clockWith(Effect.succeed)
    const clusterName = options?.clusterName ?? "DefaultCluster"
    const nameServer = NameServer.make(clusterName)
    let channelIds = 0
    const built: Array<Broker.Broker> = []
    for (const b of brokers) {
      const settings = Settings.resolve(b, options)
      if (typeof settings === "string") return yield* new InvalidOptions({ detail: `${b.name}: ${settings}` })
      built.push(Broker.make({
        name: b.name,
        clusterName,
        address: b.address!,
        settings,
        nameServer,
        scope,
        now: () => clock.currentTimeMillisUnsafe()
      }))
    }
    // No listener is attached yet, so starting cannot fail to listen.
    for (const broker of built) yield* Effect.orDie(broker.start)
    const nameServerHandle = Broker.dispatch(nameServer.processors)
    const internal: Internal = {
      nameServer,
      nameServerHandle,
      brokers: built,
      scope,
      nextChannelId: () => ++channelIds,
      nameServerAddress: options?.nameServerAddress ?? "127.0.0.1:9876"
    }
    const views = built.map(view)
    const first = views[0]!
    const facade: Public.InMemoryRocketMQShape = {
      [TypeId]: internal,
      clusterName,
      nameServerAddress: () => internal.nameServerAddress,
      nameServerProcessors: nameServer.processors,
      brokers: views,
      broker: ((name?: string) => name === undefined ? first : views.find((b) => b.name === name)) as Public.InMemoryRocketMQShape["broker"],
      handle: (request, context) =>
        NAME_SERVER_CODES.has(request.code) ? nameServerHandle(request, context) : first.handle(request, context)
    }
    return { facade }
  })

export const remotingClient = (rmq: Public.InMemoryRocketMQShape, options?: Public.ClientOptions | undefined) => {
  const internal = internalOf(rmq)
  return InProcess.make({
    nameServerAddress: internal.nameServerAddress,
    nameServer: internal.nameServerHandle,
    brokers: internal.brokers,
    scope: internal.scope,
    nextChannelId: internal.nextChannelId
  }, options)
}

export const network = (rmq: Public.InMemoryRocketMQShape) =>
  Effect.gen(function*() {
    const internal = internalOf(rmq)
    const net = yield* RemotingTest.makeNetwork
    yield* net.serve(internal.nameServerAddress, {
      shutdownTimeout: 0,
      defaultProcessor: Serve.processorOf(internal.nameServerHandle)
    })
    for (const broker of internal.brokers) {
      const [host, port] = splitHostPort(broker.address())
      yield* Serve.serveBroker(broker, (h, p, options) => net.serve(`${h}:${p}`, options), host, port, internal.nextChannelId)
    }
    return { channelFactory: net.connect, nameServerAddress: internal.nameServerAddress, network: net } satisfies Public.NetworkServed
  })

const splitHostPort = (address: string): readonly [string, number] => {
  const colon = address.lastIndexOf(":")
  return [address.slice(0, colon).replace(/^\[(.*)\]$/, "$1"), Number(address.slice(colon + 1))]
}

export const listen = (rmq: Public.InMemoryRocketMQShape, options?: Public.ListenOptions | undefined) =>
  Effect.gen(function*() {
    const internal = internalOf(rmq)
    const host = options?.host ?? "127.0.0.1"
    const nameServer = yield* RemotingServer.make({
      host,
      port: options?.port ?? 0,
      shutdownTimeout: 0,
      defaultProcessor: Serve.processorOf(internal.nameServerHandle)
    })
    internal.nameServerAddress = nameServer.address
    const serveAt: Serve.ServeAt = (h, p, o) => RemotingServer.make({ ...o, host: h, port: p })
    for (const [i, broker] of internal.brokers.entries()) {
      yield* Serve.serveBroker(broker, serveAt, host, options?.brokerPorts?.[i] ?? 0, internal.nextChannelId)
    }
    return { rmq, address: nameServer.address, nameServer } satisfies Public.Served
  })
