/**
 * The command line as a user runs it: `bin/trace-codex` (the built bundle) on the real
 * captures, with a temporary state dir and CODEX_HOME. Checks exit codes, what is printed,
 * and what lands in the local span store.
 */
import { describe, expect, it } from "@effect/vitest"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Effect from "effect/Effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { readLocalTrace } from "../layers/LocalSpanSink"
import { FIXTURES, rolloutFiles } from "./support/fixtures"
import { importToMemory } from "./support/pipeline"

const BIN = path.resolve(__dirname, "../bin/trace-codex")

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "trace-codex-cli-"))

const run = (args: ReadonlyArray<string>, env: Record<string, string> = {}, input?: string) => {
  const r = spawnSync(BIN, args, {
    encoding: "utf8",
    input: input ?? "",
    env: { PATH: process.env["PATH"] ?? "", HOME: os.tmpdir(), ...env },
    timeout: 60_000
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

const byId = <T extends { id: string }>(rows: ReadonlyArray<T>) => [...rows].sort((a, b) => a.id.localeCompare(b.id))

describe("trace-codex import", () => {
  it.effect("imports a session with its subagent into the local store; importing again changes nothing", () =>
    Effect.gen(function* () {
      const state = tempDir()
      const main = rolloutFiles("subagent")[0]!
      const first = run(["import", main], { TRACE_CODEX_STATE_DIR: state })
      expect(first.stderr).toBe("")
      expect(first.code).toBe(0)
      expect(first.stdout.trim()).toBe("imported 1 sessions, 12 spans, 0 errors (delivered to local)")
      const expected = (yield* importToMemory([main])).rows
      const root = expected.find((r) => r.span_parents.length === 0)!
      const stored = yield* readLocalTrace(state, root.root_span_id).pipe(Effect.provide(NodeContext.layer))
      expect(byId(stored)).toEqual(byId(expected))

      const second = run(["import", main], { TRACE_CODEX_STATE_DIR: state })
      expect(second.code).toBe(0)
      expect(second.stdout.trim()).toBe("imported 1 sessions, 0 spans, 0 errors (delivered to local, 1 unchanged since the last import skipped (--force sends them again))")
      const forced = run(["import", "--force", main], { TRACE_CODEX_STATE_DIR: state })
      expect(forced.stdout.trim()).toBe("imported 1 sessions, 12 spans, 0 errors (delivered to local)")
      const again = yield* readLocalTrace(state, root.root_span_id).pipe(Effect.provide(NodeContext.layer))
      expect(byId(again)).toEqual(byId(expected))
      const mode = fs.statSync(path.join(state, "spans")).mode & 0o777
      expect(mode).toBe(0o700)
    })
  )

  it("an import that stopped part way picks up where it stopped: delivered sessions are skipped, grown ones sent again", () => {
    const state = tempDir()
    const first = run(["import", rolloutFiles("subagent")[0]!], { TRACE_CODEX_STATE_DIR: state })
    expect(first.code).toBe(0)
    const rest = run(["import", FIXTURES], { TRACE_CODEX_STATE_DIR: state })
    expect(rest.stdout.trim()).toBe("imported 8 sessions, 50 spans, 0 errors (delivered to local, 1 unchanged since the last import skipped (--force sends them again))")
    // a session that grew after its import (resumed) is imported again
    const copy = path.join(tempDir(), "rollout.jsonl")
    fs.copyFileSync(rolloutFiles("simple")[0]!, copy)
    run(["import", copy], { TRACE_CODEX_STATE_DIR: state })
    fs.appendFileSync(copy, "\n")
    fs.utimesSync(copy, new Date(), new Date(Date.now() + 5000))
    const grown = run(["import", copy], { TRACE_CODEX_STATE_DIR: state })
    expect(grown.stdout.trim()).toBe("imported 1 sessions, 3 spans, 0 errors (delivered to local)")
  })

  it("imports a whole folder of sessions, recursively", () => {
    const state = tempDir()
    const r = run(["import", FIXTURES], { TRACE_CODEX_STATE_DIR: state })
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^imported 8 sessions, 62 spans, 0 errors \(delivered to local\)$/m)
    expect(fs.readdirSync(path.join(state, "spans"))).toHaveLength(8)
  })

  it("--all reads $CODEX_HOME/sessions; --dry-run delivers nothing", () => {
    const home = tempDir()
    fs.cpSync(path.join(FIXTURES, "multi-turn", "rollouts", "sessions"), path.join(home, "sessions"), { recursive: true })
    const state = tempDir()
    const r = run(["import", "--all", "--dry-run"], { CODEX_HOME: home, TRACE_CODEX_STATE_DIR: state })
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe("imported 1 sessions, 9 spans, 0 errors (dry run, nothing delivered)")
    expect(fs.existsSync(path.join(state, "spans"))).toBe(false)
  })

  it("--since filters by session start", () => {
    const state = tempDir()
    const later = run(["import", "--since", "2027-01-01", FIXTURES], { TRACE_CODEX_STATE_DIR: state })
    expect(later.stdout.trim()).toBe("imported 0 sessions, 0 spans, 0 errors (delivered to local)")
    const bad = run(["import", "--since", "last tuesday", FIXTURES], { TRACE_CODEX_STATE_DIR: state })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain("--since: cannot read")
  })

  it("counts and skips malformed lines; reports missing paths with a non-zero exit", () => {
    const dir = tempDir()
    const file = path.join(dir, "rollout-2026-11-22T03-09-57-01a2013b-5d1b-71c2-8afe-85eead9076e7.jsonl")
    const lines = fs.readFileSync(rolloutFiles("simple")[0]!, "utf8").split("\n")
    lines.splice(5, 0, "{not json", "\u0000\u0001garbage", '{"type":"event_msg","payload":')
    fs.writeFileSync(file, lines.join("\n"))
    const state = tempDir()
    const r = run(["import", file], { TRACE_CODEX_STATE_DIR: state })
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe("imported 1 sessions, 3 spans, 0 errors (delivered to local, 3 malformed lines skipped)")
    const missing = run(["import", path.join(dir, "nope.jsonl")], { TRACE_CODEX_STATE_DIR: state })
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain("nope.jsonl: no such file or folder")
  })

  it("without paths explains what to give", () => {
    const r = run(["import"], { TRACE_CODEX_STATE_DIR: tempDir() })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("nothing to import")
  })
})

describe("trace-codex show", () => {
  it("draws the tree of a rollout and verifies the invariants", () => {
    const r = run(["show", "--check", rolloutFiles("tool-failure")[0]!])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("└─ turn: 1")
    expect(r.stdout).toContain("✗ exited with code 1")
    expect(r.stdout).toContain("5 model calls")
    expect(r.stderr).toContain("invariants: ok")
  })

  it("finds a session by id under $CODEX_HOME, and says so when it cannot", () => {
    const home = tempDir()
    fs.cpSync(path.join(FIXTURES, "subagent", "rollouts", "sessions"), path.join(home, "sessions"), { recursive: true })
    const r = run(["show", "01a2013a-c59e-7853-88d7-3cc0e93226b8"], { CODEX_HOME: home })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("subagent: Curie")
    const missing = run(["show", "no-such-session"], { CODEX_HOME: home })
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('no rollout file "no-such-session"')
  })

  it("--json prints one row per span", () => {
    const r = run(["show", "--json", rolloutFiles("shell-tool")[0]!])
    const rows = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { span_attributes: { type: string } })
    expect(rows.map((x) => x.span_attributes.type).sort()).toEqual(["llm", "llm", "llm", "task", "task", "tool", "tool"])
  })
})

describe("trace-codex hook", () => {
  it("spools each payload, starts the drainer, and the session reaches the local store; garbage exits 0 too", () => {
    const state = tempDir()
    const rollout = path.join(tempDir(), "rollout.jsonl")
    fs.copyFileSync(rolloutFiles("shell-tool")[0]!, rollout)
    const env = { TRACE_CODEX_STATE_DIR: state, TRACE_CODEX_DRAIN_IDLE_MS: "300" }
    const hooks = fs.readFileSync(path.join(FIXTURES, "shell-tool", "hooks.ndjson"), "utf8").split("\n").filter((l) => l !== "")
    for (const line of hooks) {
      const payload = { ...(JSON.parse(line) as { payload: Record<string, unknown> }).payload, transcript_path: rollout }
      const r = run(["hook"], env, JSON.stringify(payload))
      expect(r.code).toBe(0)
      expect(r.stdout).toBe("")
    }
    const flushed = run(["flush", "--timeout", "30"], env)
    expect(flushed.stderr.replace("a drainer is running: waiting for it to deliver\n", "")).toBe("")
    expect(flushed.code).toBe(0)
    const journal = path.join(state, "journal", "01a2013a-9ba2-7f60-9bd9-ba69e3de7bf8.ndjson")
    expect(fs.readFileSync(journal, "utf8").trim().split("\n")).toHaveLength(hooks.length)
    expect(fs.statSync(journal).mode & 0o777).toBe(0o600)
    const status = JSON.parse(run(["status", "--json"], env).stdout) as { sessions: Array<{ sessionId: string; upToDate: boolean; sink: string }> }
    expect(status.sessions).toMatchObject([{ sessionId: "01a2013a-9ba2-7f60-9bd9-ba69e3de7bf8", upToDate: true, sink: "local" }])
    const stored = fs.readdirSync(path.join(state, "spans"))
    expect(stored).toHaveLength(1)
    // status links the trace: for the local store, its file
    expect(run(["status"], env).stdout).toContain(`trace: file://${path.join(state, "spans", stored[0]!)}`)
    const ids = new Set(fs.readFileSync(path.join(state, "spans", stored[0]!), "utf8").trim().split("\n").map((l) => (JSON.parse(l) as { id: string }).id))
    const imported = run(["show", "--json", rollout]).stdout.trim().split("\n").map((l) => (JSON.parse(l) as { id: string }).id)
    expect([...ids].sort()).toEqual([...imported].sort())

    for (const garbage of ["", "not json", "[]", '{"hook_event_name":"Stop"}']) {
      const r = run(["hook"], env, garbage)
      expect(r.code).toBe(0)
      expect(r.stdout).toBe("")
    }
    // an unwritable state dir: still exit 0, nothing on stdout
    const blocked = path.join(tempDir(), "file")
    fs.writeFileSync(blocked, "")
    const r = run(["hook"], { TRACE_CODEX_STATE_DIR: path.join(blocked, "state") }, hooks[0]!)
    expect(r.code).toBe(0)
    expect(r.stdout).toBe("")
  })
})

describe("logs", () => {
  it("rotate past 1 MiB: drainer.log when the drainer writes, hook.log (the hooks only append) when a drainer starts", () => {
    const state = tempDir()
    const logs = path.join(state, "logs")
    fs.mkdirSync(logs, { recursive: true, mode: 0o700 })
    const big = "x".repeat(1024 * 1024 + 1) + "\n"
    fs.writeFileSync(path.join(logs, "hook.log"), `old hook lines\n${big}`)
    fs.writeFileSync(path.join(logs, "drainer.log"), `old drainer lines\n${big}`)
    // a drainer (as the hooks start it; here in the foreground) logs that it started, and exits when idle
    const r = run(["drain"], { TRACE_CODEX_STATE_DIR: state, TRACE_CODEX_DRAIN_IDLE_MS: "300" })
    expect(r.code, r.stderr).toBe(0)
    expect(fs.readFileSync(path.join(logs, "hook.log.1"), "utf8")).toMatch(/^old hook lines\n/)
    expect(fs.existsSync(path.join(logs, "hook.log"))).toBe(false)
    expect(fs.readFileSync(path.join(logs, "drainer.log.1"), "utf8")).toMatch(/^old drainer lines\n/)
    expect(fs.statSync(path.join(logs, "drainer.log")).size).toBeLessThan(64 * 1024)
  })
})

describe("help", () => {
  it("--version and per-command --help teach", () => {
    expect(run(["--version"]).stdout).toMatch(/\d+\.\d+\.\d+/)
    const help = run(["import", "--help"]).stdout
    expect(help).toContain("--dry-run")
    expect(help).toContain("subagent rollouts beside a session nest under the turn")
  })
})
