/**
 * The official Apache RocketMQ Java client (5.3.3, from Maven Central) as a test peer: typed
 * Effects over the driver in scripts/java/src. Every call builds the driver once per process
 * (cached on disk by a hash of its sources; see `JavaBuild`), runs a JVM for that call and
 * returns what it printed, decoded (see `JavaEvents`). Nothing here needs a service: the JVM is
 * spawned with Node's child processes, provided inside.
 *
 * - {@link produce}: Java's producer sends messages (compression, batches, ordered, delayed,
 *   transactional, oneway/async); returns every send result.
 * - {@link pushConsumer} (scoped, long-running) / {@link pushConsume} (to its end): a
 *   `DefaultMQPushConsumer` in a group; every message with every field, and its rebalance
 *   assignments.
 * - {@link pull}: reads queues with Java's decoder.
 * - {@link consumerRunningInfo}, {@link consumerConnections}, {@link consumeStats}: Java's
 *   admin API (`DefaultMQAdminExt`).
 * - {@link benchProduce} / {@link benchConsume}: the Java side of the benchmarks.
 *
 * scripts/java/README.md documents each subcommand and its events.
 */
import { Effect, Schema } from "effect"
import { common, flags, only, runChecked } from "./JavaArgs.ts"
import type { ClientOptions, Flag } from "./JavaArgs.ts"
import * as JavaBuild from "./JavaBuild.ts"
import * as JavaEvents from "./JavaEvents.ts"
import * as JavaProcess from "./JavaProcess.ts"

export { build, JavaDriverError, missing } from "./JavaBuild.ts"
export type { Build } from "./JavaBuild.ts"
export { BENCH_JVM_OPTIONS, TEST_JVM_OPTIONS } from "./JavaProcess.ts"
export type { JavaProcess, Run, RunOptions } from "./JavaProcess.ts"
export * as Events from "./JavaEvents.ts"
export type { ClientOptions } from "./JavaArgs.ts"
export { pushConsume, pushConsumer } from "./JavaPushConsumer.ts"
export type { PushConsumeOptions, PushConsumeResult, PushConsumer } from "./JavaPushConsumer.ts"

// ---------------------------------------------------------------------------------------------
// Message content (mirrors scripts/java/src/driver/Messages.java)
// ---------------------------------------------------------------------------------------------

/** A template as the driver expands it: `{i}` is the index, `{i%N}` the index modulo N. */
export const expand = (template: string, index: number): string =>
  template.replace(/\{i(?:%(\d+))?\}/g, (_, mod: string | undefined) => String(mod === undefined ? index : index % Number(mod)))

/** The body the driver generates for message `index` when no literal body is given (see Messages.java). */
export const generatedBody = (index: number, size: number, pattern: "text" | "random" = "text"): Uint8Array => {
  const out = new Uint8Array(size)
  if (pattern === "random") {
    let state = Number(BigInt.asIntN(32, BigInt(index + 1) * 0x9e3779b9n)) | 0
    if (state === 0) state = 1
    for (let i = 0; i < size; i++) {
      state ^= state << 13
      state ^= state >>> 17
      state ^= state << 5
      out[i] = state & 0xff
    }
    return out
  }
  let text = ""
  for (let k = 0; text.length < size; k++) text += `message ${index} line ${k} lorem ipsum dolor sit amet\n`
  out.set(new TextEncoder().encode(text.slice(0, size)))
  return out
}

// ---------------------------------------------------------------------------------------------
// produce
// ---------------------------------------------------------------------------------------------

