/**
 * The producer's door: every send enters through {@link Admission.admit}, which refuses sends once
 * the producer is closing, counts the sends in flight so that closing can wait for them, and
 * records the metrics of each send by topic.
 *
 * Closing ({@link Admission.close}) first completes {@link Admission.closing} (work that would
 * otherwise wait without bound, such as a local transaction, stops on it), then waits until no
 * send is in flight. Each send is bounded by its own deadline, and the send loop starts no new
 * attempt once closing, so the wait is bounded by the longest remaining attempt.
 *
 * @internal
 */
import { Clock, Deferred, Effect, Exit, Metric, Result } from "effect"
import { ProducerClosed } from "../ProducerError.ts"

/** The producer's metrics, before the `topic` attribute. */
export interface Metrics {
  readonly sent: Metric.Metric<number, unknown>
  readonly failed: Metric.Metric<number, unknown>
  readonly retried: Metric.Metric<number, unknown>
  readonly latency: Metric.Metric<number, unknown>
}

/** @internal */
export interface Admission {
  /** Runs one send of `messages` messages to `topic` (a batch frame counts its messages). */
  readonly admit: <A, E>(topic: string, messages: number, effect: Effect.Effect<A, E>) => Effect.Effect<A, E | ProducerClosed>
  /**
   * Runs one bulk send whose outcome is a result per message, message `i` going to `topics[i]`:
   * admitted (or refused) as one send, each message counted as sent or failed by its own result.
   */
  readonly admitAll: <A, E>(
    topics: ReadonlyArray<string>,
    effect: Effect.Effect<Array<Result.Result<A, E>>>
  ) => Effect.Effect<Array<Result.Result<A, E>>, ProducerClosed>
  readonly isClosing: () => boolean
  /** Completed when closing starts. */
  readonly closing: Deferred.Deferred<void>
  readonly close: Effect.Effect<void>
  /** Counts a retry of a send to `topic`. */
  readonly retried: (topic: string) => Effect.Effect<void>
}

/** A door for the producer of `group`. */
export const make = (group: string, metrics: Metrics): Admission => {
  let closing = false
  let inFlight = 0
  const closingSignal = Deferred.makeUnsafe<void>()
  const drained = Deferred.makeUnsafe<void>()
  const byTopic = new Map<string, Metrics>()
  // Metric handles with the topic attribute are made once per topic, not per send.
  const of = (topic: string): Metrics => {
    let m = byTopic.get(topic)
    if (m === undefined) {
      const attributes = { topic }
      m = {
        sent: Metric.withAttributes(metrics.sent, attributes),
        failed: Metric.withAttributes(metrics.failed, attributes),
        retried: Metric.withAttributes(metrics.retried, attributes),
        latency: Metric.withAttributes(metrics.latency, attributes)
      }
      byTopic.set(topic, m)
    }
    return m
  }
  const leave = Effect.sync(() => {
    inFlight--
    if (closing && inFlight === 0) Deferred.doneUnsafe(drained, Exit.void)
  })
  const record = (topic: string, ok: boolean, messages: number, latency: number) => {
    const m = of(topic)
    return ok ? Effect.andThen(Metric.update(m.sent, messages), Metric.update(m.latency, latency)) : Metric.update(m.failed, 1)
  }
  /** Runs `effect` counted as in flight, then `done` with its exit and its latency; refused once closing. */
  const inFlightDo = <A, E>(effect: Effect.Effect<A, E>, done: (exit: Exit.Exit<A, E>, latency: number) => Effect.Effect<void>) =>
    Effect.suspend((): Effect.Effect<A, E | ProducerClosed> => {
      if (closing) return Effect.fail(new ProducerClosed({ group, inFlight: false }))
      inFlight++
      return Effect.flatMap(Clock.currentTimeMillis, (start) =>
        effect.pipe(
          Effect.onExit((exit) => Effect.flatMap(Clock.currentTimeMillis, (end) => done(exit, end - start))),
          Effect.ensuring(leave)
        ))
    })
  return {
    admit: (topic, messages, effect) =>
      inFlightDo(effect, (exit, latency) => record(topic, Exit.isSuccess(exit), messages, latency)),
    admitAll: (topics, effect) =>
      inFlightDo(effect, (exit, latency) =>
        Exit.isSuccess(exit)
          ? Effect.forEach(exit.value, (result, i) => record(topics[i]!, Result.isSuccess(result), 1, latency), { discard: true })
          : Effect.void),
    isClosing: () => closing,
    closing: closingSignal,
    close: Effect.suspend(() => {
      closing = true
      Deferred.doneUnsafe(closingSignal, Exit.void)
      return inFlight === 0 ? Effect.void : Deferred.await(drained)
    }),
    retried: (topic) => Metric.update(of(topic).retried, 1)
  }
}
