/**
 * What a consumer group subscribes to, as the Java push consumer builds it: one TAG subscription
 * per topic (tags split on `||`, each with its Java hash code, which the broker filters by), plus
 * `%RETRY%<group>` with `*` in clustering mode (retries come back to the group through it).
 *
 * The broker filters by the 32-bit tag hash only, so two tags with the same hash both pass;
 * {@link Subscription.accepts} is the exact re-check the client makes on every pulled message
 * (messages without a tag do not match a tag list). {@link originalTopic} undoes the retry topic:
 * a message pulled from `%RETRY%<group>` is handed to the user under the topic it was first sent to.
 *
 * Pure; no I/O.
 *
 * @internal
 */
import * as Heartbeat from "../../Heartbeat.ts"
import * as Message from "../../Message.ts"
import type * as Properties from "../../Properties.ts"

/** @internal */
export const RETRY_PREFIX = "%RETRY%"

/** @internal */
export const DLQ_PREFIX = "%DLQ%"

/** @internal: the topic failed messages of `group` are retried through. */
export const retryTopic = (group: string): string => `${RETRY_PREFIX}${group}`

/** @internal: where messages of `group` go after the last retry. */
export const dlqTopic = (group: string): string => `${DLQ_PREFIX}${group}`

/** @internal */
export const isRetryTopic = (topic: string): boolean => topic.startsWith(RETRY_PREFIX)

/** @internal: one topic's subscription, with its tag set ready for the exact check. */
export class Subscription {
  readonly data: Heartbeat.SubscriptionData
  private readonly tags: ReadonlySet<string>

  constructor(data: Heartbeat.SubscriptionData) {
    this.data = data
    this.tags = new Set(data.tagsSet)
  }

  get topic(): string {
    return this.data.topic
  }

  get expression(): string {
    return this.data.subString
  }

  /** Whether every message passes (`*`): no client-side check needed. */
  get all(): boolean {
    return this.tags.size === 0
  }

  /** The client's exact tag check (the broker's hash filter lets colliding tags through). */
  accepts(message: { readonly properties: Properties.Properties }): boolean {
    if (this.tags.size === 0) return true
    const tag = Message.tagsOf(message)
    return tag !== undefined && this.tags.has(tag)
  }
}

/**
 * The subscriptions of a group: one per entry of `topics` (topic → tag expression), plus the
 * retry topic with `*` when `clustering`. `subVersion` is the creation time, as Java's.
 *
 * @internal
 */
export const build = (
  group: string,
  topics: ReadonlyArray<readonly [topic: string, expression: string]>,
  clustering: boolean,
  subVersion: number
): ReadonlyArray<Subscription> => {
  const out = topics.map(([topic, expression]) => new Subscription(Heartbeat.subscription(topic, expression, subVersion)))
  if (clustering && !topics.some(([topic]) => topic === retryTopic(group))) {
    out.push(new Subscription(Heartbeat.subscription(retryTopic(group), Heartbeat.SUB_ALL, subVersion)))
  }
  return out
}

/**
 * The topic the user sees: a message pulled from a `%RETRY%` topic carries its original topic in
 * the `RETRY_TOPIC` property (Java's `resetRetryAndNamespace`); any other message keeps its own.
 *
 * @internal
 */
export const originalTopic = (
  group: string,
  message: { readonly topic: string; readonly properties: Properties.Properties }
): string => {
  if (message.topic !== retryTopic(group)) return message.topic
  return message.properties[Message.PropertyKey.RETRY_TOPIC] ?? message.topic
}
