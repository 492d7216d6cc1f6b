/**
 * The remoting command: the one value every RocketMQ request and response is made of.
 *
 * Plain data, no I/O: `code`, `language`, `version`, `opaque`, `flag`, `remark`, `extFields` and
 * `body`. Header fields stay strings in `extFields` (the `Header` module turns them into typed
 * values); the body is raw bytes. Turning a command into bytes and back is the `Codec` module's job.
 *
 * `extFields` is always an object without `Object.prototype` in its chain, owned by the command:
 * keys such as `__proto__` or `constructor` are stored as ordinary data, never reach a prototype,
 * and a missing key reads as `undefined` (never an inherited function). Commands are
 * immutable by convention; the helpers below return new commands and share `extFields` and `body`.
 *
 * @since 0.1.0
 */
import * as LanguageCode from "./LanguageCode.ts"

/**
 * Custom header fields: string keys to string values, as Java's `HashMap<String, String>`.
 *
 * @since 0.1.0
 * @category models
 */
export type ExtFields = { readonly [key: string]: string }

/**
 * @since 0.1.0
 * @category models
 */
export interface RemotingCommand {
  /** Request code for requests, response code for responses. */
  readonly code: number
  readonly language: LanguageCode.LanguageCode
  /** The sender's `MQVersion` ordinal; servers gate behaviour on it (see {@link Version}). */
  readonly version: number
  /** Correlation id: chosen by whoever sends a request, echoed by the response. Signed 32-bit. */
  readonly opaque: number
  /** Bit 0: response; bit 1: oneway request. */
  readonly flag: number
  readonly remark: string | undefined
  readonly extFields: ExtFields
  readonly body: Uint8Array | undefined
}

/**
 * `MQVersion` ordinals that change how a Java server treats a request (the release's ordinal in
 * Java's append-only version enum; see `docs/protocol-notes.md`).
 *
 * @since 0.1.0
 * @category constants
 */
export const Version = {
  /** From here on name servers answer route queries in standard JSON (quoted integer keys). */
  V4_9_4: 401,
  /** Servers 5.3.2+ answer `GO_AWAY` while shutting down to requests with a version above this. */
  V5_3_1: 475,
  V5_3_3: 479
} as const

/**
 * The version every command carries unless told otherwise: V5_3_3 (479), the release the Java
 * reference implementation calls current. It is at least 401, so name servers since 4.9.4 send
 * route data as standard JSON, and above 475, so servers 5.3.2+ warn us with `GO_AWAY` instead of
 * dropping requests while they shut down. Servers of every version accept it: they only compare it.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_VERSION: number = Version.V5_3_3

/**
 * @since 0.1.0
 * @category constants
 */
export const FLAG_RESPONSE = 0b01

/**
 * @since 0.1.0
 * @category constants
 */
export const FLAG_ONEWAY = 0b10

/**
 * The input of {@link make}: only `code` is required.
 *
 * @since 0.1.0
 * @category models
 */
export interface Input {
  readonly code: number
  readonly language?: LanguageCode.LanguageCode | undefined
  readonly version?: number | undefined
  readonly opaque?: number | undefined
  readonly flag?: number | undefined
  readonly remark?: string | undefined
  readonly extFields?: { readonly [key: string]: string } | undefined
  readonly body?: Uint8Array | undefined
}

// Ext-field objects inherit from this frozen, prototype-less object rather than having a null
// prototype themselves: V8 keeps `Object.create(null)` objects in dictionary mode, which made
// creating and iterating 16-field headers 3x and 10x slower (scripts/bench/codec.ts). With no
// `Object.prototype` in the chain there is no `__proto__` setter to hit and nothing inherited.
const EXT_FIELDS_PROTO: object = Object.freeze(Object.create(null))

/**
 * A new, empty, mutable ext-field object (no `Object.prototype` in its chain). For code that
 * builds `extFields` itself, such as the decoders.
 *
 * @since 0.1.0
 * @category constructors
 */
export const newExtFields = (): Record<string, string> => Object.create(EXT_FIELDS_PROTO)

const EMPTY_EXT_FIELDS: ExtFields = Object.freeze(newExtFields())

/**
 * Whether `fields` is an ext-field object this module made (see {@link newExtFields}): the codec
 * iterates those with `for…in`, which for them sees exactly the own keys and is 10x faster than
 * `Object.keys` plus lookups. Anything else is copied first ({@link extFieldsFrom}).
 *
 * @since 0.1.0
 * @category guards
 */
export const isSafeExtFields = (fields: object): boolean => Object.getPrototypeOf(fields) === EXT_FIELDS_PROTO

/**
 * A safe copy of the own enumerable string-valued properties of `fields` (see {@link newExtFields}).
 * `__proto__`, `constructor` and friends become plain keys; values that are not strings are left
 * out.
 *
 * @since 0.1.0
 * @category constructors
 */
