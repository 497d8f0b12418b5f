/**
 * What only hooks know, merged into the rows the transcript gives. Pure data in, data out.
 *
 * The transcript stays the source of truth for the span tree: hook facts never change the
 * reducer's state, so live capture ends with the same spans as `import` of the same session.
 * They add metadata (how the session started, its permission mode, compaction triggers,
 * permission requests) and close a turn provisionally when Stop or Interrupt arrives, before
 * Codex writes `task_complete` / `turn_aborted` (which it does only after the hook returns);
 * the real closing line later overwrites that row.
 */
import { SpanKeys } from "../domain/ids"
import type { JsonObject } from "../domain/HookPayload"
import type { SpanRow } from "../domain/SpanRow"
import { compactionRow, rootRow, turnRow } from "../reducer/rows"
import type { ReducerOptions, ScopeState, SessionState, TurnState } from "../reducer/state"

/** metadata keys only hooks supply: the one difference between live capture and `import` */
export const HOOK_ONLY_METADATA_KEYS: ReadonlyArray<string> = [
  "session_start_source",
  "last_session_start_source",
  "permission_mode",
  "permission_requests",
  "compaction_trigger"
]

export interface ProvisionalEnd {
  readonly endMs: number
  readonly output?: string | undefined
  readonly error?: string | undefined
}

export interface HookFacts {
  /** merged into the root's metadata */
  root: Record<string, unknown>
  /** by turn span id: merged into the turn's metadata */
  turns: Record<string, Record<string, unknown>>
  /** by turn span id: compaction trigger (auto / manual) of compactions in that turn */
  compactionTriggers: Record<string, string>
  /** by turn span id: a Stop / Interrupt seen before the transcript closed the turn */
  provisional: Record<string, ProvisionalEnd>
  /** transcripts the hooks named: main first, then subagents */
  transcripts: Array<string>
  /** SessionEnd seen since the last turn started */
  ended: boolean
}

export const emptyHookFacts = (): HookFacts => ({ root: {}, turns: {}, compactionTriggers: {}, provisional: {}, transcripts: [], ended: false })

const str = (o: JsonObject, key: string): string | undefined => {
  const v = o[key]
  return typeof v === "string" && v !== "" ? v : undefined
}

const addTranscript = (facts: HookFacts, path: string | undefined): boolean => {
  if (path === undefined || facts.transcripts.includes(path)) return false
  facts.transcripts.push(path)
  return true
}

export interface FactUpdate {
  /** span ids whose rows should be re-emitted with the new facts */
  readonly touched: ReadonlyArray<string>
  /** a transcript not read before */
  readonly newTranscript: boolean
  /** the session ended (SessionEnd): finish what is open in a copy of the state */
  readonly sessionEnded: boolean
}

