/**
 * From reducer state to span rows (SPEC §6): names, types, parents, times, and the metadata
 * keys Braintrust's own Codex plugin uses. Every builder returns a complete row.
 */
import type { TokenUsage } from "../domain/Rollout"
import type { SpanRow } from "../domain/SpanRow"
import type { CompactionState, ReducerOptions, RootState, ScopeState, SubagentInfo, ToolState, TurnState } from "./state"

const seconds = (ms: number): number => ms / 1000

const metrics = (startMs: number, endMs: number, extra?: Record<string, number>): SpanRow["metrics"] => ({
  ...extra,
  start: seconds(startMs),
  end: seconds(Math.max(startMs, endMs))
})

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
  const put = (key: string, value: number | undefined) => {
    if (value !== undefined) out[key] = value
  }
  put("prompt_tokens", u.input_tokens)
  put("completion_tokens", u.output_tokens)
  put("tokens", u.total_tokens ?? (u.input_tokens ?? 0) + (u.output_tokens ?? 0))
  put("prompt_cached_tokens", u.cached_input_tokens)
  put("prompt_cache_creation_tokens", u.cache_write_input_tokens)
  put("completion_reasoning_tokens", u.reasoning_output_tokens)
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

export const turnRow = (traceId: string, scope: ScopeState, turn: TurnState): SpanRow => ({
  id: turn.spanId,
  span_id: turn.spanId,
  root_span_id: traceId,
  span_parents: [turn.parentSpanId],
  span_attributes: { name: `turn: ${turn.index}`, type: "task" },
  metrics: metrics(turn.startMs, turn.endMs),
  ...(turn.input !== undefined ? { input: turn.input } : {}),
  ...(turn.output !== undefined ? { output: turn.output } : {}),
  ...(turn.error !== undefined ? { error: turn.error } : {}),
  metadata: defined({
    turn_id: turn.turnId,
    turn_index: turn.index,
    thread_id: scope.threadId,
    model: turn.model,
    reasoning_effort: turn.effort,
    turn_trigger: turn.trigger,
    compactions: turn.compactions > 0 ? turn.compactions : undefined
  })
})

export const toolRow = (traceId: string, tool: ToolState): SpanRow => ({
  id: tool.spanId,
  span_id: tool.spanId,
  root_span_id: traceId,
  span_parents: [tool.turnSpanId],
  span_attributes: { name: tool.name, type: "tool" },
  metrics: metrics(tool.startMs, tool.endMs),
  input: tool.input,
  ...(tool.hasOutput ? { output: tool.output } : {}),
  ...(tool.error !== undefined ? { error: tool.error } : {}),
  metadata: defined({ ...tool.metadata, tool_name: tool.name, call_id: tool.callId, turn_id: tool.turnId, tool_kind: tool.kind })
})

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
