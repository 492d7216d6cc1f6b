/**
 * Orderly-consumption locks: LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42), as 5.3.3's
 * `AdminBrokerProcessor` answers them without strict mode. The bodies are Java's
 * `LockBatchRequestBody` / `UnlockBatchRequestBody` JSON (`clientId`, `consumerGroup`, `mqSet`,
 * `onlyThisBroker`); a lock answers `{"lockOKMQSet":[…]}` with the queues now held by that client,
 * an unlock answers SUCCESS with no body. A body that does not parse is answered SYSTEM_ERROR.
 */
import { FastJson } from "@effect-rocketmq/client"
import { RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Clock, Effect, Schema } from "effect"
import type { Handler } from "../../InMemoryRocketMQ.ts"
import type * as Parts from "./Parts.ts"
import * as Wire from "./wire.ts"

const MessageQueue = Schema.Struct({ brokerName: Schema.String, queueId: Schema.Number, topic: Schema.String })

/** `LockBatchRequestBody` and `UnlockBatchRequestBody` (the same fields). */
const LockBatchBody = Schema.Struct({
  clientId: Schema.String,
  consumerGroup: Schema.String,
  mqSet: Schema.Array(MessageQueue),
  onlyThisBroker: Schema.optionalKey(Schema.Boolean)
})

const decodeBody = FastJson.decodeBody(LockBatchBody, "LockBatchRequestBody")

export const make = (parts: Parts.Parts): Parts.Processors => {
  const withBody = (request: Parameters<Handler>[0], f: (body: typeof LockBatchBody.Type, now: number) => ReturnType<Handler>) =>
    decodeBody(request.body).pipe(
      Effect.matchEffect({
        onFailure: (error) => Effect.succeed(Wire.respond(request, ResponseCode.SYSTEM_ERROR, error.message)),
        onSuccess: (body) => Effect.flatMap(Clock.currentTimeMillis, (now) => f(body, now))
      })
    )

  const lock: Handler = (request) =>
    withBody(request, (body, now) =>
      Effect.sync(() => {
        const locked = parts.locks.tryLock(body.consumerGroup, body.mqSet, body.clientId, now)
        return Wire.respondJson(request, Wire.fastJson({ lockOKMQSet: locked.map((q) => Wire.messageQueueJson(q.topic, q.brokerName, q.queueId)) }))
      }))

  const unlock: Handler = (request) =>
    withBody(request, (body) =>
      Effect.sync(() => {
        parts.locks.unlock(body.consumerGroup, body.mqSet, body.clientId)
        return Wire.respond(request, ResponseCode.SUCCESS)
      }))

  return [
    [RequestCode.LOCK_BATCH_MQ, lock],
    [RequestCode.UNLOCK_BATCH_MQ, unlock]
  ]
}
