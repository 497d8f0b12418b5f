/**
 * What a raw rollout file says about its thread, read without any trace-codex code: the
 * independent side the traces are checked against (golden tests, end-to-end runs).
 */
import * as fs from "node:fs"

export interface ThreadFacts {
  readonly file: string
  readonly threadId: string
  readonly parentThreadId: string | undefined
  /** `turn_attribution.parent_turn_id` of the thread's first turn (subagents) */
  readonly parentTurnId: string | undefined
  readonly turnIds: ReadonlyArray<string>
  readonly responseIds: ReadonlySet<string>
  readonly toolCalls: number
  readonly compactions: number
  /** totals of the thread's last token_count */
  readonly finalInputTokens: number
  readonly finalOutputTokens: number
  /** the earlier of the first line's time and session_meta's own timestamp */
  readonly firstTimeMs: number
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)
const field = (value: unknown, key: string): unknown => (isObject(value) ? value[key] : undefined)
const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined)

const TOOL_CALLS = new Set(["function_call", "custom_tool_call", "tool_search_call"])

export const threadFacts = (file: string): ThreadFacts => {
  const lines = fs.readFileSync(file, "utf8").split("\n").filter((line) => line.trim() !== "").map((line): unknown => JSON.parse(line))
  const meta = field(lines.find((line) => field(line, "type") === "session_meta"), "payload")
  const turnIds: Array<string> = []
  const responseIds = new Set<string>()
  let toolCalls = 0
  let compactions = 0
  let finalInputTokens = 0
  let finalOutputTokens = 0
  let parentTurnId: string | undefined
  for (const line of lines) {
    const type = field(line, "type")
    const payload = field(line, "payload")
    const payloadType = field(payload, "type")
    if (type === "token_usage_record") responseIds.add(String(field(payload, "response_id")))
    if (type === "response_item" && TOOL_CALLS.has(String(payloadType))) toolCalls++
    if (type === "compacted") compactions++
    if (type === "event_msg" && payloadType === "token_count") {
      const total = field(field(payload, "info"), "total_token_usage")
      finalInputTokens = Number(field(total, "input_tokens") ?? 0)
      finalOutputTokens = Number(field(total, "output_tokens") ?? 0)
    }
    if (type === "event_msg" && payloadType === "task_started") {
      const turnId = text(field(payload, "turn_id"))
      if (turnId !== undefined && !turnIds.includes(turnId)) turnIds.push(turnId)
      parentTurnId ??= text(field(field(payload, "turn_attribution"), "parent_turn_id"))
    }
  }
  const firstLine = Date.parse(String(field(lines[0], "timestamp")))
  const metaTime = Date.parse(String(field(meta, "timestamp")))
  return {
    file,
    threadId: String(field(meta, "id")),
    parentThreadId: text(field(meta, "parent_thread_id")),
    parentTurnId,
    turnIds,
    responseIds,
    toolCalls,
    compactions,
    finalInputTokens,
    finalOutputTokens,
    firstTimeMs: Math.min(firstLine, Number.isFinite(metaTime) ? metaTime : firstLine)
  }
}
