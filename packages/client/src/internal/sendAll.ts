/**
 * The producer's bulk send (`Producer.sendAll`): many messages, each sent as `send` sends it —
 * validation, compression, Java's round-robin queue choice, retries on another broker within one
 * deadline — with the first attempts going out together: one `Broker.sendMessages` per broker,
 * which is one `RemotingClient.invokeAll` (one channel, one suspension for all its messages).
 *
 * A message whose first attempt failed in a way Java retries (or was stored with a status other
 * than SEND_OK under `retryAnotherBrokerWhenNotStoreOK`, or whose broker had no known address)
 * goes on through the send loop, whose deadline and count of tries include that first attempt.
 * Each message gets its own result, in the order given; the call fails as a whole only when the
 * producer is closing.
 *
 * Not here: ordered sends (a queue, sharding key or selector is chosen per message: use `send`).
 *
 * @internal
 */
import { Clock, Duration, Effect, Option, Result } from "effect"
import * as Broker from "../Broker.ts"
import type * as Message from "../Message.ts"
import type * as MessageQueue from "../MessageQueue.ts"
import type { SendAllOptions, SendError, SendResult } from "../Producer.ts"
import type { ProducerClosed } from "../ProducerError.ts"
import * as SendLoop from "./sendLoop.ts"
import { attemptOptions, checked, type Core, isStoreOk, sendAttempt, withBody } from "./sendPaths.ts"
import * as Tracing from "./tracing.ts"

type Outcome = Result.Result<SendResult, SendError>

/** A message ready for its first attempt: its body as sent, its queue and its broker's address. */
interface Planned {
  readonly index: number
  readonly message: Message.Message
  readonly body: Message.Message
  readonly sysFlag: number
  readonly queue: MessageQueue.MessageQueue
  readonly address: string | undefined
}

/** A message that goes on through the send loop, from where its first attempt left it. */
interface Continued {
  readonly planned: Planned
  readonly resume: SendLoop.Resume<SendResult, Broker.BrokerError>
}

/** A topic's publish queues, read once per call (`publishRoute` fails with NoRouteInfo). */
type Routes = Map<string, ReadonlyArray<MessageQueue.MessageQueue>>

const queuesOf = (core: Core, routes: Routes, topic: string) => {
  const known = routes.get(topic)
  if (known !== undefined) return Effect.succeed(known)
  return Effect.map(core.instance.publishRoute(topic, { defaultTopicQueueNums: core.loop.defaultTopicQueueNums }), (route) => {
    routes.set(topic, route.publishQueues)
    return route.publishQueues
  })
}

/** Validation, compression and the first queue, as the single send path makes them. */
const plan = (core: Core, routes: Routes, message: Message.Message, index: number): Effect.Effect<Planned, SendError> => {
  const invalid = checked(core, message)
  if (invalid !== undefined) return Effect.fail(invalid)
  return withBody(core, message, (body, sysFlag) =>
    Effect.gen(function*() {
      const queues = yield* queuesOf(core, routes, message.topic)
      const queue = SendLoop.pickQueue(core.loop, message.topic, queues, undefined, 0, yield* Clock.currentTimeMillis)
      const address = Option.getOrUndefined(yield* core.instance.publishAddress(queue.brokerName))
      return { index, message, body, sysFlag, queue, address }
    }))
}

/** What one first attempt means: the message's outcome, or where the send loop takes it up. */
const afterFirst = (
  core: Core,
  start: number,
  planned: Planned,
  result: Result.Result<Broker.SendResult, Broker.BrokerError>,
  startedAt: number,
  latencyMillis: number
): Outcome | Continued => {
  const brokers = [planned.queue.brokerName]
  if (Result.isSuccess(result)) {
    SendLoop.noteAttempt(core.loop, planned.queue.brokerName, startedAt, latencyMillis, undefined)
    const sent: SendResult = { ...result.success, messageQueue: planned.queue }
    if (isStoreOk(sent) || !core.loop.retryAnotherBrokerWhenNotStoreOK) return Result.succeed(sent)
    const kept = { result: sent, queue: planned.queue, attempts: 1 }
    return { planned, resume: { start, brokers, reached: false, lastError: undefined, kept } }
  }
  const error = result.failure
  SendLoop.noteAttempt(core.loop, planned.queue.brokerName, startedAt, latencyMillis, error)
  if (!SendLoop.isRetried(error)) return Result.fail(error)
  return { planned, resume: { start, brokers, reached: error.mayHaveReachedPeer, lastError: error, kept: undefined } }
}

