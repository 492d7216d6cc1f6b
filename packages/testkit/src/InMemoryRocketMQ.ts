/**
 * An in-memory Apache RocketMQ: one name server and one broker (one master, one cluster) answering
 * the requests the `@effect-rocketmq/client` operations send, with the response codes, ext fields,
 * remarks and bodies a real 5.3.3 broker gives.
 *
 * It is a table of processors (request code → `(request) => Effect<response>`) over state held by
 * {@link make}: serve them with `RemotingServer` for a broker on a socket, or call them in process
 * with {@link remotingClient}. Handlers never fail: a request they cannot read is answered
 * `SYSTEM_ERROR` with a remark, as Java does.
 *
 * What it keeps and answers:
 * - **Name server**: GET_ROUTEINFO_BY_TOPIC (105; standard JSON for version ≥ 401 or
 *   `acceptStandardJsonOnly`, fastjson's bare integer keys otherwise; 17 for an unknown topic),
 *   GET_BROKER_CLUSTER_INFO (106, bare integer keys, as every name server writes it) and
 *   GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206).
 * - **Broker**: UPDATE_AND_CREATE_TOPIC (17; topic names validated; answers 0 with the remark
 *   "not set any response code" like 5.3.3), SEND_MESSAGE (10) and SEND_MESSAGE_V2 (310): appends
 *   a stored-format record to the queue (a negative queue id picks one round-robin), consecutive
 *   queue offsets from 0, commit-log offsets that grow by record size; adds `MSG_REGION`,
 *   `TRACE_ON`, `UNIQ_KEY` (when absent) and `CLUSTER` as the broker does; auto-creates unknown
 *   topics with `min(d, 8)` queues. PULL_MESSAGE (11): the store's statuses and their codes (0 /
 *   19 / 20 / 21) and remarks, tag filtering by hash code, at most 32 messages and 256 KiB per
 *   response (but always one), long polling with the suspend flag. HEART_BEAT (34),
 *   GET_MAX_OFFSET (30), QUERY_CONSUMER_OFFSET (14, Java's rules for a group with no stored
 *   offset) and UPDATE_CONSUMER_OFFSET (15; the group must exist: pulls and heartbeats create it).
 *
 * A send without a body is answered SYSTEM_ERROR, as the real broker's NullPointerException is.
 *
 * Not modelled: delay levels and timers (messages are stored as sent, visible at once),
 * transactions, batches, retry topics, SQL92 filters (refused like a broker without
 * `enablePropertyFilter`), slaves, ACL, deleting topics or old messages.
 *
 * @since 0.1.0
 */
import { Broker, Headers, Heartbeat, Message, Properties, StoredMessage } from "@effect-rocketmq/client"
import {
  Codec,
  Header,
  RemotingClient,
  RemotingCommand,
  RemotingError,
  RemotingServer,
  RequestCode,
  ResponseCode
} from "@effect-rocketmq/remoting"
import { Clock, Deferred, Effect, Exit, Layer, type Scope } from "effect"

/**
 * A request handler: the response to `request`. `context.remoteAddress` (the client's
 * `host:port`) becomes the born host of sent messages when given.
 *
 * @since 0.1.0
 * @category models
 */
export type Handler = (
  request: RemotingCommand.RemotingCommand,
  context?: { readonly remoteAddress?: string | undefined }
) => Effect.Effect<RemotingCommand.RemotingCommand>

/**
 * Options of {@link make}; every field has a default.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Default `DefaultCluster`. */
  readonly clusterName?: string | undefined
  /** Default `broker-a`. */
  readonly brokerName?: string | undefined
  /** The broker's `host:port` as published in routes and stored as the store host. Default `127.0.0.1:10911`. */
  readonly brokerAddress?: string | undefined
  /** Create unknown topics on send (`autoCreateTopicEnable`, default true). */
  readonly autoCreateTopic?: boolean | undefined
  /** Largest body accepted by send (default 4 MiB, as `maxMessageSize`). */
  readonly maxMessageSize?: number | undefined
}

/**
 * A topic's configuration.
 *
 * @since 0.1.0
 * @category models
 */
export interface TopicConfig {
  readonly topic: string
  readonly readQueueNums: number
  readonly writeQueueNums: number
  readonly perm: number
  readonly topicFilterType: string
  readonly topicSysFlag: number
  readonly order: boolean
}

/**
 * An in-memory name server and broker.
 *
 * @since 0.1.0
 * @category models
 */
