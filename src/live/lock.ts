/**
 * The drainer lock: at most one drainer per state directory. `drainer.lock` is created with
 * O_EXCL and names its holder; a lock whose holder is dead, or which has not been touched for
 * `STALE_LOCK_MS` (the holder touches it every poll, so a pid reused by another program cannot
 * keep it forever), is taken over. `drainer.pid` holds the bare pid for the sh hook's `kill -0`.
 */
import * as fs from "node:fs"
import type { StateLayout } from "./layout"

export const STALE_LOCK_MS = 2 * 60 * 1000

export interface LockHolder {
  readonly pid: number
  readonly startedAtMs: number
}

/** a process killed but never reaped (its parent, often a PID 1 without an init, never waited) */
const isZombie = (pid: number): boolean => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3)
    return state === "Z" || state === "X"
  } catch {
    return false
  }
}

export const processAlive = (pid: number): boolean => {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (e) {
    // EPERM: it exists but belongs to someone else
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false
  }
  return !isZombie(pid)
}

export const readLockHolder = (layout: StateLayout): LockHolder | undefined => {
  try {
    const value: unknown = JSON.parse(fs.readFileSync(layout.lockFile, "utf8"))
    if (typeof value !== "object" || value === null) return undefined
    const { pid, startedAtMs } = value as { pid?: unknown; startedAtMs?: unknown }
    return typeof pid === "number" && typeof startedAtMs === "number" ? { pid, startedAtMs } : undefined
  } catch {
    return undefined
  }
}

const lockAgeMs = (layout: StateLayout): number => {
  try {
    return Date.now() - fs.statSync(layout.lockFile).mtimeMs
  } catch {
    return Number.POSITIVE_INFINITY
  }
}

/** the live drainer holding the lock, if any */
export const liveDrainer = (layout: StateLayout): LockHolder | undefined => {
  const holder = readLockHolder(layout)
  if (!holder || holder.pid === process.pid) return undefined
  return processAlive(holder.pid) && lockAgeMs(layout) < STALE_LOCK_MS ? holder : undefined
}

/** Takes the lock for this process; false when a live drainer holds it. */
export const acquireLock = (layout: StateLayout): boolean => {
  fs.mkdirSync(layout.root, { recursive: true, mode: 0o700 })
  const me: LockHolder = { pid: process.pid, startedAtMs: Date.now() }
  for (let i = 0; i < 3; i++) {
    try {
      const fd = fs.openSync(layout.lockFile, "wx", 0o600)
      try {
        fs.writeSync(fd, JSON.stringify(me))
      } finally {
        fs.closeSync(fd)
      }
      // two drainers that both saw a stale lock may both have removed it: the file decides
      if (readLockHolder(layout)?.pid !== process.pid) return false
      fs.writeFileSync(layout.pidFile, `${process.pid}\n`, { mode: 0o600 })
      return true
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
      if (liveDrainer(layout)) return false
      const holder = readLockHolder(layout)
      if (holder?.pid === process.pid) return true
      fs.rmSync(layout.lockFile, { force: true })
    }
  }
  return false
}

/** still ours? touches the lock so it does not look stale */
export const holdLock = (layout: StateLayout): boolean => {
  if (readLockHolder(layout)?.pid !== process.pid) return false
  try {
    const t = new Date()
    fs.utimesSync(layout.lockFile, t, t)
  } catch {
    return false
  }
  return true
}

export const releaseLock = (layout: StateLayout): void => {
  if (readLockHolder(layout)?.pid !== process.pid) return
  try {
    const pid = fs.readFileSync(layout.pidFile, "utf8").trim()
    if (pid === String(process.pid)) fs.rmSync(layout.pidFile, { force: true })
  } catch {
    // already gone
  }
  fs.rmSync(layout.lockFile, { force: true })
}
