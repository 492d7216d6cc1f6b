/**
 * The response table's pending entries in deadline order.
 *
 * A channel's requests mostly share one timeout, so their deadlines mostly come in order, and
 * their responses mostly come in order too. Entries whose deadline is no earlier than the last one
 * added go to the end of a sorted run (an array read from `head`); the others go to a binary heap.
 * Removing an entry from the run only marks it (`place` becomes -1): the run skips marked entries
 * at its head and copies out the live ones once the marked and skipped ones are more than half of
 * it. So a request's common life — added at the end, removed at or near the front — costs no
 * sifting, and every operation is amortised O(1) for the run and O(log n) for the heap.
 *
 * An entry is added at most once.
 *
 * @internal
 */

/** @internal */
export interface Entry {
  readonly deadline: number
  /** Where the entry is: -1 nowhere, {@link IN_RUN} in the run, from 0 its index in the heap. */
  place: number
}

/** @internal */
export const IN_RUN = -2

/** Below this many dead slots the run is never copied. */
const COMPACT_FROM = 64

/** @internal */
export class Deadlines<A extends Entry> {
  private run: Array<A> = []
  /** First slot of the run not yet passed. */
  private head = 0
  /** Slots from `head` on whose entry was removed. */
  private removed = 0
  private readonly heap: Array<A> = []

  add(entry: A): void {
    const run = this.run
    if (this.head === run.length || run[run.length - 1]!.deadline <= entry.deadline) {
      entry.place = IN_RUN
      run.push(entry)
    } else {
      entry.place = this.heap.length
      this.heap.push(entry)
      this.siftUp(entry.place)
    }
  }

  remove(entry: A): void {
    const place = entry.place
    if (place === -1) return
    entry.place = -1
    if (place >= 0) return this.heapRemove(place)
    this.removed++
    this.skipRemoved()
    this.compact()
  }

  /** The entry with the earliest deadline, or undefined when there is none. */
  first(): A | undefined {
    const inRun = this.head < this.run.length ? this.run[this.head] : undefined
    const inHeap = this.heap[0]
    if (inRun === undefined) return inHeap
    return inHeap === undefined || inRun.deadline <= inHeap.deadline ? inRun : inHeap
  }

  /** Moves `head` past removed entries; an emptied run starts again at slot 0. */
  private skipRemoved(): void {
    const run = this.run
    while (this.head < run.length && run[this.head]!.place !== IN_RUN) {
      this.head++
      this.removed--
    }
    if (this.head === run.length) {
      run.length = 0
      this.head = 0
    }
  }

  /** Copies the live entries out once dead slots (passed or removed) are more than half the run. */
  private compact(): void {
    const dead = this.head + this.removed
    if (dead < COMPACT_FROM || dead * 2 <= this.run.length) return
    const live: Array<A> = []
    for (let i = this.head; i < this.run.length; i++) {
      const entry = this.run[i]!
      if (entry.place === IN_RUN) live.push(entry)
    }
    this.run = live
    this.head = 0
    this.removed = 0
  }

  private swap(i: number, j: number): void {
    const heap = this.heap
    const a = heap[i]!
    const b = heap[j]!
    heap[i] = b
    heap[j] = a
    a.place = j
    b.place = i
  }

  private siftUp(i: number): void {
    const heap = this.heap
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (heap[parent]!.deadline <= heap[i]!.deadline) return
      this.swap(i, parent)
      i = parent
    }
  }

  private siftDown(i: number): void {
    const heap = this.heap
    const n = heap.length
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) return
      const r = l + 1
      const smallest = r < n && heap[r]!.deadline < heap[l]!.deadline ? r : l
      if (heap[i]!.deadline <= heap[smallest]!.deadline) return
      this.swap(i, smallest)
      i = smallest
    }
  }

  private heapRemove(i: number): void {
    const last = this.heap.pop()!
    if (i === this.heap.length) return
    this.heap[i] = last
    last.place = i
    this.siftDown(i)
    this.siftUp(last.place)
  }
}