/** What `produce` sends; strings marked "template" expand `{i}` / `{i%N}` per message. */
export interface ProduceOptions extends ClientOptions {
  readonly topic: string
  /** Messages to send (default 1). */
  readonly count?: number | undefined
  readonly group?: string | undefined
  readonly instanceName?: string | undefined
  /** Literal bodies, used in turn: strings are templates, bytes are sent as they are. */
  readonly bodies?: ReadonlyArray<string | Uint8Array> | undefined
  /** Generated bodies' sizes, used in turn (default [128]); see {@link generatedBody}. */
  readonly bodySizes?: ReadonlyArray<number> | undefined
  readonly bodyPattern?: "text" | "random" | undefined
  /** Template. */
  readonly tags?: string | undefined
  /** Template; several keys separated by spaces. */
  readonly keys?: string | undefined
  /** User properties; values are templates. */
  readonly properties?: Readonly<Record<string, string>> | undefined
  readonly flag?: number | undefined
  /** Java 5.x's `rocketmq.message.compressType` (the producer's `compressType`); default ZLIB. */
  readonly compressType?: "ZLIB" | "LZ4" | "ZSTD" | undefined
  /** Java's `compressMsgBodyOverHowmuch` (default 4096). */
  readonly compressOver?: number | undefined
  readonly compressLevel?: number | undefined
  readonly mode?: "sync" | "async" | "oneway" | undefined
  /** Concurrent sends (threads for sync/oneway, permits for async); default 1. */
  readonly inFlight?: number | undefined
  /** Send in batches of this many (`send(Collection)`). */
  readonly batch?: number | undefined
  /** Template: ordered sends with Java's `SelectMessageQueueByHash` on this key. */
  readonly shardingKey?: string | undefined
  /** Send to this queue id (of the first broker that has it). */
  readonly queueId?: number | undefined
  readonly delayLevel?: number | undefined
  /** 5.x timer: deliver this long after the broker stores it (`setDelayTimeMs`). */
  readonly deliverAfterMs?: number | undefined
  /** 5.x timer: deliver at this epoch time (`setDeliverTimeMs`). */
  readonly deliverAtMs?: number | undefined
  /** `WAIT` property (default true). */
  readonly waitStoreMsgOk?: boolean | undefined
  /** Send transactional half messages whose local transaction answers this. */
  readonly transaction?: "COMMIT" | "ROLLBACK" | "UNKNOW" | undefined
  /** What the transaction checker answers the broker's check-backs (default COMMIT). */
  readonly checkState?: "COMMIT" | "ROLLBACK" | "UNKNOW" | undefined
  /** Keep the producer up after the sends until this many check-backs were answered. */
  readonly awaitChecks?: number | undefined
  /** Keep the producer up this long after the sends (for check-backs). */
  readonly lingerMs?: number | undefined
  /** Put each message's body and properties in its `sent` event. */
  readonly echoBody?: boolean | undefined
  /** Java's `sendMsgTimeout`; default 10 s here (Java's is 3 s), for the same reason as `apiTimeoutMs`. */
  readonly sendTimeoutMs?: number | undefined
  readonly retryTimes?: number | undefined
  readonly maxMessageSize?: number | undefined
  /** Return the result (with its `errors`) instead of failing when sends failed (exit 4). */
  readonly allowSendErrors?: boolean | undefined
}

/** What `produce` did. */
export interface ProduceResult {
  readonly clientId: string
  readonly sent: ReadonlyArray<JavaEvents.Sent>
  readonly errors: ReadonlyArray<JavaEvents.SendError>
  readonly checks: ReadonlyArray<JavaEvents.Check>
  readonly summary: JavaEvents.Summary
  readonly events: ReadonlyArray<JavaEvents.Event>
}

const produceArgs = (o: ProduceOptions): Array<string> => [
  ...flags({
    ...common(o),
    topic: o.topic,
    count: o.count,
    group: o.group,
    "instance-name": o.instanceName,
    body: (o.bodies ?? []).flatMap((b) => (typeof b === "string" ? [b] : [])),
    "body-base64": (o.bodies ?? []).flatMap((b) => (typeof b === "string" ? [] : [Buffer.from(b).toString("base64")])),
    "body-size": o.bodySizes?.join(","),
    "body-pattern": o.bodyPattern,
    tags: o.tags,
    keys: o.keys,
    property: Object.entries(o.properties ?? {}).map(([k, v]) => `${k}=${v}`),
    flag: o.flag,
    "compress-type": o.compressType,
    "compress-over": o.compressOver,
    "compress-level": o.compressLevel,
    mode: o.mode,
    "in-flight": o.inFlight,
    batch: o.batch,
    "sharding-key": o.shardingKey,
    "queue-id": o.queueId,
    "delay-level": o.delayLevel,
    "deliver-after-ms": o.deliverAfterMs,
    "deliver-at-ms": o.deliverAtMs,
    "no-wait-store": o.waitStoreMsgOk === false,
    transaction: o.transaction,
    "check-state": o.checkState,
    "await-checks": o.awaitChecks,
    "linger-ms": o.lingerMs,
    "echo-body": o.echoBody,
    "send-timeout-ms": o.sendTimeoutMs ?? 10_000,
    "retry-times": o.retryTimes,
    "max-message-size": o.maxMessageSize
  })
]

