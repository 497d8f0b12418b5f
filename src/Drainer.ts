/**
 * The drainer: turns the hook journal and the rollout files into delivered spans while the
 * developer works (docs/live-capture.md §2). One per state directory (a lock), started
 * detached by the hook; it exits after an idle window.
 *
 * Per session it keeps a checkpoint — journal offset, transcript offsets, reducer state, hook
 * facts — and replaces it only after the sink confirmed the rows produced since the previous
 * one. A failed delivery puts the session back to its last checkpoint and retries with backoff,
 * so a crash, a kill -9 or a Braintrust outage delays rows but never loses or duplicates them
 * (ids are deterministic: a row sent twice overwrites itself).
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import { join } from "node:path"
import { decodeRolloutLine } from "./domain/Rollout"
import type { SpanRow } from "./domain/SpanRow"
import { intakeSpool, journalSessions, journalSize, readJournal, removeAbandonedSpool } from "./Journal"
import { applyHookPayload, decorateRow, emptyHookFacts, type HookFacts, rowsFor } from "./live/hookFacts"
import { writeAtomically } from "./live/durable"
import { SAFE_ID, type StateLayout } from "./live/layout"
import { finishSession, reduceLine } from "./reducer/session"
import { initialSessionState, type ReducerOptions, type SessionState } from "./reducer/state"
import { latestRows } from "./SessionReducer"
import type { SpanSinkService } from "./SpanSink"
import { type TranscriptReadError, TranscriptParser } from "./TranscriptParser"

export const CHECKPOINT_VERSION = 2

export interface SessionCheckpoint {
  readonly version: number
  readonly sessionId: string
  journalOffset: number
  /** transcript path → byte offset of the next unread line */
  transcripts: Record<string, number>
  reducer: SessionState
  facts: HookFacts
  /** the settings the session started with (no secrets), as the settings module persists them */
  settings: unknown
  malformedLines: number
}

/** the small per-session summary `status` and `flush` read (the checkpoint can be large) */
export interface SessionStatus {
  readonly sessionId: string
  readonly journalOffset: number
  readonly transcripts: Record<string, number>
  readonly lastDeliveryAtMs: number | undefined
  readonly spansDelivered: number
  readonly sink: string | undefined
  readonly traceRootSpanId: string | undefined
  /** where to look at the trace, when the sink has a UI */
  readonly traceUrl?: string | undefined
  readonly lastError: string | undefined
  readonly lastErrorAtMs: number | undefined
  readonly failedAttempts: number
  readonly malformedLines: number
}

export interface DrainerOptions {
  readonly layout: StateLayout
  /**
   * the sink and reducer options for a session, given the settings it started with: `persisted`
   * from its checkpoint, else `startEnv`, the environment its SessionStart hook recorded
   */
  readonly sessionSetup: (sessionId: string, persisted: unknown, startEnv: Readonly<Record<string, string>> | undefined) => Effect.Effect<{ readonly sink: SpanSinkService; readonly options: ReducerOptions; readonly settings: unknown }>
  /** daemon: run until idle; flush: run until everything is delivered or the deadline */
  readonly mode: "daemon" | "flush"
  readonly idleMs: number
  readonly pollMs: number
  /** keep tailing a session this long after its Stop (task_complete comes after the hook) */
  readonly tailAfterStopMs: number
  readonly batchRows: number
  /** flush mode: give up at this time (epoch ms) */
  readonly deadlineMs?: number | undefined
  /** flush mode: only these sessions must be caught up */
  readonly sessions?: ReadonlyArray<string> | undefined
  readonly now?: () => number
  /** checked every poll: false stops the loop (the lock was lost) */
  readonly keepGoing?: () => boolean
  /** daemon: give up an attempt (and retry later) after this long; default 120 s */
  readonly attemptTimeoutMs?: number
  /** daemon: keep retrying failed deliveries this long after the last input before exiting */
  readonly retryWindowMs?: number
}

interface LiveSession {
  readonly id: string
  cp: SessionCheckpoint
  /** the last checkpoint the sink confirmed, as written */
  committed: string
  sink: SpanSinkService
  options: ReducerOptions
  spansDelivered: number
  lastDeliveryAtMs: number | undefined
  tailUntilMs: number
  failedAttempts: number
  nextAttemptMs: number
  lastError: string | undefined
  lastErrorAtMs: number | undefined
  traceUrl: string | undefined
}

