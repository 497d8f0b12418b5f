/**
 * The span row: what trace-codex hands to a sink, shaped like a Braintrust project-log row.
 * Every row is complete (never a partial update): a sink may replace a stored row by `id`,
 * which makes re-delivery idempotent.
 */
import * as Schema from "effect/Schema"

export const SpanType = Schema.Literal("task", "llm", "tool")
export type SpanType = typeof SpanType.Type

export const SpanMetrics = Schema.Struct(
  {
    /** epoch seconds (float) */
    start: Schema.Number,
    /** epoch seconds (float) */
    end: Schema.Number
  },
  Schema.Record({ key: Schema.String, value: Schema.Number })
)
export type SpanMetrics = typeof SpanMetrics.Type

export const SpanRow = Schema.Struct({
  /** row id; equals span_id so re-sending a span replaces it */
  id: Schema.String,
  span_id: Schema.String,
  root_span_id: Schema.String,
  /** empty for the session root (unless attached under a foreign span) */
  span_parents: Schema.Array(Schema.String),
  span_attributes: Schema.Struct({ name: Schema.String, type: SpanType }),
  metrics: SpanMetrics,
  input: Schema.optional(Schema.Unknown),
  output: Schema.optional(Schema.Unknown),
  error: Schema.optional(Schema.String),
  metadata: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  tags: Schema.optional(Schema.Array(Schema.String))
})
export type SpanRow = typeof SpanRow.Type
