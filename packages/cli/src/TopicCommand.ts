/**
 * `rmq topic list|create|delete`: the topics of the name servers (system topics hidden unless
 * `--all`), creating a topic on every master of a cluster, and deleting one from its brokers and
 * the name servers.
 *
 * @since 0.1.0
 */
import { Admin, NameServer } from "@effect-rocketmq/client"
import { Console, Effect, Option, Schedule } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as Cluster from "./Cluster.ts"
import * as Names from "./Names.ts"
import * as Output from "./Output.ts"
import { root, withClient } from "./Root.ts"

const SYSTEM_TOPICS: ReadonlySet<string> = new Set([
  "TBW102",
  "SCHEDULE_TOPIC_XXXX",
  "BenchmarkTest",
  "SELF_TEST_TOPIC",
  "OFFSET_MOVED_EVENT",
  "TRANS_CHECK_MAX_TIME_TOPIC",
  "RMQ_SYS_TRANS_HALF_TOPIC",
  "RMQ_SYS_TRANS_OP_HALF_TOPIC",
  "RMQ_SYS_TRACE_TOPIC"
])

/**
 * Whether `topic` is one a broker keeps for itself (the template, schedule, transaction and timer
 * topics, a cluster's or broker's own topic, its reply topic) or for a consumer group (retry and
 * dead-letter topics).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isSystemTopic = (topic: string, clusterAndBrokerNames: ReadonlySet<string>): boolean =>
  SYSTEM_TOPICS.has(topic) || clusterAndBrokerNames.has(topic) || /^(rmq_sys_|RMQ_SYS_|%RETRY%|%DLQ%|%LMQ%)/.test(topic) ||
  topic.endsWith("_REPLY_TOPIC")

const list = Command.make("list", {
  cluster: Cluster.clusterFlag,
  all: Flag.Boolean("all").pipe(Flag.withDefault(false), Flag.withDescription("Include system, retry and dead-letter topics"))
}, ({ cluster, all }) =>
  withClient(Effect.gen(function*() {
    const { json } = yield* root
    const list = Option.isSome(cluster)
      ? yield* NameServer.getTopicsByCluster(cluster.value)
      : yield* NameServer.getAllTopicList()
    const nodes = all ? [] : yield* Cluster.nodes
    const own = new Set(nodes.flatMap((node) => [node.cluster, node.brokerName]))
    const topics = [...list.topicList].filter((t) => all || !isSystemTopic(t, own)).sort()
    yield* json
      ? Effect.forEach(topics, (topic) => Console.log(Output.jsonLine({ topic })), { discard: true })
      : Console.log(topics.length === 0 ? "(no topics)" : topics.join("\n"))
  }))).pipe(Command.withDescription("List topics (system topics only with --all)"))

const create = Command.make("create", {
  topic: Argument.String("topic").pipe(Argument.withDescription("The topic to create")),
  cluster: Cluster.clusterFlag,
  queues: Flag.Int("queues").pipe(Flag.withDefault(8), Flag.withDescription("Read and write queues per broker")),
  order: Flag.Boolean("order").pipe(Flag.withDefault(false), Flag.withDescription("Mark the topic as ordered"))
}, ({ topic, cluster, queues, order }) =>
  withClient(Effect.gen(function*() {
    const { json } = yield* root
    yield* Names.topic(topic)
    if (queues < 1 || queues > 1024) return yield* new Output.UsageError({ detail: `--queues ${queues}: give 1 to 1024` })
    const masters = yield* Cluster.masters(Option.getOrUndefined(cluster))
    yield* Effect.forEach(masters, (m) => Admin.createTopic(m.address, topic, { queueNums: queues, order }), { discard: true })
    // Brokers register the new route with the name servers on their own schedule: wait for it
    // briefly, so a send right after this command finds it.
    yield* NameServer.getRouteInfoByTopic(topic).pipe(
      Effect.retry({ schedule: Schedule.spaced("200 millis"), times: 25 }),
      Effect.ignore
    )
    yield* Output.records(json, masters, [
      ["TOPIC", () => topic],
      ["BROKER", (m) => m.brokerName],
      ["ADDRESS", (m) => m.address],
      ["QUEUES", () => String(queues)]
    ], (m) => ({ topic, created: true, cluster: m.cluster, broker: m.brokerName, address: m.address, queues }))
  }))).pipe(Command.withDescription("Create a topic (or update its queue count) on every broker master of the cluster"))

const remove = Command.make("delete", {
  topic: Argument.String("topic").pipe(Argument.withDescription("The topic to delete"))
}, ({ topic }) =>
  withClient(Effect.gen(function*() {
    const { json, namesrv } = yield* root
    yield* Names.topic(topic)
    const brokers = yield* Cluster.topicMasters(topic)
    yield* Effect.forEach(brokers, (b) => Admin.deleteTopicInBroker(b.address, topic), { discard: true })
    const nameServers = namesrv.split(";").map((a) => a.trim()).filter((a) => a.length > 0)
    yield* Effect.forEach(nameServers, (address) => NameServer.deleteTopicInNameServer(topic, { address }), { discard: true })
    yield* json
      ? Console.log(Output.jsonLine({ topic, deleted: true, brokers: brokers.map((b) => b.brokerName), nameServers }))
      : Console.log(`deleted topic ${topic} from ${brokers.map((b) => `${b.brokerName} (${b.address})`).join(", ")} and ` +
        `${nameServers.length === 1 ? "the name server" : `${nameServers.length} name servers`}`)
  }))).pipe(Command.withDescription("Delete a topic from its brokers and the name servers"))

/**
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("topic").pipe(
  Command.withDescription("List, create and delete topics"),
  Command.withSubcommands([list, create, remove])
)
