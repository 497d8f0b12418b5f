/**
 * In-memory SpanSink for tests and for embedding: keeps every row received (the raw log) and
 * the latest row per id (what a back end that replaces rows by id would show). Faults can be
 * injected to exercise retry paths.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import type { SpanRow } from "../src/domain/SpanRow"
import { SpanSink, SpanSinkError, type SpanSinkService } from "../src/SpanSink"

export interface InMemorySpanSink extends SpanSinkService {
  /** the latest row per span id, in first-seen order */
  readonly rows: Effect.Effect<ReadonlyArray<SpanRow>>
  /** every row ever written, in order, including re-sends */
  readonly log: Effect.Effect<ReadonlyArray<SpanRow>>
  /** make the next `n` writes fail */
  readonly failNext: (n: number) => Effect.Effect<void>
}

export const makeInMemorySpanSink: Effect.Effect<InMemorySpanSink> = Effect.gen(function* () {
  const latest = yield* Ref.make(new Map<string, SpanRow>())
  const log = yield* Ref.make<ReadonlyArray<SpanRow>>([])
  const failures = yield* Ref.make(0)
  const write = (rows: ReadonlyArray<SpanRow>) =>
    Effect.gen(function* () {
      const fail = yield* Ref.modify(failures, (n) => [n > 0, Math.max(0, n - 1)])
      if (fail) return yield* new SpanSinkError({ sink: "memory", message: "injected failure", rows: rows.length })
      yield* Ref.update(log, (all) => [...all, ...rows])
      yield* Ref.update(latest, (m) => {
        const next = new Map(m)
        for (const r of rows) next.set(r.id, r)
        return next
      })
    })
  return {
    name: "memory",
    write,
    traceUrl: () => Effect.succeed(undefined),
    rows: Effect.map(Ref.get(latest), (m) => [...m.values()]),
    log: Ref.get(log),
    failNext: (n) => Ref.set(failures, n)
  }
})

/** A layer providing the sink as SpanSink, plus access to the same instance for assertions. */
export const InMemorySpanSinkLayer = (sink: InMemorySpanSink): Layer.Layer<SpanSink> => Layer.succeed(SpanSink, sink)
