/**
 * `trace-codex doctor`: is live tracing going to work for this CODEX_HOME, and if not, what to
 * do. Checks Node, the hooks in hooks.json (all 12 events, pointing at an existing executable),
 * Codex's trust in them (from config.toml and what install recorded), or the trace-codex Codex
 * plugin (enabled, plugin hooks switched on, its hooks trusted), the state directory, the
 * settings, Braintrust (login, project, API — only when tracing to Braintrust is on; otherwise
 * no network at all) and delivery (drainer, waiting payloads, failing sessions). Exit code 1
 * when something is wrong.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Redacted from "effect/Redacted"
import * as fs from "node:fs"
import * as path from "node:path"
import { checkBraintrust } from "../codexHome/braintrustCheck"
import { type Assignment, hooksFeature, hookTrustStates } from "../codexHome/codexConfig"
import { type PluginInstall, readCodexConfig, readTextIfPresent, tracePluginOf } from "../codexHome/pluginInstall"
import { decodeInstallRecord, type InstallRecord, trustFromFiles } from "../codexHome/hookTrust"
import {
  type HandlerAt,
  HOOK_EVENTS,
  hookTimeoutSeconds,
  ourHandlersOf,
  ourProgramOf,
  parseHooksFile,
  snakeCase,
  unknownTopLevelFields
} from "../codexHome/hooksFile"
import { hookBinOfPackage, hooksFileOf, isExecutableFile, packageRoot, resolveCodexHome, hooksStateDirFor, trustPathOf } from "../codexHome/installation"
import { readSessionStatus } from "../Drainer"
import { journalSessions, listSpool } from "../Journal"
import { stateLayout } from "../live/layout"
import { liveDrainer } from "../live/lock"
import { configFilePath, loadSettingsReport } from "../Settings"
import { StateDir } from "../StateDir"
import { CliFailure } from "./errors"

declare const TRACE_CODEX_VERSION: string | undefined

type Status = "ok" | "info" | "warn" | "fail"

interface Check {
  readonly id: string
  readonly status: Status
  readonly summary: string
  readonly details?: ReadonlyArray<string>
  readonly fix?: string
}

const check = (id: string, status: Status, summary: string, extra: { details?: ReadonlyArray<string>; fix?: string } = {}): Check => ({ id, status, summary, ...extra })

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const readText = readTextIfPresent

// ---------------------------------------------------------------------------------------------
// Settings (SPEC §5: environment over config.json)

/**
 * What the checks need of the settings. Read with the very code the hooks' drainer uses
 * (src/Settings.ts), so doctor calls valid exactly what the drainer accepts: a value the drainer
 * rejects sends every session to the local store, and doctor must say so.
 */
interface Settings {
  readonly traceToBraintrust: boolean
  readonly apiKey: Redacted.Redacted<string> | undefined
  readonly apiKeyFrom: "env" | "config.json" | undefined
  readonly project: string
  readonly appUrl: string
  readonly apiUrl: string | undefined
  readonly orgName: string | undefined
  readonly flushOnTurnEnd: boolean
}

interface SettingsReport {
  /** undefined when invalid: the drainer then sends every session to the local store */
  readonly settings: Settings | undefined
  readonly problems: ReadonlyArray<string>
  readonly notes: ReadonlyArray<string>
  readonly file: string
  readonly fileMode: number | undefined
}

const DEFAULT_APP_URL = "https://www.braintrust.dev"

const readSettings = (stateDir: string): Effect.Effect<SettingsReport, never, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const file = configFilePath(stateDir)
    let fileMode: number | undefined
    try {
      fileMode = fs.statSync(file).mode & 0o777
    } catch {
      fileMode = undefined
    }
    const loaded = yield* Effect.either(Effect.provide(loadSettingsReport, StateDir.at(stateDir)))
    if (Either.isLeft(loaded)) {
      const error = loaded.left
      const problems = error.problems.length > 0 ? error.problems.map((problem) => problem.message) : [error.message]
      return { settings: undefined, problems, notes: [], file, fileMode }
    }
    const report = loaded.right
    const { settings } = report
    const apiKeyFrom = report.sources.apiKey.from
    const notes = apiKeyFrom === "config.json" ? ["config.json holds an API key: prefer BRAINTRUST_API_KEY in the environment (trace-codex never writes it to disk)"] : []
    return {
      settings: {
        traceToBraintrust: settings.traceToBraintrust,
        apiKey: settings.apiKey,
        apiKeyFrom: apiKeyFrom === "default" ? undefined : apiKeyFrom,
        project: settings.project,
        appUrl: settings.appUrl ?? DEFAULT_APP_URL,
        apiUrl: settings.apiUrl,
        orgName: settings.orgName,
        flushOnTurnEnd: settings.flushOnTurnEnd
      },
      problems: [],
      notes,
      file,
      fileMode
    }
  })