export const extFieldsFrom = (fields: { readonly [key: string]: string } | undefined): ExtFields => {
  if (fields === undefined) return EMPTY_EXT_FIELDS
  const keys = Object.keys(fields)
  if (keys.length === 0) return EMPTY_EXT_FIELDS
  const out = newExtFields()
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!
    const value = fields[key]
    if (typeof value === "string") out[key] = value
  }
  return out
}

/**
 * The shared empty `extFields`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const emptyExtFields: ExtFields = EMPTY_EXT_FIELDS

/** @internal: builds a command from fields that are already normalised (the decoders use it). */
export const unsafeMake = (
  code: number,
  language: LanguageCode.LanguageCode,
  version: number,
  opaque: number,
  flag: number,
  remark: string | undefined,
  extFields: ExtFields,
  body: Uint8Array | undefined
): RemotingCommand => ({ code, language, version, opaque, flag, remark, extFields, body })

/**
 * Builds a command. Defaults: language {@link LanguageCode.DEFAULT} (`JAVA`), version
 * {@link DEFAULT_VERSION} (479), opaque 0, flag 0, no remark, no ext fields, no body.
 *
 * Numbers are truncated to signed 32-bit integers as Java's `int` fields would hold them.
 * `extFields` is copied (see {@link extFieldsFrom}); an empty body is kept as no body, as Java
 * decodes it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (input: Input): RemotingCommand =>
  unsafeMake(
    input.code | 0,
    input.language ?? LanguageCode.DEFAULT,
    (input.version ?? DEFAULT_VERSION) | 0,
    (input.opaque ?? 0) | 0,
    (input.flag ?? 0) | 0,
    input.remark,
    extFieldsFrom(input.extFields),
    input.body !== undefined && input.body.length > 0 ? input.body : undefined
  )

/**
 * A response to `request`: echoes its opaque and sets the response bit.
 *
 * @since 0.1.0
 * @category constructors
 */
export const response = (
  request: RemotingCommand,
  code: number,
  remark?: string | undefined,
  options?: {
    readonly extFields?: { readonly [key: string]: string } | undefined
    readonly body?: Uint8Array | undefined
  }
): RemotingCommand =>
  make({
    code,
    opaque: request.opaque,
    flag: FLAG_RESPONSE,
    remark,
    extFields: options?.extFields,
    body: options?.body
  })

/**
 * @since 0.1.0
 * @category guards
 */
export const isResponse = (self: RemotingCommand): boolean => (self.flag & FLAG_RESPONSE) !== 0

/**
 * @since 0.1.0
 * @category guards
 */
export const isOneway = (self: RemotingCommand): boolean => (self.flag & FLAG_ONEWAY) !== 0

/**
 * The same command with the response bit set.
 *
 * @since 0.1.0
 * @category combinators
 */
export const markResponse = (self: RemotingCommand): RemotingCommand => withFlag(self, self.flag | FLAG_RESPONSE)

/**
 * The same command with the oneway bit set: the receiver must not answer it.
 *
 * @since 0.1.0
 * @category combinators
 */
export const markOneway = (self: RemotingCommand): RemotingCommand => withFlag(self, self.flag | FLAG_ONEWAY)

/**
 * @since 0.1.0
 * @category combinators
 */
export const withFlag = (self: RemotingCommand, flag: number): RemotingCommand =>
  self.flag === flag
    ? self
    : unsafeMake(self.code, self.language, self.version, self.opaque, flag | 0, self.remark, self.extFields, self.body)

/**
 * @since 0.1.0
 * @category combinators
 */
export const withOpaque = (self: RemotingCommand, opaque: number): RemotingCommand =>
  unsafeMake(self.code, self.language, self.version, opaque | 0, self.flag, self.remark, self.extFields, self.body)

/**
 * The same command with `fields` added to (or replacing entries of) its `extFields`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const withExtFields = (self: RemotingCommand, fields: { readonly [key: string]: string }): RemotingCommand => {
  const merged = newExtFields()
  for (const key of Object.keys(self.extFields)) merged[key] = self.extFields[key]!
  for (const key of Object.keys(fields)) {
    const value = fields[key]
    if (typeof value === "string") merged[key] = value
  }
  return unsafeMake(self.code, self.language, self.version, self.opaque, self.flag, self.remark, merged, self.body)
}

/**
 * @since 0.1.0
 * @category combinators
 */
export const withBody = (self: RemotingCommand, body: Uint8Array | undefined): RemotingCommand =>
  unsafeMake(
    self.code,
    self.language,
    self.version,
    self.opaque,
    self.flag,
    self.remark,
    self.extFields,
    body !== undefined && body.length > 0 ? body : undefined
  )

/**
 * One line for logs: code, opaque, flag and sizes; never the body.
 *
 * @since 0.1.0
 * @category formatting
 */
export const describe = (self: RemotingCommand): string =>
  `${isResponse(self) ? "response" : isOneway(self) ? "oneway request" : "request"} code=${self.code} opaque=${self.opaque}` +
  (self.remark !== undefined ? ` remark=${JSON.stringify(self.remark)}` : "") +
  ` ext=${Object.keys(self.extFields).length} body=${self.body?.length ?? 0}B`
