/**
 * The client id brokers know a process by, formed as the Java client forms it:
 * `clientIP@instanceName`, plus `@unitName` when a unit name is set.
 *
 * Brokers allocate queues, own orderly locks and find request-reply channels by client id, so two
 * live processes must never share one. Java guarantees that by replacing the default instance name
 * `DEFAULT` with `pid#nanoTime` ({@link instanceNameOf}); containers often share both the IP and
 * the pid, which is why the time part matters.
 *
 * @internal
 */
import * as os from "node:os"

/** The instance name that is replaced by a per-process one. */
export const DEFAULT_INSTANCE_NAME = "DEFAULT"

/** One address of a network interface, as `os.networkInterfaces()` lists it. */
export interface InterfaceAddress {
  readonly address: string
  readonly family: string
  readonly internal: boolean
}

const isPrivateIPv4 = (ip: string): boolean => {
  const [a, b] = ip.split(".").map(Number) as [number, number]
  return a === 10 || a === 127 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)
}

/**
 * Java's `NetworkUtil.getLocalAddress`: loopback addresses skipped; IPv4 preferred — the first
 * public one, else the last private one; else the first IPv6 address, in brackets; else
 * `127.0.0.1`.
 */
export const localAddress = (
  interfaces: ReadonlyArray<InterfaceAddress> = listInterfaces()
): string => {
  const candidates = interfaces.filter((entry) => !entry.internal)
  const v4 = candidates.filter((entry) => entry.family === "IPv4" || (entry.family as unknown) === 4)
  if (v4.length > 0) return (v4.find((entry) => !isPrivateIPv4(entry.address)) ?? v4[v4.length - 1]!).address
  const v6 = candidates.find((entry) => entry.family === "IPv6" || (entry.family as unknown) === 6)
  if (v6 !== undefined) return `[${v6.address.replace(/%.*$/, "")}]`
  return "127.0.0.1"
}

const listInterfaces = (): ReadonlyArray<InterfaceAddress> => {
  try {
    return Object.values(os.networkInterfaces()).flatMap((entries) => entries ?? [])
  } catch {
    // Some sandboxes refuse to list interfaces; the loopback fallback then applies.
    return []
  }
}

/**
 * The instance name a client uses: `DEFAULT` (the default) becomes `pid#nanos`, any other name
 * stays (Java's `changeInstanceNameToPID`).
 */
export const instanceNameOf = (instanceName: string, pid: number, nanos: bigint): string =>
  instanceName === DEFAULT_INSTANCE_NAME ? `${pid}#${nanos}` : instanceName

/** `ip@instanceName`, then `@unitName` when the unit name is not blank. */
export const format = (ip: string, instanceName: string, unitName?: string | undefined): string =>
  unitName !== undefined && unitName.trim() !== "" ? `${ip}@${instanceName}@${unitName}` : `${ip}@${instanceName}`
