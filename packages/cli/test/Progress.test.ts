/**
 * The live progress line of `rmq bench produce` and `consume`, as a terminal shows it (through a
 * pseudo-terminal) and as a pipe receives it.
 */
import { Broker, Message } from "@effect-rocketmq/client"
import { assert, describe, expect, it } from "@effect/vitest"
import { RemotingClient } from "@effect-rocketmq/remoting"
import { InMemoryRocketMQ } from "@effect-rocketmq/testkit"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { baseEnv, bin, jsonLines, rmq } from "./support/Rmq.ts"

const REDRAW = "\r\u001b[K"
const ptyHelper = fileURLToPath(new URL("./support/terminal.py", import.meta.url))

/** Runs `rmq args…` on a pseudo-terminal; answers the exit code and the raw bytes it wrote there. */
const inTerminal = (args: ReadonlyArray<string>) =>
  Effect.callback<{ readonly code: number | null; readonly screen: string }>((resume) => {
    const child = spawn("python3", [ptyHelper, bin, ...args], { env: { ...baseEnv(), TERM: "xterm" } })
    let screen = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (screen += chunk))
    child.on("close", (code) => resume(Effect.succeed({ code, screen })))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

describe("rmq bench progress", () => {
  it.live("redraws one line in place on a terminal, and writes plain lines to a pipe", () =>
    Effect.scoped(Effect.gen(function*() {
      const served = yield* InMemoryRocketMQ.serve({ port: 0, brokerPorts: [0] })
      const args = ["--namesrv", served.address, "bench", "produce", "--duration", "3", "--concurrency", "4", "--size", "64"]
      const [terminal, pipe] = yield* Effect.all([inTerminal(args), rmq(args)], { concurrency: 2 })

      assert.strictEqual(terminal.code, 0, terminal.screen)
      const redraws = terminal.screen.split(REDRAW).length - 1
      // 3 s at one redraw per 250 ms, and the last one when it ends; a loaded machine may skip some.
      assert.isAtLeast(redraws, 4, JSON.stringify(terminal.screen))
      const frames = terminal.screen.split(REDRAW).slice(1).map((frame) => frame.split(/\r?\n/)[0]!)
      for (const frame of frames) assert.match(frame, /^produce [\d,]+ sent {2}[\d,]+ msg\/s {2}p50 [\d.]+ ms {2}p99 [\d.]+ ms {2}errors 0$/)
      // Every frame overwrites the last on one line: before the summary the terminal holds one line.
      const beforeSummary = terminal.screen.slice(0, terminal.screen.indexOf("produced "))
      expect(beforeSummary.split(/\r?\n/).filter((l) => l.length > 0)).toHaveLength(1)
      assert.match(terminal.screen, /produced [\d,]+ messages of 64 B to rmq_bench in [\d.]+ s \(4 in flight\)/)

      assert.strictEqual(pipe.code, 0, pipe.stderr)
      assert.notInclude(pipe.stderr, "\r")
      assert.notInclude(pipe.stderr, "\u001b")
      const lines = pipe.stderr.trim().split("\n")
      assert.isAtLeast(lines.length, 2)
      for (const line of lines) assert.match(line, /^produce [\d,]+ sent {2}[\d,]+ msg\/s/)
      assert.match(pipe.stdout, /^produced [\d,]+ messages of 64 B/)
    })), 600_000)

  it.live("bench consume redraws its line in place on a terminal while it drains a backlog, then sums up", () =>
    Effect.scoped(Effect.gen(function*() {
      const served = yield* InMemoryRocketMQ.serve({ port: 0, brokerPorts: [0] })
      const broker = served.rmq.broker().address()
      yield* Effect.forEach(Array.from({ length: 2000 }), (_, i) =>
        Broker.sendMessage(broker, Message.make("BenchTerminal", `m${i}`), { queueId: i % 4 }), { concurrency: 16, discard: true }).pipe(
          Effect.provide(RemotingClient.layer({ nameServerAddresses: served.address }))
        )
      const terminal = yield* inTerminal(["--namesrv", served.address, "bench", "consume", "--topic", "BenchTerminal", "--idle", "2"])
      assert.strictEqual(terminal.code, 0, terminal.screen)
      const frames = terminal.screen.split(REDRAW).slice(1).map((frame) => frame.split(/\r?\n/)[0]!)
      // At least one frame while it runs (every 250 ms) and the last one when it ends.
      assert.isAtLeast(frames.length, 2, JSON.stringify(terminal.screen))
      for (const frame of frames) assert.match(frame, /^consume [\d,]+ consumed {2}[\d,]+ msg\/s {2}p50 [\d.]+ ms {2}p99 [\d.]+ ms$/)
      expect(frames.at(-1)).toMatch(/^consume 2,000 consumed/)
      const beforeSummary = terminal.screen.slice(0, terminal.screen.indexOf("consumed 2,000 messages"))
      expect(beforeSummary.split(/\r?\n/).filter((l) => l.length > 0)).toHaveLength(1)
      assert.match(terminal.screen, /consumed 2,000 messages \([\d,]+ B\) of BenchTerminal as group rmq_bench_\w+ in [\d.]+ s/)
    })), 600_000)

  it.live("prints no progress with --json, only the summary object", () =>
    Effect.scoped(Effect.gen(function*() {
      const served = yield* InMemoryRocketMQ.serve({ port: 0, brokerPorts: [0] })
      const run = yield* rmq(["--namesrv", served.address, "bench", "produce", "--count", "200", "--json", "--topic", "BenchJson"])
      assert.strictEqual(run.code, 0, run.stderr)
      assert.strictEqual(run.stderr, "")
      const [summary] = jsonLines(run.stdout)
      expect(summary).toMatchObject({ bench: "produce", topic: "BenchJson", messages: 200, errors: 0, bodyBytes: 128, concurrency: 16 })
      const { p50Ms, p99Ms, maxMs } = summary as Record<string, number>
      assert.isTrue(0 < p50Ms! && p50Ms! <= p99Ms! && p99Ms! <= maxMs! * 1.02, JSON.stringify(summary))
      assert.strictEqual(served.rmq.broker().topic("BenchJson") !== undefined, true)
    })), 600_000)
})
