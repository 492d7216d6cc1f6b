/**
 * One in-memory broker: its parts (store, topics, groups, clients, offsets, held pulls, schedule,
 * half messages), its processors by request code, and its lifecycle.
 *
 * A broker is running or stopped. Starting registers it with the name server (and again every
 * `registerInterval` after the name server deleted one of its topics), opens its listeners (the transports serving it) and forks its background
 * fibers into a scope of its own: the delay/timer schedule, the transaction check-back, and the
 * housekeeping that drops clients without a heartbeat for `channelExpiredTimeout` (checked every
 * 10 s, as Java). Stopping
 * unregisters it (its queues leave every route), ends its held pulls and in-process calls, closes
 * its listeners and their connections, and forgets its clients and locks — what a real broker
 * keeps on disk (messages, topics, groups, offsets, scheduled and half messages) stays.
 */
import type { RemotingServer } from "@effect-rocketmq/remoting"
import { RemotingCommand, ResponseCode } from "@effect-rocketmq/remoting"
import { Clock, Deferred, Effect, Exit, Scope } from "effect"
import type { ClientChannel, Handler, TopicConfig } from "../../InMemoryRocketMQ.ts"
import * as AdminProcessor from "./AdminProcessor.ts"
import * as ClientProcessor from "./ClientProcessor.ts"
import * as Clients from "./Clients.ts"
import * as ConsumerCallProcessor from "./ConsumerCallProcessor.ts"
import * as GroupProcessor from "./GroupProcessor.ts"
import * as Groups from "./Groups.ts"
import * as LockProcessor from "./LockProcessor.ts"
import * as Locks from "./Locks.ts"
import * as LongPolling from "./LongPolling.ts"
import type * as NameServer from "./NameServer.ts"
import * as OffsetProcessor from "./OffsetProcessor.ts"
import * as Offsets from "./Offsets.ts"
import * as Parts from "./Parts.ts"
import * as PullProcessor from "./PullProcessor.ts"
import * as ResetProcessor from "./ResetProcessor.ts"
import * as Schedule from "./Schedule.ts"
import * as SendBack from "./SendBack.ts"
import * as SendProcessor from "./SendProcessor.ts"
import type * as Settings from "./Settings.ts"
import * as Store from "./Store.ts"
import * as Timers from "./Timers.ts"
import * as Topics from "./Topics.ts"
import * as Transactions from "./Transactions.ts"
import * as Wire from "./wire.ts"

/** Something serving the broker (a socket server, an in-memory server): opened in each running period's scope. */
export type Listener = (scope: Scope.Scope) => Effect.Effect<void, RemotingServer.ServerListenError>

export interface BrokerConfig {
  readonly name: string
  readonly clusterName: string
  readonly address: string
  readonly settings: Settings.Settings
  readonly nameServer: NameServer.NameServer
  /** The cluster's scope: running periods are forked from it. */
  readonly scope: Scope.Scope
  /** Effect's clock, read where a change is stamped outside an effect (data versions). */
  readonly now: () => number
}

export interface Broker {
  readonly name: string
  readonly parts: Parts.Parts
  readonly processors: ReadonlyMap<number, Handler>
  /** Dispatches by code (overrides first); an unknown code is answered REQUEST_CODE_NOT_SUPPORTED as Java does. */
  readonly handle: Handler
  /** Answers `code` with `handler` instead of the broker's own processor; `undefined` restores it. */
  readonly override: (code: number, handler: Handler | undefined) => void
  readonly address: () => string
  readonly setAddress: (address: string) => void
  readonly isRunning: () => boolean
  /** Counts starts: a client connection belongs to one running period. */
  readonly generation: () => number
  readonly start: Effect.Effect<void, RemotingServer.ServerListenError>
  readonly stop: Effect.Effect<void>
  /** Adds a listener; opened at once when the broker runs, and at every start. */
  readonly listen: (listener: Listener) => Effect.Effect<void, RemotingServer.ServerListenError>
  /** A client's connection closed: it leaves every group (members of changed groups are notified). */
  readonly connectionClosed: (channel: ClientChannel) => Effect.Effect<void>
  /** Delayed and timer messages not yet due, soonest first. */
  readonly scheduled: () => ReadonlyArray<Schedule.Pending>
  /** Completes when the current running period ends (at once when stopped). */
  readonly stopped: () => Effect.Effect<void>
}

const HOUSEKEEPING_INTERVAL_MILLIS = 10_000

/** Java's answer to a request code nobody handles. */
export const notSupported = (request: RemotingCommand.RemotingCommand) =>
  Wire.respond(request, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, ` request type ${request.code} not supported`)

export const dispatch = (processors: ReadonlyMap<number, Handler>): Handler => (request, context) => {
  const handler = processors.get(request.code)
  return handler === undefined ? Effect.succeed(notSupported(request)) : handler(request, context)
}

