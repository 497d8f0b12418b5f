/**
 * Turn level: opening and closing turns, and the model calls, tools and compactions inside
 * them. A turn's end always covers its children: records that Codex writes after a turn's
 * closing line (the aborted command's `item_completed` after `turn_aborted`) extend the turn,
 * never cut the child.
 */
import type { ContentPart, TokenUsage } from "../domain/Rollout"
import { SpanKeys } from "../domain/ids"
import type { SpanRow } from "../domain/SpanRow"
import { type ChatMessage, pushMessage, snapshotForCall, type ToolCallMessagePart } from "./history"
import { compactionRow, rootRow, subagentRow, tokenMetrics, toolRow, traceRootId, turnRow } from "./rows"
import { skillLoadedBy } from "./skills"
import type { CompactionState, PendingItem, ReducerOptions, ScopeState, SessionState, ToolState, TurnState } from "./state"

export interface Ctx {
  readonly state: SessionState
  readonly options: ReducerOptions
  readonly out: Array<SpanRow>
}

const RECENT_TURNS_KEPT = 4

export const traceId = (ctx: Ctx): string => (ctx.state.root ? traceRootId(ctx.state.root, ctx.options) : "")

const partText = (p: ContentPart): string => p.text ?? (p.image_url !== undefined || p.type.includes("image") ? "[image]" : "")

export const textOf = (content: ReadonlyArray<ContentPart>): string => {
  // most messages have one part: skip building an array just to join it
  if (content.length === 1) return partText(content[0]!)
  return content.map(partText).join("")
}

// ---------------------------------------------------------------------------------------------
// emitting rows and extending ancestors

/**
 * The root stays open until the session's last turn ends. Without open spans (import) it is
 * emitted once, by `finishSession`, instead of after every turn: only its final row counts.
 */
export const emitRoot = (ctx: Ctx): void => {
  if (ctx.options.emitOpenSpans) emitFinalRoot(ctx)
}

export const emitFinalRoot = (ctx: Ctx): void => {
  if (ctx.state.root) ctx.out.push(rootRow(ctx.state.root, ctx.options))
}

export const emitTurn = (ctx: Ctx, scope: ScopeState, turn: TurnState): void => {
  const row = turnRow(traceId(ctx), scope, turn)
  if (turn.spanId in ctx.state.spawningTurns) ctx.state.spawningTurns[turn.spanId] = row
  ctx.out.push(row)
}

export const emitSubagent = (ctx: Ctx, scope: ScopeState): void => {
  const sub = scope.subagent
  const root = ctx.state.root
  if (!sub || !root || sub.parentSpanId === undefined) return
  ctx.out.push(subagentRow(traceId(ctx), root.spanId, scope, sub))
}

/** A thread scope's extent grew to `endMs`: its subagent span, the spawning turn and the root follow. */
export const extendScope = (ctx: Ctx, scope: ScopeState, endMs: number): void => {
  const sub = scope.subagent
  if (sub && endMs > sub.endMs) {
    sub.endMs = endMs
    emitSubagent(ctx, scope)
    if (sub.parentSpanId !== undefined) extendTurnBySpanId(ctx, sub.parentThreadId, sub.parentSpanId, endMs)
  }
  const root = ctx.state.root
  if (root && endMs > root.endMs) {
    root.endMs = endMs
    emitRoot(ctx)
  }
}

const extendTurnBySpanId = (ctx: Ctx, threadId: string | undefined, spanId: string, endMs: number): void => {
  const scope = threadId !== undefined ? ctx.state.scopes[threadId] : undefined
  const turn = scope && (scope.openTurn?.spanId === spanId ? scope.openTurn : scope.recentTurns.find((t) => t.spanId === spanId))
  if (scope && turn) return extendTurn(ctx, scope, turn, endMs)
  // the spawning turn is no longer in memory: extend its last row
  const row = ctx.state.spawningTurns[spanId]
  if (row && endMs / 1000 > row.metrics.end) {
    const extended: SpanRow = { ...row, metrics: { ...row.metrics, end: endMs / 1000 } }
    ctx.state.spawningTurns[spanId] = extended
    ctx.out.push(extended)
  }
}

