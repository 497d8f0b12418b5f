/**
 * Tests of the Braintrust SpanSink with the real `braintrust` SDK talking real HTTP to a local fake
 * server: rows arrive with exactly our ids and fields, re-sending is idempotent, a later version
 * replaces an earlier one, and every way Braintrust can fail (5xx, down, silent, bad API key)
 * surfaces as a SpanSinkError instead of the SDK's silent drop — and heals on the next write.
 */
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import { isRecord } from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as BraintrustSpanSink from "../../layers/BraintrustSpanSink"
import { spanId } from "../../src/domain/ids"
import type { SpanRow } from "../../src/domain/SpanRow"
import { SpanSink } from "../../src/SpanSink"
import {
  acquireFakeBraintrust,
  type FakeBraintrust,
  type FakeBraintrustOptions,
  type StoredRow
} from "../support/fakeBraintrust"

const PROJECT = "trace-codex-test"

const rootId = spanId("session", "test-session")
const turnId = spanId("turn", "test-session", "turn-1")
const llmId = spanId("llm", "test-session", "resp-1")
const toolId = spanId("tool", "test-session", "call-1")

const t0 = 1_760_000_000.125

const root: SpanRow = {
  id: rootId,
  span_id: rootId,
  root_span_id: rootId,
  span_parents: [],
  span_attributes: { name: "codex: trace-codex", type: "task" },
  metrics: { start: t0, end: t0 + 42.5 },
  input: { model: "gpt-5-codex", cwd: "/work/trace-codex" },
  metadata: { session_id: "test-session", model: "gpt-5-codex", cli_version: "0.169.0" },
  tags: ["codex"]
}

const turn: SpanRow = {
  id: turnId,
  span_id: turnId,
  root_span_id: rootId,
  span_parents: [rootId],
  span_attributes: { name: "turn: 1", type: "task" },
  metrics: { start: t0 + 1, end: t0 + 40 },
  input: "list the files",
  output: "There are 3 files.",
  metadata: { turn_id: "turn-1", model: "gpt-5-codex" }
}

const llm: SpanRow = {
  id: llmId,
  span_id: llmId,
  root_span_id: rootId,
  span_parents: [turnId],
  span_attributes: { name: "gpt-5-codex", type: "llm" },
  metrics: {
    start: t0 + 1,
    end: t0 + 3.75,
    prompt_tokens: 1200,
    completion_tokens: 80,
    tokens: 1280,
    prompt_cached_tokens: 1024,
    completion_reasoning_tokens: 32
  },
  input: [{ role: "user", content: "list the files" }],
  output: [{
    role: "assistant",
    tool_calls: [{ id: "call-1", type: "function", function: { name: "exec_command", arguments: "{\"cmd\":\"ls\"}" } }]
  }],
  metadata: { response_id: "resp-1", model: "gpt-5-codex", turn_id: "turn-1" }
}

const tool: SpanRow = {
  id: toolId,
  span_id: toolId,
  root_span_id: rootId,
  span_parents: [turnId],
  span_attributes: { name: "exec_command", type: "tool" },
  metrics: { start: t0 + 4, end: t0 + 4.5 },
  input: { cmd: "ls /missing" },
  output: "ls: cannot access '/missing': No such file or directory",
  error: "exit code 2",
  metadata: { call_id: "call-1", exit_code: 2, duration_ms: 500 }
}

const trace: ReadonlyArray<SpanRow> = [root, turn, llm, tool]

const fieldsWeOwn = (row: StoredRow | undefined) => {
  const attributes = row?.["span_attributes"]
  return {
    id: row?.["id"],
    span_id: row?.["span_id"],
    root_span_id: row?.["root_span_id"],
    span_parents: row?.["span_parents"],
    span_attributes: isRecord(attributes) ? { name: attributes["name"], type: attributes["type"] } : attributes,
    metrics: row?.["metrics"],
    input: row?.["input"],
    output: row?.["output"],
    error: row?.["error"],
    metadata: row?.["metadata"],
    tags: row?.["tags"]
  }
}