const makeParts = (
  config: BrokerConfig,
  address: () => string,
  bootTimestamp: () => number,
  isRunning: () => boolean,
  deliver: (entry: Store.Entry, now: number) => void,
  wake: (timer: "housekeeping" | "transactions") => void
) => {
  const storeHost = () => Wire.splitAddress(address()) ?? { host: "127.0.0.1", port: 10911 }
  const register = (topic: TopicConfig) => config.nameServer.registerTopic(config.name, topic)
  const schedule = Schedule.make(deliver)
  const parts: Parts.Parts = {
    name: config.name,
    clusterName: config.clusterName,
    settings: config.settings,
    address,
    bootTimestamp,
    storeHost,
    store: Store.make({ storeHost, maxMessageSize: config.settings.maxMessageSize }),
    topics: Topics.make({
      clusterName: config.clusterName,
      brokerName: config.name,
      autoCreateTopic: config.settings.autoCreateTopic,
      defaultTopicQueueNums: config.settings.defaultTopicQueueNums,
      timerWheelEnable: config.settings.timerWheelEnable,
      onChange: (topic) => {
        if (isRunning()) register(topic)
      }
    }),
    groups: Groups.make({ autoCreate: config.settings.autoCreateSubscriptionGroup, now: config.now }),
    clients: Clients.make(),
    offsets: Offsets.make(),
    polling: LongPolling.make(),
    locks: Locks.make(config.settings.lockMaxLiveTimeMillis),
    schedule: schedule.add,
    transactions: Transactions.makeTable(),
    wake: (timer) => wake(timer)
  }
  return { parts, schedule }
}

export const make = (config: BrokerConfig): Broker => {
  let address = config.address
  let running = false
  let generation = 0
  let period: { readonly scope: Scope.Closeable; readonly stopped: Deferred.Deferred<void> } | undefined
  const listeners: Array<Listener> = []

  let bootTimestamp = config.now()
  const { parts, schedule } = makeParts(config, () => address, () => bootTimestamp, () => running, (entry, now) => {
    parts.store.put(Schedule.delivered(entry, now), now)
  }, (timer) => timers[timer].nudge())
  parts.store.onArrival((topic, queueId) => {
    const entries = parts.store.entries(topic, queueId)
    const last = entries[entries.length - 1]
    if (last !== undefined) parts.polling.arrived(topic, queueId, last.queueOffset, last.tagsCode)
  })

  const processors: ReadonlyMap<number, Handler> = new Map([
    ...AdminProcessor.make(parts),
    ...SendProcessor.make(parts),
    ...PullProcessor.make(parts),
    ...ClientProcessor.make(parts),
    ...OffsetProcessor.make(parts),
    ...ResetProcessor.make(parts),
    ...GroupProcessor.make(parts),
    ...SendBack.make(parts),
    ...LockProcessor.make(parts),
    ...ConsumerCallProcessor.make(parts),
    ...Transactions.processors(parts)
  ])

  const registerAll = () =>
    config.nameServer.register({ brokerName: config.name, address, topics: parts.topics.all() })

  const connectionClosed = (channel: ClientChannel) =>
    Effect.suspend(() => Parts.notify(parts.clients.channelClosed(channel.id, parts.groups.notifyEnabled)))

  const housekeeping = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const expired = parts.clients.expire(now, config.settings.channelExpiredTimeoutMillis)
    // Java closes an expired connection; its close event removes it from the groups it is still in.
    yield* Effect.forEach(expired, (channel) => channel.close, { discard: true })
  })

  const checkCounter = { n: 0 }

  // Re-registration owed after the name server deleted one of this broker's topics.
  let registrationOwed = false
  config.nameServer.onDelete((topic) => {
    if (parts.topics.get(topic) === undefined) return
    registrationOwed = true
    timers.registration.nudge()
  })
  const timers = {
    housekeeping: Timers.whileActive(
      HOUSEKEEPING_INTERVAL_MILLIS,
      () => parts.clients.producerGroups().length > 0 || parts.clients.consumerGroups().length > 0,
      housekeeping
    ),
    registration: Timers.whileActive(config.settings.registerIntervalMillis, () => registrationOwed, Effect.sync(() => {
      registrationOwed = false
      registerAll()
    })),
    transactions: Timers.whileActive(
      config.settings.transactionCheckIntervalMillis,
      () => parts.transactions.pending.size > 0,
      Transactions.check(parts, checkCounter)
    )
  }

  const start: Effect.Effect<void, RemotingServer.ServerListenError> = Effect.suspend(() => {
    if (running) return Effect.void
    return Effect.gen(function*() {
      const scope = yield* Scope.fork(config.scope)
      period = { scope, stopped: Deferred.makeUnsafe<void>() }
      running = true
      generation++
      bootTimestamp = config.now()
      registerAll()
      yield* Effect.forkIn(schedule.run, scope)
      for (const timer of Object.values(timers)) yield* Effect.forkIn(timer.run, scope)
      for (const listener of listeners) yield* listener(scope)
    }).pipe(Effect.onError(() => stop))
  })

  const stop: Effect.Effect<void> = Effect.suspend(() => {
    const current = period
    if (current === undefined) return Effect.void
    period = undefined
    running = false
    config.nameServer.unregister(config.name)
    parts.clients.clear()
    parts.locks.clear()
    Deferred.doneUnsafe(current.stopped, Exit.void)
    return Scope.close(current.scope, Exit.void)
  })

  const overrides = new Map<number, Handler>()
  const own = dispatch(processors)

  return {
    name: config.name,
    parts,
    processors,
    handle: (request, context) => (overrides.get(request.code) ?? own)(request, context),
    override: (code, handler) => {
      if (handler === undefined) overrides.delete(code)
      else overrides.set(code, handler)
    },
    address: () => address,
    setAddress: (next) => {
      if (running) config.nameServer.unregister(config.name)
      address = next
      if (running) registerAll()
    },
    isRunning: () => running,
    generation: () => generation,
    start,
    stop,
    listen: (listener) =>
      Effect.suspend(() => {
        listeners.push(listener)
        return period === undefined ? Effect.void : listener(period.scope)
      }),
    connectionClosed,
    scheduled: schedule.pending,
    stopped: () => period === undefined ? Effect.void : Deferred.await(period.stopped)
  }
}
