/**
 * `trace-codex hook`: the Codex hook entry. Observe first, interpret later: it reads one
 * payload from stdin, stamps its arrival, appends it to the session's journal
 * (`<state dir>/journal/<session id>.ndjson`, one line per payload, O_APPEND so concurrent hooks
 * never interleave) and returns. It always exits 0 and never writes to stdout; failures go to
 * `<state dir>/logs/hook.log`. Turning the journal into spans is the drainer's job.
 */
import * as Either from "effect/Either"
import { appendFileSync, mkdirSync } from "node:fs"
import { join } from "node:path"
import { decodeHookPayload } from "../HookReader"

export interface HookRunResult {
  readonly journal: string | undefined
  readonly error: string | undefined
}

const SAFE_ID = /^[A-Za-z0-9._-]{1,128}$/

const appendLine = (dir: string, file: string, value: unknown): string => {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const path = join(dir, file)
  appendFileSync(path, JSON.stringify(value) + "\n", { mode: 0o600 })
  return path
}

/** Records one hook payload; never throws. */
export const recordHookPayload = (stateDir: string, stdin: Uint8Array, receivedAtMs: number): HookRunResult => {
  try {
    const journalDir = join(stateDir, "journal")
    const decoded = decodeHookPayload(stdin)
    if (Either.isLeft(decoded)) {
      const e = decoded.left
      const path = appendLine(journalDir, "_undecodable.ndjson", { received_at_ms: receivedAtMs, error: e.message, text: e.text, text_length: e.textLength })
      return { journal: path, error: e.message }
    }
    const sessionId = decoded.right.event.session_id
    const file = typeof sessionId === "string" && SAFE_ID.test(sessionId) ? `${sessionId}.ndjson` : "_unknown-session.ndjson"
    const path = appendLine(journalDir, file, { received_at_ms: receivedAtMs, payload: decoded.right.raw })
    return { journal: path, error: undefined }
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause)
    try {
      appendLine(join(stateDir, "logs"), "hook.log", { at: new Date(receivedAtMs).toISOString(), error: message })
    } catch {
      // nowhere left to report: tracing must never break Codex
    }
    return { journal: undefined, error: message }
  }
}
