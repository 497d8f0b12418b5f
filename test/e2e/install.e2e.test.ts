/**
 * End to end, from a user's setup to a trace: the real Codex CLI (0.169, offline in a private
 * network namespace against the fake Responses API) in a CODEX_HOME whose hooks.json only
 * `trace-codex install` wrote, tracing to the fake Braintrust server.
 *
 * - CI: `trace-codex install` (no trust recorded) and `codex exec --dangerously-bypass-hook-trust`.
 * - A laptop: `trace-codex install` records trust through the real `codex app-server`; a plain
 *   `codex exec` (no bypass flag) then runs our hooks. Without that trust, and without the flag,
 *   Codex skips them without a word: nothing arrives (the reason trust is part of install).
 * - The Codex plugin: `codex plugin marketplace add <this repository>`, `codex plugin add`,
 *   `trace-codex install --plugin` (feature and trust), and a plain `codex exec` whose hooks come
 *   from the plugin, its state under PLUGIN_DATA.
 *
 * Skipped, with the reason, where Codex cannot run (see codexRunner.probeCodex).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { SpanKeys } from "../../src/domain/ids"
import { checkTreeInvariants } from "../../src/domain/invariants"
import type { SpanRow } from "../../src/domain/SpanRow"
import { codexForTrust } from "../support/codexHomes"
import { acquireCodexSandbox, type CodexRun, type CodexSandbox, probeCodex, REPO_ROOT } from "../support/codexRunner"
import { acquireFakeBraintrust, type FakeBraintrust } from "../support/fakeBraintrust"
import { acquireFakeResponses, execCommand, type FakeScript, respond, say } from "../support/fakeResponses"

const codex = probeCodex()
if (!codex.available) console.warn(`install end-to-end suite skipped: ${codex.reason}`)

const API_KEY = "e2e-install-key"
const PROJECT = "codex-install-e2e"
const TEST_TIMEOUT_MS = 180_000

const PROMPT = "Run echo traced and report."
const SCRIPT: FakeScript = {
  turns: [{
    prompt: PROMPT,
    responses: [respond([execCommand("call_echo_1", "echo traced")]), respond([say("It printed: traced.")])]
  }]
}

/** the rows the fake server stored for one session's trace */
const traceOf = (server: FakeBraintrust, sessionId: string): Array<Record<string, unknown>> =>
  [...server.rows().values()]
    .filter((row) => row["root_span_id"] === SpanKeys.session(sessionId))
    .map((row) => ({ ...row, span_parents: row["span_parents"] ?? [] }))

const spanNames = (rows: ReadonlyArray<Record<string, unknown>>): Array<string> =>
  rows.map((row) => `${(row["span_attributes"] as { type: string }).type}:${(row["span_attributes"] as { name: string }).name}`).sort()

const explain = (run: CodexRun, sandbox: CodexSandbox, server: FakeBraintrust): string =>
  [
    `codex exit ${run.exitCode} signal ${run.signal} timed out ${run.timedOut}; stderr: ${run.stderr.trim().slice(-1500)}`,
    `journals: ${sandbox.journalSessions().join(", ") || "none"}`,
    `drainer: ${JSON.stringify(run.drainer)}`,
    `fake Braintrust: ${server.requests().map((r) => `${r.method} ${r.path} → ${r.outcome}`).join(", ") || "no requests"}`
  ].join("\n")

/** the session arrived whole: root, the turn, both model calls and the tool call, a valid tree */
const expectTraced = (run: CodexRun, sandbox: CodexSandbox, server: FakeBraintrust): void => {
  const why = explain(run, sandbox, server)
  expect(run.exitCode, why).toBe(0)
  expect(run.threadId, why).toBeDefined()
  const rows = traceOf(server, run.threadId ?? "")
  expect(spanNames(rows), why).toEqual(["llm:gpt-5.5", "llm:gpt-5.5", "task:codex: work", "task:turn: 1", "tool:exec_command"].sort())
  const root = rows.find((row) => row["id"] === SpanKeys.session(run.threadId ?? ""))
  expect(root?.["input"], why).toEqual(PROMPT)
  expect(root?.["output"], why).toEqual("It printed: traced.")
  const tool = rows.find((row) => (row["span_attributes"] as { type: string }).type === "tool")
  expect(JSON.stringify(tool?.["output"])).toContain("traced")
  expect(checkTreeInvariants(rows as unknown as ReadonlyArray<SpanRow>), why).toEqual([])
}

