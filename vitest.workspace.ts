import { defineConfig } from "vitest/config"

// The test projects: one per package, plus "integration" (the *.integration.test.ts files, which
// talk to a real Apache RocketMQ that scripts/rocketmq/vitest-setup.ts provides or skips with a
// reason). Vitest 5 does not read this file by itself; the root vitest.config.ts re-exports it so
// `npm test` and plain `npx vitest` both use it.
//
// Packages import each other by name. Their `exports` carry a "source" condition pointing at
// src/*.ts, so tests run against the sources without a build; `tsc -b` and Node use dist.
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    passWithNoTests: true,
    projects: [
      "packages/*",
      {
        resolve: { conditions: ["source"] },
        ssr: { resolve: { conditions: ["source"] } },
        test: {
          name: "integration",
          include: ["packages/*/test/**/*.integration.test.ts"],
          globalSetup: ["scripts/rocketmq/vitest-setup.ts"],
          // One broker is shared, and one suite kills and restarts it: run the files one at a time.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000
        }
      }
    ]
  }
})
