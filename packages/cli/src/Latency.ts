/**
 * A latency histogram for `rmq bench`: buckets 2% apart from 1 µs to about an hour, so a run of
 * any length takes the same few kilobytes, and a percentile is exact to 2%.
 *
 * Mutable and synchronous on purpose: it is updated once per message on the hot path of a
 * benchmark, where an Effect per sample would cost more than the send it measures.
 *
 * @since 0.1.0
 */

const GROWTH = 1.02
const LOG_GROWTH = Math.log(GROWTH)
/** Bucket `i` holds samples in [GROWTH^i, GROWTH^(i+1)) µs; 1500 buckets reach ~2.6e12 µs. */
const BUCKETS = 1500

/**
 * @since 0.1.0
 * @category models
 */
export interface Histogram {
  readonly counts: Float64Array
  count: number
  sum: number
  min: number
  max: number
}

/**
 * An empty histogram.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (): Histogram => ({ counts: new Float64Array(BUCKETS), count: 0, sum: 0, min: Infinity, max: 0 })

/**
 * Adds a sample, in milliseconds.
 *
 * @since 0.1.0
 * @category mutations
 */
export const record = (histogram: Histogram, ms: number): void => {
  const micros = Math.max(1, ms * 1000)
  const bucket = Math.min(BUCKETS - 1, Math.floor(Math.log(micros) / LOG_GROWTH))
  histogram.counts[bucket]! += 1
  histogram.count++
  histogram.sum += ms
  if (ms < histogram.min) histogram.min = ms
  if (ms > histogram.max) histogram.max = ms
}

/**
 * Empties the histogram.
 *
 * @since 0.1.0
 * @category mutations
 */
export const reset = (histogram: Histogram): void => {
  histogram.counts.fill(0)
  histogram.count = 0
  histogram.sum = 0
  histogram.min = Infinity
  histogram.max = 0
}

/**
 * The `p`th percentile in milliseconds (the middle of its bucket, clamped to the observed min and
 * max); `NaN` when empty.
 *
 * @since 0.1.0
 * @category getters
 */
export const percentile = (histogram: Histogram, p: number): number => {
  if (histogram.count === 0) return NaN
  const rank = Math.max(1, Math.ceil((p / 100) * histogram.count))
  let seen = 0
  for (let i = 0; i < BUCKETS; i++) {
    seen += histogram.counts[i]!
    if (seen >= rank) {
      const middle = (Math.pow(GROWTH, i) * (1 + GROWTH)) / 2 / 1000
      return Math.min(histogram.max, Math.max(histogram.min, middle))
    }
  }
  return histogram.max
}
