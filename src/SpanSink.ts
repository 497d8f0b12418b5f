/**
 * SpanSink: where span rows leave trace-codex. Interface-only; one layer per back end
 * (layers/BraintrustSpanSink.ts, layers/LocalSpanSink.ts, layers/InMemorySpanSink.ts).
 *
 * Contract: `write` resolves only once the back end has accepted every row it was given
 * (delivery confirmed), and fails with SpanSinkError otherwise — callers keep their own
 * progress (offsets, checkpoints) until it resolves. Rows with the same `id` replace each other.
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import type { SpanRow } from "./domain/SpanRow"

export class SpanSinkError extends Data.TaggedError("SpanSinkError")<{
  readonly sink: string
  readonly message: string
  readonly rows: number
  readonly cause?: unknown
}> {}

export interface SpanSinkService {
  /** short name for logs and summaries: "braintrust", "local", "memory" */
  readonly name: string
  /** deliver rows; resolves when all were accepted */
  readonly write: (rows: ReadonlyArray<SpanRow>) => Effect.Effect<void, SpanSinkError>
  /** a link to the trace in the back end's UI, when it has one */
  readonly traceUrl: (rootSpanId: string) => Effect.Effect<string | undefined>
}

export class SpanSink extends Context.Tag("trace-codex/SpanSink")<SpanSink, SpanSinkService>() {}
