/**
 * `trace-codex import <path>...`: trace past sessions from rollout files or folders.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { join } from "node:path"
import { openImportLedger } from "../ImportLedger"
import { importPaths } from "../SessionImport"
import { forImport, loadSettings, persistableSettings } from "../Settings"
import { ImportServices } from "../SinkSelection"
import { SpanSink } from "../SpanSink"
import { codexHomeConfig, resolveStateDir, StateDir } from "../StateDir"
import { CliFailure } from "./errors"

const paths = Args.text({ name: "path" }).pipe(
  Args.withDescription("rollout files (.jsonl or .jsonl.zst) or folders to search recursively"),
  Args.repeated
)
const all = Options.boolean("all").pipe(Options.withDescription("import everything under $CODEX_HOME/sessions and $CODEX_HOME/archived_sessions"))
const since = Options.text("since").pipe(
  Options.withDescription("only sessions that started on or after this date (e.g. 2026-11-01 or an ISO time)"),
  Options.optional
)
const dryRun = Options.boolean("dry-run").pipe(Options.withDescription("parse and build the spans, deliver nothing (checks a transcript)"))
const force = Options.boolean("force").pipe(
  Options.withDescription("send sessions again even when an earlier import delivered them unchanged (by default an interrupted or repeated import picks up where it stopped)")
)

const BAR_WIDTH = 24

/** a bar on a terminal; nothing when stderr is a file or a pipe (CI logs stay clean) */
const progress = (done: number, total: number) => {
  if (!process.stderr.isTTY) return Effect.void
  const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH)
  const bar = `${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}`
  return Effect.sync(() => process.stderr.write(`\r\u001b[2K${bar} ${done}/${total} sessions${done === total ? "\n" : ""}`))
}

export const importCommand = Command.make("import", { paths, all, since, dryRun, force }, (args) =>
  Effect.gen(function* () {
    const sinceMs = Option.map(args.since, (s) => Date.parse(s))
    if (Option.isSome(sinceMs) && !Number.isFinite(sinceMs.value)) {
      return yield* new CliFailure({ message: `--since: cannot read "${Option.getOrElse(args.since, () => "")}" as a date; use e.g. 2026-11-01` })
    }
    const targets = [...args.paths]
    if (args.all) {
      const fs = yield* FileSystem.FileSystem
      const home = yield* codexHomeConfig
      const folders = [join(home, "sessions"), join(home, "archived_sessions")]
      const existing = yield* Effect.filter(folders, (f) => fs.exists(f).pipe(Effect.orElseSucceed(() => false)))
      if (existing.length === 0) {
        return yield* new CliFailure({ message: `--all: no sessions folder under ${home} (set CODEX_HOME if Codex keeps its data elsewhere)` })
      }
      targets.push(...existing)
    }
    if (targets.length === 0) {
      return yield* new CliFailure({ message: "nothing to import: give rollout files or folders, or --all (see trace-codex import --help)" })
    }
    const sink = yield* SpanSink
    const summary = yield* importPaths(targets, {
      dryRun: args.dryRun,
      ledger: args.force ? undefined : openImportLedger(yield* resolveStateDir),
      // changed settings (project, redaction, metadata, parent span) mean different rows: send again
      destination: `${sink.name} ${JSON.stringify(Option.getOrUndefined(Option.map(yield* Effect.option(loadSettings), (s) => persistableSettings(forImport(s)))))}`,
      ...(Option.isSome(sinceMs) ? { sinceMs: sinceMs.value } : {}),
      onProgress: progress
    })
    for (const e of summary.errors) yield* Console.error(`trace-codex import: ${e.path}: ${e.message}`)
    const where = args.dryRun ? "dry run, nothing delivered" : `delivered to ${sink.name}`
    const malformed = summary.malformedLines > 0 ? `, ${summary.malformedLines} malformed lines skipped` : ""
    const skipped = summary.unchanged > 0 ? `, ${summary.unchanged} unchanged since the last import skipped (--force sends them again)` : ""
    yield* Console.log(`imported ${summary.sessions} sessions, ${summary.spans} spans, ${summary.errors.length} errors (${where}${malformed}${skipped})`)
    if (summary.errors.length > 0) return yield* new CliFailure({ message: `${summary.errors.length} problems, listed above`, silent: true })
  }).pipe(Effect.provide(ImportServices), Effect.provide(StateDir.layer))
).pipe(
  Command.withDescription(
    "Trace past Codex sessions from their rollout files. Folders are searched recursively; subagent rollouts beside a session nest under the turn that spawned them. Re-importing sends the same span ids again, so it never duplicates a trace."
  )
)
