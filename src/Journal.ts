/**
 * The hook journal: where raw hook payloads become durable, per-session evidence.
 *
 * The hook only spools each payload as a file (`spool/<id>.json`, bytes as Codex sent them).
 * `intakeSpool` decodes them (HookReader), appends one line per payload to
 * `journal/<session id>.ndjson` (fsync'd), and only then deletes the spool file. A crash between
 * the append and the delete leaves the spool file behind: the entry id in the journal line makes
 * the second append a no-op. A SessionStart payload may come with `spool/<id>.env`, the
 * environment the session started in (live/sessionEnv.ts); its entry keeps it as `env`.
 * `readJournal` reads a session's entries from a byte offset.
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as fs from "node:fs"
import { join } from "node:path"
import type { JsonObject } from "./domain/HookPayload"
import { decodeHookPayload } from "./HookReader"
import { writeDurably } from "./live/durable"
import { receivedAtMsOf, SAFE_ID, SPOOL_ID, type StateLayout } from "./live/layout"
import { parseSessionEnv } from "./live/sessionEnv"

export class JournalError extends Data.TaggedError("JournalError")<{
  readonly path: string
  readonly message: string
}> {}

/** one line of a session's journal */
export interface JournalEntry {
  /** the spool id: receive time (ns) and the hook's pid */
  readonly id: string
  readonly received_at_ms: number
  /** the payload as Codex sent it (decoded JSON object, unknown keys kept) */
  readonly payload: JsonObject
  /** at SessionStart: the session's environment as the hook saw it (live/sessionEnv.ts) */
  readonly env?: Readonly<Record<string, string>>
}

export const UNDECODABLE_JOURNAL = "_undecodable"
export const UNKNOWN_SESSION_JOURNAL = "_unknown-session"

export interface IntakeResult {
  /** sessions whose journal grew */
  readonly sessions: ReadonlyArray<string>
  readonly entries: number
  readonly undecodable: number
}

const errorText = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

const ensureDir = (dir: string): void => {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
}

