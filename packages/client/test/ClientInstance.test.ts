import { RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { RemotingTest } from "@effect-rocketmq/testkit"
import { assert, describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Option, Scope, Stream } from "effect"
import * as Admin from "../src/Admin.ts"
import * as ClientInstance from "../src/ClientInstance.ts"
import * as Heartbeat from "../src/Heartbeat.ts"
import * as MessageQueue from "../src/MessageQueue.ts"
import {
  advance,
  BROKER_A,
  embedded,
  eventually,
  type Fixture,
  halfMessage,
  makeRecorder,
  NAMESRV,
  recording,
  routeOf,
  scriptedBroker,
  scriptedFixture,
  scriptedNameServer
} from "./support/cluster.ts"

const decodeHeartbeat = (request: RemotingCommand.RemotingCommand) => Effect.runSync(Heartbeat.decode(request.body))

const instanceOn = (fixture: Fixture, options?: ClientInstance.ClientInstanceOptions) =>
  ClientInstance.make({
    nameServerAddresses: NAMESRV,
    clientIP: "10.0.0.5",
    ...options,
    remoting: { channelFactory: fixture.connect, hooks: fixture.hooks, ...options?.remoting }
  })

const routeRequests = (recorder: ReturnType<typeof makeRecorder>, topic: string) =>
  recorder.of(RequestCode.GET_ROUTEINFO_BY_TOPIC).filter((r) => r.extFields.topic === topic).length

/** A scripted name server and brokers `a` (master 10911, slave 10912) and `b` (master 10921). */
const scripted = (routes: Map<string, unknown>) =>
  Effect.gen(function*() {
    const network = yield* RemotingTest.makeNetwork
    const recorder = makeRecorder()
    yield* network.serve(NAMESRV, { processors: recording(recorder, NAMESRV, scriptedNameServer(routes)), shutdownTimeout: 0 })
    for (const address of ["127.0.0.1:10911", "127.0.0.1:10912", "127.0.0.1:10921"]) {
      yield* network.serve(address, { processors: recording(recorder, address, scriptedBroker()), shutdownTimeout: 0 })
    }
    return { network, recorder, fixture: scriptedFixture(network, recorder) }
  })

const consumerData = (groupName: string): Heartbeat.ConsumerData => ({
  groupName,
  consumeType: "CONSUME_PASSIVELY",
  messageModel: "CLUSTERING",
  consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
  subscriptionDataSet: [Heartbeat.subscription("Orders", "*", 1)],
  unitMode: false
})

const masterAndSlave = routeOf([{ name: "a", addrs: { "0": "127.0.0.1:10911", "1": "127.0.0.1:10912" } }])

describe("ClientInstance", () => {
  describe("client id", () => {
    it.effect("forms ip@pid#nanos from the DEFAULT instance name, and keeps any other name", () =>
      Effect.gen(function*() {
        const { fixture } = yield* embedded()
        const byDefault = yield* instanceOn(fixture)
        assert.match(byDefault.clientId, new RegExp(`^10\\.0\\.0\\.5@${process.pid}#\\d+$`))
        const named = yield* instanceOn(fixture, { instanceName: "orders", unitName: "unit1" })
        assert.strictEqual(named.clientId, "10.0.0.5@orders@unit1")
      }))
  })

  describe("routes", () => {
    it.effect("fetches a topic's route once however many callers ask at the same time", () =>
      Effect.gen(function*() {
        const { fixture, recorder } = yield* embedded()
        const instance = yield* instanceOn(fixture)
        yield* instance.provide(Admin.createTopic(BROKER_A, "Orders", { queueNums: 4 }))
        const routes = yield* Effect.forEach(Array.from({ length: 10 }), () => instance.route("Orders"), { concurrency: "unbounded" })
        assert.strictEqual(routeRequests(recorder, "Orders"), 1)
        expect(routes[9]!.publishQueues.map(MessageQueue.key)).toEqual([0, 1, 2, 3].map((i) => `Orders@broker-a@${i}`))
        expect(routes[9]!.subscribeQueues.length).toBe(4)
        // Later calls use the cache.
        yield* instance.route("Orders")
        assert.strictEqual(routeRequests(recorder, "Orders"), 1)
      }))

    it.effect("refreshes every known route each pollNameServerInterval and applies what changed", () =>
      Effect.gen(function*() {
        const { fixture, recorder } = yield* embedded()
        const instance = yield* instanceOn(fixture)
        yield* instance.provide(Admin.createTopic(BROKER_A, "Orders", { queueNums: 4 }))
        assert.strictEqual((yield* instance.route("Orders")).publishQueues.length, 4)
        yield* advance("100 millis") // the first refresh, 10 ms after start
        yield* instance.provide(Admin.createTopic(BROKER_A, "Orders", { queueNums: 8 }))
        yield* advance("29 seconds")
        assert.strictEqual((yield* instance.route("Orders")).publishQueues.length, 4, "not before the interval")
        yield* advance("2 seconds")
        assert.isTrue(yield* eventually(Effect.map(instance.route("Orders"), (r) => r.publishQueues.length === 8)))
        assert.isAtLeast(routeRequests(recorder, "Orders"), 2)
      }))

    it.effect("keeps the known route when the name server later answers TOPIC_NOT_EXIST", () =>
      Effect.gen(function*() {
        const routes = new Map<string, unknown>([["Orders", masterAndSlave]])
        const { fixture } = yield* scripted(routes)
        const instance = yield* instanceOn(fixture)
        yield* instance.route("Orders")
        routes.delete("Orders")
        const refreshed = yield* Effect.flip(instance.refreshRoute("Orders"))
        assert.strictEqual(refreshed._tag, "TopicNotExist")
        assert.strictEqual((yield* instance.route("Orders")).publishQueues.length, 4)
        assert.strictEqual((yield* instance.publishRoute("Orders")).publishQueues.length, 4)
      }))

    it.effect("falls back to TBW102's route, capped at 4 queues, for a topic the name server does not know", () =>
      Effect.gen(function*() {
        const { fixture } = yield* embedded()
        const instance = yield* instanceOn(fixture)
        const route = yield* instance.publishRoute("NewTopic")
        assert.isTrue(route.fromTemplate)
        expect(route.publishQueues.map(MessageQueue.key)).toEqual([0, 1, 2, 3].map((i) => `NewTopic@broker-a@${i}`))
        // Stored under the topic's name: the next call uses it without asking again.
        assert.strictEqual((yield* instance.route("NewTopic")).fromTemplate, true)
      }))

    it.effect("fails with NoRouteInfo when neither the topic nor TBW102 has a route", () =>
      Effect.gen(function*() {
        const { fixture } = yield* scripted(new Map())
        const instance = yield* instanceOn(fixture)
        const error = yield* Effect.flip(instance.publishRoute("Missing"))
        assert.strictEqual(error._tag, "NoRouteInfo")
        assert.include(error.message, "Missing")
        assert.isTrue(error.isRetryable)
        assert.isFalse(error.mayHaveReachedPeer)
      }))

    it.effect("publishes the whole route table to subscribers whenever a route changes", () =>
      Effect.gen(function*() {
        const { fixture } = yield* embedded()
        const instance = yield* instanceOn(fixture)
        const seen = yield* instance.routeChanges.pipe(Stream.take(2), Stream.runCollect, Effect.forkChild({ startImmediately: true }))
        yield* instance.provide(Admin.createTopic(BROKER_A, "Orders", { queueNums: 2 }))
        yield* instance.route("Orders")
        const tables = yield* Fiber.join(seen)
        expect(tables.map((t) => [...t.keys()])).toEqual([[], ["Orders"]])
      }))

    it.effect("looks broker addresses up as Java does and drops the ones no route names any more", () =>
      Effect.gen(function*() {
        const routes = new Map<string, unknown>([
          ["Orders", masterAndSlave],
          ["Other", routeOf([{ name: "b", addrs: { "0": "127.0.0.1:10921" } }])]
        ])
        const { fixture } = yield* scripted(routes)
        const instance = yield* instanceOn(fixture)
        yield* instance.route("Orders")
        yield* instance.route("Other")
        assert.deepStrictEqual(yield* instance.publishAddress("a"), Option.some("127.0.0.1:10911"))
        expect(Option.getOrUndefined(yield* instance.subscribeAddress("a", 1, false))).toEqual({
          address: "127.0.0.1:10912",
          brokerId: 1,
          slave: true
        })
        assert.deepStrictEqual(yield* instance.anyBrokerAddress("Other"), Option.some("127.0.0.1:10921"))
        routes.set("Other", masterAndSlave)
        yield* instance.refreshRoute("Other")
        yield* advance("1 second") // the heartbeat tick cleans offline brokers first
        assert.deepStrictEqual([...(yield* instance.brokerAddresses).keys()], ["a"])
      }))
  })

  describe("registration and heartbeat", () => {
    it.effect("heartbeats every broker with the registered groups on registration and every 30 s", () =>
      Effect.gen(function*() {
        const { fixture, recorder } = yield* embedded()
        const instance = yield* instanceOn(fixture)
        yield* instance.provide(Admin.createTopic(BROKER_A, "Orders", { queueNums: 1 }))
        yield* instance.route("Orders")
        yield* instance.registerProducer("PG")
        assert.isTrue(yield* eventually(Effect.sync(() => recorder.of(RequestCode.HEART_BEAT, BROKER_A).length === 1)))
        const data = decodeHeartbeat(recorder.of(RequestCode.HEART_BEAT)[0]!)
        assert.strictEqual(data.clientID, instance.clientId)
        expect(data.producerDataSet).toEqual([{ groupName: "PG" }])
        expect(data.consumerDataSet).toEqual([])
        yield* advance("1 second")
        yield* advance("30 seconds")
        assert.strictEqual(recorder.of(RequestCode.HEART_BEAT).length, 3)
        assert.isTrue(Option.isSome(yield* instance.brokerVersion(BROKER_A)))
      }))

    it.effect("sends no heartbeat while nothing is registered", () =>
      Effect.gen(function*() {
        const { fixture, recorder } = yield* embedded()
        const instance = yield* instanceOn(fixture)
        yield* instance.route("TBW102")
        yield* advance("1 second")
        yield* advance("60 seconds")
        yield* instance.heartbeatNow
        assert.strictEqual(recorder.of(RequestCode.HEART_BEAT).length, 0)
      }))

    it.effect("heartbeats a broker as soon as a new route brings it in", () =>
      Effect.gen(function*() {
        const { fixture, recorder } = yield* scripted(new Map([["Orders", masterAndSlave]]))
        const instance = yield* instanceOn(fixture)
        yield* instance.registerProducer("PG")
        assert.strictEqual(recorder.of(RequestCode.HEART_BEAT).length, 0)
        yield* instance.route("Orders")
        assert.isTrue(yield* eventually(Effect.sync(() => recorder.of(RequestCode.HEART_BEAT, "127.0.0.1:10911").length === 1)))
      }))

    it.effect("heartbeats masters only, and every node once a consumer is registered", () =>
      Effect.gen(function*() {
        const { fixture, recorder } = yield* scripted(new Map([["Orders", masterAndSlave]]))
        const instance = yield* instanceOn(fixture)
        yield* instance.route("Orders")
        yield* instance.registerProducer("PG")
        yield* instance.heartbeatNow
        assert.strictEqual(recorder.of(RequestCode.HEART_BEAT, "127.0.0.1:10912").length, 0)
        const data = consumerData("CG")
        yield* instance.registerConsumer("CG", { data: Effect.succeed(data) })
        yield* instance.heartbeatNow
        const toSlave = recorder.of(RequestCode.HEART_BEAT, "127.0.0.1:10912")
        assert.isAtLeast(toSlave.length, 1)
        expect(decodeHeartbeat(toSlave[0]!).consumerDataSet).toEqual([data])
      }))

    it.effect("refuses a second registration of a group until the first is released", () =>
      Effect.gen(function*() {
        const { fixture } = yield* embedded()
        const instance = yield* instanceOn(fixture)
        const scope = yield* Scope.make()
        yield* Scope.provide(instance.registerProducer("PG"), scope)
        const error = yield* Effect.flip(instance.registerProducer("PG"))
        assert.strictEqual(error._tag, "GroupAlreadyRegistered")
        assert.include(error.message, "PG")
        yield* Scope.close(scope, Exit.void)
        yield* instance.registerProducer("PG")
        // A consumer group may have the name of a producer group.
        yield* instance.registerConsumer("PG", { data: Effect.succeed(consumerData("PG")) })
      }))

    it.effect("unregisters the group from every broker address when its registration is released", () =>
      Effect.gen(function*() {
        const { fixture, recorder } = yield* scripted(new Map([["Orders", masterAndSlave]]))
        const instance = yield* instanceOn(fixture)
        yield* instance.route("Orders")
        const scope = yield* Scope.make()
        yield* Scope.provide(instance.registerProducer("PG"), scope)
        yield* Scope.close(scope, Exit.void)
        for (const address of ["127.0.0.1:10911", "127.0.0.1:10912"]) {
          const sent = recorder.of(RequestCode.UNREGISTER_CLIENT, address)
          assert.strictEqual(sent.length, 1, address)
          expect(sent[0]!.extFields).toMatchObject({ clientID: instance.clientId, producerGroup: "PG" })
        }
      }))

    it.effect("stops its timers and closes its connections when its scope closes", () =>
      Effect.gen(function*() {
        const { fixture, recorder } = yield* embedded()
        const scope = yield* Scope.make()
        const instance = yield* Scope.provide(instanceOn(fixture), scope)
        yield* Scope.provide(instance.registerProducer("PG"), scope)
        yield* instance.route("TBW102")
        yield* advance("1 second")
        yield* Scope.close(scope, Exit.void)
        const before = recorder.received.length
        yield* advance("120 seconds")
        assert.strictEqual(recorder.received.length, before)
        const closed = yield* Effect.flip(instance.remotingClient.invoke(BROKER_A, RemotingCommand.make({ code: RequestCode.HEART_BEAT })))
        assert.include(closed._tag, "RemotingClient")
      }))
  })

  describe("requests from brokers", () => {
    it.effect("hands CHECK_TRANSACTION_STATE to the producer of the half message's group", () =>
      Effect.gen(function*() {
        const { fixture, recorder } = yield* scripted(new Map([["Orders", masterAndSlave]]))
        const instance = yield* instanceOn(fixture)
        const checked = yield* Deferred.make<ClientInstance.TransactionCheckRequest>()
        yield* instance.registerProducer("PG", { checkTransactionState: (check) => Deferred.succeed(checked, check) })
        yield* instance.route("Orders")
        assert.isTrue(yield* eventually(Effect.sync(() => recorder.connections.has(BROKER_A))))
        const channel = recorder.connections.get(BROKER_A)!.channel
        const extFields = { topic: "RMQ_SYS_TRANS_HALF_TOPIC", tranStateTableOffset: "7", commitLogOffset: "1024", msgId: "ID1" }
        // One for a group nobody registered (ignored), one for PG.
        yield* channel.sendOneway(RemotingCommand.make({ code: RequestCode.CHECK_TRANSACTION_STATE, extFields, body: yield* halfMessage("Orders", "Other", "ID0") }))
        yield* channel.sendOneway(RemotingCommand.make({ code: RequestCode.CHECK_TRANSACTION_STATE, extFields, body: yield* halfMessage("Orders", "PG", "ID1") }))
        const check = yield* Deferred.await(checked)
        assert.strictEqual(check.message.msgId, "ID1")
        assert.strictEqual(check.message.topic, "Orders")
        assert.strictEqual(check.request.extFields.commitLogOffset, "1024")
        assert.strictEqual(check.address.length > 0, true)
      }))

    it.effect("answers a consumer request with the group's handler, an unknown group with Java's SYSTEM_ERROR, an unknown code with REQUEST_CODE_NOT_SUPPORTED", () =>
      Effect.gen(function*() {
        const { fixture, recorder } = yield* scripted(new Map([["Orders", masterAndSlave]]))
        const instance = yield* instanceOn(fixture)
        yield* instance.registerConsumer("CG", {
          data: Effect.succeed(consumerData("CG")),
          handlers: {
            [RequestCode.GET_CONSUMER_RUNNING_INFO]: (request) =>
              Effect.succeed(RemotingCommand.response(request, ResponseCode.SUCCESS, undefined, { body: new TextEncoder().encode("{}") }))
          }
        })
        yield* instance.route("Orders")
        assert.isTrue(yield* eventually(Effect.sync(() => recorder.connections.has(BROKER_A))))
        const channel = recorder.connections.get(BROKER_A)!.channel
        const ask = (code: number, consumerGroup: string) =>
          channel.sendWaitResponse(RemotingCommand.make({ code, extFields: { consumerGroup, clientId: instance.clientId, jstackEnable: "false" } }))
        const ok = yield* ask(RequestCode.GET_CONSUMER_RUNNING_INFO, "CG")
        assert.strictEqual(ok.code, ResponseCode.SUCCESS)
        assert.strictEqual(new TextDecoder().decode(ok.body), "{}")
        const unknownGroup = yield* ask(RequestCode.GET_CONSUMER_RUNNING_INFO, "Nobody")
        assert.strictEqual(unknownGroup.code, ResponseCode.SYSTEM_ERROR)
        assert.strictEqual(unknownGroup.remark, "The Consumer Group <Nobody> not exist in this consumer")
        const noHandler = yield* ask(RequestCode.CONSUME_MESSAGE_DIRECTLY, "CG")
        assert.strictEqual(noHandler.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED)
        const unknownCode = yield* ask(RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT, "CG")
        assert.strictEqual(unknownCode.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED)
      }))
  })
})
