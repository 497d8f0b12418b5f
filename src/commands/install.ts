/**
 * `trace-codex install` and `trace-codex uninstall`: put our hook entries into
 * `$CODEX_HOME/hooks.json` (all 12 events, one command each, running this installation's
 * `bin/trace-codex-hook <Event>`) and take them out again, leaving other tools' hooks — and the
 * trust Codex has for them — as they were. Every change is backed up first.
 *
 * Trust: Codex silently skips hooks it does not trust. When a `codex` binary is at hand, install
 * asks it (`codex app-server`) for the hashes of exactly the handlers we wrote and has it record
 * them as trusted in its config.toml; see src/codexHome/hookTrust.ts for why that is safe.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as fs from "node:fs"
import * as path from "node:path"
import { connectAppServer, type CodexAppServer, type CodexHookEntry, findCodex } from "../codexHome/appServer"
import { decodeInstallRecord, type InstallRecord, planTrust, positionOfKey, toConfigEdits, type TrustPlan } from "../codexHome/hookTrust"
import {
  deepEqual,
  HOOK_EVENTS,
  hookCommandFor,
  type HooksDocument,
  isEmptyDocument,
  ourHandlersOf,
  parseHooksFile,
  planInstall,
  planUninstall,
  positionKey,
  renderHooksFile,
  styleOf,
  DEFAULT_STYLE,
  type HandlerAt,
  unknownTopLevelFields
} from "../codexHome/hooksFile"
import {
  backUp,
  backupsOf,
  hookBinOfPackage,
  hooksFileOf,
  isExecutableFile,
  isSymlink,
  mergeSettingsFile,
  modeOf,
  packageRoot,
  readTextIfExists,
  removeFile,
  resolveCodexHome,
  stateDirFor,
  writeAtomically
} from "../codexHome/installation"
import { rewriteJsonText } from "../codexHome/jsonText"
import { trustPluginHooks } from "../codexHome/pluginTrust"
import { unifiedDiff } from "../codexHome/textDiff"
import { CliFailure } from "./errors"

// ---------------------------------------------------------------------------------------------
// Options

const codexHome = Options.text("codex-home").pipe(
  Options.withDescription("the Codex home to change (default: $CODEX_HOME, else ~/.codex)"),
  Options.optional
)
const dryRun = Options.boolean("dry-run").pipe(Options.withDescription("show the change to hooks.json as a diff and write nothing"))
const json = Options.boolean("json").pipe(Options.withDescription("print what was done as one JSON object"))
const codexBin = Options.text("codex-bin").pipe(
  Options.withDescription("the codex executable used to record hook trust (default: codex on PATH)"),
  Options.optional
)
const noTrust = Options.boolean("no-trust").pipe(
  Options.withDescription("do not record trust for our hooks; trust them in Codex yourself, or run codex exec with --dangerously-bypass-hook-trust")
)
const plugin = Options.boolean("plugin").pipe(
  Options.withDescription(
    "for the trace-codex Codex plugin (codex plugin add trace-codex@<marketplace>) instead of hooks.json: have Codex switch plugin hooks on (features.plugin_hooks) and trust the plugin's 12 hooks, after checking they are the ones this trace-codex ships; needs codex on PATH or --codex-bin"
  )
)
const project = Options.text("project").pipe(
  Options.withDescription("Braintrust project for these traces, saved as \"project\" in <state dir>/config.json"),
  Options.optional
)

// ---------------------------------------------------------------------------------------------
// Shared steps

const sameFile = (a: string, b: string): boolean => {
  if (path.resolve(a) === path.resolve(b)) return true
  try {
    return fs.realpathSync(a) === fs.realpathSync(b)
  } catch {
    return false
  }
}

interface HooksFileState {
  readonly file: string
  readonly text: string | undefined
  readonly doc: HooksDocument | undefined
}

const readHooksFile = (file: string): Effect.Effect<HooksFileState, CliFailure> =>
  Effect.gen(function* () {
    const text = yield* readTextIfExists(file)
    if (text === undefined || text.trim() === "") return { file, text, doc: undefined }
    const parsed = parseHooksFile(text)
    if (Either.isLeft(parsed)) {
      return yield* new CliFailure({ message: `${file} is ${parsed.left}. Nothing was changed; fix the file (or move it away) and run again.` })
    }
    return { file, text, doc: parsed.right }
  })

type TrustOutcome =
  | { readonly status: "recorded"; readonly codex: string; readonly configFile: string; readonly newlyTrusted: number; readonly alreadyTrusted: number; readonly carriedOver: number; readonly removed: number }
  | { readonly status: "unchanged"; readonly codex: string; readonly alreadyTrusted: number }
  | { readonly status: "skipped"; readonly reason: string }
  | { readonly status: "failed"; readonly codex: string; readonly reason: string }

/**
 * Runs `write` (the hooks.json change) between two `hooks/list` calls to Codex's app-server and
 * then has Codex record the trust edits `plan` derives from them. When no codex is available or
 * it fails, the file is written all the same and the outcome says why trust was not recorded.
 */