/** A child of `turn` ends at `endMs`: an open turn just records it; a closed one is re-emitted. */
export const extendTurn = (ctx: Ctx, scope: ScopeState, turn: TurnState, endMs: number): void => {
  if (endMs <= turn.endMs) return
  turn.endMs = endMs
  if (turn.closed) {
    emitTurn(ctx, scope, turn)
    extendScope(ctx, scope, endMs)
  }
}

export const turnById = (scope: ScopeState, turnId: string | undefined): TurnState | undefined => {
  if (turnId === undefined) return scope.openTurn ?? scope.recentTurns[scope.recentTurns.length - 1]
  if (scope.openTurn?.turnId === turnId) return scope.openTurn
  return scope.recentTurns.find((t) => t.turnId === turnId)
}

const turnBySpanId = (scope: ScopeState, spanId: string): TurnState | undefined =>
  scope.openTurn?.spanId === spanId ? scope.openTurn : scope.recentTurns.find((t) => t.spanId === spanId)

// ---------------------------------------------------------------------------------------------
// turns

export const openTurn = (
  ctx: Ctx,
  scope: ScopeState,
  turnId: string | undefined,
  timeMs: number,
  trigger: string | undefined
): TurnState => {
  if (scope.openTurn) closeTurn(ctx, scope, scope.openTurn, timeMs, { error: "a new turn started before this one completed" })
  pruneClosedTools(scope)
  const index = ++scope.turnCount
  const id = turnId ?? `implicit-turn-${index}`
  const root = ctx.state.root
  const turn: TurnState = {
    turnId: id,
    spanId: SpanKeys.turn(scope.threadId, id),
    parentSpanId: scope.subagent?.spanId ?? root?.spanId ?? "",
    index,
    startMs: timeMs,
    endMs: timeMs,
    closed: false,
    input: undefined,
    output: undefined,
    model: scope.model,
    effort: scope.effort,
    error: undefined,
    trigger,
    compactions: 0,
    active: false,
    fallbackInput: undefined,
    skills: []
  }
  scope.openTurn = turn
  scope.cursorMs = timeMs
  if (ctx.options.emitOpenSpans) emitTurn(ctx, scope, turn)
  return turn
}

/** The turn that records at `timeMs` belong to; legacy rollouts without task_started get an implicit one. */
export const currentTurn = (ctx: Ctx, scope: ScopeState, timeMs: number): TurnState =>
  scope.openTurn ?? openTurn(ctx, scope, undefined, timeMs, undefined)

export const closeTurn = (
  ctx: Ctx,
  scope: ScopeState,
  turn: TurnState,
  timeMs: number,
  outcome: { readonly output?: string | null | undefined; readonly error?: string | undefined; readonly metadata?: Record<string, unknown> }
): void => {
  if (scope.pending) closeModelCall(ctx, scope, undefined, undefined, scope.pending.lastItemMs)
  let endMs = Math.max(turn.endMs, timeMs)
  for (const callId in scope.tools) {
    const tool = scope.tools[callId]!
    if (tool.turnSpanId !== turn.spanId || tool.closed) continue
    tool.closed = true
    tool.endMs = Math.max(tool.endMs, timeMs)
    tool.error ??= outcome.error ? `turn ended before the tool finished (${outcome.error})` : "no output recorded before the turn ended"
    ctx.out.push(toolRow(traceId(ctx), tool))
    endMs = Math.max(endMs, tool.endMs)
  }
  const c = scope.compaction
  if (c && !c.closed && c.turnSpanId === turn.spanId) {
    c.closed = true
    c.endMs = Math.max(c.endMs, timeMs)
    ctx.out.push(compactionRow(traceId(ctx), turn.model, c))
  }
  turn.endMs = endMs
  turn.input ??= turn.fallbackInput
  if (outcome.output !== undefined) turn.output = outcome.output
  if (outcome.error !== undefined) turn.error = outcome.error
  turn.closed = true
  if (scope.openTurn === turn) scope.openTurn = undefined
  scope.recentTurns.push(turn)
  if (scope.recentTurns.length > RECENT_TURNS_KEPT) scope.recentTurns.shift()
  emitTurn(ctx, scope, turn)
  const root = ctx.state.root
  if (root && !scope.subagent && turn.output !== undefined) root.output = turn.output
  extendScope(ctx, scope, turn.endMs)
  if (root && !scope.subagent) emitRoot(ctx)
}