export interface InMemoryRocketMQ {
  /** Every handler, name server's and broker's (their request codes do not overlap). */
  readonly processors: ReadonlyMap<number, Handler>
  readonly nameServerProcessors: ReadonlyMap<number, Handler>
  readonly brokerProcessors: ReadonlyMap<number, Handler>
  /** Dispatches by code; an unknown code is answered REQUEST_CODE_NOT_SUPPORTED (3) as Java does. */
  readonly handle: Handler
  /** The broker address published in routes (see {@link Options.brokerAddress}). */
  readonly brokerAddress: () => string
  /** Changes the published broker address, e.g. once a server knows its port. */
  readonly setBrokerAddress: (address: string) => Effect.Effect<void>
  readonly topics: () => ReadonlyArray<TopicConfig>
  /** The number of messages in a queue (its max offset). */
  readonly queueSize: (topic: string, queueId: number) => number
  /** The offset a consumer group has stored for a queue, if any. */
  readonly consumerOffset: (consumerGroup: string, topic: string, queueId: number) => bigint | undefined
}

/** The brokers' template topic for auto-creation. */
const TBW102 = "TBW102"
const MAX_TRANSFER_COUNT = 32
const MAX_TRANSFER_BYTES = 256 * 1024
const REGION = "DefaultRegion"
const FAQ = "\nSee https://rocketmq.apache.org/docs/bestPractice/06FAQ for further details."
const TOPIC_PATTERN = /^[%|a-zA-Z0-9_-]+$/
const SYSTEM_TOPICS = new Set([
  TBW102,
  "SCHEDULE_TOPIC_XXXX",
  "BenchmarkTest",
  "RMQ_SYS_TRANS_HALF_TOPIC",
  "RMQ_SYS_TRACE_TOPIC",
  "RMQ_SYS_TRANS_OP_HALF_TOPIC",
  "TRANS_CHECK_MAX_TIME_TOPIC",
  "SELF_TEST_TOPIC",
  "OFFSET_MOVED_EVENT",
  "CHECKPOINT_TOPIC"
])
const isSystemTopic = (topic: string) => SYSTEM_TOPICS.has(topic) || topic.startsWith("rmq_sys_")

interface StoredEntry {
  readonly record: Uint8Array
  readonly tagsCode: number
}

const utf8 = new TextEncoder()

/**
 * Writes JSON as fastjson does: with `bareIntegerKeys`, object keys that are integers come out
 * unquoted (`{0:"a"}`), as name servers write `Map<Long, String>` without BrowserCompatible.
 */
const fastJson = (value: unknown, bareIntegerKeys: boolean): string => {
  if (Array.isArray(value)) return `[${value.map((v) => fastJson(v, bareIntegerKeys)).join(",")}]`
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value).map((key) => {
      const name = bareIntegerKeys && /^-?\d+$/.test(key) ? key : JSON.stringify(key)
      return `${name}:${fastJson((value as Record<string, unknown>)[key], bareIntegerKeys)}`
    })
    return `{${entries.join(",")}}`
  }
  return JSON.stringify(value)
}

const splitAddress = (address: string): StoredMessage.SocketAddress | undefined => {
  const colon = address.lastIndexOf(":")
  if (colon <= 0) return undefined
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1")
  const port = Number(address.slice(colon + 1))
  if (!Number.isInteger(port) || port < 0 || port > 65535 || StoredMessage.parseIp(host) === undefined) return undefined
  return { host, port }
}

const respond = (
  request: RemotingCommand.RemotingCommand,
  code: number,
  remark?: string | undefined,
  options?: { readonly extFields?: { readonly [key: string]: string }; readonly body?: Uint8Array | undefined }
): RemotingCommand.RemotingCommand => RemotingCommand.response(request, code, remark, options)

// Java answers a header it cannot read with SYSTEM_ERROR and the exception text.
const withHeader = <F extends Header.Fields>(
  header: Header.Header<F>,
  request: RemotingCommand.RemotingCommand,
  f: (value: Header.Header<F>["schema"]["Type"]) => Effect.Effect<RemotingCommand.RemotingCommand>
): Effect.Effect<RemotingCommand.RemotingCommand> =>
  header.decode(request.extFields).pipe(
    Effect.matchEffect({
      onFailure: (error) => Effect.succeed(respond(request, ResponseCode.SYSTEM_ERROR, error.message)),
      onSuccess: f
    })
  )