const writeWithTrust = (options: {
  readonly codexBin: string | undefined
  readonly codexHome: string
  readonly hooksFile: string
  readonly write: Effect.Effect<void, CliFailure>
  readonly plan: (before: ReadonlyArray<CodexHookEntry>, after: ReadonlyArray<CodexHookEntry>) => TrustPlan
  readonly skipReason: string | undefined
}): Effect.Effect<{ readonly outcome: TrustOutcome; readonly final: ReadonlyArray<CodexHookEntry> }, CliFailure> =>
  Effect.scoped(
    Effect.gen(function* () {
      const { codexBin } = options
      if (options.skipReason !== undefined || codexBin === undefined) {
        yield* options.write
        return { outcome: { status: "skipped", reason: options.skipReason ?? "no codex executable found on PATH" } as const, final: [] }
      }
      let warnings: ReadonlyArray<string> = []
      const ours = (server: CodexAppServer) =>
        Effect.map(server.listHooks(options.codexHome), (list) => {
          warnings = list.warnings
          return list.hooks.filter((entry) => typeof entry.sourcePath === "string" && sameFile(entry.sourcePath, options.hooksFile))
        })
      const connected = yield* Effect.either(
        Effect.flatMap(connectAppServer(codexBin, options.codexHome), (server) => Effect.map(ours(server), (before) => ({ server, before })))
      )
      yield* options.write
      if (Either.isLeft(connected)) {
        return { outcome: { status: "failed", codex: codexBin, reason: connected.left.message } as const, final: [] }
      }
      const { before, server } = connected.right
      const result = yield* Effect.either(
        Effect.gen(function* () {
          const after = yield* ours(server)
          const plan = options.plan(before, after)
          if (plan.missing.length > 0) {
            const said = warnings.length > 0 ? ` (Codex says: ${warnings.join("; ")})` : ""
            return yield* Effect.fail({ message: `Codex does not list our hooks for ${plan.missing.length === HOOK_EVENTS.length ? "any event" : plan.missing.join(", ")} as written${said}` })
          }
          if (plan.edits.length === 0) {
            return { outcome: { status: "unchanged", codex: codexBin, alreadyTrusted: plan.alreadyTrusted } as const, final: after }
          }
          const configFile = yield* server.writeConfig(toConfigEdits(plan.edits))
          const final = yield* ours(server)
          const count = (why: string) => plan.edits.filter((edit) => edit.why === why).length
          return {
            outcome: {
              status: "recorded",
              codex: codexBin,
              configFile,
              newlyTrusted: count("ours"),
              alreadyTrusted: plan.alreadyTrusted,
              carriedOver: count("moved"),
              removed: count("stale")
            } as const,
            final
          }
        })
      )
      return Either.getOrElse(result, (e) => ({ outcome: { status: "failed", codex: codexBin, reason: e.message } as const, final: [] }))
    })
  )

