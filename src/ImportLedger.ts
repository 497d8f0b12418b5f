/**
 * Which sessions `import` has already delivered, so an interrupted or repeated import picks up
 * where it stopped: `<state dir>/imports.ndjson`, one line per delivered session with the size
 * and modification time of each of its rollout files and where it went (the sink and the
 * settings its rows were built with). A session is skipped only when every file is unchanged
 * and it went to the same destination; a session that grew
 * (resumed, or still live) is imported again, which replaces its spans (same ids).
 */
import * as fs from "node:fs"
import { join } from "node:path"
import type { SessionPlan } from "./SessionImport"

export interface LedgerFile {
  readonly path: string
  readonly size: number
  readonly mtimeMs: number
}

export interface LedgerEntry {
  readonly session_id: string
  readonly sink: string
  readonly files: ReadonlyArray<LedgerFile>
  readonly at: string
}

export interface ImportLedger {
  /** delivered before, to this destination (sink and settings), from the same bytes */
  readonly isDone: (plan: SessionPlan, destination: string) => boolean
  readonly record: (plan: SessionPlan, destination: string) => void
}

const statFile = (path: string): LedgerFile | undefined => {
  try {
    const s = fs.statSync(path)
    return { path, size: s.size, mtimeMs: Math.floor(s.mtimeMs) }
  } catch {
    return undefined
  }
}

const sameFiles = (a: ReadonlyArray<LedgerFile>, b: ReadonlyArray<LedgerFile>): boolean =>
  a.length === b.length && a.every((f, i) => f.path === b[i]!.path && f.size === b[i]!.size && f.mtimeMs === b[i]!.mtimeMs)

const isEntry = (u: unknown): u is LedgerEntry =>
  typeof u === "object" && u !== null && typeof (u as { session_id?: unknown }).session_id === "string" && Array.isArray((u as { files?: unknown }).files)

export const openImportLedger = (stateDir: string): ImportLedger => {
  const path = join(stateDir, "imports.ndjson")
  const latest = new Map<string, LedgerEntry>()
  try {
    for (const line of fs.readFileSync(path, "utf8").split("\n")) {
      if (line === "") continue
      try {
        const value: unknown = JSON.parse(line)
        if (isEntry(value)) latest.set(value.session_id, value)
      } catch {
        // a torn last line from an interrupted import: that session is simply imported again
      }
    }
  } catch {
    // first import
  }
  const filesOf = (plan: SessionPlan): Array<LedgerFile> | undefined => {
    const out: Array<LedgerFile> = []
    for (const f of plan.files) {
      const s = statFile(f.path)
      if (!s) return undefined
      out.push(s)
    }
    return out
  }
  return {
    isDone: (plan, sink) => {
      const entry = latest.get(plan.sessionId)
      const files = filesOf(plan)
      return entry !== undefined && files !== undefined && entry.sink === sink && sameFiles(entry.files, files)
    },
    record: (plan, sink) => {
      const files = filesOf(plan)
      if (!files) return
      const entry: LedgerEntry = { session_id: plan.sessionId, sink, files, at: new Date().toISOString() }
      latest.set(plan.sessionId, entry)
      try {
        fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 })
        fs.appendFileSync(path, JSON.stringify(entry) + "\n", { mode: 0o600 })
      } catch {
        // without a ledger the next import repeats this session: slower, never wrong
      }
    }
  }
}