// SEND_MESSAGE (10) uses the long names of SendMessageRequestHeader; map them onto V2's.
const SEND_V1_TO_V2: ReadonlyArray<readonly [string, string]> = [
  ["producerGroup", "a"],
  ["topic", "b"],
  ["defaultTopic", "c"],
  ["defaultTopicQueueNums", "d"],
  ["queueId", "e"],
  ["sysFlag", "f"],
  ["bornTimestamp", "g"],
  ["flag", "h"],
  ["properties", "i"],
  ["reconsumeTimes", "j"],
  ["unitMode", "k"],
  ["maxReconsumeTimes", "l"],
  ["batch", "m"],
  ["bname", "n"]
]

const validateTopic = (topic: string): string | undefined =>
  topic.trim() === ""
    ? "The specified topic is blank."
    : !TOPIC_PATTERN.test(topic)
    ? "The specified topic contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$"
    : topic.length > 127
    ? "The specified topic is longer than topic max length."
    : undefined

/**
 * A new in-memory name server and broker with its own state. Like a fresh 5.3.3 broker, it
 * starts with the topics `TBW102`, the cluster name and the broker name.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<InMemoryRocketMQ> =>
  Effect.sync(() => {
    const clusterName = options?.clusterName ?? "DefaultCluster"
    const brokerName = options?.brokerName ?? "broker-a"
    const autoCreateTopic = options?.autoCreateTopic ?? true
    const maxMessageSize = options?.maxMessageSize ?? 4 * 1024 * 1024
    let brokerAddress = options?.brokerAddress ?? "127.0.0.1:10911"

    const topics = new Map<string, TopicConfig>()
    const queues = new Map<string, Array<Array<StoredEntry>>>()
    const roundRobin = new Map<string, number>()
    const offsets = new Map<string, bigint>()
    const groups = new Set<string>()
    const subscriptions = new Map<string, Map<string, Heartbeat.SubscriptionData>>()
    const waiters = new Map<string, Set<Deferred.Deferred<void>>>()
    let commitLogOffset = 0n

    const putTopic = (config: TopicConfig) => {
      topics.set(config.topic, config)
      const existing = queues.get(config.topic) ?? []
      const count = Math.max(config.readQueueNums, config.writeQueueNums)
      while (existing.length < count) existing.push([])
      queues.set(config.topic, existing)
    }
    const systemTopic = (topic: string, nums: number): TopicConfig => ({
      topic,
      readQueueNums: nums,
      writeQueueNums: nums,
      perm: 7,
      topicFilterType: "SINGLE_TAG",
      topicSysFlag: 0,
      order: false
    })
    putTopic(systemTopic(TBW102, 8))
    putTopic(systemTopic(clusterName, 16))
    putTopic(systemTopic(brokerName, 1))

    const queueOf = (topic: string, queueId: number): Array<StoredEntry> | undefined => queues.get(topic)?.[queueId]
    const queueKey = (topic: string, queueId: number) => `${topic}\u0000${queueId}`
    const offsetKey = (group: string, topic: string, queueId: number) => `${group}\u0000${topic}\u0000${queueId}`
    const storeHost = (): StoredMessage.SocketAddress => splitAddress(brokerAddress) ?? { host: "127.0.0.1", port: 10911 }

    const brokerData = () => ({
      brokerAddrs: { "0": brokerAddress },
      brokerName,
      cluster: clusterName,
      enableActingMaster: false
    })

    // ------------------------------------------------------------------------------------------
    // Name server
    // ------------------------------------------------------------------------------------------

    const getRouteInfo: Handler = (request) =>
      withHeader(Headers.GetRouteInfoRequestHeader, request, (header) =>
        Effect.sync(() => {
          const config = topics.get(header.topic)
          if (config === undefined) {
            return respond(
              request,
              ResponseCode.TOPIC_NOT_EXIST,
              `No topic route info in name server for the topic: ${header.topic}${FAQ}`
            )
          }
          const standard = request.version >= RemotingCommand.Version.V4_9_4 || header.acceptStandardJsonOnly === true
          const route = {
            brokerDatas: [brokerData()],
            filterServerTable: {},
            queueDatas: [{
              brokerName,
              perm: config.perm,
              readQueueNums: config.readQueueNums,
              topicSysFlag: config.topicSysFlag,
              writeQueueNums: config.writeQueueNums
            }]
          }
          return respond(request, ResponseCode.SUCCESS, undefined, { body: utf8.encode(fastJson(route, !standard)) })
        }))

    const getClusterInfo: Handler = (request) =>
      Effect.sync(() => {
        const info = {
          brokerAddrTable: { [brokerName]: brokerData() },
          clusterAddrTable: { [clusterName]: [brokerName] }
        }
        return respond(request, ResponseCode.SUCCESS, undefined, { body: utf8.encode(fastJson(info, true)) })
      })

    const getTopicList: Handler = (request) =>
      Effect.sync(() =>
        respond(request, ResponseCode.SUCCESS, undefined, {
          body: utf8.encode(JSON.stringify({ topicList: [...topics.keys()] }))
        })
      )

    // ------------------------------------------------------------------------------------------
    // Broker: topics and sending
    // ------------------------------------------------------------------------------------------

    const createTopic: Handler = (request) =>
      withHeader(Headers.CreateTopicRequestHeader, request, (header) =>
        Effect.sync(() => {
          const invalid = validateTopic(header.topic)
          if (invalid !== undefined) return respond(request, ResponseCode.INVALID_PARAMETER, invalid)
          if (isSystemTopic(header.topic)) {
            return respond(request, ResponseCode.INVALID_PARAMETER, `The topic[${header.topic}] is conflict with system topic.`)
          }
          putTopic({
            topic: header.topic,
            readQueueNums: header.readQueueNums,
            writeQueueNums: header.writeQueueNums,
            perm: header.perm,
            topicFilterType: header.topicFilterType,
            topicSysFlag: header.topicSysFlag ?? 0,
            order: header.order
          })
          return respond(request, ResponseCode.SUCCESS, "not set any response code")
        }))

    const send = (
      request: RemotingCommand.RemotingCommand,
      header: typeof Headers.SendMessageRequestHeaderV2.schema.Type,
      bornHost: StoredMessage.SocketAddress
    ): Effect.Effect<RemotingCommand.RemotingCommand> =>
      Effect.gen(function*() {
        const topic = header.b
        const invalid = validateTopic(topic)
        if (invalid !== undefined) return respond(request, ResponseCode.INVALID_PARAMETER, invalid)
        if (isSystemTopic(topic) && topic !== TBW102) {
          return respond(request, ResponseCode.NO_PERMISSION, `Sending message to topic[${topic}] is forbidden.`)
        }
        let config = topics.get(topic)
        if (config === undefined) {
          if (!autoCreateTopic) {
            return respond(request, ResponseCode.TOPIC_NOT_EXIST, `topic[${topic}] not exist, apply first please!${FAQ}`)
          }
          const nums = Math.max(1, Math.min(header.d, topics.get(TBW102)?.writeQueueNums ?? 8))
          config = { ...systemTopic(topic, nums), perm: 6 }
          putTopic(config)
        }
        if (header.e >= Math.max(config.readQueueNums, config.writeQueueNums)) {
          return respond(
            request,
            ResponseCode.INVALID_PARAMETER,
            `request queueId[${header.e}] is illegal, TopicConfig [topicName=${topic}, readQueueNums=` +
              `${config.readQueueNums}, writeQueueNums=${config.writeQueueNums}] Producer: ${bornHost.host}`
          )
        }
        const body = request.body
        if (body === undefined) {
          // A 5.3.3 broker fails here with a NullPointerException (an empty body decodes as null).
          return respond(
            request,
            ResponseCode.SYSTEM_ERROR,
            "java.lang.NullPointerException: the request has no body (a message needs a non-empty body)"
          )
        }
        if (body.length > maxMessageSize) {
          return respond(
            request,
            ResponseCode.MESSAGE_ILLEGAL,
            `the message body size over max value, MAX: ${maxMessageSize}`
          )
        }
        const properties = Properties.fromEntries(Object.entries(Properties.decode(header.i ?? "")))
        const record = properties as Record<string, string>
        record["MSG_REGION"] = REGION
        record["TRACE_ON"] = "true"
        if ((record["UNIQ_KEY"] ?? "") === "") record["UNIQ_KEY"] = yield* Message.makeUniqId
        record["CLUSTER"] = clusterName
        const storeTimestamp = yield* Clock.currentTimeMillis
        if (header.e < 0 && config.writeQueueNums <= 0) {
          return respond(request, ResponseCode.SYSTEM_ERROR, `topic[${topic}] has no write queue`)
        }
        return yield* Effect.sync(() => {
          let queueId = header.e
          if (queueId < 0) {
            const next = roundRobin.get(topic) ?? 0
            queueId = next % config.writeQueueNums
            roundRobin.set(topic, next + 1)
          }
          const queue = queueOf(topic, queueId)!
          const queueOffset = BigInt(queue.length)
          const encoded = StoredMessage.encodeSync({
            queueId,
            flag: header.h,
            queueOffset,
            commitLogOffset,
            sysFlag: header.f,
            bornTimestamp: header.g,
            bornHost,
            storeTimestamp,
            storeHost: storeHost(),
            reconsumeTimes: header.j ?? 0,
            preparedTransactionOffset: 0n,
            body,
            topic,
            properties
          })
          if (!(encoded instanceof Uint8Array)) {
            return respond(request, ResponseCode.MESSAGE_ILLEGAL, encoded.message)
          }
          const tags = Properties.get(properties, "TAGS")
          queue.push({ record: encoded, tagsCode: tags === undefined || tags === "" ? 0 : Heartbeat.javaHashCode(tags) })
          const offsetMsgId = StoredMessage.makeOffsetMsgId(storeHost(), commitLogOffset)!
          commitLogOffset += BigInt(encoded.length)
          const waiting = waiters.get(queueKey(topic, queueId))
          if (waiting !== undefined) {
            waiters.delete(queueKey(topic, queueId))
            for (const deferred of waiting) Deferred.doneUnsafe(deferred, Exit.void)
          }
          return respond(request, ResponseCode.SUCCESS, undefined, {
            extFields: {
              msgId: offsetMsgId,
              queueId: String(queueId),
              queueOffset: String(queueOffset),
              transactionId: record["UNIQ_KEY"]!,
              MSG_REGION: REGION,
              TRACE_ON: "true"
            }
          })
        })
      })

    const bornHostOf = (context: Parameters<Handler>[1]): StoredMessage.SocketAddress =>
      (context?.remoteAddress !== undefined ? splitAddress(context.remoteAddress) : undefined) ??
        { host: "127.0.0.1", port: 0 }

    const sendV2: Handler = (request, context) =>
      withHeader(Headers.SendMessageRequestHeaderV2, request, (header) => send(request, header, bornHostOf(context)))

    const sendV1: Handler = (request, context) => {
      const mapped = RemotingCommand.newExtFields()
      for (const [long, short] of SEND_V1_TO_V2) {
        const value = request.extFields[long]
        if (Object.prototype.hasOwnProperty.call(request.extFields, long) && value !== undefined) mapped[short] = value
      }
      return Header.make("SendMessageRequestHeader", Headers.SendMessageRequestHeaderV2.schema.fields)
        .decode(mapped)
        .pipe(
          Effect.matchEffect({
            onFailure: (error) => Effect.succeed(respond(request, ResponseCode.SYSTEM_ERROR, error.message)),
            onSuccess: (header) => send(request, header, bornHostOf(context))
          })
        )
    }

    // ------------------------------------------------------------------------------------------
    // Broker: pulling
    // ------------------------------------------------------------------------------------------

    type PullHeader = typeof Headers.PullMessageRequestHeader.schema.Type

    // One pass of the store's getMessage plus the processor's status-to-code mapping.
    const pullOnce = (request: RemotingCommand.RemotingCommand, header: PullHeader, codes: ReadonlySet<number> | undefined) => {
      const queue = queueOf(header.topic, header.queueId) ?? []
      const maxOffset = BigInt(queue.length)
      const minOffset = 0n
      const offset = header.queueOffset
      let status: string
      let code: number
      let next = offset
      const found: Array<Uint8Array> = []
      if (maxOffset === 0n) {
        status = "NO_MESSAGE_IN_QUEUE"
        next = 0n
        code = offset !== 0n ? ResponseCode.PULL_OFFSET_MOVED : ResponseCode.PULL_NOT_FOUND
      } else if (offset < minOffset) {
        status = "OFFSET_TOO_SMALL"
        next = minOffset
        code = ResponseCode.PULL_OFFSET_MOVED
      } else if (offset === maxOffset) {
        status = "OFFSET_OVERFLOW_ONE"
        code = ResponseCode.PULL_NOT_FOUND
      } else if (offset > maxOffset) {
        status = "OFFSET_OVERFLOW_BADLY"
        next = maxOffset
        code = ResponseCode.PULL_OFFSET_MOVED
      } else {
        status = "NO_MATCHED_MESSAGE"
        let bytes = 0
        // The store scans at most max(16000 / 20, maxMsgNums) consume-queue units per call.
        const scanLimit = Math.max(800, header.maxMsgNums)
        for (let i = Number(offset); i < queue.length && i - Number(offset) < scanLimit; i++) {
          const entry = queue[i]!
          if (
            found.length > 0 &&
            (found.length >= header.maxMsgNums || found.length >= MAX_TRANSFER_COUNT ||
              bytes + entry.record.length > MAX_TRANSFER_BYTES)
          ) break
          next = BigInt(i + 1)
          if (codes !== undefined && !codes.has(entry.tagsCode)) continue
          found.push(entry.record)
          bytes += entry.record.length
          status = "FOUND"
        }
        code = status === "FOUND" ? ResponseCode.SUCCESS : ResponseCode.PULL_RETRY_IMMEDIATELY
      }
      return respond(request, code, status, {
        extFields: {
          suggestWhichBrokerId: "0",
          groupSysFlag: "0",
          nextBeginOffset: String(next),
          maxOffset: String(maxOffset),
          minOffset: String(minOffset),
          topicSysFlag: String(topics.get(header.topic)?.topicSysFlag ?? 0)
        },
        body: found.length === 0 ? undefined : Buffer.concat(found)
      })
    }

    const pull: Handler = (request) =>
      withHeader(Headers.PullMessageRequestHeader, request, (header) =>
        Effect.gen(function*() {
          groups.add(header.consumerGroup)
          const config = topics.get(header.topic)
          if (config === undefined) {
            // (The pull processor's format has a space before the FAQ line; the send check's has none.)
            return respond(request, ResponseCode.TOPIC_NOT_EXIST, `topic[${header.topic}] not exist, apply first please! ${FAQ}`)
          }
          if ((config.perm & 4) === 0) {
            return respond(request, ResponseCode.NO_PERMISSION, `the topic[${header.topic}] pulling message is forbidden`)
          }
          if (header.queueId < 0 || header.queueId >= config.readQueueNums) {
            return respond(
              request,
              ResponseCode.INVALID_PARAMETER,
              `queueId[${header.queueId}] is illegal, topic:[${header.topic}] topicConfig.readQueueNums:` +
                `[${config.readQueueNums}] consumer:[127.0.0.1]`
            )
          }
          let subscription: Heartbeat.SubscriptionData | undefined
          if ((header.sysFlag & Broker.PullSysFlag.SUBSCRIPTION) !== 0) {
            subscription = Heartbeat.subscription(header.topic, header.subscription ?? "*", header.subVersion)
            subscription = { ...subscription, expressionType: header.expressionType ?? "TAG" }
          } else {
            const group = subscriptions.get(header.consumerGroup)
            if (group === undefined) {
              return respond(
                request,
                ResponseCode.SUBSCRIPTION_NOT_EXIST,
                `the consumer's group info not exist${FAQ}`
              )
            }
            subscription = group.get(header.topic)
            if (subscription === undefined) {
              return respond(request, ResponseCode.SUBSCRIPTION_NOT_EXIST, `the consumer's subscription not exist${FAQ}`)
            }
          }
          if (subscription.expressionType !== "TAG") {
            return respond(
              request,
              ResponseCode.SYSTEM_ERROR,
              `The broker does not support consumer to filter message by ${subscription.expressionType}`
            )
          }
          const codes = subscription.subString === "*" || subscription.codeSet.length === 0
            ? undefined
            : new Set(subscription.codeSet)
          if ((header.sysFlag & Broker.PullSysFlag.COMMIT_OFFSET) !== 0 && header.commitOffset >= 0n) {
            offsets.set(offsetKey(header.consumerGroup, header.topic, header.queueId), header.commitOffset)
          }
          const suspend = (header.sysFlag & Broker.PullSysFlag.SUSPEND) !== 0 ? header.suspendTimeoutMillis : 0
          const key = queueKey(header.topic, header.queueId)
          // Computing and registering happen in one synchronous step, so no send slips between them.
          const first = yield* Effect.sync(() => {
            const response = pullOnce(request, header, codes)
            if (response.code !== ResponseCode.PULL_NOT_FOUND || suspend <= 0) return { response, waiting: undefined }
            const deferred = Deferred.makeUnsafe<void>()
            const set = waiters.get(key) ?? new Set()
            set.add(deferred)
            waiters.set(key, set)
            return { response, waiting: deferred }
          })
          if (first.waiting === undefined) return first.response
          const deferred = first.waiting
          yield* Deferred.await(deferred).pipe(
            Effect.timeoutOption(suspend),
            Effect.ensuring(Effect.sync(() => waiters.get(key)?.delete(deferred)))
          )
          return yield* Effect.sync(() => pullOnce(request, header, codes))
        }))

    // ------------------------------------------------------------------------------------------
    // Broker: heartbeat and offsets
    // ------------------------------------------------------------------------------------------

    const heartbeat: Handler = (request) =>
      Heartbeat.decode(request.body).pipe(
        Effect.matchEffect({
          onFailure: (error) => Effect.succeed(respond(request, ResponseCode.SYSTEM_ERROR, error.message)),
          onSuccess: (data) =>
            Effect.sync(() => {
              for (const consumer of data.consumerDataSet) {
                groups.add(consumer.groupName)
                const byTopic = subscriptions.get(consumer.groupName) ?? new Map<string, Heartbeat.SubscriptionData>()
                for (const sub of consumer.subscriptionDataSet) byTopic.set(sub.topic, sub)
                subscriptions.set(consumer.groupName, byTopic)
              }
              return respond(request, ResponseCode.SUCCESS)
            })
        })
      )

    const getMaxOffset: Handler = (request) =>
      withHeader(Headers.GetMaxOffsetRequestHeader, request, (header) =>
        Effect.sync(() =>
          respond(request, ResponseCode.SUCCESS, undefined, {
            extFields: { offset: String(queueOf(header.topic, header.queueId)?.length ?? 0) }
          })
        ))

    const queryConsumerOffset: Handler = (request) =>
      withHeader(Headers.QueryConsumerOffsetRequestHeader, request, (header) =>
        Effect.sync(() => {
          const stored = offsets.get(offsetKey(header.consumerGroup, header.topic, header.queueId))
          if (stored !== undefined && stored >= 0n) {
            return respond(request, ResponseCode.SUCCESS, undefined, { extFields: { offset: String(stored) } })
          }
          if (header.setZeroIfNotFound === false) {
            return respond(request, ResponseCode.QUERY_NOT_FOUND, "Not found, do not set to zero, maybe this group boot first")
          }
          // Java answers 0 when the queue starts at 0 and its first message is still in memory.
          if ((queueOf(header.topic, header.queueId)?.length ?? 0) > 0) {
            return respond(request, ResponseCode.SUCCESS, undefined, { extFields: { offset: "0" } })
          }
          return respond(
            request,
            ResponseCode.QUERY_NOT_FOUND,
            "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first"
          )
        }))

    const updateConsumerOffset: Handler = (request) =>
      withHeader(Headers.UpdateConsumerOffsetRequestHeader, request, (header) =>
        Effect.sync(() => {
          if (!groups.has(header.consumerGroup)) {
            return respond(request, ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `Group ${header.consumerGroup} not exist!`)
          }
          if (!topics.has(header.topic)) {
            return respond(request, ResponseCode.TOPIC_NOT_EXIST, `Topic ${header.topic} not exist!`)
          }
          offsets.set(offsetKey(header.consumerGroup, header.topic, header.queueId), header.commitOffset)
          return respond(request, ResponseCode.SUCCESS)
        }))

    const nameServerProcessors: ReadonlyMap<number, Handler> = new Map([
      [RequestCode.GET_ROUTEINFO_BY_TOPIC, getRouteInfo],
      [RequestCode.GET_BROKER_CLUSTER_INFO, getClusterInfo],
      [RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER, getTopicList]
    ])
    const brokerProcessors: ReadonlyMap<number, Handler> = new Map([
      [RequestCode.UPDATE_AND_CREATE_TOPIC, createTopic],
      [RequestCode.SEND_MESSAGE, sendV1],
      [RequestCode.SEND_MESSAGE_V2, sendV2],
      [RequestCode.PULL_MESSAGE, pull],
      [RequestCode.HEART_BEAT, heartbeat],
      [RequestCode.GET_MAX_OFFSET, getMaxOffset],
      [RequestCode.QUERY_CONSUMER_OFFSET, queryConsumerOffset],
      [RequestCode.UPDATE_CONSUMER_OFFSET, updateConsumerOffset]
    ])
    const processors: ReadonlyMap<number, Handler> = new Map([...nameServerProcessors, ...brokerProcessors])

    return {
      processors,
      nameServerProcessors,
      brokerProcessors,
      handle: dispatch(processors),
      brokerAddress: () => brokerAddress,
      setBrokerAddress: (address) =>
        Effect.sync(() => {
          brokerAddress = address
        }),
      topics: () => [...topics.values()],
      queueSize: (topic, queueId) => queueOf(topic, queueId)?.length ?? 0,
      consumerOffset: (consumerGroup, topic, queueId) => offsets.get(offsetKey(consumerGroup, topic, queueId))
    } satisfies InMemoryRocketMQ
  })

/**
 * A handler that dispatches by request code to `processors`, answering unknown codes with
 * REQUEST_CODE_NOT_SUPPORTED (3) and Java's remark.
 *
 * @since 0.1.0
 * @category constructors
 */
