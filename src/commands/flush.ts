/**
 * `trace-codex flush [--session ID] [--timeout S]`: deliver everything pending now. Runs the
 * drainer in the foreground, or, when a drainer is already running, waits for it to catch up.
 * Exits 1 when something is still undelivered at the timeout.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { logLine, readSessionStatus, runDrainer, sessionCaughtUp } from "../Drainer"
import { journalSessions, listSpool } from "../Journal"
import { stateLayout, type StateLayout } from "../live/layout"
import { acquireLock, holdLock, liveDrainer, releaseLock } from "../live/lock"
import { settingsSessionSetup } from "../live/sessionSetup"
import { FlushPolicy } from "../FlushPolicy"
import { StateDir } from "../StateDir"
import { CliFailure } from "./errors"

const session = Options.text("session").pipe(Options.withDescription("only wait for this session id"), Options.optional)
const timeout = Options.integer("timeout").pipe(
  Options.withDescription("give up after this many seconds (default 30)"),
  Options.withDefault(30)
)

const behindSessions = (layout: StateLayout, only: ReadonlyArray<string> | undefined): Array<string> =>
  (only ?? journalSessions(layout)).filter((id) => !sessionCaughtUp(layout, id))

/** another drainer is running: wait until it has delivered everything (or the deadline) */
const waitForDrainer = (layout: StateLayout, only: ReadonlyArray<string> | undefined, deadlineMs: number) =>
  Effect.gen(function* () {
    for (;;) {
      const pending = behindSessions(layout, only)
      if (pending.length === 0 && listSpool(layout).length === 0) return []
      if (Date.now() >= deadlineMs || !liveDrainer(layout)) return pending
      yield* Effect.sleep(200)
    }
  })

export const flushCommand = Command.make("flush", { session, timeout }, (args) =>
  Effect.gen(function* () {
    const layout = stateLayout((yield* StateDir).path)
    const only = Option.isSome(args.session) ? [args.session.value] : undefined
    const deadlineMs = Date.now() + Math.max(0, args.timeout) * 1000
    let undelivered: Array<{ readonly sessionId: string; readonly error: string | undefined }>
    if (liveDrainer(layout) || !acquireLock(layout)) {
      yield* Console.error("a drainer is running: waiting for it to deliver")
      undelivered = (yield* waitForDrainer(layout, only, deadlineMs)).map((sessionId) => ({ sessionId, error: readSessionStatus(layout, sessionId)?.lastError }))
    } else {
      const sessionSetup = yield* settingsSessionSetup((message) => logLine(layout, message))
      const result = yield* runDrainer({
        layout,
        sessionSetup,
        mode: "flush",
        idleMs: 0,
        pollMs: 100,
        tailAfterStopMs: 0,
        batchRows: (yield* FlushPolicy).batchRows,
        deadlineMs,
        sessions: only,
        keepGoing: () => holdLock(layout)
      }).pipe(Effect.ensuring(Effect.sync(() => releaseLock(layout))))
      undelivered = [...result.undelivered]
      // sessions this run did not load (already delivered, or not journaled at all)
      for (const id of behindSessions(layout, only)) if (!undelivered.some((u) => u.sessionId === id)) undelivered.push({ sessionId: id, error: readSessionStatus(layout, id)?.lastError })
    }
    if (undelivered.length > 0) {
      const lines = undelivered.map((u) => `  ${u.sessionId}${u.error ? `: ${u.error}` : ""}`)
      return yield* new CliFailure({
        message: `${undelivered.length} session(s) not delivered within ${args.timeout} s:\n${lines.join("\n")}\n(see trace-codex status and ${layout.logs}/drainer.log)`
      })
    }
    yield* Console.log(only ? `session ${only[0]} delivered` : "everything delivered")
  }).pipe(Effect.scoped, Effect.provide(StateDir.layer))
).pipe(
  Command.withDescription(
    "Deliver everything the hooks recorded now (all sessions, or --session ID). Exits 1 if something could not be delivered within --timeout seconds."
  )
)
