/**
 * `rmq consume` and `rmq bench consume` as a user runs them: real processes against the embedded
 * broker served on loopback in this test process (two brokers), outputs parsed, exit codes
 * checked, and the group's committed offsets read back after the process ended.
 */
import { Admin, Broker, Message } from "@effect-rocketmq/client"
import { assert, expect, layer } from "@effect/vitest"
import { RemotingClient } from "@effect-rocketmq/remoting"
import { InMemoryRocketMQ } from "@effect-rocketmq/testkit"
import { Context, Effect, Layer } from "effect"
import { jsonLines, rmq, rmqBackground } from "./support/Rmq.ts"

class Served extends Context.Service<Served, InMemoryRocketMQ.Served>()("test/Served") {}

const served = Layer.effect(Served, InMemoryRocketMQ.serve({ port: 0, brokers: 2, brokerPorts: [0, 0] }))

/** Runs `rmq --namesrv <the embedded name server> args…`. */
const against = (args: ReadonlyArray<string>) => Effect.flatMap(Served, (s) => rmq(["--namesrv", s.address, ...args]))

/** The checks every failure line must pass: one line on stderr, nothing that looks like a stack. */
const assertOneLine = (stderr: string, prefix: string) => {
  const lines = stderr.split("\n").filter((line) => line.length > 0)
  assert.strictEqual(lines.length, 1, `one line of error, got: ${stderr}`)
  assert.isTrue(lines[0]!.startsWith(prefix), `starts with ${JSON.stringify(prefix)}: ${lines[0]}`)
  assert.notMatch(stderr, /\n\s+at |Error:|node:internal/)
}

/** Creates `topic` with `queues` queues on both brokers and stores `messages` round-robin over the queues of broker-a and broker-b. */
const fill = (topic: string, queues: number, messages: ReadonlyArray<Message.Message>) =>
  Effect.gen(function*() {
    const s = yield* Served
    const brokers = s.rmq.brokers.map((b) => b.address())
    yield* Effect.gen(function*() {
      yield* Effect.forEach(brokers, (broker) => Admin.createTopic(broker, topic, { queueNums: queues }), { discard: true })
      yield* Effect.forEach(messages, (message, i) =>
        Broker.sendMessage(brokers[i % brokers.length]!, message, { queueId: Math.floor(i / brokers.length) % queues }), {
        discard: true
      })
    }).pipe(Effect.provide(RemotingClient.layer({ nameServerAddresses: s.address })))
  })

const BINARY = new Uint8Array([0x00, 0x01, 0xfe, 0xff, 0x80])

/** The committed offsets of `group` in `topic`: the total lag, as `rmq lag` reports it. */
const totalLag = (group: string, topic: string) =>
  Effect.map(against(["lag", group, "--topic", topic, "--json"]), (run) => {
    assert.strictEqual(run.code, 0, run.stderr)
    return jsonLines(run.stdout).at(-1)!
  })