const expectStored = (fake: FakeBraintrust, rows: ReadonlyArray<SpanRow>) => {
  const stored = fake.rows()
  for (const row of rows) {
    expect(fieldsWeOwn(stored.get(row.id))).toEqual(row)
  }
}

const setup = (
  fakeOptions: FakeBraintrustOptions = {},
  sinkOptions: Partial<BraintrustSpanSink.BraintrustSpanSinkOptions> = {}
) =>
  Effect.gen(function*() {
    const fake = yield* acquireFakeBraintrust(fakeOptions)
    const sink = yield* BraintrustSpanSink.make({
      apiKey: Redacted.make("test-api-key"),
      project: PROJECT,
      appUrl: fake.url,
      requestTimeout: "2 seconds",
      retries: 0,
      ...sinkOptions
    })
    return { fake, sink }
  })

/** Generous: a failing write must end, and these cases end within about a second. */
const bounded = <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.timeout(self, "20 seconds")

describe("BraintrustSpanSink", () => {
  it.scopedLive("stores every span as one complete row with exactly our ids and fields", () =>
    Effect.gen(function*() {
      const { fake, sink } = yield* setup()
      yield* sink.write(trace)

      expectStored(fake, trace)
      expect(fake.rows().size).toBe(trace.length)
      // start, log and end were combined client-side: one full row per span, no merge rows
      const raw = fake.rawRows()
      expect(raw).toHaveLength(trace.length)
      for (const row of raw) {
        expect(row["_is_merge"]).not.toBe(true)
        expect(row["project_id"]).toBe(`project-${PROJECT}`)
        expect(row["log_id"]).toBe("g")
      }
      const paths = fake.requests().map((request) => `${request.method} ${request.path}`)
      expect(paths).toContain("POST /api/apikey/login")
      expect(paths).toContain("POST /api/project/register")
      expect(fake.requests().every((request) => request.authorization === "Bearer test-api-key")).toBe(true)
    }))

  it.scopedLive("writing the same rows twice leaves the same stored rows", () =>
    Effect.gen(function*() {
      const { fake, sink } = yield* setup()
      yield* sink.write(trace)
      const first = new Map([...fake.rows()].map(([id, row]) => [id, fieldsWeOwn(row)]))
      yield* sink.write(trace)
      const second = new Map([...fake.rows()].map(([id, row]) => [id, fieldsWeOwn(row)]))

      expect(second).toEqual(first)
      expect(fake.rawRows()).toHaveLength(2 * trace.length)
      expectStored(fake, trace)
    }))

  it.scopedLive("a later, fuller version of a span replaces the earlier one entirely", () =>
    Effect.gen(function*() {
      const { fake, sink } = yield* setup()
      const inProgress: SpanRow = {
        ...turn,
        output: undefined,
        metrics: { start: turn.metrics.start, end: turn.metrics.start + 2 },
        metadata: { turn_id: "turn-1", still_running: true }
      }
      yield* sink.write([root, inProgress])
      expectStored(fake, [inProgress])

      yield* sink.write([turn])
      expectStored(fake, [root, turn])
      expect(fake.rows().get(turn.id)?.["metadata"]).not.toHaveProperty("still_running")
    }))

  it.scopedLive("a server answering 500 fails the write; after it recovers the same rows all arrive", () =>
    Effect.gen(function*() {
      const { fake, sink } = yield* setup({}, { retries: 1 })
      fake.failNext(1_000, 500)

      const error = yield* bounded(sink.write(trace)).pipe(Effect.flip)
      expect(error._tag).toBe("SpanSinkError")
      if (error._tag === "SpanSinkError") {
        expect(error.sink).toBe("braintrust")
        expect(error.rows).toBe(trace.length)
        expect(error.message).toContain("HTTP 500")
      }
      expect(fake.rows().size).toBe(0)

      fake.clearFaults()
      yield* sink.write(trace)
      expectStored(fake, trace)
    }))

  it.scopedLive("a server that is down fails the write; after it comes back a new write succeeds", () =>
    Effect.gen(function*() {
      const { fake, sink } = yield* setup()
      yield* sink.write([root])
      fake.setDown(true)

      const error = yield* bounded(sink.write(trace)).pipe(Effect.flip)
      expect(error._tag).toBe("SpanSinkError")

      fake.setDown(false)
      yield* sink.write(trace)
      expectStored(fake, trace)
    }))

  it.scopedLive("a server that accepts connections but never answers fails the write after the request timeout", () =>
    Effect.gen(function*() {
      const { fake, sink } = yield* setup({}, { requestTimeout: "300 millis" })
      fake.setHang(true)

      const error = yield* bounded(sink.write(trace)).pipe(Effect.flip)
      expect(error._tag).toBe("SpanSinkError")
      if (error._tag === "SpanSinkError") expect(error.message).toContain("no answer within 300 ms")

      fake.setHang(false)
      yield* sink.write(trace)
      expectStored(fake, trace)
    }))

  it.scopedLive("an API key rejected at login (401) is a SpanSinkError, not a silent drop", () =>
    Effect.gen(function*() {
      const { fake, sink } = yield* setup({ apiKey: "the-right-key" }, { apiKey: Redacted.make("a-wrong-key") })

      const error = yield* bounded(sink.write(trace)).pipe(Effect.flip)
      expect(error._tag).toBe("SpanSinkError")
      if (error._tag === "SpanSinkError") expect(error.message).toContain("401")
      expect(fake.rows().size).toBe(0)
      expect(fake.requests().some((request) => request.path === "/logs3")).toBe(false)
    }))

  it.scopedLive("a failed login does not poison later writes", () =>
    Effect.gen(function*() {
      const { fake, sink } = yield* setup()
      fake.failNext(1, 500, { path: "/api/apikey/login" })

      const error = yield* bounded(sink.write(trace)).pipe(Effect.flip)
      expect(error._tag).toBe("SpanSinkError")

      yield* sink.write(trace)
      expectStored(fake, trace)
    }))

  it.scopedLive("a lost acknowledgement is retried by the SDK and still leaves one row per span", () =>
    Effect.gen(function*() {
      const { fake, sink } = yield* setup({}, { retries: 1 })
      fake.failNext(1, 500, { store: true })

      yield* sink.write(trace)
      expectStored(fake, trace)
      expect(fake.rows().size).toBe(trace.length)
      expect(fake.rawRows().length).toBeGreaterThan(trace.length)
    }))

  it.scopedLive("an empty 200 answer is not an acknowledgement", () =>
    Effect.gen(function*() {
      const { fake, sink } = yield* setup()
      fake.failNext(1, 200, { body: "" })

      const error = yield* bounded(sink.write(trace)).pipe(Effect.flip)
      expect(error._tag).toBe("SpanSinkError")
      if (error._tag === "SpanSinkError") expect(error.message).toContain("not JSON")

      yield* sink.write(trace)
      expectStored(fake, trace)
    }))

  it.scopedLive("a write interrupted mid-flush leaves the sink usable for the next write", () =>
    Effect.gen(function*() {
      const { fake, sink } = yield* setup({}, { requestTimeout: "30 seconds" })
      // logged in and the SDK loaded, so the interruption hits the SDK's flush itself
      yield* sink.write([root])
      fake.setHang(true)
      const interrupted = yield* Effect.exit(Effect.timeout(sink.write(trace), "300 millis"))
      expect(Exit.isFailure(interrupted)).toBe(true)

      fake.setHang(false)
      yield* bounded(sink.write(trace))
      expectStored(fake, trace)
    }))

  it.scopedLive("splits large writes into several flushes and confirms every row", () =>
    Effect.gen(function*() {
      const { fake, sink } = yield* setup({}, { maxRowsPerFlush: 2 })
      yield* sink.write(trace)
      expectStored(fake, trace)
    }))
})

