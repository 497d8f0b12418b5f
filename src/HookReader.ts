/**
 * HookReader: where a Codex hook payload enters trace-codex. It turns the bytes Codex wrote to
 * the hook's stdin into a `HookRecord` (arrival time, typed event, raw object), or into a
 * `HookDecodeError` that still carries the text so the caller can journal it.
 *
 * Decoding never throws and needs no Effect runtime (`decodeHookPayload`), because the hook fast
 * path wants a minimal start-up. Reading stdin (`readStdin`) is kept apart: it is the only part
 * that touches the process, and it is bounded in size and time so a hook never hangs on a stdin
 * that stays open.
 */
import type { Readable } from "node:stream"
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import {
  type HookPayload,
  isHookEventName,
  JsonObject,
  KnownHookEvent,
  UnknownHookEvent
} from "./domain/HookPayload"

/** Why a payload could not be decoded, in the order the checks run. */
export type HookDecodeFailure =
  | "InvalidUtf8"
  | "Empty"
  | "NotJson"
  | "NotAnObject"
  | "MissingEventName"
  | "InvalidPayload"

export class HookDecodeError extends Data.TaggedError("HookDecodeError")<{
  readonly reason: HookDecodeFailure
  readonly message: string
  /** the input as text (lossy for invalid UTF-8), cut to `MAX_KEPT_TEXT` characters */
  readonly text: string
  /** characters in the whole text, before the cut */
  readonly textLength: number
  readonly truncated: boolean
  /** size of the input when it was given as bytes */
  readonly byteLength?: number
}> {}

/** How much of an undecodable input an error keeps: enough to diagnose, small enough to journal. */
export const MAX_KEPT_TEXT = 64 * 1024

export interface DecodedHookPayload {
  readonly event: HookPayload
  /** the whole parsed object, unknown keys included */
  readonly raw: JsonObject
}

export interface HookRecord extends DecodedHookPayload {
  /** when the hook received the payload (epoch ms); Codex puts no timestamp in it */
  readonly receivedAtMs: number
}

export interface HookReaderService {
  readonly decode: (
    stdin: string | Uint8Array,
    receivedAtMs: number
  ) => Effect.Effect<HookRecord, HookDecodeError>
}

const keepText = (text: string): { readonly text: string; readonly textLength: number; readonly truncated: boolean } => {
  if (text.length <= MAX_KEPT_TEXT) return { text, textLength: text.length, truncated: false }
  const end = MAX_KEPT_TEXT
  const code = text.charCodeAt(end - 1)
  // never keep half of a surrogate pair
  const cut = code >= 0xd800 && code <= 0xdbff ? end - 1 : end
  return { text: text.slice(0, cut), textLength: text.length, truncated: true }
}

const failure = (
  reason: HookDecodeFailure,
  message: string,
  text: string,
  byteLength: number | undefined
): Either.Either<never, HookDecodeError> =>
  Either.left(
    new HookDecodeError({
      reason,
      message,
      ...keepText(text),
      ...(byteLength === undefined ? {} : { byteLength })
    })
  )

const strictUtf8 = new TextDecoder("utf-8", { fatal: true })
const lossyUtf8 = new TextDecoder("utf-8")

const isJsonObject = Schema.is(JsonObject)
const decodeKnown = Schema.decodeUnknownEither(KnownHookEvent)
const decodeUnknown = Schema.decodeUnknownEither(UnknownHookEvent)

