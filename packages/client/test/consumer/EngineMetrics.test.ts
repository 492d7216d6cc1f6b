import { assert, describe, it } from "@effect/vitest"
import { Effect, Metric } from "effect"
import { TestClock } from "effect/testing"
import * as Consumer from "../../src/Consumer.ts"
import * as FakeCluster from "./support/FakeCluster.ts"
import { settle, start } from "./support/engine.ts"

const FIRST = { consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET" } as const

const cluster = () => {
  const made = FakeCluster.make({ T: { brokers: ["broker-a"], queues: 2 }, "%RETRY%g": { brokers: ["broker-a"], queues: 1 } })
  for (let i = 0; i < 30; i++) made.append("T", "broker-a", i % 2, `m${i}`)
  return made
}

const count = (metric: Metric.Metric<number, unknown>, attributes: Record<string, string>) =>
  Effect.map(Metric.value(Metric.withAttributes(metric, attributes)), (state) => (state as { readonly count: number }).count)

const counts = Effect.all({
  pulled: count(Consumer.pulledMessagesTotal, { group: "g" }),
  ok: count(Consumer.consumedMessagesTotal, { group: "g", result: "ok" }),
  failed: count(Consumer.consumedMessagesTotal, { group: "g", result: "failed" })
})

// Each test gets its own registry, so counts from other tests (same group name) do not leak in.
const isolated = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provideService(effect, Metric.MetricRegistry, new Map())

describe("Consumer engine metrics", () => {
  it.effect("counts pulled, acknowledged and failed messages in the metrics by the next persist tick", () =>
    isolated(Effect.gen(function*() {
      const { close, consumer, engine } = yield* start(cluster(), "c1", FIRST)
      // Offset 0 of queue 0 fails once, then succeeds; everything else succeeds at once.
      yield* Effect.forkChild(consumer.run((d) =>
        d.message.queueId === 0 && d.message.queueOffset === 0n && d.message.reconsumeTimes === 0 ? Effect.fail("boom") : Effect.void
      ))
      yield* settle
      yield* TestClock.adjust(engine.ctx.config.persistIntervalMillis)
      yield* settle
      const after = yield* counts
      assert.strictEqual(after.pulled, 30)
      assert.strictEqual(after.ok, 29)
      assert.strictEqual(after.failed, 1)
      yield* close
    })), 30_000)

  it.effect("counts what was settled since the last tick when the consumer closes", () =>
    isolated(Effect.gen(function*() {
      const { close, consumer } = yield* start(cluster(), "c1", FIRST)
      yield* Effect.forkChild(consumer.run(() => Effect.void))
      yield* settle
      yield* close
      const after = yield* counts
      assert.strictEqual(after.pulled, 30)
      assert.strictEqual(after.ok, 30)
      assert.strictEqual(after.failed, 0)
    })), 30_000)
})
