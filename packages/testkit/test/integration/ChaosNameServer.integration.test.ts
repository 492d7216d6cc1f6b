/**
 * Chaos suite 3: the name server dies (SIGKILL) and comes back while our Producer sends to a topic
 * on broker-a and broker-b (100/s) and our Consumer consumes it, each on its own client instance
 * whose routes are refreshed every 2 s (so refreshes are attempted, and fail, while the name server
 * is down). While it is down: a route refresh fails with a typed error, yet every send is
 * acknowledged and consumption goes on, on the routes already known. After it is back: a topic
 * created then (which the clients never saw) is routed to the producer by the new name server and
 * consumed by the consumer, subscribed to it from the start. Every acknowledged message is consumed
 * at least once.
 */
import { ClientInstance, Message, Producer } from "@effect-rocketmq/client"
import type { Consumer } from "@effect-rocketmq/client"
import { assert, describe, expect, it } from "@effect/vitest"
import { RemotingClient } from "@effect-rocketmq/remoting"
import { Context, type Duration, Effect, Exit, Fiber, Layer } from "effect"
import {
  chaosSkip,
  countBy,
  createTopicEverywhere,
  describeCounts,
  harness,
  requireTwoBrokers,
  restoreCluster,
  routedOnEveryBroker,
  tagOf
} from "./chaos.ts"
import { startConsumer } from "./consumers.ts"
import { cluster, poll, runId, skipReason } from "./support.ts"

const real = cluster()
const skip = chaosSkip(real, skipReason)

const PER_SECOND = 100
/** The name server stays down this long after the kill. */
const DOWN_MILLIS = 8_000
const POLL_NAME_SERVER: Duration.Input = "2 seconds"
const NEW_TOPIC_MESSAGES = 100

interface Sent {
  readonly body: string
  readonly at: number
  readonly brokerName: string | undefined
  readonly error: string | undefined
}