export const dispatch = (processors: ReadonlyMap<number, Handler>): Handler => (request, context) => {
  const handler = processors.get(request.code)
  return handler === undefined
    ? Effect.succeed(
      respond(request, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, ` request type ${request.code} not supported`)
    )
    : handler(request, context)
}

/**
 * Options of {@link remotingClient}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientOptions {
  /** The address the name server answers on (default `127.0.0.1:9876`). */
  readonly nameServerAddress?: string | undefined
  /** The client address reported to handlers as the born host (default `127.0.0.1:50000`). */
  readonly clientAddress?: string | undefined
}

/**
 * A `RemotingClient` wired to `rmq` without sockets: each request is encoded to a frame and
 * decoded again (so what the handlers see is what a server would read), dispatched to the name
 * server's processors (`invokeNameServer`, or `invoke` to the name server address) or the
 * broker's (`invoke` to the broker address), and the response goes through the codec the same
 * way. Other addresses fail with `ConnectError` (refused). Oneway calls run the handler and drop
 * the response.
 *
 * @since 0.1.0
 * @category constructors
 */
export const remotingClient = (rmq: InMemoryRocketMQ, options?: ClientOptions): RemotingClient.RemotingClientShape => {
  const nameServerAddress = options?.nameServerAddress ?? "127.0.0.1:9876"
  const context = { remoteAddress: options?.clientAddress ?? "127.0.0.1:50000" }
  const nameServer = dispatch(rmq.nameServerProcessors)
  const broker = dispatch(rmq.brokerProcessors)
  let opaque = 0
  const wire = (address: string, command: RemotingCommand.RemotingCommand) =>
    Effect.try({
      try: () => Codec.encodeFrame(command),
      catch: (error) =>
        new RemotingError.ChannelSendRequestFailed({
          address,
          requestCode: command.code,
          opaque: command.opaque,
          reason: "FrameTooLarge",
          detail: String(error)
        })
    }).pipe(
      Effect.flatMap((frame) => Codec.decodeFrame(frame)),
      Effect.catchTag("FrameDecodeError", (cause) =>
        Effect.fail(
          new RemotingError.ChannelClosed({ address, requestCode: command.code, opaque: command.opaque, cause, written: true })
        ))
    )
  const route = (address: string) =>
    address === rmq.brokerAddress() ? broker : address === nameServerAddress ? nameServer : undefined
  const call = (address: string, handler: Handler, request: RemotingCommand.RemotingCommand) =>
    Effect.gen(function*() {
      opaque = (opaque + 1) | 0
      const sent = yield* wire(address, RemotingCommand.withOpaque(request, opaque))
      const response = yield* handler(sent, context)
      return yield* wire(address, response)
    })
  const refused = (address: string) =>
    Effect.fail(
      new RemotingError.ConnectError({ address, reason: "Refused", detail: "no in-memory server at this address" })
    )
  return RemotingClient.fromCalls({
    invoke: (address, request) => {
      const handler = route(address)
      return handler === undefined ? refused(address) : call(address, handler, request)
    },
    invokeOneway: (address, request) => {
      const handler = route(address)
      return handler === undefined
        ? refused(address)
        : Effect.asVoid(call(address, handler, RemotingCommand.markOneway(request)))
    },
    invokeNameServer: (request) => call(nameServerAddress, nameServer, request)
  })
}

