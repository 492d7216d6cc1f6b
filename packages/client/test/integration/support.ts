/**
 * The real cluster the "integration" project's global setup provides, or why there is none.
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

export const hostPort = (address: string): { readonly host: string; readonly port: number } => {
  const at = address.lastIndexOf(":")
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ""), port: Number(address.slice(at + 1)) }
}
