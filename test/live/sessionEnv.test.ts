/**
 * A session keeps the settings it started with (SPEC §5), even when the drainer that delivers
 * it was started by another Codex process with other settings: the SessionStart hook records the
 * session's environment beside its payload (never the API key), the journal keeps it, and the
 * drainer builds the session's sink and options from it.
 */
import { describe, expect, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { removeAbandonedSpool } from "../../src/Journal"
import { stateLayout } from "../../src/live/layout"
import { CI_ENV_NAMES, formatSessionEnv, parseSessionEnv, SESSION_ENV_NAMES, SETTING_ENV_NAMES } from "../../src/live/sessionEnv"
import { SpanKeys } from "../../src/domain/ids"
import { settingEnvNames, SETTING_NAMES } from "../../src/Settings"
import { FIXTURES, rolloutFiles, type Scenario } from "../support/fixtures"

const ROOT = path.resolve(__dirname, "../..")
const SH_HOOK = path.join(ROOT, "bin", "trace-codex-hook")
const CLI = path.join(ROOT, "bin", "trace-codex")
const DIST_CLI = path.join(ROOT, "dist", "cli.mjs")

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "trace-codex-session-env-"))

const spawn = (file: string, args: ReadonlyArray<string>, env: Record<string, string>, input = "") => {
  const r = spawnSync(file, args, { encoding: "utf8", input, env: { PATH: process.env["PATH"] ?? "", HOME: os.tmpdir(), ...env }, timeout: 60_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const spooled = (state: string, ext: string): Array<string> =>
  fs.existsSync(path.join(state, "spool")) ? fs.readdirSync(path.join(state, "spool")).filter((name) => name.endsWith(ext)) : []

describe("the recorded variables", () => {
  it("are the settings' variables without the API key, and the CI variables", () => {
    const fromSettings = [...new Set(SETTING_NAMES.flatMap((name) => settingEnvNames(name)))].filter((name) => name !== "BRAINTRUST_API_KEY")
    expect([...SETTING_ENV_NAMES].sort()).toEqual(fromSettings.sort())
    expect(SESSION_ENV_NAMES).toEqual([...SETTING_ENV_NAMES, ...CI_ENV_NAMES])
  })

  it("the sh hook records the same names (its own copy of the list)", () => {
    const text = fs.readFileSync(SH_HOOK, "utf8")
    const list = /^SESSION_ENV_NAMES="([^"]*)"$/m.exec(text)?.[1]
    expect(list?.split(/\s+/).filter((name) => name !== "")).toEqual(SESSION_ENV_NAMES)
  })

  it("round-trip: values with newlines, '=' and quotes; empty values are set; other names and the API key are dropped", () => {
    const env = { BRAINTRUST_PROJECT: "a=b", BRAINTRUST_ADDITIONAL_METADATA: '{"x":\n"y"}', CI: "", BRAINTRUST_API_KEY: "sk-secret", HOME: "/root" }
    const text = formatSessionEnv(env)
    expect(text).not.toContain("sk-secret")
    expect(parseSessionEnv(text)).toEqual({ BRAINTRUST_PROJECT: "a=b", BRAINTRUST_ADDITIONAL_METADATA: '{"x":\n"y"}', CI: "" })
    expect(parseSessionEnv(`${text}BRAINTRUST_API_KEY=sk-other\0garbage\0HOME=/x\0`)).toEqual(parseSessionEnv(text))
  })
})

const HOOKS = [
  { name: "sh hook", file: SH_HOOK, args: [] as Array<string> },
  { name: "Node hook", file: process.execPath, args: [DIST_CLI, "hook"] }
]

describe.each(HOOKS)("$name: SessionStart records the environment beside the payload", ({ file, args }) => {
  const env = {
    TRACE_CODEX_NODE: "/nonexistent/node",
    BRAINTRUST_PROJECT: "team  a",
    BRAINTRUST_ADDITIONAL_METADATA: '{"team":\n"a $HOME `x`"}',
    BRAINTRUST_API_KEY: "sk-never-on-disk",
    GITHUB_ACTIONS: "true",
    CI: ""
  }
  const start = JSON.stringify({ hook_event_name: "SessionStart", session_id: "s1", source: "startup" })

  it.each([["with the event argument", ["SessionStart"]], ["from the payload alone", []]])("%s", (_, eventArgs) => {
    const state = tempDir()
    expect(spawn(file, [...args, ...eventArgs], { ...env, TRACE_CODEX_STATE_DIR: state }, start).code).toBe(0)
    const [json] = spooled(state, ".json")
    const [envFile] = spooled(state, ".env")
    expect(envFile).toBe(json?.replace(/\.json$/, ".env"))
    const bytes = fs.readFileSync(path.join(state, "spool", envFile ?? ""), "utf8")
    expect(bytes).not.toContain("sk-never-on-disk")
    expect(parseSessionEnv(bytes)).toEqual({ BRAINTRUST_PROJECT: "team  a", BRAINTRUST_ADDITIONAL_METADATA: '{"team":\n"a $HOME `x`"}', GITHUB_ACTIONS: "true", CI: "" })
    expect(fs.statSync(path.join(state, "spool", envFile ?? "")).mode & 0o777).toBe(0o600)
  })

  it("other events record nothing", () => {
    const state = tempDir()
    const stop = JSON.stringify({ hook_event_name: "Stop", session_id: "s1", turn_id: "t" })
    expect(spawn(file, [...args, "Stop"], { ...env, TRACE_CODEX_STATE_DIR: state }, stop).code).toBe(0)
    expect(spawn(file, [...args], { ...env, TRACE_CODEX_STATE_DIR: state }, stop).code).toBe(0)
    expect(spooled(state, ".json")).toHaveLength(2)
    expect(spooled(state, ".env")).toEqual([])
  })
})

describe("one drainer, two sessions started with different settings", () => {
  /** a fixture's hook payloads, pointed at a copy of its rollout */
  const sessionHooks = (fixture: Scenario, dir: string) => {
    const rollout = path.join(dir, `${fixture}.jsonl`)
    fs.copyFileSync(rolloutFiles(fixture)[0]!, rollout)
    return fs.readFileSync(path.join(FIXTURES, fixture, "hooks.ndjson"), "utf8").split("\n").filter((l) => l !== "").map((line) => {
      const payload = (JSON.parse(line) as { payload: Record<string, unknown> }).payload
      return { event: String(payload["hook_event_name"]), text: JSON.stringify({ ...payload, transcript_path: rollout }), sessionId: String(payload["session_id"]) }
    })
  }

  it("each session's root carries its own metadata and project, and the journal keeps no API key", () => {
    const state = tempDir()
    const common = { TRACE_CODEX_STATE_DIR: state, TRACE_CODEX_DRAIN_IDLE_MS: "20000", BRAINTRUST_API_KEY: "sk-drainer-only" }
    const a = sessionHooks("shell-tool", tempDir())
    const b = sessionHooks("simple", tempDir())
    const envA = { ...common, BRAINTRUST_ADDITIONAL_METADATA: '{"team":"a"}', BRAINTRUST_PROJECT: "project-a" }
    const envB = { ...common, BRAINTRUST_ADDITIONAL_METADATA: '{"team":"b"}', BRAINTRUST_PROJECT: "project-b", GITHUB_ACTIONS: "true", GITHUB_RUN_ID: "77" }
    // A's first hook starts the drainer with A's environment; B's hooks come while it runs
    for (const hook of a) expect(spawn(CLI, ["hook", hook.event], envA, hook.text).code).toBe(0)
    for (const hook of b) expect(spawn(CLI, ["hook", hook.event], envB, hook.text).code).toBe(0)
    const flushed = spawn(CLI, ["flush", "--timeout", "30"], { TRACE_CODEX_STATE_DIR: state })
    expect(flushed.code, flushed.stderr).toBe(0)
    const started = fs.readFileSync(path.join(state, "logs", "drainer.log"), "utf8").split("\n").filter((line) => line.includes("drainer started"))
    expect(started, "the same drainer delivered both").toHaveLength(1)

    const rootOf = (sessionId: string) => {
      const rows = fs.readFileSync(path.join(state, "spans", `${SpanKeys.session(sessionId)}.ndjson`), "utf8").trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>)
      return rows.find((row) => row["span_parents"] === undefined || (row["span_parents"] as Array<string>).length === 0)
    }
    const rootA = rootOf(a[0]!.sessionId)
    const rootB = rootOf(b[0]!.sessionId)
    expect(rootA?.["metadata"]).toMatchObject({ team: "a" })
    expect(rootA?.["metadata"]).not.toHaveProperty("ci_provider")
    expect(rootB?.["metadata"]).toMatchObject({ team: "b", ci_provider: "github-actions" })

    // the settings each session keeps, in its checkpoint: its own project, never the key
    const checkpoint = (sessionId: string) => fs.readFileSync(path.join(state, "checkpoint", `${sessionId}.json`), "utf8")
    expect(JSON.parse(checkpoint(a[0]!.sessionId))).toMatchObject({ settings: { project: "project-a" } })
    expect(JSON.parse(checkpoint(b[0]!.sessionId))).toMatchObject({ settings: { project: "project-b" } })
    for (const dir of ["journal", "checkpoint", "status", "spool"]) {
      for (const name of fs.existsSync(path.join(state, dir)) ? fs.readdirSync(path.join(state, dir)) : []) {
        expect(fs.readFileSync(path.join(state, dir, name), "utf8"), `${dir}/${name}`).not.toContain("sk-drainer-only")
      }
    }
    // nothing left in the spool
    expect(spooled(state, ".env")).toEqual([])
  })
})

describe("the spool", () => {
  it("an .env whose payload never came is removed once old; one with its payload, or a young one, stays", () => {
    const state = tempDir()
    const layout = stateLayout(state)
    fs.mkdirSync(layout.spool, { recursive: true })
    const write = (name: string, ageMs: number) => {
      const file = path.join(layout.spool, name)
      fs.writeFileSync(file, "CI=true\0")
      const at = new Date(Date.now() - ageMs)
      fs.utimesSync(file, at, at)
    }
    write("1796000000000000000-1.env", 3_600_000)
    write("1796000000000000000-2.env", 3_600_000)
    write("1796000000000000000-2.json", 3_600_000)
    write("1796000000000000000-3.env", 1_000)
    expect(removeAbandonedSpool(layout, Date.now())).toBe(1)
    expect(fs.readdirSync(layout.spool).sort()).toEqual(["1796000000000000000-2.env", "1796000000000000000-2.json", "1796000000000000000-3.env"])
  })
})
