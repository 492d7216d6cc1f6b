import { defineProject } from "vitest/config"

export default defineProject({
  resolve: { conditions: ["source"] },
  // Tests run in Vite's SSR environment, which has its own resolve conditions.
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    name: "client",
    include: ["test/**/*.test.ts"],
    exclude: ["test/**/*.integration.test.ts"]
  }
})