// ---------------------------------------------------------------------------------------------
// The checks

const nodeCheck = (): Check => {
  const major = Number(process.versions.node.split(".")[0])
  return major >= 20
    ? check("node", "ok", `Node ${process.version}`)
    : check("node", "fail", `Node ${process.version} is too old: trace-codex needs Node 20 or later`, { fix: "install Node 20+ and make it the `node` on PATH (Codex's hooks start it)" })
}

interface HooksFindings {
  readonly checks: ReadonlyArray<Check>
  readonly ours: ReadonlyArray<HandlerAt>
}

const hooksChecks = (hooksFile: string, hookBin: string | undefined, settings: Settings | undefined, plugin: PluginInstall | undefined): HooksFindings => {
  const install = "run trace-codex install"
  const text = readText(hooksFile)
  const viaPlugin = plugin === undefined ? undefined : check("hooks", "info", `no trace-codex hooks in ${hooksFile}: the plugin ${plugin.id} provides them`)
  if (text === undefined) return { checks: [viaPlugin ?? check("hooks", "fail", `no ${hooksFile}: trace-codex's hooks are not installed`, { fix: install })], ours: [] }
  const parsed = parseHooksFile(text)
  if (Either.isLeft(parsed)) return { checks: [check("hooks", "fail", `${hooksFile} is ${parsed.left}: Codex runs no hook from it`, { fix: "fix the file, then run trace-codex install" })], ours: [] }
  const doc = parsed.right
  const checks: Array<Check> = []
  const extraFields = unknownTopLevelFields(doc)
  if (extraFields.length > 0) {
    checks.push(check("hooks-file", "fail", `${hooksFile} has top-level fields Codex refuses (${extraFields.join(", ")}): Codex ignores the whole file`, { fix: `remove them; only "description" and "hooks" are allowed` }))
  }
  const ours = ourHandlersOf(doc)
  const missing = HOOK_EVENTS.filter((event) => !ours.some((at) => at.event === event))
  if (ours.length === 0) {
    checks.push(viaPlugin ?? check("hooks", "fail", `${hooksFile} has no trace-codex hooks`, { fix: install }))
    return { checks, ours }
  }
  const programs = [...new Set(ours.map((at) => ourProgramOf(String(at.value["command"])) ?? ""))]
  const broken = programs.filter((program) => !isExecutableFile(program))
  const problems: Array<string> = []
  if (missing.length > 0) problems.push(`missing for ${missing.join(", ")}`)
  if (broken.length > 0) problems.push(`${broken.join(", ")} ${broken.length === 1 ? "is" : "are"} not an executable file (trace-codex moved or uninstalled?)`)
  if (problems.length > 0) {
    checks.push(check("hooks", "fail", `trace-codex hooks in ${hooksFile}: ${problems.join("; ")}`, { fix: install }))
  } else {
    checks.push(check("hooks", "ok", `all ${HOOK_EVENTS.length} events in ${hooksFile} run ${programs.join(", ")}`))
  }
  const warnings: Array<string> = []
  if (hookBin !== undefined && programs.some((program) => program !== hookBin)) {
    warnings.push(`they run ${programs.join(", ")}, not this installation's ${hookBin}`)
  }
  const duplicated = HOOK_EVENTS.filter((event) => ours.filter((at) => at.event === event).length > 1)
  if (duplicated.length > 0) warnings.push(`more than one trace-codex hook for ${duplicated.join(", ")} (each event is recorded twice)`)
  const narrowed = ours.filter((at) => at.matcher !== undefined && at.matcher !== null && at.matcher !== "" && at.matcher !== "*")
  if (narrowed.length > 0) warnings.push(`a matcher limits ${[...new Set(narrowed.map((at) => at.event))].join(", ")} to some tools or sources`)
  for (const at of ours) {
    const timeout = at.value["timeout"]
    if ((at.event === "SessionEnd" || at.event === "Interrupt") && typeof timeout === "number" && timeout > 3) {
      warnings.push(`${at.event} timeout ${timeout} s: Codex clamps it to 3 s and warns about it`)
    }
  }
  const stop = ours.find((at) => at.event === "Stop")
  const stopTimeout = typeof stop?.value["timeout"] === "number" ? stop.value["timeout"] : 600
  const waitMs = Number(process.env["TRACE_CODEX_TURN_END_TIMEOUT_MS"] ?? "10000")
  if (settings?.flushOnTurnEnd === true && Number.isFinite(waitMs) && waitMs / 1000 + 2 > stopTimeout) {
    warnings.push(`Stop waits up to ${waitMs / 1000} s for delivery (flush on turn end) but its timeout is ${stopTimeout} s: Codex stops it first`)
  }
  if (warnings.length > 0) checks.push(check("hooks-setup", "warn", warnings.join("; "), { fix: `${install} (it rewrites our entries with the defaults: Stop ${hookTimeoutSeconds("Stop")} s, SessionEnd/Interrupt 3 s)` }))
  return { checks, ours }
}

