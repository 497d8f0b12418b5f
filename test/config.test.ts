/**
 * `trace-codex config` and the settings as commands see them, run as a user runs them
 * (`bin/trace-codex`, the built bundle): the effective values and their sources, secrets masked,
 * exit code 2 with a message naming the key when a value is invalid; `import` honouring
 * config.json (metadata, parent span).
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Effect from "effect/Effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { readLocalTrace } from "../layers/LocalSpanSink"
import { rolloutFiles } from "./support/fixtures"
import { importToMemory } from "./support/pipeline"

const BIN = path.resolve(__dirname, "../bin/trace-codex")

const stateDir = (config?: unknown): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "trace-codex-config-"))
  if (config !== undefined) fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(config))
  return dir
}

const run = (args: ReadonlyArray<string>, env: Record<string, string>) => {
  const r = spawnSync(BIN, args, { encoding: "utf8", env: { PATH: process.env["PATH"] ?? "", HOME: os.tmpdir(), ...env }, timeout: 60_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** the row of the settings table for `name`, split into its columns */
const tableRow = (stdout: string, name: string): Array<string> =>
  stdout.split("\n").find((line) => line.startsWith(`${name} `))!.trim().split(/\s{2,}/)

const API_KEY = "sk-config-test-0000000000005678"

describe("trace-codex config", () => {
  it("prints the defaults, where files live and which sink they choose", () => {
    const state = stateDir()
    const r = run(["config"], { TRACE_CODEX_STATE_DIR: state })
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`state dir    ${state} (env TRACE_CODEX_STATE_DIR)`)
    expect(r.stdout).toContain(`config file  ${path.join(state, "config.json")} (not found)`)
    expect(r.stdout).toContain(`sink         local store in ${path.join(state, "spans")} (TRACE_TO_BRAINTRUST is off)`)
    expect(r.stdout).toContain("redaction    on (preview with trace-codex show --redacted)")
    expect(tableRow(r.stdout, "project")).toEqual(["project", "codex", "default", "BRAINTRUST_PROJECT, BRAINTRUST_DEFAULT_PROJECT"])
    expect(tableRow(r.stdout, "apiKey")).toEqual(["apiKey", "(not set)", "default", "BRAINTRUST_API_KEY"])
    expect(r.stdout).toContain("CI metadata: none (not running in CI)")
  })

  it("says where each value came from and never prints a secret", () => {
    const state = stateDir({
      traceToBraintrust: true,
      project: "from-file",
      flushOnTurnEnd: true,
      additionalMetadata: { team: "platform", webhook_token: "xoxb-918273645-5647382910-Kq8Lm3Nz7Xw" },
      redactPatterns: ["ACME-[0-9]{8}"]
    })
    const env = {
      TRACE_CODEX_STATE_DIR: state,
      BRAINTRUST_API_KEY: API_KEY,
      BRAINTRUST_PROJECT: "from-env",
      GITHUB_ACTIONS: "true",
      GITHUB_REPOSITORY: "acme/app",
      GITHUB_RUN_ID: "77"
    }
    const r = run(["config"], env)
    expect(r.code).toBe(0)
    expect(r.stdout).not.toContain(API_KEY)
    expect(r.stdout).not.toContain("xoxb-918273645")
    expect(r.stdout).toContain('sink         braintrust, project "from-env"')
    expect(r.stdout).toContain("redaction    on, with 1 extra pattern")
    expect(tableRow(r.stdout, "apiKey")).toEqual(["apiKey", "sk-…5678", "env BRAINTRUST_API_KEY", "BRAINTRUST_API_KEY"])
    expect(tableRow(r.stdout, "project").slice(0, 3)).toEqual(["project", "from-env", "env BRAINTRUST_PROJECT"])
    expect(tableRow(r.stdout, "traceToBraintrust").slice(0, 3)).toEqual(["traceToBraintrust", "true", "config.json"])
    expect(tableRow(r.stdout, "additionalMetadata")[1]).toBe('{"team":"platform","webhook_token":"[REDACTED:secret-field]"}')
    expect(r.stdout).toContain("  ci_run_url: https://github.com/acme/app/actions/runs/77")

    const json = run(["config", "--json"], env)
    expect(json.code).toBe(0)
    expect(json.stdout).not.toContain(API_KEY)
    const parsed = JSON.parse(json.stdout) as {
      sink: string
      configFileFound: boolean
      settings: Record<string, { value: unknown; from: string; name?: string; env: Array<string> }>
      ciMetadata: Record<string, string>
    }
    expect(parsed.sink).toBe("braintrust")
    expect(parsed.configFileFound).toBe(true)
    expect(parsed.settings["project"]).toEqual({ value: "from-env", from: "env", name: "BRAINTRUST_PROJECT", env: ["BRAINTRUST_PROJECT", "BRAINTRUST_DEFAULT_PROJECT"] })
    expect(parsed.settings["flushOnTurnEnd"]).toEqual({ value: true, from: "config.json", path: path.join(state, "config.json"), env: ["BRAINTRUST_FLUSH_ON_TURN_END"] })
    expect(parsed.settings["apiKey"]!.value).toBe("sk-…5678")
    expect(parsed.settings["redact"]).toEqual({ value: true, from: "default", env: ["TRACE_CODEX_REDACT"] })
    expect(parsed.ciMetadata["ci_provider"]).toBe("github-actions")
  })

  it("an invalid value: a message naming the key, exit code 2, nothing on stdout", () => {
    const bad = run(["config"], { TRACE_CODEX_STATE_DIR: stateDir(), TRACE_TO_BRAINTRUST: "maybe" })
    expect(bad.code).toBe(2)
    expect(bad.stdout).toBe("")
    expect(bad.stderr).toBe('trace-codex: TRACE_TO_BRAINTRUST: expected true or false, got "maybe"\n')

    const state = stateDir({ redact: "no", apiKey: API_KEY, projcet: "typo" })
    const file = run(["config", "--json"], { TRACE_CODEX_STATE_DIR: state })
    expect(file.code).toBe(2)
    expect(file.stdout).toBe("")
    expect(file.stderr).toContain(`trace-codex: ${path.join(state, "config.json")}: unknown key "projcet"`)
    expect(file.stderr).not.toContain(API_KEY)

    const value = run(["config"], { TRACE_CODEX_STATE_DIR: stateDir({ redact: "no" }) })
    expect(value.code).toBe(2)
    expect(value.stderr).toContain('config.json: redact: expected true or false, got "no"')
  })
})

