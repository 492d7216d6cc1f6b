/**
 * Builds the Java driver (scripts/java/src) against the official Apache RocketMQ client from
 * Maven Central, once per machine and source version:
 *
 * 1. jars: `maven-dependency-plugin:copy-dependencies` on `pom.xml` into `lib/<version>/`
 *    (skipped when `lib/<version>/.complete` exists), as scripts/rocketmq does for the broker;
 * 2. classes: `javac --release 17` into `build/<hash>/`, where `<hash>` covers the Java sources,
 *    the pom and the client version (skipped when `build/<hash>/.complete` exists).
 *
 * Both steps write into a temporary directory and rename it into place, so concurrent builds
 * (two test processes, a benchmark) never see half a cache. Nothing built is committed.
 * `ROCKETMQ_JAVA_CLIENT_VERSION` (default 5.3.3) picks the client version, `JAVA_HOME` the JDK,
 * `ROCKETMQ_JAVA_MVN_ARGS` extra Maven arguments (e.g. `-o`).
 *
 * Run it alone to build and print the timings: `node scripts/java/JavaBuild.ts`.
 */
import { NodeServices } from "@effect/platform-node"
import { Effect, Schema, Stream } from "effect"
import { ChildProcess } from "effect/process"
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

/** The directory of this file: scripts/java. */
export const DIR = fileURLToPath(new URL(".", import.meta.url))

/** Why the driver could not be built or run. */
export const JavaDriverErrorReason = Schema.Literals([
  "JavaMissing",
  "BuildFailed",
  "SpawnFailed",
  "ExitedWithError",
  "BadOutput",
  "Timeout"
])

/**
 * The Java driver could not be built, started or understood, or it exited with an error code.
 * `detail` says what happened and what to do; `output` holds the end of the process's output.
 */
export class JavaDriverError extends Schema.TaggedError<JavaDriverError>()("JavaDriverError", {
  reason: JavaDriverErrorReason,
  detail: Schema.String,
  exitCode: Schema.optionalKey(Schema.Number),
  output: Schema.optionalKey(Schema.String)
}) {
  override get message(): string {
    const tail = this.output === undefined || this.output.trim() === "" ? "" : `\n--- output (end) ---\n${this.output.trim()}`
    return `Java driver: ${this.detail}${tail}`
  }
}

/** A built driver: how to start it. */
export interface Build {
  readonly java: string
  readonly classpath: string
  readonly clientVersion: string
  /** Whether both steps were already cached (nothing was fetched or compiled). */
  readonly cached: boolean
  readonly millis: number
}

const javaHome = process.env.JAVA_HOME
const tool = (name: string): string => (javaHome !== undefined && javaHome !== "" ? join(javaHome, "bin", name) : name)

