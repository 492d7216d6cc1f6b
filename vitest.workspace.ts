import { defineConfig } from "vitest/config"

// The test projects: one per package. Vitest 5 does not read this file by itself; the root
// vitest.config.ts re-exports it so `npm test` and plain `npx vitest` both use it.
export default defineConfig({
  test: {
    projects: ["packages/*"]
  }
})
