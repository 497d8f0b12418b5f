/**
 * `trace-codex show <session-id | rollout path>`: print a session's span tree in the terminal.
 * Reads the rollout directly; no network, nothing delivered. `--redacted` previews the upload:
 * the rows `import` would deliver with the current settings (parent span, additional metadata),
 * after the sinks' secret redaction.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { checkTreeInvariants } from "../domain/invariants"
import { findRolloutById, loadSessionRows, planFromPaths } from "../SessionImport"
import { SessionReducer } from "../SessionReducer"
import { loadSettings, redactorFor } from "../Settings"
import { importReducerOptions } from "../SinkSelection"
import { codexHomeConfig, StateDir } from "../StateDir"
import { CliFailure } from "./errors"
import { renderTree } from "./render"

const target = Args.text({ name: "session-id | rollout path" }).pipe(
  Args.withDescription("a session id (looked up under $CODEX_HOME/sessions and archived_sessions) or a rollout file")
)
const json = Options.boolean("json").pipe(Options.withDescription("print the span rows as JSON lines instead of a tree"))
const redacted = Options.boolean("redacted").pipe(
  Options.withDescription("show the rows exactly as they would be uploaded: with the settings' parent span and metadata, secrets redacted")
)
const check = Options.boolean("check").pipe(Options.withDescription("also verify the span-tree invariants (one root, parents exist, children inside parents)"))

export const showCommand = Command.make("show", { target, json, check, redacted }, (args) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    let path = args.target
    if (!(yield* fs.exists(path))) {
      const home = yield* codexHomeConfig
      const found = yield* findRolloutById(home, args.target)
      if (found === undefined) {
        return yield* new CliFailure({ message: `no rollout file "${args.target}", and no session with that id under ${home}/sessions or archived_sessions` })
      }
      path = found
    }
    const { plans, errors } = yield* planFromPaths([path])
    const plan = plans[0]
    if (!plan) return yield* new CliFailure({ message: `${path}: ${errors[0]?.message ?? "not a Codex rollout"}` })
    const settings = args.redacted ? yield* Effect.provide(loadSettings, StateDir.layer) : undefined
    const redactor = settings === undefined ? undefined : redactorFor(settings)
    const loaded = settings === undefined
      ? loadSessionRows(plan)
      : Effect.provide(loadSessionRows(plan), SessionReducer.layer(importReducerOptions(settings)))
    const { result, rows: reduced } = yield* loaded
    const rows = redactor === undefined ? reduced : reduced.map(redactor.redactRow)
    if (settings !== undefined && redactor === undefined) {
      yield* Console.error("redaction is switched off (TRACE_CODEX_REDACT / redact in config.json): this is what would be uploaded")
    }
    if (args.json) for (const r of rows) yield* Console.log(JSON.stringify(r))
    else yield* Console.log(renderTree(rows, { color: process.stdout.isTTY === true }))
    if (result.malformedLines > 0) yield* Console.error(`${result.malformedLines} malformed lines were skipped`)
    for (const e of [...errors, ...result.errors]) yield* Console.error(`${e.path}: ${e.message}`)
    if (args.check) {
      const problems = checkTreeInvariants(rows)
      for (const p of problems) yield* Console.error(`invariant: ${p}`)
      if (problems.length > 0) return yield* new CliFailure({ message: `${problems.length} invariant violations`, silent: true })
      yield* Console.error("invariants: ok")
    }
  })
).pipe(Command.withDescription("Print a session's span tree (names, durations, tokens, errors) from its rollout, offline."))