const inRecentTurn = (scope: ScopeState, turnSpanId: string): boolean => {
  for (const t of scope.recentTurns) if (t.spanId === turnSpanId) return true
  return false
}

const pruneClosedTools = (scope: ScopeState): void => {
  for (const callId in scope.tools) {
    const tool = scope.tools[callId]!
    if (tool.closed && !inRecentTurn(scope, tool.turnSpanId)) delete scope.tools[callId]
  }
}

// ---------------------------------------------------------------------------------------------
// model calls

export const addOutputItem = (ctx: Ctx, scope: ScopeState, item: PendingItem, compaction: boolean): void => {
  currentTurn(ctx, scope, item.timeMs).active = true
  if (!scope.pending) {
    scope.pending = {
      startMs: scope.cursorMs,
      input: snapshotForCall(scope.history, ctx.options.llmContextBudgetBytes),
      items: [],
      lastItemMs: item.timeMs,
      compaction: false,
      key: item.itemId !== undefined ? `item:${item.itemId}` : item.callId !== undefined ? `call:${item.callId}` : `line:${scope.lineCount}`
    }
  }
  scope.pending.items.push(item)
  scope.pending.lastItemMs = Math.max(scope.pending.lastItemMs, item.timeMs)
  if (compaction) scope.pending.compaction = true
}

const assistantMessage = (items: ReadonlyArray<PendingItem>): ChatMessage => {
  const text: Array<string> = []
  const reasoning: Array<string> = []
  const calls: Array<ToolCallMessagePart> = []
  for (const i of items) {
    if (i.kind === "text") text.push(i.text ?? "")
    else if (i.kind === "reasoning") reasoning.push(i.text ?? "")
    else calls.push({ id: i.callId ?? "", type: "function", function: { name: i.name ?? "", arguments: i.arguments ?? "" } })
  }
  const message: { -readonly [K in keyof ChatMessage]: ChatMessage[K] } = { role: "assistant", content: text.length > 0 ? text.join("\n") : null }
  if (calls.length > 0) message.tool_calls = calls
  if (reasoning.length > 0) message.reasoning = reasoning
  return message
}

/**
 * The model call whose output items are pending ends: with its usage record (0.169), a grown
 * token_count (older rollouts), or the end of its turn (no usage known).
 */
export const closeModelCall = (
  ctx: Ctx,
  scope: ScopeState,
  responseId: string | undefined,
  usage: TokenUsage | undefined,
  timeMs: number
): void => {
  const pending = scope.pending
  scope.pending = undefined
  const turn = currentTurn(ctx, scope, timeMs)
  if (pending?.compaction) {
    const c = ensureCompaction(ctx, scope, turn, pending.key, pending.startMs, pending.input)
    c.responseId = responseId
    c.usage = tokenMetrics(usage)
    c.summary = pending.items.map((i) => i.text ?? "").join("\n")
    return
  }
  const startMs = pending?.startMs ?? scope.cursorMs
  const endMs = pending ? pending.lastItemMs : timeMs
  const message = assistantMessage(pending?.items ?? [])
  const key = pending?.key ?? (responseId !== undefined ? `response:${responseId}` : `line:${scope.lineCount}`)
  const spanId = SpanKeys.llm(scope.threadId, key)
  scope.llmCount++
  const model = turn.model ?? scope.model
  const metadata: Record<string, unknown> = {}
  if (responseId !== undefined) metadata["response_id"] = responseId
  else metadata["usage_unavailable_reason"] = usage ? "no response id in this rollout" : "no usage recorded for this call"
  if (model !== undefined) metadata["model"] = model
  if (turn.effort !== undefined) metadata["reasoning_effort"] = turn.effort
  metadata["turn_id"] = turn.turnId
  metadata["provider"] = "openai"
  const row: SpanRow = {
    id: spanId,
    span_id: spanId,
    root_span_id: traceId(ctx),
    span_parents: [turn.spanId],
    span_attributes: { name: model ?? "llm", type: "llm" },
    metrics: Object.assign(tokenMetrics(usage), { start: startMs / 1000, end: Math.max(startMs, endMs) / 1000 }),
    input: pending?.input ?? snapshotForCall(scope.history, ctx.options.llmContextBudgetBytes),
    output: message,
    metadata
  }
  ctx.out.push(row)
  scope.usagelessLlm = usage === undefined && pending ? row : undefined
  if (pending) pushMessage(scope.history, message)
  scope.cursorMs = Math.max(scope.cursorMs, endMs)
  extendTurn(ctx, scope, turn, endMs)
}

