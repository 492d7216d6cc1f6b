/**
 * What the consumer answers when a broker (or an admin tool through a broker) asks it something
 * (Java's `ClientRemotingProcessor`):
 * - NOTIFY_CONSUMER_IDS_CHANGED (40, oneway): rebalance now.
 * - RESET_CONSUMER_CLIENT_OFFSET (220, oneway): pause pulling; drop the listed queues of the topic
 *   and forget what they hold; after 10 s (Java's wait for in-flight consumption) store the new
 *   offsets, persist them and release the queues; resume; the next rebalance re-adds the queues
 *   from there.
 * - GET_CONSUMER_RUNNING_INFO (307): the `ConsumerRunningInfo` body.
 * - GET_CONSUMER_STATUS_FROM_CLIENT (221, deprecated): the group's offsets of a topic.
 * - CONSUME_MESSAGE_DIRECTLY (309): the message in the body goes to the consumer's readers like any
 *   other (without process-queue or offset effects), and the answer says how it was settled:
 *   `CR_SUCCESS` (ack), `CR_LATER` (nack), `CR_THROW_EXCEPTION` (the handler failed, was
 *   interrupted, or nobody took it within {@link DIRECT_TIMEOUT_MILLIS}).
 * Requests that cannot be read are answered SYSTEM_ERROR with the reason (oneway ones are logged).
 *
 * @internal
 */
import { RemotingCommand, ResponseCode } from "@effect-rocketmq/remoting"
import { Clock, Deferred, Effect, FiberMap, FiberSet, Queue, Result } from "effect"
import { MessageDecodeError } from "../../ClientError.ts"
import * as Headers from "../../Headers.ts"
import * as MQ from "../../MessageQueue.ts"
import type * as MessageQueue from "../../MessageQueue.ts"
import * as StoredMessage from "../../StoredMessage.ts"
import { AwaitedItem, type Ctx, type Item, type Outcome } from "./context.ts"
import * as QueueKeyed from "./queueKeyed.ts"
import * as RunningInfo from "./runningInfo.ts"

/** @internal: a handler of one request code. */
export type Handler = (
  request: RemotingCommand.RemotingCommand,
  context: { readonly address: string }
) => Effect.Effect<RemotingCommand.RemotingCommand | undefined>

/** @internal: Java sleeps this long between dropping reset queues and storing their new offsets. */
export const RESET_WAIT_MILLIS = 10_000

/** @internal: how long a CONSUME_MESSAGE_DIRECTLY request waits for a reader (the broker waits 10 s). */
export const DIRECT_TIMEOUT_MILLIS = 8_000

const utf8 = new TextDecoder()

const systemError = (request: RemotingCommand.RemotingCommand, remark: string) =>
  RemotingCommand.response(request, ResponseCode.SYSTEM_ERROR, remark)

const success = (request: RemotingCommand.RemotingCommand, body: string) =>
  RemotingCommand.response(request, ResponseCode.SUCCESS, undefined, { body: new TextEncoder().encode(body) })

class DirectItem extends AwaitedItem implements Item {
  readonly entry = undefined
  readonly message: StoredMessage.StoredMessage
  readonly queue: MessageQueue.MessageQueue

  constructor(message: StoredMessage.StoredMessage, queue: MessageQueue.MessageQueue) {
    super()
    this.message = message
    this.queue = queue
  }

  claim(): boolean {
    return true
  }
}

const resultOf = (outcome: Outcome): RunningInfo.ConsumeResult =>
  outcome._tag === "Ack" ? "CR_SUCCESS" : outcome._tag === "Nack" && !outcome.failed ? "CR_LATER" : "CR_THROW_EXCEPTION"

