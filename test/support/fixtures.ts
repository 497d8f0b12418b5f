/**
 * Access to the real Codex 0.169 captures in fixtures/: each scenario's rollout files (main
 * first, subagents after) and hook payloads, read synchronously for tests.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { decodeRolloutLine, type RolloutLine } from "../../src/domain/Rollout"

export const FIXTURES = path.resolve(__dirname, "../../fixtures/codex-0.169")

export const SCENARIOS = ["simple", "shell-tool", "apply-patch", "multi-turn", "parallel-reasoning", "tool-failure", "subagent", "compaction"] as const
export type Scenario = (typeof SCENARIOS)[number]

const walk = (dir: string): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]))

/** rollout files of a scenario, the main thread's first (subagent files start with a later time) */
export const rolloutFiles = (scenario: Scenario): Array<string> =>
  walk(path.join(FIXTURES, scenario, "rollouts"))
    .filter((f) => f.endsWith(".jsonl"))
    .sort((a, b) => path.basename(a).localeCompare(path.basename(b)))

export const decodedLines = (file: string): Array<RolloutLine> =>
  fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .flatMap((l) => {
      const d = decodeRolloutLine(l)
      return d.kind === "malformed" ? [] : [d]
    })

export const rawLines = (file: string): Array<Record<string, unknown>> =>
  fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>)
