/**
 * The producer and consumer groups registered on a client instance, the HEART_BEAT body they make,
 * and the dispatcher of requests brokers send to the client (Java's `ClientRemotingProcessor`).
 *
 * Dispatch:
 * - CHECK_TRANSACTION_STATE (39, oneway): the body (the half message) is decoded and handed to the
 *   handler of the producer group named by its `PGROUP` property; never answered.
 * - NOTIFY_CONSUMER_IDS_CHANGED (40), RESET_CONSUMER_CLIENT_OFFSET (220),
 *   GET_CONSUMER_STATUS_FROM_CLIENT (221), GET_CONSUMER_RUNNING_INFO (307) and
 *   CONSUME_MESSAGE_DIRECTLY (309): the handler the consumer registered for that code, found by
 *   the header's `consumerGroup` (`group` for 220 and 221). A request for a group not registered
 *   here is answered SYSTEM_ERROR "The Consumer Group … not exist in this consumer", as Java does.
 * - Any other code: REQUEST_CODE_NOT_SUPPORTED. Oneway requests are never answered.
 *
 * @internal
 */
import { Channel, RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import { GroupAlreadyRegistered } from "../ClientError.ts"
import type * as Heartbeat from "../Heartbeat.ts"
import * as Message from "../Message.ts"
import * as Properties from "../Properties.ts"
import * as StoredMessage from "../StoredMessage.ts"

/** Handles one request a broker sent; `undefined` answers nothing. */
export type BrokerRequestHandler = (
  request: RemotingCommand.RemotingCommand,
  context: { readonly address: string }
) => Effect.Effect<RemotingCommand.RemotingCommand | undefined>

/** A broker asks a producer group how a transaction ended (CHECK_TRANSACTION_STATE). */
export interface TransactionCheckRequest {
  /** The broker that asks (`host:port` of the connection). */
  readonly address: string
  /** The request: its ext fields are the CheckTransactionStateRequestHeader. */
  readonly request: RemotingCommand.RemotingCommand
  /** The half message, topic and queue restored to the real ones. */
  readonly message: StoredMessage.StoredMessage
}

/** What a producer group registers. */
export interface ProducerRegistration {
  readonly checkTransactionState?: ((check: TransactionCheckRequest) => Effect.Effect<void>) | undefined
}

/** What a consumer group registers. */
export interface ConsumerRegistration {
  /** The group's heartbeat entry, read at every heartbeat (subscriptions may change). */
  readonly data: Effect.Effect<Heartbeat.ConsumerData>
  /** Handlers of the requests brokers send to this group, by request code. */
  readonly handlers?: Readonly<Record<number, BrokerRequestHandler>> | undefined
}

/** The request codes brokers send to consumers, and the header field naming the group. */
export const CONSUMER_REQUEST_GROUP_FIELD: ReadonlyMap<number, string> = new Map([
  [RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, "consumerGroup"],
  [RequestCode.RESET_CONSUMER_CLIENT_OFFSET, "group"],
  [RequestCode.GET_CONSUMER_STATUS_FROM_CLIENT, "group"],
  [RequestCode.GET_CONSUMER_RUNNING_INFO, "consumerGroup"],
  [RequestCode.CONSUME_MESSAGE_DIRECTLY, "consumerGroup"]
])

/** @internal */
export interface Registry {
  readonly producers: ReadonlyMap<string, ProducerRegistration>
  readonly consumers: ReadonlyMap<string, ConsumerRegistration>
  readonly addProducer: (group: string, registration: ProducerRegistration) => Effect.Effect<void, GroupAlreadyRegistered>
  readonly addConsumer: (group: string, registration: ConsumerRegistration) => Effect.Effect<void, GroupAlreadyRegistered>
  readonly remove: (role: "producer" | "consumer", group: string) => void
  readonly isEmpty: () => boolean
  /** The HEART_BEAT body; `undefined` when nothing is registered (no heartbeat is sent then). */
  readonly heartbeatData: Effect.Effect<Heartbeat.HeartbeatData | undefined>
  /** The topics registered consumers subscribe to (their routes are kept fresh). */
  readonly subscribedTopics: Effect.Effect<ReadonlyArray<string>>
  readonly handler: Channel.RequestHandlerShape
}

const notExist = (request: RemotingCommand.RemotingCommand, group: string) =>
  RemotingCommand.response(request, ResponseCode.SYSTEM_ERROR, `The Consumer Group <${group}> not exist in this consumer`)

/** A new, empty registry for the client `clientId`. */
export const make = (clientId: string): Registry => {
  const producers = new Map<string, ProducerRegistration>()
  const consumers = new Map<string, ConsumerRegistration>()

  const add = <R>(role: "producer" | "consumer", table: Map<string, R>, group: string, registration: R) =>
    Effect.suspend(() => {
      if (table.has(group)) return Effect.fail(new GroupAlreadyRegistered({ role, group, clientId }))
      table.set(group, registration)
      return Effect.void
    })

  const heartbeatData = Effect.suspend(() => {
    if (producers.size === 0 && consumers.size === 0) return Effect.succeed(undefined)
    return Effect.map(
      Effect.forEach([...consumers.values()], (registration) => registration.data),
      (consumerDataSet): Heartbeat.HeartbeatData => ({
        clientID: clientId,
        producerDataSet: [...producers.keys()].map((groupName) => ({ groupName })),
        consumerDataSet,
        heartbeatFingerprint: 0,
        withoutSub: false
      })
    )
  })

  const subscribedTopics = Effect.map(
    Effect.forEach([...consumers.values()], (registration) => registration.data),
    (data) => [...new Set(data.flatMap((consumer) => consumer.subscriptionDataSet.map((s) => s.topic)))]
  )

  const checkTransaction = (request: RemotingCommand.RemotingCommand, address: string) =>
    StoredMessage.decode(request.body ?? new Uint8Array(0)).pipe(
      Effect.flatMap((messages) => {
        const message = messages[0]
        if (messages.length !== 1 || message === undefined) {
          return Effect.logWarning(`Ignored a CHECK_TRANSACTION_STATE from ${address}: its body holds ${messages.length} messages, not one`)
        }
        const group = Properties.get(message.properties, Message.PropertyKey.PRODUCER_GROUP)
        const check = group === undefined ? undefined : producers.get(group)?.checkTransactionState
        if (check === undefined) {
          return Effect.logWarning(
            `Ignored a CHECK_TRANSACTION_STATE from ${address} for producer group ${JSON.stringify(group ?? "")}: ` +
              "no transactional producer of that group is registered on this client"
          )
        }
        return check({ address, request, message })
      }),
      Effect.catch((error) => Effect.logWarning(`Ignored a CHECK_TRANSACTION_STATE from ${address}: ${error.message}`))
    )

  const handler: Channel.RequestHandlerShape = {
    handle: (request, { address }) => {
      if (request.code === RequestCode.CHECK_TRANSACTION_STATE) {
        return Effect.as(checkTransaction(request, address), undefined)
      }
      const field = CONSUMER_REQUEST_GROUP_FIELD.get(request.code)
      if (field === undefined) return Effect.succeed(Channel.notSupported(request))
      const group = request.extFields[field] ?? ""
      const consumer = consumers.get(group)
      if (consumer === undefined) return Effect.succeed(notExist(request, group))
      const handle = consumer.handlers?.[request.code]
      return handle === undefined ? Effect.succeed(Channel.notSupported(request)) : handle(request, { address })
    }
  }

  return {
    producers,
    consumers,
    addProducer: (group, registration) => add("producer", producers, group, registration),
    addConsumer: (group, registration) => add("consumer", consumers, group, registration),
    remove: (role, group) => {
      if (role === "producer") producers.delete(group)
      else consumers.delete(group)
    },
    isEmpty: () => producers.size === 0 && consumers.size === 0,
    heartbeatData,
    subscribedTopics,
    handler
  }
}
