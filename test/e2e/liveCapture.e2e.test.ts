/**
 * Issue 3, proven against the real Codex CLI: one `codex exec` session per scenario (a plain
 * answer, shell commands, apply_patch, multi-turn with resume, parallel tool calls with
 * reasoning, a failing and a denied tool call, a subagent, an automatic compaction, an
 * interrupt), run by `@openai/codex` 0.169 from node_modules in a private network namespace
 * against the scripted fake Responses API, with `trace-codex hook` wired to all 12 events and
 * live capture pointed at a fake Braintrust server (see codexRunner.ts: the relay forwards the
 * namespace's 127.0.0.1 to both fakes' Unix sockets, and keeps doing so after Codex exits until
 * the drainer the hooks started is gone).
 *
 * Per scenario, three tests:
 * 1. Codex followed the script, and `trace-codex import` of the rollouts it wrote (through the
 *    real Braintrust SDK, into a second fake Braintrust server) gives a trace that satisfies
 *    SPEC §6 (checkTreeInvariants, plus the counts and token totals read straight from the
 *    rollout) and shows what happened in the scenario;
 * 2. the rows the fake Braintrust server received from live capture pass the same checks;
 * 3. live == import: same span ids, parents, names, types, inputs, outputs, errors, metrics and
 *    metadata, apart from the few metadata keys only hooks know (HOOK_ONLY_METADATA).
 *
 * Skipped, with the reason, when Codex cannot run here (no Linux, no `unshare`, no right to
 * create namespaces). Needs dist/ built (vitest's global setup does it).
 */
import { describe, expect, layer } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import { isRecord } from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as fs from "node:fs"
import * as path from "node:path"
import { isDeepStrictEqual } from "node:util"
import { SpanKeys } from "../../src/domain/ids"
import { checkTreeInvariants } from "../../src/domain/invariants"
import { SpanMetrics, type SpanRow, SpanType } from "../../src/domain/SpanRow"
import {
  acquireCodexSandbox,
  type CodexRun,
  type CodexSandbox,
  type CodexSandboxOptions,
  type ExecOptions,
  type ProcessResult,
  probeCodex,
  TRACE_CODEX_BUNDLE
} from "../support/codexRunner"
import { acquireFakeBraintrust, type FakeBraintrust } from "../support/fakeBraintrust"
import {
  acquireFakeResponses,
  applyPatch,
  callTool,
  execCommand,
  type FakeResponses,
  type FakeScript,
  respond,
  say,
  think
} from "../support/fakeResponses"
import { threadFacts } from "../support/rolloutFacts"
import { SHELL_PROMPT, SHELL_SCRIPT, SUBAGENT_PROMPT, SUBAGENT_SCRIPT } from "./scripts"

const codex = probeCodex()
if (!codex.available) console.warn(`Codex live-capture end-to-end suite skipped: ${codex.reason}`)

/** Codex's own time limit per run; the relay's wait for the drainer (≤ 60 s) comes on top */
const RUN_TIMEOUT_MS = 60_000
/** the first test of a scenario runs Codex (several runs for resume), the drainer and import */
const TEST_TIMEOUT_MS = 300_000

const API_KEY = "e2e-live-capture-key"
const PROJECT = "codex-e2e"

/**
 * Metadata only hooks know, which `import` cannot (SPEC §6: "hook-only facts such as
 * permission_mode aside"): on the root, SessionStart's `source` (first and latest: startup,
 * resume, …) and `permission_mode`; on a turn, its PermissionRequests; on a compaction,
 * PreCompact's `trigger`. Everything else must be equal. Written out here rather than imported
 * from src/live/hookFacts.ts, so that a key added there shows up here as a difference first.
 */
const HOOK_ONLY_METADATA: ReadonlyArray<string> = [
  "session_start_source",
  "last_session_start_source",
  "permission_mode",
  "permission_requests",
  "compaction_trigger"
]

