/**
 * Schemas for Codex rollout lines (the session transcript, one JSON object per line), for
 * Codex 0.169 and the older forms still found on disk: bare objects without an envelope,
 * lines without `ordinal`, legacy `event_msg` types. Only the fields trace-codex reads are
 * declared; every field is optional unless Codex has always written it, and unknown line,
 * item and event types decode to an `Unknown*` variant instead of failing.
 *
 * `decodeRolloutLine` is the single entry point: text in, a `RolloutLine` or a `Malformed`
 * verdict out. It never throws.
 */
import * as Schema from "effect/Schema"

const OptString = Schema.optional(Schema.String)
const OptNullableString = Schema.optional(Schema.NullOr(Schema.String))
const OptNumber = Schema.optional(Schema.Number)

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
  source: Schema.optional(Schema.Unknown),
  thread_source: OptString,
  parent_thread_id: OptNullableString,
  agent_nickname: OptNullableString,
  agent_role: OptNullableString,
  model_provider: OptNullableString,
  /** 0.169: { text }; older: a string under `instructions` */
  base_instructions: Schema.optional(Schema.Unknown),
  instructions: Schema.optional(Schema.NullOr(Schema.String)),
  history_mode: OptString,
  context_window: Schema.optional(Schema.Struct({ window_id: OptString })),
  forked_from_id: OptNullableString,
  forked_from_ordinal_exclusive: OptNumber,
  git: Schema.optional(
    Schema.NullOr(
      Schema.Struct({
        commit_hash: OptNullableString,
        branch: OptNullableString,
        repository_url: OptNullableString
      })
    )
  )
})
export type SessionMeta = typeof SessionMeta.Type

// ---------------------------------------------------------------------------------------------
// turn_context

export const TurnContext = Schema.Struct({
  turn_id: OptString,
  cwd: OptString,
  approval_policy: Schema.optional(Schema.Unknown),
  sandbox_policy: Schema.optional(Schema.Unknown),
  model: OptString,
  effort: OptNullableString,
  summary: Schema.optional(Schema.Unknown)
})
export type TurnContext = typeof TurnContext.Type

// ---------------------------------------------------------------------------------------------
// response_item

const ToolOutput = Schema.Union(
  Schema.String,
  Schema.Array(ContentPart),
  /** older rollouts: { content, success } */
  Schema.Struct({ content: Schema.optional(Schema.Unknown), success: Schema.optional(Schema.NullOr(Schema.Boolean)) })
)
export type ToolOutput = typeof ToolOutput.Type

export const MessageItem = typed("message", {
  id: OptString,
  role: Schema.String,
  content: Schema.optional(Schema.Array(ContentPart))
})
export const FunctionCallItem = typed("function_call", {
  id: OptString,
  name: Schema.String,
  namespace: OptNullableString,
  arguments: Schema.optional(Schema.Unknown),
  call_id: Schema.String
})
export const FunctionCallOutputItem = typed("function_call_output", {
  call_id: Schema.String,
  output: Schema.optional(ToolOutput)
})
export const CustomToolCallItem = typed("custom_tool_call", {
  id: OptString,
  name: Schema.String,
  input: Schema.optional(Schema.Unknown),
  call_id: Schema.String
})
export const CustomToolCallOutputItem = typed("custom_tool_call_output", {
  call_id: Schema.String,
  output: Schema.optional(ToolOutput)
})
export const ReasoningItem = typed("reasoning", {
  id: OptString,
  summary: Schema.optional(Schema.Array(ContentPart)),
  content: Schema.optional(Schema.NullOr(Schema.Array(ContentPart)))
})
export const ToolSearchCallItem = typed("tool_search_call", {
  id: OptString,
  call_id: OptNullableString,
  arguments: Schema.optional(Schema.Unknown),
  status: OptString
})
export const ToolSearchOutputItem = typed("tool_search_output", {
  call_id: OptNullableString,
  tools: Schema.optional(Schema.Unknown),
  status: OptString
})
export const LocalShellCallItem = typed("local_shell_call", {
  id: OptString,
  call_id: OptNullableString,
  action: Schema.optional(Schema.Unknown),
  status: OptString
})
export const WebSearchCallItem = typed("web_search_call", {
  id: OptString,
  action: Schema.optional(Schema.Unknown),
  status: OptString
})
/** encrypted server-side compaction items of older rollouts */
export const CompactionItem = Schema.Struct({
  type: Schema.Literal("compaction", "context_compaction", "compaction_summary"),
  encrypted_content: OptString
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
  compaction_output: Schema.optional(Schema.Boolean),
  client_authored: Schema.optional(Schema.Boolean)
})

