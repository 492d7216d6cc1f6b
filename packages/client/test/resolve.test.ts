import { expect, it } from "@effect/vitest"
import { RemotingCommand } from "@effect-rocketmq/remoting"

it("resolves the remoting package from source in tests", () => {
  expect(RemotingCommand.make({ code: 1 }).version).toBe(479)
})
