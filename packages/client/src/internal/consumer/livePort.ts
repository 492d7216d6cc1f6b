/**
 * The consumer engine's port on a real cluster: the client instance's routes and broker addresses,
 * and the typed broker operations, with the Java push consumer's choices of address and timeout:
 *
 * | call | address | timeout |
 * | --- | --- | --- |
 * | member list (GET_CONSUMER_LIST_BY_GROUP) | a broker of the topic (`findBrokerAddrByTopic`) | 3 s |
 * | pull (long poll, 15 s suspend) | the suggested broker id, any node as fallback | 30 s |
 * | query offset | the master (a route refresh first if none is known), else any node | 5 s |
 * | commit offsets (oneway) | the master, else any node | 5 s |
 * | max offset, offset by timestamp | the master | 6 s |
 * | send-back | the master of the message's broker | 5 s |
 * | retry copy (the fallback) | the master of a writable queue of `%RETRY%<group>` | 3 s |
 * | lock / unlock | the master only | 1 s |
 *
 * Pulls carry the subscription (so a pull never fails for want of a heartbeat) and the in-memory
 * committed offset, which only a master stores.
 *
 * @internal
 */
import { Effect, Option, Random } from "effect"
import * as Broker from "../../Broker.ts"
import type { ClientInstanceShape } from "../../ClientInstance.ts"
import { NoRouteInfo } from "../../ClientError.ts"
import * as ConsumerGroup from "../../ConsumerGroup.ts"
import * as Message from "../../Message.ts"
import * as Offsets from "../../Offsets.ts"
import type * as MessageQueue from "../../MessageQueue.ts"
import type { Port, PortError, SendBackRequest } from "./port.ts"
import * as Retry from "./retry.ts"
import { retryTopic } from "./subscription.ts"

/** @internal: the producer group Java's client uses for its own sends (the retry copy). */
export const INNER_PRODUCER_GROUP = "CLIENT_INNER_PRODUCER"

const PULL_TIMEOUT_MILLIS = 30_000
const OFFSET_TIMEOUT_MILLIS = 5_000
const ADMIN_TIMEOUT_MILLIS = 6_000
const LOCK_TIMEOUT_MILLIS = 1_000
const API_TIMEOUT_MILLIS = 3_000

const noBroker = (topic: string, what: string) =>
  new NoRouteInfo({ topic, detail: `no address of ${what} is known` })

