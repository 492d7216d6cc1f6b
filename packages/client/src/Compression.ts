/**
 * The body compressions of RocketMQ 5.x: ZLIB (Java's default), LZ4 and ZSTD, as a Java
 * producer writes them and a Java consumer reads them.
 *
 * | type | sysFlag | format |
 * | --- | --- | --- |
 * | ZLIB | `0x1 \| 0x300` (type 0 is read as ZLIB too: older senders) | a zlib stream (`Deflater`), level 5 by default |
 * | LZ4 | `0x1 \| 0x100` | LZ4 frames as lz4-java's `LZ4FrameOutputStream` writes them (4 MiB independent blocks, no checksums) |
 * | ZSTD | `0x1 \| 0x200` | a Zstandard frame as zstd-jni's `ZstdOutputStream` writes it, level 5 by default |
 *
 * ZLIB and ZSTD use Node's `zlib` (ZSTD needs Node ≥ 22.15; on an older Node it is a
 * {@link CompressionError} that says so); LZ4 is this package's own frame codec, which reads
 * every variant of the frame format except dictionaries. Decompression is bounded
 * (`maxBytes`, 64 MiB by default): a compression bomb is an error, not an allocation.
 *
 * This module does not decide *when* to compress (a producer's threshold) and does no I/O.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import * as zlib from "node:zlib"
import { CompressionError } from "./ClientError.ts"
import * as Lz4 from "./internal/lz4.ts"

/**
 * A compression type.
 *
 * @since 0.1.0
 * @category models
 */
export type CompressionType = "ZLIB" | "LZ4" | "ZSTD"

/**
 * Every compression type.
 *
 * @since 0.1.0
 * @category constants
 */
export const types: ReadonlyArray<CompressionType> = ["ZLIB", "LZ4", "ZSTD"]

/**
 * The level Java uses by default (`rocketmq.message.compressLevel`), for ZLIB and ZSTD; LZ4 has
 * no level.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_LEVEL = 5

/**
 * The body size from which Java producers compress by default (`compressMsgBodyOverHowmuch`).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_THRESHOLD = 4096

/**
 * Largest decompressed body accepted by default (64 MiB).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024

const COMPRESSED = 0x1
const TYPE_MASK = 0x700
const TYPE_BITS: Readonly<Record<CompressionType, number>> = { LZ4: 0x100, ZSTD: 0x200, ZLIB: 0x300 }

/**
 * The sysFlag bits of a body compressed with `type`: COMPRESSED and the type in bits 8–10.
 *
 * @since 0.1.0
 * @category conversions
 */
export const sysFlagOf = (type: CompressionType): number => COMPRESSED | TYPE_BITS[type]

/**
 * How a body with `sysFlag` is compressed: `undefined` when not compressed, `"unknown"` when
 * the type bits name no known type (5, 6, 7). Type 0 is ZLIB, as Java reads it.
 *
 * @since 0.1.0
 * @category conversions
 */
export const typeOfSysFlag = (sysFlag: number): CompressionType | "unknown" | undefined => {
  if ((sysFlag & COMPRESSED) === 0) return undefined
  switch ((sysFlag & TYPE_MASK) >> 8) {
    case 0:
    case 3:
      return "ZLIB"
    case 1:
      return "LZ4"
    case 2:
      return "ZSTD"
    default:
      return "unknown"
  }
}

const hasZstd = typeof zlib.zstdCompressSync === "function" && typeof zlib.zstdDecompressSync === "function"

/**
 * Whether this runtime can compress and decompress `type` (ZSTD needs Node ≥ 22.15).
 *
 * @since 0.1.0
 * @category predicates
 */
export const isSupported = (type: CompressionType): boolean => type !== "ZSTD" || hasZstd

const noZstd = (operation: "compress" | "decompress") =>
  new CompressionError({
    compression: "ZSTD",
    operation,
    detail: `this Node ${process.version} has no zlib ZSTD support (Node 22.15 or later has it); ` +
      "run on a newer Node, or have producers use ZLIB or LZ4"
  })

const reason = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/**
 * Options of {@link compress}.
 *
 * @since 0.1.0
 * @category models
 */
export interface CompressOptions {
  /** ZLIB: 0–9, ZSTD: 1–22; default {@link DEFAULT_LEVEL}. Ignored by LZ4. */
  readonly level?: number | undefined
}

/** @internal: the synchronous compressor behind {@link compress}. */
export const compressSync = (
  type: CompressionType,
  body: Uint8Array,
  options?: CompressOptions
): Uint8Array | CompressionError => {
  const level = options?.level ?? DEFAULT_LEVEL
  try {
    switch (type) {
      case "ZLIB":
        return zlib.deflateSync(body, { level })
      case "LZ4":
        return Lz4.encodeFrame(body)
      case "ZSTD":
        if (!hasZstd) return noZstd("compress")
        return zlib.zstdCompressSync(body, { params: { [zlib.constants.ZSTD_c_compressionLevel]: level } })
    }
  } catch (error) {
    return new CompressionError({ compression: type, operation: "compress", detail: reason(error) })
  }
}

/**
 * Compresses `body` with `type` in the format a Java consumer reads.
 *
 * @since 0.1.0
 * @category compression
 */
export const compress = (
  type: CompressionType,
  body: Uint8Array,
  options?: CompressOptions
): Effect.Effect<Uint8Array, CompressionError> =>
  Effect.suspend(() => {
    const out = compressSync(type, body, options)
    return out instanceof CompressionError ? Effect.fail(out) : Effect.succeed(out)
  })

/**
 * Options of {@link decompress}.
 *
 * @since 0.1.0
 * @category models
 */
export interface DecompressOptions {
  /** Largest output accepted (default {@link DEFAULT_MAX_BYTES}). */
  readonly maxBytes?: number | undefined
}

/** @internal: the synchronous decompressor behind {@link decompress}. */
export const decompressSync = (
  type: CompressionType,
  body: Uint8Array,
  options?: DecompressOptions
): Uint8Array | CompressionError => {
  const maxBytes = options?.maxBytes ?? DEFAULT_MAX_BYTES
  const failed = (detail: string) => new CompressionError({ compression: type, operation: "decompress", detail })
  const bounded = (error: unknown) =>
    failed(error instanceof RangeError ? `the output would exceed ${maxBytes} bytes (${reason(error)})` : reason(error))
  switch (type) {
    case "ZLIB":
      try {
        return zlib.inflateSync(body, { maxOutputLength: maxBytes })
      } catch (error) {
        return bounded(error)
      }
    case "LZ4": {
      const out = Lz4.decodeFrames(body, maxBytes)
      return typeof out === "string" ? failed(out) : out
    }
    case "ZSTD":
      if (!hasZstd) return noZstd("decompress")
      try {
        return zlib.zstdDecompressSync(body, { maxOutputLength: maxBytes })
      } catch (error) {
        return bounded(error)
      }
  }
}

/**
 * Decompresses a `type` body written by any RocketMQ producer (Java's or {@link compress}).
 *
 * @since 0.1.0
 * @category compression
 */
export const decompress = (
  type: CompressionType,
  body: Uint8Array,
  options?: DecompressOptions
): Effect.Effect<Uint8Array, CompressionError> =>
  Effect.suspend(() => {
    const out = decompressSync(type, body, options)
    return out instanceof CompressionError ? Effect.fail(out) : Effect.succeed(out)
  })