describe.skipIf(skip !== undefined)(`a producer and a consumer while the name server restarts${skip !== undefined ? ` (skipped: ${skip})` : ""}`, () => {
  it.live("sends and consumption go on on cached routes while the name server is down, and a topic created after its restart is seen", () =>
    Effect.gen(function*() {
      yield* requireTwoBrokers(real!)
      const id = runId()
      const topic = `ChaosNs_${id}`
      const newTopic = `ChaosNsNew_${id}`
      yield* createTopicEverywhere(real!, topic)
      yield* routedOnEveryBroker(real!, topic)

      const instance = { nameServerAddresses: real!.namesrvAddr, pollNameServerInterval: POLL_NAME_SERVER }
      const producerContext = yield* Layer.build(
        Producer.layer({ group: `chaos_ns_pg_${id}` }).pipe(Layer.provideMerge(ClientInstance.layer({ ...instance, instanceName: `p${id}` })))
      )
      const producer = Context.get(producerContext, Producer.Producer)
      const producerInstance = Context.get(producerContext, ClientInstance.ClientInstance)
      const consumed: Array<{ readonly body: string; readonly at: number }> = []
      const consumer = yield* startConsumer(real!, `c${id}`, {
        consumerGroup: `chaos_ns_${id}`,
        subscriptions: { [topic]: "*", [newTopic]: "*" },
        consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET"
      }, { pollNameServerInterval: POLL_NAME_SERVER })
      yield* Effect.forkChild(consumer.consumer.run((delivery: Consumer.Delivery) =>
        Effect.sync(() => consumed.push({ body: new TextDecoder().decode(delivery.message.body), at: Date.now() }))
      ))

      const sent: Array<Sent> = []
      const send = (target: string, body: string) =>
        Effect.gen(function*() {
          const exit = yield* Effect.exit(producer.send(Message.make(target, body)))
          sent.push(Exit.isSuccess(exit)
            ? { body, at: Date.now(), brokerName: exit.value.messageQueue.brokerName, error: undefined }
            : { body, at: Date.now(), brokerName: undefined, error: tagOf(exit.cause) })
          return Exit.isSuccess(exit)
        })
      let sending = true
      const t0 = Date.now()
      const sender = yield* Effect.forkChild(Effect.gen(function*() {
        for (let i = 0; sending; i++) {
          const due = t0 + (i * 1000) / PER_SECOND - Date.now()
          if (due > 0) yield* Effect.sleep(due)
          yield* send(topic, `${topic}:${i}`)
        }
      }), { startImmediately: true })

      const timeline = yield* Effect.gen(function*() {
        // Warm: the clients have the route and the consumer consumes.
        yield* poll(60, Effect.sync(() => consumed.length), (n) => n >= PER_SECOND)
        const kill = yield* harness("namesrv-kill", real!)
        const killedAt = kill.killedAt!
        yield* Effect.sleep(DOWN_MILLIS / 2)
        const refreshWhileDown = yield* Effect.exit(producerInstance.refreshRoute(topic))
        yield* Effect.sleep(DOWN_MILLIS / 2)
        const startingAt = Date.now()
        const start = yield* harness("namesrv-start", real!)
        const backAt = Date.now()
        // A route change only the new name server knows: a topic created now.
        yield* createTopicEverywhere(real!, newTopic)
        yield* routedOnEveryBroker(real!, newTopic)
        const createdAt = Date.now()
        const newSends = yield* Effect.forEach(Array.from({ length: NEW_TOPIC_MESSAGES }, (_, i) => i), (i) => send(newTopic, `${newTopic}:${i}`))
        const newSentAt = Date.now()
        sending = false
        return { killedAt, killMillis: kill.millis, refreshWhileDown, startingAt, startMillis: start.millis, backAt, createdAt, newSends, newSentAt }
      }).pipe(Effect.ensuring(Effect.sync(() => (sending = false))))
      yield* Fiber.join(sender)

      const acked = sent.filter((s) => s.error === undefined)
      yield* poll(120, Effect.sync(() => new Set(consumed.map((c) => c.body))), (bodies) => acked.every((s) => bodies.has(s.body)))
      const copies = countBy(consumed, (c) => c.body)
      const lost = acked.filter((s) => !copies.has(s.body)).length
      const duplicated = Array.from(copies.values()).reduce((sum, n) => sum + n - 1, 0)
      const failures = countBy(sent.filter((s) => s.error !== undefined), (s) => s.error!)
      const down = (at: number) => at > timeline.killedAt && at < timeline.startingAt
      const sentWhileDown = sent.filter((s) => down(s.at))
      const byBroker = countBy(sentWhileDown.filter((s) => s.brokerName !== undefined), (s) => s.brokerName!)
      const consumedWhileDown = consumed.filter((c) => down(c.at) && c.body.startsWith(`${topic}:`)).length
      const newConsumed = consumed.filter((c) => c.body.startsWith(`${newTopic}:`)).map((c) => c.at)
      const firstNewConsumed = newConsumed.length === 0 ? Number.NaN : Math.min(...newConsumed) - timeline.createdAt
      const refreshError = Exit.isFailure(timeline.refreshWhileDown) ? tagOf(timeline.refreshWhileDown.cause) : "none (it succeeded)"
      console.info(
        `[chaos namesrv] sent ${sent.length} (${PER_SECOND}/s), acknowledged ${acked.length}, failed ${sent.length - acked.length} ` +
          `(${describeCounts(failures)}); name server killed (namesrv-kill ${timeline.killMillis} ms), down ` +
          `${timeline.startingAt - timeline.killedAt} ms, namesrv-start ${timeline.startMillis} ms (until every broker registered); ` +
          `while down: ${sentWhileDown.length} sent, ${sentWhileDown.filter((s) => s.error === undefined).length} acknowledged ` +
          `(${describeCounts(byBroker)}), ${consumedWhileDown} consumed, a route refresh failed with ${refreshError}. New topic ` +
          `created ${timeline.createdAt - timeline.backAt} ms after the restart: ${NEW_TOPIC_MESSAGES} sent in ` +
          `${timeline.newSentAt - timeline.createdAt} ms, ${timeline.newSends.filter((ok) => ok).length} acknowledged, first consumed ` +
          `${firstNewConsumed} ms after its creation. Consumed ${copies.size} distinct of ${consumed.length}, duplicated ` +
          `${duplicated}, lost ${lost}`
      )
      assert.isTrue(Exit.isFailure(timeline.refreshWhileDown), "a route refresh fails while the name server is down")
      expect(Array.from(failures.keys())).toEqual([])
      assert.isAbove(sentWhileDown.length, (PER_SECOND * DOWN_MILLIS) / 2000, "sends go on while the name server is down")
      expect(new Set(byBroker.keys())).toEqual(new Set(real!.brokers.map((b) => b.name)))
      assert.isAbove(consumedWhileDown, 0, "consumption goes on while the name server is down")
      expect(timeline.newSends.every((ok) => ok)).toBe(true)
      assert.strictEqual(newConsumed.length >= NEW_TOPIC_MESSAGES, true, "the new topic is consumed")
      assert.strictEqual(lost, 0, "every acknowledged message is consumed")
      yield* consumer.close
    }).pipe(
      Effect.provide(RemotingClient.layer({ nameServerAddresses: real!.namesrvAddr, defaultTimeout: "10 seconds" })),
      Effect.scoped,
      Effect.ensuring(Effect.orDie(restoreCluster(real!)))
    ), 5 * 60_000)
})