export interface DrainResult {
  readonly sessions: number
  readonly spans: number
  /** sessions still not delivered (flush mode) */
  readonly undelivered: ReadonlyArray<{ readonly sessionId: string; readonly error: string | undefined }>
}

const errorText = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

// ---------------------------------------------------------------------------------------------
// files

const readJson = (path: string): unknown => {
  try {
    return JSON.parse(fs.readFileSync(path, "utf8"))
  } catch {
    return undefined
  }
}

const LOG_MAX_BYTES = 1024 * 1024

/**
 * A log past 1 MiB becomes `<name>.1` (replacing the previous one); the next line starts a new
 * file. Lines a writer appends while the rename happens land in `.1`, none is lost.
 */
export const rotateLog = (path: string): void => {
  try {
    if (fs.statSync(path).size > LOG_MAX_BYTES) fs.renameSync(path, `${path}.1`)
  } catch {
    // no log yet
  }
}

/** one line per event in logs/drainer.log, rotated to drainer.log.1 past 1 MiB */
export const logLine = (layout: StateLayout, message: string): void => {
  try {
    fs.mkdirSync(layout.logs, { recursive: true, mode: 0o700 })
    const path = join(layout.logs, "drainer.log")
    rotateLog(path)
    fs.appendFileSync(path, `${new Date().toISOString()} [${process.pid}] ${message}\n`, { mode: 0o600 })
  } catch {
    // logging must never stop delivery
  }
}

export const readSessionStatus = (layout: StateLayout, sessionId: string): SessionStatus | undefined => {
  const value = readJson(join(layout.status, `${sessionId}.json`))
  return typeof value === "object" && value !== null && (value as { sessionId?: unknown }).sessionId === sessionId ? (value as SessionStatus) : undefined
}

const isCheckpoint = (u: unknown, sessionId: string): u is SessionCheckpoint =>
  typeof u === "object" && u !== null && (u as { version?: unknown }).version === CHECKPOINT_VERSION && (u as { sessionId?: unknown }).sessionId === sessionId

const freshCheckpoint = (sessionId: string): SessionCheckpoint => ({
  version: CHECKPOINT_VERSION,
  sessionId,
  journalOffset: 0,
  transcripts: {},
  reducer: initialSessionState(),
  facts: emptyHookFacts(),
  settings: undefined,
  malformedLines: 0
})

const fileSize = (path: string): number => {
  try {
    return fs.statSync(path).size
  } catch {
    return 0
  }
}

/**
 * Has the transcript complete lines after `offset`? A last line without its newline (being
 * written, or left by a Codex that was killed mid-write) is not yet a line to deliver.
 */