/** Sends messages with Java's producer (see {@link ProduceOptions}). Fails if any send failed, unless `allowSendErrors`. */
export const produce = (options: ProduceOptions): Effect.Effect<ProduceResult, JavaBuild.JavaDriverError> =>
  runChecked("produce", produceArgs(options), options, options.allowSendErrors === true ? [0, 4] : [0]).pipe(
    Effect.map((run) => ({
      clientId: only(run.events, "started")[0]?.clientId ?? "",
      sent: only(run.events, "sent"),
      errors: only(run.events, "send-error"),
      checks: only(run.events, "check"),
      summary: only(run.events, "summary")[0] ?? { event: "summary" as const },
      events: run.events
    }))
  )

// ---------------------------------------------------------------------------------------------
// pull
// ---------------------------------------------------------------------------------------------

/** Reads queues with Java's pull path (decompression, batch unwrapping and tag filtering as Java does them). */
export interface PullOptions extends ClientOptions {
  readonly topic: string
  /** One queue (default: every queue). */
  readonly queueId?: number | undefined
  readonly brokerName?: string | undefined
  /** First offset (default: each queue's min offset). */
  readonly from?: number | bigint | undefined
  /** End offset, exclusive (default: each queue's max offset when the pull starts). */
  readonly to?: number | bigint | undefined
  readonly maxMessages?: number | undefined
  /** Keep pulling an empty queue this long while `to` is not reached. */
  readonly waitMs?: number | undefined
  readonly expression?: string | undefined
  readonly group?: string | undefined
  readonly withBody?: boolean | undefined
}

/** What `pull` read. */
export interface PullResult {
  readonly messages: ReadonlyArray<JavaEvents.Message>
  readonly pulls: ReadonlyArray<typeof JavaEvents.PullStatus.Type>
  readonly queues: ReadonlyArray<typeof JavaEvents.QueueInfo.Type>
}

/** Reads queues with the Java client. */
export const pull = (options: PullOptions): Effect.Effect<PullResult, JavaBuild.JavaDriverError> =>
  runChecked("pull", flags({
    ...common(options),
    topic: options.topic,
    "queue-id": options.queueId,
    "broker-name": options.brokerName,
    from: options.from?.toString(),
    to: options.to?.toString(),
    "max-messages": options.maxMessages,
    "wait-ms": options.waitMs,
    expression: options.expression,
    group: options.group,
    "no-body": options.withBody === false
  }), options).pipe(Effect.map((run) => ({
    messages: only(run.events, "message"),
    pulls: only(run.events, "pull"),
    queues: only(run.events, "queue")
  })))

// ---------------------------------------------------------------------------------------------
// admin
// ---------------------------------------------------------------------------------------------

const admin = <S extends Schema.Top>(op: string, args: Record<string, Flag>, options: ClientOptions, schema: S) =>
  runChecked("admin", [op, ...flags({ ...common(options), ...args })], options).pipe(
    Effect.flatMap((run) => {
      const event = only(run.events, "admin")[0]
      return Schema.decodeUnknownEffect(schema)(event?.result).pipe(
        Effect.mapError((error) =>
          new JavaBuild.JavaDriverError({ reason: "BadOutput", detail: `admin ${op} printed an unexpected result: ${error.message}` })
        )
      )
    })
  ) as Effect.Effect<S["Type"], JavaBuild.JavaDriverError>

/** `DefaultMQAdminExt.getConsumerRunningInfo`: what the consumer `clientId` of `group` reports about itself. */
export const consumerRunningInfo = (
  options: ClientOptions & { readonly group: string; readonly clientId: string; readonly jstack?: boolean | undefined }
): Effect.Effect<JavaEvents.RunningInfo, JavaBuild.JavaDriverError> =>
  admin("running-info", { group: options.group, "client-id": options.clientId, jstack: options.jstack }, options, JavaEvents.RunningInfo)