const describeJson = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`

const errorMessage = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

/**
 * Decodes one hook stdin payload. Total: every input, however broken, gives a Right or a
 * `HookDecodeError`; it throws nothing.
 */
export const decodeHookPayload = (input: string | Uint8Array): Either.Either<DecodedHookPayload, HookDecodeError> => {
  let text: string
  let byteLength: number | undefined
  if (typeof input === "string") {
    text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input
  } else {
    byteLength = input.byteLength
    try {
      text = strictUtf8.decode(input)
    } catch (cause) {
      return failure("InvalidUtf8", `hook stdin is not valid UTF-8: ${errorMessage(cause)}`, lossyUtf8.decode(input), byteLength)
    }
  }

  if (text.trim().length === 0) {
    return failure("Empty", "hook stdin is empty", text, byteLength)
  }

  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (cause) {
    return failure("NotJson", `hook stdin is not JSON: ${errorMessage(cause)}`, text, byteLength)
  }

  if (!isJsonObject(parsed)) {
    return failure("NotAnObject", `hook stdin is ${describeJson(parsed)}, not a JSON object`, text, byteLength)
  }
  const raw = parsed

  const name = raw["hook_event_name"]
  if (typeof name !== "string" || name.length === 0) {
    return failure("MissingEventName", "hook stdin has no hook_event_name string", text, byteLength)
  }

  const decoded: Either.Either<HookPayload, ParseResult.ParseError> = isHookEventName(name)
    ? decodeKnown(raw)
    : decodeUnknown(raw)
  return Either.match(decoded, {
    onLeft: (error) =>
      failure(
        "InvalidPayload",
        `hook stdin does not fit the ${name} payload: ${ParseResult.TreeFormatter.formatErrorSync(error)}`,
        text,
        byteLength
      ),
    onRight: (event) => Either.right({ event, raw })
  })
}

const hookReader: HookReaderService = {
  decode: Effect.fn("HookReader.decode")(function*(stdin: string | Uint8Array, receivedAtMs: number) {
    const { event, raw } = yield* decodeHookPayload(stdin)
    return { receivedAtMs, event, raw }
  })
}

export class HookReader extends Effect.Service<HookReader>()("trace-codex/HookReader", {
  succeed: hookReader,
  accessors: true
}) {}

export interface ReadStdinOptions {
  /** bytes kept; anything beyond is still read (so Codex's write never blocks) but dropped */
  readonly maxBytes?: number
  /** stop waiting for EOF after this long and return what arrived */
  readonly timeout?: Duration.DurationInput
}

export const DEFAULT_STDIN_MAX_BYTES = 16 * 1024 * 1024
/** Codex writes the payload and closes stdin at once; this only bounds a stdin left open. */
export const DEFAULT_STDIN_TIMEOUT: Duration.DurationInput = "2 seconds"

export interface StdinRead {
  /** at most `maxBytes` */
  readonly bytes: Uint8Array
  /** every byte that arrived, including the ones past the cap */
  readonly totalBytes: number
  /** "tty": stdin is a terminal, so it was not read (nobody is piping a payload) */
  readonly endedBy: "eof" | "timeout" | "error" | "tty"
}

const ignoreStreamError = () => {}

/** Reads a stream to its end, bounded by `maxBytes` kept and by `timeout`. Never fails. */
export const readStream = (stream: Readable, options: ReadStdinOptions = {}): Effect.Effect<StdinRead> =>
  Effect.suspend(() => {
    const maxBytes = Math.max(0, options.maxBytes ?? DEFAULT_STDIN_MAX_BYTES)
    const chunks: Array<Buffer> = []
    let kept = 0
    let total = 0
    const snapshot = (endedBy: StdinRead["endedBy"]): StdinRead => ({
      bytes: Buffer.concat(chunks, kept),
      totalBytes: total,
      endedBy
    })
    if (stream.readableEnded) return Effect.succeed(snapshot("eof"))

    const untilEnd = Effect.async<StdinRead>((resume) => {
      const onData = (chunk: Buffer | string) => {
        const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk
        total += buffer.length
        const room = maxBytes - kept
        if (room > 0) {
          const part = buffer.length <= room ? buffer : buffer.subarray(0, room)
          chunks.push(part)
          kept += part.length
        }
      }
      const settle = (endedBy: StdinRead["endedBy"]) => () => {
        detach()
        resume(Effect.sync(() => snapshot(endedBy)))
      }
      const onEnd = settle("eof")
      const onError = settle("error")
      const detach = () => {
        stream.off("data", onData)
        stream.off("end", onEnd)
        stream.off("error", onError)
      }
      // a late stream error must not crash the hook once we have stopped listening
      stream.on("error", ignoreStreamError)
      stream.on("data", onData)
      stream.once("end", onEnd)
      stream.once("error", onError)
      return Effect.sync(() => {
        detach()
        stream.pause()
      })
    })

    const timeout = options.timeout ?? DEFAULT_STDIN_TIMEOUT
    return Effect.race(
      untilEnd,
      Effect.sleep(timeout).pipe(Effect.map(() => snapshot("timeout")))
    )
  })

/**
 * Reads the hook's stdin (one compact JSON object, no trailing newline, then EOF). If EOF does
 * not come in time, returns what arrived and destroys stdin so the process can still exit.
 */
export const readStdin = (options: ReadStdinOptions = {}): Effect.Effect<StdinRead> =>
  Effect.suspend(() => {
    const stdin = process.stdin
    if (stdin.isTTY) {
      return Effect.succeed<StdinRead>({ bytes: new Uint8Array(0), totalBytes: 0, endedBy: "tty" })
    }
    return readStream(stdin, options).pipe(
      Effect.tap((read) => read.endedBy === "eof" ? Effect.void : Effect.sync(() => stdin.destroy()))
    )
  })
