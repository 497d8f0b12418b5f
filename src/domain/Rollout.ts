/**
 * Schemas for Codex rollout lines (the session transcript, one JSON object per line), for
 * Codex 0.169 and the older forms still found on disk: bare objects without an envelope,
 * lines without `ordinal`, legacy `event_msg` types. Only the fields trace-codex reads are
 * declared (validation is most of the cost of an import after JSON.parse itself, and it grows
 * with every declared field, so a field nothing reads is left out); every field is optional
 * unless Codex has always written it, and unknown line, item and event types decode to an
 * `Unknown*` variant instead of failing.
 *
 * `decodeRolloutLine` is the single entry point: text in, a `RolloutLine` or a `Malformed`
 * verdict out. It never throws.
 */
import * as Schema from "effect/Schema"
import { fastIs } from "./fastGuard"

// `exact` optional fields: a JSON value is never `undefined`, and without `exact` every optional
// field is checked as a `T | undefined` union, which costs several times a plain check
const OptString = Schema.optionalWith(Schema.String, { exact: true })
const OptNullableString = Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true })
const OptNumber = Schema.optionalWith(Schema.Number, { exact: true })

/** a struct discriminated by Codex's own `type` field */
const typed = <const T extends string, Fields extends Schema.Struct.Fields>(type: T, fields: Fields) =>
  Schema.Struct({ type: Schema.Literal(type), ...fields })

// ---------------------------------------------------------------------------------------------
// Shared pieces

export const TokenUsage = Schema.Struct({
  input_tokens: OptNumber,
  cached_input_tokens: OptNumber,
  cache_write_input_tokens: OptNumber,
  output_tokens: OptNumber,
  reasoning_output_tokens: OptNumber,
  total_tokens: OptNumber
})
export type TokenUsage = typeof TokenUsage.Type

export const ContentPart = Schema.Struct({
  type: Schema.String,
  text: OptString,
  image_url: OptString
})
export type ContentPart = typeof ContentPart.Type

// ---------------------------------------------------------------------------------------------
// session_meta

export const SessionMeta = Schema.Struct({
  id: OptString,
  session_id: OptString,
  timestamp: OptString,
  cwd: OptString,
  originator: OptString,
  cli_version: OptString,
  /** "exec" | "cli" | { subagent: { thread_spawn: {...} } } | older shapes */
  source: Schema.optionalWith(Schema.Unknown, { exact: true }),
  thread_source: OptString,
  parent_thread_id: OptNullableString,
  agent_nickname: OptNullableString,
  agent_role: OptNullableString,
  model_provider: OptNullableString,
  /** 0.169: { text }; older: a string under `instructions` */
  base_instructions: Schema.optionalWith(Schema.Unknown, { exact: true }),
  instructions: Schema.optionalWith(Schema.NullOr(Schema.String), { exact: true }),
  history_mode: OptString,
  context_window: Schema.optionalWith(Schema.Struct({ window_id: OptString }), { exact: true }),
  forked_from_id: OptNullableString,
  forked_from_ordinal_exclusive: OptNumber,
  git: Schema.optionalWith(
    Schema.NullOr(
      Schema.Struct({
        commit_hash: OptNullableString,
        branch: OptNullableString,
        repository_url: OptNullableString
      })
    )
  , { exact: true })
})
export type SessionMeta = typeof SessionMeta.Type

// ---------------------------------------------------------------------------------------------
// turn_context

export const TurnContext = Schema.Struct({
  turn_id: OptString,
  model: OptString,
  effort: OptNullableString
})
export type TurnContext = typeof TurnContext.Type

// ---------------------------------------------------------------------------------------------
// response_item

const ToolOutput = Schema.Union(
  Schema.String,
  Schema.Array(ContentPart),
  /** older rollouts: { content, success } */
  Schema.Struct({ content: Schema.optionalWith(Schema.Unknown, { exact: true }), success: Schema.optionalWith(Schema.NullOr(Schema.Boolean), { exact: true }) })
)
export type ToolOutput = typeof ToolOutput.Type

