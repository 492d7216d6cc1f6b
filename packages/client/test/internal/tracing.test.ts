import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Tracer } from "effect"
import * as Tracing from "../../src/internal/tracing.ts"

// A tracing backend that records the spans it makes (Effect's native spans, kept in a list).
const recording = () => {
  const spans: Array<Tracer.NativeSpan> = []
  const tracer = Tracer.make({
    span: (options) => {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    }
  })
  return { spans, tracer }
}

const spanName = Effect.map(Effect.option(Effect.currentSpan), Option.map((span) => span.name))

describe("Tracing.traced", () => {
  it.effect("makes no span under Effect's native tracer, and does not compute the attributes", () =>
    Effect.gen(function*() {
      let computed = 0
      const inside = yield* Tracing.traced("Producer.send", () => {
        computed++
        return { "rocketmq.topic": "T" }
      }, spanName)
      assert.isTrue(Option.isNone(inside))
      assert.strictEqual(computed, 0)
    }))

  it.effect("makes one ended span with the attributes around the effect when a tracing backend is installed", () =>
    Effect.gen(function*() {
      const { spans, tracer } = recording()
      const inside = yield* Tracing.traced("Producer.send", () => ({ "rocketmq.topic": "T" }), spanName).pipe(
        Effect.withTracer(tracer)
      )
      assert.deepStrictEqual(inside, Option.some("Producer.send"))
      assert.strictEqual(spans.length, 1)
      assert.strictEqual(spans[0]!.attributes.get("rocketmq.topic"), "T")
      assert.strictEqual(spans[0]!.status._tag, "Ended")
    }))
})
