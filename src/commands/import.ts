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
import { importPaths } from "../SessionImport"
import { SpanSink } from "../SpanSink"
import { codexHomeConfig } from "../StateDir"
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

const progress = (done: number, total: number) =>
  process.stderr.isTTY ? Effect.sync(() => process.stderr.write(`\r\u001b[2Kimporting sessions ${done}/${total}${done === total ? "\n" : ""}`)) : Effect.void

export const importCommand = Command.make("import", { paths, all, since, dryRun }, (args) =>
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
      ...(Option.isSome(sinceMs) ? { sinceMs: sinceMs.value } : {}),
      onProgress: progress
    })
    for (const e of summary.errors) yield* Console.error(`trace-codex import: ${e.path}: ${e.message}`)
    const where = args.dryRun ? "dry run, nothing delivered" : `delivered to ${sink.name}`
    const malformed = summary.malformedLines > 0 ? `, ${summary.malformedLines} malformed lines skipped` : ""
    yield* Console.log(`imported ${summary.sessions} sessions, ${summary.spans} spans, ${summary.errors.length} errors (${where}${malformed})`)
    if (summary.errors.length > 0) return yield* new CliFailure({ message: `${summary.errors.length} problems, listed above`, silent: true })
  })
).pipe(
  Command.withDescription(
    "Trace past Codex sessions from their rollout files. Folders are searched recursively; subagent rollouts beside a session nest under the turn that spawned them. Re-importing sends the same span ids again, so it never duplicates a trace."
  )
)