/** @internal */
export const make = (instance: ClientInstanceShape, group: string): Port => {
  const master = (queue: MessageQueue.MessageQueue, onlyMaster: boolean): Effect.Effect<string, PortError> =>
    Effect.gen(function*() {
      const found = yield* instance.subscribeAddress(queue.brokerName, 0, onlyMaster)
      if (Option.isSome(found)) return found.value.address
      yield* Effect.ignore(instance.refreshRoute(queue.topic))
      const again = yield* instance.subscribeAddress(queue.brokerName, 0, onlyMaster)
      if (Option.isSome(again)) return again.value.address
      return yield* noBroker(queue.topic, `broker ${queue.brokerName}`)
    })

  const retryCopy = (request: SendBackRequest): Effect.Effect<void, PortError> =>
    Effect.gen(function*() {
      const topic = retryTopic(group)
      const route = yield* instance.publishRoute(topic)
      const queues = route.publishQueues
      if (queues.length === 0) return yield* noBroker(topic, "a writable queue")
      const queue = queues[yield* Random.nextIntBetween(0, queues.length)]!
      const address = yield* instance.publishAddress(queue.brokerName)
      if (Option.isNone(address)) return yield* noBroker(topic, `the master of ${queue.brokerName}`)
      const original = request.message
      const properties = Retry.fallbackProperties(original, request.originalTopic, request.maxReconsumeTimes)
      yield* instance.provide(Broker.sendMessage(address.value, Message.make(topic, original.body, { flag: original.flag }), {
        producerGroup: INNER_PRODUCER_GROUP,
        queueId: queue.queueId,
        uniqId: original.msgId,
        systemProperties: properties,
        reconsumeTimes: original.reconsumeTimes + 1,
        maxReconsumeTimes: request.maxReconsumeTimes,
        timeoutMillis: API_TIMEOUT_MILLIS
      }))
    })

  return {
    clientId: instance.clientId,
    subscribeQueues: instance.subscribeQueues,
    consumerIds: (topic) =>
      Effect.gen(function*() {
        const address = yield* instance.anyBrokerAddress(topic)
        if (Option.isNone(address)) return yield* noBroker(topic, "a broker of the topic")
        return yield* instance.provide(ConsumerGroup.getConsumerListByGroup(address.value, group, { timeoutMillis: API_TIMEOUT_MILLIS }))
      }),
    pull: (request) =>
      Effect.gen(function*() {
        const found = yield* instance.subscribeAddress(request.queue.brokerName, request.brokerId, false)
        if (Option.isNone(found)) return yield* noBroker(request.queue.topic, `broker ${request.queue.brokerName}`)
        return yield* instance.provide(Broker.pullMessage(found.value.address, {
          consumerGroup: group,
          topic: request.queue.topic,
          queueId: request.queue.queueId,
          queueOffset: request.offset,
          maxMsgNums: request.maxMessages,
          subscription: request.subscription.subString,
          expressionType: "TAG",
          subVersion: request.subscription.subVersion,
          ...(request.commitOffset !== undefined && !found.value.slave ? { commitOffset: request.commitOffset } : {}),
          suspendTimeoutMillis: request.suspendMillis,
          timeoutMillis: PULL_TIMEOUT_MILLIS,
          filterTags: false
        }))
      }),
    queryOffset: (queue) =>
      Effect.flatMap(master(queue, false), (address) =>
        instance.provide(Offsets.queryConsumerOffset(address, {
          consumerGroup: group,
          topic: queue.topic,
          queueId: queue.queueId
        }, { timeoutMillis: OFFSET_TIMEOUT_MILLIS }))),
    commitOffsets: (entries) =>
      Effect.forEach(entries, ({ offset, queue }) =>
        Effect.flatMap(master(queue, false), (address) =>
          instance.provide(Offsets.updateConsumerOffset(address, {
            consumerGroup: group,
            topic: queue.topic,
            queueId: queue.queueId,
            commitOffset: offset
          }, { oneway: true, timeoutMillis: OFFSET_TIMEOUT_MILLIS }))), { discard: true }),
    maxOffset: (queue) =>
      Effect.flatMap(master(queue, true), (address) =>
        instance.provide(Offsets.getMaxOffset(address, queue, { timeoutMillis: ADMIN_TIMEOUT_MILLIS }))),
    searchOffset: (queue, timestamp) =>
      Effect.flatMap(master(queue, true), (address) =>
        instance.provide(
          Offsets.searchOffsetByTimestamp(address, { ...queue, timestamp }, { timeoutMillis: ADMIN_TIMEOUT_MILLIS })
        )),
    sendBack: (request) =>
      Effect.flatMap(master({ topic: request.message.topic, brokerName: request.brokerName, queueId: 0 }, true), (address) =>
        instance.provide(ConsumerGroup.consumerSendMessageBack(address, {
          group,
          commitLogOffset: request.message.commitLogOffset,
          delayLevel: request.delayLevel,
          originMsgId: request.message.msgId,
          originTopic: request.originalTopic,
          maxReconsumeTimes: request.maxReconsumeTimes,
          brokerName: request.brokerName
        }, { timeoutMillis: OFFSET_TIMEOUT_MILLIS }))),
    sendRetryCopy: retryCopy,
    lock: (brokerName, queues) =>
      Effect.flatMap(master({ topic: queues[0]?.topic ?? "", brokerName, queueId: 0 }, true), (address) =>
        instance.provide(ConsumerGroup.lockBatchMQ(address, {
          consumerGroup: group,
          clientId: instance.clientId,
          queues
        }, { timeoutMillis: LOCK_TIMEOUT_MILLIS }))),
    unlock: (brokerName, queues, oneway) =>
      Effect.flatMap(master({ topic: queues[0]?.topic ?? "", brokerName, queueId: 0 }, true), (address) =>
        instance.provide(ConsumerGroup.unlockBatchMQ(address, {
          consumerGroup: group,
          clientId: instance.clientId,
          queues
        }, { oneway, timeoutMillis: LOCK_TIMEOUT_MILLIS }))),
    heartbeatNow: instance.heartbeatNow
  }
}
