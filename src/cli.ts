/**
 * The trace-codex command line: composes the live layers at the edge and runs a command.
 * `trace-codex hook` and `hook-wait` take a short path that skips the CLI framework: they run on
 * Codex's clock and must return fast, exit 0 and print nothing, whatever happens.
 */
// first: for `hook` / `hook-wait` it runs the command and exits before the imports below load
import "./commands/hookEntry"
import * as Command from "@effect/cli/Command"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as ConfigError from "effect/ConfigError"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { CliFailure } from "./commands/errors"
import { configCommand } from "./commands/config"
import { drainCommand } from "./commands/drain"
import { flushCommand } from "./commands/flush"
import { runHook } from "./commands/hook"
import { doctorCommand } from "./commands/doctor"
import { importCommand } from "./commands/import"
import { installCommand, uninstallCommand } from "./commands/install"
import { showCommand } from "./commands/show"
import { statusCommand } from "./commands/status"
import { FlushPolicy } from "./FlushPolicy"
import { SessionReducer } from "./SessionReducer"
import { SettingsError } from "./Settings"
import { SelectedSpanSink } from "./SinkSelection"
import { TranscriptParser } from "./TranscriptParser"

declare const TRACE_CODEX_VERSION: string | undefined
const VERSION = typeof TRACE_CODEX_VERSION === "string" ? TRACE_CODEX_VERSION : "0.0.0-dev"

// `hook` itself runs from the fast path (commands/hookEntry.ts); this entry gives it its --help
const hookCommand = Command.make("hook", {}, () =>
  Effect.sync(() => {
    runHook({ event: undefined, env: process.env, fd: 0, cli: process.argv[1] ?? "" })
  })).pipe(
  Command.withDescription("Codex hook entry: copies one hook payload from stdin to the spool and makes sure a drainer runs (SessionEnd, and Stop with BRAINTRUST_FLUSH_ON_TURN_END, wait for delivery). Always exits 0 with empty stdout. Installed into $CODEX_HOME/hooks.json; not meant to be run by hand.")
)

const root = Command.make("trace-codex").pipe(
  Command.withDescription("Trace OpenAI Codex CLI sessions into Braintrust: sessions, turns, model calls, tool calls, subagents and compactions as spans."),
  Command.withSubcommands([importCommand, showCommand, hookCommand, drainCommand, flushCommand, statusCommand, installCommand, uninstallCommand, doctorCommand, configCommand])
)

const cli = Command.run(root, { name: "trace-codex", version: VERSION })

// import and show read finished transcripts: only each span's final row matters
const ServicesLive = Layer.mergeAll(SessionReducer.layer({ emitOpenSpans: false }), FlushPolicy.layer, TranscriptParser.Default, SelectedSpanSink).pipe(
  Layer.provideMerge(NodeContext.layer)
)

const main = () =>
  cli(process.argv).pipe(
    // inside the handlers below, so a layer that cannot be built (bad configuration) is reported
    Effect.provide(ServicesLive),
    Effect.catchAll((error) =>
      Effect.sync(() => {
        process.exitCode = 1
        if (error instanceof CliFailure) {
          if (error.silent !== true) process.stderr.write(`trace-codex: ${error.message}\n`)
        } else if (error instanceof SettingsError) {
          // a usage error: the message names the variable or config.json key to fix
          process.exitCode = 2
          for (const line of error.message.split("\n")) process.stderr.write(`trace-codex: ${line}\n`)
        } else if (ConfigError.isConfigError(error)) {
          process.exitCode = 2
          process.stderr.write(`trace-codex: ${String(error)}\n`)
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
    NodeRuntime.runMain({ disableErrorReporting: true, disablePrettyLogger: true })
  )

main()
