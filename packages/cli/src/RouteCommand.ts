/**
 * `rmq route TOPIC`: where a topic's queues are — per broker group its master address, read and
 * write queue counts and permissions.
 *
 * @since 0.1.0
 */
import { NameServer, RouteData } from "@effect-rocketmq/client"
import { Effect } from "effect"
import { Argument, Command } from "effect/cli"
import * as Names from "./Names.ts"
import * as Output from "./Output.ts"
import { root, withClient } from "./Root.ts"

const perm = (bits: number): string =>
  `${bits & RouteData.Perm.READ ? "r" : "-"}${bits & RouteData.Perm.WRITE ? "w" : "-"}`

/**
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("route", {
  topic: Argument.String("topic").pipe(Argument.withDescription("The topic"))
}, ({ topic }) =>
  withClient(Effect.gen(function*() {
    const { json } = yield* root
    yield* Names.topic(topic)
    const route = yield* NameServer.getRouteInfoByTopic(topic)
    const rows = [...route.queueDatas]
      .sort((a, b) => a.brokerName.localeCompare(b.brokerName))
      .map((queue) => {
        const broker = route.brokerDatas.find((b) => b.brokerName === queue.brokerName)
        return { ...queue, address: broker === undefined ? undefined : RouteData.masterAddress(broker) }
      })
    yield* Output.records(json, rows, [
      ["BROKER", (r) => r.brokerName],
      ["ADDRESS", (r) => r.address ?? "-"],
      ["READ", (r) => String(r.readQueueNums)],
      ["WRITE", (r) => String(r.writeQueueNums)],
      ["PERM", (r) => perm(r.perm)]
    ], (r) => ({
      topic,
      broker: r.brokerName,
      address: r.address ?? null,
      readQueueNums: r.readQueueNums,
      writeQueueNums: r.writeQueueNums,
      perm: r.perm
    }))
  }))).pipe(Command.withDescription("Show the route of a topic: its brokers and queues"))
