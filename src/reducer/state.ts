/**
 * The reducer's state: plain, JSON-serialisable data (so it can be checkpointed), one value per
 * session. Levels mirror the span tree: session → thread scope (main or subagent) → turn →
 * LLM call / tool call / compaction. All times are epoch milliseconds; rows convert to seconds.
 */
import type { SpanRow } from "../domain/SpanRow"
import type { ChatMessage, HistoryState } from "./history"

export interface ReducerOptions {
  /**
   * emit provisional rows for spans still open (a turn or tool that has started): live capture
   * wants them, so a running session is visible; import only needs each span's final row
   */
  readonly emitOpenSpans: boolean
  /** bytes of older conversation shown in each LLM span besides what is new since the previous call */
  readonly llmContextBudgetBytes: number
  /** attach the session root under an existing span (CODEX_PARENT_SPAN_ID / CODEX_ROOT_SPAN_ID) */
  readonly parent?: { readonly spanId: string; readonly rootSpanId: string } | undefined
  /** merged into the root's metadata (BRAINTRUST_ADDITIONAL_METADATA); standard keys win */
  readonly additionalMetadata?: Readonly<Record<string, unknown>> | undefined
}

export const defaultReducerOptions: ReducerOptions = { emitOpenSpans: true, llmContextBudgetBytes: 8 * 1024 }

export interface RootState {
  readonly spanId: string
  sessionId: string
  startMs: number
  endMs: number
  name: string
  metadata: Record<string, unknown>
  input: unknown
  output: unknown
}

export interface TurnState {
  readonly turnId: string
  readonly spanId: string
  readonly parentSpanId: string
  readonly index: number
  startMs: number
  endMs: number
  closed: boolean
  input: string | undefined
  output: string | null | undefined
  model: string | undefined
  effort: string | undefined
  error: string | undefined
  /** filled from `turn_attribution` */
  trigger: string | undefined
  /** compaction triggers seen in this turn, for the turn's metadata */
  compactions: number
  /** the model answered in this turn (an implicit turn ends at the next prompt only after that) */
  active: boolean
  /** the last real user message seen in this turn: the input when no prompt record names one */
  fallbackInput: string | undefined
  /** skills whose SKILL.md a tool call of this turn read */
  skills: Array<string>
}

export interface PendingItem {
  readonly timeMs: number
  readonly kind: "text" | "reasoning" | "tool_call"
  readonly text?: string
  readonly callId?: string
  readonly name?: string
  readonly arguments?: string
  readonly itemId?: string
}

/** model output items seen since the previous model call ended, waiting for its usage record */
export interface PendingResponse {
  readonly startMs: number
  /** the conversation as the model saw it when this response was requested */
  readonly input: ReadonlyArray<ChatMessage>
  readonly items: Array<PendingItem>
  lastItemMs: number
  /** a compaction response (`metadata.compaction_output`) becomes the compaction span */
  compaction: boolean
  /**
   * the span key: the first output item's id (the model's own item id), known as soon as the
   * response starts, so a transcript cut before the usage record gives the same span id
   */
  readonly key: string
}

export interface ToolState {
  readonly callId: string
  readonly spanId: string
  readonly turnSpanId: string
  readonly turnId: string
  readonly name: string
  readonly kind: "function" | "custom" | "tool_search" | "local_shell" | "web_search"
  readonly input: unknown
  readonly argumentsError: string | undefined
  readonly callMs: number
  startMs: number
  endMs: number
  output: unknown
  hasOutput: boolean
  error: string | undefined
  metadata: Record<string, unknown>
  closed: boolean
}

export interface CompactionState {
  readonly spanId: string
  readonly turnSpanId: string
  readonly turnId: string
  startMs: number
  endMs: number
  responseId: string | undefined
  usage: Record<string, number> | undefined
  summary: string | undefined
  /** the conversation the compaction request summarised */
  input: ReadonlyArray<ChatMessage> | undefined
  metadata: Record<string, unknown>
  closed: boolean
}

export interface SubagentInfo {
  readonly spanId: string
  /** the spawning turn's span, once known */
  parentSpanId: string | undefined
  startMs: number
  endMs: number
  nickname: string | undefined
  agentType: string | undefined
  depth: number | undefined
  parentThreadId: string | undefined
  transcriptPath: string
}

export interface ScopeState {
  threadId: string
  readonly source: string
  subagent: SubagentInfo | undefined
  model: string | undefined
  effort: string | undefined
  turnCount: number
  openTurn: TurnState | undefined
  /** the most recently closed turns, kept for records Codex writes after a turn's end */
  recentTurns: Array<TurnState>
  history: HistoryState
  pending: PendingResponse | undefined
  /** the previous sibling's end within the open turn: where the next model call starts */
  cursorMs: number
  lastTimeMs: number
  lineCount: number
  /** the first session_meta wins (legacy forks repeat it) */
  hasMeta: boolean
  usesUsageRecords: boolean
  lastTotalTokens: { input: number; output: number; total: number } | undefined
  tools: Record<string, ToolState>
  compaction: CompactionState | undefined
  /** how many model calls this scope has turned into spans (ids for responses without one) */
  llmCount: number
  /** task_started seen: turns are explicit; before that (older rollouts) prompts delimit them */
  sawTaskStarted: boolean
  /**
   * older rollouts: the last model call closed without usage, waiting for a token_count that
   * grows after it (its row is re-emitted with the usage)
   */
  usagelessLlm: SpanRow | undefined
}

export interface SessionState {
  root: RootState | undefined
  /** by thread id */
  scopes: Record<string, ScopeState>
  /** transcript source (path) → thread id */
  sources: Record<string, string>
  /** child thread id → spawning turn span id, learned from the parent's spawn calls */
  spawnedBy: Record<string, string>
  /** turn span ids that spawned subagents → their last row, so a late child end can extend them */
  spawningTurns: Record<string, SpanRow | null>
}

export const initialSessionState = (): SessionState => ({
  root: undefined,
  scopes: {},
  sources: {},
  spawnedBy: {},
  spawningTurns: {}
})
