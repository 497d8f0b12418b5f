/**
 * `trace-codex hook-wait --entry <id> --timeout-ms <ms>`: what the sh hook runs after spooling a
 * SessionEnd (or a Stop, when flushing on turn end) to wait until the drainer has delivered that
 * entry (docs/live-capture.md §3, §4). It makes sure a drainer runs, polls
 * `<state>/delivered/<id>` every 20 ms, deletes the marker, and exits 0 with empty stdout
 * whatever happens; a timeout is logged to `logs/hook.log`.
 *
 * Like the Node hook it is synchronous and uses node built-ins only: it runs on Codex's clock.
 */
import { awaitDelivery, drainerCommand } from "../live/drainerProcess"
import { SPOOL_ID, stateLayout } from "../live/layout"
import { type HookEnv, hookLog, hookStateDir } from "./hook"

/** the longest wait accepted: Codex's own default hook timeout */
const MAX_TIMEOUT_MS = 600_000

export interface HookWaitArgs {
  readonly entryId: string
  readonly timeoutMs: number
}

/** `--entry <spool id> --timeout-ms <ms>`, in any order; undefined when they do not fit */
export const parseHookWaitArgs = (args: ReadonlyArray<string>): HookWaitArgs | undefined => {
  let entryId: string | undefined
  let timeoutMs: number | undefined
  for (let i = 0; i < args.length; i += 2) {
    const value = args[i + 1]
    if (value === undefined) return undefined
    if (args[i] === "--entry" && SPOOL_ID.test(value)) entryId = value
    else if (args[i] === "--timeout-ms" && /^[0-9]{1,9}$/.test(value)) timeoutMs = Math.min(Number(value), MAX_TIMEOUT_MS)
    else return undefined
  }
  return entryId === undefined || timeoutMs === undefined ? undefined : { entryId, timeoutMs }
}

export type HookWaitOutcome = "delivered" | "timeout" | "invalid"

/** Never throws. */
export const runHookWait = (args: ReadonlyArray<string>, env: HookEnv, cli: string): HookWaitOutcome => {
  const root = hookStateDir(env)
  if (root === undefined) return "invalid"
  const layout = stateLayout(root)
  try {
    const parsed = parseHookWaitArgs(args)
    if (parsed === undefined) {
      hookLog(layout, "hook-wait", undefined, `invalid arguments: ${JSON.stringify(args)} (expected --entry <id> --timeout-ms <ms>)`)
      return "invalid"
    }
    const waited = awaitDelivery(layout, parsed.entryId, parsed.timeoutMs, drainerCommand(env, cli))
    if (waited.delivered) return "delivered"
    hookLog(layout, "hook-wait", parsed.entryId, `not delivered within ${parsed.timeoutMs} ms${waited.drainerError ? ` (${waited.drainerError})` : ""}`)
    return "timeout"
  } catch (cause) {
    hookLog(layout, "hook-wait", undefined, `failed: ${cause instanceof Error ? cause.message : String(cause)}`)
    return "invalid"
  }
}