const trustChecks = (codexHome: string, config: ReturnType<typeof readCodexConfig>, hooksFile: string, ours: ReadonlyArray<HandlerAt>, record: InstallRecord | undefined): ReadonlyArray<Check> => {
  const configFile = path.join(codexHome, "config.toml")
  if (Either.isLeft(config)) {
    return [check("trust", "warn", `cannot read ${configFile} (${config.left.message}): hook trust unknown`, { fix: "Codex reports config.toml errors at start-up; fix the file" })]
  }
  const checks: Array<Check> = []
  if (hooksFeature(config.right) === false) {
    checks.push(check("codex-hooks", "fail", `hooks are switched off in ${configFile} ([features] hooks = false): Codex runs none`, { fix: "remove that line or set it to true" }))
  }
  if (ours.length === 0) return checks
  const states = hookTrustStates(config.right)
  // Codex keys trust by the real path of CODEX_HOME (a symlinked home gives keys under its target)
  const keyPath = trustPathOf(hooksFile)
  const verdicts = ours.map((at) => ({ at, verdict: trustFromFiles(keyPath, at, states, record) }))
  const events = (status: string) => verdicts.filter((v) => v.verdict.status === status).map((v) => v.at.event)
  const untrusted = events("untrusted")
  const modified = events("modified")
  const disabled = events("disabled")
  const unverified = verdicts.filter((v) => v.verdict.status === "trusted" && !v.verdict.verified).length
  const bypass = "in CI, codex exec --dangerously-bypass-hook-trust runs them without recorded trust"
  if (untrusted.length > 0) {
    const which = untrusted.length === ours.length ? `our ${ours.length} hooks` : untrusted.join(", ")
    checks.push(
      check("trust", "fail", `Codex has no trust recorded for ${which}: it skips them without a word`, {
        fix: `run trace-codex install with codex on PATH (it records trust for exactly our hooks), or start codex and choose "Trust all" under "Hooks need review"; ${bypass}`
      })
    )
  }
  if (modified.length > 0) {
    checks.push(check("trust", "fail", `${modified.join(", ")} changed since Codex trusted them: Codex treats them as modified and skips them`, { fix: `run trace-codex install again (it re-records trust); ${bypass}` }))
  }
  if (disabled.length > 0) {
    checks.push(check("trust", "fail", `${disabled.join(", ")} disabled in ${configFile} (enabled = false)`, { fix: "enable them in codex (/hooks) or remove the enabled = false lines" }))
  }
  if (checks.every((c) => c.id !== "trust")) {
    checks.push(
      check("trust", "ok", `Codex trusts our ${ours.length} hooks (${configFile})`, {
        details: unverified > 0 ? [`${unverified} of them were trusted outside trace-codex install; their hashes are Codex's to check`] : []
      })
    )
  }
  return checks
}