// ---------------------------------------------------------------------------------------------
// item_completed items (PascalCase `type`)

const Duration = Schema.Struct({ secs: OptNumber, nanos: OptNumber })

export const ThreadItem = Schema.Struct({
  type: Schema.String,
  id: OptString,
  content: Schema.optional(Schema.Array(ContentPart)),
  summary_text: Schema.optional(Schema.Array(Schema.String)),
  raw_content: Schema.optional(Schema.Array(Schema.String)),
  command: Schema.optional(Schema.Unknown),
  cwd: OptString,
  status: OptString,
  exit_code: Schema.optional(Schema.NullOr(Schema.Number)),
  aggregated_output: OptNullableString,
  duration: Schema.optional(Schema.NullOr(Duration)),
  changes: Schema.optional(Schema.Unknown),
  stdout: OptNullableString,
  stderr: OptNullableString,
  server: OptString,
  tool: OptString,
  arguments: Schema.optional(Schema.Unknown),
  result: Schema.optional(
    Schema.NullOr(Schema.Struct({ content: Schema.optional(Schema.Unknown), isError: Schema.optional(Schema.NullOr(Schema.Boolean)) }))
  ),
  error: Schema.optional(Schema.Unknown),
  sender_thread_id: OptString,
  receiver_thread_ids: Schema.optional(Schema.Array(Schema.String)),
  receiver_agents: Schema.optional(
    Schema.Array(Schema.Struct({ thread_id: OptString, agent_nickname: OptNullableString }))
  ),
  prompt: OptNullableString,
  model: OptNullableString
})
export type ThreadItem = typeof ThreadItem.Type

// ---------------------------------------------------------------------------------------------
// event_msg

export const TaskStarted = typed("task_started", {
  turn_id: OptString,
  root_turn_id: OptNullableString,
  started_at: OptNumber,
  model_context_window: Schema.optional(Schema.NullOr(Schema.Number)),
  turn_attribution: Schema.optional(
    Schema.NullOr(
      Schema.Struct({
        turn_id: OptNullableString,
        turn_trigger: OptNullableString,
        parent_turn_id: OptNullableString,
        root_turn_id: OptNullableString
      })
    )
  )
})
export const TaskComplete = typed("task_complete", {
  turn_id: OptString,
  last_agent_message: OptNullableString,
  started_at: OptNumber,
  completed_at: OptNumber,
  duration_ms: OptNumber,
  time_to_first_token_ms: Schema.optional(Schema.NullOr(Schema.Number))
})
export const TurnAborted = typed("turn_aborted", {
  turn_id: OptNullableString,
  reason: Schema.optional(Schema.Unknown)
})
export const TokenCount = typed("token_count", {
  info: Schema.optional(
    Schema.NullOr(
      Schema.Struct({
        total_token_usage: Schema.optional(TokenUsage),
        last_token_usage: Schema.optional(TokenUsage),
        model_context_window: Schema.optional(Schema.NullOr(Schema.Number))
      })
    )
  )
})
export const ItemCompleted = typed("item_completed", {
  thread_id: OptString,
  turn_id: OptString,
  item: ThreadItem,
  started_at_ms: OptNumber,
  completed_at_ms: OptNumber
})
export const ThreadSettingsApplied = typed("thread_settings_applied", {
  thread_settings: Schema.optional(Schema.Struct({ model: OptString }))
})
/** legacy (pre-paginated rollouts) */
export const UserMessageEvent = typed("user_message", {
  message: OptString,
  kind: OptString
})
export const AgentMessageEvent = typed("agent_message", { message: OptString })
export const AgentReasoningEvent = typed("agent_reasoning", { text: OptString })
export const ExecCommandEnd = typed("exec_command_end", {
  call_id: Schema.String,
  exit_code: Schema.optional(Schema.NullOr(Schema.Number)),
  aggregated_output: OptNullableString,
  stdout: OptNullableString,
  stderr: OptNullableString
})
export const PatchApplyEnd = typed("patch_apply_end", {
  call_id: Schema.String,
  success: Schema.optional(Schema.NullOr(Schema.Boolean)),
  stdout: OptNullableString,
  stderr: OptNullableString
})
export const McpToolCallEnd = typed("mcp_tool_call_end", {
  call_id: Schema.String,
  result: Schema.optional(Schema.Unknown)
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
  thread_id: OptString,
  turn_id: OptString,
  response_id: OptString,
  usage: Schema.optional(TokenUsage)
})
export type TokenUsageRecord = typeof TokenUsageRecord.Type