const has = (command: string): boolean => {
  try {
    execFileSync(command, ["-version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

/** The client version the driver is built against. */
export const clientVersion = (): string => process.env.ROCKETMQ_JAVA_CLIENT_VERSION ?? "5.3.3"

const libDir = (): string => join(DIR, "lib", clientVersion())

/**
 * Why the driver cannot be built here (`java`, `javac` or — before the jars are cached — `mvn`
 * is missing), or undefined when it can. Synchronous, for `describe.skipIf`.
 */
export const missing = (): string | undefined => {
  if (!has(tool("java"))) return "java is not installed (JDK 17 is needed to run the Java driver)"
  if (!has(tool("javac"))) return "javac is not installed (a JDK, not only a JRE, is needed to build the Java driver)"
  if (!existsSync(join(libDir(), ".complete")) && !has("mvn")) return "mvn is not installed (needed once to fetch the RocketMQ client jars)"
  return undefined
}

const fail = (reason: typeof JavaDriverErrorReason.Type, detail: string, output?: string) =>
  new JavaDriverError(output === undefined ? { reason, detail } : { reason, detail, output: output.slice(-4000) })

/** Runs a build tool to completion: its exit code and combined output. */
const exec = (command: string, args: ReadonlyArray<string>) =>
  Effect.scoped(Effect.gen(function*() {
    const handle = yield* ChildProcess.make(command, args, { cwd: DIR, stdin: "ignore" })
    const [output, code] = yield* Effect.all([handle.all.pipe(Stream.decodeText(), Stream.mkString), handle.exitCode], {
      concurrency: 2
    })
    return { code: Number(code), output }
  })).pipe(
    Effect.mapError((error) => fail("BuildFailed", `could not run ${command}: ${error.message}`)),
    Effect.provide(NodeServices.layer)
  )

const sync = <A>(what: string, f: () => A) =>
  Effect.try({ try: f, catch: (error) => fail("BuildFailed", `${what}: ${error instanceof Error ? error.message : String(error)}`) })

/** Moves `tmp` to `target` unless another build got there first; either way `target` is complete after. */
const publish = (tmp: string, target: string) =>
  sync(`publishing ${target}`, () => {
    writeFileSync(join(tmp, ".complete"), "")
    try {
      renameSync(tmp, target)
    } catch (error) {
      if (!existsSync(join(target, ".complete"))) throw error
      rmSync(tmp, { recursive: true, force: true })
    }
  })

const fetchJars = Effect.gen(function*() {
  const lib = libDir()
  if (existsSync(join(lib, ".complete"))) return true
  const tmp = `${lib}.tmp.${process.pid}`
  yield* sync("preparing the jar directory", () => {
    rmSync(tmp, { recursive: true, force: true })
    rmSync(lib, { recursive: true, force: true })
    mkdirSync(join(DIR, "lib"), { recursive: true })
  })
  const extra = (process.env.ROCKETMQ_JAVA_MVN_ARGS ?? "").split(/\s+/).filter((a) => a !== "")
  const mvn = yield* exec("mvn", [
    "-B", "-q", "-f", join(DIR, "pom.xml"), `-Drocketmq.version=${clientVersion()}`,
    "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies",
    `-DoutputDirectory=${tmp}`, "-DincludeScope=runtime", "-Dstyle.color=never", ...extra
  ])
  if (mvn.code !== 0 || !existsSync(join(tmp, `rocketmq-client-${clientVersion()}.jar`))) {
    yield* sync("cleaning up", () => rmSync(tmp, { recursive: true, force: true }))
    return yield* fail(
      "BuildFailed",
      `Maven could not fetch org.apache.rocketmq:rocketmq-client:${clientVersion()} and rocketmq-tools (exit ${mvn.code}). ` +
        "Check that Maven Central is reachable, or set ROCKETMQ_JAVA_CLIENT_VERSION to a version it serves.",
      mvn.output
    )
  }
  yield* publish(tmp, lib)
  return false
})

const sources = (): ReadonlyArray<string> => {
  const dir = join(DIR, "src", "driver")
  return readdirSync(dir).filter((f) => f.endsWith(".java")).sort().map((f) => join(dir, f))
}

/** A hash of everything the classes depend on: sources, pom, client version. */
const sourceHash = (files: ReadonlyArray<string>): string => {
  const hash = createHash("sha256").update(clientVersion()).update(readFileSync(join(DIR, "pom.xml")))
  for (const file of files) hash.update(file.slice(DIR.length)).update(readFileSync(file))
  return hash.digest("hex").slice(0, 16)
}

const compile = Effect.gen(function*() {
  const files = yield* sync("reading the driver sources", sources)
  const target = join(DIR, "build", yield* sync("hashing the driver sources", () => sourceHash(files)))
  if (existsSync(join(target, ".complete"))) return { dir: target, cached: true }
  const tmp = `${target}.tmp.${process.pid}`
  yield* sync("preparing the build directory", () => {
    rmSync(tmp, { recursive: true, force: true })
    mkdirSync(tmp, { recursive: true })
  })
  const javac = yield* exec(tool("javac"), [
    "-encoding", "UTF-8", "--release", "17", "-nowarn", "-Xlint:none",
    "-d", tmp, "-cp", join(libDir(), "*"), ...files
  ])
  if (javac.code !== 0) {
    yield* sync("cleaning up", () => rmSync(tmp, { recursive: true, force: true }))
    return yield* fail("BuildFailed", `javac failed (exit ${javac.code}) on scripts/java/src`, javac.output)
  }
  yield* publish(tmp, target)
  return { dir: target, cached: false }
})

const buildOnce: Effect.Effect<Build, JavaDriverError> = Effect.gen(function*() {
  const why = missing()
  if (why !== undefined) return yield* fail("JavaMissing", `${why}. Install JDK 17 and Maven.`)
  const started = Date.now()
  const jarsCached = yield* fetchJars
  const classes = yield* compile
  return {
    java: tool("java"),
    classpath: `${classes.dir}:${join(libDir(), "*")}`,
    clientVersion: clientVersion(),
    cached: jarsCached && classes.cached,
    millis: Date.now() - started
  }
})

/**
 * Builds the driver (or finds it built) once per process; later calls return the same result.
 */
export const build: Effect.Effect<Build, JavaDriverError> = Effect.runSync(Effect.cached(buildOnce))

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  Effect.runPromise(build).then(
    (b) => console.log(`Java driver ready in ${b.millis} ms (${b.cached ? "cached" : "built"}; client ${b.clientVersion})`),
    (error) => {
      console.error(String(error))
      process.exitCode = 1
    }
  )
}