/**
 * A fresh in-memory RocketMQ with a {@link remotingClient} to it, as a layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient = (
  options?: Options & ClientOptions
): Layer.Layer<RemotingClient.RemotingClient> =>
  Layer.effect(RemotingClient.RemotingClient, Effect.map(make(options), (rmq) => remotingClient(rmq, options)))

/**
 * An in-memory RocketMQ on a loopback socket (see {@link serve}).
 *
 * @since 0.1.0
 * @category models
 */
export interface Served {
  readonly rmq: InMemoryRocketMQ
  /**
   * `host:port` answering both the name server's and the broker's request codes (their codes do
   * not overlap): use it as the name server address; routes name it as the broker address.
   */
  readonly address: string
  readonly server: RemotingServer.RemotingServerShape
}

/**
 * Serves a fresh in-memory RocketMQ with `RemotingServer` on `host:port` (default 127.0.0.1 and a
 * free port) in the current scope: a name server and broker that real clients — ours, or any
 * RocketMQ remoting client — can connect to. Closing the scope stops it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const serve = (
  options?: Options & { readonly host?: string | undefined; readonly port?: number | undefined }
): Effect.Effect<Served, RemotingServer.ServerListenError, Scope.Scope> =>
  Effect.gen(function*() {
    const rmq = yield* make(options)
    const server = yield* RemotingServer.make({
      host: options?.host ?? "127.0.0.1",
      port: options?.port ?? 0,
      processors: rmq.processors,
      shutdownTimeout: 0
    })
    yield* rmq.setBrokerAddress(server.address)
    return { rmq, address: server.address, server }
  })
