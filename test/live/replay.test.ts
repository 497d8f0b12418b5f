/**
 * Live capture replayed from the real captures: for every scenario, the hook payloads Codex sent
 * are spooled in their order, each with the transcript as long as it was when that hook ran
 * (`transcript_state.lines` in the capture), and a drainer pass runs after each one — a new pass
 * every time, so each resumes from the checkpoint on disk, as a restarted drainer would. The
 * rows delivered at the end must be the rows `import` gives for the same rollouts: same span
 * ids, same tree, same content; only hook-only metadata differs.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { type InMemorySpanSink, makeInMemorySpanSink } from "../../layers/InMemorySpanSink"
import { checkTreeInvariants } from "../../src/domain/invariants"
import type { SpanRow } from "../../src/domain/SpanRow"
import { runDrainer } from "../../src/Drainer"
import { HOOK_ONLY_METADATA_KEYS } from "../../src/live/hookFacts"
import { stateLayout } from "../../src/live/layout"
import { liveReducerOptions } from "../../src/live/sessionSetup"
import { TranscriptParser } from "../../src/TranscriptParser"
import { FIXTURES, SCENARIOS, type Scenario } from "../support/fixtures"
import { importToMemory } from "../support/pipeline"


interface CapturedHook {
  readonly t_ms: number
  readonly payload: Record<string, unknown>
  readonly transcript_state?: { readonly lines?: number }
}

const capturedHooks = (scenario: Scenario): Array<CapturedHook> =>
  fs
    .readFileSync(path.join(FIXTURES, scenario, "hooks.ndjson"), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as CapturedHook)

const walk = (dir: string): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]))

/** a scratch CODEX_HOME holding the scenario's rollouts, and the path rewriting for its payloads */
const scratch = (scenario: Scenario) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `trace-codex-replay-${scenario}-`))
  const home = path.join(dir, "home")
  const source = path.join(FIXTURES, scenario, "rollouts")
  const full = new Map<string, Array<string>>()
  for (const file of walk(source).filter((f) => f.endsWith(".jsonl"))) {
    const target = path.join(home, path.relative(source, file))
    fs.mkdirSync(path.dirname(target), { recursive: true })
    full.set(target, fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "").map((l) => l + "\n"))
    fs.writeFileSync(target, "")
  }
  const prefix = `/codex-run/${scenario}/home/`
  const rewrite = (value: unknown): unknown =>
    typeof value === "string" && value.startsWith(prefix) ? path.join(home, value.slice(prefix.length)) : value
  return { dir, home, full, rewrite, state: path.join(dir, "state") }
}

const growTo = (file: string, lines: ReadonlyArray<string>, count: number) => {
  const now = fs.readFileSync(file, "utf8")
  const want = lines.slice(0, count).join("")
  if (want.length > now.length) fs.writeFileSync(file, want)
}

const drainOnce = (stateDir: string, sink: InMemorySpanSink) =>
  runDrainer({
    layout: stateLayout(stateDir),
    sessionSetup: () => Effect.succeed({ sink, options: liveReducerOptions, settings: undefined }),
    mode: "flush",
    idleMs: 0,
    pollMs: 5,
    tailAfterStopMs: 0,
    batchRows: 500,
    deadlineMs: Date.now() + 10_000
  }).pipe(Effect.provide(Layer.provideMerge(TranscriptParser.Default, NodeContext.layer)))

const comparable = (row: SpanRow) => {
  const metadata = Object.fromEntries(Object.entries(row.metadata ?? {}).filter(([k]) => !HOOK_ONLY_METADATA_KEYS.includes(k)))
  return { ...row, metadata }
}

export const replayScenario = (scenario: Scenario, until?: (event: unknown) => boolean) =>
  Effect.gen(function* () {
    const s = scratch(scenario)
    const sink = yield* makeInMemorySpanSink
    let seq = 0
    for (const hook of capturedHooks(scenario)) {
      const payload = Object.fromEntries(Object.entries(hook.payload).map(([k, v]) => [k, s.rewrite(v)]))
      const transcript = typeof payload["transcript_path"] === "string" ? payload["transcript_path"] : undefined
      const lines = transcript !== undefined ? s.full.get(transcript) : undefined
      if (transcript && lines && hook.transcript_state?.lines !== undefined) growTo(transcript, lines, hook.transcript_state.lines)
      const id = `${BigInt(Math.round(hook.t_ms)) * 1_000_000n + BigInt(seq++)}-${4000 + seq}`
      fs.mkdirSync(path.join(s.state, "spool"), { recursive: true })
      fs.writeFileSync(path.join(s.state, "spool", `${id}.json`), JSON.stringify(payload))
      yield* drainOnce(s.state, sink)
      if (until?.(payload["hook_event_name"])) {
        return { live: yield* sink.rows, imported: [], last: undefined, stateDir: s.state }
      }
    }
    for (const [file, lines] of s.full) growTo(file, lines, lines.length)
    const last = yield* drainOnce(s.state, sink)
    const imported = yield* importToMemory([s.home])
    return { live: yield* sink.rows, imported: imported.rows, last, stateDir: s.state }
  })

describe("live capture replayed from the real captures equals import", () => {
  for (const scenario of SCENARIOS) {
    it.effect(scenario, () =>
      Effect.gen(function* () {
        const { imported, last, live } = yield* replayScenario(scenario)
        expect(last?.undelivered).toEqual([])
        expect(checkTreeInvariants(live)).toEqual([])
        const byId = (rows: ReadonlyArray<SpanRow>) => new Map(rows.map((r) => [r.id, comparable(r)]))
        const liveById = byId(live)
        const importById = byId(imported)
        expect([...liveById.keys()].sort()).toEqual([...importById.keys()].sort())
        for (const [id, row] of importById) expect({ id, row: liveById.get(id) }).toEqual({ id, row })
        // the hook-only facts did arrive
        const root = live.find((r) => r.span_parents.length === 0)!
        expect(root.metadata["session_start_source"]).toBe("startup")
        expect(root.metadata["permission_mode"]).toBeTypeOf("string")
      })
    )
  }

  it.effect("at Stop, before Codex writes task_complete, the turn already shows its answer", () =>
    Effect.gen(function* () {
      const stop = capturedHooks("shell-tool").find((h) => h.payload["hook_event_name"] === "Stop")!
      const { live } = yield* replayScenario("shell-tool", (event) => event === "Stop")
      const turn = live.find((r) => r.span_attributes.name === "turn: 1")!
      expect(turn.output).toBe(stop.payload["last_assistant_message"])
      expect(turn.error).toBeUndefined()
      expect(turn.metrics.end).toBeGreaterThanOrEqual(stop.t_ms / 1000 - 0.001)
      expect(checkTreeInvariants(live)).toEqual([])
    })
  )
})