/**
 * Older rollouts: a token_count grew after the model call it belongs to had already closed
 * (closed by the next input item): its row is re-emitted with the usage.
 */
export const attachLateUsage = (ctx: Ctx, scope: ScopeState, usage: TokenUsage): boolean => {
  const row = scope.usagelessLlm
  if (!row) return false
  scope.usagelessLlm = undefined
  const metadata = { ...row.metadata, usage_unavailable_reason: "no response id in this rollout" }
  ctx.out.push({ ...row, metrics: Object.assign(tokenMetrics(usage), { start: row.metrics.start, end: row.metrics.end }), metadata })
  return true
}

// ---------------------------------------------------------------------------------------------
// tools

export const openTool = (
  ctx: Ctx,
  scope: ScopeState,
  fields: Pick<ToolState, "callId" | "name" | "kind" | "input" | "argumentsError">,
  timeMs: number
): ToolState => {
  const turn = currentTurn(ctx, scope, timeMs)
  turn.active = true
  // fields written out, not spread: every tool then has one hidden class, which keeps the
  // property writes of later updates on V8's fast path
  const tool: ToolState = {
    callId: fields.callId,
    name: fields.name,
    kind: fields.kind,
    input: fields.input,
    argumentsError: fields.argumentsError,
    spanId: SpanKeys.tool(scope.threadId, fields.callId),
    turnSpanId: turn.spanId,
    turnId: turn.turnId,
    callMs: timeMs,
    startMs: timeMs,
    endMs: timeMs,
    output: undefined,
    hasOutput: false,
    error: undefined,
    metadata: {},
    closed: false
  }
  const skill = skillLoadedBy(fields.input)
  if (skill !== undefined) {
    tool.metadata["skill"] = skill
    if (!turn.skills.includes(skill)) turn.skills.push(skill)
  }
  scope.tools[fields.callId] = tool
  if (ctx.options.emitOpenSpans) ctx.out.push(toolRow(traceId(ctx), tool))
  return tool
}

/** A tool changed (output, completion record): re-emit it and stretch its turn over it. */
export const updateTool = (ctx: Ctx, scope: ScopeState, tool: ToolState): void => {
  if (tool.argumentsError && !tool.error) tool.error = tool.argumentsError
  if (tool.closed || ctx.options.emitOpenSpans) ctx.out.push(toolRow(traceId(ctx), tool))
  const turn = turnBySpanId(scope, tool.turnSpanId)
  if (turn) extendTurn(ctx, scope, turn, Math.max(tool.endMs, tool.startMs))
}

// ---------------------------------------------------------------------------------------------
// compaction

export const ensureCompaction = (
  ctx: Ctx,
  scope: ScopeState,
  turn: TurnState,
  key: string,
  startMs: number,
  input: ReadonlyArray<ChatMessage> | undefined
): CompactionState => {
  const existing = scope.compaction
  if (existing && !existing.closed) return existing
  const c: CompactionState = {
    spanId: SpanKeys.compaction(scope.threadId, key),
    turnSpanId: turn.spanId,
    turnId: turn.turnId,
    startMs,
    endMs: startMs,
    responseId: undefined,
    usage: undefined,
    summary: undefined,
    input,
    metadata: {},
    closed: false
  }
  scope.compaction = c
  return c
}

export const emitCompaction = (ctx: Ctx, scope: ScopeState, c: CompactionState): void => {
  const turn = turnBySpanId(scope, c.turnSpanId)
  ctx.out.push(compactionRow(traceId(ctx), turn?.model ?? scope.model, c))
  if (turn) extendTurn(ctx, scope, turn, c.endMs)
}
