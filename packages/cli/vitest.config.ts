import { defineProject } from "vitest/config"

// As the other packages: workspace packages resolve to their sources ("source" condition). The
// tests here spawn real `rmq` processes, each a Node start-up of a second or more on a busy
// machine, so they get more time than unit tests.
export default defineProject({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    name: "cli",
    include: ["test/**/*.test.ts"],
    exclude: ["test/**/*.integration.test.ts"],
    testTimeout: 300_000
  }
})
