/**
 * `rmq lag GROUP`: how far a consumer group is behind, per queue of every broker master — the
 * queue's max offset, the group's committed offset, their difference (the lag) and when the last
 * consumed message was stored — and the total.
 *
 * @since 0.1.0
 */
import { Admin } from "@effect-rocketmq/client"
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as Cluster from "./Cluster.ts"
import * as Names from "./Names.ts"
import * as Output from "./Output.ts"
import { root, withClient } from "./Root.ts"

/**
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("lag", {
  group: Argument.String("group").pipe(Argument.withDescription("The consumer group")),
  topic: Flag.String("topic").pipe(Flag.optional, Flag.withDescription("Only this topic (default: every topic the group committed offsets for)")),
  cluster: Cluster.clusterFlag
}, ({ group, topic, cluster }) =>
  withClient(Effect.gen(function*() {
    const { json } = yield* root
    yield* Names.group(group)
    if (Option.isSome(topic)) yield* Names.topic(topic.value)
    const masters = yield* Cluster.masters(Option.getOrUndefined(cluster))
    const stats = yield* Effect.forEach(masters, (m) =>
      Admin.getConsumeStats(m.address, group, { topic: Option.getOrUndefined(topic) }), { concurrency: 8 })
    const rows = stats.flatMap((s) => s.queues).map((q) => ({ ...q, lag: q.brokerOffset - q.consumerOffset }))
    const total = rows.reduce((sum, r) => sum + r.lag, 0n)
    if (json) {
      yield* Effect.forEach(rows, (r) =>
        Console.log(Output.jsonLine({
          group,
          topic: r.queue.topic,
          broker: r.queue.brokerName,
          queueId: r.queue.queueId,
          brokerOffset: r.brokerOffset,
          consumerOffset: r.consumerOffset,
          lag: r.lag,
          lastTimestamp: r.lastTimestamp
        })), { discard: true })
      return yield* Console.log(Output.jsonLine({ group, total, queues: rows.length }))
    }
    if (rows.length === 0) {
      return yield* Console.log(`consumer group ${group} has no committed offsets${Option.isSome(topic) ? ` in ${topic.value}` : ""} (total lag 0)`)
    }
    yield* Console.log(Output.table(
      ["TOPIC", "BROKER", "QUEUE", "BROKER_OFFSET", "CONSUMER_OFFSET", "LAG", "LAST_CONSUMED"],
      [
        ...rows.map((r) => [
          r.queue.topic,
          r.queue.brokerName,
          String(r.queue.queueId),
          String(r.brokerOffset),
          String(r.consumerOffset),
          String(r.lag),
          Output.timestamp(r.lastTimestamp)
        ]),
        ["TOTAL", "", "", "", "", String(total), ""]
      ]
    ))
  }))).pipe(Command.withDescription("Show a consumer group's lag per queue, and the total"))
