/**
 * `trace-codex config`: the effective settings, where each came from (environment variable,
 * config.json or default), and what they add up to (which sink, whether redaction is on).
 * Secrets are never printed: the API key shows as `sk-…1234`, and metadata goes through the
 * same redaction as uploads. Invalid settings end in a message naming the key, exit code 2.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { spansDir } from "../../layers/LocalSpanSink"
import { defaultRedactor } from "../redaction"
import {
  loadSettingsReport,
  sendsToBraintrust,
  SETTING_NAMES,
  type SettingName,
  type Settings,
  type SettingSource,
  settingEnvNames,
  type SettingsReport
} from "../Settings"
import { resolveStateDirWithSource, StateDir } from "../StateDir"

const json = Options.boolean("json").pipe(Options.withDescription("print the settings as one JSON object"))

/** `sk-…wxyz`: enough to tell keys apart, too little to use one */
export const maskSecret = (secret: string): string => {
  if (secret.length < 16) return "[redacted]"
  const prefix = /^[A-Za-z]{1,8}[-_]/.exec(secret)?.[0] ?? ""
  return `${prefix}…${secret.slice(-4)}`
}

/** the value as shown: JSON-safe, secrets masked or redacted */
const displayValue = (settings: Settings, name: SettingName): unknown => {
  switch (name) {
    case "apiKey":
      return settings.apiKey === undefined ? null : maskSecret(Redacted.value(settings.apiKey))
    case "redact":
      return settings.redaction.enabled
    case "redactPatterns":
      return settings.redaction.extraPatterns
    case "additionalMetadata":
      return settings.additionalMetadata === undefined ? null : defaultRedactor.redactValue(settings.additionalMetadata)
    default: {
      const value = settings[name]
      return value === undefined ? null : typeof value === "string" ? defaultRedactor.redactString(value) : value
    }
  }
}

const UNSET: Partial<Record<SettingName, string>> = {
  apiKey: "(not set)",
  appUrl: "(SDK default)",
  apiUrl: "(the one Braintrust's login names)",
  orgName: "(the key's first organization)",
  additionalMetadata: "(none)",
  parentSpanId: "(none)",
  rootSpanId: "(none)"
}

const describeSource = (source: SettingSource): string =>
  source.from === "env" ? `env ${source.name}` : source.from === "config.json" ? "config.json" : "default"

const sinkLine = (report: SettingsReport): string => {
  const { settings } = report
  if (sendsToBraintrust(settings)) return `braintrust, project "${settings.project}"`
  const why = settings.traceToBraintrust ? "TRACE_TO_BRAINTRUST is on but no API key is set" : "TRACE_TO_BRAINTRUST is off"
  return `local store in ${spansDir(report.stateDir)} (${why})`
}

const redactionLine = (settings: Settings): string => {
  if (!settings.redaction.enabled) return "off: rows are delivered as Codex recorded them"
  const extra = settings.redaction.extraPatterns.length
  return `on${extra > 0 ? `, with ${extra} extra pattern${extra === 1 ? "" : "s"}` : ""} (preview with trace-codex show --redacted)`
}

const table = (rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]! + 2))).join("").trimEnd()).join("\n")
}

const text = (report: SettingsReport, stateDirFrom: string): string => {
  const { settings } = report
  const rows = SETTING_NAMES.map((name) => {
    const value = displayValue(settings, name)
    const shown = value === null ? UNSET[name] ?? "(none)" : typeof value === "string" ? value : JSON.stringify(value)
    return [name, shown, describeSource(report.sources[name]), settingEnvNames(name).join(", ")]
  })
  const ci = Object.entries(settings.ciMetadata)
  return [
    table([
      ["state dir", `${report.stateDir} (${stateDirFrom})`],
      ["config file", `${report.configFile}${report.configFileFound ? "" : " (not found)"}`],
      ["sink", sinkLine(report)],
      ["redaction", redactionLine(settings)]
    ]),
    "",
    table([["setting", "value", "from", "environment variable"], ...rows]),
    "",
    ci.length === 0
      ? "CI metadata: none (not running in CI)"
      : ["CI metadata (added to the root span of sessions traced live here):", ...ci.map(([key, value]) => `  ${key}: ${value}`)].join("\n")
  ].join("\n")
}

const asJson = (report: SettingsReport, stateDirFrom: string) => ({
  stateDir: report.stateDir,
  stateDirFrom,
  configFile: report.configFile,
  configFileFound: report.configFileFound,
  sink: sendsToBraintrust(report.settings) ? "braintrust" : "local",
  settings: Object.fromEntries(
    SETTING_NAMES.map((name) => [name, { value: displayValue(report.settings, name), ...report.sources[name], env: settingEnvNames(name) }])
  ),
  ciMetadata: report.settings.ciMetadata
})

export const configCommand = Command.make("config", { json }, (args) =>
  Effect.gen(function*() {
    const report = yield* loadSettingsReport
    const stateDirFrom = (yield* resolveStateDirWithSource).from
    yield* Console.log(args.json ? JSON.stringify(asJson(report, stateDirFrom), null, 2) : text(report, stateDirFrom))
  }).pipe(Effect.provide(StateDir.layer))
).pipe(
  Command.withDescription(
    "Print the effective settings and where each comes from: environment variables win over <state dir>/config.json, which wins over the defaults. Secrets are shown masked. Exits 2 when a setting is invalid."
  )
)
