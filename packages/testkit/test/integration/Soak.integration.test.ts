/**
 * Chaos suite 4, the soak: 1,000,000 requests from one RemotingClient (64 in flight) to the real
 * name server and broker-a, each through a FaultProxy, while a fault injector adds latency, black
 * holes, holds, RST and FIN cuts and segment splits to random connections every 100-400 ms, and one
 * caller in 50 is interrupted 0-3 ms into its request. Every request must end in its own answer or
 * a typed error; afterwards no request is pending, no channel or proxy fiber runs, the process holds
 * no more sockets and timers than before, and the heap is back within HEAP_BOUND of where it began.
 *
 * ROCKETMQ_SOAK_REQUESTS sets the count (default 1,000,000); ROCKETMQ_SOAK_SEED the schedule of
 * faults and interruptions (the same seed gives the same schedule; timing still varies).
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Channel, RemotingClient, RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { FaultProxy } from "@effect-rocketmq/testkit"
import { Cause, Effect, Exit, Fiber, Option, Random, Schedule, Scope } from "effect"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { cluster, createTopic, poll, runId, skipReason } from "./support.ts"

const real = cluster()
const TOTAL = Number(process.env.ROCKETMQ_SOAK_REQUESTS ?? 1_000_000)
const SEED = process.env.ROCKETMQ_SOAK_SEED ?? "rocketmq-soak"
const CONCURRENCY = 64
const TIMEOUT_MILLIS = 1000
/** The heap after the soak (after a full GC) may exceed the one before by at most this much. */
const HEAP_BOUND = 32 * 1024 * 1024

setFlagsFromString("--expose-gc")
const gc = runInNewContext("gc") as () => void

/** Sockets and timers this process holds (libuv handles, by kind). */
const resources = () => {
  const counts = { sockets: 0, timers: 0 }
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind === "TCPSocketWrap" || kind === "TCPServerWrap") counts.sockets++
    else if (kind === "Timeout") counts.timers++
  }
  return counts
}

