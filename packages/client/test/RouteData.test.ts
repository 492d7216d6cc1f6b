import { assert, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as RouteData from "../src/RouteData.ts"
import { sampleFrame, sampleText } from "./support/samples.ts"

describe("RouteData", () => {
  it.effect("decodes a real 5.3.3 route (golden route-105, standard JSON)", () =>
    Effect.gen(function*() {
      const response = sampleFrame("route-105")
      assert.strictEqual(new TextDecoder().decode(response.body), sampleText("route-105"))
      const route = yield* RouteData.decodeTopicRouteData(response.body)
      expect(route).toEqual({
        brokerDatas: [{
          brokerAddrs: { "0": "127.0.0.1:10911" },
          brokerName: "broker-a",
          cluster: "DefaultCluster",
          enableActingMaster: false
        }],
        filterServerTable: {},
        queueDatas: [{ brokerName: "broker-a", perm: 7, readQueueNums: 16, topicSysFlag: 0, writeQueueNums: 16 }]
      })
      assert.strictEqual(RouteData.masterAddress(route.brokerDatas[0]!), "127.0.0.1:10911")
    }))

  it.effect("lists write and read queues of a route as the Java client does (golden route-105-TestTopic)", () =>
    Effect.gen(function*() {
      const route = yield* RouteData.decodeTopicRouteData(sampleFrame("route-105-TestTopic").body)
      expect(RouteData.writeQueues("TestTopic", route)).toEqual(
        [0, 1, 2, 3].map((queueId) => ({ topic: "TestTopic", brokerName: "broker-a", queueId }))
      )
      assert.strictEqual(RouteData.readQueues("TestTopic", route).length, 4)
      assert.strictEqual(RouteData.brokerAddress(route, "broker-a"), "127.0.0.1:10911")
      assert.isUndefined(RouteData.brokerAddress(route, "broker-b"))
    }))

  it.effect("skips queues without the permission bit or without a master", () =>
    Effect.gen(function*() {
      const route = yield* RouteData.decodeTopicRouteData(JSON.stringify({
        brokerDatas: [
          { brokerAddrs: { "0": "a:1" }, brokerName: "b", cluster: "c" },
          { brokerAddrs: { "1": "slave:1" }, brokerName: "a", cluster: "c" }
        ],
        queueDatas: [
          { brokerName: "a", perm: 6, readQueueNums: 2, writeQueueNums: 2, topicSysFlag: 0 },
          { brokerName: "b", perm: 4, readQueueNums: 3, writeQueueNums: 1, topicSysFlag: 0 }
        ]
      }))
      expect(RouteData.writeQueues("t", route)).toEqual([])
      expect(RouteData.readQueues("t", route).map((q) => `${q.brokerName}/${q.queueId}`)).toEqual(["b/0", "b/1", "b/2"])
    }))

  it.effect("decodes real cluster info with fastjson's bare integer keys (golden cluster-info-106)", () =>
    Effect.gen(function*() {
      const body = sampleFrame("cluster-info-106").body
      expect(new TextDecoder().decode(body)).toContain("{0:\"127.0.0.1:10911\"}")
      const info = yield* RouteData.decodeClusterInfo(body)
      expect(info).toEqual({
        brokerAddrTable: {
          "broker-a": {
            brokerAddrs: { "0": "127.0.0.1:10911" },
            brokerName: "broker-a",
            cluster: "DefaultCluster",
            enableActingMaster: false
          }
        },
        clusterAddrTable: { DefaultCluster: ["broker-a"] }
      })
    }))

  it.effect("decodes a legacy route with bare keys and the optional parts Java may add", () =>
    Effect.gen(function*() {
      const route = yield* RouteData.decodeTopicRouteData(
        "{\"brokerDatas\":[{\"brokerAddrs\":{0:\"10.0.0.1:10911\",1:\"10.0.0.2:10911\"},\"brokerName\":\"broker-a\"," +
          "\"cluster\":\"C\",\"enableActingMaster\":false,\"zoneName\":\"z1\"}],\"filterServerTable\":{}," +
          "\"orderTopicConf\":\"broker-a:4\",\"queueDatas\":[{\"brokerName\":\"broker-a\",\"perm\":6,\"readQueueNums\":4," +
          "\"topicSysFlag\":0,\"writeQueueNums\":4}],\"topicQueueMappingByBroker\":{\"broker-a\":{\"currIdMap\":{0:0}}}}"
      )
      expect(route.brokerDatas[0]!.brokerAddrs).toEqual({ "0": "10.0.0.1:10911", "1": "10.0.0.2:10911" })
      assert.strictEqual(route.orderTopicConf, "broker-a:4")
      expect(route.topicQueueMappingByBroker).toEqual({ "broker-a": { currIdMap: { "0": 0 } } })
    }))

  it.effect("decodes the topic list", () =>
    Effect.gen(function*() {
      expect(yield* RouteData.decodeTopicList("{\"topicList\":[\"a\",\"b\"]}")).toEqual({ topicList: ["a", "b"] })
    }))

  it.effect("keeps hostile keys such as __proto__ as data and pollutes nothing", () =>
    Effect.gen(function*() {
      const info = yield* RouteData.decodeClusterInfo(
        "{\"brokerAddrTable\":{\"__proto__\":{\"brokerAddrs\":{\"__proto__\":\"x:1\",0:\"y:2\"},\"brokerName\":\"p\"," +
          "\"cluster\":\"c\"}},\"clusterAddrTable\":{\"constructor\":[\"p\"]}}"
      )
      assert.isTrue(Object.prototype.hasOwnProperty.call(info.brokerAddrTable, "__proto__"))
      const broker = info.brokerAddrTable["__proto__"]!
      assert.strictEqual(broker.brokerName, "p")
      assert.strictEqual(RouteData.masterAddress(broker), "y:2")
      assert.isUndefined(({} as Record<string, unknown>)["brokerName"])
      expect(info.clusterAddrTable["constructor"]).toEqual(["p"])
    }))

  it.effect("fails with a BodyDecodeError naming the body and the problem", () =>
    Effect.gen(function*() {
      const missing = yield* Effect.flip(RouteData.decodeTopicRouteData("{\"queueDatas\":[]}"))
      assert.strictEqual(missing._tag, "BodyDecodeError")
      expect(missing.message).toContain("TopicRouteData")
      expect(missing.message).toContain("brokerDatas")
      const wrongType = yield* Effect.flip(
        RouteData.decodeTopicRouteData("{\"brokerDatas\":[],\"queueDatas\":[{\"brokerName\":\"a\",\"perm\":\"6\"}]}")
      )
      expect(wrongType.message).toContain("perm")
      expect((yield* Effect.flip(RouteData.decodeClusterInfo(undefined))).message).toContain("no body")
      expect((yield* Effect.flip(RouteData.decodeClusterInfo("not json"))).message).toContain("Not valid JSON")
    }))
})
