/**
 * `trace-codex hook` in Node, for where `bin/trace-codex-hook` (sh) cannot run. It does exactly
 * what the sh hot path does (docs/live-capture.md §1, §4): copy stdin byte for byte to
 * `<state>/spool/.<id>.tmp`, rename it to `spool/<id>.json`, make sure a drainer runs, and for
 * SessionEnd (and Stop when flushing on turn end) wait until the drainer has delivered the entry.
 * Decoding is the drainer's job (HookReader).
 *
 * It runs on every Codex event, so it is synchronous, uses node built-ins only (no Effect, no CLI
 * framework), never throws and never writes to stdout; failures become one line in
 * `logs/hook.log`.
 */
import * as fs from "node:fs"
import { join, resolve } from "node:path"
import { isatty } from "node:tty"
import { awaitDelivery, drainerCommand, ensureDrainer } from "../live/drainerProcess"
import { type StateLayout, stateLayout } from "../live/layout"
import { formatSessionEnv } from "../live/sessionEnv"

export type HookEnv = Readonly<Record<string, string | undefined>>

/**
 * `TRACE_CODEX_STATE_DIR`, else `PLUGIN_DATA`, else `${CODEX_HOME:-$HOME/.codex}/trace-codex`,
 * made absolute; none when none of them is set (as in the sh hook, which has no other way to
 * find a home folder).
 */
export const hookStateDir = (env: HookEnv): string | undefined => {
  const dir = env["TRACE_CODEX_STATE_DIR"] || env["PLUGIN_DATA"] ||
    (env["CODEX_HOME"] ? join(env["CODEX_HOME"], "trace-codex") : env["HOME"] ? join(env["HOME"], ".codex", "trace-codex") : undefined)
  return dir === undefined ? undefined : resolve(dir)
}

/** the receive time in ns since the epoch, 19 digits (µs precision: the last 3 are zeros) */
export const receiveTimeNs = (): string => {
  const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000)
  return `${micros}000`
}

/** One line in `logs/hook.log`, the sh hook's format: `<ISO time> [<pid>] hook <event> <id>: <message>`. */
export const hookLog = (layout: StateLayout, event: string | undefined, entryId: string | undefined, message: string): void => {
  try {
    fs.mkdirSync(layout.logs, { recursive: true, mode: 0o700 })
    const at = new Date().toISOString().replace(/\.\d{3}Z$/, "Z")
    fs.appendFileSync(join(layout.logs, "hook.log"), `${at} [${process.pid}] hook ${event ?? "?"}${entryId ? ` ${entryId}` : ""}: ${message}\n`, { mode: 0o600 })
  } catch {
    // nowhere left to report: tracing must never break Codex
  }
}

const TRUTHY = /^(true|yes|on|1)$/i

/** `BRAINTRUST_FLUSH_ON_TURN_END`, else `"flushOnTurnEnd"` in `<state>/config.json` */
export const flushOnTurnEnd = (env: HookEnv, layout: StateLayout): boolean => {
  const flag = env["BRAINTRUST_FLUSH_ON_TURN_END"]
  if (flag) return TRUTHY.test(flag)
  let config: unknown
  try {
    config = JSON.parse(fs.readFileSync(join(layout.root, "config.json"), "utf8"))
  } catch {
    return false
  }
  if (typeof config !== "object" || config === null || !("flushOnTurnEnd" in config)) return false
  const value = config.flushOnTurnEnd
  return value === true || value === 1 || (typeof value === "string" && TRUTHY.test(value))
}

export const SESSION_END_WAIT_MS = 2500
export const TURN_END_WAIT_MS = 10_000

/**
 * How long the hook for this event waits for delivery; none = return at once. `payloadIs`
 * answers "is this payload's hook_event_name this?" when the event was not given; it is asked
 * only when the answer matters.
 */
export const hookWaitMs = (event: string | undefined, env: HookEnv, layout: StateLayout, payloadIs: (name: string) => boolean): number | undefined => {
  const known = event ?? (payloadIs("SessionEnd") ? "SessionEnd" : undefined)
  if (known === "SessionEnd") return SESSION_END_WAIT_MS
  if (known !== undefined && known !== "Stop") return undefined
  if (!flushOnTurnEnd(env, layout) || (known === undefined && !payloadIs("Stop"))) return undefined
  const configured = env["TRACE_CODEX_TURN_END_TIMEOUT_MS"]
  return configured && /^[0-9]{1,9}$/.test(configured) ? Number(configured) : TURN_END_WAIT_MS
}

/** the same test as the sh hook's grep: the payload is not parsed here */
export const payloadNames = (bytes: Buffer, name: string): boolean =>
  new RegExp(`"hook_event_name"\\s*:\\s*"${name}"`).test(bytes.toString("latin1"))

/** event names as the installer passes them (`trace-codex hook Stop`); anything else is ignored */
export const hookEventArg = (arg: string | undefined): string | undefined =>
  arg !== undefined && /^[A-Za-z0-9_]+$/.test(arg) ? arg : undefined

const sleeper = new Int32Array(new SharedArrayBuffer(4))
/** a stdin left open without data is given up after this long */
const STDIN_IDLE_MS = 2000

interface Copied {
  readonly bytes: number
  readonly readError: string | undefined
  readonly writeError: string | undefined
}

const errorText = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

/**
 * Copies `from` to `to` (none: drops it) until EOF. After a write error it keeps reading and
 * dropping, so the writer on the other end of stdin never gets EPIPE.
 */