const DENY_HOOK = path.join(__dirname, "deny-hook.mjs")
const shellQuote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`

// ---------------------------------------------------------------------------------------------
// Scenarios and their runs

interface RunSpec {
  readonly prompt: string
  /** `codex exec resume <the session id the first run printed>` */
  readonly resume?: boolean
  /** SIGINT to Codex as soon as this file exists in the work dir */
  readonly interruptOnFile?: string
  /** what `codex exec` exits with; default 0 */
  readonly exitCode?: number
}

interface ScenarioSpec {
  readonly title: string
  readonly script: FakeScript
  readonly runs: ReadonlyArray<RunSpec>
  readonly sandbox?: Pick<CodexSandboxOptions, "extraConfig" | "workFiles" | "extraHooks">
}

interface Outcome {
  readonly spec: ScenarioSpec
  readonly fake: FakeResponses
  readonly sandbox: CodexSandbox
  readonly runs: ReadonlyArray<CodexRun>
  /** the thread id the first run printed */
  readonly sessionId: string
  /** `trace-codex import <CODEX_HOME>/sessions` into the import fake */
  readonly imported: ProcessResult
}

/** the fake Braintrust servers, shared by the whole file, and each scenario's outcome, run once */
class LiveCaptureE2e extends Context.Tag("test/e2e/LiveCaptureE2e")<LiveCaptureE2e, {
  /** receives live capture, from the drainer inside the namespace (through the relay) */
  readonly live: FakeBraintrust
  /** receives `trace-codex import`, run on the host */
  readonly imported: FakeBraintrust
  readonly outcome: (spec: ScenarioSpec) => Effect.Effect<Outcome>
}>() {}

const runScenario = (spec: ScenarioSpec, live: FakeBraintrust, importTarget: FakeBraintrust) =>
  Effect.gen(function* () {
    const socketPath = live.socketPath
    if (socketPath === undefined) return yield* Effect.dieMessage("the live fake Braintrust server has no Unix socket")
    const fake = yield* acquireFakeResponses(spec.script)
    const sandbox = yield* acquireCodexSandbox({
      fake,
      timeoutMs: RUN_TIMEOUT_MS,
      braintrust: { socketPath, apiKey: API_KEY, project: PROJECT },
      ...spec.sandbox
    })
    const runs: Array<CodexRun> = []
    for (const run of spec.runs) {
      const marker = run.interruptOnFile === undefined ? undefined : path.join(sandbox.workDir, run.interruptOnFile)
      const options: ExecOptions = {
        ...(run.resume === true ? { resume: { sessionId: runs[0]?.threadId ?? "(the first run printed no thread id)" } } : {}),
        ...(marker === undefined ? {} : { interrupt: { when: () => fs.existsSync(marker) } })
      }
      runs.push(yield* Effect.promise(() => sandbox.exec(run.prompt, options)))
    }
    // import knows nothing of live capture: its own state dir (and so its own import ledger)
    const imported = yield* Effect.promise(() =>
      sandbox.traceCodex(["import", path.join(sandbox.codexHome, "sessions")], {
        TRACE_CODEX_STATE_DIR: path.join(sandbox.root, "import-state"),
        TRACE_TO_BRAINTRUST: "true",
        BRAINTRUST_API_KEY: API_KEY,
        BRAINTRUST_PROJECT: PROJECT,
        BRAINTRUST_API_URL: importTarget.url,
        BRAINTRUST_APP_URL: importTarget.url
      })
    )
    const outcome: Outcome = { spec, fake, sandbox, runs, sessionId: runs[0]?.threadId ?? "", imported }
    return outcome
  })

const LiveCaptureE2eLive = Layer.scoped(
  LiveCaptureE2e,
  Effect.gen(function* () {
    const live = yield* acquireFakeBraintrust({ apiKey: API_KEY, unixSocket: true })
    const imported = yield* acquireFakeBraintrust({ apiKey: API_KEY })
    const scope = yield* Effect.scope
    // each scenario's fakes and sandbox live as long as the file's servers
    const outcome = yield* Effect.cachedFunction((spec: ScenarioSpec) => runScenario(spec, live, imported).pipe(Scope.extend(scope)))
    return { live, imported, outcome }
  })
)

// ---------------------------------------------------------------------------------------------
// Rows as Braintrust stored them

const StoredSpan = Schema.Struct({
  id: Schema.String,
  span_id: Schema.String,
  root_span_id: Schema.String,
  span_parents: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))),
  span_attributes: Schema.Struct({ name: Schema.String, type: SpanType }),
  metrics: SpanMetrics,
  input: Schema.optional(Schema.Unknown),
  output: Schema.optional(Schema.Unknown),
  error: Schema.optional(Schema.NullOr(Schema.String)),
  metadata: Schema.optional(Schema.NullOr(Schema.Record({ key: Schema.String, value: Schema.Unknown }))),
  tags: Schema.optional(Schema.NullOr(Schema.Array(Schema.String)))
})
const decodeStoredSpan = Schema.decodeUnknownEither(StoredSpan)

/** the stored rows of one session's trace, back in SpanRow shape, and rows that would not decode */
const sessionRows = (server: FakeBraintrust, sessionId: string): { readonly rows: Array<SpanRow>; readonly undecodable: Array<string> } => {
  const rootId = SpanKeys.session(sessionId)
  const rows: Array<SpanRow> = []
  const undecodable: Array<string> = []
  for (const stored of server.rows().values()) {
    if (stored["root_span_id"] !== rootId) continue
    const decoded = decodeStoredSpan(stored)
    if (Either.isLeft(decoded)) {
      undecodable.push(`${String(stored["id"])}: ${decoded.left.message}`)
      continue
    }
    const s = decoded.right
    rows.push({
      id: s.id,
      span_id: s.span_id,
      root_span_id: s.root_span_id,
      span_parents: s.span_parents ?? [],
      span_attributes: s.span_attributes,
      metrics: s.metrics,
      ...(s.input === undefined ? {} : { input: s.input }),
      ...(s.output === undefined ? {} : { output: s.output }),
      ...(s.error === undefined || s.error === null ? {} : { error: s.error }),
      metadata: s.metadata ?? {},
      ...(s.tags === undefined || s.tags === null ? {} : { tags: s.tags })
    })
  }
  return { rows, undecodable }
}

// ---------------------------------------------------------------------------------------------
// Diagnostics

const clip = (text: string, max = 1500): string => (text.length > max ? `…${text.slice(-max)}` : text)

const braintrustTraffic = (server: FakeBraintrust): string => {
  const counts = new Map<string, number>()
  for (const request of server.requests()) {
    const key = `${request.method} ${request.path} → ${request.outcome}`
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return [...counts].map(([key, n]) => `${n}× ${key}`).join(", ") || "no requests"
}

const diagnostics = (outcome: Outcome, live?: FakeBraintrust): string =>
  [
    ...outcome.runs.map((run, n) =>
      [
        `run ${n + 1}: ${run.args.join(" ")}`,
        `  exit ${run.exitCode} signal ${run.signal} timed out ${run.timedOut} interrupted ${run.interruptedWith ?? "no"} in ${run.durationMs} ms`,
        `  drainer after Codex exited: ${JSON.stringify(run.drainer)}`,
        `  stderr: ${clip(run.stderr.trim())}`
      ].join("\n")
    ),
    `fake model requests: ${outcome.fake.requests().map((r) => `#${r.seq} ${r.lane} -> ${r.answeredBy}`).join(", ")}`,
    `script problems: ${outcome.fake.problems().join("; ") || "none"}`,
    `import: exit ${outcome.imported.exitCode}: ${clip(outcome.imported.stdout.trim() + "\n" + outcome.imported.stderr.trim())}`,
    ...(live === undefined ? [] : [`live fake Braintrust: ${braintrustTraffic(live)}`]),
    `state dir: ${walk(outcome.sandbox.stateDir).map((file) => path.relative(outcome.sandbox.stateDir, file)).join(", ") || "empty"}`,
    ...hookLog(outcome.sandbox.stateDir)
  ].join("\n")

const walk = (dir: string): Array<string> =>
  fs.existsSync(dir)
    ? fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? walk(path.join(dir, entry.name)) : [path.join(dir, entry.name)]
      )
    : []

const hookLog = (stateDir: string): Array<string> =>
  walk(path.join(stateDir, "logs")).map((file) => `${path.basename(file)}: ${clip(fs.readFileSync(file, "utf8").trim())}`)

// ---------------------------------------------------------------------------------------------
// What the rollouts say, read without any trace-codex code

// ---------------------------------------------------------------------------------------------
// Reading a trace

const ofType = (rows: ReadonlyArray<SpanRow>, type: SpanRow["span_attributes"]["type"]) =>
  rows.filter((row) => row.span_attributes.type === type)

const byStart = (a: SpanRow, b: SpanRow) => a.metrics.start - b.metrics.start

const childrenOf = (rows: ReadonlyArray<SpanRow>, parent: SpanRow | undefined) =>
  parent === undefined ? [] : rows.filter((row) => row.span_parents[0] === parent.id).sort(byStart)

const rootOf = (rows: ReadonlyArray<SpanRow>) => rows.find((row) => row.span_parents.length === 0)

const isTurn = (row: SpanRow) => row.span_attributes.type === "task" && row.span_attributes.name.startsWith("turn")

/** the turns directly under `scope` (the root, or a subagent span), in order */
const turnsUnder = (rows: ReadonlyArray<SpanRow>, scope: SpanRow | undefined) => childrenOf(rows, scope).filter(isTurn)

const toolsUnder = (rows: ReadonlyArray<SpanRow>, turn: SpanRow | undefined) =>
  childrenOf(rows, turn).filter((row) => row.span_attributes.type === "tool")

const json = (value: unknown): string => JSON.stringify(value) ?? "undefined"

/**
 * SPEC §6 on one session's rows: checkTreeInvariants, the root is the session's, and per
 * thread the llm spans (compaction included) are its model responses, its tool calls and
 * compactions each have one span, its turns are its task_started turns, its tokens add up to
 * the rollout's final totals; a subagent hangs under the turn that spawned it. Also: the llm
 * spans are exactly the responses the fake model served.
 */
const expectSpecTrace = (rows: ReadonlyArray<SpanRow>, outcome: Outcome, context: string): void => {
  expect(rows.length, `no rows for session ${outcome.sessionId}\n${context}`).toBeGreaterThan(0)
  expect(checkTreeInvariants(rows), context).toEqual([])
  const root = rootOf(rows)
  expect(root?.id, context).toBe(SpanKeys.session(outcome.sessionId))
  expect(root?.span_attributes, context).toEqual({ name: `codex: ${path.basename(outcome.sandbox.workDir)}`, type: "task" })

  const byId = new Map(rows.map((row) => [row.id, row]))
  const threads = outcome.sandbox.rolloutFiles().map(threadFacts)
  const subagentSpans = new Map(threads.filter((t) => t.parentThreadId !== undefined).map((t) => [SpanKeys.subagent(t.threadId), t.threadId]))
  const threadOf = (row: SpanRow): string => {
    let at = byId.get(row.span_parents[0] ?? "")
    while (at !== undefined) {
      const child = subagentSpans.get(at.id)
      if (child !== undefined) return child
      at = byId.get(at.span_parents[0] ?? "")
    }
    return outcome.sessionId
  }
  for (const thread of threads) {
    const label = `${context}\nthread ${thread.threadId} (${path.basename(thread.file)})`
    const own = rows.filter((row) => threadOf(row) === thread.threadId)
    const llm = ofType(own, "llm")
    expect(new Set(llm.map((row) => row.metadata["response_id"])), label).toEqual(thread.responseIds)
    expect(llm, label).toHaveLength(thread.responseIds.size)
    expect(ofType(own, "tool"), label).toHaveLength(thread.toolCalls)
    expect(llm.filter((row) => row.span_attributes.name === "compaction"), label).toHaveLength(thread.compactions)
    expect(own.filter(isTurn).map((row) => row.metadata["turn_id"]), label).toEqual(thread.turnIds)
    const sum = (key: string) => llm.reduce((n, row) => n + (row.metrics[key] ?? 0), 0)
    expect({ prompt_tokens: sum("prompt_tokens"), completion_tokens: sum("completion_tokens") }, label).toEqual({
      prompt_tokens: thread.finalInputTokens,
      completion_tokens: thread.finalOutputTokens
    })
    if (thread.parentThreadId !== undefined) {
      const span = byId.get(SpanKeys.subagent(thread.threadId))
      expect(span?.span_parents, label).toEqual([SpanKeys.turn(thread.parentThreadId, thread.parentTurnId ?? "(no parent turn)")])
    }
  }
  const served = outcome.fake.modelResponses().map((request) => request.responseId)
  expect(ofType(rows, "llm").map((row) => row.metadata["response_id"]).sort(), context).toEqual([...served].sort())
}

/** Codex exited as the scenario expects and followed the script; our hook printed nothing */
const expectScriptFollowed = (outcome: Outcome, context: string): void => {
  expect(outcome.runs, context).toHaveLength(outcome.spec.runs.length)
  outcome.runs.forEach((run, n) => {
    const spec = outcome.spec.runs[n]
    expect(run.timedOut, context).toBe(false)
    expect(run.exitCode, context).toBe(spec?.exitCode ?? 0)
    expect(run.threadId, context).toBe(outcome.sessionId)
    expect(run.interruptedWith, context).toBe(spec?.interruptOnFile === undefined ? undefined : "SIGINT")
    const types = run.events.map((event) => String(event["type"]))
    expect(types, context).not.toContain("turn.failed")
    if (spec?.interruptOnFile === undefined) expect(types, context).toContain("turn.completed")
  })
  expect(outcome.fake.problems(), context).toEqual([])
  expect(outcome.sessionId, context).not.toBe("")
  for (const file of outcome.sandbox.rolloutFiles()) {
    const rollout = fs.readFileSync(file, "utf8")
    expect(rollout, `${file} holds text a hook printed`).not.toContain("hooks.additional_context")
    expect(rollout, `${file} holds a hook's Stop decision`).not.toContain(`"HookPrompt"`)
  }
  expect(outcome.imported.exitCode, context).toBe(0)
}