const hasCompleteLinesAfter = (path: string, offset: number): boolean => {
  const size = fileSize(path)
  if (size <= offset) return false
  if (size - offset > 1024 * 1024) return true
  let fd: number | undefined
  try {
    fd = fs.openSync(path, "r")
    const buf = Buffer.alloc(size - offset)
    fs.readSync(fd, buf, 0, buf.length, offset)
    return buf.includes(10)
  } catch {
    return false
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}

/** is there anything for this session the sink has not confirmed? */
const behind = (layout: StateLayout, sessionId: string, journalOffset: number, transcripts: Record<string, number>): boolean => {
  if (journalSize(layout, sessionId) > journalOffset) return true
  for (const [path, offset] of Object.entries(transcripts)) if (hasCompleteLinesAfter(path, offset)) return true
  return false
}

/** for `flush` waiting on another drainer and for `status`: is this session delivered? */
export const sessionCaughtUp = (layout: StateLayout, sessionId: string): boolean => {
  const status = readSessionStatus(layout, sessionId)
  if (!status) return journalSize(layout, sessionId) === 0
  return !behind(layout, sessionId, status.journalOffset, status.transcripts) && status.lastError === undefined
}

const hasOpenTurn = (state: SessionState): boolean => Object.values(state.scopes).some((scope) => scope.openTurn !== undefined)

const MARKER_TTL_MS = 10 * 60_000

/** delivery markers nobody waited for */
const removeOldMarkers = (layout: StateLayout, nowMs: number): void => {
  try {
    for (const name of fs.readdirSync(layout.delivered)) {
      const path = join(layout.delivered, name)
      if (nowMs - fs.statSync(path).mtimeMs > MARKER_TTL_MS) fs.rmSync(path, { force: true })
    }
  } catch {
    // no markers
  }
}

// ---------------------------------------------------------------------------------------------
// the drain loop

export const runDrainer = (options: DrainerOptions) =>
  Effect.gen(function* () {
    const parser = yield* TranscriptParser
    const layout = options.layout
    const now = options.now ?? Date.now
    const sessions = new Map<string, LiveSession>()
    let lastChangeMs = now()
    let spansTotal = 0

    const writeStatus = (s: LiveSession) => {
      const status: SessionStatus = {
        sessionId: s.id,
        journalOffset: s.cp.journalOffset,
        transcripts: s.cp.transcripts,
        lastDeliveryAtMs: s.lastDeliveryAtMs,
        spansDelivered: s.spansDelivered,
        sink: s.sink.name,
        traceRootSpanId: traceRootOf(s),
        traceUrl: s.traceUrl,
        lastError: s.lastError,
        lastErrorAtMs: s.lastErrorAtMs,
        failedAttempts: s.failedAttempts,
        malformedLines: s.cp.malformedLines
      }
      try {
        writeAtomically(layout.status, `${s.id}.json`, JSON.stringify(status))
      } catch (cause) {
        logLine(layout, `cannot write the status of ${s.id}: ${errorText(cause)}`)
      }
    }

    const commit = (s: LiveSession) => {
      const text = JSON.stringify(s.cp)
      writeAtomically(layout.checkpoint, `${s.id}.json`, text)
      s.committed = text
    }

    const sessionStartEnv = (sessionId: string) =>
      readJournal(layout, sessionId, 0).pipe(
        Effect.map((read) => read.entries.find((entry) => entry.env !== undefined)?.env),
        Effect.orElseSucceed(() => undefined)
      )

    const load = (sessionId: string) =>
      Effect.gen(function* () {
        const existing = sessions.get(sessionId)
        if (existing) return existing
        const stored = readJson(join(layout.checkpoint, `${sessionId}.json`))
        const cp = isCheckpoint(stored, sessionId) ? stored : freshCheckpoint(sessionId)
        const previous = readSessionStatus(layout, sessionId)
        // a new session: the environment it started in, when its SessionStart hook recorded one
        const startEnv = cp.settings === undefined ? yield* sessionStartEnv(sessionId) : undefined
        const setup = yield* options.sessionSetup(sessionId, cp.settings, startEnv)
        cp.settings = setup.settings
        const s: LiveSession = {
          id: sessionId,
          cp,
          committed: JSON.stringify(cp),
          sink: setup.sink,
          options: setup.options,
          spansDelivered: previous?.spansDelivered ?? 0,
          lastDeliveryAtMs: previous?.lastDeliveryAtMs,
          tailUntilMs: 0,
          failedAttempts: previous?.failedAttempts ?? 0,
          nextAttemptMs: 0,
          lastError: previous?.lastError,
          lastErrorAtMs: previous?.lastErrorAtMs,
          traceUrl: previous?.traceUrl
        }
        sessions.set(sessionId, s)
        return s
      })

    /** one pass over a session: journal, transcripts, facts → rows → sink → checkpoint */
    const drainSession = (s: LiveSession) =>
      Effect.gen(function* () {
        const cp = s.cp
        const journal = yield* readJournal(layout, s.id, cp.journalOffset)
        const touched: Array<string> = []
        const markers: Array<string> = []
        let ended = false
        for (const entry of journal.entries) {
          const update = applyHookPayload(cp.facts, entry.payload, entry.received_at_ms)
          touched.push(...update.touched)
          const event = entry.payload["hook_event_name"]
          if (event === "Stop" || event === "SessionEnd" || event === "Interrupt") markers.push(entry.id)
          if (event === "Stop" || event === "Interrupt") s.tailUntilMs = now() + options.tailAfterStopMs
          if (update.sessionEnded) ended = true
        }

        const pending = new Map<string, SpanRow>()
        const take = (rows: ReadonlyArray<SpanRow>) => {
          for (const r of rows) {
            pending.delete(r.id)
            pending.set(r.id, r)
          }
        }
        const deliver = Effect.suspend(() => {
          if (pending.size === 0) return Effect.succeed(0)
          const rootSpanId = cp.reducer.root?.spanId
          const rows = latestRows(pending.values()).map((r) => decorateRow(cp.facts, rootSpanId, r))
          pending.clear()
          return Effect.as(s.sink.write(rows), rows.length)
        })
        let delivered = 0

        for (const path of cp.facts.transcripts) {
          const from = cp.transcripts[path] ?? 0
          if (fileSize(path) <= from && from > 0) continue
          const onLine = (text: string) => {
            const line = decodeRolloutLine(text)
            if (line.kind === "malformed") cp.malformedLines++
            else take(reduceLine(cp.reducer, s.options, path, line))
          }
          yield* parser.scanLines(path, onLine, { fromOffset: from, missingOk: true }).pipe(
            Stream.runForEach((offset) =>
              Effect.gen(function* () {
                cp.transcripts[path] = offset
                // a long catch-up delivers and checkpoints as it goes (the journal offset stays,
                // so its entries are applied again after a crash: applying them is idempotent)
                if (pending.size >= options.batchRows) {
                  delivered += yield* deliver
                  commit(s)
                }
              })
            ),
            Effect.catchTag("TranscriptReadError", (e: TranscriptReadError) =>
              e.reason === "not-found" ? Effect.void : Effect.sync(() => logLine(layout, `session ${s.id}: ${e.message}`))
            )
          )
          if (cp.transcripts[path] === undefined) cp.transcripts[path] = from
        }

        // turns the transcript has closed since: their real end and answer replace the hook's
        for (const spanId of Object.keys(cp.facts.provisional)) {
          if (Object.values(cp.reducer.scopes).some((scope) => scope.recentTurns.some((t) => t.spanId === spanId))) delete cp.facts.provisional[spanId]
        }
        take(rowsFor(cp.reducer, s.options, touched))
        if (ended) take(finishSession(structuredClone(cp.reducer), s.options))
        delivered += yield* deliver
        cp.journalOffset = journal.endOffset
        commit(s)
        for (const id of markers) writeAtomically(layout.delivered, id, "")
        return delivered
      })

    /** a sink that accepts connections but never answers must not hold the loop (or flush) forever */
    const attemptLimitMs = (): number =>
      options.mode === "flush" && options.deadlineMs !== undefined ? Math.max(1, options.deadlineMs - now()) : options.attemptTimeoutMs ?? 120_000

    const traceRootOf = (s: LiveSession): string | undefined =>
      s.cp.reducer.root ? (s.options.parent?.rootSpanId ?? s.cp.reducer.root.spanId) : undefined

    /** once the trace exists at the sink: its link, for `status` */
    const learnTraceUrl = (s: LiveSession) => {
      const root = traceRootOf(s)
      if (s.traceUrl !== undefined || root === undefined) return Effect.void
      return s.sink.traceUrl(root).pipe(
        Effect.timeout(5000),
        Effect.tap((url) => Effect.sync(() => (s.traceUrl = url))),
        Effect.ignore
      )
    }

    const attempt = (s: LiveSession) =>
      drainSession(s).pipe(
        Effect.tap(() => learnTraceUrl(s)),
        Effect.timeoutFail({
          duration: attemptLimitMs(),
          onTimeout: () => new Error(`no answer from the ${s.sink.name} sink within ${Math.round(attemptLimitMs() / 1000)} s`)
        }),
        Effect.tap((n) =>
          Effect.sync(() => {
            if (n > 0) {
              s.spansDelivered += n
              s.lastDeliveryAtMs = now()
              spansTotal += n
              lastChangeMs = now()
            }
            if (s.lastError !== undefined) logLine(layout, `session ${s.id}: delivered again after ${s.failedAttempts} failed attempts`)
            s.failedAttempts = 0
            s.lastError = undefined
            s.lastErrorAtMs = undefined
            writeStatus(s)
          })
        ),
        Effect.catchAllCause((cause) =>
          Effect.sync(() => {
            // back to the last confirmed checkpoint: the same rows are rebuilt and sent again
            const restored: unknown = JSON.parse(s.committed)
            if (isCheckpoint(restored, s.id)) s.cp = restored
            s.failedAttempts++
            const delayMs = Math.min(60_000, 1000 * 2 ** Math.min(6, s.failedAttempts - 1))
            s.nextAttemptMs = now() + delayMs
            s.lastError = errorText(Cause.squash(cause)).split("\n")[0]
            s.lastErrorAtMs = now()
            logLine(layout, `session ${s.id}: delivery failed (attempt ${s.failedAttempts}, next in ${delayMs} ms): ${s.lastError}`)
            writeStatus(s)
          })
        )
      )

    const needsWork = (s: LiveSession): boolean => {
      if (s.failedAttempts > 0) return now() >= s.nextAttemptMs
      return behind(layout, s.id, s.cp.journalOffset, s.cp.transcripts)
    }

    // sessions left behind by an earlier drainer (killed, or stopped with deliveries failing)
    for (const id of journalSessions(layout)) {
      const status = readSessionStatus(layout, id)
      if (!status || status.lastError !== undefined || behind(layout, id, status.journalOffset, status.transcripts)) yield* load(id)
    }

    removeOldMarkers(layout, now())
    // the hooks append to hook.log without looking at its size: the drainer rotates it for them
    rotateLog(join(layout.logs, "hook.log"))
    const abandoned = removeAbandonedSpool(layout, now())
    if (abandoned > 0) logLine(layout, `removed ${abandoned} spool file(s) a hook never finished writing`)
    const wanted = options.sessions
    for (;;) {
      if (options.keepGoing && !options.keepGoing()) {
        logLine(layout, "another drainer took the lock: stopping")
        break
      }
      const intake = yield* Effect.either(intakeSpool(layout))
      if (intake._tag === "Left") logLine(layout, intake.left.message)
      else {
        if (intake.right.undecodable > 0) logLine(layout, `${intake.right.undecodable} hook payload(s) could not be decoded: see journal/_undecodable.ndjson`)
        for (const id of intake.right.sessions) if (SAFE_ID.test(id)) yield* load(id)
        if (intake.right.entries > 0) lastChangeMs = now()
      }
      for (const s of sessions.values()) {
        if (!needsWork(s)) continue
        if (s.failedAttempts === 0) lastChangeMs = now()
        yield* attempt(s)
      }

      const t = now()
      const relevant = [...sessions.values()].filter((s) => !wanted || wanted.includes(s.id))
      const failing = relevant.filter((s) => s.failedAttempts > 0)
      if (options.mode === "flush") {
        const settled = failing.length === 0 && relevant.every((s) => !behind(layout, s.id, s.cp.journalOffset, s.cp.transcripts))
        if (settled && (yield* Effect.sync(() => fs.existsSync(layout.spool) ? fs.readdirSync(layout.spool).filter((n) => n.endsWith(".json")).length : 0)) === 0) break
        if (options.deadlineMs !== undefined && t >= options.deadlineMs) break
      } else {
        // after Stop, until the transcript closes the turn (task_complete) or the window ends
        const tailing = [...sessions.values()].some((s) => s.tailUntilMs > t && !s.cp.facts.ended && hasOpenTurn(s.cp.reducer))
        const retrying = failing.length > 0 && t - lastChangeMs < (options.retryWindowMs ?? 10 * 60_000)
        if (!tailing && !retrying && t - lastChangeMs >= options.idleMs) break
      }
      yield* Effect.sleep(options.pollMs)
    }
    const undelivered = [...sessions.values()]
      .filter((s) => (!wanted || wanted.includes(s.id)) && (s.failedAttempts > 0 || behind(layout, s.id, s.cp.journalOffset, s.cp.transcripts)))
      .map((s) => ({ sessionId: s.id, error: s.lastError }))
    return { sessions: sessions.size, spans: spansTotal, undelivered } satisfies DrainResult
  })
