import { assert, describe, expect, it } from "@effect/vitest"
import { RemotingClient, RemotingError } from "@effect-rocketmq/remoting"
import { Effect, Layer } from "effect"
import * as NameServer from "../src/NameServer.ts"
import * as Fake from "./support/FakeRemotingClient.ts"
import { sampleFrame } from "./support/samples.ts"

describe("NameServer", () => {
  it.effect("getRouteInfoByTopic sends 105 {topic, acceptStandardJsonOnly=true} at version 479 to the name servers", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.replay(sampleFrame("route-105-TestTopic")))
      const route = yield* NameServer.getRouteInfoByTopic("TestTopic").pipe(Effect.provide(fake.layer))
      assert.strictEqual(fake.sent.length, 1)
      const { address, request } = fake.sent[0]!
      assert.strictEqual(address, "nameserver")
      assert.strictEqual(request.code, 105)
      assert.strictEqual(request.version, 479)
      expect({ ...request.extFields }).toEqual({ topic: "TestTopic", acceptStandardJsonOnly: "true" })
      assert.isUndefined(request.body)
      expect(route.queueDatas).toEqual([{ brokerName: "broker-a", perm: 6, readQueueNums: 4, topicSysFlag: 0, writeQueueNums: 4 }])
    }))

  it.effect("asks one name server when given an address, with the given timeout", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.replay(sampleFrame("route-105")))
      yield* NameServer.getRouteInfoByTopic("DefaultCluster", { address: "10.0.0.9:9876", timeoutMillis: 1234 }).pipe(
        Effect.provide(fake.layer)
      )
      expect(fake.sent.map((s) => [s.address, s.timeoutMillis])).toEqual([["10.0.0.9:9876", 1234]])
    }))

  it.effect("maps TOPIC_NOT_EXIST to TopicNotExist with the topic, codes, names and remark (golden route-105-not-found)", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.replay(sampleFrame("route-105-not-found")))
      const error = yield* Effect.flip(NameServer.getRouteInfoByTopic("TestTopic").pipe(Effect.provide(fake.layer)))
      assert.strictEqual(error._tag, "TopicNotExist")
      if (error._tag !== "TopicNotExist") return
      expect(error).toMatchObject({
        address: "",
        topic: "TestTopic",
        requestCode: 105,
        requestName: "GET_ROUTEINFO_BY_TOPIC",
        responseCode: 17,
        responseName: "TOPIC_NOT_EXIST"
      })
      expect(error.remark).toContain("No topic route info in name server for the topic: TestTopic")
      expect(error.message).toContain("topic \"TestTopic\" does not exist")
      expect(error.message).toContain("the name server")
    }))

  it.effect("getBrokerClusterInfo sends 106 without fields and reads fastjson's bare keys (golden cluster-info-106)", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.replay(sampleFrame("cluster-info-106")))
      const info = yield* NameServer.getBrokerClusterInfo().pipe(Effect.provide(fake.layer))
      const request = fake.sent[0]!.request
      assert.strictEqual(request.code, 106)
      expect(Object.keys(request.extFields)).toEqual([])
      expect(info.brokerAddrTable["broker-a"]!.brokerAddrs).toEqual({ "0": "127.0.0.1:10911" })
      expect(info.clusterAddrTable).toEqual({ DefaultCluster: ["broker-a"] })
    }))

  it.effect("getAllTopicList sends 206 and reads the topic list", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0, { body: "{\"topicList\":[\"TBW102\",\"TestTopic\"]}" }))
      const list = yield* NameServer.getAllTopicList().pipe(Effect.provide(fake.layer))
      assert.strictEqual(fake.sent[0]!.request.code, 206)
      expect(list.topicList).toEqual(["TBW102", "TestTopic"])
    }))

  it.effect("turns any other response code into a RemoteError (golden unsupported-code-3)", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.replay(sampleFrame("unsupported-code-3")))
      const error = yield* Effect.flip(NameServer.getBrokerClusterInfo().pipe(Effect.provide(fake.layer)))
      assert.strictEqual(error._tag, "RemoteError")
      if (error._tag !== "RemoteError") return
      expect(error).toMatchObject({
        requestCode: 106,
        requestName: "GET_BROKER_CLUSTER_INFO",
        responseCode: 3,
        responseName: "REQUEST_CODE_NOT_SUPPORTED",
        remark: " request type 9999 not supported"
      })
      expect(error.message).toContain("failed with REQUEST_CODE_NOT_SUPPORTED (3): \"request type 9999 not supported\"")
      assert.isFalse(error.isRetryable)
      // Route queries only say TopicNotExist for code 17.
      const busy = yield* Effect.flip(
        NameServer.getRouteInfoByTopic("t").pipe(Effect.provide(Fake.make(Fake.answer(2, { remark: "busy" })).layer))
      )
      assert.strictEqual(busy._tag, "RemoteError")
      assert.isTrue(busy._tag === "RemoteError" && busy.isRetryable)
    }))

  it.effect("reports an unreadable success body as ResponseDecodeError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        NameServer.getRouteInfoByTopic("t").pipe(Effect.provide(Fake.make(Fake.answer(0, { body: "{oops" })).layer))
      )
      assert.strictEqual(error._tag, "ResponseDecodeError")
      if (error._tag !== "ResponseDecodeError") return
      assert.strictEqual(error.part, "body")
      expect(error.message).toContain("TopicRouteData")
      const empty = yield* Effect.flip(
        NameServer.getAllTopicList().pipe(Effect.provide(Fake.make(Fake.answer(0)).layer))
      )
      expect(empty.message).toContain("no body")
    }))

  it.effect("passes transport errors through unchanged", () =>
    Effect.gen(function*() {
      const timeout = new RemotingError.RequestTimeout({
        address: "127.0.0.1:9876",
        requestCode: 105,
        opaque: 1,
        timeoutMillis: 3000,
        written: true
      })
      const layer = Layer.succeed(
        RemotingClient.RemotingClient,
        RemotingClient.fromCalls({
          invoke: () => Effect.fail(timeout),
          invokeOneway: () => Effect.fail(timeout),
          invokeNameServer: () => Effect.fail(timeout)
        })
      )
      const error = yield* Effect.flip(NameServer.getRouteInfoByTopic("t").pipe(Effect.provide(layer)))
      assert.strictEqual(error, timeout)
    }))

  it.effect("fails with InvalidRequest before sending when the request cannot be built", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0))
      // A topic is any string for the header codec; a non-string smuggled in at runtime is caught.
      const error = yield* Effect.flip(
        NameServer.getRouteInfoByTopic(42 as unknown as string).pipe(Effect.provide(fake.layer))
      )
      assert.strictEqual(error._tag, "InvalidRequest")
      assert.strictEqual(fake.sent.length, 0)
    }))

  it.effect("getTopicsByCluster sends 224 {cluster} to the name servers within 5 s and reads the topic list", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0, { body: "{\"topicList\":[\"A\",\"B\"]}" }))
      const list = yield* NameServer.getTopicsByCluster("DefaultCluster").pipe(Effect.provide(fake.layer))
      expect(list.topicList).toEqual(["A", "B"])
      expect(fake.sent.map((s) => [s.address, s.request.code, { ...s.request.extFields }, s.timeoutMillis]))
        .toEqual([["nameserver", 224, { cluster: "DefaultCluster" }, 5000]])
    }))

  it.effect("deleteTopicInNameServer sends 216 {topic (+ clusterName)} to one name server or the configured ones", () =>
    Effect.gen(function*() {
      const fake = Fake.make(Fake.answer(0))
      yield* NameServer.deleteTopicInNameServer("T").pipe(Effect.provide(fake.layer))
      yield* NameServer.deleteTopicInNameServer("T", { address: "10.0.0.1:9876", clusterName: "C" }).pipe(Effect.provide(fake.layer))
      expect(fake.sent.map((s) => [s.address, s.request.code, { ...s.request.extFields }, s.timeoutMillis])).toEqual([
        ["nameserver", 216, { topic: "T" }, 5000],
        ["10.0.0.1:9876", 216, { topic: "T", clusterName: "C" }, 5000]
      ])
      const refused = yield* Effect.flip(NameServer.deleteTopicInNameServer("T").pipe(Effect.provide(Fake.make(Fake.answer(1, { remark: "x" })).layer)))
      expect(refused).toMatchObject({ _tag: "RemoteError", requestName: "DELETE_TOPIC_IN_NAMESRV" })
    }))
})

