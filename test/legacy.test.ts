/**
 * Older rollout formats (fixtures/legacy, synthetic: see its README): no envelope, no
 * ordinals, no task_started, usage only from token_count. The trees must still satisfy the
 * invariants, with turns, prompts, model calls, tool errors and token totals recovered.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { checkTreeInvariants } from "../src/domain/invariants"
import type { SpanRow } from "../src/domain/SpanRow"
import { importToMemory } from "./support/pipeline"

const LEGACY = path.resolve(__dirname, "../fixtures/legacy")
const ofType = (rows: ReadonlyArray<SpanRow>, type: string) =>
  rows.filter((r) => r.span_attributes.type === type).sort((a, b) => a.metrics.start - b.metrics.start || a.id.localeCompare(b.id))
const turns = (rows: ReadonlyArray<SpanRow>) => rows.filter((r) => r.span_attributes.name.startsWith("turn:")).sort((a, b) => a.span_attributes.name.localeCompare(b.span_attributes.name))

describe("older rollout formats", () => {
  it.effect("bare objects without an envelope (pre Sep 2025)", () =>
    Effect.gen(function* () {
      const { rows, summary } = yield* importToMemory([path.join(LEGACY, "bare-2025-06.jsonl")])
      expect(summary.errors).toEqual([])
      expect(summary.malformedLines).toBe(0)
      expect(checkTreeInvariants(rows)).toEqual([])
      const root = rows.find((r) => r.span_parents.length === 0)!
      expect(root.metadata["session_id"]).toBe("0197a000-0000-7000-8000-000000000001")
      expect(root.metadata["git_branch"]).toBe("main")
      expect(turns(rows).map((t) => [t.span_attributes.name, t.input, t.output])).toEqual([
        ["turn: 1", "List the files.", "There is one file: README.md."],
        ["turn: 2", "Now fail.", "It failed."]
      ])
      expect(ofType(rows, "llm")).toHaveLength(4)
      // no timestamps in this format: order the tools by the turn they belong to
      const turnName = (r: SpanRow) => rows.find((t) => t.span_id === r.span_parents[0])?.span_attributes.name ?? ""
      const tools = ofType(rows, "tool").sort((a, b) => turnName(a).localeCompare(turnName(b)))
      expect(tools.map((t) => [t.span_attributes.name, t.metadata["exit_code"], t.error ?? null])).toEqual([
        ["shell", 0, null],
        ["shell", 1, "exited with code 1"]
      ])
      expect(tools[0]!.input).toEqual({ command: ["ls"] })
    })
  )

  it.effect("envelope without ordinals, user_message events, usage from token_count only", () =>
    Effect.gen(function* () {
      const { rows, summary } = yield* importToMemory([path.join(LEGACY, "envelope-no-usage-records.jsonl")])
      expect(summary.errors).toEqual([])
      expect(checkTreeInvariants(rows)).toEqual([])
      const [turn] = turns(rows)
      expect(turn!.input).toBe("Run the tests.")
      expect(turn!.output).toBe("One test fails.")
      expect(turn!.metadata["model"]).toBe("gpt-5-codex")
      const llm = ofType(rows, "llm")
      // two model calls: the grown totals, not the repeated unchanged token_count
      expect(llm).toHaveLength(2)
      expect(llm.reduce((s, r) => s + (r.metrics["prompt_tokens"] ?? 0), 0)).toBe(2300)
      expect(llm.reduce((s, r) => s + (r.metrics["completion_tokens"] ?? 0), 0)).toBe(70)
      expect(llm[0]!.span_attributes.name).toBe("gpt-5-codex")
      expect(llm[0]!.output).toMatchObject({ reasoning: ["**Running tests**"], tool_calls: [{ id: "call_env_1" }] })
      const [tool] = ofType(rows, "tool")
      expect(tool!.error).toBe("exited with code 2")
      expect(tool!.metrics.end - tool!.metrics.start).toBeCloseTo(2, 1)
    })
  )

  it.effect("a token_count that grows only after the tool output still lands on its model call", () =>
    Effect.gen(function* () {
      const at = (s: number) => new Date(Date.UTC(2025, 9, 1, 9, 0, s)).toISOString()
      const usage = (input: number, output: number) => ({
        type: "token_count",
        info: { total_token_usage: { input_tokens: input, output_tokens: output, total_tokens: input + output } }
      })
      const lines = [
        { timestamp: at(0), type: "session_meta", payload: { id: "0199a000-0000-7000-8000-000000000003", timestamp: at(0), cwd: "/w" } },
        { timestamp: at(1), type: "response_item", payload: { type: "message", role: "user", content: [{ type: "input_text", text: "go" }] } },
        { timestamp: at(2), type: "response_item", payload: { type: "function_call", name: "shell", arguments: '{"command":["true"]}', call_id: "c1" } },
        { timestamp: at(3), type: "response_item", payload: { type: "function_call_output", call_id: "c1", output: "ok" } },
        { timestamp: at(3), type: "event_msg", payload: usage(500, 20) },
        { timestamp: at(4), type: "response_item", payload: { type: "message", role: "assistant", content: [{ type: "output_text", text: "done" }] } },
        { timestamp: at(5), type: "event_msg", payload: usage(1200, 30) }
      ]
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "trace-codex-legacy-"))
      const file = path.join(dir, "late-usage.jsonl")
      fs.writeFileSync(file, lines.map((l) => JSON.stringify(l)).join("\n") + "\n")
      const { rows } = yield* importToMemory([file])
      expect(checkTreeInvariants(rows)).toEqual([])
      const llm = ofType(rows, "llm")
      expect(llm.map((r) => [r.metrics["prompt_tokens"], r.metrics["completion_tokens"]])).toEqual([
        [500, 20],
        [700, 10]
      ])
      expect(llm[0]!.metrics.end).toBe(Date.parse(at(2)) / 1000)
    })
  )
})