const pluginChecks = (config: ReadonlyArray<Assignment>, plugin: PluginInstall | undefined, hooksInFile: boolean): ReadonlyArray<Check> => {
  if (plugin === undefined) return []
  const checks: Array<Check> = []
  // trust of plugin hooks is keyed "<plugin id>:hooks/hooks.json:<event>:<group>:<handler>"
  const states = hookTrustStates(config)
  const trusted = HOOK_EVENTS.filter((event) => {
    const state = states.get(`${plugin.id}:hooks/hooks.json:${snakeCase(event)}:0:0`)
    return state?.trustedHash !== undefined && state.enabled !== false
  })
  if (trusted.length < HOOK_EVENTS.length) {
    const missing = HOOK_EVENTS.filter((event) => !trusted.includes(event))
    checks.push(
      check("plugin-trust", "fail", `Codex has no trust recorded for ${missing.length === HOOK_EVENTS.length ? `the plugin's ${HOOK_EVENTS.length} hooks` : `the plugin's ${missing.join(", ")} hooks`}: it skips them without a word`, {
        fix: 'start codex and choose "Trust all" under "Hooks need review"; in CI, codex exec --dangerously-bypass-hook-trust runs them without recorded trust'
      })
    )
  }
  if (!plugin.hooksOn) {
    return [
      check("plugin", "fail", `the trace-codex plugin (${plugin.id}) is enabled, but Codex 0.169 runs plugin hooks only with the plugin_hooks feature: its hooks never run`, {
        fix: "add features.plugin_hooks = true to config.toml (or start codex --enable plugin_hooks)"
      }),
      ...checks
    ]
  }
  checks.unshift(check("plugin", "ok", `the trace-codex plugin (${plugin.id}) is enabled and plugin hooks are on; its state is in ${plugin.dataDir}`))
  if (hooksInFile) {
    checks.push(
      check("plugin-twice", "warn", "trace-codex hooks run twice, from hooks.json and from the plugin: every event is recorded twice, in two state dirs", {
        fix: `keep one: trace-codex uninstall, or codex plugin remove ${plugin.id}`
      })
    )
  }
  return checks
}

const stateDirChecks = (stateDir: string): ReadonlyArray<Check> => {
  let stat: fs.Stats | undefined
  try {
    stat = fs.statSync(stateDir)
  } catch {
    stat = undefined
  }
  if (stat === undefined) {
    let parent = path.dirname(stateDir)
    while (!fs.existsSync(parent) && path.dirname(parent) !== parent) parent = path.dirname(parent)
    let parentIsFolder = false
    try {
      parentIsFolder = fs.statSync(parent).isDirectory()
    } catch {
      parentIsFolder = false
    }
    if (!parentIsFolder) {
      return [check("state-dir", "fail", `${stateDir} cannot be created: ${parent} is not a folder`, { fix: "move that file away or set TRACE_CODEX_STATE_DIR to a folder you can write" })]
    }
    try {
      fs.accessSync(parent, fs.constants.W_OK)
      return [check("state-dir", "ok", `${stateDir} does not exist yet; the first hook creates it (0700)`)]
    } catch {
      return [check("state-dir", "fail", `${stateDir} does not exist and ${parent} is not writable`, { fix: "set TRACE_CODEX_STATE_DIR to a folder you can write" })]
    }
  }
  if (!stat.isDirectory()) return [check("state-dir", "fail", `${stateDir} is not a folder`, { fix: "move it away or set TRACE_CODEX_STATE_DIR" })]
  const probe = path.join(stateDir, `.doctor-${process.pid}`)
  try {
    fs.writeFileSync(probe, "", { mode: 0o600 })
    fs.rmSync(probe)
  } catch (e) {
    return [check("state-dir", "fail", `${stateDir} is not writable (${errorText(e)}): hooks cannot record anything`, { fix: `fix its owner/permissions (chmod 700 ${stateDir}) or set TRACE_CODEX_STATE_DIR` })]
  }
  const mode = stat.mode & 0o777
  if ((mode & 0o077) !== 0) {
    return [check("state-dir", "fail", `${stateDir} is writable but open to other users (mode ${mode.toString(8)}); it holds prompts and outputs`, { fix: `chmod 700 ${stateDir}` })]
  }
  return [check("state-dir", "ok", `${stateDir} is writable, mode 700`)]
}