export const MessageItem = typed("message", {
  id: OptString,
  role: Schema.String,
  content: Schema.optionalWith(Schema.Array(ContentPart), { exact: true })
})
export const FunctionCallItem = typed("function_call", {
  id: OptString,
  name: Schema.String,
  namespace: OptNullableString,
  arguments: Schema.optionalWith(Schema.Unknown, { exact: true }),
  call_id: Schema.String
})
export const FunctionCallOutputItem = typed("function_call_output", {
  call_id: Schema.String,
  output: Schema.optionalWith(ToolOutput, { exact: true })
})
export const CustomToolCallItem = typed("custom_tool_call", {
  id: OptString,
  name: Schema.String,
  input: Schema.optionalWith(Schema.Unknown, { exact: true }),
  call_id: Schema.String
})
export const CustomToolCallOutputItem = typed("custom_tool_call_output", {
  call_id: Schema.String,
  output: Schema.optionalWith(ToolOutput, { exact: true })
})
export const ReasoningItem = typed("reasoning", {
  id: OptString,
  summary: Schema.optionalWith(Schema.Array(ContentPart), { exact: true }),
  content: Schema.optionalWith(Schema.NullOr(Schema.Array(ContentPart)), { exact: true })
})
export const ToolSearchCallItem = typed("tool_search_call", {
  id: OptString,
  call_id: OptNullableString,
  arguments: Schema.optionalWith(Schema.Unknown, { exact: true })
})
export const ToolSearchOutputItem = typed("tool_search_output", {
  call_id: OptNullableString,
  tools: Schema.optionalWith(Schema.Unknown, { exact: true })
})
export const LocalShellCallItem = typed("local_shell_call", {
  id: OptString,
  call_id: OptNullableString,
  action: Schema.optionalWith(Schema.Unknown, { exact: true })
})
export const WebSearchCallItem = typed("web_search_call", {
  id: OptString,
  action: Schema.optionalWith(Schema.Unknown, { exact: true }),
  status: OptString
})
/** encrypted server-side compaction items of older rollouts */
export const CompactionItem = Schema.Struct({
  type: Schema.Literal("compaction", "context_compaction", "compaction_summary")
})

export const KnownResponseItem = Schema.Union(
  MessageItem,
  FunctionCallItem,
  FunctionCallOutputItem,
  CustomToolCallItem,
  CustomToolCallOutputItem,
  ReasoningItem,
  ToolSearchCallItem,
  ToolSearchOutputItem,
  LocalShellCallItem,
  WebSearchCallItem,
  CompactionItem
)
export type KnownResponseItem = typeof KnownResponseItem.Type
export interface UnknownResponseItem {
  readonly type: "unknown_item"
  readonly originalType: string
}
export type ResponseItem = KnownResponseItem | UnknownResponseItem

export const ResponseItemMetadata = Schema.Struct({
  compaction_output: Schema.optionalWith(Schema.Boolean, { exact: true })
})

// ---------------------------------------------------------------------------------------------
// item_completed items (PascalCase `type`)

const Duration = Schema.Struct({ secs: OptNumber, nanos: OptNumber })

export const ThreadItem = Schema.Struct({
  type: Schema.String,
  id: OptString,
  content: Schema.optionalWith(Schema.Array(ContentPart), { exact: true }),
  command: Schema.optionalWith(Schema.Unknown, { exact: true }),
  cwd: OptString,
  status: OptString,
  exit_code: Schema.optionalWith(Schema.NullOr(Schema.Number), { exact: true }),
  duration: Schema.optionalWith(Schema.NullOr(Duration), { exact: true }),
  changes: Schema.optionalWith(Schema.Unknown, { exact: true }),
  stderr: OptNullableString,
  server: OptString,
  tool: OptString,
  result: Schema.optionalWith(Schema.NullOr(Schema.Struct({ isError: Schema.optional(Schema.NullOr(Schema.Boolean)) })), { exact: true }),
  receiver_thread_ids: Schema.optionalWith(Schema.Array(Schema.String), { exact: true })
})
export type ThreadItem = typeof ThreadItem.Type

// ---------------------------------------------------------------------------------------------
// event_msg