/**
 * The first attempts of the messages bound for one broker, in one bulk request: each final outcome
 * goes into `outcomes`; the messages the loop takes up are returned.
 */
const firstAttempts = (
  core: Core,
  start: number,
  timeout: number,
  outcomes: Array<Outcome>,
  [address, group]: readonly [string, ReadonlyArray<Planned>]
): Effect.Effect<Array<Continued>> =>
  Effect.gen(function*() {
    const startedAt = yield* Clock.currentTimeMillis
    const remaining = timeout - (startedAt - start)
    // Out of time before anything went out: the loop reports each as timed out.
    if (remaining <= 0) return group.map((planned): Continued => ({ planned, resume: fresh(start) }))
    const items = group.map((p) => ({ message: p.body, options: attemptOptions(core, p.queue, remaining, p.sysFlag) }))
    const results = yield* core.instance.provide(Broker.sendMessages(address, items, remaining))
    const latencyMillis = (yield* Clock.currentTimeMillis) - startedAt
    const continued: Array<Continued> = []
    group.forEach((planned, i) => {
      const next = afterFirst(core, start, planned, results[i]!, startedAt, latencyMillis)
      if (isContinued(next)) continued.push(next)
      else outcomes[planned.index] = next
    })
    return continued
  })

const fresh = (start: number): SendLoop.Resume<SendResult, Broker.BrokerError> => ({
  start,
  brokers: [],
  reached: false,
  lastError: undefined,
  kept: undefined
})

const isContinued = (x: Outcome | Continued): x is Continued => "resume" in x

/** The rest of a send, through the loop (its retries, route refresh, fault table and closing rule). */
const continueSend = (core: Core, timeout: number, { planned, resume }: Continued): Effect.Effect<Outcome> =>
  Effect.result(Effect.map(
    SendLoop.run(
      core.loop,
      planned.message.topic,
      { timeoutMillis: timeout, retry: true, isStoreOk, resume },
      sendAttempt(core, planned.body, planned.sysFlag)
    ),
    (sent) => sent.result
  ))

/** @internal */
export const sendAll = (core: Core) =>
(
  messages: ReadonlyArray<Message.Message>,
  options?: SendAllOptions | undefined
): Effect.Effect<Array<Outcome>, ProducerClosed> => {
  const timeout = options?.timeout === undefined ? core.timeoutMillis : Duration.toMillis(Duration.fromInputUnsafe(options.timeout))
  const work = Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const outcomes: Array<Outcome> = new Array(messages.length)
    const byAddress = new Map<string, Array<Planned>>()
    const continued: Array<Continued> = []
    const routes: Routes = new Map()
    for (let index = 0; index < messages.length; index++) {
      const planned = yield* Effect.result(plan(core, routes, messages[index]!, index))
      if (Result.isFailure(planned)) outcomes[index] = Result.fail(planned.failure)
      else if (planned.success.address === undefined) continued.push({ planned: planned.success, resume: fresh(start) })
      else {
        const group = byAddress.get(planned.success.address)
        if (group === undefined) byAddress.set(planned.success.address, [planned.success])
        else group.push(planned.success)
      }
    }
    const retried = yield* Effect.forEach(byAddress, (group) => firstAttempts(core, start, timeout, outcomes, group), {
      concurrency: "unbounded"
    })
    // As after any failed attempt: the topic's route is refreshed (once per topic here).
    const failedTopics = new Set(retried.flat().flatMap((c) => c.resume.lastError === undefined ? [] : [c.planned.message.topic]))
    yield* Effect.forEach(failedTopics, (topic) => core.loop.afterFailure(topic), { discard: true })
    yield* Effect.forEach([...continued, ...retried.flat()], (c) =>
      Effect.map(continueSend(core, timeout, c), (outcome) => {
        outcomes[c.planned.index] = outcome
      }), { concurrency: "unbounded", discard: true })
    return outcomes
  })
  return Tracing.traced(
    "Producer.sendAll",
    () => ({ "rocketmq.group": core.group, "rocketmq.messages": messages.length }),
    core.admission.admitAll(messages.map((message) => message.topic), work)
  )
}
