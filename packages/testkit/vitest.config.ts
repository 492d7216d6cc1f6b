import { defineProject } from "vitest/config"

// Workspace packages resolve through their "source" export condition (src/*.ts), so tests run
// against the sources, never a stale dist/. Vitest runs tests in Vite's SSR environment, which
// reads `ssr.resolve.conditions`; the top-level `resolve.conditions` alone is not applied there.
export default defineProject({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    name: "testkit",
    include: ["test/**/*.test.ts"],
    exclude: ["test/**/*.integration.test.ts"]
  }
})
