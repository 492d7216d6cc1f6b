/**
 * The remoting layer against a real Apache RocketMQ 5.3.3 NameServer and Broker.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Channel, RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import { cluster, hostPort, skipReason } from "./support.ts"

const real = cluster()

describe.skipIf(real === undefined)(`remoting against a real broker${real === undefined ? ` (skipped: ${skipReason()})` : ""}`, () => {
  const namesrv = () => Channel.make({ ...hostPort(real!.namesrvAddr) })
  const broker = () => Channel.make({ ...hostPort(real!.brokerAddr) })

  it.live("the name server answers GET_BROKER_CLUSTER_INFO with the registered broker", () =>
    Effect.gen(function*() {
      const channel = yield* namesrv()
      const response = yield* channel.sendWaitResponse(RemotingCommand.make({ code: RequestCode.GET_BROKER_CLUSTER_INFO }), 5000)
      expect(response.code).toBe(ResponseCode.SUCCESS)
      expect(RemotingCommand.isResponse(response)).toBe(true)
      expect(Buffer.from(response.body!).toString()).toContain("broker-a")
    }))

  it.live("both header types are accepted: a ROCKETMQ request gets a correct response", () =>
    Effect.gen(function*() {
      for (const serializeType of ["JSON", "ROCKETMQ"] as const) {
        const channel = yield* Channel.make({ ...hostPort(real!.namesrvAddr), serializeType })
        const response = yield* channel.sendWaitResponse(
          RemotingCommand.make({ code: RequestCode.GET_ROUTEINFO_BY_TOPIC, extFields: { topic: "DefaultCluster" } }),
          5000
        )
        expect(response.code, serializeType).toBe(ResponseCode.SUCCESS)
        expect(Buffer.from(response.body!).toString()).toContain("queueDatas")
      }
    }))

  it.live("an unknown request code gets REQUEST_CODE_NOT_SUPPORTED with Java's remark", () =>
    Effect.gen(function*() {
      const channel = yield* broker()
      const response = yield* channel.sendWaitResponse(RemotingCommand.make({ code: 9999 }), 5000)
      expect(response.code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED)
      expect(response.remark).toBe(" request type 9999 not supported")
    }))

  it.live("a oneway request gets no response and leaves nothing pending", () =>
    Effect.gen(function*() {
      const channel = yield* broker()
      yield* channel.sendOneway(RemotingCommand.make({ code: 9999 }))
      // A round trip after it proves the oneway went through and nothing answered it.
      const after = yield* channel.sendWaitResponse(RemotingCommand.make({ code: 9998 }), 5000)
      expect(after.remark).toBe(" request type 9998 not supported")
      expect(yield* channel.pending).toBe(0)
      expect(channel.diagnostics().unmatchedResponses).toBe(0)
      assert(yield* channel.isHealthy)
    }))
})
