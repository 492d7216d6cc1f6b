/**
 * The real cluster the "integration" project's global setup (scripts/rocketmq/vitest-setup.ts)
 * provides, or why there is none. The same helper as packages/client/test/integration/support.ts:
 * each package's test project only compiles its own `test` folder.
 */
import { inject } from "vitest"

/** What scripts/rocketmq/vitest-setup.ts provides (it declares the same shape). */
export interface RocketMQCluster {
  readonly namesrvAddr: string
  readonly brokerAddr: string
  readonly startedHere: boolean
}

declare module "vitest" {
  export interface ProvidedContext {
    rocketmq: RocketMQCluster | { readonly skip: string }
  }
}

export const cluster = (): RocketMQCluster | undefined => {
  const provided = inject("rocketmq")
  return "skip" in provided ? undefined : provided
}

export const skipReason = (): string | undefined => {
  const provided = inject("rocketmq")
  return "skip" in provided ? provided.skip : undefined
}

/** The names scripts/rocketmq/up gives the cluster and its one broker group. */
export const CLUSTER_NAME = "DefaultCluster"
export const BROKER_NAME = "broker-a"

/** Topic and group names unique to this run, so runs against one long-lived cluster never meet. */
export const runId = (): string => `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`