const describeTrust = (outcome: TrustOutcome, installing: boolean): Array<string> => {
  switch (outcome.status) {
    case "recorded": {
      const parts = [
        ...(outcome.newlyTrusted > 0 ? [`trusted our ${outcome.newlyTrusted} hooks`] : []),
        ...(installing && outcome.alreadyTrusted > 0 ? [`${outcome.alreadyTrusted} already trusted`] : []),
        ...(outcome.carriedOver > 0 ? [`kept the trust of ${hooksOfOthers(outcome.carriedOver)} that moved`] : []),
        ...(outcome.removed > 0 ? [`removed ${outcome.removed} trust entries of ours`] : [])
      ]
      return [`${parts.join("; ")} in ${outcome.configFile}`, `(hashes computed and written by ${outcome.codex} app-server)`]
    }
    case "unchanged":
      return installing ? [`our ${outcome.alreadyTrusted} hooks are already trusted by Codex (${outcome.codex})`] : ["no trust entries to change"]
    case "skipped":
      return [`not recorded: ${outcome.reason}`]
    case "failed":
      return [`not recorded: ${outcome.reason}`]
  }
}

const printSection = (label: string, lines: ReadonlyArray<string>) =>
  Effect.forEach(lines, (line, i) => Console.log(`${(i === 0 ? label : "").padEnd(12)} ${line}`), { discard: true })

const relativeToHome = (file: string, home: string): string => (file.startsWith(home + path.sep) ? path.relative(home, file) : file)

// ---------------------------------------------------------------------------------------------
// install

const hooksOfOthers = (n: number): string => `${n} ${n === 1 ? "hook" : "hooks"} of other tools`

const TIMEOUTS_NOTE = "timeouts: Stop 30 s (room to wait for delivery at turn end), SessionEnd and Interrupt 3 s (Codex's limit), others 10 s"

/** `install --plugin`: Codex's plugin hooks switched on and trusted; hooks.json is left alone */
const installForPlugin = (args: { readonly codexHome: Option.Option<string>; readonly codexBin: Option.Option<string>; readonly json: boolean }, root: string) =>
  Effect.gen(function* () {
    const home = yield* resolveCodexHome(args.codexHome)
    const codex = findCodex(args.codexBin, process.env["PATH"])
    if (codex === undefined) {
      return yield* new CliFailure({ message: "install --plugin has Codex record the trust of the plugin's hooks, and no codex executable was found on PATH: give one with --codex-bin, or trust them in codex itself (Hooks need review -> Trust all)" })
    }
    const outcome = yield* trustPluginHooks({ codexBin: codex, codexHome: home, shippedHooksFile: path.join(root, "hooks", "hooks.json") })
    if (args.json) {
      yield* Console.log(JSON.stringify({ codexHome: home, plugin: outcome.pluginId, hooksFile: outcome.hooksFile, enabledPluginHooks: outcome.enabledPluginHooks, trust: { newlyTrusted: outcome.newlyTrusted, alreadyTrusted: outcome.alreadyTrusted, configFile: outcome.configFile, codex } }, null, 2))
      return
    }
    yield* Console.log(`trace-codex install --plugin  (CODEX_HOME ${home})\n`)
    yield* printSection("plugin", [`${outcome.pluginId}, hooks from ${outcome.hooksFile} (the same as this trace-codex ships)`])
    yield* printSection("feature", [outcome.enabledPluginHooks ? "switched plugin hooks on (features.plugin_hooks = true): Codex 0.169 runs plugin hooks only with it" : "plugin hooks are on"])
    yield* printSection("trust", [
      outcome.newlyTrusted > 0 ? `trusted the plugin's ${outcome.newlyTrusted} hooks${outcome.alreadyTrusted > 0 ? `; ${outcome.alreadyTrusted} already trusted` : ""} in ${outcome.configFile ?? "config.toml"}` : `the plugin's ${outcome.alreadyTrusted} hooks are already trusted`,
      `(hashes computed and written by ${codex} app-server)`
    ])
    yield* Console.log("\nNext: use Codex as usual; check everything with trace-codex doctor.")
  })

