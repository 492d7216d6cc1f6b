/**
 * PULL_MESSAGE's request and response headers, converted by hand on the pull path: a consumer
 * pulls thousands of times a second, and going through the schema interpreter
 * (`Headers.PullMessageRequestHeader.encode`, `Headers.PullMessageResponseHeader.decode`) was
 * about 7 % of the consumer's CPU in `npm run bench:consumer`.
 *
 * Each function gives exactly what the header's schema gives, or `undefined` for any input it
 * would refuse or that is not the plain case (then the caller uses the schema, whose error says
 * what is wrong). A test compares both on random input.
 *
 * @internal
 */
import { RemotingCommand } from "@effect-rocketmq/remoting"

/** @internal: the request header's fields, as `Headers.PullMessageRequestHeader` types them. */
export interface Request {
  readonly consumerGroup: string
  readonly topic: string
  readonly queueId: number
  readonly queueOffset: bigint
  readonly maxMsgNums: number
  readonly sysFlag: number
  readonly commitOffset: bigint
  readonly suspendTimeoutMillis: number
  readonly subscription?: string
  readonly subVersion: number
  readonly expressionType?: string
  readonly maxMsgBytes?: number
}

/** @internal: the response header's fields the pull result carries. */
export interface Response {
  readonly suggestWhichBrokerId: number
  readonly nextBeginOffset: bigint
  readonly minOffset: bigint
  readonly maxOffset: bigint
}

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
const DECIMAL = /^[+-]?\d+$/

const isInt = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n >= -2147483648 && n <= 2147483647
const isLong = (n: unknown): n is bigint => typeof n === "bigint" && n >= INT64_MIN && n <= INT64_MAX
const isLongNumber = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n)

/** @internal: the request's ext fields, in the schema's field order; `undefined` when any field is off. */
export const encodeRequest = (r: Request): RemotingCommand.ExtFields | undefined => {
  if (
    typeof r.consumerGroup !== "string" || typeof r.topic !== "string" || !isInt(r.queueId) || !isLong(r.queueOffset) ||
    !isInt(r.maxMsgNums) || !isInt(r.sysFlag) || !isLong(r.commitOffset) || !isLongNumber(r.suspendTimeoutMillis) ||
    (r.subscription !== undefined && typeof r.subscription !== "string") || !isLongNumber(r.subVersion) ||
    (r.expressionType !== undefined && typeof r.expressionType !== "string") ||
    (r.maxMsgBytes !== undefined && !isInt(r.maxMsgBytes))
  ) return undefined
  const out = RemotingCommand.newExtFields()
  out.consumerGroup = r.consumerGroup
  out.topic = r.topic
  out.queueId = String(r.queueId)
  out.queueOffset = String(r.queueOffset)
  out.maxMsgNums = String(r.maxMsgNums)
  out.sysFlag = String(r.sysFlag)
  out.commitOffset = String(r.commitOffset)
  out.suspendTimeoutMillis = String(r.suspendTimeoutMillis)
  if (r.subscription !== undefined) out.subscription = r.subscription
  out.subVersion = String(r.subVersion)
  if (r.expressionType !== undefined) out.expressionType = r.expressionType
  if (r.maxMsgBytes !== undefined) out.maxMsgBytes = String(r.maxMsgBytes)
  return out
}

const long = (text: string | undefined): bigint | undefined => {
  if (text === undefined || !DECIMAL.test(text)) return undefined
  const n = BigInt(text)
  return n >= INT64_MIN && n <= INT64_MAX ? n : undefined
}

const optionalIs = (text: string | undefined, ok: (text: string) => boolean): boolean => text === undefined || ok(text)
const intText = (text: string): boolean => DECIMAL.test(text) && isInt(Number(text))

/** @internal: the response's offsets; `undefined` when any field, optional ones included, is off. */
export const decodeResponse = (fields: RemotingCommand.ExtFields): Response | undefined => {
  const broker = fields.suggestWhichBrokerId
  if (broker === undefined || !DECIMAL.test(broker)) return undefined
  const suggestWhichBrokerId = Number(broker)
  const nextBeginOffset = long(fields.nextBeginOffset)
  const minOffset = long(fields.minOffset)
  const maxOffset = long(fields.maxOffset)
  if (
    !isLongNumber(suggestWhichBrokerId) || nextBeginOffset === undefined || minOffset === undefined ||
    maxOffset === undefined || !optionalIs(fields.offsetDelta, (t) => long(t) !== undefined) ||
    !optionalIs(fields.topicSysFlag, intText) || !optionalIs(fields.groupSysFlag, intText) ||
    !optionalIs(fields.forbiddenType, intText)
  ) return undefined
  return { suggestWhichBrokerId, nextBeginOffset, minOffset, maxOffset }
}