const copyAll = (from: number, to: number | undefined): Copied => {
  const buffer = Buffer.allocUnsafe(256 * 1024)
  let bytes = 0
  let writeError: string | undefined
  let idleSince: number | undefined
  for (;;) {
    let n: number
    try {
      n = fs.readSync(from, buffer, 0, buffer.length, null)
    } catch (cause) {
      // a non-blocking stdin: wait for more, but not forever
      if ((cause as NodeJS.ErrnoException).code === "EAGAIN") {
        idleSince ??= Date.now()
        if (Date.now() - idleSince > STDIN_IDLE_MS) return { bytes, readError: "stdin stayed open without data", writeError }
        Atomics.wait(sleeper, 0, 0, 1)
        continue
      }
      return { bytes, readError: errorText(cause), writeError }
    }
    idleSince = undefined
    if (n === 0) return { bytes, readError: undefined, writeError }
    if (to !== undefined && writeError === undefined) {
      try {
        let done = 0
        while (done < n) done += fs.writeSync(to, buffer, done, n - done)
        bytes += n
      } catch (cause) {
        writeError = errorText(cause)
      }
    }
  }
}

export interface HookOptions {
  /** the event name the hook was installed for, when given */
  readonly event: string | undefined
  readonly env: HookEnv
  /** stdin */
  readonly fd: number
  /** the CLI bundle, to start `drain` */
  readonly cli: string
}

export type HookOutcome =
  | { readonly _tag: "Spooled"; readonly entryId: string; readonly waitedMs: number | undefined }
  | { readonly _tag: "Failed"; readonly message: string }

const drainStdin = (fd: number): void => {
  try {
    if (!isatty(fd)) copyAll(fd, undefined)
  } catch {
    // nothing left to do with it
  }
}

/** Spools one payload, ensures a drainer, waits when the flush policy says so. Never throws. */
export const runHook = (options: HookOptions): HookOutcome => {
  const { env, fd } = options
  let event = options.event
  const root = hookStateDir(env)
  if (root === undefined) {
    drainStdin(fd)
    return { _tag: "Failed", message: "no state directory: none of TRACE_CODEX_STATE_DIR, PLUGIN_DATA, CODEX_HOME, HOME is set" }
  }
  const layout = stateLayout(root)
  const entryId = `${receiveTimeNs()}-${process.pid}`
  const fail = (message: string, tmp?: string): HookOutcome => {
    hookLog(layout, event, entryId, message)
    if (tmp !== undefined) {
      try {
        fs.rmSync(tmp, { force: true })
      } catch {
        // the drainer ignores .tmp files
      }
    }
    drainStdin(fd)
    return { _tag: "Failed", message }
  }
  try {
    if (isatty(fd)) return fail("stdin is a terminal: no payload (Codex pipes one)")
    const spoolIsFolder = () => fs.statSync(layout.spool, { throwIfNoEntry: false })?.isDirectory() === true
    if (!spoolIsFolder()) {
      try {
        fs.mkdirSync(layout.spool, { recursive: true, mode: 0o700 })
      } catch {
        // another hook may have just made it
        if (!spoolIsFolder()) return fail("cannot create the spool folder")
      }
      try {
        fs.mkdirSync(layout.logs, { recursive: true, mode: 0o700 })
      } catch {
        // logs are made again when there is something to log
      }
    }
    const tmp = join(layout.spool, `.${entryId}.tmp`)
    let out: number
    try {
      out = fs.openSync(tmp, "wx", 0o600)
    } catch {
      return fail("cannot store the payload (stdin unreadable, disk full or folder not writable)")
    }
    let copied: Copied
    try {
      copied = copyAll(fd, out)
    } finally {
      fs.closeSync(out)
    }
    if (copied.readError !== undefined || copied.writeError !== undefined) {
      return fail("cannot store the payload (stdin unreadable, disk full or folder not writable)", tmp)
    }
    if (copied.bytes === 0) return fail("empty stdin: nothing to store", tmp)
    // decided before the rename: once spooled, the drainer may take the file away at any moment
    let payload: Buffer | undefined
    const payloadIs = (name: string): boolean => {
      payload ??= fs.readFileSync(tmp)
      return payloadNames(payload, name)
    }
    const waitMs = hookWaitMs(event, env, layout, payloadIs)
    if (waitMs !== undefined) event ??= payloadIs("SessionEnd") ? "SessionEnd" : "Stop"
    // SessionStart: the environment the session starts in goes beside it, renamed first
    if (event === "SessionStart" || (event === undefined && payloadIs("SessionStart"))) {
      const envTmp = join(layout.spool, `.${entryId}.env.tmp`)
      try {
        fs.writeFileSync(envTmp, formatSessionEnv(env), { mode: 0o600 })
        fs.renameSync(envTmp, join(layout.spool, `${entryId}.env`))
      } catch {
        hookLog(layout, event, entryId, "cannot store the session's environment: the drainer's settings apply")
        fs.rmSync(envTmp, { force: true })
      }
    }
    try {
      fs.renameSync(tmp, join(layout.spool, `${entryId}.json`))
    } catch {
      return fail("cannot rename the payload into the spool", tmp)
    }

    const command = drainerCommand(env, options.cli)
    const drainerError = ensureDrainer(layout, command)
    if (drainerError !== undefined) hookLog(layout, event, entryId, drainerError)
    if (waitMs === undefined) return { _tag: "Spooled", entryId, waitedMs: undefined }
    const started = Date.now()
    const waited = awaitDelivery(layout, entryId, waitMs, command)
    if (!waited.delivered) {
      hookLog(layout, event, entryId, `not delivered within ${waitMs} ms${waited.drainerError ? ` (${waited.drainerError})` : ""}`)
    }
    return { _tag: "Spooled", entryId, waitedMs: Date.now() - started }
  } catch (cause) {
    return fail(`hook failed: ${errorText(cause)}`)
  }
}
