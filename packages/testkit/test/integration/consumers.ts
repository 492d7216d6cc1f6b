/**
 * Consumers and produced messages for the real-broker suites of the Consumer: each consumer has
 * its own client instance (its own client id), as two processes would.
 */
import { Admin, Broker, ClientInstance, Consumer, Message, NameServer } from "@effect-rocketmq/client"
import { assert } from "@effect/vitest"
import { RemotingError } from "@effect-rocketmq/remoting"
import type { RemotingClient } from "@effect-rocketmq/remoting"
import { Context, Effect, Exit, Layer, Schedule, Scope } from "effect"
import { poll, type RocketMQCluster } from "./support.ts"

/**
 * A consumer with its own client instance, closed on demand or with the test's scope; `instance`
 * adds options of that instance (e.g. a channel factory that goes through a FaultProxy).
 */
export const startConsumer = (
  real: RocketMQCluster,
  instanceName: string,
  options: Consumer.Options,
  instance?: Omit<ClientInstance.ClientInstanceOptions, "nameServerAddresses" | "instanceName">
) =>
  Effect.gen(function*() {
    const scope = yield* Scope.fork(yield* Effect.scope)
    const layer = Consumer.layer(options).pipe(
      Layer.provideMerge(ClientInstance.layer({ ...instance, nameServerAddresses: real.namesrvAddr, instanceName }))
    )
    const context = yield* Layer.build(layer).pipe(Scope.provide(scope))
    return {
      consumer: Context.get(context, Consumer.Consumer),
      clientId: Context.get(context, ClientInstance.ClientInstance).clientId,
      close: Scope.close(scope, Exit.void)
    }
  })

/** A topic with `queues` queues, the consumer group, and the topic's route at the name server. */
export const setUp = (real: RocketMQCluster, topic: string, group: string, queues: number) =>
  Effect.gen(function*() {
    yield* Admin.createTopic(real.brokerAddr, topic, { queueNums: queues })
    yield* Admin.createSubscriptionGroup(real.brokerAddr, group)
    const route = yield* poll(10, Effect.result(NameServer.getRouteInfoByTopic(topic)), (r) => r._tag === "Success")
    assert.strictEqual(route._tag, "Success", `the route of ${topic} within 10 s`)
  })

/**
 * Sends messages `from` … `to - 1` round-robin over `queues` queues (body = the index), retrying
 * what the broker says may be retried (SYSTEM_BUSY on a loaded machine).
 */
export const produce = (real: RocketMQCluster, topic: string, from: number, to: number, queues: number) =>
  Effect.forEach(
    Array.from({ length: to - from }, (_, i) => from + i),
    (i) =>
      Broker.sendMessage(real.brokerAddr, Message.make(topic, String(i), { tags: "t" }), { queueId: i % queues }).pipe(
        Effect.retry({ schedule: Schedule.spaced("200 millis"), times: 50, while: RemotingError.isRetryable })
      ),
    { concurrency: 16, discard: true }
  ) satisfies Effect.Effect<void, unknown, RemotingClient.RemotingClient>
