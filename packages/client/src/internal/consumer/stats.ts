/**
 * Per-topic pull and consume rates, as GET_CONSUMER_RUNNING_INFO reports them (Java's
 * `ConsumeStatus`): pull and consume round-trip times and rates over the last minute, and failed
 * messages over the last hour. Kept in rolling windows of fixed buckets (6 × 10 s for the minute,
 * 6 × 10 min for the hour), so memory does not grow with traffic. Time is passed in.
 *
 * @internal
 */

/** @internal: Java's `ConsumeStatus` field names. */
export interface ConsumeStatus {
  readonly pullRT: number
  readonly pullTPS: number
  readonly consumeRT: number
  readonly consumeOKTPS: number
  readonly consumeFailedTPS: number
  readonly consumeFailedMsgs: number
}

class Window {
  private readonly starts: Array<number>
  private readonly sums: Array<number>
  private readonly counts: Array<number>
  private readonly bucketMillis: number

  constructor(buckets: number, bucketMillis: number) {
    this.starts = new Array<number>(buckets).fill(-Infinity)
    this.sums = new Array<number>(buckets).fill(0)
    this.counts = new Array<number>(buckets).fill(0)
    this.bucketMillis = bucketMillis
  }

  add(now: number, value: number, count: number): void {
    const start = now - (now % this.bucketMillis)
    const i = Math.floor(now / this.bucketMillis) % this.starts.length
    if (this.starts[i] !== start) {
      this.starts[i] = start
      this.sums[i] = 0
      this.counts[i] = 0
    }
    this.sums[i]! += value
    this.counts[i]! += count
  }

  /** Sum and count over the buckets still inside the window. */
  total(now: number): { readonly sum: number; readonly count: number } {
    const oldest = now - this.starts.length * this.bucketMillis
    let sum = 0
    let count = 0
    for (let i = 0; i < this.starts.length; i++) {
      if (this.starts[i]! > oldest) {
        sum += this.sums[i]!
        count += this.counts[i]!
      }
    }
    return { sum, count }
  }
}

interface TopicStats {
  readonly pullRt: Window
  readonly pulled: Window
  readonly consumeRt: Window
  readonly ok: Window
  readonly failed: Window
  readonly failedHour: Window
}

const MINUTE_SECONDS = 60

/** @internal */
export class Stats {
  private readonly topics = new Map<string, TopicStats>()

  private of(topic: string): TopicStats {
    let stats = this.topics.get(topic)
    if (stats === undefined) {
      stats = {
        pullRt: new Window(6, 10_000),
        pulled: new Window(6, 10_000),
        consumeRt: new Window(6, 10_000),
        ok: new Window(6, 10_000),
        failed: new Window(6, 10_000),
        failedHour: new Window(6, 600_000)
      }
      this.topics.set(topic, stats)
    }
    return stats
  }

  pulled(topic: string, messages: number, rtMillis: number, now: number): void {
    const stats = this.of(topic)
    stats.pullRt.add(now, rtMillis, 1)
    stats.pulled.add(now, messages, messages)
  }

  consumed(topic: string, ok: boolean, rtMillis: number, now: number): void {
    const stats = this.of(topic)
    stats.consumeRt.add(now, rtMillis, 1)
    if (ok) {
      stats.ok.add(now, 1, 1)
    } else {
      stats.failed.add(now, 1, 1)
      stats.failedHour.add(now, 1, 1)
    }
  }

  status(topic: string, now: number): ConsumeStatus {
    const stats = this.of(topic)
    const average = (w: Window) => {
      const { count, sum } = w.total(now)
      return count === 0 ? 0 : sum / count
    }
    return {
      pullRT: average(stats.pullRt),
      pullTPS: stats.pulled.total(now).count / MINUTE_SECONDS,
      consumeRT: average(stats.consumeRt),
      consumeOKTPS: stats.ok.total(now).count / MINUTE_SECONDS,
      consumeFailedTPS: stats.failed.total(now).count / MINUTE_SECONDS,
      consumeFailedMsgs: stats.failedHour.total(now).count
    }
  }
}