export const TaskStarted = typed("task_started", {
  turn_id: OptString,
  turn_attribution: Schema.optionalWith(
    Schema.NullOr(
      Schema.Struct({
        turn_id: OptNullableString,
        turn_trigger: OptNullableString,
        parent_turn_id: OptNullableString
      })
    )
  , { exact: true })
})
export const TaskComplete = typed("task_complete", {
  turn_id: OptString,
  last_agent_message: OptNullableString
})
export const TurnAborted = typed("turn_aborted", {
  turn_id: OptNullableString,
  reason: Schema.optionalWith(Schema.Unknown, { exact: true })
})
export const TokenCount = typed("token_count", {
  info: Schema.optionalWith(
    Schema.NullOr(
      Schema.Struct({
        total_token_usage: Schema.optional(TokenUsage),
        last_token_usage: Schema.optional(TokenUsage)
      })
    )
  , { exact: true })
})
export const ItemCompleted = typed("item_completed", {
  turn_id: OptString,
  item: ThreadItem,
  started_at_ms: OptNumber,
  completed_at_ms: OptNumber
})
export const ThreadSettingsApplied = typed("thread_settings_applied", {
  thread_settings: Schema.optionalWith(Schema.Struct({ model: OptString }), { exact: true })
})
/** legacy (pre-paginated rollouts) */
export const UserMessageEvent = typed("user_message", { message: OptString })
export const AgentMessageEvent = typed("agent_message", { message: OptString })
export const AgentReasoningEvent = typed("agent_reasoning", { text: OptString })
export const ExecCommandEnd = typed("exec_command_end", {
  call_id: Schema.String,
  exit_code: Schema.optionalWith(Schema.NullOr(Schema.Number), { exact: true })
})
export const PatchApplyEnd = typed("patch_apply_end", {
  call_id: Schema.String,
  success: Schema.optionalWith(Schema.NullOr(Schema.Boolean), { exact: true })
})
export const McpToolCallEnd = typed("mcp_tool_call_end", {
  call_id: Schema.String,
  result: Schema.optionalWith(Schema.Unknown, { exact: true })
})
export const ContextCompactedEvent = typed("context_compacted", {})

export const KnownEventMsg = Schema.Union(
  TaskStarted,
  TaskComplete,
  TurnAborted,
  TokenCount,
  ItemCompleted,
  ThreadSettingsApplied,
  UserMessageEvent,
  AgentMessageEvent,
  AgentReasoningEvent,
  ExecCommandEnd,
  PatchApplyEnd,
  McpToolCallEnd,
  ContextCompactedEvent
)
export type KnownEventMsg = typeof KnownEventMsg.Type
export interface UnknownEventMsg {
  readonly type: "unknown_event"
  readonly originalType: string
}
export type EventMsg = KnownEventMsg | UnknownEventMsg

// ---------------------------------------------------------------------------------------------
// token_usage_record, compacted

export const TokenUsageRecord = Schema.Struct({
  response_id: OptString,
  usage: Schema.optionalWith(TokenUsage, { exact: true })
})
export type TokenUsageRecord = typeof TokenUsageRecord.Type

export const Compacted = Schema.Struct({
  message: OptString,
  replacement_history: Schema.optionalWith(Schema.NullOr(Schema.Array(Schema.Unknown)), { exact: true }),
  window_number: OptNumber,
  window_id: OptNullableString,
  previous_window_id: OptNullableString,
  compaction_response_id: OptNullableString
})
export type Compacted = typeof Compacted.Type

// ---------------------------------------------------------------------------------------------
// The decoded line

interface Envelope {
  /** epoch milliseconds of the line's `timestamp`, when it has a valid one */
  readonly timeMs: number | undefined
  readonly ordinal: number | undefined
}

export type RolloutLine = Envelope &
  (
    | { readonly kind: "session_meta"; readonly meta: SessionMeta }
    | { readonly kind: "turn_context"; readonly context: TurnContext }
    | { readonly kind: "response_item"; readonly item: ResponseItem; readonly compactionOutput: boolean }
    | { readonly kind: "event_msg"; readonly event: EventMsg }
    | { readonly kind: "token_usage_record"; readonly record: TokenUsageRecord }
    | { readonly kind: "compacted"; readonly compacted: Compacted }
    | { readonly kind: "world_state" }
    | { readonly kind: "unknown"; readonly type: string }
  )

export interface Malformed {
  readonly kind: "malformed"
  readonly reason: string
}