// excludeTestServices: real time, for real processes.
layer(served, { timeout: "600 seconds", excludeTestServices: true })("rmq consume against the embedded broker", (it) => {
  it.effect("prints every stored message with all its fields as JSON lines, bodies as sent, binary ones as base64, and exits 0 after --count", () =>
    Effect.gen(function*() {
      const texts = ["first ✓", "second", "third\twith a tab", "fourth", "fifth"]
      yield* fill("ConsumeJson", 2, [
        ...texts.map((text, i) => Message.make("ConsumeJson", text, { tags: `t${i}`, keys: [`k${i}`], properties: { n: String(i) } })),
        Message.make("ConsumeJson", BINARY)
      ])
      const run = yield* against(["consume", "ConsumeJson", "--group", "consume_json", "--from", "first", "--count", "6", "--json"])
      assert.strictEqual(run.code, 0, run.stderr)
      assert.strictEqual(run.stderr, "")
      const lines = jsonLines(run.stdout)
      expect(lines).toHaveLength(6)
      const utf8 = lines.filter((l) => l["bodyEncoding"] === "utf8")
      expect(utf8.map((l) => l["body"]).sort()).toEqual([...texts].sort())
      for (const l of utf8) {
        const i = texts.indexOf(l["body"] as string)
        expect(l).toMatchObject({ topic: "ConsumeJson", tags: `t${i}`, keys: [`k${i}`], userProperties: { n: String(i) }, reconsumeTimes: 0 })
        expect(l["msgId"]).toMatch(/^[0-9A-F]{32}$/)
        expect(l["broker"]).toMatch(/^broker-[ab]$/)
        expect(typeof l["queueOffset"]).toBe("number")
        expect(typeof l["storeTimestamp"]).toBe("number")
      }
      const binary = lines.filter((l) => l["bodyEncoding"] === "base64")
      expect(binary).toHaveLength(1)
      expect(Buffer.from(binary[0]!["body"] as string, "base64")).toEqual(Buffer.from(BINARY))
      expect(binary[0]!["bodySize"]).toBe(BINARY.length)
      // The group committed what it printed: nothing is left.
      expect(yield* totalLag("consume_json", "ConsumeJson")).toMatchObject({ total: 0 })
    }))

  it.effect("prints one text line per message and, with --tag, only the messages with those tags", () =>
    Effect.gen(function*() {
      yield* fill("ConsumeText", 1, [
        Message.make("ConsumeText", "hello", { tags: "greeting", keys: ["k1", "k2"], properties: { a: "b" } }),
        Message.make("ConsumeText", "ignored", { tags: "other" }),
        Message.make("ConsumeText", "bye", { tags: "farewell" }),
        Message.make("ConsumeText", BINARY, { tags: "greeting" })
      ])
      const [all, tagged] = yield* Effect.all([
        against(["consume", "ConsumeText", "--group", "consume_text", "--from", "first", "--count", "4"]),
        against(["consume", "ConsumeText", "--group", "consume_tags", "--from", "first", "--count", "3", "--tag", "greeting || farewell"])
      ], { concurrency: 2 })
      assert.strictEqual(all.code, 0, all.stderr)
      expect(all.stderr).toBe("rmq consume: consuming ConsumeText (tags *) as group consume_text, 4 messages\n")
      const lines = all.stdout.trim().split("\n").sort()
      expect(lines).toHaveLength(4)
      const id = "[0-9A-F]{32}"
      expect(lines).toEqual(expect.arrayContaining([
        expect.stringMatching(new RegExp(`^ConsumeText broker-[ab]:0@0 ${id} tag=greeting keys=k1,k2 a=b body: hello$`)),
        expect.stringMatching(new RegExp(`^ConsumeText broker-[ab]:0@\\d ${id} tag=other body: ignored$`)),
        expect.stringMatching(new RegExp(`^ConsumeText broker-[ab]:0@\\d ${id} tag=greeting base64: ${Buffer.from(BINARY).toString("base64").replace(/[+/=]/g, "\\$&")}$`))
      ]))
      assert.strictEqual(tagged.code, 0, tagged.stderr)
      expect(tagged.stdout.trim().split("\n").map((l) => l.split(" tag=")[1]!.split(" ")[0]).sort()).toEqual(["farewell", "greeting", "greeting"])
    }))

  it.effect("runs until Ctrl-C, then closes the consumer with its offsets committed and exits 130; the next run resumes after them", () =>
    Effect.gen(function*() {
      const s = yield* Served
      yield* fill("ConsumeStop", 2, ["m1", "m2", "m3", "m4"].map((text) => Message.make("ConsumeStop", text)))
      const args = ["--namesrv", s.address, "consume", "ConsumeStop", "--group", "consume_stop", "--from", "first"]
      // Ready once the four messages are printed (the readiness check sees every line again on each chunk).
      const seen = new Set<string>()
      const stopped = yield* Effect.scoped(Effect.gen(function*() {
        const consume = yield* rmqBackground(args, (line) => {
          if (/ body: m\d$/.test(line)) seen.add(line)
          return seen.size === 4
        })
        return yield* consume.stop
      }))
      assert.strictEqual(stopped.code, 130, stopped.stderr)
      expect(stopped.stdout.trim().split("\n").map((l) => l.split(" body: ")[1]).sort()).toEqual(["m1", "m2", "m3", "m4"])
      expect(stopped.stderr).toBe("rmq consume: consuming ConsumeStop (tags *) as group consume_stop; Ctrl-C stops\n")
      expect(yield* totalLag("consume_stop", "ConsumeStop")).toMatchObject({ total: 0, queues: 4 })

      yield* fill("ConsumeStop", 2, [Message.make("ConsumeStop", "m5")])
      const next = yield* against(["consume", "ConsumeStop", "--group", "consume_stop", "--count", "1"])
      assert.strictEqual(next.code, 0, next.stderr)
      expect(next.stdout).toMatch(/ body: m5\n$/)
    }))

  it.effect("answers a bad topic name, a bad address and a bad --from with one line and exit 2, a missing topic or name server with exit 1", () =>
    Effect.gen(function*() {
      const [badTopic, badAddress, badFrom, badCount, missing, noServer] = yield* Effect.all([
        against(["consume", "bad topic", "--group", "g"]),
        rmq(["--namesrv", "nohost", "consume", "T", "--group", "g"]),
        against(["consume", "T", "--group", "g", "--from", "yesterday"]),
        against(["consume", "T", "--group", "g", "--count", "0"]),
        against(["consume", "NoSuchTopic", "--group", "g"]),
        rmq(["--namesrv", "127.0.0.1:1", "consume", "T", "--group", "g"])
      ], { concurrency: 3 })
      for (const run of [badTopic, badAddress, badFrom, badCount]) assert.strictEqual(run.code, 2, run.stderr)
      assertOneLine(badTopic.stderr, "rmq consume: \"bad topic\" is not a valid topic name")
      assertOneLine(badAddress.stderr, "rmq consume: Invalid address \"nohost\"")
      assertOneLine(badFrom.stderr, "rmq consume: --from \"yesterday\": give first, last, an ISO 8601 time")
      assertOneLine(badCount.stderr, "rmq consume: --count 0: give 1 or more")
      assert.strictEqual(missing.code, 1, missing.stderr)
      assertOneLine(missing.stderr, "rmq consume: topic \"NoSuchTopic\" does not exist (name server 127.0.0.1:")
      assert.strictEqual(noServer.code, 1, noServer.stderr)
      assertOneLine(noServer.stderr, "rmq consume: no name server answers at 127.0.0.1:1")
      for (const run of [badTopic, badAddress, badFrom, badCount, missing, noServer]) assert.strictEqual(run.stdout, "")
    }))

  it.effect("bench consume drains a backlog: --count stops it, the next run of the group drains the rest, with progress lines on a pipe", () =>
    Effect.gen(function*() {
      yield* fill("BenchDrain", 4, Array.from({ length: 300 }, (_, i) => Message.make("BenchDrain", `m${i}`)))
      const first = yield* against(["bench", "consume", "--topic", "BenchDrain", "--group", "bench_drain", "--count", "100", "--json"])
      assert.strictEqual(first.code, 0, first.stderr)
      assert.strictEqual(first.stderr, "")
      const [summary] = jsonLines(first.stdout)
      expect(summary).toMatchObject({ bench: "consume", topic: "BenchDrain", group: "bench_drain", messages: 100 })
      const { bytes, p50Ms, p99Ms, maxMs, seconds, rate } = summary as Record<string, number>
      // Bodies m0 … m299: 2 to 4 bytes each.
      assert.isTrue(200 <= bytes! && bytes! <= 400, JSON.stringify(summary))
      assert.isTrue(0 <= p50Ms! && p50Ms! <= p99Ms! && p99Ms! <= maxMs! * 1.02 && seconds! > 0 && rate! > 0, JSON.stringify(summary))

      // The same group resumes after the 100 it committed, and stops once the topic is drained.
      const rest = yield* against(["bench", "consume", "--topic", "BenchDrain", "--group", "bench_drain", "--idle", "5"])
      assert.strictEqual(rest.code, 0, rest.stderr)
      expect(rest.stdout).toMatch(/^consumed 200 messages \([\d,]+ B\) of BenchDrain as group bench_drain in [\d.]+ s: [\d,]+ msg\/s; first message after [\d.]+ ms; store to consume p50 [\d.]+ ms, p99 [\d.]+ ms, max [\d.]+ ms\n$/)
      assert.notInclude(rest.stderr, "\r")
      const lines = rest.stderr.trim().split("\n")
      assert.isAtLeast(lines.length, 1)
      for (const line of lines) assert.match(line, /^consume [\d,]+ consumed {2}[\d,]+ msg\/s {2}p50 [\d.]+ ms {2}p99 [\d.]+ ms$/)
      expect(lines.at(-1)).toMatch(/^consume 200 consumed/)
    }))

  it.effect("bench consume fails in one line with exit 1 when no message arrives", () =>
    Effect.gen(function*() {
      yield* fill("BenchEmpty", 1, [])
      const run = yield* against(["bench", "consume", "--topic", "BenchEmpty", "--duration", "2", "--json"])
      assert.strictEqual(run.code, 1, run.stderr)
      expect(jsonLines(run.stderr)).toEqual([{
        error: "CommandFailed",
        command: "rmq bench consume",
        message: expect.stringContaining("no message of BenchEmpty arrived in 2 s")
      }])
    }))
})
