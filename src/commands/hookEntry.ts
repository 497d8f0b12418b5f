/**
 * The hook commands' fast path. `cli.ts` imports this module first, so when the process was
 * started as `trace-codex hook [Event]` or `trace-codex hook-wait ...` it runs that command to
 * completion and exits 0 before the rest of the bundle (Effect, @effect/cli, the sinks) is
 * evaluated. Everything it loads is synchronous and built on node built-ins: these commands run
 * on Codex's clock. Any other command falls through to the CLI.
 */
import { hookEventArg, runHook } from "./hook"
import { runHookWait } from "./hookWait"

const [, entry = "", command, ...rest] = process.argv
/** run from the small dist/hook.mjs bundle, the drainer is still the CLI's: dist/cli.mjs beside it */
const cli = entry.replace(/hook\.mjs$/, "cli.mjs")

/** `hook` alone or with an event name; `hook --help` and the like are left to the CLI */
const isHookRun = command === "hook" && (rest.length === 0 || (rest.length === 1 && hookEventArg(rest[0]) !== undefined))

if (isHookRun || command === "hook-wait") {
  try {
    if (isHookRun) runHook({ event: hookEventArg(rest[0]), env: process.env, fd: 0, cli })
    else runHookWait(rest, process.env, cli)
  } catch {
    // tracing never breaks Codex
  }
  process.exit(0)
}
