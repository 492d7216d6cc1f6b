/**
 * One broker's view of its clients, as Java's `ProducerManager` and `ConsumerManager` keep it:
 * producer groups and consumer groups, each a table of connections (channels) with the client id a
 * heartbeat named, and for consumer groups the last subscriptions and consume settings.
 *
 * A heartbeat registers or refreshes a channel; UNREGISTER_CLIENT, a closed connection or 120 s
 * without a heartbeat (`expire`) remove it. A consumer group with no channel left is forgotten.
 * Functions that change a consumer group's membership or subscriptions return the groups whose
 * members must be told (NOTIFY_CONSUMER_IDS_CHANGED) — sending is the broker's job — following
 * Java: a new channel or changed subscriptions, an unregistration (always, even of an unknown
 * channel) and a closed connection notify the remaining members of clustering groups; an expired
 * channel is removed without notice (Java then closes the connection, whose close event notifies
 * the groups it still belonged to).
 */
import type { Heartbeat } from "@effect-rocketmq/client"
import type { ClientChannel } from "../../InMemoryRocketMQ.ts"

/** A registered connection of a group. */
export interface Member {
  readonly channel: ClientChannel
  clientId: string
  readonly language: string
  readonly version: number
  lastUpdate: number
}

export interface ConsumerGroup {
  readonly name: string
  /** By channel id, in registration order. */
  readonly members: Map<number, Member>
  consumeType: Heartbeat.ConsumerData["consumeType"]
  messageModel: Heartbeat.ConsumerData["messageModel"]
  consumeFromWhere: Heartbeat.ConsumerData["consumeFromWhere"]
  /** By topic. */
  readonly subscriptions: Map<string, Heartbeat.SubscriptionData>
}

/** A consumer group whose members must be told their group changed, and the channels to tell. */
export interface Notice {
  readonly group: string
  readonly channels: ReadonlyArray<ClientChannel>
}

export interface Clients {
  readonly registerProducer: (group: string, member: Member) => void
  readonly unregisterProducer: (group: string, channelId: number) => void
  /** The producer group's channels, in registration order. */
  readonly producers: (group: string) => ReadonlyArray<Member>
  readonly producerGroups: () => ReadonlyArray<string>
  readonly registerConsumer: (
    data: Heartbeat.ConsumerData,
    member: Member,
    notifyEnabled: boolean
  ) => ReadonlyArray<Notice>
  readonly unregisterConsumer: (group: string, channelId: number, notifyEnabled: boolean) => ReadonlyArray<Notice>
  readonly consumer: (group: string) => ConsumerGroup | undefined
  readonly consumerGroups: () => ReadonlyArray<ConsumerGroup>
  /** Removes the channel from every group (its connection closed). */
  readonly channelClosed: (channelId: number, notifyEnabled: (group: string) => boolean) => ReadonlyArray<Notice>
  /** Removes channels whose last heartbeat is older than `timeoutMillis`; returns them. */
  readonly expire: (now: number, timeoutMillis: number) => ReadonlyArray<ClientChannel>
  /** Forgets every group (the broker stopped: its connections are gone). */
  readonly clear: () => void
}

const channelsOf = (group: ConsumerGroup) => [...group.members.values()].map((member) => member.channel)

/** Java's `updateSubscription`: adds new topics, takes newer versions, drops topics no longer sent. */
const updateSubscriptions = (group: ConsumerGroup, list: ReadonlyArray<Heartbeat.SubscriptionData>): boolean => {
  let changed = false
  const topics = new Set<string>()
  for (const subscription of list) {
    const old = group.subscriptions.get(subscription.topic)
    if (old === undefined) {
      group.subscriptions.set(subscription.topic, subscription)
      changed = true
    } else if (subscription.subVersion > old.subVersion) {
      group.subscriptions.set(subscription.topic, subscription)
    }
    topics.add(subscription.topic)
  }
  for (const topic of [...group.subscriptions.keys()]) {
    if (!topics.has(topic)) {
      group.subscriptions.delete(topic)
      changed = true
    }
  }
  return changed
}

export const make = (): Clients => {
  const producers = new Map<string, Map<number, Member>>()
  const consumers = new Map<string, ConsumerGroup>()

  const notice = (group: ConsumerGroup, notifyEnabled: boolean): ReadonlyArray<Notice> =>
    notifyEnabled && group.messageModel !== "BROADCASTING" ? [{ group: group.name, channels: channelsOf(group) }] : []

  const removeMember = (group: ConsumerGroup, channelId: number): boolean => {
    const removed = group.members.delete(channelId)
    if (group.members.size === 0) consumers.delete(group.name)
    return removed
  }

  return {
    registerProducer: (group, member) => {
      const table = producers.get(group) ?? new Map<number, Member>()
      const existing = table.get(member.channel.id)
      if (existing === undefined) table.set(member.channel.id, member)
      else {
        existing.clientId = member.clientId
        existing.lastUpdate = member.lastUpdate
      }
      producers.set(group, table)
    },
    unregisterProducer: (group, channelId) => {
      const table = producers.get(group)
      table?.delete(channelId)
      if (table?.size === 0) producers.delete(group)
    },
    producers: (group) => [...(producers.get(group)?.values() ?? [])],
    producerGroups: () => [...producers.keys()],
    registerConsumer: (data, member, notifyEnabled) => {
      let group = consumers.get(data.groupName)
      if (group === undefined) {
        group = {
          name: data.groupName,
          members: new Map(),
          consumeType: data.consumeType,
          messageModel: data.messageModel,
          consumeFromWhere: data.consumeFromWhere,
          subscriptions: new Map()
        }
        consumers.set(data.groupName, group)
      }
      group.consumeType = data.consumeType
      group.messageModel = data.messageModel
      group.consumeFromWhere = data.consumeFromWhere
      const existing = group.members.get(member.channel.id)
      let added = false
      if (existing === undefined) {
        group.members.set(member.channel.id, member)
        added = true
      } else {
        existing.clientId = member.clientId
        existing.lastUpdate = member.lastUpdate
      }
      const changed = updateSubscriptions(group, data.subscriptionDataSet)
      return added || changed ? notice(group, notifyEnabled) : []
    },
    unregisterConsumer: (group, channelId, notifyEnabled) => {
      const info = consumers.get(group)
      if (info === undefined) return []
      removeMember(info, channelId)
      return notice(info, notifyEnabled)
    },
    consumer: (group) => consumers.get(group),
    consumerGroups: () => [...consumers.values()],
    channelClosed: (channelId, notifyEnabled) => {
      for (const [group, table] of producers) {
        table.delete(channelId)
        if (table.size === 0) producers.delete(group)
      }
      const notices: Array<Notice> = []
      for (const group of [...consumers.values()]) {
        if (removeMember(group, channelId)) notices.push(...notice(group, notifyEnabled(group.name)))
      }
      return notices
    },
    expire: (now, timeoutMillis) => {
      const expired = new Map<number, ClientChannel>()
      const sweep = (table: Map<number, Member>) => {
        for (const [id, member] of table) {
          if (now - member.lastUpdate > timeoutMillis) {
            table.delete(id)
            expired.set(id, member.channel)
          }
        }
      }
      for (const [group, table] of producers) {
        sweep(table)
        if (table.size === 0) producers.delete(group)
      }
      for (const group of [...consumers.values()]) {
        sweep(group.members)
        if (group.members.size === 0) consumers.delete(group.name)
      }
      return [...expired.values()]
    },
    clear: () => {
      producers.clear()
      consumers.clear()
    }
  }
}
