/**
 * Settings (SPEC §5): environment over config.json over defaults, errors that name the key,
 * what a session persists (never the API key), and what the settings make of the sink and the
 * reducer (parent span, additional and CI metadata, redaction on the way out).
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import type * as FileSystem from "@effect/platform/FileSystem"
import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { readLocalTrace } from "../layers/LocalSpanSink"
import { ciMetadata } from "../src/ciMetadata"
import type { SpanRow } from "../src/domain/SpanRow"
import { defaultReducerOptions } from "../src/reducer/state"
import { reduceTranscripts } from "../src/SessionReducer"
import {
  defaultSettings,
  loadSettings,
  loadSettingsReport,
  PersistedSettings,
  persistableSettings,
  reducerOptionsFor,
  restoreSettings,
  type Settings,
  sinkLayerFor
} from "../src/Settings"
import { SpanSink } from "../src/SpanSink"
import { StateDir } from "../src/StateDir"
import { decodedLines, rolloutFiles } from "./support/fixtures"

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "trace-codex-settings-"))

/** a state dir holding `file` as config.json (a string is written as is) */
const stateWith = (file?: unknown): string => {
  const dir = tempDir()
  if (file !== undefined) fs.writeFileSync(path.join(dir, "config.json"), typeof file === "string" ? file : JSON.stringify(file))
  return dir
}

const withEnv = (env: Record<string, string>, dir: string) =>
  <A, E>(effect: Effect.Effect<A, E, StateDir | FileSystem.FileSystem>) =>
    effect.pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
      Effect.provide(StateDir.at(dir)),
      Effect.provide(NodeContext.layer)
    )

const report = (env: Record<string, string>, file?: unknown) => loadSettingsReport.pipe(withEnv(env, stateWith(file)))
const problem = (env: Record<string, string>, file?: unknown) => Effect.flip(report(env, file))

const API_KEY = "sk-settings-test-Ab12Cd34Ef56Gh78"

