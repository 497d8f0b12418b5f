/**
 * Properties of the parser + reducer that every user relies on without knowing it:
 * re-reduction is deterministic (same rows, same ids), delivery batching does not change the
 * result, importing twice is a no-op in effect, and no input — random bytes, truncated lines,
 * reordered or dropped records, arbitrary JSON — makes them throw or produce a broken row.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fc from "effect/FastCheck"
import * as fs from "node:fs"
import { decodeRolloutLine, type RolloutLine } from "../src/domain/Rollout"
import type { SpanRow } from "../src/domain/SpanRow"
import { reduceTranscripts } from "../src/SessionReducer"
import { rolloutFiles, SCENARIOS } from "./support/fixtures"
import { importToMemory } from "./support/pipeline"

const textLines = (file: string): Array<string> => fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "")

const decodeAll = (lines: ReadonlyArray<string>): Array<RolloutLine> =>
  lines.flatMap((l) => {
    const d = decodeRolloutLine(l)
    return d.kind === "malformed" ? [] : [d]
  })

const wellFormed = (rows: ReadonlyArray<SpanRow>): void => {
  const ids = new Set<string>()
  for (const r of rows) {
    expect(ids.has(r.id)).toBe(false)
    ids.add(r.id)
    expect(Number.isFinite(r.metrics.start)).toBe(true)
    expect(Number.isFinite(r.metrics.end)).toBe(true)
    expect(r.metrics.end).toBeGreaterThanOrEqual(r.metrics.start)
    expect(typeof r.span_attributes.name).toBe("string")
    expect(() => JSON.stringify(r)).not.toThrow()
  }
}

const byId = (rows: ReadonlyArray<SpanRow>) => [...rows].sort((a, b) => a.id.localeCompare(b.id))

const allFixtureLines = SCENARIOS.flatMap((s) => rolloutFiles(s).flatMap(textLines))

describe("determinism and idempotence", () => {
  it("re-reducing the same transcripts yields identical rows", () => {
    for (const s of SCENARIOS) {
      const inputs = () => rolloutFiles(s).map((f) => ({ source: f, lines: decodeAll(textLines(f)) }))
      expect(reduceTranscripts(inputs())).toEqual(reduceTranscripts(inputs()))
    }
  })

  it.effect("delivery batch size does not change the final rows", () =>
    Effect.gen(function* () {
      for (const s of ["subagent", "compaction", "tool-failure"] as const) {
        const whole = yield* importToMemory([rolloutFiles(s)[0]!], { batchRows: 10_000 })
        for (const batchRows of [1, 3, 7]) {
          const batched = yield* importToMemory([rolloutFiles(s)[0]!], { batchRows })
          expect(byId(batched.rows)).toEqual(byId(whole.rows))
        }
      }
    })
  )

  it.effect("importing twice delivers the same rows again: same ids, same content", () =>
    Effect.gen(function* () {
      const first = yield* importToMemory([rolloutFiles("multi-turn")[0]!])
      const second = yield* importToMemory([rolloutFiles("multi-turn")[0]!], { sink: first.sink })
      expect(byId(second.rows)).toEqual(byId(first.rows))
      const log = yield* first.sink.log
      expect(new Set(log.map((r) => r.id)).size).toBe(first.rows.length)
    })
  )

  it("a prefix of a transcript gives rows that the full transcript later replaces by id", () => {
    const file = rolloutFiles("shell-tool")[0]!
    const lines = decodeAll(textLines(file))
    const full = reduceTranscripts([{ source: file, lines }])
    const fullIds = new Set(full.map((r) => r.id))
    for (let cut = 1; cut < lines.length; cut++) {
      const partial = reduceTranscripts([{ source: file, lines: lines.slice(0, cut) }])
      wellFormed(partial)
      for (const r of partial) expect(fullIds.has(r.id)).toBe(true)
    }
  })
})

describe("robustness: never throws, never a broken row", () => {
  it("decodeRolloutLine on arbitrary strings and bytes", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.uint8Array().map((b) => Buffer.from(b).toString("utf8"))), (text) => {
        const d = decodeRolloutLine(text)
        expect(typeof d.kind).toBe("string")
      }),
      { numRuns: 500 }
    )
  })

  it("decodeRolloutLine on arbitrary JSON shaped like rollout lines", () => {
    const types = fc.constantFrom("session_meta", "turn_context", "response_item", "event_msg", "token_usage_record", "compacted", "world_state", "other")
    const payloadTypes = fc.constantFrom("message", "function_call", "function_call_output", "reasoning", "task_started", "task_complete", "token_count", "item_completed", "turn_aborted", "x")
    const line = fc.record({
      timestamp: fc.oneof(fc.constant("2026-11-22T03:09:57.421Z"), fc.string()),
      ordinal: fc.oneof(fc.nat(), fc.string()),
      type: types,
      payload: fc.oneof(fc.anything(), fc.record({ type: payloadTypes }, { requiredKeys: [] }).chain((p) => fc.dictionary(fc.string(), fc.anything()).map((extra) => ({ ...extra, ...p }))))
    })
    fc.assert(
      fc.property(line, (l) => {
        const d = decodeRolloutLine(JSON.stringify(l))
        expect(typeof d.kind).toBe("string")
      }),
      { numRuns: 1000 }
    )
  })

  it("the reducer on reordered, dropped, duplicated and truncated records of real sessions", () => {
    const source = "/tmp/fuzz/rollout.jsonl"
    const record = fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...allFixtureLines) },
      { weight: 1, arbitrary: fc.constantFrom(...allFixtureLines).chain((l) => fc.nat({ max: l.length }).map((n) => l.slice(0, n))) },
      { weight: 1, arbitrary: fc.string() }
    )
    fc.assert(
      fc.property(fc.array(record, { maxLength: 80 }), (lines) => {
        const rows = reduceTranscripts([{ source, lines: decodeAll(lines) }])
        wellFormed(rows)
      }),
      { numRuns: 300 }
    )
  })

  it("the reducer on shuffled whole sessions with subagents interleaved", () => {
    const files = rolloutFiles("subagent")
    const lines = files.map((f) => decodeAll(textLines(f)))
    fc.assert(
      fc.property(fc.shuffledSubarray(lines[0]!.map((_, i) => i)), fc.shuffledSubarray(lines[1]!.map((_, i) => i)), (mainIdx, childIdx) => {
        const rows = reduceTranscripts([
          { source: files[0]!, lines: mainIdx.map((i) => lines[0]![i]!) },
          { source: files[1]!, lines: childIdx.map((i) => lines[1]![i]!) }
        ])
        wellFormed(rows)
      }),
      { numRuns: 200 }
    )
  })
})
