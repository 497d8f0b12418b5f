/**
 * `trace-codex status [--json]`: per session, what is pending and how delivery went; the
 * running drainer; hook payloads waiting in the spool.
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import { join } from "node:path"
import { readSessionStatus, sessionCaughtUp } from "../Drainer"
import { journalSessions, listSpool } from "../Journal"
import { stateLayout, type StateLayout } from "../live/layout"
import { liveDrainer } from "../live/lock"
import { StateDir } from "../StateDir"

const json = Options.boolean("json").pipe(Options.withDescription("print JSON instead of a table"))

/** journal lines after the delivered offset */
const pendingEntries = (layout: StateLayout, sessionId: string, offset: number): number => {
  try {
    const buf = fs.readFileSync(join(layout.journal, `${sessionId}.ndjson`))
    let n = 0
    for (let i = offset; i < buf.length; i++) if (buf[i] === 10) n++
    return n
  } catch {
    return 0
  }
}

const when = (ms: number | undefined): string => (ms === undefined ? "never" : new Date(ms).toISOString().replace(/\.\d+Z$/, "Z"))

export const statusCommand = Command.make("status", { json }, (args) =>
  Effect.gen(function* () {
    const layout = stateLayout((yield* StateDir).path)
    const drainer = liveDrainer(layout)
    const sessions = journalSessions(layout).map((id) => {
      const s = readSessionStatus(layout, id)
      return {
        sessionId: id,
        pendingEntries: pendingEntries(layout, id, s?.journalOffset ?? 0),
        upToDate: sessionCaughtUp(layout, id),
        lastDelivery: s?.lastDeliveryAtMs,
        spansDelivered: s?.spansDelivered ?? 0,
        sink: s?.sink,
        traceRootSpanId: s?.traceRootSpanId,
        traceUrl: s?.traceUrl,
        lastError: s?.lastError,
        lastErrorAt: s?.lastErrorAtMs,
        failedAttempts: s?.failedAttempts ?? 0
      }
    })
    const spool = listSpool(layout).length
    if (args.json) {
      yield* Console.log(JSON.stringify({ stateDir: layout.root, drainer: drainer ?? null, spool, sessions }, null, 2))
      return
    }
    yield* Console.log(`state dir: ${layout.root}`)
    yield* Console.log(drainer ? `drainer: running (pid ${drainer.pid}, since ${when(drainer.startedAtMs)})` : "drainer: not running")
    yield* Console.log(`hook payloads waiting: ${spool}`)
    if (sessions.length === 0) {
      yield* Console.log("no sessions recorded yet")
      return
    }
    for (const s of sessions) {
      const state = s.lastError !== undefined ? "FAILING" : s.upToDate ? "up to date" : "pending"
      yield* Console.log(`\n${s.sessionId}  ${state}`)
      yield* Console.log(`  pending hook entries: ${s.pendingEntries}`)
      yield* Console.log(`  last delivery: ${when(s.lastDelivery)} (${s.spansDelivered} span rows${s.sink ? ` to ${s.sink}` : ""})`)
      if (s.traceUrl) yield* Console.log(`  trace: ${s.traceUrl}`)
      else if (s.traceRootSpanId) yield* Console.log(`  trace root span: ${s.traceRootSpanId}`)
      if (s.lastError !== undefined) yield* Console.log(`  last error (${when(s.lastErrorAt)}, ${s.failedAttempts} attempts): ${s.lastError}`)
    }
  }).pipe(Effect.provide(StateDir.layer))
).pipe(Command.withDescription("Show, per session, pending hook entries, the last delivery and the last error; the running drainer; payloads waiting in the spool."))