// Type guards, not decoders: the schemas have no transformations, so checking the parsed JSON
// in place is enough and avoids building a second copy of every line (import speed). fastIs
// gives Schema.is's verdict without its per-property allocations (fastGuard.ts).
const isSessionMeta = fastIs(SessionMeta)
const isTurnContext = fastIs(TurnContext)
const isItemMetadata = fastIs(ResponseItemMetadata)
const isUsageRecord = fastIs(TokenUsageRecord)
const isCompacted = fastIs(Compacted)

// Items and events are checked against the member their `type` names rather than the whole
// union: the same verdict (every member is discriminated by a literal `type`), without the
// union's candidate search on each of the ~300k lines of a large rollout.
type Guard<A> = (u: unknown) => u is A

const isCompactionItem = fastIs(CompactionItem)
const RESPONSE_ITEM_GUARDS = new Map<string, Guard<KnownResponseItem>>([
  ["message", fastIs(MessageItem)],
  ["function_call", fastIs(FunctionCallItem)],
  ["function_call_output", fastIs(FunctionCallOutputItem)],
  ["custom_tool_call", fastIs(CustomToolCallItem)],
  ["custom_tool_call_output", fastIs(CustomToolCallOutputItem)],
  ["reasoning", fastIs(ReasoningItem)],
  ["tool_search_call", fastIs(ToolSearchCallItem)],
  ["tool_search_output", fastIs(ToolSearchOutputItem)],
  ["local_shell_call", fastIs(LocalShellCallItem)],
  ["web_search_call", fastIs(WebSearchCallItem)],
  ["compaction", isCompactionItem],
  ["context_compaction", isCompactionItem],
  ["compaction_summary", isCompactionItem]
])

const EVENT_GUARDS = new Map<string, Guard<KnownEventMsg>>([
  ["task_started", fastIs(TaskStarted)],
  ["task_complete", fastIs(TaskComplete)],
  ["turn_aborted", fastIs(TurnAborted)],
  ["token_count", fastIs(TokenCount)],
  ["item_completed", fastIs(ItemCompleted)],
  ["thread_settings_applied", fastIs(ThreadSettingsApplied)],
  ["user_message", fastIs(UserMessageEvent)],
  ["agent_message", fastIs(AgentMessageEvent)],
  ["agent_reasoning", fastIs(AgentReasoningEvent)],
  ["exec_command_end", fastIs(ExecCommandEnd)],
  ["patch_apply_end", fastIs(PatchApplyEnd)],
  ["mcp_tool_call_end", fastIs(McpToolCallEnd)],
  ["context_compacted", fastIs(ContextCompactedEvent)]
])

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** the decimal number in `text[at, at + count)`, or -1 when it is not all digits */
const digitsAt = (text: string, at: number, count: number): number => {
  let value = 0
  for (let i = at; i < at + count; i++) {
    const digit = text.charCodeAt(i) - 48
    if (digit < 0 || digit > 9) return -1
    value = value * 10 + digit
  }
  return value
}

/**
 * Codex's own timestamp form, `2026-11-22T03:09:08.266Z`, read field by field: Date.parse is a
 * tenth of the decoding time of a line. Only values whose meaning is beyond doubt take this
 * path (a day past 28, a leap second or a year before 1000 go to Date.parse), so the result is
 * always Date.parse's.
 */
const codexTimestampMs = (text: string): number | undefined => {
  if (text.length !== 24 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 84) return undefined
  if (text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58 || text.charCodeAt(19) !== 46 || text.charCodeAt(23) !== 90) return undefined
  const year = digitsAt(text, 0, 4)
  const month = digitsAt(text, 5, 2)
  const day = digitsAt(text, 8, 2)
  const hour = digitsAt(text, 11, 2)
  const minute = digitsAt(text, 14, 2)
  const second = digitsAt(text, 17, 2)
  const millis = digitsAt(text, 20, 3)
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > 28) return undefined
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || millis < 0) return undefined
  return Date.UTC(year, month - 1, day, hour, minute, second, millis)
}

const parseTime = (u: unknown): number | undefined => {
  if (typeof u !== "string") return undefined
  const t = codexTimestampMs(u) ?? Date.parse(u)
  return Number.isFinite(t) ? t : undefined
}

