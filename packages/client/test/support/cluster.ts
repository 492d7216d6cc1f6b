/**
 * An in-memory network for client-layer tests: the embedded RocketMQ (or scripted name servers and
 * brokers) served at fixed addresses, every request recorded, and the connections a
 * `ClientInstance` opens made in memory, so `TestClock` drives every timer.
 */
import * as Message from "../../src/Message.ts"
import * as StoredMessage from "../../src/StoredMessage.ts"
import { type RemotingClient, RemotingCommand, type RemotingServer, RequestCode, ResponseCode, type RpcHook } from "@effect-rocketmq/remoting"
import { InMemoryRocketMQ, RemotingTest } from "@effect-rocketmq/testkit"
import { type Duration, Effect, Exit, Scope } from "effect"
import { TestClock } from "effect/testing"

export const NAMESRV = "127.0.0.1:9876"
export const BROKER_A = "127.0.0.1:10911"

export interface Received {
  readonly address: string
  readonly request: RemotingCommand.RemotingCommand
}

/** Requests received by every server of a network, and the last connection each client used. */
export interface Recorder {
  readonly received: Array<Received>
  readonly connections: Map<string, RemotingServer.ServerConnection>
  readonly of: (code: number, address?: string) => ReadonlyArray<RemotingCommand.RemotingCommand>
}

export const makeRecorder = (): Recorder => {
  const received: Array<Received> = []
  return {
    received,
    connections: new Map(),
    of: (code, address) =>
      received.filter((r) => r.request.code === code && (address === undefined || r.address === address)).map((r) => r.request)
  }
}

/** Processors that record each request (and its connection) before handling it. */
export const recording = (
  recorder: Recorder,
  address: string,
  processors: ReadonlyMap<number, RemotingServer.Processor> | ReadonlyMap<number, InMemoryRocketMQ.Handler>
): Map<number, RemotingServer.Processor> =>
  new Map([...processors].map(([code, handle]) => [
    code,
    (request: RemotingCommand.RemotingCommand, context: RemotingServer.ProcessorContext) => {
      recorder.received.push({ address, request })
      recorder.connections.set(address, context.connection)
      return (handle as RemotingServer.Processor)(request, context)
    }
  ]))

/**
 * Where a test's client connects, and how its requests are recorded: `hooks` for the client (the
 * embedded cluster records what the client sends), nothing for scripted servers (they record what
 * they receive).
 */
export interface Fixture {
  readonly connect: RemotingClient.ChannelFactory
  readonly recorder: Recorder
  readonly hooks: ReadonlyArray<RpcHook.RpcHook>
}

/** A hook recording every request the client sends (connected to a server), by address. */
const recordingHook = (recorder: Recorder): RpcHook.RpcHook => ({
  name: "record",
  beforeRequest: (address, request) =>
    Effect.sync(() => {
      recorder.received.push({ address, request })
      return request
    })
})

/**
 * The embedded RocketMQ (name server at {@link NAMESRV}, `broker-a` at {@link BROKER_A}, then
 * `broker-b` at {@link BROKER_B} when asked for two) on an in-memory network; the client's requests
 * are recorded.
 */
export const embedded = (options?: InMemoryRocketMQ.Options) =>
  Effect.gen(function*() {
    const rmq = yield* InMemoryRocketMQ.make(options)
    const served = yield* InMemoryRocketMQ.network(rmq)
    const recorder = makeRecorder()
    const fixture: Fixture = { connect: served.channelFactory, recorder, hooks: [recordingHook(recorder)] }
    return { rmq, broker: rmq.broker(), recorder, fixture }
  })

/** A fixture whose servers record what they receive. */
export const scriptedFixture = (network: RemotingTest.InMemoryNetwork, recorder: Recorder): Fixture => ({
  connect: network.connect,
  recorder,
  hooks: []
})

