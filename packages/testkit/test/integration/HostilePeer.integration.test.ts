/**
 * Hostile peers: a FaultProxy between our RemotingClient and the real broker-a makes every 100th
 * answer on each of its connections hostile (see HostileFrame: garbage, an oversized length, a
 * bogus opaque, `__proto__`-laden JSON), mid-stream, while the same client also talks to broker-a
 * and the name server directly, 32 requests in flight. Every request resolves: with its own answer
 * (each answer names its request) or a typed error. A frame that cannot be decoded closes the
 * channel it came on with ChannelClosed(FrameDecodeError) for every request pending there, and the
 * client reconnects; a bogus opaque is dropped and only its caller times out. The direct channels
 * to broker-a and the name server never notice, nothing is left pending, and Object.prototype is
 * untouched.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Channel, RemotingClient, RemotingCommand, RequestCode, ResponseCode } from "@effect-rocketmq/remoting"
import { FaultProxy, HostileFrame } from "@effect-rocketmq/testkit"
import { Cause, Effect, Exit, Scope } from "effect"
import { cluster, skipReason } from "./support.ts"

const real = cluster()

const REQUESTS = 3_000
const CONCURRENCY = 32
/** The hostile answer on each proxied connection: the 100th, 200th, … */
const EVERY = 100
const TIMEOUT_MILLIS = 5_000

type Target = "proxied" | "direct" | "namesrv"

interface Tally {
  answered: number
  readonly wrong: Array<string>
  readonly failures: Map<string, number>
}

/** A failure as `Tag` or, for a closed channel, `ChannelClosed(FrameDecodeError:Reason)`. */
const describeFailure = (cause: Cause.Cause<RemotingClient.RemotingClientError>): string => {
  const found = Cause.findErrorOption(cause)
  if (found._tag === "None") return `defect: ${Cause.pretty(cause).slice(0, 300)}`
  const error = found.value
  if (error._tag !== "ChannelClosed") return error._tag
  return `ChannelClosed(${error.cause._tag}${error.cause._tag === "FrameDecodeError" ? `:${error.cause.reason}` : ""})`
}

const counts = (map: ReadonlyMap<string, number>) => map.size === 0 ? "none" : Array.from(map).map(([key, n]) => `${key} ${n}`).join(", ")

/** Why a hostile frame of each kind closes its channel (a bogus opaque does not). */
const closeReason: Record<HostileFrame.Kind, string | undefined> = {
  garbage: "FrameDecodeError:MalformedJsonHeader",
  oversized: "FrameDecodeError:FrameTooLarge",
  protoJson: "FrameDecodeError:MalformedJsonHeader",
  bogusOpaque: undefined
}

/** The failures each kind may cause on the proxied connection (after a close: reconnecting). */
const expectedVictimFailures = (kind: HostileFrame.Kind): ReadonlyArray<string> =>
  closeReason[kind] === undefined ? ["RequestTimeout"] : [`ChannelClosed(${closeReason[kind]})`, "ConnectBackoff"]

