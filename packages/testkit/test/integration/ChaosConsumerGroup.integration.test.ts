/**
 * Chaos suite 2: a consumer group of two of our Consumers ("a" and "b", each with its own client
 * instance, as two processes) on a topic with 4 queues on each broker. Every connection of b to a
 * broker goes through a FaultProxy (its instance's channel factory swaps the broker's address for
 * the proxy's). While messages flow, b's broker connections are black-holed both ways (open and
 * silent: b's pulls, acknowledgements, heartbeats and offset commits vanish), then b is interrupted
 * (its fiber, and so its scope: the consumer closes, its last commit and its unregistration vanish
 * too), then the partition heals: b's host no longer knows those connections, so the broker's side
 * is reset, as its next segment would be answered. Without that the broker would drop b only when
 * its channel expires (120 s after b's last heartbeat).
 *
 * Asserted: every message sent is consumed by the group at least once; the queues all move to a
 * (its assignment after the rebalance); messages consumed twice are at most the uncommitted window
 * of b, whose bound follows from the consumer's settings (see UNCOMMITTED_PER_QUEUE).
 */
import { Admin, Broker, Message, MessageQueue, Offsets } from "@effect-rocketmq/client"
import type { Consumer } from "@effect-rocketmq/client"
import { assert, describe, expect, it } from "@effect/vitest"
import { Channel, RemotingClient, RemotingError } from "@effect-rocketmq/remoting"
import { FaultProxy } from "@effect-rocketmq/testkit"
import { Deferred, Effect, Fiber, Schedule } from "effect"
import { chaosSkip, countBy, requireTwoBrokers, restoreCluster, routedOnEveryBroker } from "./chaos.ts"
import { startConsumer } from "./consumers.ts"
import { cluster, poll, runId, skipReason } from "./support.ts"

const real = cluster()
const skip = chaosSkip(real, skipReason)

const QUEUES_PER_BROKER = 4
const MESSAGES = 10_000
const PER_SECOND = 1_000
/** Messages sent before b is black-holed, and before it is interrupted. */
const BLACK_HOLE_AFTER = 3_000
const INTERRUPT_AFTER = 5_000

/** The consumers' flow-control settings, smaller than Java's defaults so the bound below is tight. */
const SETTINGS = { pullBatchSize: 16, pullThresholdForQueue: 100, consumeConcurrentlyMaxSpan: 200 } as const

/**
 * What b can have consumed on one queue beyond the offset the broker holds for it. Each pull
 * carries b's committed offset (the lowest offset not yet acknowledged) and the broker stores it;
 * nothing of b reaches the broker after the black hole. At b's last pull to arrive, everything it
 * had consumed at or above that offset lay within the span it holds (a queue whose held span exceeds
 * `consumeConcurrentlyMaxSpan` is not pulled: at most span + 1 offsets), and that pull's answer adds
 * at most `pullBatchSize`. The group consumes again from the broker's offset, so the duplicates on a
 * queue of b are at most this many.
 */
const UNCOMMITTED_PER_QUEUE = SETTINGS.consumeConcurrentlyMaxSpan + 1 + SETTINGS.pullBatchSize

const bodyIndex = (delivery: Consumer.Delivery) => Number(new TextDecoder().decode(delivery.message.body))

interface Consumed {
  readonly index: number
  readonly by: "a" | "b"
  readonly queue: string
  readonly offset: bigint
}