describe.skipIf(!codex.available)("trace-codex install, then the real codex exec, into the fake Braintrust server", () => {
  /** the fakes, a sandbox with no hooks.json, and `trace-codex install <installArgs>` run in it */
  const installed = (bypassHookTrust: boolean, ...installArgs: Array<string>) =>
    Effect.gen(function* () {
      const server = yield* acquireFakeBraintrust({ apiKey: API_KEY, unixSocket: true })
      const fake = yield* acquireFakeResponses(SCRIPT)
      const braintrust = { socketPath: server.socketPath ?? "", apiKey: API_KEY, project: PROJECT }
      const sandbox = yield* acquireCodexSandbox({ fake, writeHooksJson: false, bypassHookTrust, braintrust })
      const install = yield* Effect.promise(() => sandbox.traceCodex(["install", "--codex-home", sandbox.codexHome, ...installArgs]))
      expect(install.exitCode, install.stderr).toBe(0)
      return { server, sandbox, install }
    })

  it.scoped("CI: install alone, no trust recorded, codex exec --dangerously-bypass-hook-trust", () =>
    Effect.gen(function* () {
      const { server, sandbox, install } = yield* installed(true, "--no-trust")
      expect(install.stdout).toContain("--dangerously-bypass-hook-trust")
      const run = yield* Effect.promise(() => sandbox.exec(PROMPT))
      expectTraced(run, sandbox, server)
    }), TEST_TIMEOUT_MS)

  it.scoped("a laptop: install records Codex's trust, and a plain codex exec (no bypass flag) is traced", () =>
    Effect.gen(function* () {
      const { server, sandbox, install } = yield* installed(false, "--codex-bin", codexForTrust().bin, "--json")
      expect(JSON.parse(install.stdout)).toMatchObject({ trust: { status: "recorded", newlyTrusted: 12 } })
      const doctor = yield* Effect.promise(() => sandbox.traceCodex(["doctor", "--codex-home", sandbox.codexHome]))
      expect(doctor.stdout).toContain("✓ trust            Codex trusts our 12 hooks")
      const run = yield* Effect.promise(() => sandbox.exec(PROMPT))
      expect(run.events.filter((event) => event["type"] === "error"), "no hook-trust warnings without the flag").toEqual([])
      expectTraced(run, sandbox, server)
    }), TEST_TIMEOUT_MS)

  it.scoped("without trust and without the flag Codex skips our hooks silently: nothing is journaled or sent", () =>
    Effect.gen(function* () {
      const { server, sandbox } = yield* installed(false, "--no-trust")
      const run = yield* Effect.promise(() => sandbox.exec(PROMPT))
      expect(run.exitCode, run.stderr).toBe(0)
      expect(sandbox.journalSessions()).toEqual([])
      expect(traceOf(server, run.threadId ?? "")).toEqual([])
      // and doctor says why
      const doctor = yield* Effect.promise(() => sandbox.traceCodex(["doctor", "--codex-home", sandbox.codexHome]))
      expect(doctor.exitCode).toBe(1)
      expect(doctor.stdout).toContain("✗ trust            Codex has no trust recorded for our 12 hooks")
    }), TEST_TIMEOUT_MS)
})

/**
 * A marketplace root holding this repository as a plugin: its manifest, hooks, scripts and build,
 * and no node_modules: Codex copies the plugin into its cache, and the build must run from there
 * on its own (the Braintrust SDK is bundled into dist/).
 */
const pluginCheckout = (root: string): string => {
  const dir = path.join(root, "trace-codex-plugin")
  fs.mkdirSync(dir)
  for (const entry of [".agents", ".codex-plugin", "hooks", "bin", "dist", "package.json"]) {
    fs.cpSync(path.join(REPO_ROOT, entry), path.join(dir, entry), { recursive: true })
  }
  return dir
}