describe("BraintrustSpanSink.layer", () => {
  const withConfig = (entries: ReadonlyArray<readonly [string, string]>) =>
    BraintrustSpanSink.layer.pipe(
      Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(entries))))
    )

  it.scopedLive("reads BRAINTRUST_* config; the API URL overrides the one the login answer names", () =>
    Effect.gen(function*() {
      const app = yield* acquireFakeBraintrust()
      const api = yield* acquireFakeBraintrust()
      const layer = withConfig([
        ["BRAINTRUST_API_KEY", "test-api-key"],
        ["BRAINTRUST_APP_URL", app.url],
        ["BRAINTRUST_API_URL", api.url],
        ["BRAINTRUST_PROJECT", "from-config"]
      ])

      yield* Effect.gen(function*() {
        const sink = yield* SpanSink
        expect(sink.name).toBe("braintrust")
        // no organization known before the first login: no link rather than a wrong one
        expect(yield* sink.traceUrl(rootId)).toBeUndefined()

        yield* sink.write(trace)
        expectStored(api, trace)
        expect(app.rows().size).toBe(0)
        expect(api.rawRows()[0]?.["project_id"]).toBe("project-from-config")
        expect(yield* sink.traceUrl(rootId)).toBe(`${app.url}/app/fake-org/p/from-config/logs?r=${rootId}`)
      }).pipe(Effect.provide(layer))
    }))

  it.effect("defaults the project to \"codex\" and needs an API key", () =>
    Effect.gen(function*() {
      const missingKey = yield* Effect.exit(Layer.build(withConfig([])).pipe(Effect.scoped))
      expect(Exit.isFailure(missingKey)).toBe(true)

      const config = yield* BraintrustSpanSink.config.pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["BRAINTRUST_API_KEY", "k"]])))
      )
      expect(config.project).toBe("codex")
      expect(config.appUrl).toBeUndefined()
      expect(config.apiUrl).toBeUndefined()
      expect(Redacted.value(config.apiKey)).toBe("k")
    }))

  it.effect("refuses an empty BRAINTRUST_API_URL, which would break every SDK login", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Layer.build(withConfig([["BRAINTRUST_API_KEY", "k"], ["BRAINTRUST_API_URL", ""]])).pipe(Effect.scoped)
      )
      expect(Exit.isFailure(exit)).toBe(true)
    }))
})

