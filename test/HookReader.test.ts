/**
 * HookReader: every hook payload Codex 0.169 really wrote decodes to its typed variant without
 * losing a field, unknown and drifting payloads are kept as data, and no input (garbage, huge,
 * truncated, random bytes) makes the decoder throw. Also the bounded stdin reader.
 */
import { readdirSync, readFileSync } from "node:fs"
import { PassThrough } from "node:stream"
import { fileURLToPath } from "node:url"
import { describe, expect, it, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import {
  HookEventName,
  isKnownHookEvent,
  JsonObject,
  type KnownHookEvent,
  UnknownHookEvent
} from "../src/domain/HookPayload"
import {
  decodeHookPayload,
  type DecodedHookPayload,
  type HookDecodeError,
  type HookDecodeFailure,
  HookReader,
  MAX_KEPT_TEXT,
  readStream
} from "../src/HookReader"

const fixturesDir = fileURLToPath(new URL("../fixtures/codex-0.169/", import.meta.url))

const FixtureLine = Schema.parseJson(Schema.Struct({ event_arg: Schema.String, payload: JsonObject }))
const decodeFixtureLine = Schema.decodeUnknownSync(FixtureLine)

interface FixturePayload {
  readonly label: string
  readonly eventArg: string
  readonly payload: JsonObject
  /** what Codex wrote to stdin: compact JSON, no trailing newline */
  readonly stdin: string
}

const fixturePayloads: ReadonlyArray<FixturePayload> = readdirSync(fixturesDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort()
  .flatMap((scenario) =>
    readFileSync(`${fixturesDir}${scenario}/hooks.ndjson`, "utf8")
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line, index) => {
        const { event_arg, payload } = decodeFixtureLine(line)
        return {
          label: `${scenario}#${index + 1} ${event_arg}`,
          eventArg: event_arg,
          payload,
          stdin: JSON.stringify(payload)
        }
      })
  )

const decoded = (input: string | Uint8Array): DecodedHookPayload =>
  Either.getOrThrowWith(decodeHookPayload(input), (error) => new Error(`expected a payload, got ${error.message}`))

const decodeError = (input: string | Uint8Array): HookDecodeError =>
  Either.match(decodeHookPayload(input), {
    onLeft: (error) => error,
    onRight: ({ event }) => {
      throw new Error(`expected a HookDecodeError, got ${event.hook_event_name}`)
    }
  })

const isUnknownHookEvent = Schema.is(UnknownHookEvent)

const decodedKnown = (input: string | Uint8Array): KnownHookEvent => {
  const { event } = decoded(input)
  if (!isKnownHookEvent(event)) throw new Error(`expected a known event, got ${event.hook_event_name}`)
  return event
}

const stdinOf = (payload: Record<string, unknown>): string => JSON.stringify(payload)

