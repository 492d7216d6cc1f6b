/**
 * The operations scenario of support/operations.ts — the one InMemoryRocketMQ.test.ts runs against
 * the in-memory broker — against a real Apache RocketMQ NameServer and Broker, through
 * RemotingClient over TCP, once with JSON and once with ROCKETMQ (binary) request headers.
 */
import { assert, describe, it } from "@effect/vitest"
import { RemotingClient } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import { BROKER_NAME, CLUSTER_NAME, cluster, runId, skipReason } from "./support.ts"
import { operationsScenario } from "../support/operations.ts"

const real = cluster()

describe.skipIf(real === undefined)(`the operations scenario against a real broker${real === undefined ? ` (skipped: ${skipReason()})` : ""}`, () => {
  for (const serializeType of ["JSON", "ROCKETMQ"] as const) {
    it.live(`passes, as the in-memory broker does, with ${serializeType} request headers`, () =>
      Effect.gen(function*() {
        const outcome = yield* operationsScenario({
          broker: real!.brokerAddr,
          clusterName: CLUSTER_NAME,
          brokerName: BROKER_NAME,
          runId: runId(),
          // Up to 10 s for the route to appear and for sent messages to reach their consume queues.
          catchUpRetries: 100
        }).pipe(
          Effect.provide(RemotingClient.layer({ nameServerAddresses: real!.namesrvAddr, channel: { serializeType } }))
        )
        assert.strictEqual(outcome.sent, 12)
      }))
  }
})
