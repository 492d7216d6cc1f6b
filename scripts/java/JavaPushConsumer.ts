/**
 * A Java `DefaultMQPushConsumer` driven by the `push-consume` subcommand: long-running and
 * scoped ({@link pushConsumer}), or run to its own end ({@link pushConsume}).
 */
import { Duration, Effect, Scope } from "effect"
import { common, flags, is, only } from "./JavaArgs.ts"
import type { ClientOptions } from "./JavaArgs.ts"
import type * as JavaBuild from "./JavaBuild.ts"
import type * as JavaEvents from "./JavaEvents.ts"
import * as JavaProcess from "./JavaProcess.ts"

/** A Java `DefaultMQPushConsumer`. */
export interface PushConsumeOptions extends ClientOptions {
  readonly group: string
  readonly topic: string
  /** Tag expression (default `*`). */
  readonly expression?: string | undefined
  readonly model?: "CLUSTERING" | "BROADCASTING" | undefined
  readonly orderly?: boolean | undefined
  /** Where a new group starts (default `last`); a timestamp is `yyyyMMddHHmmss`. */
  readonly from?: "first" | "last" | { readonly timestamp: string } | undefined
  /** End after this many successful consumptions. */
  readonly count?: number | undefined
  /** End after this long without a message. */
  readonly idleMs?: number | undefined
  /** Fail each message while it was delivered fewer than this many times before (RECONSUME_LATER / SUSPEND). */
  readonly failFirst?: number | undefined
  readonly maxReconsumeTimes?: number | undefined
  /** Sleep this long in the listener (a slow consumer). */
  readonly consumeDelayMs?: number | undefined
  readonly consumeThreads?: number | undefined
  readonly pullBatchSize?: number | undefined
  readonly consumeBatchSize?: number | undefined
  /** Orderly: how long a failed queue is suspended (default 1000 ms). */
  readonly suspendMs?: number | undefined
  readonly instanceName?: string | undefined
  /** Include bodies in `message` events (default true). */
  readonly withBody?: boolean | undefined
}

/** What a push consumer did, once it ended. */
export interface PushConsumeResult {
  readonly clientId: string
  readonly exitCode: number
  readonly messages: ReadonlyArray<JavaEvents.Message>
  readonly rebalances: ReadonlyArray<JavaEvents.Rebalance>
  readonly summary: JavaEvents.Summary
}

/** A running Java push consumer. */
export interface PushConsumer {
  readonly clientId: string
  readonly process: JavaProcess.JavaProcess
  /** Messages delivered so far (every delivery, failed ones included, with their `result`). */
  readonly messages: Effect.Effect<ReadonlyArray<JavaEvents.Message>>
  /** The latest allocation of `topic` to this consumer, waiting for the first one if needed. */
  readonly allocation: (topic: string, timeout?: Duration.Input) => Effect.Effect<JavaEvents.Rebalance, JavaBuild.JavaDriverError>
  /** Waits until at least `n` messages were consumed successfully; returns every delivery so far. */
  readonly awaitConsumed: (n: number, timeout?: Duration.Input) => Effect.Effect<ReadonlyArray<JavaEvents.Message>, JavaBuild.JavaDriverError>
  /** Stops the consumer (offsets persisted, client unregistered) and returns what it did. */
  readonly stop: Effect.Effect<PushConsumeResult>
}

const pushArgs = (o: PushConsumeOptions): Array<string> =>
  flags({
    ...common(o),
    group: o.group,
    topic: o.topic,
    expression: o.expression,
    model: o.model,
    orderly: o.orderly,
    from: o.from === undefined ? undefined : typeof o.from === "string" ? o.from.toUpperCase() : `TIMESTAMP:${o.from.timestamp}`,
    count: o.count,
    "idle-ms": o.idleMs,
    "fail-first": o.failFirst,
    "max-reconsume-times": o.maxReconsumeTimes,
    "consume-delay-ms": o.consumeDelayMs,
    "consume-threads": o.consumeThreads,
    "pull-batch-size": o.pullBatchSize,
    "consume-batch-size": o.consumeBatchSize,
    "suspend-ms": o.suspendMs,
    "instance-name": o.instanceName,
    "no-body": o.withBody === false
  })

const pushResult = (clientId: string, run: JavaProcess.Run): PushConsumeResult => ({
  clientId,
  exitCode: run.exitCode,
  messages: only(run.events, "message"),
  rebalances: only(run.events, "rebalance"),
  summary: only(run.events, "summary")[0] ?? { event: "summary" }
})

/**
 * Starts a Java push consumer and returns once it has started (its client id is known). It runs
 * until `stop`, its own end (`count`, `idleMs`, `timeout`), or the scope closes.
 */
export const pushConsumer = (options: PushConsumeOptions): Effect.Effect<PushConsumer, JavaBuild.JavaDriverError, Scope.Scope> =>
  Effect.gen(function*() {
    const process = yield* JavaProcess.start("push-consume", pushArgs(options), options)
    const started = yield* process.waitFor(is("started"), "60 seconds")
    return {
      clientId: started.clientId,
      process,
      messages: process.events.pipe(Effect.map((events) => only(events, "message"))),
      allocation: (topic, timeout) =>
        process.waitFor(is("rebalance"), timeout).pipe(
          Effect.andThen(process.events),
          Effect.map((events) => only(events, "rebalance").filter((r) => r.topic === topic).at(-1)),
          Effect.flatMap((latest) => latest !== undefined ? Effect.succeed(latest) : process.waitFor(
            (e): e is JavaEvents.Rebalance => e.event === "rebalance" && e.topic === topic,
            timeout
          ))
        ),
      awaitConsumed: (n, timeout) => {
        let seen = 0
        return process.waitFor(
          (e): e is JavaEvents.Message => e.event === "message" && e.result === "SUCCESS" && ++seen >= n,
          timeout
        ).pipe(Effect.andThen(process.events), Effect.map((events) => only(events, "message")))
      },
      stop: process.stop.pipe(Effect.map((run) => pushResult(started.clientId, run)))
    } satisfies PushConsumer
  })

/** Runs a Java push consumer to its own end (`count`, `idleMs` or `timeout`). Exit 5 (timeout before `count`) fails. */
export const pushConsume = (options: PushConsumeOptions): Effect.Effect<PushConsumeResult, JavaBuild.JavaDriverError> =>
  Effect.scoped(Effect.gen(function*() {
    const consumer = yield* pushConsumer(options)
    const run = yield* consumer.process.exit
    if (run.exitCode !== 0) return yield* JavaProcess.exitedWithError("push-consume", run)
    return pushResult(consumer.clientId, run)
  }))

