import { defineProject } from "vitest/config"

export default defineProject({
  resolve: { conditions: ["source"] },
  test: {
    name: "remoting",
    include: ["test/**/*.test.ts"],
    exclude: ["test/**/*.integration.test.ts"]
  }
})
