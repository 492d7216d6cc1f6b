/**
 * Responses captured from a real Apache RocketMQ 5.3.3 broker and name server
 * (scripts/rocketmq/samples), decoded with the remoting codec.
 */
import { Codec, type RemotingCommand } from "@effect-rocketmq/remoting"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const dir = path.resolve(here, "../../../../scripts/rocketmq/samples")

export const sampleFrame = (name: string): RemotingCommand.RemotingCommand =>
  Effect.runSync(Codec.decodeFrame(fs.readFileSync(path.join(dir, `${name}.frame.bin`))))

export const sampleText = (name: string): string => fs.readFileSync(path.join(dir, `${name}.txt`), "utf8")

export const fromHex = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex.replace(/\s+/g, ""), "hex"))
