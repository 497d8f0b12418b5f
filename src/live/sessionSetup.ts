/**
 * What the drainer needs to know about a session before it reduces it: where its rows go and
 * how they are built. Shared by `drain` and `flush`.
 */
import * as Effect from "effect/Effect"
import { defaultReducerOptions, type ReducerOptions } from "../reducer/state"
import { SpanSink, type SpanSinkService } from "../SpanSink"

export interface SessionSetup {
  readonly sink: SpanSinkService
  readonly options: ReducerOptions
  /** what to store in the session's checkpoint so a later drainer keeps the same settings */
  readonly settings: unknown
}

/** live capture shows running sessions: open spans are sent as they start */
export const liveReducerOptions: ReducerOptions = { ...defaultReducerOptions, emitOpenSpans: true }

/** every session goes to the sink of this process's environment */
export const environmentSessionSetup = Effect.gen(function* () {
  const sink = yield* SpanSink
  return (_sessionId: string, _persisted: unknown): Effect.Effect<SessionSetup> =>
    Effect.succeed({ sink, options: liveReducerOptions, settings: undefined })
})

export const envMs = (name: string, fallback: number): number => {
  const raw = process.env[name]
  const n = raw === undefined || raw === "" ? Number.NaN : Number(raw)
  return Number.isFinite(n) && n >= 0 ? n : fallback
}