/** ids already in a journal's tail (the last 256 KiB is far more than a crash can leave behind) */
const tailIds = (path: string): Set<string> => {
  const ids = new Set<string>()
  let fd: number | undefined
  try {
    fd = fs.openSync(path, "r")
    const size = fs.fstatSync(fd).size
    const length = Math.min(size, 256 * 1024)
    const buf = Buffer.alloc(length)
    fs.readSync(fd, buf, 0, length, size - length)
    for (const m of buf.toString("utf8").matchAll(/"id":"(\d{1,20}-\d{1,10})"/g)) ids.add(m[1]!)
  } catch {
    // no journal yet
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
  return ids
}

const ABANDONED_TMP_MS = 10 * 60_000

/**
 * `.<id>.tmp` files of hooks killed while writing (never completed), and `<id>.env` files whose
 * payload never followed (the hook renames the .env first): removed once old
 */
export const removeAbandonedSpool = (layout: StateLayout, nowMs: number): number => {
  let removed = 0
  try {
    const names = fs.readdirSync(layout.spool)
    const payloads = new Set(names.filter((name) => name.endsWith(".json")).map((name) => name.slice(0, -5)))
    for (const name of names) {
      const abandoned = (name.startsWith(".") && name.endsWith(".tmp")) || (name.endsWith(".env") && !payloads.has(name.slice(0, -4)))
      if (!abandoned) continue
      const path = join(layout.spool, name)
      try {
        if (nowMs - fs.statSync(path).mtimeMs > ABANDONED_TMP_MS) {
          fs.rmSync(path, { force: true })
          removed++
        }
      } catch {
        // renamed or removed meanwhile
      }
    }
  } catch {
    // no spool yet
  }
  return removed
}

/** spool ids waiting, oldest first (ids start with the receive time in ns) */
export const listSpool = (layout: StateLayout): Array<string> => {
  let names: Array<string>
  try {
    names = fs.readdirSync(layout.spool)
  } catch {
    return []
  }
  const ids: Array<string> = []
  for (const name of names) {
    if (!name.endsWith(".json")) continue
    const id = name.slice(0, -5)
    if (SPOOL_ID.test(id)) ids.push(id)
  }
  return ids.sort((a, b) => (a.length - b.length) || (a < b ? -1 : a > b ? 1 : 0))
}

const spooledEnvIds = (layout: StateLayout): Set<string> => {
  try {
    return new Set(fs.readdirSync(layout.spool).filter((name) => name.endsWith(".env") && !name.startsWith(".")).map((name) => name.slice(0, -4)))
  } catch {
    return new Set()
  }
}

/** the environment the hook stored beside a SessionStart payload, if any */
const readSpooledEnv = (path: string): Record<string, string> | undefined => {
  let text: string
  try {
    text = fs.readFileSync(path, "utf8")
  } catch {
    return undefined
  }
  return parseSessionEnv(text)
}

/**
 * Moves every complete spool file into its session's journal. Never fails as a whole: a file
 * that cannot be read now stays for the next intake; one that is not a hook payload goes to
 * `_undecodable.ndjson` with the reason, so nothing is silently dropped.
 */
export const intakeSpool = (layout: StateLayout): Effect.Effect<IntakeResult, JournalError> =>
  Effect.try({
    try: () => {
      const ids = listSpool(layout)
      if (ids.length === 0) return { sessions: [], entries: 0, undecodable: 0 }
      // which payloads came with an environment (SessionStart): one listing, not a failed open per payload
      const withEnv = spooledEnvIds(layout)
      ensureDir(layout.journal)
      const known = new Map<string, Set<string>>()
      const grown = new Set<string>()
      let entries = 0
      let undecodable = 0
      for (const id of ids) {
        const spoolPath = join(layout.spool, `${id}.json`)
        const envPath = join(layout.spool, `${id}.env`)
        let bytes: Buffer
        try {
          bytes = fs.readFileSync(spoolPath)
        } catch {
          continue
        }
        const receivedAtMs = receivedAtMsOf(id) ?? Date.now()
        const decoded = decodeHookPayload(bytes)
        let journal: string
        let line: string
        if (Either.isLeft(decoded)) {
          journal = UNDECODABLE_JOURNAL
          const e = decoded.left
          line = JSON.stringify({ id, received_at_ms: receivedAtMs, error: e.message, reason: e.reason, text: e.text, text_length: e.textLength })
          undecodable++
        } else {
          const sessionId = decoded.right.event.session_id
          journal = typeof sessionId === "string" && SAFE_ID.test(sessionId) && !sessionId.startsWith("_") ? sessionId : UNKNOWN_SESSION_JOURNAL
          const env = withEnv.has(id) ? readSpooledEnv(envPath) : undefined
          line = JSON.stringify({ id, received_at_ms: receivedAtMs, payload: decoded.right.raw, ...(env === undefined ? {} : { env }) } satisfies JournalEntry)
        }
        const path = join(layout.journal, `${journal}.ndjson`)
        let seen = known.get(journal)
        if (!seen) {
          seen = tailIds(path)
          known.set(journal, seen)
        }
        if (!seen.has(id)) {
          writeDurably(path, line + "\n", "a")
          seen.add(id)
          entries++
          if (journal !== UNDECODABLE_JOURNAL) grown.add(journal)
        }
        if (withEnv.has(id)) fs.rmSync(envPath, { force: true })
        fs.rmSync(spoolPath, { force: true })
      }
      return { sessions: [...grown], entries, undecodable }
    },
    catch: (cause) => new JournalError({ path: layout.journal, message: `cannot move hook payloads into the journal: ${errorText(cause)}` })
  })

export interface JournalRead {
  readonly entries: ReadonlyArray<JournalEntry>
  /** byte offset just past the last complete line read */
  readonly endOffset: number
}

const isEntry = (u: unknown): u is JournalEntry =>
  typeof u === "object" && u !== null && typeof (u as { id?: unknown }).id === "string" &&
  typeof (u as { payload?: unknown }).payload === "object" && (u as { payload?: unknown }).payload !== null

/** The entries of a session's journal from `fromOffset` to its last complete line. */
export const readJournal = (layout: StateLayout, sessionId: string, fromOffset: number): Effect.Effect<JournalRead, JournalError> =>
  Effect.try({
    try: () => {
      const path = join(layout.journal, `${sessionId}.ndjson`)
      let fd: number
      try {
        fd = fs.openSync(path, "r")
      } catch {
        return { entries: [], endOffset: fromOffset }
      }
      try {
        const size = fs.fstatSync(fd).size
        if (size <= fromOffset) return { entries: [], endOffset: Math.min(fromOffset, size) }
        const buf = Buffer.alloc(size - fromOffset)
        fs.readSync(fd, buf, 0, buf.length, fromOffset)
        const last = buf.lastIndexOf(10)
        if (last < 0) return { entries: [], endOffset: fromOffset }
        const entries: Array<JournalEntry> = []
        for (const text of buf.subarray(0, last).toString("utf8").split("\n")) {
          if (text === "") continue
          try {
            const value: unknown = JSON.parse(text)
            if (isEntry(value)) entries.push(value)
          } catch {
            // a line we wrote ourselves can only be broken by a torn write before a crash: skip it
          }
        }
        return { entries, endOffset: fromOffset + last + 1 }
      } finally {
        fs.closeSync(fd)
      }
    },
    catch: (cause) => new JournalError({ path: layout.journal, message: `cannot read the journal of ${sessionId}: ${errorText(cause)}` })
  })

/** sessions that have a journal */
export const journalSessions = (layout: StateLayout): Array<string> => {
  try {
    return fs
      .readdirSync(layout.journal)
      .filter((n) => n.endsWith(".ndjson") && !n.startsWith("_"))
      .map((n) => n.slice(0, -".ndjson".length))
  } catch {
    return []
  }
}

export const journalSize = (layout: StateLayout, sessionId: string): number => {
  try {
    return fs.statSync(join(layout.journal, `${sessionId}.ndjson`)).size
  } catch {
    return 0
  }
}
