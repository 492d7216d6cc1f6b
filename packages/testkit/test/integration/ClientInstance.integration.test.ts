/**
 * The ClientInstance against a real Apache RocketMQ 5.3.3: routes of a created topic and of a topic
 * that does not exist yet (the TBW102 fallback), a heartbeat the broker accepts (its version
 * kept), and UNREGISTER_CLIENT on release.
 */
import { Broker, ClientInstance, Heartbeat } from "@effect-rocketmq/client"
import { RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option, Scope } from "effect"
import { cluster, createTopic, poll, runId, skipReason } from "./support.ts"

const real = cluster()

/** GET_CONSUMER_LIST_BY_GROUP (38), raw: the client ids the broker lists for a group (none when it knows none). */
const members = (client: ClientInstance.ClientInstanceShape, consumerGroup: string) =>
  Effect.map(
    client.remotingClient.invoke(
      real!.brokerAddr,
      RemotingCommand.make({ code: RequestCode.GET_CONSUMER_LIST_BY_GROUP, extFields: { consumerGroup } })
    ),
    (response): ReadonlyArray<string> =>
      response.code === ResponseCode.SUCCESS && response.body !== undefined
        ? (JSON.parse(new TextDecoder().decode(response.body)) as { readonly consumerIdList: ReadonlyArray<string> }).consumerIdList
        : []
  )

const instance = () =>
  ClientInstance.make({ nameServerAddresses: real!.namesrvAddr, remoting: { defaultTimeout: "10 seconds" } })

describe.skipIf(real === undefined)(`ClientInstance against a real broker${real === undefined ? ` (skipped: ${skipReason()})` : ""}`, () => {
  it.live("reads a created topic's route as Java does: publish and subscribe queues, the broker's master address", () =>
    Effect.gen(function*() {
      const client = yield* instance()
      const topic = `CiRoute_${runId()}`
      yield* client.provide(createTopic(real!.brokerAddr, topic))
      const route = yield* client.route(topic)
      assert.isFalse(route.fromTemplate)
      expect(route.publishQueues.map((q) => q.queueId)).toEqual([0, 1, 2, 3])
      expect(route.subscribeQueues.map((q) => q.queueId)).toEqual([0, 1, 2, 3])
      const brokerName = route.publishQueues[0]!.brokerName
      assert.deepStrictEqual(yield* client.publishAddress(brokerName), Option.some(real!.brokerAddr))
      assert.match(client.clientId, /@\d+#\d+$/)
    }))

  it.live("falls back to TBW102's route for a topic the name server does not know, and the first send creates it", () =>
    Effect.gen(function*() {
      const client = yield* instance()
      const topic = `CiNew_${runId()}`
      const route = yield* client.publishRoute(topic)
      assert.isTrue(route.fromTemplate)
      // TBW102 lives on every broker of the cluster: at most 4 queues from each.
      assert.isAtMost(route.publishQueues.length, 4 * real!.brokers.length)
      const queue = route.publishQueues[0]!
      const address = Option.getOrThrow(yield* client.publishAddress(queue.brokerName))
      const sent = yield* client.provide(Broker.sendMessage(address, { topic, body: new TextEncoder().encode("x") }, { queueId: queue.queueId }))
      assert.strictEqual(sent.status, "SEND_OK")
      // The topic now has its own route (the broker registers it with the name server).
      const own = yield* poll(10, Effect.result(client.refreshRoute(topic)), (r) => r._tag === "Success")
      assert.strictEqual(own._tag, "Success")
      if (own._tag === "Success") assert.isFalse(own.success.fromTemplate)
    }))

  it.live("heartbeats the broker with a producer and a consumer group, keeps its version, and unregisters both on release", () =>
    Effect.gen(function*() {
      const client = yield* instance()
      const topic = `CiBeat_${runId()}`
      yield* client.provide(createTopic(real!.brokerAddr, topic))
      yield* client.route(topic)
      const scope = yield* Scope.make()
      yield* Scope.provide(client.registerProducer(`ci_pg_${runId()}`), scope)
      const consumerGroup = `ci_cg_${runId()}`
      yield* Scope.provide(
        client.registerConsumer(consumerGroup, {
          data: Effect.succeed({
            groupName: consumerGroup,
            consumeType: "CONSUME_ACTIVELY",
            messageModel: "CLUSTERING",
            consumeFromWhere: "CONSUME_FROM_LAST_OFFSET",
            subscriptionDataSet: [Heartbeat.subscription(topic, "*", Date.now())],
            unitMode: false
          })
        }),
        scope
      )
      yield* client.heartbeatNow
      const version = yield* client.brokerVersion(real!.brokerAddr)
      assert.isTrue(Option.isSome(version))
      assert.isAtLeast(Option.getOrThrow(version), 400)
      // The broker knows the consumer group's member now, and forgets it on release.
      expect(yield* members(client, consumerGroup)).toContain(client.clientId)
      yield* Scope.close(scope, Exit.void)
      expect(yield* members(client, consumerGroup)).not.toContain(client.clientId)
    }))
})
