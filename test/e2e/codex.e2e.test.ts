/**
 * End to end: the real Codex CLI (`@openai/codex` 0.169, from node_modules) runs offline in a
 * private network namespace against the scripted fake Responses API, with `trace-codex hook`
 * wired to all 12 hook events. Each scenario checks what a user would notice: Codex still works
 * with the hook installed (exit 0, nothing injected into the conversation), every hook
 * invocation is journaled once and in order, and the session's rollout becomes a valid span tree
 * with one llm span per model response and one tool span per tool call.
 *
 * Needs Linux, `unshare` and permission to create network namespaces (root, or unprivileged user
 * namespaces); otherwise the suite is skipped with the reason. Needs dist/ built
 * (`node scripts/build.mjs`), as `bin/trace-codex` runs the bundle.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as fs from "node:fs"
import { SpanRow } from "../../src/domain/SpanRow"
import {
  acquireCodexSandbox,
  type CodexRun,
  type CodexSandbox,
  type CodexSandboxOptions,
  type ExecOptions,
  type JournalEntry,
  probeCodex,
  TRACE_CODEX_BUNDLE,
  TRACE_CODEX_HOOK_COMMAND
} from "../support/codexRunner"
import {
  acquireFakeResponses,
  callOutput,
  execCommand,
  type FakeResponses,
  type FakeScript,
  respond,
  say
} from "../support/fakeResponses"
import { SHELL_PROMPT, SHELL_SCRIPT, SUBAGENT_PROMPT, SUBAGENT_SCRIPT } from "./scripts"

const codex = probeCodex()
if (!codex.available) console.warn(`Codex end-to-end suite skipped: ${codex.reason}`)

const RUN_TIMEOUT_MS = 60_000
const TEST_TIMEOUT_MS = 120_000

interface Scenario {
  readonly fake: FakeResponses
  readonly sandbox: CodexSandbox
  readonly runs: ReadonlyArray<CodexRun>
}

/** start a fake with `script`, then run Codex once per entry of `runs`, in order, in one CODEX_HOME */
const runScenario = (
  script: FakeScript,
  runs: ReadonlyArray<{ readonly prompt: string; readonly options?: ExecOptions }>,
  sandboxOptions: Omit<CodexSandboxOptions, "fake"> = {}
) =>
  Effect.gen(function* () {
    const fake = yield* acquireFakeResponses(script)
    const sandbox = yield* acquireCodexSandbox({ fake, timeoutMs: RUN_TIMEOUT_MS, ...sandboxOptions })
    const results: Array<CodexRun> = []
    for (const run of runs) results.push(yield* Effect.promise(() => sandbox.exec(run.prompt, run.options)))
    const scenario: Scenario = { fake, sandbox, runs: results }
    return scenario
  })

/** everything worth reading when a scenario fails */
const diagnostics = ({ fake, sandbox, runs }: Scenario): string =>
  [
    ...runs.map((run, n) =>
      `run ${n + 1}: ${run.args.join(" ")}\n  exit ${run.exitCode} signal ${run.signal} timed out ${run.timedOut} in ${run.durationMs} ms\n  stderr: ${run.stderr.trim().slice(-2000)}`
    ),
    `fake model requests: ${fake.requests().map((r) => `#${r.seq} ${r.lane} -> ${r.answeredBy}`).join(", ")}`,
    `script problems: ${fake.problems().join("; ") || "none"}`,
    `journals: ${sandbox.journalSessions().join(", ") || "none"}`
  ].join("\n")

/** Codex exited 0, followed the script, and its --json stream holds no error but the two hook-trust warnings */
const expectCleanRuns = (scenario: Scenario): void => {
  const context = diagnostics(scenario)
  for (const run of scenario.runs) {
    expect(run.timedOut, context).toBe(false)
    expect(run.exitCode, context).toBe(0)
    const types = run.events.map((event) => String(event["type"]))
    expect(types, context).toContain("turn.completed")
    expect(types, context).not.toContain("turn.failed")
    const errors = run.events.flatMap((event) => {
      const item = event["item"]
      return typeof item === "object" && item !== null && "type" in item && item.type === "error" ? [item] : []
    })
    expect(errors.map((item) => ("message" in item ? String(item.message) : "")), context).toEqual([
      expect.stringContaining("--dangerously-bypass-hook-trust"),
      expect.stringContaining("--dangerously-bypass-hook-trust")
    ])
  }
  expect(scenario.fake.problems(), context).toEqual([])
}

