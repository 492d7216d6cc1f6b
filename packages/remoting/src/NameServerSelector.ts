/**
 * Which name server a call goes to, and where it goes next when that one cannot be reached.
 *
 * - **Sticky**: calls start at the chosen address (at first a random one, as Java, or the first).
 *   An address that answered stays chosen.
 * - **Round-robin failover**: a call tries each address once, in list order from the chosen one.
 *   A connect failure moves the choice to the next address (unless another call already moved
 *   it); an address that answered GO_AWAY gives the call one more turn, on the next address.
 * - **A share of the budget per address**: with several addresses left to try, a call waits for
 *   one address's connect at most `remaining / turns left`, so a dead first name server (one whose
 *   connect hangs) cannot use up the budget of a call that could fail over.
 *
 * This module decides order and budgets only; it does not connect or send, and it does not decide
 * which failures fail over (the client does: connect errors, never a request already sent).
 *
 * @since 0.1.0
 */
import { Effect, Random, Result } from "effect"
import * as Address from "./Address.ts"
import type { Endpoint } from "./ChannelPool.ts"
import type { InvalidAddress } from "./RemotingError.ts"

/**
 * One try of a call: the address, and how long the call may wait for its connect.
 *
 * @since 0.1.0
 * @category models
 */
export interface Turn {
  readonly endpoint: Endpoint
  /** Position of the address in the list the call started with. */
  readonly index: number
  /** The longest this turn may wait for a connect (ms; Infinity on the last turn). */
  readonly waitCap: number
}

/**
 * One call's walk over the name servers.
 *
 * @since 0.1.0
 * @category models
 */
export interface Walk {
  /** The next turn at time `now`, or undefined when every turn was used or the deadline passed. */
  readonly next: (now: number) => Turn | undefined
  /** The turn's address could not be connected to: move on. */
  readonly failed: (turn: Turn) => void
  /** The turn's address answered: stick to it. */
  readonly answered: (turn: Turn) => void
  /** The turn's address answered GO_AWAY: one more turn, on the next address. */
  readonly goAway: (turn: Turn) => void
}

/**
 * @since 0.1.0
 * @category models
 */
export interface NameServerSelectorShape {
  /** The name servers, canonical `host:port`. */
  readonly addresses: () => ReadonlyArray<string>
  /** The address calls start at; undefined when there is none. */
  readonly chosen: () => string | undefined
  /** Replaces the list, keeping the chosen address when it is still in it (else the first). */
  readonly set: (addresses: string | ReadonlyArray<string>) => Result.Result<void, InvalidAddress>
  /** Starts a call that must end by `deadline`; undefined when no name server is configured. */
  readonly walk: (deadline: number) => Walk | undefined
}

const endpointOf = (address: Address.Address): Endpoint => ({ key: Address.format(address), address })

/**
 * A selector over `addresses` (`;`- or `,`-separated, or a list). `start` is where calls begin: a
 * random address (Effect's `Random`, the default) or the first. Fails when an address does not
 * parse.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  addresses: string | ReadonlyArray<string>,
  start?: "random" | "first" | undefined
): Effect.Effect<NameServerSelectorShape, InvalidAddress> =>
  Effect.gen(function*() {
    let list: ReadonlyArray<Endpoint> = (yield* Effect.fromResult(Address.parseList(addresses))).map(endpointOf)
    let chosen = start === "first" || list.length === 0 ? 0 : yield* Random.nextIntBetween(0, list.length - 1)

    const set = (input: string | ReadonlyArray<string>) =>
      Result.map(Address.parseList(input), (parsed) => {
        const next = parsed.map(endpointOf)
        if (next.map((e) => e.key).join(";") === list.map((e) => e.key).join(";")) return
        const kept = list.length > 0 ? next.findIndex((e) => e.key === list[chosen % list.length]!.key) : -1
        list = next
        chosen = kept === -1 ? 0 : kept
      })

    const walk = (deadline: number): Walk | undefined => {
      const snapshot = list
      const n = snapshot.length
      if (n === 0) return undefined
      const first = chosen % n
      let turn = 0
      let turns = n
      return {
        next: (now) => {
          const remaining = deadline - now
          if (turn >= turns || !(remaining > 0)) return undefined
          const index = (first + turn) % n
          const left = turns - turn
          turn++
          return { endpoint: snapshot[index]!, index, waitCap: left > 1 ? remaining / left : Infinity }
        },
        failed: (t) => {
          if (chosen % n === t.index) chosen = (t.index + 1) % n
        },
        answered: (t) => {
          chosen = t.index
        },
        goAway: (t) => {
          chosen = (t.index + 1) % n
          turns = Math.max(turns, turn + 1)
        }
      }
    }

    return {
      addresses: () => list.map((e) => e.key),
      chosen: () => (list.length > 0 ? list[chosen % list.length]!.key : undefined),
      set,
      walk
    }
  })