const settingsChecks = (report: SettingsReport): ReadonlyArray<Check> => {
  const checks: Array<Check> = []
  if (report.settings === undefined) {
    checks.push(
      check("config", "fail", "invalid settings: the hooks' drainer rejects them and sends every session to the local store until they are fixed", {
        details: report.problems,
        fix: "fix the values named above (environment variables win over config.json); trace-codex config shows every setting and where it comes from"
      })
    )
  } else {
    const where = report.fileMode === undefined ? "no config.json; environment and defaults" : `${report.file} and the environment`
    checks.push(check("config", "ok", `settings valid (${where})`, { details: report.notes }))
  }
  if (report.fileMode !== undefined && (report.fileMode & 0o077) !== 0) {
    checks.push(check("config-mode", report.settings?.apiKeyFrom === "config.json" ? "fail" : "warn", `${report.file} is readable by other users (mode ${report.fileMode.toString(8)})`, { fix: `chmod 600 ${report.file}` }))
  }
  return checks
}

const braintrustChecks = (settings: Settings | undefined, stateDir: string): Effect.Effect<ReadonlyArray<Check>> =>
  Effect.gen(function* () {
    if (settings === undefined) {
      return [check("braintrust", "info", `not checked: with invalid settings spans go to the local store ${path.join(stateDir, "spans")}`)]
    }
    if (!settings.traceToBraintrust) {
      return [check("braintrust", "info", `off: spans go to the local store ${path.join(stateDir, "spans")} (TRACE_TO_BRAINTRUST is not true); nothing checked online`)]
    }
    if (settings.apiKey === undefined) {
      return [check("braintrust", "fail", "TRACE_TO_BRAINTRUST is true but no API key is set: spans go to the local store instead", { fix: "export BRAINTRUST_API_KEY=<your key> where Codex runs" })]
    }
    const steps = yield* checkBraintrust({
      apiKey: settings.apiKey,
      appUrl: settings.appUrl,
      apiUrl: settings.apiUrl,
      orgName: settings.orgName,
      project: settings.project,
      timeoutMs: 10_000
    })
    return steps.map((step) => check(`braintrust-${step.name}`, step.ok ? "ok" : "fail", step.message, step.fix === undefined ? {} : { fix: step.fix }))
  })

const deliveryChecks = (stateDir: string): ReadonlyArray<Check> => {
  const layout = stateLayout(stateDir)
  if (!fs.existsSync(stateDir)) return [check("delivery", "info", "nothing recorded yet")]
  const checks: Array<Check> = []
  const drainer = liveDrainer(layout)
  const spool = listSpool(layout)
  const oldest = spool.length > 0 ? Number(spool[0]?.split("-")[0] ?? "0") / 1e6 : undefined
  if (drainer !== undefined) {
    checks.push(check("drainer", "ok", `drainer running (pid ${drainer.pid})${spool.length > 0 ? `, ${spool.length} hook payloads waiting` : ""}`))
  } else if (spool.length > 0 && oldest !== undefined && Date.now() - oldest > 60_000) {
    checks.push(check("drainer", "fail", `${spool.length} hook payloads waiting and no drainer running`, { fix: `run trace-codex flush; if it keeps happening, see ${path.join(layout.logs, "drainer.log")}` }))
  } else {
    checks.push(check("drainer", "info", `no drainer running (the next hook starts one)${spool.length > 0 ? `; ${spool.length} hook payloads waiting` : ""}`))
  }
  const failing = journalSessions(layout).flatMap((id) => {
    const status = readSessionStatus(layout, id)
    return status?.lastError !== undefined ? [`${id}: ${status.lastError}`] : []
  })
  if (failing.length > 0) {
    checks.push(check("sessions", "warn", `${failing.length} sessions not delivered yet (retrying)`, { details: failing.slice(0, 3), fix: "trace-codex status shows them; trace-codex flush retries now" }))
  }
  const hookLog = readText(path.join(layout.logs, "hook.log"))
  const lastHookError = hookLog?.trimEnd().split("\n").at(-1)
  if (lastHookError !== undefined && lastHookError !== "") {
    checks.push(check("hook-log", "warn", `the hook logged problems; the last one: ${lastHookError}`, { fix: `see ${path.join(layout.logs, "hook.log")}` }))
  }
  return checks
}

