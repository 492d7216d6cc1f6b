/** Starts consumer engines on a FakeCluster, each in its own scope. */
import { Clock, Effect, Exit, Fiber, Scope } from "effect"
import { TestClock } from "effect/testing"
import type * as Consumer from "../../../src/Consumer.ts"
import * as Config from "../../../src/internal/consumer/config.ts"
import * as Engine from "../../../src/internal/consumer/engine.ts"
import type { Backend } from "../../../src/internal/consumer/offsetStore.ts"
import { type PortError, remoteBackend } from "../../../src/internal/consumer/port.ts"
import * as Service from "../../../src/internal/consumer/service.ts"
import type * as FakeCluster from "./FakeCluster.ts"

/** Lets every ready fiber run (the TestClock does not move). */
export const settle = Effect.forEach(Array.from({ length: 40 }), () => Effect.yieldNow, { discard: true })

export const start = (
  cluster: ReturnType<typeof FakeCluster.make>,
  clientId: string,
  options: Partial<Consumer.Options> = {},
  backend?: Backend<PortError>
) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const config = yield* Config.resolve({ consumerGroup: "g", subscriptions: { T: "*" }, ...options }, now)
    const port = cluster.port(clientId)
    if (!cluster.state.members.includes(clientId)) cluster.state.members.push(clientId)
    const scope = yield* Scope.make()
    const engine = yield* Engine.make(config, port, backend ?? remoteBackend(port)).pipe(Scope.provide(scope))
    yield* engine.start
    // Closing waits up to the drain timeout for handed-out messages: move the clock past it.
    const close = Effect.gen(function*() {
      cluster.state.members = cluster.state.members.filter((id) => id !== clientId)
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void), { startImmediately: true })
      yield* settle
      yield* TestClock.adjust(config.drainMillis + 1)
      yield* Fiber.join(closing)
    })
    return { engine, consumer: Service.fromEngine(engine), close }
  })

