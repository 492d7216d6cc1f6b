/** A client instance and a producer on a test fixture. */
import { Effect } from "effect"
import * as ClientInstance from "../../src/ClientInstance.ts"
import * as Producer from "../../src/Producer.ts"
import { type Fixture, NAMESRV } from "./cluster.ts"

export const instanceOn = (fixture: Fixture) =>
  ClientInstance.make({
    nameServerAddresses: NAMESRV,
    clientIP: "10.0.0.5",
    remoting: { channelFactory: fixture.connect, hooks: fixture.hooks }
  })

export const producerOn = (fixture: Fixture, options?: Partial<Producer.ProducerOptions>) =>
  Effect.gen(function*() {
    const instance = yield* instanceOn(fixture)
    const producer = yield* Producer.make({ group: "PG", ...options }).pipe(
      Effect.provideService(ClientInstance.ClientInstance, instance)
    )
    return { instance, producer }
  })