describe("decodeHookPayload on the Codex 0.169 captures", () => {
  it("covers every captured hook line", () => {
    expect(fixturePayloads).toHaveLength(76)
    expect(new Set(fixturePayloads.map((line) => line.eventArg))).toEqual(
      new Set([
        "SessionStart",
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUse",
        "PreCompact",
        "PostCompact",
        "SubagentStart",
        "SubagentStop",
        "Stop",
        "SessionEnd"
      ])
    )
  })

  it.each(fixturePayloads)("$label decodes to its variant with every field", ({ eventArg, payload, stdin }) => {
    const { event, raw } = decoded(stdin)
    expect(event.hook_event_name).toBe(eventArg)
    expect(isKnownHookEvent(event)).toBe(true)
    expect(isUnknownHookEvent(event)).toBe(false)
    // every field of a real capture is one the schema knows, so the typed view loses nothing
    expect(event).toEqual(payload)
    expect(raw).toEqual(payload)
  })

  it.each(fixturePayloads)("$label decodes from stdin bytes", ({ eventArg, payload, stdin }) => {
    const { event, raw } = decoded(new TextEncoder().encode(stdin))
    expect(event.hook_event_name).toBe(eventArg)
    expect(raw).toEqual(payload)
  })

  it("types each event's own fields", () => {
    const seen = new Map<string, number>()
    for (const { payload, stdin } of fixturePayloads) {
      const event = decodedKnown(stdin)
      seen.set(event.hook_event_name, (seen.get(event.hook_event_name) ?? 0) + 1)
      expect(event.session_id).toBe(payload["session_id"])
      switch (event.hook_event_name) {
        case "SessionStart":
          expect(["startup", "resume", "compact"]).toContain(event.source)
          expect(event.turn_id).toBeUndefined()
          break
        case "UserPromptSubmit":
          expect(event.prompt).toBe(payload["prompt"])
          expect(event.turn_id).toBe(payload["turn_id"])
          break
        case "PreToolUse":
          expect(event.tool_name).toBe(payload["tool_name"])
          expect(event.tool_use_id).toMatch(/^call_/)
          expect(event.tool_input).toEqual(payload["tool_input"])
          break
        case "PostToolUse":
          expect(event.tool_name).toBe(payload["tool_name"])
          expect(event.tool_use_id).toMatch(/^call_/)
          expect(typeof event.tool_response).toBe("string")
          expect(event.tool_response).toBe(payload["tool_response"])
          break
        case "PreCompact":
        case "PostCompact":
          expect(event.trigger).toBe("auto")
          expect(event.permission_mode).toBeUndefined()
          break
        case "SubagentStart":
          expect(event.agent_id).toBe("01a2013a-c8a0-7ae1-9fc9-3b8572391d82")
          expect(event.agent_type).toBe("default")
          break
        case "SubagentStop":
          expect(event.agent_transcript_path).toBe(payload["agent_transcript_path"])
          expect(event.agent_transcript_path).not.toBe(event.transcript_path)
          expect(event.stop_hook_active).toBe(false)
          expect(event.last_assistant_message).toBe("Child result: 1 2 3")
          break
        case "Stop":
          expect(event.stop_hook_active).toBe(false)
          expect(event.last_assistant_message).toBe(payload["last_assistant_message"])
          break
        case "SessionEnd":
          expect(event.reason).toBe("other")
          expect(event.model).toBeUndefined()
          break
        case "PermissionRequest":
        case "Interrupt":
          throw new Error(`not in the captures: ${event.hook_event_name}`)
      }
    }
    expect(Object.fromEntries(seen)).toEqual({
      SessionStart: 13,
      UserPromptSubmit: 12,
      PreToolUse: 12,
      PostToolUse: 11,
      PreCompact: 2,
      PostCompact: 2,
      SubagentStart: 1,
      SubagentStop: 1,
      Stop: 11,
      SessionEnd: 11
    })
  })

  it("keeps the sub-agent's parent session id and child agent id", () => {
    const child = fixturePayloads
      .map(({ stdin }) => decoded(stdin).event)
      .filter((event) => event.agent_id !== undefined)
    expect(child.map((event) => event.hook_event_name)).toEqual([
      "SubagentStart",
      "UserPromptSubmit",
      "PreToolUse",
      "PostToolUse",
      "SubagentStop"
    ])
    expect(new Set(child.map((event) => event.session_id))).toEqual(new Set(["01a2013a-c59e-7853-88d7-3cc0e93226b8"]))
  })
})