const heapAfterGc = () => {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

const MiB = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`

const counts = (map: ReadonlyMap<string, number>) => Array.from(map).map(([key, n]) => `${key} ${n}`).join(", ")

type FaultKind = "latency" | "blackhole" | "hold" | "rst" | "fin" | "split"
const FAULTS: ReadonlyArray<FaultKind> = ["latency", "blackhole", "hold", "rst", "fin", "split"]

/** One random fault on one random open connection of one of the proxies; returns its kind. */
const injectOne = (proxies: ReadonlyArray<FaultProxy.FaultProxyShape>) =>
  Effect.gen(function*() {
    const proxy = proxies[yield* Random.nextIntBetween(0, proxies.length - 1)]!
    const open = proxy.connections()
    if (open.length === 0) return undefined
    const connection = open[yield* Random.nextIntBetween(0, open.length - 1)]!
    const kind = FAULTS[yield* Random.nextIntBetween(0, FAULTS.length - 1)]!
    const lasting = (millis: number, fault: Effect.Effect<void, FaultProxy.InvalidProxyOptions>) =>
      Effect.gen(function*() {
        yield* fault
        yield* Effect.sleep(millis)
        yield* connection.clear("both")
      }).pipe(Effect.orDie)
    const duration = yield* Random.nextIntBetween(50, 400)
    switch (kind) {
      case "latency":
        yield* lasting(duration, connection.set("both", { latency: yield* Random.nextIntBetween(1, 30) }))
        break
      case "blackhole": {
        yield* lasting(duration, connection.drop((yield* Random.nextBoolean) ? "downstream" : "both"))
        // Half the black holes end in a reset, as a peer that vanished is eventually noticed.
        if (yield* Random.nextBoolean) yield* connection.cut("rst")
        break
      }
      case "hold":
        yield* lasting(duration, connection.hold("both"))
        break
      case "rst":
      case "fin":
        yield* connection.cut(kind)
        break
      case "split": {
        const maxSegment = yield* Random.nextIntBetween(1, 64)
        yield* lasting(duration, connection.set("both", { split: { minSegment: 1, maxSegment } }))
        break
      }
    }
    return kind
  })

interface SoakRequest {
  readonly address: string
  readonly make: (n: number) => RemotingCommand.RemotingCommand
  /** Whether `response` is this request's own answer. */
  readonly answers: (n: number, response: RemotingCommand.RemotingCommand) => boolean
}

/**
 * Half the requests ask the broker for an unknown code, whose answer names that code (an answer
 * delivered to the wrong caller shows); 3 in 10 ask broker-a for an offset, 2 in 10 the name server
 * for a route.
 */
const soakRequests = (topic: string, broker: string, namesrv: string): (n: number) => SoakRequest => {
  const unknownCode = (n: number) => 9000 + (n % 1000)
  const unknown: SoakRequest = {
    address: broker,
    make: (n) => RemotingCommand.make({ code: unknownCode(n) }),
    answers: (n, r) => r.code === ResponseCode.REQUEST_CODE_NOT_SUPPORTED && r.remark === ` request type ${unknownCode(n)} not supported`
  }
  const offset: SoakRequest = {
    address: broker,
    make: () => RemotingCommand.make({ code: RequestCode.GET_MAX_OFFSET, extFields: { topic, queueId: "1" } }),
    answers: (_, r) => r.code === ResponseCode.SUCCESS && r.extFields.offset === "0"
  }
  const route: SoakRequest = {
    address: namesrv,
    make: () => RemotingCommand.make({ code: RequestCode.GET_ROUTEINFO_BY_TOPIC, extFields: { topic } }),
    answers: (_, r) => r.code === ResponseCode.SUCCESS && Buffer.from(r.body ?? new Uint8Array()).includes("queueDatas")
  }
  return (n) => (n % 10 < 5 ? unknown : n % 10 < 8 ? offset : route)
}

/** The workload: TOTAL requests from CONCURRENCY callers; how each ended. */
const runWorkload = (client: RemotingClient.RemotingClientShape, requestFor: (n: number) => SoakRequest) =>
  Effect.gen(function*() {
    const outcome = { answered: 0, interrupted: 0, failures: new Map<string, number>(), wrong: new Array<string>() }
    let issued = 0
    const caller = Effect.gen(function*() {
      while (issued < TOTAL) {
        const n = issued++
        const request = requestFor(n)
        const call = client.invoke(request.address, request.make(n), TIMEOUT_MILLIS)
        // 1 request in 50 is interrupted after 0-3 ms, wherever it is by then.
        const interrupt = (yield* Random.nextIntBetween(0, 49)) === 0
        const exit = yield* Effect.exit(
          interrupt ? Effect.timeoutOption(call, yield* Random.nextIntBetween(0, 3)) : Effect.map(call, Option.some)
        )
        if (Exit.isFailure(exit)) {
          const error = Cause.findErrorOption(exit.cause)
          const tag = error._tag === "Some" ? error.value._tag : `defect: ${Cause.pretty(exit.cause).slice(0, 300)}`
          outcome.failures.set(tag, (outcome.failures.get(tag) ?? 0) + 1)
        } else if (Option.isNone(exit.value)) outcome.interrupted++
        else if (request.answers(n, exit.value.value)) outcome.answered++
        else if (outcome.wrong.length < 10) outcome.wrong.push(`#${n}: ${RemotingCommand.describe(exit.value.value)}`)
      }
    })
    yield* Effect.forEach(Array.from({ length: CONCURRENCY }), () => caller, { concurrency: CONCURRENCY, discard: true })
    return outcome
  })

