/**
 * Runs `import` through the real Effect pipeline (TranscriptParser on real files,
 * SessionReducer, FlushPolicy) into an in-memory sink, for tests.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { type InMemorySpanSink, InMemorySpanSinkLayer, makeInMemorySpanSink } from "../../layers/InMemorySpanSink"
import type { SpanRow } from "../../src/domain/SpanRow"
import { FlushPolicy, makeFlushPolicy, defaultFlushPolicySettings } from "../../src/FlushPolicy"
import { type ImportOptions, importPaths, type ImportSummary } from "../../src/SessionImport"
import { SessionReducer } from "../../src/SessionReducer"
import type { SpanSinkService } from "../../src/SpanSink"
import { SpanSink } from "../../src/SpanSink"
import { TranscriptParser } from "../../src/TranscriptParser"

export const pipelineLayer = (sink: SpanSinkService, batchRows = defaultFlushPolicySettings.batchRows) =>
  Layer.mergeAll(
    SessionReducer.Default,
    Layer.succeed(FlushPolicy, makeFlushPolicy({ ...defaultFlushPolicySettings, batchRows })),
    TranscriptParser.Default,
    Layer.succeed(SpanSink, sink)
  ).pipe(Layer.provideMerge(NodeContext.layer))

export const importToMemory = (
  paths: ReadonlyArray<string>,
  options: ImportOptions & { readonly batchRows?: number; readonly sink?: InMemorySpanSink } = {}
): Effect.Effect<{ readonly summary: ImportSummary; readonly rows: ReadonlyArray<SpanRow>; readonly sink: InMemorySpanSink }> =>
  Effect.gen(function* () {
    const sink = options.sink ?? (yield* makeInMemorySpanSink)
    const summary = yield* importPaths(paths, options).pipe(Effect.provide(pipelineLayer(sink, options.batchRows)))
    return { summary, rows: yield* sink.rows, sink }
  })

export { InMemorySpanSinkLayer }