describe("fake Braintrust server (test support)", () => {
  const post = (url: string, rows: ReadonlyArray<Record<string, unknown>>) =>
    Effect.promise(() =>
      fetch(`${url}/logs3`, { method: "POST", body: JSON.stringify({ rows, api_version: 2 }) }).then((r) => r.status)
    )

  it.scopedLive("applies the server merge contract: full rows replace, merge rows deep-merge", () =>
    Effect.gen(function*() {
      const fake = yield* acquireFakeBraintrust()
      yield* post(fake.url, [{ id: "a", metadata: { x: 1, nested: { keep: true } }, tags: ["t1"], output: [1, 2] }])
      yield* post(fake.url, [{ id: "a", _is_merge: true, metadata: { nested: { added: 2 } }, tags: ["t2"], output: [3] }])
      expect(fake.rows().get("a")).toEqual({
        id: "a",
        metadata: { x: 1, nested: { keep: true, added: 2 } },
        tags: ["t1", "t2"],
        output: [3]
      })

      yield* post(fake.url, [{ id: "a", _is_merge: false, input: "fresh" }])
      expect(fake.rows().get("a")).toEqual({ id: "a", input: "fresh" })
      expect(fake.rawRows()).toHaveLength(3)
      expect(yield* Effect.promise(() => fetch(`${fake.url}/nope`).then((r) => r.status))).toBe(404)
    }))
})
