/**
 * Session level: the reducer's entry point. `reduceLine(state, source, line)` folds one decoded
 * rollout line of one transcript (main thread or subagent) into the session state and returns
 * the span rows that changed. Deterministic: no I/O, no clock, no randomness; ids come from
 * stable keys, so re-reducing the same lines yields the same rows.
 *
 * For speed on 200 MB transcripts the state is updated in place and threaded linearly (the
 * caller owns it; `structuredClone` it to keep an old version). It stays plain JSON data.
 */
import type { ContentPart, RolloutLine, SessionMeta } from "../domain/Rollout"
import { SpanKeys } from "../domain/ids"
import type { SpanRow } from "../domain/SpanRow"
import { stripUrlCredentials } from "../redaction"
import { type ChatMessage, emptyHistory, pushMessage, resetHistory } from "./history"
import { subagentRow } from "./rows"
import {
  type ReducerOptions,
  type ScopeState,
  type SessionState,
  type ToolState,
  type TurnState
} from "./state"
import { applyCompletedItem, applyOutput, outputText, parseArguments, toolName } from "./tool"
import {
  addOutputItem,
  attachLateUsage,
  closeModelCall,
  closeTurn,
  type Ctx,
  currentTurn,
  emitCompaction,
  emitFinalRoot,
  emitRoot,
  emitSubagent,
  emitTurn,
  ensureCompaction,
  extendScope,
  openTool,
  openTurn,
  textOf,
  traceId,
  turnById,
  updateTool
} from "./turn"

const COMPACTION_PREAMBLE_END = "use the information in this summary to assist with your own analysis:\n"

