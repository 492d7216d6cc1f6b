import { defineConfig } from "vitest/config"

// The test projects: one per package. Vitest 5 does not read this file by itself; the root
// vitest.config.ts re-exports it so `npm test` and plain `npx vitest` both use it.
//
// Packages import each other by name. Their `exports` carry a "source" condition pointing at
// src/*.ts, so tests run against the sources without a build; `tsc -b` and Node use dist.
export default defineConfig({
  resolve: { conditions: ["source"] },
  test: {
    projects: ["packages/*"],
    passWithNoTests: true
  }
})