export const installCommand = Command.make("install", { codexHome, project, dryRun, json, codexBin, noTrust, plugin }, (args) =>
  Effect.gen(function* () {
    const root = packageRoot()
    if (root === undefined) return yield* new CliFailure({ message: "cannot find the trace-codex installation this command runs from (no package.json named trace-codex above it)" })
    if (args.plugin) {
      if (args.dryRun || args.noTrust || Option.isSome(args.project)) return yield* new CliFailure({ message: "--plugin only records trust and the plugin_hooks feature: it goes without --dry-run, --no-trust and --project" })
      return yield* installForPlugin(args, root)
    }
    const hookBin = hookBinOfPackage(root)
    if (!isExecutableFile(hookBin)) {
      return yield* new CliFailure({ message: `${hookBin} is missing or not executable: this trace-codex installation is incomplete; reinstall it (npm install -g trace-codex, or npm ci in a checkout)` })
    }
    const project = Option.getOrUndefined(args.project)
    if (project !== undefined && project.trim() === "") {
      return yield* new CliFailure({ message: "--project needs a project name (it must not be empty)" })
    }
    const home = yield* resolveCodexHome(args.codexHome)
    const stateDir = yield* stateDirFor(home)
    const hooksFile = hooksFileOf(home)
    const current = yield* readHooksFile(hooksFile)
    const previousRecord = readRecord(stateDir)
    const plan = planInstall(current.doc, hookBin)
    const style = current.text === undefined || current.text.trim() === "" ? DEFAULT_STYLE : styleOf(current.text)
    const newText = !plan.changed ? current.text ?? "" : current.doc === undefined || current.text === undefined ? renderHooksFile(plan.after, style) : rewriteJsonText(current.text, plan.after, style)
    const warnings = [
      ...(root.includes(`${path.sep}_npx${path.sep}`)
        ? [`this trace-codex runs from npx's cache (${root}), which npm may clean up: install it for good (npm install -g trace-codex) and run install again`]
        : []),
      ...(plan.removedExtra > 0 ? [`removed ${plan.removedExtra} extra hook entries of ours (duplicates or unused events)`] : []),
      ...(unknownTopLevelFields(plan.after).length > 0
        ? [`${hooksFile} has top-level fields Codex does not accept (${unknownTopLevelFields(plan.after).join(", ")}): Codex ignores the whole file, so no hook in it runs. Remove them (only "description" and "hooks" are allowed).`]
        : [])
    ]

    if (args.dryRun) {
      const diff = unifiedDiff(current.text ?? "", newText, { from: current.text === undefined ? "/dev/null" : hooksFile, to: hooksFile })
      if (args.json) {
        yield* Console.log(JSON.stringify({ dryRun: true, hooksFile, changed: plan.changed, added: plan.added, replaced: plan.replaced, unchanged: plan.unchanged, otherHooksKept: plan.othersKept, diff, warnings }, null, 2))
        return
      }
      yield* Console.log(plan.changed ? diff.trimEnd() : `${hooksFile} already has our hooks for all ${HOOK_EVENTS.length} events; nothing to change`)
      for (const w of warnings) yield* Console.log(`warning: ${w}`)
      const steps = [
        ...(plan.changed ? [`${current.text === undefined ? "create" : "back up and write"} ${hooksFile}`] : []),
        ...(args.noTrust ? [] : ["record trust for our hooks (with codex on PATH or --codex-bin)"]),
        ...(project !== undefined ? [`save project "${project}" in ${path.join(stateDir, "config.json")}`] : [])
      ]
      yield* Console.log(`\ndry run: nothing written.${steps.length > 0 ? ` Without --dry-run: ${steps.join(", ")}.` : ""}`)
      return
    }

    const now = new Date()
    // config.json first: a file we cannot merge into stops install before hooks.json changes
    const settingsFile = project !== undefined ? yield* mergeSettingsFile(stateDir, { project }) : undefined
    // before Codex starts: its app-server runs in CODEX_HOME and cannot start in a missing folder
    yield* Effect.try({
      try: () => fs.mkdirSync(home, { recursive: true, mode: 0o700 }),
      catch: (e) => new CliFailure({ message: `cannot create ${home}: ${e instanceof Error ? e.message : String(e)}` })
    })
    let backup: string | undefined
    const write = Effect.gen(function* () {
      if (!plan.changed) return
      if (current.text !== undefined) backup = yield* backUp(hooksFile, now)
      yield* writeAtomically(hooksFile, newText, modeOf(hooksFile, 0o644))
    })
    const codex = args.noTrust ? undefined : findCodex(args.codexBin, process.env["PATH"])
    const oursAfter = ourHandlersOf(plan.after)
    const { final, outcome } = yield* writeWithTrust({
      codexBin: codex,
      codexHome: home,
      hooksFile,
      write,
      skipReason: args.noTrust ? "--no-trust" : Option.isSome(args.codexBin) && codex !== undefined && !isExecutableFile(codex) ? `${codex} is not an executable file` : undefined,
      plan: (before, after) =>
        planTrust({
          ours: oursAfter,
          moved: plan.moved,
          before,
          after,
          expectedCommand: (event) => hookCommandFor(hookBin, event)
        })
    })
    yield* writeRecord(stateDir, hooksFile, hookBin, oursAfter, final, previousRecord, now)
    const trusted = outcome.status === "recorded" || outcome.status === "unchanged"

    if (args.json) {
      yield* Console.log(
        JSON.stringify(
          {
            hooksFile,
            created: current.text === undefined && plan.changed,
            changed: plan.changed,
            backup: backup ?? null,
            hookCommand: hookCommandFor(hookBin, "<Event>"),
            added: plan.added,
            replaced: plan.replaced,
            unchanged: plan.unchanged,
            otherHooksKept: plan.othersKept,
            otherHooksMoved: plan.moved.length,
            trust: outcome,
            stateDir,
            settingsFile: settingsFile ?? null,
            warnings
          },
          null,
          2
        )
      )
      return
    }

    yield* Console.log(`trace-codex install  (CODEX_HOME ${home})\n`)
    const counts = [
      ...(plan.added.length > 0 ? [`${plan.added.length} added`] : []),
      ...(plan.replaced.length > 0 ? [`${plan.replaced.length} updated`] : []),
      ...(plan.unchanged.length > 0 ? [`${plan.unchanged.length} already up to date`] : [])
    ].join(", ")
    yield* printSection("hooks.json", [
      `${hooksFile} (${!plan.changed ? "unchanged" : current.text === undefined ? "created" : "updated"})`,
      ...(backup !== undefined ? [`previous version backed up to ${relativeToHome(backup, home)}`] : [])
    ])
    yield* printSection("our hooks", [
      `all ${HOOK_EVENTS.length} events: ${counts}`,
      `each runs ${hookCommandFor(hookBin, "<Event>")}`,
      TIMEOUTS_NOTE
    ])
    yield* printSection("other hooks", [
      plan.othersKept === 0 ? "none in this file" : `${hooksOfOthers(plan.othersKept)} kept as they were${plan.moved.length > 0 ? ` (${plan.moved.length} moved up a place)` : ""}`
    ])
    yield* printSection("trust", describeTrust(outcome, true))
    yield* printSection("state dir", [`${stateDir}${settingsFile !== undefined ? ` (project "${project ?? ""}" saved in config.json)` : ""}`])
    for (const w of warnings) yield* Console.log(`warning: ${w}`)

    yield* Console.log("\nNext steps")
    if (trusted) {
      yield* Console.log("  - Use Codex as usual (codex, codex exec): every session is traced as it runs.")
    } else {
      yield* Console.log("  - Codex skips hooks it does not trust, without a word. Trust ours once:")
      yield* Console.log(`      interactive: start codex; at "Hooks need review" check that they run ${hookBin}, then choose "Trust all";`)
      yield* Console.log("      or run trace-codex install again where codex is on PATH (or with --codex-bin), which records the trust for you.")
      yield* Console.log("  - In CI, codex exec --dangerously-bypass-hook-trust runs configured hooks without recorded trust (use it only where you control hooks.json).")
    }
    yield* Console.log("  - For Braintrust: export TRACE_TO_BRAINTRUST=true BRAINTRUST_API_KEY=... (else traces stay in the local store).")
    yield* Console.log(`  - Check everything: trace-codex doctor${Option.isSome(args.codexHome) ? ` --codex-home ${home}` : ""}`)
  })
).pipe(
  Command.withDescription(
    [
      "Set up live tracing: merge trace-codex's hook for all 12 Codex hook events into $CODEX_HOME/hooks.json.",
      "Other tools' hooks stay as they are; the file is backed up (hooks.json.bak-<time>) before any change; running install again changes nothing, and an older install of ours is replaced.",
      "Codex runs only hooks it trusts: with codex on PATH (or --codex-bin), install asks Codex for the hashes of exactly our entries and records them as trusted in config.toml.",
      "Otherwise trust them in the Codex TUI (Hooks need review -> Trust all), or run codex exec --dangerously-bypass-hook-trust in CI.",
      "Installed as a Codex plugin instead (codex plugin add trace-codex@<marketplace>)? install --plugin has Codex switch plugin hooks on and trust them.",
      "Then check with trace-codex doctor."
    ].join(" ")
  )
)