const basename = (p: string): string => {
  const parts = p.replace(/[/\\]+$/, "").split(/[/\\]/)
  return parts[parts.length - 1] || p
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** `source: {subagent: {thread_spawn: {...}}}` of a child thread's session_meta */
const threadSpawnOf = (source: unknown): Record<string, unknown> | undefined => {
  if (!isRecord(source) || !isRecord(source["subagent"])) return undefined
  const spawn = source["subagent"]["thread_spawn"]
  return isRecord(spawn) ? spawn : {}
}

const stringField = (o: Record<string, unknown> | undefined, key: string): string | undefined => {
  const v = o?.[key]
  return typeof v === "string" ? v : undefined
}

const scopeFor = (state: SessionState, source: string): ScopeState => {
  const threadId = state.sources[source] ?? source
  const existing = state.scopes[threadId]
  if (existing) return existing
  const scope: ScopeState = {
    threadId,
    source,
    subagent: undefined,
    model: undefined,
    effort: undefined,
    turnCount: 0,
    openTurn: undefined,
    recentTurns: [],
    history: emptyHistory(),
    pending: undefined,
    cursorMs: 0,
    lastTimeMs: 0,
    lineCount: 0,
    hasMeta: false,
    usesUsageRecords: false,
    lastTotalTokens: undefined,
    tools: {},
    compaction: undefined,
    llmCount: 0,
    sawTaskStarted: false,
    usagelessLlm: undefined
  }
  state.scopes[threadId] = scope
  state.sources[source] = threadId
  return scope
}

// ---------------------------------------------------------------------------------------------
// session_meta: the root and, for a child thread, its subagent span

const onSessionMeta = (ctx: Ctx, scope: ScopeState, meta: SessionMeta, timeMs: number, seenMeta: boolean): void => {
  if (seenMeta) return // legacy forks repeat session_meta: the first wins
  const threadId = meta.id ?? scope.threadId
  if (threadId !== scope.threadId && scope.turnCount === 0) {
    delete ctx.state.scopes[scope.threadId]
    scope.threadId = threadId
    ctx.state.scopes[threadId] = scope
    ctx.state.sources[scope.source] = threadId
  }
  const metaMs = meta.timestamp !== undefined ? Date.parse(meta.timestamp) : Number.NaN
  const startMs = Number.isFinite(metaMs) ? Math.min(metaMs, timeMs) : timeMs
  const spawn = threadSpawnOf(meta.source)
  const isSubagent = meta.thread_source === "subagent" || spawn !== undefined
  const sessionId = meta.session_id ?? meta.id ?? threadId
  const instructions = isRecord(meta.base_instructions) ? stringField(meta.base_instructions, "text") : meta.instructions ?? undefined
  if (instructions) pushMessage(scope.history, { role: "system", content: instructions })

  let root = ctx.state.root
  if (!root) {
    root = {
      spanId: SpanKeys.session(sessionId),
      sessionId,
      startMs,
      endMs: startMs,
      name: `codex: ${basename(meta.cwd ?? "session")}`,
      metadata: { session_id: sessionId },
      input: undefined,
      output: undefined
    }
    ctx.state.root = root
  }
  if (startMs < root.startMs) root.startMs = startMs
  if (!isSubagent) {
    root.name = `codex: ${basename(meta.cwd ?? "session")}`
    Object.assign(root.metadata, {
      session_id: sessionId,
      thread_id: threadId,
      cwd: meta.cwd,
      cli_version: meta.cli_version,
      originator: meta.originator,
      source: typeof meta.source === "string" ? meta.source : undefined,
      model_provider: meta.model_provider ?? undefined,
      transcript_path: scope.source,
      forked_from_id: meta.forked_from_id ?? undefined,
      git_commit_sha: meta.git?.commit_hash ?? undefined,
      git_branch: meta.git?.branch ?? undefined,
      git_origin_url: stripUrlCredentials(meta.git?.repository_url)
    })
  } else {
    const parentThreadId = meta.parent_thread_id ?? stringField(spawn, "parent_thread_id")
    const depth = spawn?.["depth"]
    scope.subagent = {
      spanId: SpanKeys.subagent(threadId),
      parentSpanId: ctx.state.spawnedBy[threadId],
      startMs,
      endMs: startMs,
      nickname: meta.agent_nickname ?? stringField(spawn, "agent_nickname"),
      agentType: meta.agent_role ?? stringField(spawn, "agent_role") ?? "default",
      depth: typeof depth === "number" ? depth : undefined,
      parentThreadId,
      transcriptPath: scope.source
    }
    emitSubagent(ctx, scope)
  }
  emitRoot(ctx)
}

// ---------------------------------------------------------------------------------------------
// response items

const messageOf = (role: string, content: ReadonlyArray<ContentPart>): ChatMessage => ({
  role: role === "assistant" || role === "developer" || role === "system" || role === "tool" ? role : "user",
  content: textOf(content)
})

const onResponseItem = (ctx: Ctx, scope: ScopeState, line: Extract<RolloutLine, { kind: "response_item" }>, t: number): void => {
  const item = line.item
  switch (item.type) {
    case "message": {
      if (item.role === "assistant") {
        addOutputItem(ctx, scope, { timeMs: t, kind: "text", text: textOf(item.content ?? []), ...(item.id ? { itemId: item.id } : {}) }, line.compactionOutput)
      } else {
        const message = messageOf(item.role, item.content ?? [])
        const prompt = item.role === "user" && !isContextMessage(message.content)
        if (prompt) endLegacyModelCall(ctx, scope, line)
        pushMessage(scope.history, message)
        if (prompt) onPrompt(ctx, scope, message.content ?? "", t)
        scope.cursorMs = Math.max(scope.cursorMs, t)
      }
      return
    }
    case "reasoning": {
      const parts = [...(item.summary ?? []), ...(item.content ?? [])].map((p) => p.text ?? "").filter((s) => s !== "")
      addOutputItem(ctx, scope, { timeMs: t, kind: "reasoning", text: parts.join("\n\n"), ...(item.id ? { itemId: item.id } : {}) }, false)
      return
    }
    case "function_call":
    case "custom_tool_call": {
      const name = toolName(item.name, item.type === "function_call" ? item.namespace : undefined)
      const raw = item.type === "function_call" ? item.arguments : item.input
      const parsed = item.type === "function_call" ? parseArguments(raw) : { input: raw ?? null, error: undefined }
      const argText = typeof raw === "string" ? raw : JSON.stringify(raw ?? null)
      addOutputItem(ctx, scope, { timeMs: t, kind: "tool_call", callId: item.call_id, name, arguments: argText, ...(item.id ? { itemId: item.id } : {}) }, false)
      openTool(ctx, scope, { callId: item.call_id, name, kind: item.type === "function_call" ? "function" : "custom", input: parsed.input, argumentsError: parsed.error }, t)
      return
    }
    case "tool_search_call":
    case "local_shell_call": {
      const callId = item.call_id ?? item.id ?? `line-${scope.lineCount}`
      const input = item.type === "tool_search_call" ? item.arguments : item.action
      const name = item.type === "tool_search_call" ? "tool_search" : "local_shell"
      addOutputItem(ctx, scope, { timeMs: t, kind: "tool_call", callId, name, arguments: JSON.stringify(input ?? null) }, false)
      openTool(ctx, scope, { callId, name, kind: item.type === "tool_search_call" ? "tool_search" : "local_shell", input: input ?? null, argumentsError: undefined }, t)
      return
    }
    case "web_search_call": {
      // runs on the model's side: no separate output item follows
      const callId = item.id ?? `line-${scope.lineCount}`
      addOutputItem(ctx, scope, { timeMs: t, kind: "tool_call", callId, name: "web_search", arguments: JSON.stringify(item.action ?? null) }, false)
      const tool = openTool(ctx, scope, { callId, name: "web_search", kind: "web_search", input: item.action ?? null, argumentsError: undefined }, t)
      tool.closed = true
      tool.hasOutput = true
      tool.output = item.status ?? null
      if (item.status === "failed") tool.error = "web search failed"
      updateTool(ctx, scope, tool)
      return
    }
    case "function_call_output":
    case "custom_tool_call_output":
    case "tool_search_output": {
      endLegacyModelCall(ctx, scope, line)
      const callId = item.call_id ?? `line-${scope.lineCount}`
      const output = item.type === "tool_search_output" ? undefined : item.output
      const tool = scope.tools[callId] ?? orphanTool(ctx, scope, callId, t)
      if (item.type === "tool_search_output") {
        tool.output = item.tools ?? null
        tool.hasOutput = true
        tool.endMs = Math.max(tool.endMs, t)
      } else {
        applyOutput(tool, output, t)
      }
      tool.closed = true
      updateTool(ctx, scope, tool)
      const text = item.type === "tool_search_output" ? JSON.stringify(item.tools ?? null) : outputText(output) ?? ""
      pushMessage(scope.history, { role: "tool", tool_call_id: callId, content: text })
      scope.cursorMs = Math.max(scope.cursorMs, t)
      return
    }
    default:
      return
  }
}

/**
 * Text Codex injects as a user message that is not the user's prompt: environment context,
 * instructions files, turn-aborted notices (all wrapped in a tag or headed as AGENTS.md).
 */
const isContextMessage = (text: string | null): boolean => {
  const head = (text ?? "").trimStart()
  return head.startsWith("<") || head.startsWith("# AGENTS.md instructions")
}

/**
 * Older rollouts have no usage record per response: the model call whose items are pending ends
 * with the next input item (a tool output or a prompt). 0.169 lines carry ordinals and close
 * calls on their usage records instead.
 */
const endLegacyModelCall = (ctx: Ctx, scope: ScopeState, line: RolloutLine): void => {
  if (line.ordinal === undefined && !scope.usesUsageRecords && scope.pending) {
    closeModelCall(ctx, scope, undefined, undefined, scope.pending.lastItemMs)
  }
}

/**
 * A user's prompt. Without task_started (older rollouts) it delimits turns: after the model has
 * answered, the next prompt ends the turn and starts a new implicit one. With explicit turns it
 * is the turn's input when no UserMessage record names one.
 */
const onPrompt = (ctx: Ctx, scope: ScopeState, text: string, t: number): void => {
  if (scope.sawTaskStarted) {
    if (scope.openTurn) scope.openTurn.fallbackInput = text
    return
  }
  const open = scope.openTurn
  if (open?.active) endImplicitTurn(ctx, scope, open, t)
  const turn = currentTurn(ctx, scope, t)
  turn.input ??= text
  const root = ctx.state.root
  if (root && !scope.subagent && root.input === undefined) root.input = text
}

/** an implicit turn ends normally: older rollouts record no completion, its answer is the last assistant text */
const endImplicitTurn = (ctx: Ctx, scope: ScopeState, turn: TurnState, t: number): void => {
  if (scope.pending) closeModelCall(ctx, scope, undefined, undefined, scope.pending.lastItemMs)
  closeTurn(ctx, scope, turn, Math.min(t, Math.max(turn.endMs, scope.cursorMs)), { output: lastAssistantText(scope) })
}

/** an output whose call we never saw (e.g. a transcript read from the middle): keep it visible */
const orphanTool = (ctx: Ctx, scope: ScopeState, callId: string, t: number): ToolState =>
  openTool(ctx, scope, { callId, name: "unknown_tool", kind: "function", input: null, argumentsError: undefined }, t)

// ---------------------------------------------------------------------------------------------
// event messages

const onEvent = (ctx: Ctx, scope: ScopeState, line: Extract<RolloutLine, { kind: "event_msg" }>, t: number): void => {
  const ev = line.event
  switch (ev.type) {
    case "task_started": {
      const turnId = ev.turn_id ?? ev.turn_attribution?.turn_id ?? undefined
      scope.sawTaskStarted = true
      if (turnId !== undefined && scope.openTurn?.turnId === turnId) return
      const sub = scope.subagent
      const parentTurnId = ev.turn_attribution?.parent_turn_id
      if (sub && sub.parentSpanId === undefined && parentTurnId && sub.parentThreadId) {
        sub.parentSpanId = SpanKeys.turn(sub.parentThreadId, parentTurnId)
        emitSubagent(ctx, scope)
      }
      openTurn(ctx, scope, turnId, t, ev.turn_attribution?.turn_trigger ?? undefined)
      return
    }
    case "task_complete": {
      const turn = turnById(scope, ev.turn_id) ?? scope.openTurn
      if (!turn) return
      if (turn.closed) {
        // a second completion record for a turn already closed (e.g. Stop hook continuation)
        if (ev.last_agent_message !== undefined) turn.output = ev.last_agent_message
        turn.endMs = Math.max(turn.endMs, t)
        emitTurn(ctx, scope, turn)
        extendScope(ctx, scope, turn.endMs)
        return
      }
      closeTurn(ctx, scope, turn, t, { output: ev.last_agent_message ?? lastAssistantText(scope) })
      return
    }
    case "turn_aborted": {
      const turn = turnById(scope, ev.turn_id ?? undefined) ?? scope.openTurn
      if (!turn || turn.closed) return
      const reason = typeof ev.reason === "string" ? ev.reason : "aborted"
      closeTurn(ctx, scope, turn, t, { error: `turn ${reason}` })
      return
    }
    case "token_count": {
      const total = ev.info?.total_token_usage
      if (!total) return
      const now = { input: total.input_tokens ?? 0, output: total.output_tokens ?? 0, total: total.total_tokens ?? 0 }
      const before = scope.lastTotalTokens
      scope.lastTotalTokens = now
      if (scope.usesUsageRecords) return
      // older rollouts: a grown total closes the model call that produced it
      if (before && now.total <= before.total) return
      if (now.total === 0) return
      // the growth is exact for input/output; the last-call breakdown adds cache and reasoning
      const last = ev.info?.last_token_usage
      const usage = {
        ...last,
        input_tokens: now.input - (before?.input ?? 0),
        output_tokens: now.output - (before?.output ?? 0),
        total_tokens: now.total - (before?.total ?? 0)
      }
      if (scope.pending) closeModelCall(ctx, scope, undefined, usage, t)
      else attachLateUsage(ctx, scope, usage)
      return
    }
    case "item_completed": {
      onItemCompleted(ctx, scope, ev, t)
      return
    }
    case "user_message": {
      // legacy: the prompt (0.169 writes a UserMessage item instead)
      const turn = currentTurn(ctx, scope, t)
      turn.input ??= ev.message ?? ""
      scope.cursorMs = Math.max(scope.cursorMs, t)
      return
    }
    case "thread_settings_applied": {
      const model = ev.thread_settings?.model
      if (model) scope.model = model
      return
    }
    case "exec_command_end":
    case "patch_apply_end":
    case "mcp_tool_call_end": {
      // legacy completion events: the exit code / failure the output text may not carry
      const tool = scope.tools[ev.call_id]
      if (!tool) return
      if (ev.type === "exec_command_end" && typeof ev.exit_code === "number") {
        tool.metadata["exit_code"] = ev.exit_code
        if (ev.exit_code !== 0) tool.error ??= `exited with code ${ev.exit_code}`
      }
      if (ev.type === "patch_apply_end" && ev.success === false) tool.error ??= "patch failed"
      if (ev.type === "mcp_tool_call_end" && isRecord(ev.result) && isRecord(ev.result["Ok"]) && ev.result["Ok"]["isError"] === true) tool.error ??= "MCP tool returned isError"
      if (tool.closed) updateTool(ctx, scope, tool)
      return
    }
    default:
      return
  }
}

const lastAssistantText = (scope: ScopeState): string | undefined => {
  for (let i = scope.history.entries.length - 1; i >= 0; i--) {
    const m = scope.history.entries[i]!.message
    if (m.role === "assistant" && m.content) return m.content
  }
  return undefined
}

const onItemCompleted = (ctx: Ctx, scope: ScopeState, ev: Extract<Extract<RolloutLine, { kind: "event_msg" }>["event"], { type: "item_completed" }>, t: number): void => {
  const item = ev.item
  switch (item.type) {
    case "UserMessage": {
      const turn = turnById(scope, ev.turn_id) ?? currentTurn(ctx, scope, t)
      const text = textOf(item.content ?? [])
      turn.input ??= text
      const root = ctx.state.root
      if (root && !scope.subagent && root.input === undefined) root.input = text
      scope.cursorMs = Math.max(scope.cursorMs, t)
      return
    }
    case "ContextCompaction": {
      const c = scope.compaction
      if (!c) return
      if (ev.started_at_ms !== undefined) c.startMs = Math.max(Math.min(c.startMs, ev.started_at_ms), turnStart(scope, c.turnSpanId))
      if (ev.completed_at_ms !== undefined) c.endMs = Math.max(c.endMs, ev.completed_at_ms)
      scope.cursorMs = Math.max(scope.cursorMs, c.endMs)
      if (c.closed) emitCompaction(ctx, scope, c)
      return
    }
    case "AgentMessage":
    case "Reasoning":
    case "HookPrompt":
      return
    default: {
      const tool = item.id !== undefined ? scope.tools[item.id] : undefined
      if (!tool) return
      applyCompletedItem(tool, item, ev.started_at_ms, ev.completed_at_ms)
      if (item.type === "CollabAgentToolCall" && item.tool === "spawn_agent") {
        for (const child of item.receiver_thread_ids ?? []) registerSpawn(ctx, child, tool.turnSpanId)
      }
      updateTool(ctx, scope, tool)
      return
    }
  }
}

const turnStart = (scope: ScopeState, turnSpanId: string): number => {
  const turn = scope.openTurn?.spanId === turnSpanId ? scope.openTurn : scope.recentTurns.find((x) => x.spanId === turnSpanId)
  return turn?.startMs ?? 0
}

/** the parent learned which turn spawned a child thread: the child's subagent span hangs there */
const registerSpawn = (ctx: Ctx, childThreadId: string, turnSpanId: string): void => {
  ctx.state.spawnedBy[childThreadId] = turnSpanId
  if (!(turnSpanId in ctx.state.spawningTurns)) ctx.state.spawningTurns[turnSpanId] = null
  const child = ctx.state.scopes[childThreadId]
  if (child?.subagent && child.subagent.parentSpanId === undefined) {
    child.subagent.parentSpanId = turnSpanId
    emitSubagent(ctx, child)
  }
}

// ---------------------------------------------------------------------------------------------
// compaction

const replacementMessages = (history: ReadonlyArray<unknown>): Array<ChatMessage> => {
  const out: Array<ChatMessage> = []
  for (const h of history) {
    if (!isRecord(h) || h["type"] !== "message") continue
    const content = Array.isArray(h["content"]) ? h["content"] : []
    const text = content.map((c) => (isRecord(c) && typeof c["text"] === "string" ? c["text"] : "")).join("")
    out.push(messageOf(typeof h["role"] === "string" ? h["role"] : "user", [{ type: "input_text", text }]))
  }
  return out
}

const onCompacted = (ctx: Ctx, scope: ScopeState, line: Extract<RolloutLine, { kind: "compacted" }>, t: number): void => {
  const cp = line.compacted
  if (scope.pending) closeModelCall(ctx, scope, undefined, undefined, scope.pending.lastItemMs)
  const turn = currentTurn(ctx, scope, t)
  const key = cp.compaction_response_id ? `response:${cp.compaction_response_id}` : cp.window_id ? `window:${cp.window_id}` : `line:${scope.lineCount}`
  const c = ensureCompaction(ctx, scope, turn, key, scope.cursorMs, undefined)
  const message = cp.message ?? ""
  const at = message.indexOf(COMPACTION_PREAMBLE_END)
  c.summary ??= at >= 0 ? message.slice(at + COMPACTION_PREAMBLE_END.length) : message
  c.responseId ??= cp.compaction_response_id ?? undefined
  c.endMs = Math.max(c.endMs, t)
  const replaced = scope.history.entries.length + scope.history.elidedCount
  Object.assign(c.metadata, {
    window_number: cp.window_number,
    window_id: cp.window_id ?? undefined,
    previous_window_id: cp.previous_window_id ?? undefined,
    replaced_item_count: replaced,
    replacement_item_count: cp.replacement_history?.length
  })
  for (const k of Object.keys(c.metadata)) if (c.metadata[k] === undefined) delete c.metadata[k]
  c.closed = true
  turn.compactions++
  resetHistory(scope.history, replacementMessages(cp.replacement_history ?? []))
  scope.cursorMs = Math.max(scope.cursorMs, t)
  emitCompaction(ctx, scope, c)
}

// ---------------------------------------------------------------------------------------------
// entry points

/** Fold one line of the transcript `source` into the session; returns the rows that changed. */
export const reduceLine = (state: SessionState, options: ReducerOptions, source: string, line: RolloutLine): Array<SpanRow> => {
  const out: Array<SpanRow> = []
  const ctx: Ctx = { state, options, out }
  const scope = scopeFor(state, source)
  scope.lineCount++
  const t = line.timeMs !== undefined && line.timeMs > 0 ? line.timeMs : scope.lastTimeMs
  if (t > scope.lastTimeMs) scope.lastTimeMs = t
  if (line.kind !== "session_meta" && !state.root) ensureImplicitRoot(ctx, scope, t)
  switch (line.kind) {
    case "session_meta":
      onSessionMeta(ctx, scope, line.meta, t, scope.hasMeta)
      scope.hasMeta = true
      break
    case "turn_context": {
      if (line.context.model) scope.model = line.context.model
      if (line.context.effort !== undefined) scope.effort = line.context.effort ?? undefined
      const turn = scope.openTurn
      if (turn && (line.context.turn_id === undefined || line.context.turn_id === turn.turnId)) {
        turn.model = scope.model
        turn.effort = scope.effort
      }
      break
    }
    case "response_item":
      onResponseItem(ctx, scope, line, t)
      break
    case "event_msg":
      onEvent(ctx, scope, line, t)
      break
    case "token_usage_record": {
      scope.usesUsageRecords = true
      closeModelCall(ctx, scope, line.record.response_id, line.record.usage, t)
      break
    }
    case "compacted":
      onCompacted(ctx, scope, line, t)
      break
    default:
      break
  }
  return out
}

/** A transcript without session_meta (a fragment): the session is keyed by its source. */
const ensureImplicitRoot = (ctx: Ctx, scope: ScopeState, t: number): void => {
  ctx.state.root = {
    spanId: SpanKeys.session(scope.threadId),
    sessionId: scope.threadId,
    startMs: t,
    endMs: t,
    name: `codex: ${basename(scope.source)}`,
    metadata: { session_id: scope.threadId, transcript_path: scope.source },
    input: undefined,
    output: undefined
  }
  emitRoot(ctx)
}

/**
 * The transcripts end here (import of past sessions): close whatever is still open at the last
 * time its thread recorded, marked as incomplete, so nothing stays open forever. Re-reducing
 * later with more lines overwrites these rows (same ids).
 */
export const finishSession = (state: SessionState, options: ReducerOptions): Array<SpanRow> => {
  const out: Array<SpanRow> = []
  const ctx: Ctx = { state, options, out }
  for (const scope of Object.values(state.scopes)) {
    const turn = scope.openTurn
    if (turn && !scope.sawTaskStarted) endImplicitTurn(ctx, scope, turn, scope.lastTimeMs)
    else if (turn) closeTurn(ctx, scope, turn, scope.lastTimeMs, { error: "the transcript ends before this turn completed" })
    else if (scope.pending) closeModelCall(ctx, scope, undefined, undefined, scope.pending.lastItemMs)
    if (scope.subagent && state.root) {
      // a subagent whose spawning turn never showed up stays visible under the root
      out.push(subagentRow(traceId(ctx), state.root.spanId, scope, scope.subagent))
    }
  }
  emitFinalRoot(ctx)
  return out
}
