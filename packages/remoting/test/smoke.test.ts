import { expect, it } from "@effect/vitest"

it("runs on the Node 24 the workspace pins, not the system Node", () => {
  expect(process.version).toMatch(/^v24\./)
})