const comparable = (row: SpanRow): unknown =>
  JSON.parse(
    JSON.stringify({
      root_span_id: row.root_span_id,
      span_parents: row.span_parents,
      name: row.span_attributes.name,
      type: row.span_attributes.type,
      input: row.input,
      output: row.output,
      error: row.error,
      metrics: row.metrics,
      metadata: Object.fromEntries(Object.entries(row.metadata).filter(([key]) => !HOOK_ONLY_METADATA.includes(key))),
      tags: row.tags
    })
  )

/** every way `live` differs from `imported`, one line each */
const differences = (live: ReadonlyArray<SpanRow>, imported: ReadonlyArray<SpanRow>): Array<string> => {
  const liveById = new Map(live.map((row) => [row.id, row]))
  const importedById = new Map(imported.map((row) => [row.id, row]))
  const name = (row: SpanRow) => `${row.span_attributes.type} "${row.span_attributes.name}" ${row.id}`
  const found: Array<string> = []
  for (const row of imported) if (!liveById.has(row.id)) found.push(`only in import: ${name(row)}`)
  for (const row of live) if (!importedById.has(row.id)) found.push(`only in live: ${name(row)}`)
  for (const row of imported) {
    const other = liveById.get(row.id)
    if (other === undefined) continue
    const mine = comparable(row)
    const theirs = comparable(other)
    if (!isRecord(mine) || !isRecord(theirs)) continue
    for (const key of new Set([...Object.keys(mine), ...Object.keys(theirs)])) {
      if (isDeepStrictEqual(mine[key], theirs[key])) continue
      found.push(`${name(row)}: ${key}: live ${clip(json(theirs[key]), 400)} ≠ import ${clip(json(mine[key]), 400)}`)
    }
  }
  return found
}