const recordFileOf = (stateDir: string): string => path.join(stateDir, "install.json")

const readRecord = (stateDir: string): InstallRecord | undefined => {
  try {
    return Either.getOrUndefined(decodeInstallRecord(fs.readFileSync(recordFileOf(stateDir), "utf8")))
  } catch {
    return undefined
  }
}

/**
 * `<state dir>/install.json`: what we installed, and the hashes Codex trusted, for `doctor`.
 * Keyed by Codex's own trust keys. When Codex was not asked this time (`--no-trust`, no codex),
 * what the previous record says about handlers that are still exactly as they were is kept:
 * installing again must not make doctor forget what it knew.
 */
const writeRecord = (
  stateDir: string,
  hooksFile: string,
  hookBin: string,
  ours: ReadonlyArray<HandlerAt>,
  final: ReadonlyArray<CodexHookEntry>,
  previous: InstallRecord | undefined,
  now: Date
) =>
  Effect.gen(function* () {
    const byPosition = new Map(final.map((entry) => [positionOfKey(entry.key), entry]))
    const before = previous !== undefined && previous.hooksFile === hooksFile ? Object.entries(previous.trusted) : []
    const previousByPosition = new Map(before.map(([key, value]) => [positionOfKey(key), { key, ...value }]))
    const trusted: Record<string, InstallRecord["trusted"][string]> = {}
    for (const at of ours) {
      const entry = byPosition.get(positionKey(at))
      if (entry !== undefined) {
        if (entry.trustStatus === "trusted") trusted[entry.key] = { handler: at.value, hash: entry.currentHash }
        continue
      }
      const known = final.length === 0 ? previousByPosition.get(positionKey(at)) : undefined
      if (known !== undefined && deepEqual(known.handler, at.value)) trusted[known.key] = { handler: known.handler, hash: known.hash }
    }
    const record: InstallRecord = { hooksFile, hookBin, installedAt: now.toISOString(), trusted }
    yield* Effect.try({
      try: () => fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 }),
      catch: (e) => new CliFailure({ message: `cannot create ${stateDir}: ${e instanceof Error ? e.message : String(e)}` })
    })
    yield* writeAtomically(recordFileOf(stateDir), JSON.stringify(record, null, 2) + "\n", 0o600)
  })

