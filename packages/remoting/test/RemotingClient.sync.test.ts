import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as RemotingClient from "../src/RemotingClient.ts"
import * as RemotingCommand from "../src/RemotingCommand.ts"
import { ConnectError } from "../src/RemotingError.ts"

describe("RemotingClient connect attempts", () => {
  it.effect("a channel factory that fails before yielding gives its ConnectError, not a backoff, to the caller that started it", () =>
    Effect.gen(function*() {
      const client = yield* RemotingClient.make({
        channelFactory: (o) => Effect.fail(new ConnectError({ address: `${o.host}:${o.port}`, reason: "Refused", detail: "ECONNREFUSED" }))
      })
      const first = yield* Effect.flip(client.invoke("127.0.0.1:1", RemotingCommand.make({ code: 1 }), 1000))
      expect(first._tag).toBe("ConnectError")
      // The next call, inside the backoff window, is told so.
      const second = yield* Effect.flip(client.invoke("127.0.0.1:1", RemotingCommand.make({ code: 1 }), 1000))
      expect(second._tag).toBe("ConnectBackoff")
    }))
})