const consumeDirectly = (ctx: Ctx) => (request: RemotingCommand.RemotingCommand) =>
  Effect.gen(function*() {
    const header = yield* Effect.result(Headers.ConsumeMessageDirectlyResultRequestHeader.decode(request.extFields))
    if (Result.isFailure(header)) return systemError(request, `Unreadable CONSUME_MESSAGE_DIRECTLY header: ${header.failure.message}`)
    const decoded = StoredMessage.decodeSync(request.body ?? new Uint8Array(0))
    if (decoded instanceof MessageDecodeError) return systemError(request, `The body is not a stored message: ${decoded.message}`)
    const message = decoded[0]
    if (message === undefined || decoded.length !== 1) {
      return systemError(request, `The body holds ${decoded.length} stored messages, not one`)
    }
    const queue = MQ.make(message.topic, header.success.brokerName ?? "", message.queueId)
    const item = new DirectItem(message, queue)
    const started = yield* Clock.currentTimeMillis
    if (!(yield* Queue.offer(ctx.handoff, item))) return systemError(request, `The consumer of group ${ctx.config.group} is closing`)
    const outcome = yield* Effect.timeoutOption(Deferred.await(item.result), DIRECT_TIMEOUT_MILLIS)
    const spent = (yield* Clock.currentTimeMillis) - started
    const body = outcome._tag === "None"
      ? RunningInfo.directResult("CR_THROW_EXCEPTION", ctx.config.orderly, spent,
        `no reader of group ${ctx.config.group} took the message within ${DIRECT_TIMEOUT_MILLIS} ms`)
      : RunningInfo.directResult(resultOf(outcome.value), ctx.config.orderly, spent, undefined)
    return success(request, body)
  })

/**
 * @internal: drops the queues of `topic` listed in `offsets`, then after {@link RESET_WAIT_MILLIS}
 * stores and persists their new offsets and releases them; pulling is paused meanwhile.
 */
export const resetOffsets = (ctx: Ctx, topic: string, offsets: ReadonlyArray<QueueKeyed.QueueOffset>) =>
  Effect.gen(function*() {
    const targets = offsets.filter((entry) => entry.queue.topic === topic)
    ctx.paused = true
    for (const { queue } of targets) {
      const entry = ctx.entries.get(MQ.key(queue))
      if (entry === undefined) continue
      entry.drop()
      entry.pq.clear()
      yield* FiberMap.remove(ctx.queueFibers, entry.key)
      yield* FiberMap.remove(ctx.queueFibers, `${entry.key}#consume`)
    }
    yield* Effect.sleep(RESET_WAIT_MILLIS)
    for (const { offset, queue } of targets) {
      const entry = ctx.entries.get(MQ.key(queue))
      if (entry === undefined) continue
      ctx.store.remove(queue)
      ctx.store.update(queue, offset, false)
      yield* ctx.store.persist(queue).pipe(
        Effect.catch((error) => Effect.logWarning(`Persisting the reset offset of ${entry.key} failed: ${error.message}`))
      )
      ctx.store.remove(queue)
      ctx.entries.delete(entry.key)
    }
  }).pipe(Effect.ensuring(Effect.andThen(Effect.sync(() => {
    ctx.paused = false
  }), ctx.rebalanceNow)))

const reset = (ctx: Ctx) => (request: RemotingCommand.RemotingCommand) =>
  Effect.gen(function*() {
    const header = yield* Effect.result(Headers.ResetOffsetRequestHeader.decode(request.extFields))
    if (Result.isFailure(header)) {
      yield* Effect.logWarning(`Ignored a RESET_CONSUMER_CLIENT_OFFSET with an unreadable header: ${header.failure.message}`)
      return undefined
    }
    const offsets = QueueKeyed.parseOffsetTable(utf8.decode(request.body ?? new Uint8Array(0)), "offsetTable")
    if (Result.isFailure(offsets)) {
      yield* Effect.logWarning(`Ignored a RESET_CONSUMER_CLIENT_OFFSET with an unreadable body: ${offsets.failure}`)
      return undefined
    }
    yield* Effect.logInfo(`Resetting ${offsets.success.length} offset(s) of topic ${header.success.topic} for group ${ctx.config.group}`)
    yield* FiberSet.run(ctx.background, resetOffsets(ctx, header.success.topic, offsets.success))
    return undefined
  })

/** @internal: the handlers of the requests brokers send to this consumer, by request code. */
export const handlers = (ctx: Ctx, facts: RunningInfo.Facts): Readonly<Record<number, Handler>> => ({
  40: () => Effect.as(ctx.rebalanceNow, undefined),
  220: reset(ctx),
  221: (request) =>
    Effect.succeed(success(request, RunningInfo.consumerStatus(ctx, request.extFields.topic ?? ""))),
  307: (request) =>
    Effect.map(Clock.currentTimeMillis, (now) => success(request, RunningInfo.consumerRunningInfo(ctx, facts, now))),
  309: consumeDirectly(ctx)
})
