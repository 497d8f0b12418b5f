/**
 * The trace-codex command line: composes the live layers at the edge and runs a command.
 * `trace-codex hook` takes a short path that skips the CLI framework: it runs on every Codex
 * event and must return fast, exit 0 and print nothing, whatever happens.
 */
import * as Command from "@effect/cli/Command"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { CliFailure } from "./commands/errors"
import { hookEntry } from "./commands/hookEntry"
import { drainCommand } from "./commands/drain"
import { flushCommand } from "./commands/flush"
import { importCommand } from "./commands/import"
import { showCommand } from "./commands/show"
import { statusCommand } from "./commands/status"
import { FlushPolicy } from "./FlushPolicy"
import { SessionReducer } from "./SessionReducer"
import { SelectedSpanSink } from "./SinkSelection"
import { TranscriptParser } from "./TranscriptParser"

declare const TRACE_CODEX_VERSION: string | undefined
const VERSION = typeof TRACE_CODEX_VERSION === "string" ? TRACE_CODEX_VERSION : "0.0.0-dev"

const hookCommand = Command.make("hook", {}, () => Effect.promise(() => hookEntry())).pipe(
  Command.withDescription("Codex hook entry: reads one hook payload on stdin and journals it. Always exits 0 with empty stdout. Installed into $CODEX_HOME/hooks.json; not meant to be run by hand.")
)

const root = Command.make("trace-codex").pipe(
  Command.withDescription("Trace OpenAI Codex CLI sessions into Braintrust: sessions, turns, model calls, tool calls, subagents and compactions as spans."),
  Command.withSubcommands([importCommand, showCommand, hookCommand, drainCommand, flushCommand, statusCommand])
)

const cli = Command.run(root, { name: "trace-codex", version: VERSION })

// import and show read finished transcripts: only each span's final row matters
const ServicesLive = Layer.mergeAll(SessionReducer.layer({ emitOpenSpans: false }), FlushPolicy.layer, TranscriptParser.Default, SelectedSpanSink).pipe(
  Layer.provideMerge(NodeContext.layer)
)

const main = () =>
  cli(process.argv).pipe(
    Effect.catchAll((error) =>
      Effect.sync(() => {
        process.exitCode = 1
        if (error instanceof CliFailure) {
          if (error.silent !== true) process.stderr.write(`trace-codex: ${error.message}\n`)
        } else if (!ValidationError.isValidationError(error)) {
          // configuration errors and the like; @effect/cli has already printed usage errors
          process.stderr.write(`trace-codex: ${String(error)}\n`)
        }
      })
    ),
    Effect.catchAllDefect((defect) =>
      Effect.sync(() => {
        process.stderr.write(`trace-codex: internal error: ${Cause.pretty(Cause.die(defect))}\n`)
        process.exitCode = 2
      })
    ),
    Effect.provide(ServicesLive),
    NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
  )

if (process.argv[2] === "hook" && process.argv.length === 3) {
  void hookEntry()
} else {
  main()
}
