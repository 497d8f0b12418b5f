/**
 * The hook's process-level entry: resolve the state dir from the environment, read stdin
 * (bounded in size and time), journal the payload, exit 0. No Effect runtime, no CLI framework:
 * this runs on every Codex event.
 */
import { homedir } from "node:os"
import { join } from "node:path"
import { readStdin } from "../HookReader"
import * as Effect from "effect/Effect"
import { recordHookPayload } from "./hook"

const stateDirFromEnv = (): string =>
  process.env["TRACE_CODEX_STATE_DIR"] || process.env["PLUGIN_DATA"] || join(process.env["CODEX_HOME"] || join(homedir(), ".codex"), "trace-codex")

export const hookEntry = async (): Promise<void> => {
  const receivedAtMs = Date.now()
  try {
    const input = await Effect.runPromise(readStdin())
    recordHookPayload(stateDirFromEnv(), input.bytes, receivedAtMs)
  } catch {
    // tracing never breaks Codex
  }
  process.exitCode = 0
}
