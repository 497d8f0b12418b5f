/**
 * The golden traces through the real Braintrust SDK: every capture is imported with the
 * Braintrust sink into a fake Braintrust server (real HTTP on 127.0.0.1), and what the server
 * stored must be exactly the rows the pipeline produced — ids, parents, names, types, times,
 * input, output, errors, metadata and token metrics. Importing again changes nothing.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as BraintrustSpanSink from "../layers/BraintrustSpanSink"
import type { SpanRow } from "../src/domain/SpanRow"
import { acquireFakeBraintrust, type StoredRow } from "./support/fakeBraintrust"
import { rolloutFiles, SCENARIOS } from "./support/fixtures"
import { importToMemory, pipelineLayer } from "./support/pipeline"
import { importPaths } from "../src/SessionImport"

/** the fields a row carries into Braintrust, as JSON (undefined fields dropped) */
const asStored = (r: SpanRow) =>
  JSON.parse(
    JSON.stringify({
      id: r.id,
      span_id: r.span_id,
      root_span_id: r.root_span_id,
      span_parents: r.span_parents.length > 0 ? r.span_parents : undefined,
      name: r.span_attributes.name,
      type: r.span_attributes.type,
      metrics: r.metrics,
      input: r.input,
      output: r.output,
      error: r.error,
      metadata: r.metadata
    })
  )

const fromServer = (s: StoredRow) => {
  const attrs = (s["span_attributes"] ?? {}) as Record<string, unknown>
  return JSON.parse(
    JSON.stringify({
      id: s["id"],
      span_id: s["span_id"],
      root_span_id: s["root_span_id"],
      span_parents: Array.isArray(s["span_parents"]) && s["span_parents"].length > 0 ? s["span_parents"] : undefined,
      name: attrs["name"],
      type: attrs["type"],
      metrics: s["metrics"],
      input: s["input"],
      output: s["output"],
      error: s["error"],
      metadata: s["metadata"]
    })
  )
}

describe("golden traces through the Braintrust SDK", () => {
  it.scoped("every capture arrives at Braintrust exactly as reduced, and re-import is a no-op", () =>
    Effect.gen(function* () {
      const fake = yield* acquireFakeBraintrust({ apiKey: "golden-key" })
      const sink = yield* BraintrustSpanSink.make({
        apiKey: Redacted.make("golden-key"),
        project: "codex",
        appUrl: fake.url,
        requestTimeout: "10 seconds",
        retries: 0
      })
      const expected: Array<SpanRow> = []
      for (const scenario of SCENARIOS) {
        const { rows } = yield* importToMemory([rolloutFiles(scenario)[0]!])
        expected.push(...rows)
        const summary = yield* importPaths([rolloutFiles(scenario)[0]!]).pipe(Effect.provide(pipelineLayer(sink)))
        expect(summary.errors).toEqual([])
        expect(summary.spans).toBe(rows.length)
      }
      const stored = fake.rows()
      expect(stored.size).toBe(expected.length)
      for (const row of expected) {
        const got = stored.get(row.id)
        expect(got, `row ${row.span_attributes.name} ${row.id}`).toBeDefined()
        const server = fromServer(got!)
        const mine = asStored(row)
        // the SDK adds its own metric keys only if we gave none; ours must all arrive unchanged
        expect(server).toEqual(mine)
      }

      // importing everything again sends the same rows: nothing new is stored, nothing changes
      const before = new Map(stored)
      for (const scenario of SCENARIOS) {
        yield* importPaths([rolloutFiles(scenario)[0]!]).pipe(Effect.provide(pipelineLayer(sink)))
      }
      const after = fake.rows()
      expect(after.size).toBe(before.size)
      for (const [id, row] of before) expect(fromServer(after.get(id)!)).toEqual(fromServer(row))
    })
  , 120_000)
})
