/**
 * From reducer state to span rows (SPEC §6): names, types, parents, times, and the metadata
 * keys Braintrust's own Codex plugin uses. Every builder returns a complete row.
 */
import { skillsRequestedIn } from "./skills"
import type { TokenUsage } from "../domain/Rollout"
import type { SpanRow } from "../domain/SpanRow"
import type { CompactionState, ReducerOptions, RootState, ScopeState, SubagentInfo, ToolState, TurnState } from "./state"

const seconds = (ms: number): number => ms / 1000

const metrics = (startMs: number, endMs: number, extra?: Record<string, number>): SpanRow["metrics"] =>
  extra === undefined
    ? { start: seconds(startMs), end: seconds(Math.max(startMs, endMs)) }
    : { ...extra, start: seconds(startMs), end: seconds(Math.max(startMs, endMs)) }

const defined = (o: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const k in o) if (o[k] !== undefined) out[k] = o[k]
  return out
}

export const traceRootId = (root: RootState, options: ReducerOptions): string => options.parent?.rootSpanId ?? root.spanId

/** Braintrust's token metric names, from Codex's usage fields */
export const tokenMetrics = (u: TokenUsage | undefined): Record<string, number> => {
  const out: Record<string, number> = {}
  if (!u) return out
  if (u.input_tokens !== undefined) out["prompt_tokens"] = u.input_tokens
  if (u.output_tokens !== undefined) out["completion_tokens"] = u.output_tokens
  out["tokens"] = u.total_tokens ?? (u.input_tokens ?? 0) + (u.output_tokens ?? 0)
  if (u.cached_input_tokens !== undefined) out["prompt_cached_tokens"] = u.cached_input_tokens
  if (u.cache_write_input_tokens !== undefined) out["prompt_cache_creation_tokens"] = u.cache_write_input_tokens
  if (u.reasoning_output_tokens !== undefined) out["completion_reasoning_tokens"] = u.reasoning_output_tokens
  return out
}

export const rootRow = (root: RootState, options: ReducerOptions): SpanRow => ({
  id: root.spanId,
  span_id: root.spanId,
  root_span_id: traceRootId(root, options),
  span_parents: options.parent ? [options.parent.spanId] : [],
  span_attributes: { name: root.name, type: "task" },
  metrics: metrics(root.startMs, root.endMs),
  ...(root.input !== undefined ? { input: root.input } : {}),
  ...(root.output !== undefined ? { output: root.output } : {}),
  metadata: { ...options.additionalMetadata, ...defined(root.metadata) }
})

/** a row's fields before its metadata: the optional ones are added in SpanRow's key order */
interface RowHead {
  readonly id: string
  readonly span_id: string
  readonly root_span_id: string
  readonly span_parents: ReadonlyArray<string>
  readonly span_attributes: SpanRow["span_attributes"]
  readonly metrics: SpanRow["metrics"]
  input?: unknown
  output?: unknown
  error?: string
}

// Turn and tool rows are written field by field rather than from spreads of temporary objects:
// an import builds one or two per span (~80k spans for a 200 MB rollout). Metadata goes last,
// so the keys keep the order the local store and the snapshots serialise.
const withMetadata = (head: RowHead, metadata: Record<string, unknown>): SpanRow => Object.assign(head, { metadata })

export const turnRow = (traceId: string, scope: ScopeState, turn: TurnState): SpanRow => {
  const head: RowHead = {
    id: turn.spanId,
    span_id: turn.spanId,
    root_span_id: traceId,
    span_parents: [turn.parentSpanId],
    span_attributes: { name: `turn: ${turn.index}`, type: "task" },
    metrics: metrics(turn.startMs, turn.endMs)
  }
  if (turn.input !== undefined) head.input = turn.input
  if (turn.output !== undefined) head.output = turn.output
  if (turn.error !== undefined) head.error = turn.error
  const metadata: Record<string, unknown> = { turn_id: turn.turnId, turn_index: turn.index, thread_id: scope.threadId }
  if (turn.model !== undefined) metadata["model"] = turn.model
  if (turn.effort !== undefined) metadata["reasoning_effort"] = turn.effort
  if (turn.trigger !== undefined) metadata["turn_trigger"] = turn.trigger
  if (turn.compactions > 0) metadata["compactions"] = turn.compactions
  if (turn.skills.length > 0) metadata["skills_loaded"] = [...turn.skills]
  const requested = skillsRequestedIn(turn.input)
  if (requested.length > 0) metadata["skills_requested"] = requested
  return withMetadata(head, metadata)
}

export const toolRow = (traceId: string, tool: ToolState): SpanRow => {
  const head: RowHead = {
    id: tool.spanId,
    span_id: tool.spanId,
    root_span_id: traceId,
    span_parents: [tool.turnSpanId],
    span_attributes: { name: tool.name, type: "tool" },
    metrics: metrics(tool.startMs, tool.endMs),
    input: tool.input
  }
  if (tool.hasOutput) head.output = tool.output
  if (tool.error !== undefined) head.error = tool.error
  const metadata: Record<string, unknown> = {}
  for (const k in tool.metadata) if (tool.metadata[k] !== undefined) metadata[k] = tool.metadata[k]
  metadata["tool_name"] = tool.name
  metadata["call_id"] = tool.callId
  metadata["turn_id"] = tool.turnId
  metadata["tool_kind"] = tool.kind
  return withMetadata(head, metadata)
}

export const subagentRow = (traceId: string, rootSpanId: string, scope: ScopeState, sub: SubagentInfo): SpanRow => ({
  id: sub.spanId,
  span_id: sub.spanId,
  root_span_id: traceId,
  span_parents: [sub.parentSpanId ?? rootSpanId],
  span_attributes: { name: `subagent: ${sub.nickname ?? sub.agentType ?? scope.threadId}`, type: "task" },
  metrics: metrics(sub.startMs, sub.endMs),
  metadata: defined({
    agent_id: scope.threadId,
    agent_type: sub.agentType,
    agent_nickname: sub.nickname,
    parent_thread_id: sub.parentThreadId,
    depth: sub.depth,
    transcript_path: sub.transcriptPath,
    model: scope.model
  })
})

export const compactionRow = (traceId: string, model: string | undefined, c: CompactionState): SpanRow => ({
  id: c.spanId,
  span_id: c.spanId,
  root_span_id: traceId,
  span_parents: [c.turnSpanId],
  span_attributes: { name: "compaction", type: "llm" },
  metrics: metrics(c.startMs, c.endMs, c.usage),
  ...(c.input !== undefined ? { input: c.input } : {}),
  ...(c.summary !== undefined ? { output: c.summary } : {}),
  metadata: defined({ ...c.metadata, response_id: c.responseId, turn_id: c.turnId, model })
})