// ---------------------------------------------------------------------------------------------
// uninstall

/**
 * What to write back: the exact bytes of a backup whose content is what remains (so a file
 * nobody else touched comes back byte for byte), nothing at all when only our hooks were in it,
 * else the remaining document in the file's own style.
 */
const uninstalledFile = (hooksFile: string, text: string, after: HooksDocument): { readonly kind: "restored"; readonly from: string; readonly bytes: Buffer } | { readonly kind: "removed" } | { readonly kind: "rewritten"; readonly text: string } => {
  for (const candidate of backupsOf(hooksFile)) {
    let bytes: Buffer
    try {
      bytes = fs.readFileSync(candidate)
    } catch {
      continue
    }
    const parsed = parseHooksFile(bytes.toString("utf8"))
    if (Either.isRight(parsed) && deepEqual(parsed.right, after)) return { kind: "restored", from: candidate, bytes }
  }
  // a symlinked hooks.json (dotfiles) keeps its link: its target is rewritten, never deleted
  if (isEmptyDocument(after) && !isSymlink(hooksFile)) return { kind: "removed" }
  return { kind: "rewritten", text: rewriteJsonText(text, after, styleOf(text)) }
}

export const uninstallCommand = Command.make("uninstall", { codexHome, dryRun, json, codexBin }, (args) =>
  Effect.gen(function* () {
    const home = yield* resolveCodexHome(args.codexHome)
    const stateDir = yield* stateDirFor(home)
    const hooksFile = hooksFileOf(home)
    const current = yield* readHooksFile(hooksFile)
    const plan = current.doc === undefined ? undefined : planUninstall(current.doc)
    if (plan === undefined || !plan.changed || current.text === undefined) {
      if (args.json) yield* Console.log(JSON.stringify({ hooksFile, changed: false, removed: 0 }, null, 2))
      else yield* Console.log(`no trace-codex hooks in ${hooksFile}; nothing to do`)
      return
    }
    const text = current.text
    const result = uninstalledFile(hooksFile, text, plan.after)
    const newText = result.kind === "restored" ? result.bytes.toString("utf8") : result.kind === "rewritten" ? result.text : ""

    if (args.dryRun) {
      const diff = unifiedDiff(text, newText, { from: hooksFile, to: result.kind === "removed" ? "/dev/null" : hooksFile })
      if (args.json) {
        yield* Console.log(JSON.stringify({ dryRun: true, hooksFile, result: result.kind, removed: plan.removed.length, otherHooksKept: plan.othersKept, diff }, null, 2))
        return
      }
      yield* Console.log(diff.trimEnd())
      yield* Console.log(`\ndry run: nothing written. Without --dry-run: back up ${hooksFile}, then ${result.kind === "removed" ? "remove it (only our hooks are in it)" : result.kind === "restored" ? `restore it byte for byte from ${path.basename(result.from)}` : "write it without our hooks"}.`)
      return
    }

    const now = new Date()
    let backup: string | undefined
    const write = Effect.gen(function* () {
      backup = yield* backUp(hooksFile, now)
      if (result.kind === "removed") yield* removeFile(hooksFile)
      else yield* writeAtomically(hooksFile, result.kind === "restored" ? result.bytes : result.text, modeOf(hooksFile, 0o644))
    })
    const codex = findCodex(args.codexBin, process.env["PATH"])
    const { outcome } = yield* writeWithTrust({
      codexBin: codex,
      codexHome: home,
      hooksFile,
      write,
      skipReason: undefined,
      plan: (before, after) => planTrust({ ours: [], moved: plan.moved, before, after, expectedCommand: () => undefined })
    })
    yield* removeFile(recordFileOf(stateDir))

    if (args.json) {
      yield* Console.log(JSON.stringify({ hooksFile, changed: true, result: result.kind, restoredFrom: result.kind === "restored" ? result.from : null, backup: backup ?? null, removed: plan.removed.length, otherHooksKept: plan.othersKept, otherHooksMoved: plan.moved.length, trust: outcome, stateDir }, null, 2))
      return
    }
    yield* Console.log(`trace-codex uninstall  (CODEX_HOME ${home})\n`)
    yield* printSection("hooks.json", [
      `removed our ${plan.removed.length} hooks from ${hooksFile}`,
      result.kind === "restored"
        ? `restored the file byte for byte as it was before install (from ${path.basename(result.from)})`
        : result.kind === "removed"
          ? "removed the file: nothing else was in it"
          : "rewrote the file without them",
      ...(backup !== undefined ? [`previous version backed up to ${relativeToHome(backup, home)}`] : [])
    ])
    yield* printSection("other hooks", [plan.othersKept === 0 ? "none" : `${hooksOfOthers(plan.othersKept)} kept${plan.moved.length > 0 ? ` (${plan.moved.length} moved up a place)` : ""}`])
    if (outcome.status === "skipped" || outcome.status === "failed") {
      const movedNote = plan.moved.length > 0 ? `; ${hooksOfOthers(plan.moved.length)} moved and Codex will ask to trust them again` : ""
      yield* printSection("trust", [`${describeTrust(outcome, false)[0] ?? ""}${movedNote}; stale trust entries of ours in config.toml are harmless`])
    } else {
      yield* printSection("trust", describeTrust(outcome, false))
    }
    yield* printSection("state dir", [`${stateDir} kept (journal, local spans, config.json, logs); delete it to remove everything`])
    yield* Console.log("\nSpans not yet delivered are still in the state dir: trace-codex flush delivers them.")
  })
).pipe(
  Command.withDescription(
    "Remove trace-codex's hooks from $CODEX_HOME/hooks.json and nothing else: other tools' hooks stay, the file is backed up first, and when nothing else changed since install it comes back byte for byte (or goes away, if install created it). With codex on PATH, the trust entries of our hooks are removed from config.toml too. Your traces and settings in the state dir are kept."
  )
)

