/**
 * Skills in the trace: a tool call that reads a skill's SKILL.md marks the tool and its turn;
 * a prompt that names a skill ($name, skill://name, /skills name) marks the turn.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { skillLoadedBy, skillsRequestedIn } from "../src/reducer/skills"
import { rolloutFiles } from "./support/fixtures"
import { importToMemory } from "./support/pipeline"

describe("skills", () => {
  it("names in prompts, not shell variables", () => {
    expect(skillsRequestedIn("Use $pdf-tools and skill://csv.v2, then /skills lint-fix; echo $HOME $PATH costs $5")).toEqual(["pdf-tools", "csv.v2", "lint-fix"])
    expect(skillsRequestedIn("nothing here")).toEqual([])
    expect(skillLoadedBy({ cmd: "sed -n '1,200p' /home/dev/.codex/skills/pdf-tools/SKILL.md" })).toBe("pdf-tools")
    expect(skillLoadedBy({ cmd: "cat README.md" })).toBeUndefined()
  })

  it.effect("a real session where the model reads a SKILL.md the prompt asked for", () =>
    Effect.gen(function* () {
      const original = fs.readFileSync(rolloutFiles("shell-tool")[0]!, "utf8")
      const changed = original
        .replaceAll("Run echo hi and then ls", "Use $pdf-tools: run echo hi and then ls")
        .replaceAll('cmd\\":\\"echo hi', 'cmd\\":\\"cat /home/dev/.codex/skills/pdf-tools/SKILL.md')
      expect(changed).not.toBe(original)
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "trace-codex-skills-")), "rollout.jsonl")
      fs.writeFileSync(file, changed)
      const { rows } = yield* importToMemory([file])
      const turn = rows.find((r) => r.span_attributes.name === "turn: 1")!
      expect(turn.metadata["skills_requested"]).toEqual(["pdf-tools"])
      expect(turn.metadata["skills_loaded"]).toEqual(["pdf-tools"])
      const tools = rows.filter((r) => r.span_attributes.type === "tool")
      expect(tools.filter((t) => t.metadata["skill"] === "pdf-tools")).toHaveLength(1)
      expect(tools).toHaveLength(2)
    })
  )
})