/** "Event" or "Event:tool_name" / "Event:source", the way the expectations below are written */
const hookLabel = ({ payload }: JournalEntry): string => {
  const event = String(payload["hook_event_name"])
  const detail = payload["tool_name"] ?? payload["source"]
  return typeof detail === "string" ? `${event}:${detail}` : event
}

const journalOf = (scenario: Scenario, sessionId: string): Array<JournalEntry> => {
  expect(scenario.sandbox.journalSessions(), diagnostics(scenario)).toEqual([sessionId])
  const entries = scenario.sandbox.journal(sessionId)
  for (const entry of entries) {
    expect(Number.isFinite(entry.received_at_ms)).toBe(true)
    expect(entry.payload["session_id"]).toBe(sessionId)
  }
  return entries
}

/**
 * Our hook printed nothing: text on a SessionStart/UserPromptSubmit hook's stdout would have
 * become a developer message marked `hooks.additional_context` in the rollout, and a Stop
 * decision a `HookPrompt` item.
 */
const expectNothingInjected = (rollouts: ReadonlyArray<string>): void => {
  for (const file of rollouts) {
    const text = fs.readFileSync(file, "utf8")
    expect(text, file).not.toContain("hooks.additional_context")
    expect(text, file).not.toContain(`"HookPrompt"`)
  }
}

const decodeRow = Schema.decodeUnknownSync(Schema.parseJson(SpanRow))

/** `trace-codex show <rollout> --check` passes, and `show --json` gives the rows */
const shownRows = (scenario: Scenario, rollout: string) =>
  Effect.gen(function* () {
    const check = yield* Effect.promise(() => scenario.sandbox.traceCodex(["show", rollout, "--check"]))
    expect(check.exitCode, `show --check:\n${check.stdout}\n${check.stderr}`).toBe(0)
    expect(check.stderr).toContain("invariants: ok")
    const json = yield* Effect.promise(() => scenario.sandbox.traceCodex(["show", rollout, "--json"]))
    expect(json.exitCode, json.stderr).toBe(0)
    return json.stdout
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => decodeRow(line))
  })

const spansOfType = (rows: ReadonlyArray<SpanRow>, type: SpanRow["span_attributes"]["type"]) =>
  rows.filter((row) => row.span_attributes.type === type)

/** the llm spans are exactly the fake's model responses: one each, keyed by response id */
const expectOneLlmSpanPerResponse = (rows: ReadonlyArray<SpanRow>, fake: FakeResponses): void => {
  const responseIds = fake.modelResponses().map((request) => request.responseId)
  const llmResponseIds = spansOfType(rows, "llm").map((row) => row.metadata["response_id"])
  expect([...llmResponseIds].sort()).toEqual([...responseIds].sort())
}

const toolSpans = (rows: ReadonlyArray<SpanRow>) =>
  spansOfType(rows, "tool")
    .sort((a, b) => a.metrics.start - b.metrics.start)
    .map((row) => ({ name: row.span_attributes.name, input: row.input }))

const sessionRollout = (scenario: Scenario, threadId: string | undefined): string => {
  expect(threadId, diagnostics(scenario)).toBeDefined()
  const rollout = scenario.sandbox.rolloutOf(threadId ?? "")
  expect(rollout, `no rollout for ${threadId} in ${scenario.sandbox.rolloutFiles().join(", ")}`).toBeDefined()
  return rollout ?? ""
}

