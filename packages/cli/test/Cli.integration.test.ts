/**
 * `rmq` against a real Apache RocketMQ 5.3.3 (the cluster of the integration project's setup), as
 * real processes: cluster, route, topic and group administration, send, consume, lag, ping and bench.
 */
import { Broker, Offsets } from "@effect-rocketmq/client"
import { assert, describe, expect, it } from "@effect/vitest"
import { RemotingClient } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import { inject } from "vitest"
import { jsonLines, rmq, tableRows } from "./support/Rmq.ts"

interface RocketMQCluster {
  readonly namesrvAddr: string
  /** The first broker's address (`broker-a`). */
  readonly brokerAddr: string
  /** Every broker of the cluster, in order. */
  readonly brokers: ReadonlyArray<{ readonly name: string; readonly address: string }>
}

declare module "vitest" {
  export interface ProvidedContext {
    rocketmq: RocketMQCluster | { readonly skip: string }
  }
}

const provided = inject("rocketmq")
const real = "skip" in provided ? undefined : provided
const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`

/** `rmq --namesrv <the real name server> args…`. */
const against = (args: ReadonlyArray<string>, input?: string) => rmq(["--namesrv", real!.namesrvAddr, ...args], { input })

describe.skipIf(real === undefined)(`rmq against a real broker${"skip" in provided ? ` (skipped: ${provided.skip})` : ""}`, () => {
  it.live("cluster names every broker, its address and its version", () =>
    Effect.gen(function*() {
      const run = yield* against(["cluster", "--json"])
      assert.strictEqual(run.code, 0, run.stderr)
      expect(jsonLines(run.stdout)).toEqual(real!.brokers.map((broker) => ({
        cluster: "DefaultCluster",
        broker: broker.name,
        brokerId: 0,
        address: broker.address,
        version: "V5_3_3"
      })))
    }), 300_000)

  it.live("a topic is created, routed, listed, sent to and deleted; then it has no route", () =>
    Effect.gen(function*() {
      const topic = `CliTopic_${runId}`
      const created = yield* against(["topic", "create", topic, "--queues", "2"])
      assert.strictEqual(created.code, 0, created.stderr)
      expect(tableRows(created.stdout).slice(1)).toEqual(real!.brokers.map((b) => [topic, b.name, b.address, "2"]))
      const [route, list, sent] = yield* Effect.all([
        against(["route", topic, "--json"]),
        against(["topic", "list"]),
        against(["send", topic, "hello from rmq", "--tag", "cli", "--json"])
      ], { concurrency: 3 })
      expect(jsonLines(route.stdout)).toEqual(real!.brokers.map((b) => ({
        topic,
        broker: b.name,
        address: b.address,
        readQueueNums: 2,
        writeQueueNums: 2,
        perm: 6
      })))
      expect(list.stdout.split("\n")).toContain(topic)
      assert.strictEqual(sent.code, 0, sent.stderr)
      const result = jsonLines(sent.stdout)[0]!
      expect(result).toMatchObject({ status: "SEND_OK", topic })
      const storedOn = real!.brokers.find((b) => b.name === result["broker"])!
      const pulled = yield* Broker.pullMessage(storedOn.address, {
        consumerGroup: `cli_check_${runId}`,
        topic,
        queueId: result["queueId"] as number,
        queueOffset: BigInt(result["queueOffset"] as number)
      }).pipe(Effect.provide(RemotingClient.layer({ nameServerAddresses: real!.namesrvAddr })))
      assert.isTrue(pulled._tag === "Found" && pulled.messages[0]!.msgId === result["msgId"])

      const deleted = yield* against(["topic", "delete", topic])
      assert.strictEqual(deleted.code, 0, deleted.stderr)
      const gone = yield* against(["route", topic])
      assert.strictEqual(gone.code, 1)
      expect(gone.stderr).toBe(`rmq route: topic "${topic}" does not exist (name server ${real!.namesrvAddr}). Create it with \`rmq topic create ${topic}\`.\n`)
    }), 300_000)

  it.live("a consumer group is created and listed, its lag is the messages it has not committed, and it is deleted", () =>
    Effect.gen(function*() {
      const topic = `CliLag_${runId}`
      const group = `cli_lag_${runId}`
      yield* against(["topic", "create", topic, "--queues", "2"])
      const created = yield* against(["group", "create", group, "--retry-max", "5"])
      assert.strictEqual(created.code, 0, created.stderr)
      const list = yield* against(["group", "list", "--json"])
      expect(jsonLines(list.stdout).find((g) => g["groupName"] === group)).toMatchObject({
        retryMaxTimes: 5,
        brokers: real!.brokers.map((b) => b.name)
      })
      yield* Effect.gen(function*() {
        for (const queueId of [0, 1]) {
          yield* Effect.forEach([1, 2, 3, 4], (i) => Broker.sendMessage(real!.brokerAddr, { topic, body: new Uint8Array([i]) }, { queueId }))
        }
        yield* Offsets.updateConsumerOffset(real!.brokerAddr, { consumerGroup: group, topic, queueId: 0, commitOffset: 3n })
        yield* Offsets.updateConsumerOffset(real!.brokerAddr, { consumerGroup: group, topic, queueId: 1, commitOffset: 1n })
      }).pipe(Effect.provide(RemotingClient.layer({ nameServerAddresses: real!.namesrvAddr })))
      const lag = yield* against(["lag", group, "--topic", topic, "--json"])
      assert.strictEqual(lag.code, 0, lag.stderr)
      // The messages and offsets are on broker-a; the topic's queues on other brokers are empty.
      const lines = jsonLines(lag.stdout)
      expect(lines.slice(0, -1).filter((l) => l["broker"] === "broker-a").map((l) => [l["queueId"], l["brokerOffset"], l["consumerOffset"], l["lag"]])).toEqual([
        [0, 4, 3, 1],
        [1, 4, 1, 3]
      ])
      expect(lines.at(-1)).toEqual({ group, total: 4, queues: 2 * real!.brokers.length })
      const table = yield* against(["lag", group, "--topic", topic])
      expect(tableRows(table.stdout).at(-1)).toEqual(["TOTAL", "4"])

      const deleted = yield* against(["group", "delete", group, "--clean-offsets"])
      assert.strictEqual(deleted.code, 0, deleted.stderr)
      expect(deleted.stdout).toBe(`deleted consumer group ${group} from ${real!.brokers.map((b) => b.name).join(", ")}\n`)
      const after = yield* against(["group", "list", "--json"])
      assert.isUndefined(jsonLines(after.stdout).find((g) => g["groupName"] === group))
    }), 300_000)

  it.live("messages sent with rmq send are printed by rmq consume with their bodies, tags, keys and properties, and the group's lag is then 0", () =>
    Effect.gen(function*() {
      const topic = `CliConsume_${runId}`
      const group = `cli_consume_${runId}`
      const created = yield* against(["topic", "create", topic, "--queues", "2"])
      assert.strictEqual(created.code, 0, created.stderr)
      const binary = new Uint8Array([0x00, 0xc3, 0x28, 0xff])
      const sent = yield* Effect.all([
        against(["send", topic, "hello ✓", "--tag", "greeting", "--key", "k1", "--prop", "a=b", "--json"]),
        against(["send", topic, "second", "--json"]),
        rmq(["--namesrv", real!.namesrvAddr, "send", topic, "--json"], { input: binary })
      ], { concurrency: 3 })
      for (const run of sent) assert.strictEqual(run.code, 0, run.stderr)
      const msgIds = sent.map((run) => jsonLines(run.stdout)[0]!["msgId"])

      const consumed = yield* against(["consume", topic, "--group", group, "--from", "first", "--count", "3", "--json"])
      assert.strictEqual(consumed.code, 0, consumed.stderr)
      // A new group's start warns (no %RETRY% route yet); below --log-level's default, so nothing.
      assert.strictEqual(consumed.stderr, "")
      const lines = jsonLines(consumed.stdout)
      expect(lines.map((l) => l["msgId"]).sort()).toEqual([...msgIds].sort())
      const byId = new Map(lines.map((l) => [l["msgId"], l]))
      expect(byId.get(msgIds[0])).toMatchObject({
        topic,
        body: "hello ✓",
        bodyEncoding: "utf8",
        tags: "greeting",
        keys: ["k1"],
        userProperties: { a: "b" },
        reconsumeTimes: 0
      })
      expect(byId.get(msgIds[1])).toMatchObject({ body: "second", bodyEncoding: "utf8", tags: null })
      expect(byId.get(msgIds[2])).toMatchObject({ body: Buffer.from(binary).toString("base64"), bodyEncoding: "base64", bodySize: 4 })

      const lag = yield* against(["lag", group, "--topic", topic, "--json"])
      assert.strictEqual(lag.code, 0, lag.stderr)
      expect(jsonLines(lag.stdout).at(-1)).toEqual({ group, total: 0, queues: 2 * real!.brokers.length })
      const missing = yield* against(["consume", `CliMissing_${runId}`, "--group", group])
      assert.strictEqual(missing.code, 1)
      expect(missing.stderr).toBe(
        `rmq consume: topic "CliMissing_${runId}" does not exist (name server ${real!.namesrvAddr}). ` +
          `Create it with \`rmq topic create CliMissing_${runId}\`.\n`
      )
    }), 300_000)

  it.live("ping measures round trips to the name server and the broker", () =>
    Effect.gen(function*() {
      const runs = yield* Effect.all([
        rmq(["ping", real!.namesrvAddr, "-c", "5", "--json"]),
        rmq(["ping", real!.brokerAddr, "-c", "5", "--json"])
      ], { concurrency: 2 })
      for (const [i, run] of runs.entries()) {
        assert.strictEqual(run.code, 0, run.stderr)
        expect(jsonLines(run.stdout)[0]).toMatchObject({ address: [real!.namesrvAddr, real!.brokerAddr][i], roundTrips: 5 })
      }
    }), 300_000)

  it.live("bench produce sends to a real broker and bench consume drains it, each summing up", () =>
    Effect.gen(function*() {
      const topic = `CliBench_${runId}`
      yield* against(["topic", "create", topic, "--queues", "4"])
      const run = yield* against(["bench", "produce", "--topic", topic, "--count", "300", "--concurrency", "8", "--json"])
      assert.strictEqual(run.code, 0, run.stderr)
      expect(jsonLines(run.stdout)[0]).toMatchObject({ bench: "produce", topic, messages: 300, errors: 0 })
      const drained = yield* against(["bench", "consume", "--topic", topic, "--group", `cli_bench_${runId}`, "--count", "300", "--idle", "10", "--json"])
      assert.strictEqual(drained.code, 0, drained.stderr)
      expect(jsonLines(drained.stdout)[0]).toMatchObject({ bench: "consume", topic, messages: 300, bytes: 300 * 128 })
    }), 300_000)
})