describe.skipIf(real === undefined)(`the soak${real === undefined ? ` (skipped: ${skipReason()})` : ""}`, () => {
  it.live(`${TOTAL.toLocaleString("en")} requests through fault proxies with random faults and interruptions leave nothing behind`, () =>
    Effect.gen(function*() {
      const baseline = { ...resources(), heap: heapAfterGc() }
      const topic = `Soak_${runId()}`
      yield* createTopic(real!.brokerAddr, topic).pipe(
        Effect.provide(RemotingClient.layer({ nameServerAddresses: real!.namesrvAddr, defaultTimeout: "10 seconds" }))
      )

      const scope = yield* Scope.make()
      const proxies = yield* Effect.all([
        FaultProxy.make({ target: real!.namesrvAddr }),
        FaultProxy.make({ target: real!.brokerAddr })
      ]).pipe(Scope.provide(scope))
      const channels: Array<Channel.ChannelShape> = []
      const clientScope = yield* Scope.fork(scope, "sequential")
      const client = yield* RemotingClient.make({
        channelFactory: (options) => Effect.tap(Channel.make(options), (channel) => Effect.sync(() => channels.push(channel)))
      }).pipe(Scope.provide(clientScope))
      const requestFor = soakRequests(topic, proxies[1].address, proxies[0].address)

      const faults = new Map<FaultKind, number>()
      const injector = Effect.forever(Effect.gen(function*() {
        yield* Effect.sleep(yield* Random.nextIntBetween(100, 400))
        const kind = yield* injectOne(proxies)
        if (kind !== undefined) faults.set(kind, (faults.get(kind) ?? 0) + 1)
      }))
      const started = Date.now()
      const cpuBefore = process.cpuUsage()
      const faulting = yield* Effect.forkChild(Random.withSeed(injector, SEED))
      const outcome = yield* Random.withSeed(runWorkload(client, requestFor), `${SEED}/callers`)
      const seconds = (Date.now() - started) / 1000
      const cpu = process.cpuUsage(cpuBefore)
      yield* Fiber.interrupt(faulting)

      // The faults stop; the client recovers on its own.
      for (const proxy of proxies) yield* proxy.clear("both")
      const probes = [0, 5, 8].map(requestFor)
      const recovered = yield* Effect.forEach(probes, (request, i) =>
        Effect.retry(client.invoke(request.address, request.make(i), 5000), { times: 40, schedule: Schedule.spaced("250 millis") }).pipe(
          Effect.map((response) => request.answers(i, response))
        ))
      expect(recovered).toEqual([true, true, true])

      const pending = channels.reduce((n, channel) => n + channel.diagnostics().pending, 0)
      const accepted = proxies.map((proxy) => proxy.diagnostics().accepted)
      yield* Scope.close(clientScope, Exit.void)
      yield* Scope.close(scope, Exit.void)
      const fibers = channels.flatMap((channel) => channel.diagnostics().fibers).filter((fiber) => fiber.pollUnsafe() === undefined)
        .length + proxies.reduce((n, proxy) => n + proxy.diagnostics().fibers, 0)
      // Destroyed sockets and cleared timers leave libuv's list on a later tick: wait (at most 10 s).
      yield* poll(10, Effect.sync(resources), (now) => now.sockets <= baseline.sockets && now.timers <= baseline.timers)
      const after = { ...resources(), heap: heapAfterGc() }

      const failed = Array.from(outcome.failures.values()).reduce((a, b) => a + b, 0)
      const injected = Array.from(faults.values()).reduce((a, b) => a + b, 0)
      console.info(
        `[soak] ${TOTAL.toLocaleString("en")} requests in ${seconds.toFixed(1)} s (${Math.round(TOTAL / seconds)}/s, ` +
          `${CONCURRENCY} in flight; this process used ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s of CPU): ` +
          `${outcome.answered} answered, ${failed} failed (${counts(outcome.failures)}), ${outcome.interrupted} interrupted; ` +
          `${injected} faults (${counts(faults)}); proxy connections: name server ${accepted[0]}, broker ${accepted[1]}. ` +
          `Leaks: pending ${pending}, fibers ${fibers}, sockets ${after.sockets - baseline.sockets}, ` +
          `timers ${after.timers - baseline.timers}; heap ${MiB(baseline.heap)} -> ${MiB(after.heap)} (bound +${MiB(HEAP_BOUND)})`
      )
      expect(outcome.wrong).toEqual([])
      expect(Array.from(outcome.failures.keys()).filter((tag) => tag.startsWith("defect"))).toEqual([])
      assert.strictEqual(outcome.answered + failed + outcome.interrupted, TOTAL)
      assert.isAbove(outcome.answered, TOTAL / 2, "most requests are answered")
      assert.isAbove(injected, 0)
      expect({ pending, fibers }).toEqual({ pending: 0, fibers: 0 })
      assert.isAtMost(after.sockets, baseline.sockets, "no socket is left")
      assert.isAtMost(after.timers, baseline.timers, "no timer is left")
      assert.isAtMost(after.heap - baseline.heap, HEAP_BOUND, "the heap is back within its bound")
    }), 30 * 60_000)
})
