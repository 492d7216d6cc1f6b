/**
 * `rmq group create|list|delete`: consumer groups (a broker's subscription groups) on every
 * master of a cluster.
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
 * Whether `group` is one a broker keeps for itself (its tools and internal consumers).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isSystemGroup = (group: string): boolean =>
  /^(TOOLS_CONSUMER|FILTERSRV_CONSUMER|SELF_TEST_C_GROUP|CID_RMQ_SYS_|CID_ONS|CID_SYS_RMQ_|CID_HOUSEKEEPING|rmq_sys_)/.test(group)

const create = Command.make("create", {
  group: Argument.String("group").pipe(Argument.withDescription("The consumer group to create")),
  cluster: Cluster.clusterFlag,
  retryMax: Flag.Int("retry-max").pipe(Flag.withDefault(16), Flag.withDescription("Retries before a message goes to the DLQ")),
  orderly: Flag.Boolean("orderly").pipe(Flag.withDefault(false), Flag.withDescription("Consume orderly"))
}, ({ group, cluster, retryMax, orderly }) =>
  withClient(Effect.gen(function*() {
    const { json } = yield* root
    yield* Names.group(group)
    if (retryMax < 0) return yield* new Output.UsageError({ detail: `--retry-max ${retryMax}: give 0 or more` })
    const masters = yield* Cluster.masters(Option.getOrUndefined(cluster))
    const settings = { retryMaxTimes: retryMax, consumeMessageOrderly: orderly }
    yield* Effect.forEach(masters, (m) => Admin.createSubscriptionGroup(m.address, group, { settings }), { discard: true })
    yield* Output.records(json, masters, [
      ["GROUP", () => group],
      ["BROKER", (m) => m.brokerName],
      ["ADDRESS", (m) => m.address]
    ], (m) => ({ group, created: true, cluster: m.cluster, broker: m.brokerName, address: m.address, ...settings }))
  }))).pipe(Command.withDescription("Create a consumer group (or update its settings) on every broker master"))

const list = Command.make("list", {
  cluster: Cluster.clusterFlag,
  all: Flag.Boolean("all").pipe(Flag.withDefault(false), Flag.withDescription("Include the brokers' own groups"))
}, ({ cluster, all }) =>
  withClient(Effect.gen(function*() {
    const { json } = yield* root
    const masters = yield* Cluster.masters(Option.getOrUndefined(cluster))
    const perBroker = yield* Effect.forEach(masters, (m) =>
      Effect.map(Admin.getAllSubscriptionGroup(m.address), (groups) => groups.map((g) => ({ ...g, broker: m.brokerName }))))
    const byName = new Map<string, { config: Admin.SubscriptionGroupConfig; brokers: Array<string> }>()
    for (const g of perBroker.flat()) {
      if (!all && isSystemGroup(g.groupName)) continue
      const entry = byName.get(g.groupName) ?? { config: g, brokers: [] }
      entry.brokers.push(g.broker)
      byName.set(g.groupName, entry)
    }
    const rows = [...byName.values()].sort((a, b) => a.config.groupName.localeCompare(b.config.groupName))
    if (!json && rows.length === 0) return yield* Console.log("(no consumer groups)")
    yield* Output.records(json, rows, [
      ["GROUP", (r) => r.config.groupName],
      ["BROKERS", (r) => r.brokers.join(",")],
      ["RETRY_MAX", (r) => String(r.config.retryMaxTimes ?? "-")],
      ["ORDERLY", (r) => String(r.config.consumeMessageOrderly ?? false)],
      ["CONSUME", (r) => (r.config.consumeEnable === false ? "disabled" : "enabled")]
    ], (r) => ({ ...r.config, brokers: r.brokers }))
  }))).pipe(Command.withDescription("List consumer groups (the brokers' own groups only with --all)"))

const remove = Command.make("delete", {
  group: Argument.String("group").pipe(Argument.withDescription("The consumer group to delete")),
  cluster: Cluster.clusterFlag,
  cleanOffsets: Flag.Boolean("clean-offsets").pipe(Flag.withDefault(false), Flag.withDescription("Also delete its committed offsets"))
}, ({ group, cluster, cleanOffsets }) =>
  withClient(Effect.gen(function*() {
    const { json } = yield* root
    yield* Names.group(group)
    const masters = yield* Cluster.masters(Option.getOrUndefined(cluster))
    yield* Effect.forEach(masters, (m) => Admin.deleteSubscriptionGroup(m.address, group, { cleanOffset: cleanOffsets }), { discard: true })
    yield* json
      ? Console.log(Output.jsonLine({ group, deleted: true, brokers: masters.map((m) => m.brokerName) }))
      : Console.log(`deleted consumer group ${group} from ${masters.map((m) => m.brokerName).join(", ")}`)
  }))).pipe(Command.withDescription("Delete a consumer group from every broker master"))

/**
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("group").pipe(
  Command.withDescription("Create, list and delete consumer groups"),
  Command.withSubcommands([create, list, remove])
)
