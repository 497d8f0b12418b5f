/**
 * Import of past sessions: finds rollout files, groups them into sessions (a main thread plus
 * the subagent threads found beside it), streams each transcript through the TranscriptParser
 * into the SessionReducer, and hands the rows to the SpanSink in batches as the FlushPolicy
 * says. Ids are deterministic, so importing twice delivers the same rows again (a no-op in
 * effect). `show` uses the same planning and reduction, with rows collected in memory.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { basename, dirname, join, resolve } from "node:path"
import { decodeRolloutLine } from "./domain/Rollout"
import type { SpanRow } from "./domain/SpanRow"
import { FlushPolicy } from "./FlushPolicy"
import { SessionReducer } from "./SessionReducer"
import type { ImportLedger } from "./ImportLedger"
import { SpanSink, type SpanSinkError } from "./SpanSink"
import { TranscriptParser, type TranscriptReadError } from "./TranscriptParser"

const ROLLOUT_FILE = /\.jsonl(?:\.zst)?$/

/** What the first line of a rollout says about its thread. */
export interface TranscriptHeader {
  readonly path: string
  readonly threadId: string
  readonly sessionId: string
  readonly subagent: boolean
  readonly startMs: number | undefined
}

export interface SessionPlan {
  readonly sessionId: string
  /** main thread first, then subagent threads by start time */
  readonly files: ReadonlyArray<TranscriptHeader>
}

export interface ImportProblem {
  readonly path: string
  readonly message: string
}

export interface ImportSummary {
  readonly sessions: number
  readonly spans: number
  readonly files: number
  readonly malformedLines: number
  readonly errors: ReadonlyArray<ImportProblem>
  /** sessions skipped because an earlier import delivered them unchanged */
  readonly unchanged: number
}

export interface ImportOptions {
  /** parse and reduce only; deliver nothing */
  readonly dryRun?: boolean
  /** only sessions that started at or after this time (epoch ms) */
  readonly sinceMs?: number
  /** look beside each main rollout for its subagents' rollouts (default true) */
  readonly findSubagents?: boolean
  /** called after each session with the running totals */
  readonly onProgress?: (done: number, total: number) => Effect.Effect<void>
  /** resumable imports: sessions already delivered unchanged are skipped, delivered ones recorded */
  readonly ledger?: ImportLedger | undefined
  /** what the ledger compares: the sink and the settings rows are built with (default: the sink's name) */
  readonly destination?: string | undefined
}

// ---------------------------------------------------------------------------------------------
// discovery

const walk = (fs: FileSystem.FileSystem, dir: string): Effect.Effect<Array<string>> =>
  fs.readDirectory(dir).pipe(
    Effect.orElseSucceed((): Array<string> => []),
    Effect.flatMap((names) =>
      Effect.forEach(names.sort(), (name) => {
        const p = join(dir, name)
        return fs.stat(p).pipe(
          Effect.map((s) => Option.some(s.type)),
          Effect.orElseSucceed(() => Option.none<FileSystem.File.Type>()),
          Effect.flatMap((type) =>
            Option.match(type, {
              onNone: () => Effect.succeed<Array<string>>([]),
              onSome: (t) => (t === "Directory" ? walk(fs, p) : Effect.succeed(t === "File" && ROLLOUT_FILE.test(name) ? [p] : []))
            })
          )
        )
      })
    ),
    Effect.map((lists) => lists.flat())
  )

/** `x.jsonl` and `x.jsonl.zst` are one transcript; the plain file wins (Codex compresses in the background). */
const preferPlain = (files: ReadonlyArray<string>): Array<string> => {
  const set = new Set(files)
  return [...set].filter((f) => !(f.endsWith(".zst") && set.has(f.slice(0, -4))))
}

export const discoverRollouts = (paths: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const files: Array<string> = []
    const errors: Array<ImportProblem> = []
    for (const raw of paths) {
      const p = resolve(raw)
      const info = yield* Effect.either(fs.stat(p))
      if (info._tag === "Left") {
        errors.push({ path: p, message: "no such file or folder" })
        continue
      }
      if (info.right.type === "Directory") files.push(...(yield* walk(fs, p)))
      else files.push(p)
    }
    return { files: preferPlain(files), errors }
  })

