/**
 * `rmq` as a user runs it: real processes of the bin, against the embedded broker served on
 * loopback in this test process (two brokers), outputs parsed, exit codes checked.
 */
import { Admin, Broker, Message, Offsets } from "@effect-rocketmq/client"
import { assert, describe, expect, it, layer } from "@effect/vitest"
import { RemotingClient } from "@effect-rocketmq/remoting"
import { InMemoryRocketMQ } from "@effect-rocketmq/testkit"
import { Context, Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { command, jsonLines, rmq, rmqBackground, root, tableRows } from "./support/Rmq.ts"

class Served extends Context.Service<Served, InMemoryRocketMQ.Served>()("test/Served") {}

const served = Layer.effect(Served, InMemoryRocketMQ.serve({ port: 0, brokers: 2, brokerPorts: [0, 0] }))

/** Runs `rmq --namesrv <the embedded name server> args…`. */
const against = (args: ReadonlyArray<string>, input?: string) =>
  Effect.flatMap(Served, (s) => rmq(["--namesrv", s.address, ...args], { input }))

/** The checks every failure line must pass: one line on stderr, nothing that looks like a stack. */
const assertOneLine = (stderr: string, prefix: string) => {
  const lines = stderr.split("\n").filter((line) => line.length > 0)
  assert.strictEqual(lines.length, 1, `one line of error, got: ${stderr}`)
  assert.isTrue(lines[0]!.startsWith(prefix), `starts with ${JSON.stringify(prefix)}: ${lines[0]}`)
  assert.notMatch(stderr, /\n\s+at |Error:|node:internal/)
}

const HELP = [
  [],
  ["dev"],
  ["cluster"],
  ["route"],
  ["topic"],
  ["topic", "list"],
  ["topic", "create"],
  ["topic", "delete"],
  ["group"],
  ["group", "create"],
  ["group", "list"],
  ["group", "delete"],
  ["send"],
  ["consume"],
  ["lag"],
  ["ping"],
  ["bench"],
  ["bench", "produce"],
  ["bench", "consume"]
] as const

describe("rmq", () => {
  it.live("prints the help of every command with its usage line, and exits 0", () =>
    Effect.gen(function*() {
      const runs = yield* Effect.forEach(HELP, (path) => rmq([...path, "--help"]), { concurrency: 3 })
      for (const [i, run] of runs.entries()) {
        const path = ["rmq", ...HELP[i]!].join(" ")
        assert.strictEqual(run.code, 0, `${path} --help: ${run.stderr}`)
        expect(run.stdout).toContain("USAGE")
        expect(run.stdout).toContain(`${path} `)
        expect(run.stdout).toContain("--namesrv")
        assert.strictEqual(run.stderr, "")
      }
    }), 600_000)

  it.live("prints its version, also through npx from the repository, which never asks the registry", () =>
    Effect.gen(function*() {
      const run = yield* rmq(["--version"])
      expect([run.code, run.stdout.trim()]).toEqual([0, "rmq v0.1.0"])
      // Offline, npx fails rather than fetch a package: it succeeds only with the workspace's bin.
      const npx = yield* command("npx", ["--offline", "rmq", "--version"], { cwd: root, env: { npm_config_offline: "true" } })
      expect([npx.code, npx.stdout.trim()]).toEqual([0, "rmq v0.1.0"])
    }), 600_000)

  it.live("answers a wrong command line with one line on stderr and exit code 2", () =>
    Effect.gen(function*() {
      const cases = [
        [["bogus"], "rmq: Unknown subcommand \"bogus\""],
        [["lag"], "rmq lag: Missing required argument: group"],
        [["ping", "127.0.0.1:1", "--count", "x"], "rmq ping: Invalid value for flag --count"],
        [["topic", "list", "--bogus"], "rmq topic list: Unrecognized flag: --bogus"],
        [["topic", "create", "bad topic"], "rmq topic create: \"bad topic\" is not a valid topic name"],
        [["route", "a/b"], "rmq route: \"a/b\" is not a valid topic name"],
        [["group", "create", "x".repeat(256)], "rmq group create: the consumer group name is 256 characters long"],
        [["ping", "nohost"], "rmq ping: Invalid address \"nohost\""],
        [["--namesrv", "nohost", "cluster"], "rmq cluster: Invalid address \"nohost\""]
      ] as const
      const runs = yield* Effect.forEach(cases, ([args]) => rmq(args), { concurrency: 3 })
      for (const [i, run] of runs.entries()) {
        const [args, prefix] = cases[i]!
        assert.strictEqual(run.code, 2, `rmq ${args.join(" ")}: ${run.stderr}`)
        assertOneLine(run.stderr, prefix)
        assert.strictEqual(run.stdout, "")
      }
    }), 600_000)

  it.live("names the unreachable name server or broker in one line, with exit code 1", () =>
    Effect.gen(function*() {
      const [cluster, ping, json] = yield* Effect.all([
        rmq(["--namesrv", "127.0.0.1:1", "cluster"]),
        rmq(["ping", "127.0.0.1:1"]),
        rmq(["topic", "list", "--json"], { env: { ROCKETMQ_NAMESRV_ADDR: "127.0.0.1:1" } })
      ], { concurrency: 3 })
      assert.strictEqual(cluster.code, 1)
      assertOneLine(cluster.stderr, "rmq cluster: no name server answers at 127.0.0.1:1. Start a local one with `npx rmq dev`")
      assert.strictEqual(ping.code, 1)
      assertOneLine(ping.stderr, "rmq ping: Cannot connect to 127.0.0.1:1: connection refused")
      // With --json the failure is a JSON line too; the address comes from ROCKETMQ_NAMESRV_ADDR.
      assert.strictEqual(json.code, 1)
      expect(jsonLines(json.stderr)).toEqual([{
        error: "NameServerUnavailable",
        command: "rmq topic list",
        message: expect.stringContaining("no name server answers at 127.0.0.1:1")
      }])
    }), 600_000)
})

// excludeTestServices: real time, for real processes.
layer(served, { timeout: "600 seconds", excludeTestServices: true })("rmq against the embedded broker", (it) => {
  it.effect("cluster lists both brokers at the addresses they serve on, as a table and as JSON lines", () =>
    Effect.gen(function*() {
      const s = yield* Served
      const [table, json] = yield* Effect.all([against(["cluster"]), against(["cluster", "--json"])], { concurrency: 2 })
      assert.strictEqual(table.code, 0, table.stderr)
      const rows = tableRows(table.stdout)
      expect(rows[0]).toEqual(["CLUSTER", "BROKER", "ID", "ADDRESS", "VERSION"])
      expect(rows.slice(1).map((r) => [r[1], r[2], r[3]])).toEqual(s.rmq.brokers.map((b) => [b.name, "0", b.address()]))
      expect(jsonLines(json.stdout)).toEqual(s.rmq.brokers.map((b) => ({
        cluster: "DefaultCluster",
        broker: b.name,
        brokerId: 0,
        address: b.address(),
        version: "V5_3_3"
      })))
    }))

  it.effect("topic create puts the topic on every master, route and list show it, and delete removes it", () =>
    Effect.gen(function*() {
      const created = yield* against(["topic", "create", "CliTopic", "--queues", "3", "--json"])
      assert.strictEqual(created.code, 0, created.stderr)
      expect(jsonLines(created.stdout).map((l) => [l["broker"], l["queues"], l["created"]])).toEqual([
        ["broker-a", 3, true],
        ["broker-b", 3, true]
      ])
      const [route, list, listAll] = yield* Effect.all([
        against(["route", "CliTopic", "--json"]),
        against(["topic", "list"]),
        against(["topic", "list", "--all", "--json"])
      ], { concurrency: 3 })
      expect(jsonLines(route.stdout).map((l) => [l["broker"], l["readQueueNums"], l["writeQueueNums"], l["perm"]])).toEqual([
        ["broker-a", 3, 3, 6],
        ["broker-b", 3, 3, 6]
      ])
      const listed = list.stdout.trim().split("\n")
      expect(listed).toContain("CliTopic")
      expect(listed).not.toContain("TBW102")
      expect(jsonLines(listAll.stdout).map((l) => l["topic"])).toEqual(expect.arrayContaining(["CliTopic", "TBW102", "broker-a"]))

      const deleted = yield* against(["topic", "delete", "CliTopic"])
      assert.strictEqual(deleted.code, 0, deleted.stderr)
      expect(deleted.stdout).toContain("deleted topic CliTopic from broker-a")
      const gone = yield* against(["route", "CliTopic"])
      assert.strictEqual(gone.code, 1)
      assertOneLine(gone.stderr, "rmq route: topic \"CliTopic\" does not exist (name server 127.0.0.1:")
      expect(gone.stderr).toContain("Create it with `rmq topic create CliTopic`")
    }))

  it.effect("group create, list and delete a consumer group on every master; system groups only with --all", () =>
    Effect.gen(function*() {
      const created = yield* against(["group", "create", "cli_group", "--retry-max", "3", "--orderly"])
      assert.strictEqual(created.code, 0, created.stderr)
      expect(tableRows(created.stdout).slice(1).map((r) => r[1])).toEqual(["broker-a", "broker-b"])
      const [list, all] = yield* Effect.all([against(["group", "list", "--json"]), against(["group", "list", "--all", "--json"])], {
        concurrency: 2
      })
      const mine = jsonLines(list.stdout).find((l) => l["groupName"] === "cli_group")
      expect(mine).toMatchObject({ retryMaxTimes: 3, consumeMessageOrderly: true, brokers: ["broker-a", "broker-b"] })
      assert.isUndefined(jsonLines(list.stdout).find((l) => l["groupName"] === "TOOLS_CONSUMER"))
      assert.isDefined(jsonLines(all.stdout).find((l) => l["groupName"] === "TOOLS_CONSUMER"))
      const deleted = yield* against(["group", "delete", "cli_group"])
      assert.strictEqual(deleted.code, 0, deleted.stderr)
      const after = yield* against(["group", "list", "--json"])
      assert.isUndefined(jsonLines(after.stdout).find((l) => l["groupName"] === "cli_group"))
    }))

  it.effect("lag shows each queue's max and committed offsets, the lag and the total", () =>
    Effect.gen(function*() {
      const s = yield* Served
      const broker = s.rmq.broker("broker-a")!.address()
      yield* Effect.gen(function*() {
        // A 5.3.3 broker stores offsets only for a group it knows.
        yield* Admin.createSubscriptionGroup(broker, "lag_group")
        for (const queueId of [0, 1]) {
          yield* Effect.forEach([1, 2, 3], (i) => Broker.sendMessage(broker, Message.make("LagTopic", `m${i}`), { queueId }))
        }
        yield* Offsets.updateConsumerOffset(broker, { consumerGroup: "lag_group", topic: "LagTopic", queueId: 1, commitOffset: 2n })
        yield* Offsets.updateConsumerOffset(broker, { consumerGroup: "lag_group", topic: "LagTopic", queueId: 0, commitOffset: 0n })
      }).pipe(Effect.provide(RemotingClient.layer({ nameServerAddresses: s.address })))
      const [table, json] = yield* Effect.all([
        against(["lag", "lag_group", "--topic", "LagTopic"]),
        against(["lag", "lag_group", "--topic", "LagTopic", "--json"])
      ], { concurrency: 2 })
      assert.strictEqual(table.code, 0, table.stderr)
      const rows = tableRows(table.stdout)
      expect(rows[0]).toEqual(["TOPIC", "BROKER", "QUEUE", "BROKER_OFFSET", "CONSUMER_OFFSET", "LAG", "LAST_CONSUMED"])
      const queues = rows.slice(1, -1).filter((r) => r[1] === "broker-a" && (r[2] === "0" || r[2] === "1"))
      expect(queues.map((r) => r.slice(0, 6))).toEqual([
        ["LagTopic", "broker-a", "0", "3", "0", "3"],
        ["LagTopic", "broker-a", "1", "3", "2", "1"]
      ])
      expect(rows[rows.length - 1]).toEqual(["TOTAL", String(jsonLines(json.stdout).at(-1)!["total"])])
      const lines = jsonLines(json.stdout)
      const total = lines.at(-1)!
      assert.strictEqual(total["total"], lines.slice(0, -1).reduce((sum, l) => sum + (l["lag"] as number), 0))
      assert.isAtLeast(total["total"] as number, 4)
      const none = yield* against(["lag", "nobody_group"])
      expect([none.code, none.stdout.trim()]).toEqual([0, "consumer group nobody_group has no committed offsets (total lag 0)"])
    }))

  it.effect("send stores a message with its tag, keys and properties, from an argument, a file or stdin", () =>
    Effect.gen(function*() {
      const s = yield* Served
      const file = path.join(os.tmpdir(), `rmq-send-${process.pid}.txt`)
      fs.writeFileSync(file, "from a file ✓")
      const [fromArg, fromFile, fromStdin] = yield* Effect.all([
        against(["send", "SendTopic", "from an argument", "--tag", "t1", "--key", "k1", "--key", "k2", "--prop", "a=b", "--prop", "c=d", "--json"]),
        against(["send", "SendTopic", "--file", file, "--json"]),
        against(["send", "SendTopic", "--json", "--sharding-key", "order-1"], "from stdin\n")
      ], { concurrency: 3 })
      fs.rmSync(file)
      for (const run of [fromArg, fromFile, fromStdin]) assert.strictEqual(run.code, 0, run.stderr)
      const results = [fromArg, fromFile, fromStdin].map((run) => jsonLines(run.stdout)[0]!)
      const stored = results.map((r) => {
        const broker = s.rmq.broker(r["broker"] as string)!
        return broker.messages("SendTopic", r["queueId"] as number).find((m) => m.msgId === r["msgId"])
      })
      expect(stored.map((m) => m === undefined ? undefined : new TextDecoder().decode(m.body))).toEqual([
        "from an argument",
        "from a file ✓",
        "from stdin\n"
      ])
      expect([Message.tagsOf(stored[0]!), Message.keysOf(stored[0]!), { ...Message.userProperties(stored[0]!) }])
        .toEqual(["t1", ["k1", "k2"], { a: "b", c: "d" }])
      expect(results[0]).toMatchObject({ status: "SEND_OK", topic: "SendTopic" })
      const text = yield* against(["send", "SendTopic", "plain"])
      expect(text.stdout).toMatch(/^sent [0-9A-F]{32} to SendTopic: queue broker-[ab]:\d+, offset \d+ \(SEND_OK\)\n$/)
    }))

  it.effect("send refuses an empty body and a bad topic name before sending, in one line with exit code 2", () =>
    Effect.gen(function*() {
      const [empty, badTopic, both] = yield* Effect.all([
        against(["send", "SendTopic"], ""),
        against(["send", "no such topic", "x"]),
        against(["send", "SendTopic", "x", "--file", "/nonexistent"])
      ], { concurrency: 3 })
      assert.strictEqual(empty.code, 2)
      assertOneLine(empty.stderr, "rmq send: Cannot send to topic \"SendTopic\": the body is empty")
      assert.strictEqual(badTopic.code, 2)
      assertOneLine(badTopic.stderr, "rmq send: \"no such topic\" is not a valid topic name")
      assert.strictEqual(both.code, 2)
      assertOneLine(both.stderr, "rmq send: give the body as an argument or with --file, not both")
    }))

  it.effect("ping makes the round trips it is asked for and reports min, p50, p99 and max", () =>
    Effect.gen(function*() {
      const s = yield* Served
      const run = yield* rmq(["ping", s.rmq.broker("broker-b")!.address(), "--count", "25", "--json"])
      assert.strictEqual(run.code, 0, run.stderr)
      const [summary] = jsonLines(run.stdout)
      expect(summary).toMatchObject({ address: s.rmq.broker("broker-b")!.address(), roundTrips: 25 })
      const { minMs, p50Ms, p99Ms, maxMs } = summary as Record<string, number>
      assert.isTrue(0 < minMs! && minMs! <= p50Ms! && p50Ms! <= p99Ms! && p99Ms! <= maxMs!, JSON.stringify(summary))
      const text = yield* rmq(["ping", s.address, "-c", "3"])
      expect(text.stdout).toMatch(/^ping 127\.0\.0\.1:\d+: connect \+ first round trip [\d.]+ ms; 3 round trips: min [\d.]+ \/ p50 [\d.]+ \/ p99 [\d.]+ \/ max [\d.]+ ms\n$/)
    }))
})

describe("rmq dev", () => {
  it.live("serves an embedded cluster that other rmq processes use, and stops on Ctrl-C with exit code 130", () =>
    Effect.scoped(Effect.gen(function*() {
      const dev = yield* rmqBackground(["dev", "--port", "0", "--broker-port", "0", "--brokers", "2", "--json"], (line) =>
        line.includes("\"event\":\"ready\""))
      const ready = JSON.parse(dev.line) as { namesrv: string; cluster: string; brokers: Array<{ name: string; address: string }> }
      expect(ready.brokers.map((b) => b.name)).toEqual(["broker-a", "broker-b"])
      const cluster = yield* rmq(["--namesrv", ready.namesrv, "cluster", "--json"])
      expect(jsonLines(cluster.stdout).map((l) => [l["broker"], l["address"]])).toEqual(ready.brokers.map((b) => [b.name, b.address]))
      const stopped = yield* dev.stop
      assert.strictEqual(stopped.code, 130)
      assert.strictEqual(stopped.stderr, "")
    })), 600_000)

  it.live("prints a banner that says how to point clients at it, and fails in one line when its port is taken", () =>
    Effect.scoped(Effect.gen(function*() {
      const dev = yield* rmqBackground(["dev", "--port", "0", "--broker-port", "0"], (line) => line.includes("export ROCKETMQ_NAMESRV_ADDR="))
      const address = dev.line.trim().slice("export ROCKETMQ_NAMESRV_ADDR=".length)
      assert.match(address, /^127\.0\.0\.1:\d+$/)
      const clash = yield* rmq(["dev", "--port", address.split(":")[1]!, "--broker-port", "0"])
      assert.strictEqual(clash.code, 1)
      assertOneLine(clash.stderr, `rmq dev: Cannot listen on ${address}`)
      const stopped = yield* dev.stop
      expect(stopped.stdout).toContain("npx rmq send TestTopic")
      expect(stopped.stdout).toContain("npx rmq consume TestTopic --group demo")
      expect(stopped.stdout).toContain("npx rmq route TestTopic")
    })), 600_000)
})