describe("import with config.json", () => {
  it.effect("the root carries the additional metadata and hangs under the parent span; invalid settings stop it with exit code 2", () =>
    Effect.gen(function*() {
      const state = stateDir({ additionalMetadata: { team: "platform", cost_center: 7 }, parentSpanId: "parent-of-all" })
      const main = rolloutFiles("simple")[0]!
      const r = run(["import", main], { TRACE_CODEX_STATE_DIR: state, CI: "true" })
      expect(r.stderr).toBe("")
      expect(r.code).toBe(0)
      const stored = yield* readLocalTrace(state, "parent-of-all").pipe(Effect.provide(NodeContext.layer))
      const root = stored.find((row) => row.span_parents[0] === "parent-of-all")!
      expect(root.metadata["team"]).toBe("platform")
      expect(root.metadata["cost_center"]).toBe(7)
      // a past session did not run in this CI job: import adds no CI metadata
      expect(root.metadata["ci_provider"]).toBeUndefined()
      const expected = (yield* importToMemory([main])).rows
      expect(stored.map((row) => row.id).sort()).toEqual(expected.map((row) => row.id).sort())

      const invalid = run(["import", main], { TRACE_CODEX_STATE_DIR: stateDir({ parentSpanId: 42 }) })
      expect(invalid.code).toBe(2)
      expect(invalid.stderr).toContain("config.json: parentSpanId: expected a non-empty string, got 42")
    }))
})