// ---------------------------------------------------------------------------------------------
// headers and session plans

export const readHeader = (path: string) =>
  Effect.gen(function* () {
    const parser = yield* TranscriptParser
    const first = yield* parser.read(path, { final: true, chunkSize: 64 * 1024 }).pipe(
      Stream.map((b) => b.lines[0]),
      Stream.filter((l) => l !== undefined),
      Stream.take(1),
      Stream.runHead
    )
    const line = Option.getOrUndefined(first)
    const fallbackId = basename(path).replace(ROLLOUT_FILE, "").slice(-36)
    if (!line || line.kind !== "session_meta") {
      return { path, threadId: fallbackId, sessionId: fallbackId, subagent: false, startMs: line?.timeMs } satisfies TranscriptHeader
    }
    const meta = line.meta
    const threadId = meta.id ?? fallbackId
    const source = meta.source
    const subagent = meta.thread_source === "subagent" || (typeof source === "object" && source !== null && "subagent" in source)
    const metaMs = meta.timestamp ? Date.parse(meta.timestamp) : Number.NaN
    return {
      path,
      threadId,
      sessionId: meta.session_id ?? threadId,
      subagent,
      startMs: Number.isFinite(metaMs) ? metaMs : line.timeMs
    } satisfies TranscriptHeader
  })

const byStart = (a: TranscriptHeader, b: TranscriptHeader) => (a.startMs ?? 0) - (b.startMs ?? 0) || a.path.localeCompare(b.path)

export const planSessions = (headers: ReadonlyArray<TranscriptHeader>): Array<SessionPlan> => {
  const groups = new Map<string, Array<TranscriptHeader>>()
  for (const h of headers) {
    const list = groups.get(h.sessionId)
    if (list) {
      if (!list.some((x) => x.threadId === h.threadId)) list.push(h)
    } else groups.set(h.sessionId, [h])
  }
  return [...groups.entries()].map(([sessionId, list]) => ({
    sessionId,
    files: [...list.filter((h) => !h.subagent).sort(byStart), ...list.filter((h) => h.subagent).sort(byStart)]
  }))
}

/** Subagent rollouts live beside the parent's (same day folder): add those of the same session. */
const withSubagentsBeside = (headers: ReadonlyArray<TranscriptHeader>) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const known = new Set(headers.map((h) => h.path))
    const sessions = new Set(headers.filter((h) => !h.subagent).map((h) => h.sessionId))
    const dirs = new Set(headers.filter((h) => !h.subagent).map((h) => dirname(h.path)))
    const extra: Array<TranscriptHeader> = []
    for (const dir of dirs) {
      const names = yield* fs.readDirectory(dir).pipe(Effect.orElseSucceed((): Array<string> => []))
      for (const name of preferPlain(names.filter((n) => ROLLOUT_FILE.test(n)).map((n) => join(dir, n)))) {
        if (known.has(name)) continue
        const h = yield* Effect.orElseSucceed(readHeader(name), () => undefined)
        if (h && h.subagent && sessions.has(h.sessionId)) {
          extra.push(h)
          known.add(name)
        }
      }
    }
    return [...headers, ...extra]
  })

export const planFromPaths = (paths: ReadonlyArray<string>, options: Pick<ImportOptions, "findSubagents" | "sinceMs"> = {}) =>
  Effect.gen(function* () {
    const { errors, files } = yield* discoverRollouts(paths)
    const headers: Array<TranscriptHeader> = []
    for (const f of files) {
      const h = yield* Effect.either(readHeader(f))
      if (h._tag === "Left") errors.push({ path: f, message: h.left.message })
      else headers.push(h.right)
    }
    const all = options.findSubagents === false ? headers : yield* withSubagentsBeside(headers)
    const plans = planSessions(all).filter((p) => options.sinceMs === undefined || (p.files[0]?.startMs ?? 0) >= options.sinceMs)
    return { plans, errors }
  })

// ---------------------------------------------------------------------------------------------
// reducing and delivering

export interface SessionResult {
  readonly spans: number
  readonly malformedLines: number
  readonly errors: ReadonlyArray<ImportProblem>
}

/**
 * Streams every transcript of the session through the reducer; `deliver` receives the latest
 * version of each changed span in batches of at most `batchRows` (and a last partial batch).
 */