const malformed = (reason: string): Malformed => ({ kind: "malformed", reason })

const isMalformed = (u: object): u is Malformed => "kind" in u && u.kind === "malformed"

const responseItemOf = (payload: unknown): ResponseItem | Malformed => {
  const type = isRecord(payload) ? payload["type"] : undefined
  if (typeof type !== "string") return malformed("response_item without a type")
  const isKnownItem = RESPONSE_ITEM_GUARDS.get(type)
  if (isKnownItem === undefined) return { type: "unknown_item", originalType: type }
  return isKnownItem(payload) ? payload : malformed(`response_item ${type} does not match its schema`)
}

const eventOf = (payload: unknown): EventMsg | Malformed => {
  const type = isRecord(payload) ? payload["type"] : undefined
  if (typeof type !== "string") return malformed("event_msg without a type")
  const isKnownEvent = EVENT_GUARDS.get(type)
  if (isKnownEvent === undefined) return { type: "unknown_event", originalType: type }
  return isKnownEvent(payload) ? payload : malformed(`event_msg ${type} does not match its schema`)
}

/** Decode one parsed JSON value (a whole rollout line). */
export const decodeRolloutValue = (value: unknown): RolloutLine | Malformed => {
  if (!isRecord(value)) return malformed("line is not a JSON object")
  const type = value["type"]
  const hasEnvelope = "payload" in value && typeof type === "string"
  if (!hasEnvelope) return decodeBareLine(value)
  const timeMs = parseTime(value["timestamp"])
  const ordinal = typeof value["ordinal"] === "number" ? value["ordinal"] : undefined
  const payload = value["payload"]
  switch (type) {
    case "session_meta":
      return isSessionMeta(payload) ? { kind: "session_meta", timeMs, ordinal, meta: payload } : malformed("session_meta does not match its schema")
    case "turn_context":
      return isTurnContext(payload) ? { kind: "turn_context", timeMs, ordinal, context: payload } : malformed("turn_context does not match its schema")
    case "response_item": {
      const item = responseItemOf(payload)
      if (isMalformed(item)) return item
      const meta = value["metadata"]
      const compactionOutput = meta !== undefined && isItemMetadata(meta) && meta.compaction_output === true
      return { kind: "response_item", timeMs, ordinal, item, compactionOutput }
    }
    case "event_msg": {
      const event = eventOf(payload)
      return isMalformed(event) ? event : { kind: "event_msg", timeMs, ordinal, event }
    }
    case "token_usage_record":
      return isUsageRecord(payload) ? { kind: "token_usage_record", timeMs, ordinal, record: payload } : malformed("token_usage_record does not match its schema")
    case "compacted":
      return isCompacted(payload) ? { kind: "compacted", timeMs, ordinal, compacted: payload } : malformed("compacted does not match its schema")
    case "world_state":
      return { kind: "world_state", timeMs, ordinal }
    default:
      return { kind: "unknown", timeMs, ordinal, type: String(type) }
  }
}

/**
 * Rollouts written before the envelope (pre Sep 2025): the first line is the session meta
 * object itself, later lines are bare response items, and `{"record_type": "state"}` markers.
 */
const decodeBareLine = (value: Record<string, unknown>): RolloutLine | Malformed => {
  const timeMs = parseTime(value["timestamp"])
  const type = value["type"]
  if (typeof type === "string" && RESPONSE_ITEM_GUARDS.has(type)) {
    const item = responseItemOf(value)
    return isMalformed(item) ? item : { kind: "response_item", timeMs, ordinal: undefined, item, compactionOutput: false }
  }
  if (type === undefined && typeof value["id"] === "string" && typeof value["timestamp"] === "string") {
    if (isSessionMeta(value)) return { kind: "session_meta", timeMs, ordinal: undefined, meta: value }
  }
  if (typeof value["record_type"] === "string") return { kind: "unknown", timeMs, ordinal: undefined, type: `record_type:${value["record_type"]}` }
  return malformed("line has neither an envelope nor a known bare shape")
}

/** Decode one line of text. Never throws. */
export const decodeRolloutLine = (text: string): RolloutLine | Malformed => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return malformed("not valid JSON (truncated or corrupt line)")
  }
  return decodeRolloutValue(value)
}
