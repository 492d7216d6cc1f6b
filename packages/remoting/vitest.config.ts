import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "remoting",
    include: ["test/**/*.test.ts"]
  }
})
