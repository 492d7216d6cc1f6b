import { defineProject } from "vitest/config"

export default defineProject({
  resolve: { conditions: ["source"] },
  test: {
    name: "client",
    include: ["test/**/*.test.ts"],
    exclude: ["test/**/*.integration.test.ts"]
  }
})