describe.skipIf(real === undefined)(
  `hostile answers mid-stream from a real broker${real === undefined ? ` (skipped: ${skipReason()})` : ""}`,
  () => {
    for (const kind of HostileFrame.kinds) {
      it.live(`${kind}: every request resolves, only the proxied channel is affected, nothing is left pending`, () =>
        Effect.gen(function*() {
          let hostile = 0
          const proxy = yield* FaultProxy.make({
            target: real!.brokerAddr,
            downstream: {
              rewrite: HostileFrame.rewrite(kind, (_, context) => {
                const chosen = context.index % EVERY === EVERY - 1
                if (chosen) hostile++
                return chosen
              })
            }
          })
          const channels: Array<{ readonly address: string; readonly channel: Channel.ChannelShape }> = []
          const scope = yield* Scope.make()
          const client = yield* RemotingClient.make({
            nameServerAddresses: real!.namesrvAddr,
            channelFactory: (options) =>
              Effect.tap(Channel.make(options), (channel) => Effect.sync(() => channels.push({ address: `${options.host}:${options.port}`, channel })))
          }).pipe(Scope.provide(scope))

          const targets: Record<Target, { readonly address: string; readonly tally: Tally }> = {
            proxied: { address: proxy.address, tally: { answered: 0, wrong: [], failures: new Map() } },
            direct: { address: real!.brokerAddr, tally: { answered: 0, wrong: [], failures: new Map() } },
            namesrv: { address: real!.namesrvAddr, tally: { answered: 0, wrong: [], failures: new Map() } }
          }
          const call = (n: number) =>
            Effect.gen(function*() {
              const target: Target = n % 3 === 0 ? "proxied" : n % 3 === 1 ? "direct" : "namesrv"
              const unknownCode = 9000 + (n % 1000)
              const request = target === "namesrv"
                ? RemotingCommand.make({ code: RequestCode.GET_BROKER_CLUSTER_INFO })
                : RemotingCommand.make({ code: unknownCode })
              const { address, tally } = targets[target]
              const exit = yield* Effect.exit(client.invoke(address, request, TIMEOUT_MILLIS))
              if (Exit.isFailure(exit)) {
                const key = describeFailure(exit.cause)
                tally.failures.set(key, (tally.failures.get(key) ?? 0) + 1)
                return
              }
              const response = exit.value
              const own = target === "namesrv"
                ? response.code === ResponseCode.SUCCESS && Buffer.from(response.body ?? new Uint8Array()).includes("brokerAddrTable")
                : response.code === ResponseCode.REQUEST_CODE_NOT_SUPPORTED && response.remark === ` request type ${unknownCode} not supported`
              if (own) tally.answered++
              else if (tally.wrong.length < 10) tally.wrong.push(`#${n} (${target}): ${RemotingCommand.describe(response)}`)
            })
          const started = Date.now()
          let issued = 0
          const caller = Effect.gen(function*() {
            while (issued < REQUESTS) yield* call(issued++)
          })
          yield* Effect.forEach(Array.from({ length: CONCURRENCY }), () => caller, { concurrency: CONCURRENCY, discard: true })
          const seconds = (Date.now() - started) / 1000

          const pending = channels.reduce((n, { channel }) => n + channel.diagnostics().pending, 0)
          const toVictim = channels.filter((c) => c.address === proxy.address)
          const unmatched = toVictim.reduce((n, { channel }) => n + channel.diagnostics().unmatchedResponses, 0)
          const bystanders = channels.filter((c) => c.address !== proxy.address)
          const bystandersHealthy = yield* Effect.forEach(bystanders, ({ channel }) => channel.isHealthy)
          // Why each proxied channel that closed did so (before the client's scope closes them all).
          const victimCloses = new Map<string, number>()
          for (const { channel } of toVictim.filter((c) => !c.channel.isHealthyUnsafe())) {
            const reason = yield* channel.closed
            const key = reason._tag === "FrameDecodeError" ? `FrameDecodeError:${reason.reason}` : reason._tag
            victimCloses.set(key, (victimCloses.get(key) ?? 0) + 1)
          }
          const resolved = Object.values(targets).reduce(
            (n, { tally }) => n + tally.answered + tally.wrong.length + Array.from(tally.failures.values()).reduce((a, b) => a + b, 0),
            0
          )
          console.info(
            `[hostile ${kind}] ${REQUESTS} requests in ${seconds.toFixed(1)} s (${CONCURRENCY} in flight), ${resolved} resolved; ` +
              `${hostile} hostile answers from broker-a through the proxy (${proxy.diagnostics().accepted} connections, ` +
              `${toVictim.length} channels, closed: ${counts(victimCloses)}; ${unmatched} unmatched answers); ` +
              (Object.keys(targets) as Array<Target>).map((target) => {
                const { tally } = targets[target]
                return `${target}: ${tally.answered} answered, ${tally.wrong.length} wrong, failed ${counts(tally.failures)}`
              }).join("; ") +
              `; pending afterwards ${pending}`
          )
          yield* Scope.close(scope, Exit.void)

          assert.strictEqual(resolved, REQUESTS, "every request resolves")
          for (const { tally } of Object.values(targets)) expect(tally.wrong).toEqual([])
          for (const target of ["direct", "namesrv"] as const) {
            assert.strictEqual(targets[target].tally.failures.size, 0, `${target} is not affected: ${counts(targets[target].tally.failures)}`)
          }
          expect(bystandersHealthy.every((healthy) => healthy)).toBe(true)
          assert.strictEqual(bystanders.length, 2, "one channel each to broker-a (direct) and the name server, never replaced")
          assert.isAbove(hostile, 0)
          const victim = targets.proxied.tally
          expect(Array.from(victim.failures.keys()).filter((key) => !expectedVictimFailures(kind).includes(key))).toEqual([])
          assert.isAbove(victim.answered, REQUESTS / 3 / 2, "the proxied broker keeps answering between the hostile frames")
          const expectedClose = closeReason[kind]
          if (expectedClose === undefined) {
            assert.strictEqual(toVictim.length, 1, "a bogus opaque does not close the channel")
            assert.strictEqual(victim.failures.get("RequestTimeout"), hostile, "exactly the callers of the dropped answers time out")
            assert.strictEqual(unmatched, hostile)
          } else {
            expect(Object.fromEntries(victimCloses)).toEqual({ [expectedClose]: hostile })
            assert.isAtLeast(victim.failures.get(`ChannelClosed(${expectedClose})`) ?? 0, hostile, "each close fails the request it answered")
            assert.isAtLeast(toVictim.length, hostile, "a new channel after each close")
          }
          assert.strictEqual(pending, 0, "nothing is left pending")
          expect(({} as Record<string, unknown>).polluted).toBeUndefined()
          expect(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted")).toBe(false)
        }).pipe(Effect.scoped), 120_000)
    }
  }
)
