/**
 * Reading fastjson maps keyed by message queues, as brokers send them (`ResetOffsetBody`:
 * `{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:42}}`): not JSON, since the keys
 * are objects. {@link parseOffsetTable} walks the text once: at each key of the named map it reads
 * the key object (string-aware brace matching) and the integer value after it, as a bigint.
 * Anything else is a failure with a reason, never an exception.
 *
 * @internal
 */
import { Result, Schema } from "effect"
import * as MessageQueue from "../../MessageQueue.ts"

const decodeQueue = Schema.decodeUnknownResult(MessageQueue.MessageQueueJson)

const isSpace = (c: string | undefined) => c === " " || c === "\n" || c === "\r" || c === "\t"

// The index just past the JSON object starting at `start` (which must be "{"), or -1.
const objectEnd = (text: string, start: number): number => {
  let depth = 0
  let inString = false
  for (let i = start; i < text.length; i++) {
    const c = text[i]
    if (inString) {
      if (c === "\\") i++
      else if (c === "\"") inString = false
    } else if (c === "\"") inString = true
    else if (c === "{") depth++
    else if (c === "}" && --depth === 0) return i + 1
  }
  return -1
}

/** @internal */
export interface QueueOffset {
  readonly queue: MessageQueue.MessageQueue
  readonly offset: bigint
}

/**
 * The entries of the queue-keyed map `field` (e.g. `offsetTable`) in `text`, values read as
 * integers. An absent field gives no entries.
 *
 * @internal
 */
export const parseOffsetTable = (text: string, field: string): Result.Result<ReadonlyArray<QueueOffset>, string> => {
  const at = text.indexOf(`"${field}"`)
  if (at < 0) return Result.succeed([])
  let i = at + field.length + 2
  while (isSpace(text[i])) i++
  if (text[i] !== ":") return Result.fail(`no ':' after "${field}"`)
  i++
  while (isSpace(text[i])) i++
  if (text[i] !== "{") return Result.fail(`"${field}" is not a map`)
  i++
  const out: Array<QueueOffset> = []
  while (true) {
    while (isSpace(text[i]) || text[i] === ",") i++
    if (text[i] === "}") return Result.succeed(out)
    if (text[i] !== "{") return Result.fail(`a key of "${field}" at character ${i} is not a message queue`)
    const end = objectEnd(text, i)
    if (end < 0) return Result.fail(`a key of "${field}" at character ${i} is not closed`)
    let key: unknown
    try {
      key = JSON.parse(text.slice(i, end))
    } catch (error) {
      return Result.fail(`a key of "${field}" is not JSON: ${error instanceof Error ? error.message : String(error)}`)
    }
    const queue = decodeQueue(key)
    if (Result.isFailure(queue)) return Result.fail(`a key of "${field}" is not a message queue: ${queue.failure.message}`)
    i = end
    while (isSpace(text[i])) i++
    if (text[i] !== ":") return Result.fail(`no ':' after a key of "${field}"`)
    i++
    while (isSpace(text[i])) i++
    const number = /^-?\d+/.exec(text.slice(i, i + 21))
    if (number === null) return Result.fail(`the value of a key of "${field}" is not an integer`)
    out.push({ queue: queue.success, offset: BigInt(number[0]) })
    i += number[0].length
  }
}