describe("decodeHookPayload on payloads outside the captures", () => {
  const common = {
    session_id: "01a2013a-0000-7000-8000-000000000001",
    turn_id: "01a2013a-0000-7000-8000-000000000002",
    transcript_path: "/home/u/.codex/sessions/2026/11/22/rollout-x.jsonl",
    cwd: "/work",
    model: "gpt-5.5",
    permission_mode: "default"
  }

  it("decodes PermissionRequest, which has no tool_use_id", () => {
    const event = decodedKnown(
      stdinOf({
        ...common,
        hook_event_name: "PermissionRequest",
        tool_name: "Bash",
        tool_input: { command: "rm -rf build", description: "clean the build folder" }
      })
    )
    if (event.hook_event_name !== "PermissionRequest") throw new Error(event.hook_event_name)
    expect(event.tool_input).toEqual({ command: "rm -rf build", description: "clean the build folder" })
    expect(event.tool_use_id).toBeUndefined()
  })

  it("decodes Interrupt", () => {
    const { event } = decoded(stdinOf({ ...common, hook_event_name: "Interrupt" }))
    expect(event).toEqual({ ...common, hook_event_name: "Interrupt" })
  })

  it("keeps an MCP tool_response object as is", () => {
    const toolResponse = { content: [{ type: "text", text: "42" }], isError: false }
    const event = decodedKnown(
      stdinOf({
        ...common,
        hook_event_name: "PostToolUse",
        tool_name: "mcp__calc__add",
        tool_input: { a: 40, b: 2 },
        tool_response: toolResponse,
        tool_use_id: "call_mcp_1"
      })
    )
    if (event.hook_event_name !== "PostToolUse") throw new Error(event.hook_event_name)
    expect(event.tool_response).toEqual(toolResponse)
  })

  it("keeps null transcript_path and last_assistant_message", () => {
    const event = decodedKnown(
      stdinOf({
        ...common,
        hook_event_name: "Stop",
        transcript_path: null,
        stop_hook_active: true,
        last_assistant_message: null
      })
    )
    if (event.hook_event_name !== "Stop") throw new Error(event.hook_event_name)
    expect(event.transcript_path).toBeNull()
    expect(event.last_assistant_message).toBeNull()
    expect(event.stop_hook_active).toBe(true)
  })

  it("keeps an unknown event as UnknownHookEvent with all its keys", () => {
    const payload = {
      session_id: common.session_id,
      hook_event_name: "TaskCreated",
      task: { id: 7, labels: ["a", "b"] },
      model: 5
    }
    const { event, raw } = decoded(stdinOf(payload))
    expect(isUnknownHookEvent(event)).toBe(true)
    expect(isKnownHookEvent(event)).toBe(false)
    expect(event).toEqual({
      session_id: common.session_id,
      hook_event_name: "TaskCreated",
      task: { id: 7, labels: ["a", "b"] }
    })
    // a common field of the wrong type is left out of the typed view, not lost
    expect(event.model).toBeUndefined()
    expect(raw).toEqual(payload)
  })

  it("keeps an unknown event that has no session_id", () => {
    const { event } = decoded(stdinOf({ hook_event_name: "Heartbeat" }))
    expect(event.hook_event_name).toBe("Heartbeat")
    expect(event.session_id).toBeUndefined()
  })

  it("tolerates drifting field types on a known event and keeps them in raw", () => {
    const payload = {
      ...common,
      hook_event_name: "Stop",
      stop_hook_active: "no",
      last_assistant_message: { text: "done" },
      new_field: [1, 2, 3]
    }
    const event = decodedKnown(stdinOf(payload))
    const { raw } = decoded(stdinOf(payload))
    if (event.hook_event_name !== "Stop") throw new Error(event.hook_event_name)
    expect(event.turn_id).toBe(common.turn_id)
    expect(event.stop_hook_active).toBeUndefined()
    expect(event.last_assistant_message).toBeUndefined()
    expect(raw).toEqual(payload)
  })

  it("reports a known event without a session_id instead of relabelling it unknown", () => {
    const error = decodeError(stdinOf({ hook_event_name: "Stop", turn_id: "t" }))
    expect(error.reason).toBe("InvalidPayload")
    expect(error.message).toContain("session_id")
    expect(error.text).toBe(stdinOf({ hook_event_name: "Stop", turn_id: "t" }))
  })

  it("accepts a byte order mark, as text or as bytes", () => {
    const text = `\uFEFF${stdinOf({ ...common, hook_event_name: "Interrupt" })}`
    expect(decoded(text).event.hook_event_name).toBe("Interrupt")
    expect(decoded(new TextEncoder().encode(text)).event.hook_event_name).toBe("Interrupt")
  })

  it("has no size limit of its own: a 5 MB tool response decodes", () => {
    const output = "x".repeat(5 * 1024 * 1024)
    const event = decodedKnown(
      stdinOf({ ...common, hook_event_name: "PostToolUse", tool_name: "Bash", tool_response: output })
    )
    if (event.hook_event_name !== "PostToolUse") throw new Error(event.hook_event_name)
    expect(event.tool_response).toBe(output)
  })
})

