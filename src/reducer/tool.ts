/**
 * Tool-call level: naming, parsed input, and how a tool's outcome is read from what Codex
 * recorded — `item_completed` (exit codes, MCP isError, precise timing) first, then the texts
 * Codex itself writes into the call output for calls that never ran (denials, unsupported
 * calls, unparsable arguments, interrupts).
 */
import type { ThreadItem, ToolOutput } from "../domain/Rollout"
import { capText } from "./history"
import type { ToolState } from "./state"

/** tool outputs larger than this are cut in spans (the rollout keeps the full text) */
export const TOOL_OUTPUT_CAP_CHARS = 256 * 1024

/** MCP tools are namespaced `mcp__<server>`; other namespaces (multi_agent_v1) are grouping only */
export const toolName = (name: string, namespace: string | null | undefined): string =>
  namespace && namespace.startsWith("mcp__") ? `${namespace}__${name}` : name

export const parseArguments = (raw: unknown): { readonly input: unknown; readonly error: string | undefined } => {
  if (typeof raw !== "string") return { input: raw ?? null, error: undefined }
  if (raw.trim() === "") return { input: {}, error: undefined }
  try {
    return { input: JSON.parse(raw), error: undefined }
  } catch {
    return { input: raw, error: "arguments are not valid JSON" }
  }
}

export const outputText = (output: ToolOutput | undefined): string | undefined => {
  if (output === undefined) return undefined
  if (typeof output === "string") return output
  if (Array.isArray(output)) return output.map((p) => p.text ?? (p.image_url ? "[image]" : "")).join("")
  const content = "content" in output ? output.content : undefined
  return typeof content === "string" ? content : content === undefined ? undefined : JSON.stringify(content)
}

const spanOutput = (output: ToolOutput | undefined): unknown => {
  if (output === undefined) return undefined
  if (typeof output === "string") return capText(output, TOOL_OUTPUT_CAP_CHARS)
  return output
}

const EXIT_CODE_LINE = /^(?:Process exited with code|Exit code:) (-?\d+)$/m

/** Codex's own texts for calls that did not run (read from Codex 0.169 captures). */
const outcomeFromText = (text: string): { error: string; approval?: string } | undefined => {
  if (text.startsWith("Command blocked by PreToolUse hook:")) return { error: text.split("\n", 1)[0]!, approval: "denied" }
  if (text.startsWith("unsupported call:")) return { error: text }
  if (text.startsWith("failed to parse function arguments")) return { error: text }
  if (/aborted by user/i.test(text.slice(0, 400))) return { error: "interrupted: aborted by user" }
  if (/^(?:rejected by user|exec command rejected)/i.test(text)) return { error: text.split("\n", 1)[0]!, approval: "denied" }
  return undefined
}

export const applyOutput = (tool: ToolState, output: ToolOutput | undefined, timeMs: number): void => {
  tool.output = spanOutput(output)
  tool.hasOutput = true
  if (!("completed_at_ms" in tool.metadata)) tool.endMs = Math.max(tool.endMs, timeMs)
  const text = outputText(output)
  if (output !== undefined && typeof output === "object" && !Array.isArray(output) && "success" in output && output.success === false) {
    tool.error ??= "tool reported failure"
  }
  if (text === undefined) return
  const known = outcomeFromText(text)
  if (known) {
    tool.error ??= known.error
    if (known.approval) tool.metadata["approval"] = known.approval
    return
  }
  if (!("exit_code" in tool.metadata)) {
    const m = EXIT_CODE_LINE.exec(text.slice(0, 2000))
    const code = m ? Number(m[1]) : jsonExitCode(text)
    if (code !== undefined) {
      tool.metadata["exit_code"] = code
      if (code !== 0) tool.error ??= `exited with code ${code}`
    }
  }
}

/** older shells answered `{"output": ..., "metadata": {"exit_code": N, ...}}` as the output text */
const jsonExitCode = (text: string): number | undefined => {
  if (!text.startsWith("{") || !text.includes('"exit_code"')) return undefined
  try {
    const parsed: unknown = JSON.parse(text)
    if (typeof parsed !== "object" || parsed === null) return undefined
    const meta = (parsed as { metadata?: unknown }).metadata
    const code = typeof meta === "object" && meta !== null ? (meta as { exit_code?: unknown }).exit_code : undefined
    return typeof code === "number" ? code : undefined
  } catch {
    return undefined
  }
}

const durationMs = (d: ThreadItem["duration"]): number | undefined =>
  d ? Math.round((d.secs ?? 0) * 1000 + (d.nanos ?? 0) / 1e6) : undefined

/** `item_completed` for a tool item: precise timing and the real outcome. */
export const applyCompletedItem = (tool: ToolState, item: ThreadItem, startedMs: number | undefined, completedMs: number | undefined): void => {
  // Codex's own execution times are more exact than the call/output line timestamps
  if (startedMs !== undefined) {
    tool.startMs = startedMs
    tool.metadata["started_at_ms"] = startedMs
  }
  if (completedMs !== undefined) {
    tool.endMs = completedMs
    tool.metadata["completed_at_ms"] = completedMs
  }
  const ms = durationMs(item.duration) ?? (startedMs !== undefined && completedMs !== undefined ? completedMs - startedMs : undefined)
  if (ms !== undefined) tool.metadata["duration_ms"] = ms
  if (item.status) tool.metadata["status"] = item.status
  switch (item.type) {
    case "CommandExecution": {
      if (typeof item.exit_code === "number") {
        tool.metadata["exit_code"] = item.exit_code
        if (item.exit_code === -1) tool.error = "interrupted (exit code -1)"
        else if (item.exit_code !== 0) tool.error = `exited with code ${item.exit_code}`
      }
      if (Array.isArray(item.command)) tool.metadata["command"] = item.command
      if (item.cwd) tool.metadata["cwd"] = item.cwd
      break
    }
    case "McpToolCall": {
      if (item.server) tool.metadata["mcp_server"] = item.server
      if (item.result?.isError === true) tool.error ??= "MCP tool returned isError"
      if (item.status === "failed") tool.error ??= "MCP tool call failed"
      break
    }
    case "FileChange": {
      if (item.changes !== undefined) tool.metadata["changes"] = item.changes
      if (item.status === "failed") tool.error ??= item.stderr ? `patch failed: ${item.stderr.slice(0, 500)}` : "patch failed"
      break
    }
    case "CollabAgentToolCall": {
      if (item.receiver_thread_ids) tool.metadata["receiver_thread_ids"] = item.receiver_thread_ids
      if (item.status === "failed") tool.error ??= "agent tool call failed"
      break
    }
    default:
      if (item.status === "failed") tool.error ??= `${item.type} failed`
  }
}
