/**
 * SessionReducer: the service face of the pure state machine in `reducer/`. It turns decoded
 * rollout lines of one session (main thread and subagents) into span rows. Pure and
 * synchronous underneath; the service exists so callers depend on an interface and tests can
 * swap options (context budget, parent span, extra metadata) through a layer.
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import type { RolloutLine } from "./domain/Rollout"
import type { SpanRow } from "./domain/SpanRow"
import { finishSession, reduceLine } from "./reducer/session"
import { defaultReducerOptions, initialSessionState, type ReducerOptions, type SessionState } from "./reducer/state"

export type { ReducerOptions, SessionState }

export interface SessionReducerService {
  readonly options: ReducerOptions
  readonly initial: () => SessionState
  /** fold one line of transcript `source` into `state` (updated in place); the rows that changed */
  readonly reduce: (state: SessionState, source: string, line: RolloutLine) => Array<SpanRow>
  /** no more lines will come (import): close what is still open; the rows that changed */
  readonly finish: (state: SessionState) => Array<SpanRow>
}

export const makeSessionReducer = (options: ReducerOptions = defaultReducerOptions): SessionReducerService => ({
  options,
  initial: initialSessionState,
  reduce: (state, source, line) => reduceLine(state, options, source, line),
  finish: (state) => finishSession(state, options)
})

export class SessionReducer extends Context.Tag("trace-codex/SessionReducer")<SessionReducer, SessionReducerService>() {
  static readonly Default = Layer.succeed(SessionReducer, makeSessionReducer())
  static readonly layer = (options: Partial<ReducerOptions>) =>
    Layer.succeed(SessionReducer, makeSessionReducer({ ...defaultReducerOptions, ...options }))
}

/**
 * Collapses a stream of row versions to the latest per span id, keeping first-seen order, so a
 * batch sends each span once.
 */
export const latestRows = (rows: Iterable<SpanRow>): Array<SpanRow> => {
  const byId = new Map<string, SpanRow>()
  for (const row of rows) {
    byId.delete(row.id)
    byId.set(row.id, row)
  }
  return [...byId.values()]
}

/** Reduce whole transcripts (the main one first, then subagents) into the final rows. */
export const reduceTranscripts = (
  transcripts: ReadonlyArray<{ readonly source: string; readonly lines: Iterable<RolloutLine> }>,
  options: ReducerOptions = defaultReducerOptions
): Array<SpanRow> => {
  const reducer = makeSessionReducer(options)
  const state = reducer.initial()
  const all: Array<SpanRow> = []
  for (const t of transcripts) for (const line of t.lines) for (const row of reducer.reduce(state, t.source, line)) all.push(row)
  for (const row of reducer.finish(state)) all.push(row)
  return latestRows(all)
}
