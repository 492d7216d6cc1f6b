#!/usr/bin/env -S node --conditions=source
/**
 * The `rmq` executable. Node 24 runs this TypeScript directly (type stripping), and the `source`
 * condition makes the workspace packages resolve to their sources, so it works from a fresh clone
 * after `npm ci`, with no build step: `npx rmq --help`.
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { Cli } from "../src/index.ts"

NodeRuntime.runMain(
  Cli.main(process.argv.slice(2)).pipe(
    Effect.flatMap((code) => Effect.sync(() => void (process.exitCode = code))),
    Effect.provide(NodeServices.layer)
  ),
  { disableErrorReporting: true }
)
