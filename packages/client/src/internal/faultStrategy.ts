/**
 * Java's latency fault tolerance (`MQFaultStrategy` + `LatencyFaultToleranceImpl`), used when a
 * producer enables `sendLatencyFaultEnable`: after each send, the broker it went to is marked
 * unavailable for a time that grows with the send's latency (or 10 s when the send failed with a
 * transport error, "isolation"), and queue selection prefers available brokers.
 *
 * | latency ≥ (ms) | 50 | 100 | 550 | 1800 | 3000 | 5000 | 15000 |
 * | --- | --- | --- | --- | --- | --- | --- | --- |
 * | unavailable for (ms) | 0 | 0 | 2000 | 5000 | 6000 | 10000 | 30000 |
 *
 * A broker's unavailability is only ever extended, never shortened, by later sends. `reachable`
 * is set by every update: false after a broker answered with an error code, true after a success
 * or a transport failure (Java's detector, off by default, is not implemented).
 *
 * @internal
 */

/** Java's `latencyMax`, in ms. */
export const LATENCY_MAX: ReadonlyArray<number> = [50, 100, 550, 1800, 3000, 5000, 15000]

/** Java's `notAvailableDuration`, in ms. */
export const NOT_AVAILABLE_DURATION: ReadonlyArray<number> = [0, 0, 2000, 5000, 6000, 10000, 30000]

/** The latency that stands for a send that failed in transport. */
export const ISOLATION_LATENCY = 10_000

/** How long a broker is avoided after a send of `latency` ms. */
export const notAvailableDuration = (
  latency: number,
  latencyMax: ReadonlyArray<number> = LATENCY_MAX,
  durations: ReadonlyArray<number> = NOT_AVAILABLE_DURATION
): number => {
  for (let i = latencyMax.length - 1; i >= 0; i--) {
    if (latency >= latencyMax[i]!) return durations[i] ?? 0
  }
  return 0
}

interface FaultItem {
  availableAt: number
  reachable: boolean
}

/** @internal */
export interface FaultTable {
  /** Records a send to `brokerName` that took `latency` ms, at `now`. */
  readonly update: (brokerName: string, latency: number, isolation: boolean, reachable: boolean, now: number) => void
  readonly isAvailable: (brokerName: string, now: number) => boolean
  readonly isReachable: (brokerName: string) => boolean
}

/** An empty table (every broker available and reachable). */
export const make = (options?: {
  readonly latencyMax?: ReadonlyArray<number> | undefined
  readonly notAvailableDuration?: ReadonlyArray<number> | undefined
}): FaultTable => {
  const items = new Map<string, FaultItem>()
  return {
    update: (brokerName, latency, isolation, reachable, now) => {
      const duration = notAvailableDuration(
        isolation ? ISOLATION_LATENCY : latency,
        options?.latencyMax,
        options?.notAvailableDuration
      )
      let item = items.get(brokerName)
      if (item === undefined) {
        item = { availableAt: 0, reachable }
        items.set(brokerName, item)
      }
      if (duration > 0 && now + duration > item.availableAt) item.availableAt = now + duration
      item.reachable = reachable
    },
    isAvailable: (brokerName, now) => {
      const item = items.get(brokerName)
      return item === undefined || now >= item.availableAt
    },
    isReachable: (brokerName) => items.get(brokerName)?.reachable ?? true
  }
}