describe("decodeHookPayload on garbage", () => {
  const firstPayload = fixturePayloads[0]?.stdin ?? ""
  const cases: ReadonlyArray<readonly [string, string | Uint8Array, HookDecodeFailure]> = [
    ["empty", "", "Empty"],
    ["whitespace", " \n\t", "Empty"],
    ["empty bytes", new Uint8Array(0), "Empty"],
    ["not json", "not json", "NotJson"],
    ["truncated JSON", firstPayload.slice(0, firstPayload.length >> 1), "NotJson"],
    ["two objects", `${firstPayload}${firstPayload}`, "NotJson"],
    ["an array", "[]", "NotAnObject"],
    ["null", "null", "NotAnObject"],
    ["a number", "42", "NotAnObject"],
    ["a string", "\"SessionStart\"", "NotAnObject"],
    ["an empty object", "{}", "MissingEventName"],
    ["a non-string event name", "{\"hook_event_name\":3,\"session_id\":\"s\"}", "MissingEventName"],
    ["an empty event name", "{\"hook_event_name\":\"\",\"session_id\":\"s\"}", "MissingEventName"],
    ["invalid UTF-8", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), "InvalidUtf8"],
    ["a cut multi-byte character", new Uint8Array([0x7b, 0x22, 0xc3]), "InvalidUtf8"]
  ]

  it.each(cases)("%s is a HookDecodeError (%s)", (_name, input, reason) => {
    const error = decodeError(input)
    expect(error._tag).toBe("HookDecodeError")
    expect(error.reason).toBe(reason)
    expect(error.message.length).toBeGreaterThan(0)
  })

  it("keeps the text of what it could not decode, and the byte count of bytes", () => {
    const error = decodeError(new Uint8Array([0x7b, 0xff, 0x7d]))
    expect(error.text).toBe("{\uFFFD}")
    expect(error.byteLength).toBe(3)
    expect(decodeError("not json")).toMatchObject({ text: "not json", textLength: 8, truncated: false })
    expect(decodeError("not json").byteLength).toBeUndefined()
  })

  it("cuts the kept text of a 5 MB input and records its length", () => {
    const huge = "y".repeat(5 * 1024 * 1024)
    const error = decodeError(huge)
    expect(error.reason).toBe("NotJson")
    expect(error.text).toHaveLength(MAX_KEPT_TEXT)
    expect(error.textLength).toBe(huge.length)
    expect(error.truncated).toBe(true)

    const bytesError = decodeError(new TextEncoder().encode(huge))
    expect(bytesError.text).toHaveLength(MAX_KEPT_TEXT)
    expect(bytesError.byteLength).toBe(huge.length)
  })

  it("never cuts a surrogate pair in half", () => {
    const error = decodeError(`a${"\u{1F600}".repeat(40_000)}`)
    expect(error.truncated).toBe(true)
    const last = error.text.charCodeAt(error.text.length - 1)
    expect(last >= 0xd800 && last <= 0xdbff).toBe(false)
  })

  it("survives deeply nested JSON", () => {
    const depth = 100_000
    const text = `{"hook_event_name":"Deep","session_id":"s","x":${"[".repeat(depth)}${"]".repeat(depth)}}`
    const result = decodeHookPayload(text)
    expect(Either.isEither(result)).toBe(true)
  })
})

describe("decodeHookPayload properties", () => {
  const isDecodeResult = (input: string | Uint8Array): boolean => {
    const result = decodeHookPayload(input)
    return Either.match(result, {
      onLeft: (error) => error._tag === "HookDecodeError" && error.text.length <= MAX_KEPT_TEXT,
      onRight: ({ event, raw }) => event.hook_event_name === raw["hook_event_name"]
    })
  }

  it.prop("never throws on any string", [FastCheck.string({ unit: "binary", maxLength: 2_000 })], ([text]) => {
    expect(isDecodeResult(text)).toBe(true)
  })

  it.prop("never throws on any bytes", [FastCheck.uint8Array({ maxLength: 2_000 })], ([bytes]) => {
    expect(isDecodeResult(bytes)).toBe(true)
  })

  it.prop("never throws on any JSON text", [FastCheck.json()], ([text]) => {
    expect(isDecodeResult(text)).toBe(true)
  })

  it.prop(
    "never decodes a strict prefix of a captured payload",
    [FastCheck.integer({ min: 0, max: fixturePayloads.length - 1 }), FastCheck.nat()],
    ([index, cut]) => {
      const stdin = fixturePayloads[index]?.stdin ?? ""
      const prefix = stdin.slice(0, cut % stdin.length)
      expect(Either.isLeft(decodeHookPayload(prefix))).toBe(true)
    }
  )

  const knownOrUnknownName = FastCheck.oneof(
    FastCheck.constantFrom(...HookEventName.literals),
    FastCheck.string({ minLength: 1 })
  )

  it.prop(
    "keeps any object with an event name and a session id, extra keys included",
    [FastCheck.dictionary(FastCheck.string(), FastCheck.jsonValue()), knownOrUnknownName, FastCheck.string()],
    ([extra, name, sessionId]) => {
      const stdin = JSON.stringify({ ...extra, hook_event_name: name, session_id: sessionId })
      const { event, raw } = decoded(stdin)
      expect(event.hook_event_name).toBe(name)
      expect(event.session_id).toBe(sessionId)
      expect(raw).toEqual(JSON.parse(stdin))
    }
  )

  const optionalFields = [
    "transcript_path",
    "cwd",
    "model",
    "permission_mode",
    "turn_id",
    "agent_id",
    "agent_type",
    "source",
    "prompt",
    "tool_name",
    "tool_input",
    "tool_use_id",
    "tool_response",
    "trigger",
    "agent_transcript_path",
    "stop_hook_active",
    "last_assistant_message",
    "reason"
  ] as const

  it.prop(
    "decodes a captured payload to the same variant whatever its optional fields hold",
    [
      FastCheck.integer({ min: 0, max: fixturePayloads.length - 1 }),
      FastCheck.dictionary(FastCheck.constantFrom(...optionalFields), FastCheck.jsonValue())
    ],
    ([index, drift]) => {
      const fixture = fixturePayloads[index]
      if (fixture === undefined) throw new Error(`no fixture ${index}`)
      const stdin = JSON.stringify({ ...fixture.payload, ...drift })
      const { event, raw } = decoded(stdin)
      expect(event.hook_event_name).toBe(fixture.eventArg)
      expect(isKnownHookEvent(event)).toBe(true)
      expect(raw).toEqual(JSON.parse(stdin))
    }
  )
})

