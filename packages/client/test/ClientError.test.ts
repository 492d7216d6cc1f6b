/**
 * The client errors answer `isRetryable` and `mayHaveReachedPeer` as the remoting errors do (the
 * table in the client README).
 */
import { RemotingError, ResponseCode } from "@effect-rocketmq/remoting"
import { describe, expect, it } from "@effect/vitest"
import * as ClientError from "../src/ClientError.ts"

const answered = (responseCode: number) => ClientError.fromResponse("127.0.0.1:10911", 310, { code: responseCode, remark: undefined })

describe("ClientError: classification", () => {
  it("a broker answer is retryable exactly for the codes Java's producer retries on another broker, and the overload codes", () => {
    expect([...ClientError.RETRY_RESPONSE_CODES].sort((a, b) => a - b)).toEqual([1, 2, 14, 16, 17, 204, 205, 1500])
    const retryable = [...ClientError.RETRY_RESPONSE_CODES, ResponseCode.FLOW_CONTROL, ResponseCode.POLLING_FULL]
    const wrong: Array<number> = []
    for (let code = -1010; code <= 3010; code++) {
      if (code === 0) continue
      const error = answered(code)
      if (error.isRetryable !== retryable.includes(code) || !error.mayHaveReachedPeer) wrong.push(code)
    }
    expect(wrong).toEqual([])
    expect(answered(ResponseCode.SYSTEM_BUSY).isRetryable).toBe(true)
    expect(answered(ResponseCode.REQUEST_CODE_NOT_SUPPORTED).isRetryable).toBe(false)
  })

  it("TOPIC_NOT_EXIST with a topic is a TopicNotExist: retryable, and the broker saw the request", () => {
    const error = ClientError.fromResponse("127.0.0.1:10911", 310, { code: 17, remark: undefined }, "T")
    expect(error._tag).toBe("TopicNotExist")
    expect([RemotingError.isRetryable(error), RemotingError.mayHaveReachedPeer(error)]).toEqual([true, true])
  })

  it("decode and argument errors are not retryable; only a response that could not be read reached the peer", () => {
    const cases: ReadonlyArray<readonly [RemotingError.Classified & { readonly _tag: string }, boolean]> = [
      [new ClientError.ResponseDecodeError({ address: "", requestCode: 105, requestName: "X", part: "body", detail: "d" }), true],
      [new ClientError.InvalidRequest({ operation: "send", detail: "d" }), false],
      [new ClientError.MessageDecodeError({ reason: "Truncated", offset: 0, detail: "d" }), false],
      [new ClientError.MessageEncodeError({ detail: "d" }), false],
      [new ClientError.PropertiesError({ reason: "EmptyName", detail: "d" }), false],
      [new ClientError.JsonParseError({ detail: "d" }), false],
      [new ClientError.BodyDecodeError({ body: "TopicRouteData", detail: "d" }), false],
      [new ClientError.CompressionError({ compression: "LZ4", operation: "decompress", detail: "d" }), false]
    ]
    for (const [error, reached] of cases) {
      expect([error._tag, error.isRetryable, error.mayHaveReachedPeer]).toEqual([error._tag, false, reached])
    }
    const exported = Object.values(ClientError).filter((value) =>
      typeof value === "function" && value.prototype instanceof Error
    )
    expect(exported.length).toBe(cases.length + 4)
  })

  it("a missing route is retryable and sent nothing; a group registered twice is neither", () => {
    const noRoute = new ClientError.NoRouteInfo({ topic: "T", detail: "d" })
    expect([noRoute.isRetryable, noRoute.mayHaveReachedPeer]).toEqual([true, false])
    const twice = new ClientError.GroupAlreadyRegistered({ role: "producer", group: "G", clientId: "c" })
    expect([twice.isRetryable, twice.mayHaveReachedPeer]).toEqual([false, false])
  })
})
