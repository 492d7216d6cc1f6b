/**
 * Subscription-group administration, as 5.3.3's `AdminBrokerProcessor` answers it:
 * UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200: the body is a `SubscriptionGroupConfig` in JSON; missing
 * fields take Java's defaults), GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201: `{"dataVersion":…,
 * "forbiddenTable":{},"subscriptionGroupTable":{…}}` with each configuration's keys in fastjson's
 * order) and DELETE_SUBSCRIPTIONGROUP (207; `cleanOffset` also forgets the group's offsets).
 */
import { FastJson, Headers } from "@effect-rocketmq/client"
import { RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import type { Handler } from "../../InMemoryRocketMQ.ts"
import * as Groups from "./Groups.ts"
import type * as Parts from "./Parts.ts"
import * as Wire from "./wire.ts"

export const make = (parts: Parts.Parts): Parts.Processors => {
  const update: Handler = (request) =>
    request.body === undefined
      ? Effect.succeed(Wire.respond(request, ResponseCode.SYSTEM_ERROR, "java.lang.NullPointerException: the request has no body"))
      : FastJson.parse(request.body).pipe(
        Effect.map((json) => {
          const config = Groups.fromJson(json)
          if (typeof config === "string") return Wire.respond(request, ResponseCode.SYSTEM_ERROR, config)
          parts.groups.put(config)
          return Wire.respond(request, ResponseCode.SUCCESS)
        }),
        Effect.catch((error) => Effect.succeed(Wire.respond(request, ResponseCode.SYSTEM_ERROR, error.message)))
      )

  const all: Handler = (request) =>
    Effect.sync(() => {
      const version = parts.groups.dataVersion()
      const table = parts.groups.all().map((config) => `${JSON.stringify(config.groupName)}:${Groups.toJson(config)}`)
      return Wire.respondJson(
        request,
        `{"dataVersion":{"counter":${version.counter},"stateVersion":0,"timestamp":${version.timestamp}},` +
          `"forbiddenTable":{},"subscriptionGroupTable":{${table.join(",")}}}`
      )
    })

  const remove: Handler = (request) =>
    Wire.withHeader(Headers.DeleteSubscriptionGroupRequestHeader, request, (header) =>
      Effect.sync(() => {
        parts.groups.delete(header.groupName)
        if (header.cleanOffset) parts.offsets.deleteGroup(header.groupName)
        return Wire.respond(request, ResponseCode.SUCCESS)
      }))

  return [
    [RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, update],
    [RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG, all],
    [RequestCode.DELETE_SUBSCRIPTIONGROUP, remove]
  ]
}