/** A name server answering GET_ROUTEINFO_BY_TOPIC from `routes` (TOPIC_NOT_EXIST when absent). */
export const scriptedNameServer = (routes: Map<string, unknown>): Map<number, RemotingServer.Processor> =>
  new Map([[
    RequestCode.GET_ROUTEINFO_BY_TOPIC,
    (request: RemotingCommand.RemotingCommand) => {
      const route = routes.get(request.extFields.topic ?? "")
      return Effect.succeed(
        route === undefined
          ? RemotingCommand.response(request, ResponseCode.TOPIC_NOT_EXIST, `No topic route info in name server for the topic: ${request.extFields.topic}`)
          : RemotingCommand.response(request, ResponseCode.SUCCESS, undefined, { body: new TextEncoder().encode(JSON.stringify(route)) })
      )
    }
  ]])

/** A broker answering HEART_BEAT and UNREGISTER_CLIENT with SUCCESS. */
export const scriptedBroker = (): Map<number, RemotingServer.Processor> =>
  new Map([RequestCode.HEART_BEAT, RequestCode.UNREGISTER_CLIENT].map((code) => [
    code,
    (request: RemotingCommand.RemotingCommand) => Effect.succeed(RemotingCommand.response(request, ResponseCode.SUCCESS))
  ]))

/** A route JSON body with one broker group of 4 read/write queues per entry of `brokers`. */
export const routeOf = (brokers: ReadonlyArray<{ readonly name: string; readonly addrs: Record<string, string> }>) => ({
  brokerDatas: brokers.map((b) => ({ brokerAddrs: b.addrs, brokerName: b.name, cluster: "DefaultCluster" })),
  queueDatas: brokers.map((b) => ({ brokerName: b.name, perm: 6, readQueueNums: 4, writeQueueNums: 4, topicSysFlag: 0 })),
  filterServerTable: {}
})

/**
 * Waits (real time, at most `seconds`) until `check` holds; I/O on the in-memory network completes
 * on real ticks even while `TestClock` stands still. Returns whether it held.
 */
export const eventually = <E, R>(check: Effect.Effect<boolean, E, R>, seconds = 5): Effect.Effect<boolean, E, R> =>
  Effect.gen(function*() {
    for (let i = 0; i < seconds * 200; i++) {
      if (yield* check) return true
      yield* TestClock.withLive(Effect.sleep("5 millis"))
    }
    return yield* check
  })

/** Advances `TestClock` by `duration` and lets the I/O it starts settle. */
export const advance = (duration: Parameters<typeof TestClock.adjust>[0]) =>
  Effect.andThen(TestClock.adjust(duration), TestClock.withLive(Effect.sleep("30 millis")))

/** A stored-format half message as a broker puts it in CHECK_TRANSACTION_STATE's body. */
export const halfMessage = (topic: string, producerGroup: string, uniqId: string) =>
  StoredMessage.encode({
    topic,
    queueId: 0,
    flag: 0,
    queueOffset: 0n,
    commitLogOffset: 0n,
    sysFlag: 0,
    bornTimestamp: 0,
    storeTimestamp: 0,
    reconsumeTimes: 0,
    preparedTransactionOffset: 0n,
    body: new TextEncoder().encode("half"),
    properties: {
      [Message.PropertyKey.PRODUCER_GROUP]: producerGroup,
      [Message.PropertyKey.TRANSACTION_PREPARED]: "true",
      [Message.PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX]: uniqId
    },
    bornHost: { host: "127.0.0.1", port: 50000 },
    storeHost: { host: "127.0.0.1", port: 10911 }
  })

export const BROKER_B = "127.0.0.1:10921"

/** What a scripted broker does with a send; `store` is what the embedded broker would do. */
export type SendBehavior = (
  request: RemotingCommand.RemotingCommand,
  store: (request: RemotingCommand.RemotingCommand) => Effect.Effect<RemotingCommand.RemotingCommand | undefined>
) => Effect.Effect<RemotingCommand.RemotingCommand | undefined>

/** Answers `code` with `remark`. */
export const answer = (code: number, remark?: string): SendBehavior => (request) =>
  Effect.succeed(RemotingCommand.response(request, code, remark))