describe.skipIf(skip !== undefined)(`a consumer group while one member is black-holed and interrupted${skip !== undefined ? ` (skipped: ${skip})` : ""}`, () => {
  it.live(`${MESSAGES.toLocaleString("en")} messages: nothing lost, duplicates within b's uncommitted window, every queue moves to the survivor`, () =>
    Effect.gen(function*() {
      yield* requireTwoBrokers(real!)
      const id = runId()
      const topic = `ChaosGroup_${id}`
      const group = `chaos_group_${id}`
      for (const broker of real!.brokers) {
        yield* Admin.createTopic(broker.address, topic, { queueNums: QUEUES_PER_BROKER, timeoutMillis: 10_000 })
        yield* Admin.createSubscriptionGroup(broker.address, group)
      }
      const totalQueues = QUEUES_PER_BROKER * real!.brokers.length
      yield* routedOnEveryBroker(real!, topic)

      // b reaches every broker through its own proxy.
      const proxies = new Map<string, FaultProxy.FaultProxyShape>()
      for (const broker of real!.brokers) proxies.set(broker.address, yield* FaultProxy.make({ target: broker.address }))
      const viaProxy: RemotingClient.ChannelFactory = (options) => {
        const proxy = proxies.get(`${options.host}:${options.port}`)
        return Channel.make(proxy === undefined ? options : { ...options, host: proxy.host, port: proxy.port })
      }

      const consumed: Array<Consumed> = []
      const handler = (by: "a" | "b") => (delivery: Consumer.Delivery) =>
        Effect.sync(() =>
          consumed.push({ index: bodyIndex(delivery), by, queue: MessageQueue.key(delivery.queue), offset: delivery.message.queueOffset })
        )
      const options = { consumerGroup: group, subscriptions: { [topic]: "*" }, consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET", ...SETTINGS } as const
      const a = yield* startConsumer(real!, `a${id}`, options)
      yield* Effect.forkChild(a.consumer.run(handler("a")))
      // b is one fiber: interrupting it closes its consumer and its client instance.
      const bStarted = yield* Deferred.make<{ readonly assignment: Effect.Effect<ReadonlyArray<MessageQueue.MessageQueue>> }>()
      const b = yield* Effect.forkChild(Effect.scoped(Effect.gen(function*() {
        const member = yield* startConsumer(real!, `b${id}`, options, { remoting: { channelFactory: viaProxy } })
        yield* Deferred.succeed(bStarted, member.consumer)
        yield* member.consumer.run(handler("b"))
      })))
      const bConsumer = yield* Deferred.await(bStarted)
      const ofTopic = (queues: ReadonlyArray<MessageQueue.MessageQueue>) => queues.filter((q) => q.topic === topic).map(MessageQueue.key).sort()
      const split = yield* poll(60, Effect.all([a.consumer.assignment, bConsumer.assignment]), ([qa, qb]) =>
        ofTopic(qa).length > 0 && ofTopic(qb).length > 0 && ofTopic(qa).length + ofTopic(qb).length === totalQueues)
      const bQueues = ofTopic(split[1])
      assert.strictEqual(ofTopic(split[0]).length + bQueues.length, totalQueues, "a and b split the topic's queues")

      // Sending, paced, round-robin over every queue of every broker, on a client of its own.
      let sent = 0
      const t0 = Date.now()
      const producing = yield* Effect.forkChild(Effect.forEach(Array.from({ length: MESSAGES }, (_, i) => i), (i) =>
        Effect.gen(function*() {
          const due = t0 + (i * 1000) / PER_SECOND - Date.now()
          if (due > 0) yield* Effect.sleep(due)
          const broker = real!.brokers[i % real!.brokers.length]!
          const queueId = Math.floor(i / real!.brokers.length) % QUEUES_PER_BROKER
          yield* Broker.sendMessage(broker.address, Message.make(topic, String(i)), { queueId }).pipe(
            Effect.retry({ schedule: Schedule.spaced("200 millis"), times: 50, while: RemotingError.isRetryable })
          )
          sent++
        }), { concurrency: 32, discard: true }), { startImmediately: true })

      const timeline = yield* Effect.gen(function*() {
        yield* poll(60, Effect.sync(() => sent), (n) => n >= BLACK_HOLE_AFTER)
        for (const proxy of proxies.values()) yield* proxy.set("both", { forward: "drop" })
        const blackHoledAt = Date.now()
        const consumedByBBefore = consumed.filter((c) => c.by === "b").length
        yield* poll(60, Effect.sync(() => sent), (n) => n >= INTERRUPT_AFTER)
        const interruptedAt = Date.now()
        yield* Fiber.interrupt(b)
        const bClosedAt = Date.now()
        // What the broker holds for b's queues now: where the group consumes them again from.
        const committed = new Map<string, bigint>()
        for (const key of bQueues) {
          const queue = MessageQueue.fromKey(key)!
          const address = real!.brokers.find((broker) => broker.name === queue.brokerName)!.address
          const offset = yield* Offsets.queryConsumerOffset(address, { consumerGroup: group, topic, queueId: queue.queueId })
          committed.set(key, offset._tag === "Some" ? offset.value : 0n)
        }
        // The partition heals: the broker's side of b's connections is reset.
        for (const proxy of proxies.values()) yield* proxy.cutAll("rst", "target")
        const healedAt = Date.now()
        const owned = yield* poll(60, a.consumer.assignment, (qs) => ofTopic(qs).length === totalQueues)
        const ownedAt = Date.now()
        return { blackHoledAt, consumedByBBefore, interruptedAt, bClosedAt, committed, healedAt, owned, ownedAt }
      })
      yield* Fiber.join(producing)
      const sendSeconds = (Date.now() - t0) / 1000
      yield* poll(120, Effect.sync(() => new Set(consumed.map((c) => c.index)).size), (n) => n === MESSAGES)

      const copies = countBy(consumed, (c) => String(c.index))
      const lost = MESSAGES - copies.size
      const duplicated = Array.from(copies.values()).reduce((sum, n) => sum + n - 1, 0)
      // b's uncommitted window: what b consumed on its queues at or above the broker's offset.
      const window = consumed.filter((c) => c.by === "b" && c.offset >= (timeline.committed.get(c.queue) ?? 0n)).length
      const bound = bQueues.length * UNCOMMITTED_PER_QUEUE
      const byB = consumed.filter((c) => c.by === "b").length
      console.info(
        `[chaos group] sent ${MESSAGES} in ${sendSeconds.toFixed(1)} s (${PER_SECOND}/s over ${totalQueues} queues); a and b split ` +
          `${totalQueues - bQueues.length}/${bQueues.length}; b black-holed after ${BLACK_HOLE_AFTER} sends (b had consumed ` +
          `${timeline.consumedByBBefore}, ${byB} in all), interrupted after ${INTERRUPT_AFTER} (its close took ` +
          `${timeline.bClosedAt - timeline.interruptedAt} ms). Consumed ${copies.size} distinct of ${consumed.length}, ` +
          `duplicated ${duplicated}, lost ${lost}; b's uncommitted window ${window} (bound ${bound} = ${bQueues.length} queues x ` +
          `${UNCOMMITTED_PER_QUEUE}). The survivor owned all ${totalQueues} queues ${timeline.ownedAt - timeline.healedAt} ms ` +
          `after the heal, ${timeline.ownedAt - timeline.interruptedAt} ms after the interruption, ` +
          `${timeline.ownedAt - timeline.blackHoledAt} ms after the black hole`
      )
      assert.strictEqual(lost, 0, "every message sent is consumed at least once")
      expect(ofTopic(timeline.owned)).toEqual([...new Set([...ofTopic(split[0]), ...bQueues])].sort())
      assert.isAtMost(duplicated, window, "only what b consumed beyond the broker's offsets is consumed again")
      assert.isAtMost(window, bound, "b's uncommitted window is within the bound its settings give")
      yield* a.close
    }).pipe(
      Effect.provide(RemotingClient.layer({ nameServerAddresses: real!.namesrvAddr, defaultTimeout: "10 seconds" })),
      Effect.scoped,
      Effect.ensuring(Effect.orDie(restoreCluster(real!)))
    ), 5 * 60_000)
})
