import { assert, describe, expect, it } from "@effect/vitest"
import * as Routes from "../../src/internal/routes.ts"
import * as MessageQueue from "../../src/MessageQueue.ts"
import type * as RouteData from "../../src/RouteData.ts"

const broker = (brokerName: string, brokerAddrs: Record<string, string>): RouteData.BrokerData => ({
  cluster: "DefaultCluster",
  brokerName,
  brokerAddrs
})
const queue = (brokerName: string, perm: number, readQueueNums: number, writeQueueNums: number): RouteData.QueueData => ({
  brokerName,
  perm,
  readQueueNums,
  writeQueueNums,
  topicSysFlag: 0
})
const keys = (queues: ReadonlyArray<MessageQueue.MessageQueue>) => queues.map(MessageQueue.key)

const twoBrokers: RouteData.TopicRouteData = {
  brokerDatas: [broker("broker-b", { "0": "b:1" }), broker("broker-a", { "0": "a:1", "1": "a:2" })],
  queueDatas: [queue("broker-b", 6, 2, 2), queue("broker-a", 6, 3, 2)]
}

describe("routes", () => {
  it("publishes to writable queues of brokers with a master, sorted by broker name", () => {
    const published = Routes.publishQueues("T", twoBrokers)
    assert.isFalse(published.orderTopic)
    expect(keys(published.queues)).toEqual(["T@broker-a@0", "T@broker-a@1", "T@broker-b@0", "T@broker-b@1"])
  })

  it("publishes an ordered topic's queues in orderTopicConf's order and skips malformed entries", () => {
    const published = Routes.publishQueues("T", { ...twoBrokers, orderTopicConf: "broker-b:2;broker-a:1;bad;:3;c:x" })
    assert.isTrue(published.orderTopic)
    expect(keys(published.queues)).toEqual(["T@broker-b@0", "T@broker-b@1", "T@broker-a@0"])
  })

  it("subscribes to every readable queue, including brokers without a master", () => {
    const route: RouteData.TopicRouteData = {
      brokerDatas: [broker("broker-a", { "1": "slave:1" }), broker("broker-b", { "0": "b:1" })],
      queueDatas: [queue("broker-a", 4, 2, 0), queue("broker-b", 2, 3, 3)]
    }
    expect(keys(Routes.subscribeQueues("T", route))).toEqual(["T@broker-a@0", "T@broker-a@1"])
    expect(keys(Routes.publishQueues("T", route).queues)).toEqual(["T@broker-b@0", "T@broker-b@1", "T@broker-b@2"])
  })

  it("derives a new topic's route from TBW102 with min(defaultTopicQueueNums, readQueueNums) queues", () => {
    const template: RouteData.TopicRouteData = {
      brokerDatas: [broker("broker-a", { "0": "a:1" })],
      queueDatas: [queue("broker-a", 7, 8, 8), queue("broker-b", 7, 2, 8)]
    }
    const route = Routes.fromTemplate(template, 4)
    expect(route.queueDatas.map((q) => [q.readQueueNums, q.writeQueueNums])).toEqual([[4, 4], [2, 2]])
  })

  it("sees no change when only the order of queue and broker data differs", () => {
    const reordered: RouteData.TopicRouteData = {
      brokerDatas: [...twoBrokers.brokerDatas].reverse().map((b) => ({ ...b, brokerAddrs: Object.fromEntries(Object.entries(b.brokerAddrs).reverse()) })),
      queueDatas: [...twoBrokers.queueDatas].reverse()
    }
    assert.isFalse(Routes.changed(twoBrokers, reordered))
    assert.isTrue(Routes.changed(undefined, twoBrokers))
    assert.isTrue(Routes.changed(twoBrokers, { ...twoBrokers, queueDatas: [queue("broker-a", 6, 3, 2)] }))
    assert.isTrue(Routes.changed(twoBrokers, { ...twoBrokers, orderTopicConf: "broker-a:2" }))
  })

  it("keeps the union of routes' addresses and drops those no route names any more", () => {
    const other: RouteData.TopicRouteData = { brokerDatas: [broker("broker-c", { "0": "c:1" })], queueDatas: [] }
    const table = Routes.withRoute(Routes.withRoute(new Map(), twoBrokers), other)
    expect(Routes.addresses(table, false).map((a) => a.address).sort()).toEqual(["a:1", "a:2", "b:1", "c:1"])
    expect(Routes.addresses(table, true).map((a) => a.address).sort()).toEqual(["a:1", "b:1", "c:1"])
    const cleaned = Routes.withoutOffline(table, [twoBrokers])
    expect([...cleaned.keys()].sort()).toEqual(["broker-a", "broker-b"])
    const slaveGone = Routes.withoutOffline(table, [{ ...twoBrokers, brokerDatas: [broker("broker-a", { "0": "a:1" })] }])
    expect(Routes.addresses(slaveGone, false).map((a) => a.address)).toEqual(["a:1"])
  })

  it("finds publish and subscribe addresses as Java's findBrokerAddressInPublish / InSubscribe", () => {
    const table = Routes.withRoute(
      new Map(),
      { brokerDatas: [broker("a", { "0": "m:1", "2": "s2:1" }), broker("s", { "3": "s3:1", "5": "s5:1" })], queueDatas: [] }
    )
    assert.strictEqual(Routes.publishAddress(table, "a"), "m:1")
    assert.isUndefined(Routes.publishAddress(table, "s"))
    expect(Routes.subscribeAddress(table, "a", 0, true)).toEqual({ address: "m:1", brokerId: 0, slave: false })
    // A missing slave id tries the next id.
    expect(Routes.subscribeAddress(table, "a", 1, true)).toEqual({ address: "s2:1", brokerId: 2, slave: true })
    // No master: only-this-broker finds nothing; otherwise the lowest id.
    assert.isUndefined(Routes.subscribeAddress(table, "s", 0, true))
    expect(Routes.subscribeAddress(table, "s", 0, false)).toEqual({ address: "s3:1", brokerId: 3, slave: true })
    assert.isUndefined(Routes.subscribeAddress(table, "unknown", 0, false))
  })

  it("finds any broker of a topic: the picked broker's master, else one of its nodes", () => {
    const route: RouteData.TopicRouteData = {
      brokerDatas: [broker("a", { "0": "m:1" }), broker("s", { "1": "s1:1", "2": "s2:1" })],
      queueDatas: []
    }
    assert.strictEqual(Routes.anyBrokerAddress(route, () => 0), "m:1")
    assert.strictEqual(Routes.anyBrokerAddress(route, (n) => n - 1), "s2:1")
    assert.isUndefined(Routes.anyBrokerAddress({ brokerDatas: [], queueDatas: [] }, () => 0))
  })
})