/** Folds one journal entry's payload into the facts. */
export const applyHookPayload = (facts: HookFacts, payload: JsonObject, receivedAtMs: number): FactUpdate => {
  const event = str(payload, "hook_event_name")
  const sessionId = str(payload, "session_id") ?? ""
  const agentId = str(payload, "agent_id")
  const threadId = agentId ?? sessionId
  const turnId = str(payload, "turn_id")
  const turnSpanId = turnId !== undefined ? SpanKeys.turn(threadId, turnId) : undefined
  const rootSpanId = SpanKeys.session(sessionId)
  const touched: Array<string> = []
  let newTranscript = false
  let sessionEnded = false
  switch (event) {
    case "SessionStart": {
      newTranscript = addTranscript(facts, str(payload, "transcript_path"))
      const source = str(payload, "source")
      if (source !== undefined && source !== "compact") {
        facts.root["session_start_source"] ??= source
        facts.root["last_session_start_source"] = source
      }
      const mode = str(payload, "permission_mode")
      if (mode !== undefined) facts.root["permission_mode"] = mode
      facts.ended = false
      touched.push(rootSpanId)
      break
    }
    case "UserPromptSubmit":
    case "PreToolUse":
    case "PostToolUse": {
      // the main transcript, for drainers that missed SessionStart (installed mid-session)
      if (agentId === undefined) newTranscript = addTranscript(facts, str(payload, "transcript_path"))
      facts.ended = false
      break
    }
    case "PermissionRequest": {
      if (turnSpanId === undefined) break
      const input = payload["tool_input"]
      const request: Record<string, unknown> = { tool_name: str(payload, "tool_name") ?? "unknown", requested_at_ms: receivedAtMs }
      if (typeof input === "object" && input !== null && !Array.isArray(input)) {
        const command = (input as JsonObject)["command"]
        const description = (input as JsonObject)["description"]
        if (command !== undefined) request["command"] = command
        if (typeof description === "string") request["justification"] = description
      }
      const turn = (facts.turns[turnSpanId] ??= {})
      const list = Array.isArray(turn["permission_requests"]) ? (turn["permission_requests"] as Array<Record<string, unknown>>) : []
      // a journal entry can be applied twice (a crash before its checkpoint): once is enough
      if (!list.some((r) => r["requested_at_ms"] === receivedAtMs)) turn["permission_requests"] = [...list, request]
      touched.push(turnSpanId)
      break
    }
    case "PreCompact":
    case "PostCompact": {
      const trigger = str(payload, "trigger")
      if (trigger !== undefined && turnSpanId !== undefined) {
        facts.compactionTriggers[turnSpanId] = trigger
        touched.push(turnSpanId)
      }
      break
    }
    case "SubagentStart": {
      newTranscript = addTranscript(facts, str(payload, "transcript_path"))
      break
    }
    case "SubagentStop": {
      newTranscript = addTranscript(facts, str(payload, "agent_transcript_path"))
      break
    }
    case "Stop": {
      if (turnSpanId === undefined) break
      const output = payload["last_assistant_message"]
      facts.provisional[turnSpanId] = { endMs: receivedAtMs, ...(typeof output === "string" ? { output } : {}) }
      touched.push(turnSpanId, rootSpanId)
      break
    }
    case "Interrupt": {
      if (turnSpanId === undefined) break
      facts.provisional[turnSpanId] = { endMs: receivedAtMs, error: "turn interrupted" }
      touched.push(turnSpanId, rootSpanId)
      break
    }
    case "SessionEnd": {
      facts.ended = true
      sessionEnded = true
      break
    }
    default:
      break
  }
  return { touched, newTranscript, sessionEnded }
}

/** The row with the hook facts that concern it. Rows of spans the facts do not know pass as they are. */
export const decorateRow = (facts: HookFacts, rootSpanId: string | undefined, row: SpanRow): SpanRow => {
  if (row.span_id === rootSpanId) {
    if (Object.keys(facts.root).length === 0 && Object.keys(facts.provisional).length === 0) return row
    let end = row.metrics.end
    for (const p of Object.values(facts.provisional)) end = Math.max(end, p.endMs / 1000)
    return { ...row, metrics: { ...row.metrics, end }, metadata: { ...facts.root, ...row.metadata } }
  }
  const turnFacts = facts.turns[row.span_id]
  const provisional = facts.provisional[row.span_id]
  const trigger = row.span_attributes.name === "compaction" ? facts.compactionTriggers[row.span_parents[0] ?? ""] : undefined
  if (!turnFacts && !provisional && trigger === undefined) return row
  let out: SpanRow = row
  if (turnFacts) out = { ...out, metadata: { ...turnFacts, ...out.metadata } }
  if (trigger !== undefined) out = { ...out, metadata: { compaction_trigger: trigger, ...out.metadata } }
  // a turn the transcript has not closed yet: close it as the hook saw it
  if (provisional && out.output === undefined && out.error === undefined) {
    out = {
      ...out,
      metrics: { ...out.metrics, end: Math.max(out.metrics.end, provisional.endMs / 1000) },
      ...(provisional.output !== undefined ? { output: provisional.output } : {}),
      ...(provisional.error !== undefined ? { error: provisional.error } : {})
    }
  }
  return out
}

const findTurn = (scope: ScopeState, spanId: string): TurnState | undefined =>
  scope.openTurn?.spanId === spanId ? scope.openTurn : scope.recentTurns.find((t) => t.spanId === spanId)

/** Current rows (from the reducer's state) of spans whose facts changed, so they are sent again. */
export const rowsFor = (state: SessionState, options: ReducerOptions, spanIds: ReadonlyArray<string>): Array<SpanRow> => {
  const root = state.root
  if (!root) return []
  const traceId = options.parent?.rootSpanId ?? root.spanId
  const out: Array<SpanRow> = []
  for (const spanId of new Set(spanIds)) {
    if (spanId === root.spanId) {
      out.push(rootRow(root, options))
      continue
    }
    for (const scope of Object.values(state.scopes)) {
      const turn = findTurn(scope, spanId)
      if (turn) {
        out.push(turnRow(traceId, scope, turn))
        const c = scope.compaction
        if (c && c.turnSpanId === spanId) out.push(compactionRow(traceId, turn.model ?? scope.model, c))
        break
      }
    }
  }
  return out
}