describe.skipIf(!codex.available)(
  codex.available ? `${codex.version} end to end, offline, with trace-codex hooks` : `Codex end to end (skipped: ${codex.reason})`,
  () => {
    it("runs against the bundle users run", () => {
      expect(fs.existsSync(TRACE_CODEX_BUNDLE), `${TRACE_CODEX_BUNDLE} is missing: run node scripts/build.mjs`).toBe(true)
    })

    it.scopedLive("a plain text answer: four hooks journaled, one llm span with the model's token counts", () =>
      Effect.gen(function* () {
        const answer = "Hello from the fake model."
        const scenario = yield* runScenario(
          {
            turns: [{
              prompt: "Say hello.",
              responses: [respond([say(answer)], { inputTokens: 12_345, cachedTokens: 2_000, outputTokens: 67 })]
            }]
          },
          [{ prompt: "Say hello." }]
        )
        expectCleanRuns(scenario)
        const [run] = scenario.runs
        const sessionId = run?.threadId ?? ""
        const rollout = sessionRollout(scenario, run?.threadId)

        const journal = journalOf(scenario, sessionId)
        expect(journal.map(hookLabel)).toEqual(["SessionStart:startup", "UserPromptSubmit", "Stop", "SessionEnd"])
        expect(journal[1]?.payload["prompt"]).toBe("Say hello.")
        expect(journal[2]?.payload["last_assistant_message"]).toBe(answer)
        for (const entry of journal) expect(entry.payload["transcript_path"]).toBe(rollout)
        expectNothingInjected(scenario.sandbox.rolloutFiles())

        const rows = yield* shownRows(scenario, rollout)
        expectOneLlmSpanPerResponse(rows, scenario.fake)
        expect(spansOfType(rows, "llm")).toHaveLength(1)
        expect(spansOfType(rows, "llm")[0]?.metrics).toMatchObject({
          prompt_tokens: 12_345,
          prompt_cached_tokens: 2_000,
          completion_tokens: 67
        })
        expect(toolSpans(rows)).toEqual([])
      }), TEST_TIMEOUT_MS)

    it.scopedLive("two shell commands: Pre/PostToolUse per command, two tool spans with the commands run", () =>
      Effect.gen(function* () {
        const scenario = yield* runScenario(
          SHELL_SCRIPT,
          [{ prompt: SHELL_PROMPT }],
          { workFiles: { "README.md": "# demo\n" } }
        )
        expectCleanRuns(scenario)
        const [run] = scenario.runs
        const sessionId = run?.threadId ?? ""
        const rollout = sessionRollout(scenario, run?.threadId)

        // Codex really ran the commands: the model got their output back
        const [, second, third] = scenario.fake.modelResponses()
        expect(second && callOutput(second, "call_echo_1")).toContain("hi")
        expect(third && callOutput(third, "call_ls_1")).toContain("README.md")

        const journal = journalOf(scenario, sessionId)
        expect(journal.map(hookLabel)).toEqual([
          "SessionStart:startup",
          "UserPromptSubmit",
          "PreToolUse:Bash",
          "PostToolUse:Bash",
          "PreToolUse:Bash",
          "PostToolUse:Bash",
          "Stop",
          "SessionEnd"
        ])
        const toolHooks = journal.filter((entry) => entry.payload["tool_use_id"] !== undefined)
        expect(toolHooks.map((entry) => [entry.payload["tool_use_id"], entry.payload["tool_input"]])).toEqual([
          ["call_echo_1", { command: "echo hi" }],
          ["call_echo_1", { command: "echo hi" }],
          ["call_ls_1", { command: "ls" }],
          ["call_ls_1", { command: "ls" }]
        ])
        expect(String(toolHooks[1]?.payload["tool_response"])).toContain("hi")
        const arrivals = journal.map((entry) => entry.received_at_ms)
        expect(arrivals).toEqual([...arrivals].sort((a, b) => a - b))
        expectNothingInjected(scenario.sandbox.rolloutFiles())

        const rows = yield* shownRows(scenario, rollout)
        expectOneLlmSpanPerResponse(rows, scenario.fake)
        expect(spansOfType(rows, "llm")).toHaveLength(3)
        expect(toolSpans(rows)).toEqual([
          { name: "exec_command", input: { cmd: "echo hi", yield_time_ms: 1000 } },
          { name: "exec_command", input: { cmd: "ls", yield_time_ms: 1000 } }
        ])
      }), TEST_TIMEOUT_MS)

    it.scopedLive("a session resumed with `exec resume --last`: one rollout, one journal, both turns traced", () =>
      Effect.gen(function* () {
        const scenario = yield* runScenario(
          {
            turns: [
              { prompt: "Remember the number 42.", responses: [respond([say("OK, I will remember 42.")])] },
              {
                prompt: "What number did I ask you to remember?",
                responses: [
                  respond([execCommand("call_date_1", "date -u +%Y")]),
                  respond([say("You asked me to remember 42, and I checked the year.")])
                ]
              }
            ]
          },
          [
            { prompt: "Remember the number 42." },
            { prompt: "What number did I ask you to remember? Check the year too.", options: { resume: "last" } }
          ]
        )
        expectCleanRuns(scenario)
        const [first, second] = scenario.runs
        const sessionId = first?.threadId ?? ""
        expect(second?.threadId).toBe(sessionId)
        const rollout = sessionRollout(scenario, sessionId)
        expect(scenario.sandbox.rolloutFiles()).toEqual([rollout])

        // the resumed turn's request carries the first turn's history
        const resumed = scenario.fake.modelResponses()[1]
        expect(JSON.stringify(resumed?.body)).toContain("OK, I will remember 42.")

        const journal = journalOf(scenario, sessionId)
        expect(journal.map(hookLabel)).toEqual([
          "SessionStart:startup",
          "UserPromptSubmit",
          "Stop",
          "SessionEnd",
          "SessionStart:resume",
          "UserPromptSubmit",
          "PreToolUse:Bash",
          "PostToolUse:Bash",
          "Stop",
          "SessionEnd"
        ])
        const turnIds = new Set(journal.flatMap((entry) => (typeof entry.payload["turn_id"] === "string" ? [entry.payload["turn_id"]] : [])))
        expect(turnIds.size).toBe(2)
        expectNothingInjected([rollout])

        const rows = yield* shownRows(scenario, rollout)
        expectOneLlmSpanPerResponse(rows, scenario.fake)
        expect(spansOfType(rows, "llm")).toHaveLength(3)
        expect(toolSpans(rows)).toEqual([{ name: "exec_command", input: { cmd: "date -u +%Y", yield_time_ms: 1000 } }])
        expect(spansOfType(rows, "task").map((row) => row.span_attributes.name)).toEqual(
          expect.arrayContaining(["turn: 1", "turn: 2"])
        )
      }), TEST_TIMEOUT_MS)

    it.scopedLive("a sub-agent: its hooks carry the parent's session id, its calls nest in the parent's trace", () =>
      Effect.gen(function* () {
        const scenario = yield* runScenario(
          SUBAGENT_SCRIPT,
          [{ prompt: SUBAGENT_PROMPT }]
        )
        expectCleanRuns(scenario)
        const [run] = scenario.runs
        const sessionId = run?.threadId ?? ""
        const rollout = sessionRollout(scenario, run?.threadId)
        expect(scenario.sandbox.rolloutFiles()).toHaveLength(2)
        expect(scenario.fake.modelResponses().map((request) => request.lane)).toEqual(
          expect.arrayContaining(["main", "main", "main", "subagent", "subagent"])
        )

        // parent and child hooks interleave in no fixed order; each thread's own order is fixed
        const journal = journalOf(scenario, sessionId)
        const childId = journal.find((entry) => entry.payload["hook_event_name"] === "SubagentStart")?.payload["agent_id"]
        expect(typeof childId).toBe("string")
        expect(journal.filter((entry) => entry.payload["agent_id"] === undefined).map(hookLabel)).toEqual([
          "SessionStart:startup",
          "UserPromptSubmit",
          "PreToolUse:spawn_agent",
          "PostToolUse:spawn_agent",
          "PreToolUse:multi_agent_v1wait_agent",
          "PostToolUse:multi_agent_v1wait_agent",
          "Stop",
          "SessionEnd"
        ])
        expect(journal.filter((entry) => entry.payload["agent_id"] === childId).map(hookLabel)).toEqual([
          "SubagentStart",
          "UserPromptSubmit",
          "PreToolUse:Bash",
          "PostToolUse:Bash",
          "SubagentStop"
        ])
        expect(journal).toHaveLength(13)
        expectNothingInjected(scenario.sandbox.rolloutFiles())

        const rows = yield* shownRows(scenario, rollout)
        expectOneLlmSpanPerResponse(rows, scenario.fake)
        expect(spansOfType(rows, "llm")).toHaveLength(5)
        expect(toolSpans(rows).map((tool) => tool.name).sort()).toEqual(["exec_command", "spawn_agent", "wait_agent"])
        expect(spansOfType(rows, "task").some((row) => row.span_attributes.name.startsWith("subagent: "))).toBe(true)
      }), TEST_TIMEOUT_MS)

    it.scopedLive("control: a hook that prints text is caught by these checks (Codex's --json stream does not show it)", () =>
      Effect.gen(function* () {
        const scenario = yield* runScenario(
          { turns: [{ prompt: "Say hello.", responses: [respond([say("Hello.")])] }] },
          [{ prompt: "Say hello." }],
          { hookCommand: `${TRACE_CODEX_HOOK_COMMAND}; echo HOOK-TALKED-BACK` }
        )
        expectCleanRuns(scenario)
        expect(() => expectNothingInjected(scenario.sandbox.rolloutFiles())).toThrow()
        expect(JSON.stringify(scenario.fake.modelResponses()[0]?.body)).toContain("HOOK-TALKED-BACK")
      }), TEST_TIMEOUT_MS)
  }
)
