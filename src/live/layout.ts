/**
 * The files live capture keeps in the state directory (docs/live-capture.md): one place that
 * names them, shared by the hook, the drainer, `flush` and `status`.
 */
import { join } from "node:path"

export interface StateLayout {
  readonly root: string
  /** raw hook payloads waiting for the drainer: `<id>.json`, written by the hook */
  readonly spool: string
  /** per session, append-only: `<session id>.ndjson`, one decoded hook entry per line */
  readonly journal: string
  /** per session: what has been delivered (offsets, reducer state) — `<session id>.json` */
  readonly checkpoint: string
  /** per session: the last delivery error, while it lasts — `<session id>.json` */
  readonly status: string
  /** `<entry id>`: the rows of that Stop / SessionEnd entry were confirmed by the sink */
  readonly delivered: string
  readonly logs: string
  readonly lockFile: string
  readonly pidFile: string
}

export const stateLayout = (root: string): StateLayout => ({
  root,
  spool: join(root, "spool"),
  journal: join(root, "journal"),
  checkpoint: join(root, "checkpoint"),
  status: join(root, "status"),
  delivered: join(root, "delivered"),
  logs: join(root, "logs"),
  lockFile: join(root, "drainer.lock"),
  pidFile: join(root, "drainer.pid")
})

/** session ids become file names: anything else goes to a shared file */
export const SAFE_ID = /^[A-Za-z0-9._-]{1,128}$/

/** spool entry ids: `<ns since epoch>-<pid>` */
export const SPOOL_ID = /^(\d{1,20})-(\d{1,10})$/

/** receive time of a spool entry, from its id (ms since the epoch) */
export const receivedAtMsOf = (id: string): number | undefined => {
  const m = SPOOL_ID.exec(id)
  if (!m) return undefined
  const ns = m[1]!
  // 19 digits of ns → ms; shorter ids (seconds precision fallbacks) are scaled the same way
  const ms = Number(ns.length > 6 ? ns.slice(0, ns.length - 6) : "0")
  return Number.isFinite(ms) && ms > 0 ? ms : undefined
}
