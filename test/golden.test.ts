/**
 * Golden traces: every real Codex 0.169 capture in fixtures/ is imported through the real
 * pipeline and checked (1) against the SPEC §6 invariants, with the expected counts and token
 * totals computed independently from the raw rollout lines, and (2) against a reviewed
 * snapshot of the tree (test/__snapshots__/<scenario>.tree.txt) and of the rows.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as path from "node:path"
import { renderTree } from "../src/commands/render"
import { checkTreeInvariants } from "../src/domain/invariants"
import type { SpanRow } from "../src/domain/SpanRow"
import { SpanKeys } from "../src/domain/ids"
import { rolloutFiles, SCENARIOS, type Scenario } from "./support/fixtures"
import { importToMemory } from "./support/pipeline"
import { threadFacts } from "./support/rolloutFacts"

/** the spans of one thread: those under its scope root (the session root or its subagent span) */
const spansOfThread = (rows: ReadonlyArray<SpanRow>, threadId: string, isSubagent: boolean): Array<SpanRow> => {
  const byId = new Map(rows.map((r) => [r.id, r]))
  const scopeRoot = isSubagent ? SpanKeys.subagent(threadId) : rows.find((r) => r.span_parents.length === 0)?.id
  const ownScope = (r: SpanRow): boolean => {
    let cur: SpanRow | undefined = r
    while (cur) {
      const parentId: string | undefined = cur.span_parents[0]
      if (parentId === scopeRoot) return true
      if (parentId === undefined) return false
      const parent = byId.get(parentId)
      if (!parent || parent.span_attributes.name.startsWith("subagent:")) return false
      cur = parent
    }
    return false
  }
  return rows.filter(ownScope)
}

export const byTime = (rows: ReadonlyArray<SpanRow>): Array<SpanRow> =>
  [...rows].sort((a, b) => a.metrics.start - b.metrics.start || a.metrics.end - b.metrics.end || a.id.localeCompare(b.id))

/** rows with their volatile parts removed, for a stable, readable snapshot */
const snapshotRows = (rows: ReadonlyArray<SpanRow>) =>
  byTime(rows).map((r) => ({
    name: r.span_attributes.name,
    type: r.span_attributes.type,
    id: r.id,
    parent: r.span_parents[0] ?? null,
    metrics: r.metrics,
    error: r.error ?? null,
    metadata: Object.fromEntries(Object.entries(r.metadata).filter(([k]) => k !== "transcript_path" && k !== "changes"))
  }))

describe("golden traces from real Codex 0.169 captures", () => {
  for (const scenario of SCENARIOS) {
    it.effect(scenario, () =>
      Effect.gen(function* () {
        const files = rolloutFiles(scenario as Scenario)
        const { rows, summary } = yield* importToMemory([files[0]!])
        expect(summary.errors).toEqual([])
        expect(summary.malformedLines).toBe(0)
        expect(summary.sessions).toBe(1)
        expect(checkTreeInvariants(rows)).toEqual([])

        const facts = files.map(threadFacts)
        const root = rows.find((r) => r.span_parents.length === 0)!
        expect(root.span_attributes.name).toBe("codex: work")
        expect(root.metrics.start).toBe(facts[0]!.firstTimeMs / 1000)

        for (const f of facts) {
          const sub = f.parentThreadId !== undefined
          const own = spansOfThread(rows, f.threadId, sub)
          const llm = own.filter((r) => r.span_attributes.type === "llm")
          // one model call = one llm span (plain or compaction), keyed by response id
          expect(llm.length).toBe(f.responseIds.size)
          expect(new Set(llm.map((r) => r.metadata["response_id"]))).toEqual(f.responseIds)
          // per-thread token totals equal Codex's own final totals
          expect(llm.reduce((s, r) => s + (r.metrics["prompt_tokens"] ?? 0), 0)).toBe(f.finalInputTokens)
          expect(llm.reduce((s, r) => s + (r.metrics["completion_tokens"] ?? 0), 0)).toBe(f.finalOutputTokens)
          expect(own.filter((r) => r.span_attributes.type === "tool").length).toBe(f.toolCalls)
          expect(own.filter((r) => r.span_attributes.name === "compaction").length).toBe(f.compactions)
          if (sub) {
            const span = rows.find((r) => r.id === SpanKeys.subagent(f.threadId))!
            expect(span.span_parents).toEqual([SpanKeys.turn(f.parentThreadId!, f.parentTurnId!)])
          }
        }

        const tree = renderTree(rows, { color: false })
        yield* Effect.promise(() => expect(tree + "\n").toMatchFileSnapshot(path.join(__dirname, "__snapshots__", `${scenario}.tree.txt`)))
        yield* Effect.promise(() =>
          expect(JSON.stringify(snapshotRows(rows), null, 1) + "\n").toMatchFileSnapshot(path.join(__dirname, "__snapshots__", `${scenario}.rows.json`))
        )
      })
    )
  }

  it.effect("specific facts: errors, exit codes, denial, compaction summary, interrupt-free turns", () =>
    Effect.gen(function* () {
      const failures = yield* importToMemory([rolloutFiles("tool-failure")[0]!])
      const tools = failures.rows.filter((r) => r.span_attributes.type === "tool")
      expect(tools.map((t) => [t.span_attributes.name, t.error?.split(":")[0] ?? null])).toEqual([
        ["exec_command", "exited with code 1"],
        ["no_such_tool", "unsupported call"],
        ["exec_command", "Command blocked by PreToolUse hook"],
        ["exec_command", "failed to parse function arguments"]
      ])
      expect(tools[0]!.metadata["exit_code"]).toBe(1)
      expect(tools[2]!.metadata["approval"]).toBe("denied")
      expect(tools[0]!.input).toEqual({ cmd: "echo about to fail >&2; exit 1", yield_time_ms: 1000 })

      const compaction = yield* importToMemory([rolloutFiles("compaction")[0]!])
      const spans = compaction.rows.filter((r) => r.span_attributes.name === "compaction")
      expect(spans).toHaveLength(2)
      expect(spans[0]!.output).toBe("FAKE-SUMMARY: the user asked for a long task; step1 (echo step1) already ran.")
      expect(spans[0]!.span_attributes.type).toBe("llm")
      // the call after a compaction sees the replaced history, not the old one
      const after = compaction.rows.find((r) => r.metadata["response_id"] === "resp_fake_3")!
      const input = after.input as ReadonlyArray<{ content: string | null }>
      expect(input.some((m) => m.content?.startsWith("Another language model started to solve this problem"))).toBe(true)
      expect(input.some((m) => m.content?.includes("Chunk ID: f97c29"))).toBe(false)

      const multi = yield* importToMemory([rolloutFiles("multi-turn")[0]!])
      const turns = multi.rows.filter((r) => r.span_attributes.name.startsWith("turn:"))
      expect(turns.map((t) => t.span_attributes.name)).toEqual(["turn: 1", "turn: 2", "turn: 3"])
      const root = multi.rows.find((r) => r.span_parents.length === 0)!
      // the root ends with the last turn, not the first (resume moves it forward)
      expect(root.metrics.end).toBe(Math.max(...turns.map((t) => t.metrics.end)))
      expect(root.output).toBe("You're welcome.")
    })
  )
})