export const Compacted = Schema.Struct({
  message: OptString,
  replacement_history: Schema.optional(Schema.NullOr(Schema.Array(Schema.Unknown))),
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
// in place is enough and avoids building a second copy of every line (import speed).
const isSessionMeta = Schema.is(SessionMeta)
const isTurnContext = Schema.is(TurnContext)
const isKnownItem = Schema.is(KnownResponseItem)
const isItemMetadata = Schema.is(ResponseItemMetadata)
const isKnownEvent = Schema.is(KnownEventMsg)
const isUsageRecord = Schema.is(TokenUsageRecord)
const isCompacted = Schema.is(Compacted)

const RESPONSE_ITEM_TYPES = new Set([
  "message",
  "function_call",
  "function_call_output",
  "custom_tool_call",
  "custom_tool_call_output",
  "reasoning",
  "tool_search_call",
  "tool_search_output",
  "local_shell_call",
  "web_search_call",
  "compaction",
  "context_compaction",
  "compaction_summary"
])

const EVENT_TYPES = new Set([
  "task_started",
  "task_complete",
  "turn_aborted",
  "token_count",
  "item_completed",
  "thread_settings_applied",
  "user_message",
  "agent_message",
  "agent_reasoning",
  "exec_command_end",
  "patch_apply_end",
  "mcp_tool_call_end",
  "context_compacted"
])

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const parseTime = (u: unknown): number | undefined => {
  if (typeof u !== "string") return undefined
  const t = Date.parse(u)
  return Number.isFinite(t) ? t : undefined
}

const malformed = (reason: string): Malformed => ({ kind: "malformed", reason })

const isMalformed = (u: object): u is Malformed => "kind" in u && u.kind === "malformed"

const responseItemOf = (payload: unknown): ResponseItem | Malformed => {
  const type = isRecord(payload) ? payload["type"] : undefined
  if (typeof type !== "string") return malformed("response_item without a type")
  if (!RESPONSE_ITEM_TYPES.has(type)) return { type: "unknown_item", originalType: type }
  return isKnownItem(payload) ? payload : malformed(`response_item ${type} does not match its schema`)
}

const eventOf = (payload: unknown): EventMsg | Malformed => {
  const type = isRecord(payload) ? payload["type"] : undefined
  if (typeof type !== "string") return malformed("event_msg without a type")
  if (!EVENT_TYPES.has(type)) return { type: "unknown_event", originalType: type }
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
      const compactionOutput = isItemMetadata(meta) && meta.compaction_output === true
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
  if (typeof type === "string" && RESPONSE_ITEM_TYPES.has(type)) {
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