export const reduceSession = <E, R>(plan: SessionPlan, deliver: (rows: ReadonlyArray<SpanRow>) => Effect.Effect<void, E, R>) =>
  Effect.gen(function* () {
    const parser = yield* TranscriptParser
    const reducer = yield* SessionReducer
    const policy = yield* FlushPolicy
    const state = reducer.initial()
    const pending = new Map<string, SpanRow>()
    const seen = new Set<string>()
    const errors: Array<ImportProblem> = []
    let malformedLines = 0
    // a span updated again before its batch goes keeps its place in the batch: the rows of one
    // delivery are merged by id, their order within it does not matter
    const take = (rows: ReadonlyArray<SpanRow>) => {
      for (const r of rows) {
        pending.set(r.id, r)
        seen.add(r.id)
      }
    }
    const flush = Effect.suspend(() => {
      if (pending.size === 0) return Effect.void
      const batch = [...pending.values()]
      pending.clear()
      return deliver(batch)
    })
    for (const file of plan.files) {
      // each line is decoded just before it is reduced, so its parsed JSON dies young
      const reduceText = (text: string) => {
        const line = decodeRolloutLine(text)
        if (line.kind === "malformed") malformedLines++
        else take(reducer.reduce(state, file.path, line))
      }
      const read = parser.scanLines(file.path, reduceText, { final: true }).pipe(
        Stream.catchAll((e: TranscriptReadError) => {
          errors.push({ path: file.path, message: e.message })
          return Stream.empty
        }),
        Stream.runForEach(() => (pending.size >= policy.batchRows ? flush : Effect.void))
      )
      yield* read
    }
    take(reducer.finish(state))
    yield* flush
    return { spans: seen.size, malformedLines, errors } satisfies SessionResult
  })

/** `trace-codex import`: every session under `paths`, delivered to the SpanSink. */
export const importPaths = (paths: ReadonlyArray<string>, options: ImportOptions = {}) =>
  Effect.gen(function* () {
    const sink = yield* SpanSink
    const { errors, plans } = yield* planFromPaths(paths, options)
    let spans = 0
    let malformedLines = 0
    let files = 0
    let done = 0
    let unchanged = 0
    const ledger = options.dryRun ? undefined : options.ledger
    const destination = options.destination ?? sink.name
    const deliver = (rows: ReadonlyArray<SpanRow>): Effect.Effect<void, SpanSinkError> => (options.dryRun ? Effect.void : sink.write(rows))
    for (const plan of plans) {
      files += plan.files.length
      if (ledger?.isDone(plan, destination)) {
        unchanged++
        done++
        if (options.onProgress) yield* options.onProgress(done, plans.length)
        continue
      }
      const result = yield* Effect.either(reduceSession(plan, deliver))
      if (result._tag === "Left") {
        errors.push({ path: plan.files[0]?.path ?? plan.sessionId, message: `delivery to ${sink.name} failed: ${result.left.message}` })
      } else {
        spans += result.right.spans
        malformedLines += result.right.malformedLines
        errors.push(...result.right.errors)
        if (result.right.errors.length === 0) ledger?.record(plan, destination)
      }
      done++
      if (options.onProgress) yield* options.onProgress(done, plans.length)
    }
    return { sessions: plans.length, spans, files, malformedLines, errors, unchanged } satisfies ImportSummary
  })

/** `trace-codex show`: the final rows of one session, in memory, nothing delivered. */
export const loadSessionRows = (plan: SessionPlan) =>
  Effect.gen(function* () {
    const rows = new Map<string, SpanRow>()
    const result = yield* reduceSession(plan, (batch) =>
      Effect.sync(() => {
        for (const r of batch) rows.set(r.id, r)
      })
    )
    return { rows: [...rows.values()], result }
  })

/** A session id: its rollout under `$CODEX_HOME/sessions` or `archived_sessions`. */
export const findRolloutById = (codexHome: string, sessionId: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const candidates = [...(yield* walk(fs, join(codexHome, "sessions"))), ...(yield* walk(fs, join(codexHome, "archived_sessions")))]
    return preferPlain(candidates.filter((f) => basename(f).replace(ROLLOUT_FILE, "").endsWith(sessionId)))[0]
  })