/** Waits `duration` (on the test clock), then behaves as `then`. */
export const after = (duration: Duration.Input, then: SendBehavior): SendBehavior => (request, store) =>
  Effect.andThen(Effect.sleep(duration), then(request, store))

/** Stores the first `count` sends, then behaves as `then`. */
export const storeFirst = (count: number, then: SendBehavior): SendBehavior => {
  let seen = 0
  return (request, store) => (seen++ < count ? store(request) : then(request, store))
}

/** One broker of {@link twoBrokers}: the embedded broker behind it, and its switches. */
export interface TestBroker {
  readonly name: string
  readonly address: string
  readonly embedded: InMemoryRocketMQ.Broker
  /** Sends are answered by this instead of being stored, while set. */
  behavior: SendBehavior | undefined
  /** Stops serving: connects are refused, open connections close. */
  readonly stop: Effect.Effect<void>
  readonly start: Effect.Effect<void, RemotingServer.ServerListenError>
}

const SEND_CODES: ReadonlySet<number> = new Set([RequestCode.SEND_MESSAGE_V2, RequestCode.SEND_BATCH_MESSAGE, RequestCode.SEND_MESSAGE])

/**
 * A scripted name server and the two brokers of an embedded cluster, `broker-a` and `broker-b`,
 * served on an in-memory network (each broker can be stopped and told how to answer sends), with 4
 * queues of `topic` on each in the route (and in `TBW102`'s). Change `routes` to change what the
 * name server says. The servers record what they receive.
 */
export const twoBrokers = (topic: string) =>
  Effect.gen(function*() {
    const network = yield* RemotingTest.makeNetwork
    const recorder = makeRecorder()
    const routes = new Map<string, unknown>()
    const rmq = yield* InMemoryRocketMQ.make({ brokers: 2 })
    yield* network.serve(NAMESRV, { processors: recording(recorder, NAMESRV, scriptedNameServer(routes)), shutdownTimeout: 0 })
    const outer = yield* Effect.scope
    const make = (embedded: InMemoryRocketMQ.Broker) =>
      Effect.gen(function*() {
        const address = embedded.address()
        let scope: Scope.Closeable | undefined
        const broker: TestBroker = {
          name: embedded.name,
          address,
          embedded,
          behavior: undefined,
          stop: Effect.suspend(() => {
            const open = scope
            scope = undefined
            return open === undefined ? Effect.void : Scope.close(open, Exit.void)
          }),
          start: Effect.gen(function*() {
            if (scope !== undefined) return
            const processors = new Map([...embedded.processors].map(([code, handle]) => [
              code,
              (request: RemotingCommand.RemotingCommand) =>
                broker.behavior !== undefined && SEND_CODES.has(code) ? broker.behavior(request, (r) => handle(r)) : handle(request)
            ]))
            const child = yield* Scope.fork(outer)
            yield* Scope.provide(network.serve(address, { processors: recording(recorder, address, processors), shutdownTimeout: 0 }), child)
            scope = child
          })
        }
        yield* broker.start
        return broker
      })
    const a = yield* make(rmq.broker("broker-a")!)
    const b = yield* make(rmq.broker("broker-b")!)
    const both = routeOf([{ name: "broker-a", addrs: { "0": a.address } }, { name: "broker-b", addrs: { "0": b.address } }])
    routes.set(topic, both)
    routes.set("TBW102", both)
    return { network, recorder, routes, a, b, both, fixture: scriptedFixture(network, recorder) }
  })

/** Messages a broker of an embedded cluster holds for `topic`, over its first four queues. */
export const stored = (broker: InMemoryRocketMQ.Broker, topic: string) =>
  [0, 1, 2, 3].reduce((n, queueId) => n + broker.queueSize(topic, queueId), 0)

/** Sends (any send code) a broker received. */
export const sendsTo = (recorder: Recorder, address: string) =>
  recorder.received.filter((r) => r.address === address && SEND_CODES.has(r.request.code)).map((r) => r.request)