// ---------------------------------------------------------------------------------------------
// The scenarios

interface ScenarioCase {
  readonly spec: ScenarioSpec
  /** facts about Codex's run itself (files it changed, its exit) */
  readonly codexFacts?: (outcome: Outcome) => void
  /** what the trace must show, checked on the import rows and on the live rows alike */
  readonly traceFacts: (rows: ReadonlyArray<SpanRow>, outcome: Outcome) => void
  /** what hooks told live capture beyond the rollout, on the live rows */
  readonly hookFacts?: (rows: ReadonlyArray<SpanRow>, outcome: Outcome) => void
}

/** every live trace: the root carries SessionStart's source and permission mode */
const expectSessionStartFacts = (rows: ReadonlyArray<SpanRow>): void => {
  expect(rootOf(rows)?.metadata).toMatchObject({ session_start_source: "startup", permission_mode: "bypassPermissions" })
}

const SLOW_MARKER = "slow-command-started"

const CASES: ReadonlyArray<ScenarioCase> = [
  {
    spec: {
      title: "a plain answer",
      script: {
        turns: [{
          prompt: "Say hello.",
          responses: [respond([say("Hello from the fake model.")], { inputTokens: 12_345, cachedTokens: 2_000, outputTokens: 67 })]
        }]
      },
      runs: [{ prompt: "Say hello." }]
    },
    traceFacts: (rows) => {
      const [turn, ...more] = turnsUnder(rows, rootOf(rows))
      expect(more).toEqual([])
      expect(turn?.span_attributes.name).toBe("turn: 1")
      expect(json(turn?.input)).toContain("Say hello.")
      expect(json(turn?.output)).toContain("Hello from the fake model.")
      expect(turn?.error).toBeUndefined()
      const calls = childrenOf(rows, turn)
      expect(calls.map((row) => row.span_attributes.type)).toEqual(["llm"])
      expect(calls[0]?.metrics).toMatchObject({ prompt_tokens: 12_345, prompt_cached_tokens: 2_000, completion_tokens: 67, tokens: 12_412 })
      expect(json(calls[0]?.output)).toContain("Hello from the fake model.")
    }
  },
  {
    spec: {
      title: "shell commands",
      script: SHELL_SCRIPT,
      runs: [{ prompt: SHELL_PROMPT }],
      sandbox: { workFiles: { "README.md": "# demo\n" } }
    },
    traceFacts: (rows) => {
      const [turn] = turnsUnder(rows, rootOf(rows))
      expect(childrenOf(rows, turn).map((row) => row.span_attributes.type)).toEqual(["llm", "tool", "llm", "tool", "llm"])
      const tools = toolsUnder(rows, turn)
      expect(tools.map((row) => ({ name: row.span_attributes.name, input: row.input, call: row.metadata["call_id"], exit: row.metadata["exit_code"], error: row.error }))).toEqual([
        { name: "exec_command", input: { cmd: "echo hi", yield_time_ms: 1000 }, call: "call_echo_1", exit: 0, error: undefined },
        { name: "exec_command", input: { cmd: "ls", yield_time_ms: 1000 }, call: "call_ls_1", exit: 0, error: undefined }
      ])
      expect(json(tools[0]?.output)).toContain("hi")
      expect(json(tools[1]?.output)).toContain("README.md")
    }
  },
  {
    spec: {
      title: "apply_patch",
      script: {
        turns: [{
          prompt: "hello.txt",
          responses: [
            respond([applyPatch(
              "call_patch_1",
              "*** Begin Patch\n*** Add File: notes.txt\n+first note\n*** Update File: hello.txt\n@@\n-hello\n+hello, patched\n world\n*** End Patch\n"
            )]),
            respond([say("Patched hello.txt and added notes.txt.")])
          ]
        }]
      },
      runs: [{ prompt: "Change hello to 'hello, patched' in hello.txt and add a notes.txt file." }],
      sandbox: { workFiles: { "hello.txt": "hello\nworld\n" } }
    },
    codexFacts: (outcome) => {
      expect(fs.readFileSync(path.join(outcome.sandbox.workDir, "hello.txt"), "utf8")).toBe("hello, patched\nworld\n")
      expect(fs.readFileSync(path.join(outcome.sandbox.workDir, "notes.txt"), "utf8")).toBe("first note\n")
    },
    traceFacts: (rows) => {
      const [turn] = turnsUnder(rows, rootOf(rows))
      const tools = toolsUnder(rows, turn)
      expect(tools.map((row) => [row.span_attributes.name, row.metadata["call_id"], row.error])).toEqual([["apply_patch", "call_patch_1", undefined]])
      expect(json(tools[0]?.input)).toContain("*** Add File: notes.txt")
      expect(json(tools[0]?.output)).toContain("notes.txt")
      expect(json(turn?.output)).toContain("Patched hello.txt")
    }
  },
  {
    spec: {
      title: "multi-turn with `exec resume <session id>`",
      script: {
        turns: [
          { prompt: "Remember the number 42.", responses: [respond([say("OK, I will remember 42.")])] },
          {
            prompt: "What number did I ask you to remember?",
            responses: [respond([execCommand("call_year_1", "date -u +%Y")]), respond([say("You asked me to remember 42.")])]
          }
        ]
      },
      runs: [
        { prompt: "Remember the number 42." },
        { prompt: "What number did I ask you to remember? Check the year too.", resume: true }
      ]
    },
    codexFacts: (outcome) => {
      // one thread, one rollout, both turns in it; the resumed turn's request carries turn 1
      expect(outcome.sandbox.rolloutFiles()).toHaveLength(1)
      expect(outcome.runs[1]?.args).toContain(outcome.sessionId)
      expect(json(outcome.fake.modelResponses()[1]?.body)).toContain("OK, I will remember 42.")
    },
    traceFacts: (rows) => {
      const root = rootOf(rows)
      const turns = turnsUnder(rows, root)
      expect(turns.map((row) => row.span_attributes.name)).toEqual(["turn: 1", "turn: 2"])
      expect(json(turns[0]?.input)).toContain("Remember the number 42.")
      expect(json(turns[0]?.output)).toContain("OK, I will remember 42.")
      expect(json(turns[1]?.input)).toContain("What number did I ask you to remember?")
      expect(json(turns[1]?.output)).toContain("You asked me to remember 42.")
      expect(toolsUnder(rows, turns[0])).toEqual([])
      expect(toolsUnder(rows, turns[1]).map((row) => [row.span_attributes.name, row.metadata["call_id"]])).toEqual([["exec_command", "call_year_1"]])
      // the root's end moved forward to the resumed turn's end
      expect(root?.metrics.end).toBe(Math.max(...turns.map((row) => row.metrics.end)))
    },
    hookFacts: (rows) => {
      expect(rootOf(rows)?.metadata["last_session_start_source"]).toBe("resume")
    }
  },
  {
    spec: {
      title: "parallel tool calls with reasoning",
      script: {
        turns: [{
          prompt: "Run two commands in parallel.",
          responses: [
            respond(
              [
                think("**Planning**\n\nI will run both commands at once.", "**Detail**\n\nThey are independent."),
                execCommand("call_par_a", "sleep 0.3; echo one", 2000),
                execCommand("call_par_b", "echo two", 2000)
              ],
              { reasoningTokens: 21 }
            ),
            respond([think("**Wrapping up**\n\nBoth commands succeeded."), say("Both ran: one and two.")], { reasoningTokens: 9 })
          ]
        }]
      },
      runs: [{ prompt: "Run two commands in parallel." }]
    },
    codexFacts: (outcome) => {
      // Codex offered parallel calls and sent both outputs back in one request
      const second = outcome.fake.modelResponses()[1]
      expect(json(second?.body)).toContain("call_par_a")
      expect(json(second?.body)).toContain("call_par_b")
    },
    traceFacts: (rows) => {
      const [turn] = turnsUnder(rows, rootOf(rows))
      const llm = childrenOf(rows, turn).filter((row) => row.span_attributes.type === "llm")
      expect(llm).toHaveLength(2)
      expect(llm.map((row) => row.metrics["completion_reasoning_tokens"])).toEqual([21, 9])
      expect(json(llm[0]?.output)).toContain("I will run both commands at once.")
      expect(json(llm[0]?.output)).toContain("call_par_a")
      expect(json(llm[0]?.output)).toContain("call_par_b")
      expect(json(llm[1]?.output)).toContain("Both commands succeeded.")
      const tools = toolsUnder(rows, turn)
      expect(tools.map((row) => row.metadata["call_id"]).sort()).toEqual(["call_par_a", "call_par_b"])
      const output = (call: string) => json(tools.find((row) => row.metadata["call_id"] === call)?.output)
      expect(output("call_par_a")).toContain("one")
      expect(output("call_par_b")).toContain("two")
      for (const tool of tools) expect(tool.error).toBeUndefined()
    }
  },
  {
    spec: {
      title: "a failing and a denied tool call",
      script: {
        turns: [{
          prompt: "Try a few things that will fail.",
          responses: [
            respond([execCommand("call_fail_1", "echo about to fail >&2; exit 3")]),
            respond([callTool("call_unknown_1", "no_such_tool", { x: 1 })]),
            respond([execCommand("call_denied_1", "echo DENY_ME && touch should-not-exist")]),
            respond([say("All three attempts failed as expected.")])
          ]
        }]
      },
      runs: [{ prompt: "Try a few things that will fail." }],
      sandbox: {
        extraHooks: {
          PreToolUse: [{
            matcher: "Bash",
            hooks: [{ type: "command", command: `${shellQuote(process.execPath)} ${shellQuote(DENY_HOOK)}`, timeout: 30 }]
          }]
        }
      }
    },
    codexFacts: (outcome) => {
      expect(fs.existsSync(path.join(outcome.sandbox.workDir, "should-not-exist"))).toBe(false)
      expect(json(outcome.fake.modelResponses()[3]?.body)).toContain("Command blocked by PreToolUse hook")
    },
    traceFacts: (rows) => {
      const [turn] = turnsUnder(rows, rootOf(rows))
      expect(turn?.error).toBeUndefined()
      const tools = toolsUnder(rows, turn)
      expect(tools.map((row) => [row.span_attributes.name, row.metadata["call_id"]])).toEqual([
        ["exec_command", "call_fail_1"],
        ["no_such_tool", "call_unknown_1"],
        ["exec_command", "call_denied_1"]
      ])
      const [failed, unknown, denied] = tools
      expect(failed?.metadata["exit_code"]).toBe(3)
      expect(failed?.error).toContain("exited with code 3")
      expect(json(failed?.output)).toContain("about to fail")
      expect(unknown?.error).toContain("unsupported call: no_such_tool")
      expect(denied?.error).toContain("Command blocked by PreToolUse hook: e2e policy: DENY_ME is not allowed")
      expect(denied?.metadata["approval"]).toBe("denied")
      expect(json(turn?.output)).toContain("All three attempts failed as expected.")
    }
  },
  {
    spec: {
      title: "a subagent (spawn_agent)",
      script: SUBAGENT_SCRIPT,
      runs: [{ prompt: SUBAGENT_PROMPT }]
    },
    codexFacts: (outcome) => {
      expect(outcome.sandbox.rolloutFiles()).toHaveLength(2)
      expect(outcome.fake.modelResponses().filter((request) => request.lane === "subagent")).toHaveLength(2)
    },
    traceFacts: (rows, outcome) => {
      const [turn, ...more] = turnsUnder(rows, rootOf(rows))
      expect(more).toEqual([])
      const children = childrenOf(rows, turn)
      expect(children.filter((row) => row.span_attributes.type === "tool").map((row) => row.span_attributes.name).sort()).toEqual(["spawn_agent", "wait_agent"])
      const subagents = children.filter((row) => row.span_attributes.type === "task")
      expect(subagents).toHaveLength(1)
      const subagent = subagents[0]
      expect(subagent?.span_attributes.name).toMatch(/^subagent: /)
      const childThread = outcome.sandbox.rolloutFiles().map(threadFacts).find((thread) => thread.parentThreadId !== undefined)
      expect(subagent?.id).toBe(SpanKeys.subagent(childThread?.threadId ?? ""))
      expect(subagent?.metadata["agent_id"]).toBe(childThread?.threadId)
      const childTurns = turnsUnder(rows, subagent)
      expect(childTurns).toHaveLength(1)
      expect(json(childTurns[0]?.input)).toContain("SUBTASK: run `echo 1 2 3`")
      expect(json(childTurns[0]?.output)).toContain("Child result: 1 2 3")
      const childTools = toolsUnder(rows, childTurns[0])
      expect(childTools.map((row) => [row.span_attributes.name, row.metadata["call_id"]])).toEqual([["exec_command", "call_child_1"]])
      expect(json(childTools[0]?.output)).toContain("1 2 3")
      expect(childrenOf(rows, childTurns[0]).filter((row) => row.span_attributes.type === "llm")).toHaveLength(2)
    }
  },
  {
    spec: {
      title: "an automatic compaction",
      script: {
        turns: [{
          prompt: "Start the long task.",
          responses: [
            // far above model_auto_compact_token_limit: Codex compacts before its next request
            respond([execCommand("call_step_1", "echo step1")], { inputTokens: 60_000, cachedTokens: 1_000, outputTokens: 50 }),
            respond([say("Turn 1 done after a compaction.")], { inputTokens: 5_000, cachedTokens: 1_000, outputTokens: 20 })
          ]
        }],
        compactions: [
          respond([say("FAKE-SUMMARY: the user asked for a long task; step1 already ran.")], { inputTokens: 3_000, cachedTokens: 0, outputTokens: 40 })
        ]
      },
      runs: [{ prompt: "Start the long task." }],
      sandbox: { extraConfig: "model_auto_compact_token_limit = 20000" }
    },
    codexFacts: (outcome) => {
      expect(outcome.fake.modelResponses().map((request) => request.lane)).toEqual(["main", "compaction", "main"])
    },
    traceFacts: (rows, outcome) => {
      const [turn, ...more] = turnsUnder(rows, rootOf(rows))
      expect(more).toEqual([])
      const children = childrenOf(rows, turn)
      expect(children.map((row) => `${row.span_attributes.type} ${row.span_attributes.name}`)).toEqual([
        "llm gpt-5.5",
        "tool exec_command",
        "llm compaction",
        "llm gpt-5.5"
      ])
      const compaction = children[2]
      const compactionRequest = outcome.fake.modelResponses().find((request) => request.lane === "compaction")
      expect(compaction?.metadata["response_id"]).toBe(compactionRequest?.responseId)
      expect(json(compaction?.output)).toContain("FAKE-SUMMARY: the user asked for a long task")
      expect(compaction?.metrics).toMatchObject({ prompt_tokens: 3_000, completion_tokens: 40 })
      expect(json(turn?.output)).toContain("Turn 1 done after a compaction.")
    },
    hookFacts: (rows) => {
      expect(rows.find((row) => row.span_attributes.name === "compaction")?.metadata["compaction_trigger"]).toBe("auto")
    }
  },
  {
    spec: {
      title: "an interrupt (SIGINT while a slow command runs)",
      script: {
        turns: [{
          prompt: "Run the slow job.",
          responses: [respond([execCommand("call_slow_1", `touch ${SLOW_MARKER}; sleep 30`, 25_000)])]
        }]
      },
      runs: [{ prompt: "Run the slow job.", interruptOnFile: SLOW_MARKER, exitCode: 1 }]
    },
    codexFacts: (outcome) => {
      const rollout = fs.readFileSync(outcome.sandbox.rolloutFiles()[0] ?? "", "utf8")
      expect(rollout).toContain(`"turn_aborted"`)
      expect(rollout).not.toContain(`"task_complete"`)
    },
    traceFacts: (rows) => {
      const [turn, ...more] = turnsUnder(rows, rootOf(rows))
      expect(more).toEqual([])
      expect(turn?.error).toContain("interrupted")
      const tools = toolsUnder(rows, turn)
      expect(tools.map((row) => [row.span_attributes.name, row.metadata["call_id"]])).toEqual([["exec_command", "call_slow_1"]])
      expect(tools[0]?.error).toContain("aborted by user")
      expect(json(tools[0]?.input)).toContain("sleep 30")
    }
  }
]