layer(HookReader.Default)("HookReader service", (it) => {
  it.effect("stamps a decoded payload with its arrival time", () =>
    Effect.gen(function*() {
      const fixture = fixturePayloads.find((line) => line.eventArg === "PostToolUse")
      if (fixture === undefined) throw new Error("no PostToolUse fixture")
      const record = yield* HookReader.decode(fixture.stdin, 1_795_000_000_123)
      expect(record.receivedAtMs).toBe(1_795_000_000_123)
      expect(record.event.hook_event_name).toBe("PostToolUse")
      expect(record.raw).toEqual(fixture.payload)
    }))

  it.effect("fails with HookDecodeError in the error channel", () =>
    Effect.gen(function*() {
      const reason = yield* HookReader.decode("{\"truncated\":", 0).pipe(
        Effect.map(() => "decoded"),
        Effect.catchTag("HookDecodeError", (error) => Effect.succeed(error.reason))
      )
      expect(reason).toBe("NotJson")
    }))
})

describe("readStream", () => {
  const nextTick = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

  it.effect("reads one compact JSON object up to EOF", () =>
    Effect.gen(function*() {
      const stream = new PassThrough()
      const fixture = fixturePayloads[0]
      if (fixture === undefined) throw new Error("no fixture")
      stream.end(fixture.stdin)
      const read = yield* readStream(stream)
      expect(read.endedBy).toBe("eof")
      expect(read.totalBytes).toBe(Buffer.byteLength(fixture.stdin))
      expect(decoded(read.bytes).raw).toEqual(fixture.payload)
    }))

  it.effect("keeps at most maxBytes but still reads to EOF", () =>
    Effect.gen(function*() {
      const stream = new PassThrough()
      stream.write("abcd")
      stream.end("efgh")
      const read = yield* readStream(stream, { maxBytes: 6 })
      expect(new TextDecoder().decode(read.bytes)).toBe("abcdef")
      expect(read.totalBytes).toBe(8)
      expect(read.endedBy).toBe("eof")
    }))

  it.effect("returns what arrived when stdin stays open past the timeout", () =>
    Effect.gen(function*() {
      const stream = new PassThrough()
      const fiber = yield* Effect.fork(readStream(stream, { timeout: "2 seconds" }))
      stream.write("{\"hook_event_name\":")
      yield* nextTick
      yield* TestClock.adjust("1 second")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 second")
      const read = yield* Fiber.join(fiber)
      expect(read.endedBy).toBe("timeout")
      expect(new TextDecoder().decode(read.bytes)).toBe("{\"hook_event_name\":")
      expect(decodeError(read.bytes).reason).toBe("NotJson")
      stream.destroy()
    }))

  it.effect("returns at once for a stream that already ended", () =>
    Effect.gen(function*() {
      const stream = new PassThrough()
      stream.end()
      stream.resume()
      yield* nextTick
      const read = yield* readStream(stream)
      expect(read).toMatchObject({ totalBytes: 0, endedBy: "eof" })
    }))

  it.effect("stops at a stream error with what arrived", () =>
    Effect.gen(function*() {
      const stream = new PassThrough()
      const fiber = yield* Effect.fork(readStream(stream))
      stream.write("partial")
      yield* nextTick
      stream.destroy(new Error("EIO"))
      const read = yield* Fiber.join(fiber)
      expect(read.endedBy).toBe("error")
      expect(new TextDecoder().decode(read.bytes)).toBe("partial")
    }))
})