describe("loading settings", () => {
  it.effect("defaults: local store, project codex, redaction on, nothing else", () =>
    Effect.gen(function*() {
      const { configFileFound, settings, sources } = yield* report({})
      expect(configFileFound).toBe(false)
      expect(settings).toEqual(defaultSettings)
      expect(settings.project).toBe("codex")
      expect(settings.redaction).toEqual({ enabled: true, extraPatterns: [] })
      expect(Object.values(sources).every((s) => s.from === "default")).toBe(true)
    }))

  it.effect("the environment wins over config.json, which wins over the defaults; each source is reported", () =>
    Effect.gen(function*() {
      const dir = stateWith({
        traceToBraintrust: true,
        project: "from-file",
        flushOnTurnEnd: true,
        apiKey: "sk-from-file-000000000000",
        additionalMetadata: { team: "platform" },
        redactPatterns: ["ACME-[0-9]{8}"],
        $schema: "ignored: annotations are allowed"
      })
      const { configFile, configFileFound, settings, sources } = yield* loadSettingsReport.pipe(
        withEnv({ BRAINTRUST_PROJECT: "from-env", BRAINTRUST_API_KEY: API_KEY, TRACE_CODEX_REDACT: "false" }, dir)
      )
      expect(configFileFound).toBe(true)
      expect(configFile).toBe(path.join(dir, "config.json"))
      expect(settings.project).toBe("from-env")
      expect(sources.project).toEqual({ from: "env", name: "BRAINTRUST_PROJECT" })
      expect(settings.traceToBraintrust).toBe(true)
      expect(sources.traceToBraintrust).toEqual({ from: "config.json", path: configFile })
      expect(settings.flushOnTurnEnd).toBe(true)
      expect(settings.apiKey && Redacted.value(settings.apiKey)).toBe(API_KEY)
      expect(sources.apiKey).toEqual({ from: "env", name: "BRAINTRUST_API_KEY" })
      expect(settings.additionalMetadata).toEqual({ team: "platform" })
      expect(settings.redaction).toEqual({ enabled: false, extraPatterns: ["ACME-[0-9]{8}"] })
      expect(sources.redact).toEqual({ from: "env", name: "TRACE_CODEX_REDACT" })
      expect(sources.appUrl).toEqual({ from: "default" })
    }))

  it.effect("environment values: booleans in the usual spellings, JSON metadata, BRAINTRUST_DEFAULT_PROJECT, empty means unset", () =>
    Effect.gen(function*() {
      const { settings } = yield* report({
        TRACE_TO_BRAINTRUST: "TRUE",
        BRAINTRUST_FLUSH_ON_TURN_END: "1",
        BRAINTRUST_DEFAULT_PROJECT: "fallback-project",
        BRAINTRUST_ADDITIONAL_METADATA: '{"team":"infra","cost_center":42}',
        BRAINTRUST_APP_URL: "http://127.0.0.1:8000",
        CODEX_PARENT_SPAN_ID: "parent-span",
        BRAINTRUST_API_KEY: "",
        TRACE_CODEX_REDACT_PATTERNS: '["ACME-[0-9]{8}", "/internal-[a-z]+/i"]'
      })
      expect(settings.traceToBraintrust).toBe(true)
      expect(settings.flushOnTurnEnd).toBe(true)
      expect(settings.project).toBe("fallback-project")
      expect(settings.additionalMetadata).toEqual({ team: "infra", cost_center: 42 })
      expect(settings.appUrl).toBe("http://127.0.0.1:8000")
      expect(settings.parentSpanId).toBe("parent-span")
      expect(settings.apiKey).toBeUndefined()
      expect(settings.redaction.extraPatterns).toEqual(["ACME-[0-9]{8}", "/internal-[a-z]+/i"])
      const single = yield* report({ TRACE_CODEX_REDACT_PATTERNS: "ACME-[0-9]{8}" })
      expect(single.settings.redaction.extraPatterns).toEqual(["ACME-[0-9]{8}"])
    }))

  it.effect("an invalid environment value names the variable, what was expected and what it got", () =>
    Effect.gen(function*() {
      const error = yield* problem({ BRAINTRUST_FLUSH_ON_TURN_END: "maybe" })
      expect(error._tag).toBe("SettingsError")
      expect(error.message).toBe('BRAINTRUST_FLUSH_ON_TURN_END: expected true or false, got "maybe"')
      expect(error.problems).toEqual([{ setting: "flushOnTurnEnd", source: "BRAINTRUST_FLUSH_ON_TURN_END", message: error.message }])
      expect((yield* problem({ BRAINTRUST_ADDITIONAL_METADATA: "[1,2]" })).message).toBe(
        'BRAINTRUST_ADDITIONAL_METADATA: expected a JSON object, got "[1,2]"'
      )
      expect((yield* problem({ BRAINTRUST_APP_URL: "localhost:8000" })).message).toBe(
        'BRAINTRUST_APP_URL: expected an http(s) URL, got "localhost:8000"'
      )
      expect((yield* problem({ BRAINTRUST_API_URL: "" })).message).toContain("BRAINTRUST_API_URL: is set but empty")
      expect((yield* problem({ TRACE_CODEX_REDACT_PATTERNS: '["ok", "("]' })).message).toMatch(
        /^TRACE_CODEX_REDACT_PATTERNS: pattern 2 "\(": not a valid regular expression/
      )
      expect((yield* problem({ TRACE_CODEX_REDACT_PATTERNS: "a*" })).message).toContain("matches the empty string")
    }))

  it.effect("an invalid config.json names the file and the key; every problem is reported at once", () =>
    Effect.gen(function*() {
      const dir = stateWith({ flushOnTurnEnd: "yes", project: "", appUrl: "ftp://example.com" })
      const file = path.join(dir, "config.json")
      const error = yield* Effect.flip(loadSettings.pipe(withEnv({}, dir)))
      expect(error.message.split("\n")).toEqual([
        `${file}: project: expected a non-empty string, got ""`,
        `${file}: appUrl: expected an http(s) URL, got "ftp://example.com"`,
        `${file}: flushOnTurnEnd: expected true or false, got "yes"`
      ])
      expect(error.problems.map((p) => p.setting)).toEqual(["project", "appUrl", "flushOnTurnEnd"])
    }))

  it.effect("a value overridden by the environment is not held against the file; unknown keys and broken JSON are", () =>
    Effect.gen(function*() {
      const overridden = yield* report({ BRAINTRUST_FLUSH_ON_TURN_END: "false" }, { flushOnTurnEnd: "yes" })
      expect(overridden.settings.flushOnTurnEnd).toBe(false)
      expect((yield* problem({}, { projcet: "typo" })).message).toMatch(/config\.json: unknown key "projcet" \(known: traceToBraintrust, apiKey, project/)
      expect((yield* problem({}, "{ not json")).message).toMatch(/config\.json: not valid JSON/)
      expect((yield* problem({}, "[]")).message).toMatch(/config\.json: expected a JSON object of settings, got \[\]/)
      const empty = yield* report({}, "")
      expect(empty.settings).toEqual(defaultSettings)
    }))

  it.effect("the API key is never echoed in an error, and secrets in other values are redacted there", () =>
    Effect.gen(function*() {
      const badKey = yield* problem({}, { apiKey: 12345678901234 })
      expect(badKey.message).toMatch(/apiKey: expected a non-empty string$/)
      expect(badKey.message).not.toContain("12345678901234")
      const leaky = yield* problem({ BRAINTRUST_APP_URL: "ghp_abcdefghijklmnopqrstuvwxyz0123456789" })
      expect(leaky.message).not.toContain("ghp_abcdefghijklmnopqrstuvwxyz0123456789")
      expect(leaky.message).toContain("[REDACTED:github-token]")
    }))

  it.effect("CI metadata is captured from the environment the settings are loaded in", () =>
    Effect.gen(function*() {
      const { settings } = yield* report({ GITLAB_CI: "true", CI_PIPELINE_ID: "991", CI_PROJECT_PATH: "acme/app", CI_COMMIT_SHA: "abc123" })
      expect(settings.ciMetadata).toEqual({ ci_provider: "gitlab", ci_run_id: "991", ci_repository: "acme/app", ci_commit: "abc123" })
    }))
})

describe("a session keeps the settings it started with", () => {
  const started: Settings = {
    ...defaultSettings,
    traceToBraintrust: true,
    apiKey: Redacted.make(API_KEY),
    project: "proj",
    appUrl: "https://braintrust.example.com",
    additionalMetadata: { team: "platform", nested: { a: [1, 2] } },
    parentSpanId: "p1",
    flushOnTurnEnd: true,
    redaction: { enabled: true, extraPatterns: ["ACME-[0-9]{8}"] },
    ciMetadata: { ci_provider: "github-actions", ci_run_id: "7" }
  }

  it("persisted settings are JSON without the API key, and restore to the same settings with the current key", () => {
    const persisted = persistableSettings(started)
    const json = JSON.stringify(persisted)
    expect(json).not.toContain(API_KEY)
    expect(json).not.toContain("apiKey")
    const decoded = Schema.decodeUnknownSync(PersistedSettings)(JSON.parse(json))
    expect(restoreSettings(decoded, started.apiKey)).toEqual(started)
    const withoutKey = restoreSettings(decoded, undefined)
    expect(withoutKey.apiKey).toBeUndefined()
    expect({ ...withoutKey, apiKey: started.apiKey }).toEqual(started)
  })

  it("defaults survive the round trip too (no undefined keys in the JSON)", () => {
    const persisted = persistableSettings(defaultSettings)
    expect(Object.values(persisted).includes(undefined)).toBe(false)
    expect(restoreSettings(Schema.decodeUnknownSync(PersistedSettings)(JSON.parse(JSON.stringify(persisted))), undefined)).toEqual(defaultSettings)
  })
})

describe("what the settings make of the reducer", () => {
  const rootOf = (settings: Settings) => {
    const file = rolloutFiles("simple")[0]!
    const rows = reduceTranscripts([{ source: file, lines: decodedLines(file) }], reducerOptionsFor(settings, defaultReducerOptions))
    return rows.find((r) => r.span_attributes.name.startsWith("codex:"))!
  }

  it("CODEX_PARENT_SPAN_ID / CODEX_ROOT_SPAN_ID attach the session; either alone stands for both", () => {
    expect(reducerOptionsFor({ ...defaultSettings, parentSpanId: "p" }, defaultReducerOptions).parent).toEqual({ spanId: "p", rootSpanId: "p" })
    expect(reducerOptionsFor({ ...defaultSettings, rootSpanId: "r" }, defaultReducerOptions).parent).toEqual({ spanId: "r", rootSpanId: "r" })
    expect(reducerOptionsFor(defaultSettings, defaultReducerOptions).parent).toBeUndefined()
    const root = rootOf({ ...defaultSettings, parentSpanId: "p", rootSpanId: "r" })
    expect(root.span_parents).toEqual(["p"])
    expect(root.root_span_id).toBe("r")
  })

  it("additional metadata and CI metadata land on the root; additional wins over CI, standard keys win over both", () => {
    const plain = rootOf(defaultSettings)
    const root = rootOf({
      ...defaultSettings,
      ciMetadata: { ci_provider: "buildkite", ci_job: "from-ci" },
      additionalMetadata: { team: "platform", ci_job: "from-user", session_id: "not-this" }
    })
    expect(root.metadata["team"]).toBe("platform")
    expect(root.metadata["ci_provider"]).toBe("buildkite")
    expect(root.metadata["ci_job"]).toBe("from-user")
    expect(root.metadata["session_id"]).toBe(plain.metadata["session_id"])
  })
})

describe("ciMetadata", () => {
  it("reads GitHub Actions, GitLab, Buildkite and CircleCI; generic CI; nothing outside CI", () => {
    expect(ciMetadata({
      CI: "true",
      GITHUB_ACTIONS: "true",
      GITHUB_SERVER_URL: "https://github.com",
      GITHUB_REPOSITORY: "acme/app",
      GITHUB_RUN_ID: "123",
      GITHUB_RUN_ATTEMPT: "2",
      GITHUB_REF: "refs/pull/5/merge",
      GITHUB_REF_NAME: "5/merge",
      GITHUB_HEAD_REF: "feature",
      GITHUB_SHA: "deadbeef",
      GITHUB_JOB: "test",
      GITHUB_WORKFLOW: "CI"
    })).toEqual({
      ci_provider: "github-actions",
      ci_run_id: "123",
      ci_run_attempt: "2",
      ci_run_url: "https://github.com/acme/app/actions/runs/123/attempts/2",
      ci_repository: "acme/app",
      ci_ref: "refs/pull/5/merge",
      ci_branch: "feature",
      ci_commit: "deadbeef",
      ci_job: "test",
      ci_workflow: "CI"
    })
    expect(ciMetadata({ BUILDKITE: "true", BUILDKITE_REPO: "https://bot:hunter2@git.example.com/app.git", BUILDKITE_BRANCH: "main", BUILDKITE_LABEL: ":test:" }))
      .toEqual({ ci_provider: "buildkite", ci_repository: "https://git.example.com/app.git", ci_branch: "main", ci_job: ":test:" })
    expect(ciMetadata({ CIRCLECI: "true", CIRCLE_PROJECT_USERNAME: "acme", CIRCLE_PROJECT_REPONAME: "app", CIRCLE_SHA1: "c0ffee", CIRCLE_BUILD_URL: "https://circleci.com/gh/acme/app/9" }))
      .toEqual({ ci_provider: "circleci", ci_run_url: "https://circleci.com/gh/acme/app/9", ci_repository: "acme/app", ci_commit: "c0ffee" })
    expect(ciMetadata({ GITLAB_CI: "true", CI_JOB_URL: "https://gitlab.example.com/acme/app/-/jobs/4", CI_COMMIT_BRANCH: "main" }))
      .toEqual({ ci_provider: "gitlab", ci_branch: "main", ci_job_url: "https://gitlab.example.com/acme/app/-/jobs/4" })
    expect(ciMetadata({ CI: "1" })).toEqual({ ci_provider: "generic" })
    expect(ciMetadata({ CI: "false", HOME: "/root" })).toEqual({})
  })
})

describe("the sink the settings choose", () => {
  const SECRET = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
  const sampleRow = (): SpanRow => {
    const file = rolloutFiles("simple")[0]!
    const row = reduceTranscripts([{ source: file, lines: decodedLines(file) }])[0]!
    return { ...row, input: { prompt: `deploy with ${SECRET} and ${API_KEY}` }, metadata: { ...row.metadata, note: `token ${SECRET}` } }
  }

  const writeThrough = (settings: Settings, dir: string) =>
    Effect.gen(function*() {
      const sink = yield* SpanSink
      const row = sampleRow()
      yield* sink.write([row])
      return { name: sink.name, stored: yield* readLocalTrace(dir, row.root_span_id) }
    }).pipe(Effect.provide(sinkLayerFor(settings)), Effect.provide(StateDir.at(dir)), Effect.provide(NodeContext.layer))

  it.effect("the local store receives redacted rows, the configured API key included; unless redaction is off", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const redacted = yield* writeThrough({ ...defaultSettings, apiKey: Redacted.make(API_KEY) }, dir)
      expect(redacted.name).toBe("local")
      const text = JSON.stringify(redacted.stored)
      expect(text).not.toContain(SECRET)
      expect(text).not.toContain(API_KEY)
      expect(redacted.stored[0]!.input).toEqual({ prompt: "deploy with [REDACTED:github-token] and [REDACTED:braintrust-key]" })
      expect(redacted.stored[0]!.metadata["note"]).toBe("token [REDACTED:github-token]")

      const raw = yield* writeThrough({ ...defaultSettings, redaction: { enabled: false, extraPatterns: [] } }, tempDir())
      expect(JSON.stringify(raw.stored)).toContain(SECRET)
    }))

  it.effect("Braintrust only when it is switched on and there is a key", () =>
    Effect.gen(function*() {
      const name = (settings: Settings) =>
        Effect.map(SpanSink, (s) => s.name).pipe(Effect.provide(sinkLayerFor(settings)), Effect.provide(StateDir.at(tempDir())), Effect.provide(NodeContext.layer))
      expect(yield* name({ ...defaultSettings, traceToBraintrust: true, apiKey: Redacted.make(API_KEY) })).toBe("braintrust")
      expect(yield* name({ ...defaultSettings, traceToBraintrust: true })).toBe("local")
      expect(yield* name({ ...defaultSettings, apiKey: Redacted.make(API_KEY) })).toBe("local")
    }))
})