// ---------------------------------------------------------------------------------------------

describe.skipIf(!codex.available)(
  codex.available ? `${codex.version}: live capture vs import, end to end` : `Codex live capture end to end (skipped: ${codex.reason})`,
  () => {
    layer(LiveCaptureE2eLive, { excludeTestServices: true })((it) => {
      it.effect("runs against the bundle users run", () =>
        Effect.sync(() => {
          expect(fs.existsSync(TRACE_CODEX_BUNDLE), `${TRACE_CODEX_BUNDLE} is missing: run node scripts/build.mjs`).toBe(true)
        }))

      it("control: the live == import comparison notices a changed output, a moved span, a missing one and a hook-only key it must not ignore", () => {
        const row = (id: string, parent: string | undefined, name: string): SpanRow => ({
          id,
          span_id: id,
          root_span_id: "root",
          span_parents: parent === undefined ? [] : [parent],
          span_attributes: { name, type: "task" },
          metrics: { start: 1, end: 2 },
          output: "same",
          metadata: { session_start_source: "startup" }
        })
        const imported = [row("root", undefined, "codex: work"), row("a", "root", "turn: 1"), row("b", "a", "turn: 2")]
        const [root, a, b] = imported
        if (root === undefined || a === undefined || b === undefined) return expect.unreachable()
        expect(differences(imported, imported)).toEqual([])
        expect(differences([root, a, { ...b, metadata: { ...b.metadata, permission_mode: "default" } }], imported)).toEqual([])
        expect(differences([root, { ...a, output: "changed" }, b], imported)).toHaveLength(1)
        expect(differences([root, a, { ...b, span_parents: ["root"] }], imported)).toHaveLength(1)
        expect(differences([root, a], imported)).toEqual([`only in import: task "turn: 2" b`])
        expect(differences([root, a, { ...b, metadata: { ...b.metadata, agent_id: "x" } }], imported)).toHaveLength(1)
      })

      for (const { codexFacts, hookFacts, spec, traceFacts } of CASES) {
        it.effect(`${spec.title}: Codex follows the script; import of its rollouts is a §6 trace that shows it`, () =>
          Effect.gen(function* () {
            const e2e = yield* LiveCaptureE2e
            const outcome = yield* e2e.outcome(spec)
            const context = diagnostics(outcome)
            expectScriptFollowed(outcome, context)
            codexFacts?.(outcome)
            const { rows, undecodable } = sessionRows(e2e.imported, outcome.sessionId)
            expect(undecodable, context).toEqual([])
            expectSpecTrace(rows, outcome, context)
            traceFacts(rows, outcome)
          }), TEST_TIMEOUT_MS)

        it.effect(`${spec.title}: live capture delivered a §6 trace that shows it to Braintrust`, () =>
          Effect.gen(function* () {
            const e2e = yield* LiveCaptureE2e
            const outcome = yield* e2e.outcome(spec)
            const context = diagnostics(outcome, e2e.live)
            // each run's hooks started a drainer, and it finished (and exited) within the bound
            for (const run of outcome.runs) expect(run.drainer?.outcome, context).toBe("exited")
            const { rows, undecodable } = sessionRows(e2e.live, outcome.sessionId)
            expect(undecodable, context).toEqual([])
            expectSpecTrace(rows, outcome, context)
            traceFacts(rows, outcome)
            expectSessionStartFacts(rows)
            hookFacts?.(rows, outcome)
          }), TEST_TIMEOUT_MS)

        it.effect(`${spec.title}: live capture equals import (ids, tree, names, types, inputs, outputs)`, () =>
          Effect.gen(function* () {
            const e2e = yield* LiveCaptureE2e
            const outcome = yield* e2e.outcome(spec)
            const context = diagnostics(outcome, e2e.live)
            const live = sessionRows(e2e.live, outcome.sessionId).rows
            const imported = sessionRows(e2e.imported, outcome.sessionId).rows
            expect(imported.length, context).toBeGreaterThan(0)
            expect(differences(live, imported), context).toEqual([])
          }), TEST_TIMEOUT_MS)
      }
    })
  }
)
