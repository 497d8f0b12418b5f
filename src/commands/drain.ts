/**
 * `trace-codex drain`: the background drainer the hook starts (docs/live-capture.md §2). It
 * takes the state directory's lock, delivers what the hooks journaled and the transcripts
 * wrote, and exits after an idle window. Started by the hook; safe to run by hand.
 */
import * as Command from "@effect/cli/Command"
import * as Effect from "effect/Effect"
import { logLine, runDrainer } from "../Drainer"
import { listSpool } from "../Journal"
import { stateLayout } from "../live/layout"
import { acquireLock, holdLock, releaseLock } from "../live/lock"
import { envMs, settingsSessionSetup } from "../live/sessionSetup"
import { FlushPolicy } from "../FlushPolicy"
import { StateDir } from "../StateDir"

export const DEFAULT_IDLE_MS = 30_000

export const drainCommand = Command.make("drain", {}, () =>
  Effect.gen(function* () {
    const layout = stateLayout((yield* StateDir).path)
    // started without setsid (macOS) a drainer would die with the terminal: it ends on idle only
    process.on("SIGHUP", () => {})
    process.on("SIGINT", () => {})
    const sessionSetup = yield* settingsSessionSetup((message) => logLine(layout, message))
    const policy = yield* FlushPolicy
    // a hook that spooled while this drainer was exiting saw its pid and started none: look again
    // after letting go of the lock, and go on if something arrived
    while (acquireLock(layout)) {
      logLine(layout, "drainer started")
      const result = yield* runDrainer({
        layout,
        sessionSetup,
        mode: "daemon",
        idleMs: envMs("TRACE_CODEX_DRAIN_IDLE_MS", DEFAULT_IDLE_MS),
        pollMs: envMs("TRACE_CODEX_DRAIN_POLL_MS", 100),
        tailAfterStopMs: 5000,
        batchRows: policy.batchRows,
        keepGoing: () => holdLock(layout)
      }).pipe(Effect.ensuring(Effect.sync(() => releaseLock(layout))))
      logLine(layout, `drainer idle, exiting: ${result.spans} spans delivered for ${result.sessions} sessions${result.undelivered.length > 0 ? `, ${result.undelivered.length} still failing` : ""}`)
      if (listSpool(layout).length === 0) break
    }
  }).pipe(Effect.scoped, Effect.provide(StateDir.layer))
).pipe(
  Command.withDescription(
    "Deliver what the hooks recorded (runs in the background; the hook starts it). Holds a lock so one runs per state directory, and exits after TRACE_CODEX_DRAIN_IDLE_MS (default 30000) without activity."
  )
)
