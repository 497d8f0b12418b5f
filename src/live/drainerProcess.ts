/**
 * What the hook side needs of the drainer (docs/live-capture.md §1, §3): is one running for this
 * state directory, starting one detached (the Node side of what `bin/trace-codex-hook` does in
 * sh), and waiting for the delivery marker of an entry. Shared by the Node hook, `hook-wait` and
 * anything else that needs a drainer to run.
 *
 * The hook loads this module on every event: node built-ins and the light live/ modules only,
 * no Effect.
 *
 * `drainer.pid` holds the drainer's pid in decimal on its first line (the drainer writes it once
 * it holds `drainer.lock`, and removes it on exit). A missing or unreadable file, or a pid whose
 * process is gone, means "no drainer": start one. Two hooks may both start one; the lock lets
 * only one of them run.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import { join, resolve } from "node:path"
import type { StateLayout } from "./layout"
import { processAlive } from "./lock"

/** how to start `trace-codex drain`: a Node binary and the CLI bundle */
export interface DrainerCommand {
  readonly node: string
  readonly cli: string
}

/**
 * `TRACE_CODEX_NODE` if set (as in the sh hook), else the Node running this process; `cli` is
 * made absolute because the drainer runs in `/`.
 */
export const drainerCommand = (env: NodeJS.ProcessEnv, cli: string): DrainerCommand => ({
  node: env["TRACE_CODEX_NODE"] || process.execPath,
  cli: resolve(cli)
})

export const readDrainerPid = (layout: StateLayout): number | undefined => {
  let text: string
  try {
    text = fs.readFileSync(layout.pidFile, "latin1")
  } catch {
    return undefined
  }
  const first = text.split("\n", 1)[0] ?? ""
  return /^[0-9]{1,10}$/.test(first) ? Number(first) : undefined
}

export const drainerRunning = (layout: StateLayout): boolean => {
  const pid = readDrainerPid(layout)
  return pid !== undefined && processAlive(pid)
}

/**
 * Starts `node <cli> drain` in its own session (so Codex ending the hook's process group does
 * not end it), in `/`, stdio on /dev/null, with `TRACE_CODEX_STATE_DIR` set to this state
 * directory, and does not wait for it. Returns why it could not be started, if it could not.
 */
export const startDrainer = (layout: StateLayout, command: DrainerCommand): string | undefined => {
  if (!fs.existsSync(command.cli)) return `cannot start the drainer: ${command.cli} is missing`
  try {
    const child = spawn(command.node, [command.cli, "drain"], {
      cwd: "/",
      detached: true,
      stdio: "ignore",
      env: { ...process.env, TRACE_CODEX_STATE_DIR: layout.root }
    })
    // a failed exec is also reported asynchronously; this process may well be gone by then
    child.on("error", () => {})
    child.unref()
    return child.pid === undefined ? `cannot start the drainer: ${command.node} could not be run` : undefined
  } catch (cause) {
    return `cannot start the drainer: ${cause instanceof Error ? cause.message : String(cause)}`
  }
}

/** Starts a drainer unless one is running; returns why it could not, if it could not. */
export const ensureDrainer = (layout: StateLayout, command: DrainerCommand): string | undefined =>
  drainerRunning(layout) ? undefined : startDrainer(layout, command)

const sleeper = new Int32Array(new SharedArrayBuffer(4))
/** blocks this thread: the hook has nothing else to do meanwhile */
const sleepSync = (ms: number): void => {
  Atomics.wait(sleeper, 0, 0, ms)
}

export const DELIVERY_POLL_MS = 20
/**
 * A drainer the hook has just started needs a moment to write drainer.pid: check for one only
 * after this long without the marker, and again as often, rather than start a second one that
 * would only lose the lock.
 */
export const DRAINER_CHECK_MS = 1000

export type DeliveryWait =
  | { readonly delivered: true }
  | { readonly delivered: false; readonly drainerError: string | undefined }

/**
 * Polls `delivered/<entry id>` until it exists or `timeoutMs` has passed, making sure a drainer
 * runs meanwhile; deletes the marker once seen.
 */
export const awaitDelivery = (layout: StateLayout, entryId: string, timeoutMs: number, command: DrainerCommand): DeliveryWait => {
  const marker = join(layout.delivered, entryId)
  const start = Date.now()
  let nextDrainerCheck = start + DRAINER_CHECK_MS
  let drainerError: string | undefined
  for (;;) {
    if (fs.existsSync(marker)) {
      try {
        fs.rmSync(marker, { force: true })
      } catch {
        // the drainer deletes old markers too
      }
      return { delivered: true }
    }
    const now = Date.now()
    if (now - start >= timeoutMs) return { delivered: false, drainerError }
    if (now >= nextDrainerCheck) {
      drainerError = ensureDrainer(layout, command) ?? drainerError
      nextDrainerCheck = now + DRAINER_CHECK_MS
    }
    sleepSync(Math.min(DELIVERY_POLL_MS, Math.max(1, timeoutMs - (now - start))))
  }
}