// ---------------------------------------------------------------------------------------------
// The command

const codexHomeOption = Options.text("codex-home").pipe(Options.withDescription("the Codex home to check (default: $CODEX_HOME, else ~/.codex)"), Options.optional)
const jsonOption = Options.boolean("json").pipe(Options.withDescription("print the checks as JSON"))

const MARK: Record<Status, string> = { ok: "✓", info: "·", warn: "!", fail: "✗" }

export const doctorCommand = Command.make("doctor", { codexHome: codexHomeOption, json: jsonOption }, (args) =>
  Effect.gen(function* () {
    const home = yield* resolveCodexHome(args.codexHome)
    const hooksFile = hooksFileOf(home)
    const config = readCodexConfig(home)
    const plugin = Either.isRight(config) ? tracePluginOf(home, config.right) : undefined
    // the state of the hooks that run: a plugin-only install keeps it in PLUGIN_DATA
    const stateDir = yield* hooksStateDirFor(home)
    const root = packageRoot()
    const hookBin = root === undefined ? undefined : hookBinOfPackage(root)
    const report = yield* readSettings(stateDir)
    const record = Either.getOrUndefined(decodeInstallRecord(readText(path.join(stateDir, "install.json")) ?? ""))
    const version = typeof TRACE_CODEX_VERSION === "string" ? TRACE_CODEX_VERSION : "0.0.0-dev"
    const hooks = hooksChecks(hooksFile, hookBin, report.settings, plugin)
    const checks: Array<Check> = [
      nodeCheck(),
      hookBin !== undefined && isExecutableFile(hookBin)
        ? check("install", "ok", `trace-codex ${version} at ${root}`)
        : check("install", "fail", `trace-codex ${version}: ${hookBin ?? "bin/trace-codex-hook"} is missing`, { fix: "reinstall trace-codex" }),
      ...hooks.checks,
      ...pluginChecks(Either.getOrElse(config, () => []), plugin, hooks.ours.length > 0),
      ...trustChecks(home, config, hooksFile, hooks.ours, record),
      ...stateDirChecks(stateDir),
      ...settingsChecks(report),
      ...(yield* braintrustChecks(report.settings, stateDir)),
      ...deliveryChecks(stateDir)
    ]
    const failures = checks.filter((c) => c.status === "fail").length
    const warnings = checks.filter((c) => c.status === "warn").length

    if (args.json) {
      yield* Console.log(JSON.stringify({ ok: failures === 0, codexHome: home, stateDir, checks }, null, 2))
    } else {
      yield* Console.log(`trace-codex doctor  (CODEX_HOME ${home})\n`)
      for (const c of checks) {
        yield* Console.log(`${MARK[c.status]} ${c.id.padEnd(16)} ${c.summary}`)
        for (const d of c.details ?? []) yield* Console.log(`  ${"".padEnd(16)} ${d}`)
        if (c.fix !== undefined && c.status !== "ok") yield* Console.log(`  ${"".padEnd(16)} → ${c.fix}`)
      }
      yield* Console.log(
        `\n${failures === 0 ? "No problems found" : `${failures} problem${failures === 1 ? "" : "s"} found`}${warnings > 0 ? `, ${warnings} warning${warnings === 1 ? "" : "s"}` : ""}.` +
          (failures === 0 && report.settings?.traceToBraintrust === true ? "" : failures === 0 ? " Tracing goes to the local store." : "")
      )
      yield* Console.log("Settings are read from this shell's environment: Codex passes the environment it starts in to its hooks.")
    }
    if (failures > 0) return yield* new CliFailure({ message: `${failures} problems`, silent: true })
  })
).pipe(
  Command.withDescription(
    "Check that live tracing works for a CODEX_HOME and say what to do about each problem: Node version, trace-codex's hooks in hooks.json (all 12 events, pointing at an existing executable) and Codex's trust in them, or the trace-codex Codex plugin (enabled, plugin hooks on, its hooks trusted), the state dir (writable, 0700), the settings, Braintrust login, project and API (only when TRACE_TO_BRAINTRUST is on; no network otherwise), and delivery (drainer, waiting payloads, failing sessions). Exits 1 when something is wrong."
  )
)
