/**
 * The names RocketMQ accepts for topics and consumer groups (Java's `Validators.checkTopic` /
 * `checkGroup`): ASCII letters, digits, `_`, `-`, `%` and `|`; at most 127 characters for a
 * topic, 255 for a group. A name that breaks them is a usage error: it would fail on every broker.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { UsageError } from "./Output.ts"

const VALID = /^[%|a-zA-Z0-9_-]+$/

const check = (kind: "topic" | "consumer group", name: string, max: number): Effect.Effect<string, UsageError> => {
  if (name.length === 0) return Effect.fail(new UsageError({ detail: `the ${kind} name is empty` }))
  if (name.length > max) {
    return Effect.fail(new UsageError({ detail: `the ${kind} name is ${name.length} characters long; RocketMQ allows ${max}` }))
  }
  if (!VALID.test(name)) {
    return Effect.fail(
      new UsageError({
        detail: `${JSON.stringify(name)} is not a valid ${kind} name: use only letters, digits, '_', '-', '%' and '|'`
      })
    )
  }
  return Effect.succeed(name)
}

/**
 * `name`, if RocketMQ accepts it as a topic.
 *
 * @since 0.1.0
 * @category validation
 */
export const topic = (name: string): Effect.Effect<string, UsageError> => check("topic", name, 127)

/**
 * `name`, if RocketMQ accepts it as a consumer group.
 *
 * @since 0.1.0
 * @category validation
 */
export const group = (name: string): Effect.Effect<string, UsageError> => check("consumer group", name, 255)