describe.skipIf(!codex.available)("trace-codex as a Codex plugin", () => {
  it.scoped("codex plugin marketplace add + plugin add + trace-codex install --plugin, then a plain codex exec: traced, state under PLUGIN_DATA", () =>
    Effect.gen(function* () {
      const server = yield* acquireFakeBraintrust({ apiKey: API_KEY, unixSocket: true })
      const fake = yield* acquireFakeResponses(SCRIPT)
      const sandbox = yield* acquireCodexSandbox({
        fake,
        writeHooksJson: false,
        // no bypass flag: install --plugin has Codex trust the plugin's hooks
        bypassHookTrust: false,
        braintrust: { socketPath: server.socketPath ?? "", apiKey: API_KEY, project: PROJECT },
        // no state dir of our choosing: the hook takes PLUGIN_DATA, as for a user
        env: { TRACE_CODEX_STATE_DIR: "" },
        drainerStateDir: (codexHome) => path.join(codexHome, "plugins", "data", "trace-codex-trace-codex")
      })
      const codexBin = codexForTrust().bin
      const runCodex = (...args: Array<string>) => {
        const r = spawnSync(codexBin, args, { encoding: "utf8", env: { PATH: process.env["PATH"] ?? "", HOME: sandbox.root, CODEX_HOME: sandbox.codexHome }, timeout: 60_000 })
        return `${r.stdout}${r.stderr}`
      }
      const repo = pluginCheckout(sandbox.root)
      expect(runCodex("plugin", "marketplace", "add", repo)).toContain("Added marketplace `trace-codex`")
      expect(runCodex("plugin", "add", "trace-codex@trace-codex")).toContain("Added plugin `trace-codex`")
      // doctor sees the plugin, its data folder, the feature off and no trust yet
      const doctor = () =>
        Effect.promise(() => sandbox.traceCodex(["doctor", "--codex-home", sandbox.codexHome, "--json"], { TRACE_CODEX_STATE_DIR: "" })).pipe(
          Effect.map((run) => JSON.parse(run.stdout) as { stateDir: string; checks: Array<{ id: string; status: string }> })
        )
      const pluginChecks = (report: { checks: Array<{ id: string; status: string }> }) =>
        report.checks.filter((c) => c.id.startsWith("plugin") || c.id === "hooks").map((c) => `${c.id} ${c.status}`)
      const before = yield* doctor()
      expect(before.stateDir).toBe(path.join(sandbox.codexHome, "plugins", "data", "trace-codex-trace-codex"))
      expect(pluginChecks(before)).toEqual(["hooks info", "plugin fail", "plugin-trust fail"])
      // install --plugin: Codex switches plugin hooks on and trusts exactly the plugin's 12 hooks
      const install = yield* Effect.promise(() => sandbox.traceCodex(["install", "--plugin", "--codex-home", sandbox.codexHome, "--codex-bin", codexBin, "--json"]))
      expect(install.exitCode, install.stderr).toBe(0)
      expect(JSON.parse(install.stdout)).toMatchObject({ plugin: "trace-codex@trace-codex", enabledPluginHooks: true, trust: { newlyTrusted: 12, alreadyTrusted: 0 } })
      expect(pluginChecks(yield* doctor())).toEqual(["hooks info", "plugin ok"])

      const run = yield* Effect.promise(() => sandbox.exec(PROMPT))
      expect(run.exitCode, run.stderr).toBe(0)
      expectTraced(run, sandbox, server)
      // the journal is in the plugin's data folder, nothing in the state dir the other tests use
      const journals = findFiles(sandbox.codexHome, (file) => file.includes(`${path.sep}journal${path.sep}`) && file.endsWith(".ndjson"))
      expect(journals.map((file) => path.basename(file, ".ndjson"))).toEqual([run.threadId])
      expect(journals[0]).toContain(`${path.sep}plugins${path.sep}`)
      expect(sandbox.journalSessions()).toEqual([])
    }), TEST_TIMEOUT_MS)
})

const findFiles = (dir: string, keep: (file: string) => boolean): Array<string> => {
  if (!fs.existsSync(dir)) return []
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) return findFiles(file, keep)
    return keep(file) ? [file] : []
  })
}