/** `DefaultMQAdminExt.examineConsumerConnectionInfo`: the group's members as the broker knows them. */
export const consumerConnections = (
  options: ClientOptions & { readonly group: string }
): Effect.Effect<JavaEvents.Connections, JavaBuild.JavaDriverError> =>
  admin("connections", { group: options.group }, options, JavaEvents.Connections)

/** `DefaultMQAdminExt.examineConsumeStats`: the group's offsets per queue. */
export const consumeStats = (
  options: ClientOptions & { readonly group: string; readonly topic?: string | undefined }
): Effect.Effect<JavaEvents.ConsumeStats, JavaBuild.JavaDriverError> =>
  admin("consume-stats", { group: options.group, topic: options.topic }, options, JavaEvents.ConsumeStats)

// ---------------------------------------------------------------------------------------------
// benchmarks
// ---------------------------------------------------------------------------------------------

/** The Java side of `bench:producer`. Stops after `count` sends, else after `durationMs` (default 10 s). */
export interface BenchProduceOptions extends ClientOptions {
  readonly topic: string
  readonly bodySize?: number | undefined
  readonly bodyPattern?: "text" | "random" | undefined
  readonly inFlight?: number | undefined
  readonly mode?: "sync" | "async" | undefined
  readonly count?: number | undefined
  readonly durationMs?: number | undefined
  /** Sends before the measured window, discarded (default 3000 ms). */
  readonly warmupMs?: number | undefined
  readonly compressType?: "ZLIB" | "LZ4" | "ZSTD" | undefined
  readonly compressOver?: number | undefined
  /** Java's `sendMsgTimeout`; Java's default (3 s) unless given. */
  readonly sendTimeoutMs?: number | undefined
}

/**
 * Java's producer throughput, latency and CPU (see the `bench` event). Failed sends do not fail
 * the call: they are counted in `failed` (and `warmupFailed`), for the benchmark to report.
 */
export const benchProduce = (options: BenchProduceOptions): Effect.Effect<JavaEvents.Bench, JavaBuild.JavaDriverError> =>
  runChecked("bench-produce", flags({
    ...common(options),
    topic: options.topic,
    "body-size": options.bodySize,
    "body-pattern": options.bodyPattern,
    "in-flight": options.inFlight,
    mode: options.mode,
    count: options.count,
    "duration-ms": options.durationMs,
    "warmup-ms": options.warmupMs,
    "compress-type": options.compressType,
    "compress-over": options.compressOver,
    "send-timeout-ms": options.sendTimeoutMs
  }), { jvmOptions: JavaProcess.BENCH_JVM_OPTIONS, ...options }, [0, 4]).pipe(Effect.flatMap(benchEvent))

/** The Java side of `bench:consumer`: a push consumer in a new group drains `count` messages from the first offset. */
export interface BenchConsumeOptions extends ClientOptions {
  readonly topic: string
  readonly count: number
  readonly group?: string | undefined
  /** Messages consumed before the measured window (default min(1000, count / 10)). */
  readonly warmupCount?: number | undefined
  readonly consumeThreads?: number | undefined
  readonly pullBatchSize?: number | undefined
  readonly consumeBatchSize?: number | undefined
}

/** Java's push consumer throughput and CPU (see the `bench` event). */
export const benchConsume = (options: BenchConsumeOptions): Effect.Effect<JavaEvents.Bench, JavaBuild.JavaDriverError> =>
  runChecked("bench-consume", flags({
    ...common(options),
    topic: options.topic,
    count: options.count,
    group: options.group,
    "warmup-count": options.warmupCount,
    "consume-threads": options.consumeThreads,
    "pull-batch-size": options.pullBatchSize,
    "consume-batch-size": options.consumeBatchSize
  }), { jvmOptions: JavaProcess.BENCH_JVM_OPTIONS, ...options }).pipe(Effect.flatMap(benchEvent))

const benchEvent = (run: JavaProcess.Run): Effect.Effect<JavaEvents.Bench, JavaBuild.JavaDriverError> => {
  const event = only(run.events, "bench")[0]
  return event !== undefined
    ? Effect.succeed(event)
    : Effect.fail(new JavaBuild.JavaDriverError({ reason: "BadOutput", detail: "the benchmark ended without its bench event", output: run.stderr }))
}
