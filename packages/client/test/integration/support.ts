/**
 * The real cluster the "integration" project's global setup provides, or why there is none.
 */
import { inject } from "vitest"
import type { RocketMQCluster } from "../../../../scripts/rocketmq/vitest-setup.ts"

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
