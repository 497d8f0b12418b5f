/**
 * Live capture under faults (issue 3, "Done means"; SPEC §7 "faults"), with real processes: the
 * drainer is `node dist/cli.mjs drain` started as the hook starts it (detached, in /, its own
 * TRACE_CODEX_STATE_DIR), delivering through the real `braintrust` SDK to the fake Braintrust
 * server on 127.0.0.1. Sessions are the real captures replayed hook by hook against their
 * growing rollouts (as test/live/replay.test.ts does in-process). Every test ends by comparing
 * what the server stored (the latest row per id) with `import` of the same rollouts: the same
 * span ids, tree and content (hook-only metadata aside), nothing missing, nothing extra.
 *
 * - kill -9 of the drainer at seeded random points (between hooks, while a /logs3 request is
 *   being answered, mid-catch-up of a large transcript), each time continued by a new drainer;
 * - Braintrust answering 500, then refusing connections, while a session runs: the session
 *   stays pending with its error in `status`, and everything arrives after recovery;
 * - 16 sessions at once through the real sh hook, tool hooks fired concurrently;
 * - `trace-codex flush` exit codes.
 *
 * Nothing here asserts a duration: the limits only stop a broken run from hanging.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { checkTreeInvariants } from "../../src/domain/invariants"
import type { SpanRow } from "../../src/domain/SpanRow"
import { sessionCaughtUp } from "../../src/Drainer"
import { listSpool } from "../../src/Journal"
import { stateLayout } from "../../src/live/layout"
import { type FakeBraintrust, startFakeBraintrust } from "../support/fakeBraintrust"
import { SCENARIOS } from "../support/fixtures"
import {
  API_KEY,
  cli,
  copyScenario,
  differences,
  type Drainer,
  growAll,
  growForHook,
  importRows,
  liveEnv,
  type Progress,
  type ReplayHook,
  runHook,
  seededRandom,
  type SessionCopy,
  sleep,
  spoolPayload,
  startDrainer,
  startDrainerHoldingLock,
  status,
  storedRows,
  traffic,
  waitFor
} from "./liveHarness"

/** the kill points and delays come from this seed; TRACE_CODEX_FAULTS_SEED explores others */
const SEED = Number(process.env["TRACE_CODEX_FAULTS_SEED"] || 20261122)

let scratch: string
beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "trace-codex-faults-"))
})
afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true })
})

const newDir = (name: string): string => fs.mkdtempSync(path.join(scratch, `${name}-`))

/** the rows of one trace at the server */
const traceRows = (fake: FakeBraintrust, rootSpanId: string): Array<SpanRow> => storedRows(fake).filter((r) => r.root_span_id === rootSpanId)

/** the trace at the server equals `import` of the session's rollouts, and is a valid tree */
const expectEqualsImport = async (fake: FakeBraintrust, session: SessionCopy) => {
  const imported = await importRows(session.home)
  expect(imported.length, `import of ${session.scenario} gave rows`).toBeGreaterThan(0)
  const live = traceRows(fake, session.rootSpanId)
  expect(differences(live, imported), `${session.scenario} ${session.sessionId}`).toEqual([])
  expect(checkTreeInvariants(live), `${session.scenario} ${session.sessionId}`).toEqual([])
}

/** the drainer's log, to explain a failure */
const drainerLog = (stateDir: string): string => {
  try {
    return fs.readFileSync(path.join(stateDir, "logs", "drainer.log"), "utf8").slice(-4000)
  } catch {
    return "(no drainer log)"
  }
}

/** caught up as `status` sees it: nothing pending, no error, nothing in the spool */
const caughtUp = (stateDir: string, sessionId: string): boolean =>
  listSpool(stateLayout(stateDir)).length === 0 && sessionCaughtUp(stateLayout(stateDir), sessionId)

// ---------------------------------------------------------------------------------------------

describe("kill -9 of the drainer, continued by a new one", () => {
  it("at seeded random points during replayed sessions: the traces equal import, none missing, none duplicated", async () => {
    const fake = await startFakeBraintrust({ apiKey: API_KEY })
    const rand = seededRandom(SEED)
    const kills = { betweenHooks: 0, beforeAnswer: 0, afterAnswer: 0 }
    try {
      for (const scenario of ["multi-turn", "subagent", "compaction", "parallel-reasoning", "tool-failure"] as const) {
        const dir = newDir(`kill-${scenario}`)
        const session = copyScenario(scenario, dir)
        const stateDir = path.join(dir, "state")
        const env = liveEnv(stateDir, fake)
        const progress: Progress = new Map()
        let drainer: Drainer | undefined
        /** as the next hook would: a drainer unless one is running */
        const ensureDrainer = () => {
          if (!drainer?.isRunning()) drainer = startDrainer(env)
        }
        let disarm: (() => void) | undefined
        /** kill the drainer from inside the server, while it handles the drainer's next /logs3 */
        const armKillOnLogs3 = (when: "stored" | "answered") => {
          disarm?.()
          const victim = drainer
          const off = fake.onLogs3(() => {
            off()
            disarm = undefined
            if (victim?.isRunning()) {
              void victim.kill9()
              if (when === "stored") kills.beforeAnswer++
              else kills.afterAnswer++
            }
          }, { when })
          disarm = off
        }
        for (const hook of session.hooks) {
          growForHook(session, progress, hook)
          spoolPayload(stateDir, hook.tMs, hook.payload)
          ensureDrainer()
          const r = rand()
          if (r < 0.3) {
            // somewhere in intake, reduction, delivery or the checkpoint write
            await sleep(Math.floor(rand() * 600))
            if (drainer?.isRunning()) {
              await drainer.kill9()
              kills.betweenHooks++
            }
          } else if (r < 0.45) {
            armKillOnLogs3("stored")
            await sleep(Math.floor(rand() * 300))
          } else if (r < 0.6) {
            armKillOnLogs3("answered")
            await sleep(Math.floor(rand() * 300))
          } else {
            await sleep(Math.floor(rand() * 150))
          }
        }
        // Codex writes the rest (task_complete, …) after the last hooks
        growAll(session, progress)
        await waitFor(`${scenario} caught up`, async () => {
          ensureDrainer()
          return caughtUp(stateDir, session.sessionId) ? true : undefined
        })
        disarm?.()
        await (drainer as Drainer | undefined)?.exited
        await expectEqualsImport(fake, session)
      }
      const t = traffic(fake)
      console.log(`kill -9 during replayed sessions: ${JSON.stringify(kills)}; rows received ${t.rowsReceived} (${t.distinct} distinct ids, ${t.resent} re-sent unchanged) in ${t.logs3Requests} /logs3 requests`)
      expect(kills.betweenHooks + kills.beforeAnswer + kills.afterAnswer).toBeGreaterThan(0)
    } finally {
      await fake.close()
    }
  }, 300_000)

  it("mid-catch-up of a large transcript and before its checkpoint: the trace equals import, none missing, none duplicated", async () => {
    const fake = await startFakeBraintrust({ apiKey: API_KEY })
    const baselineFake = await startFakeBraintrust({ apiKey: API_KEY })
    const rand = seededRandom(SEED + 1)
    try {
      const dir = newDir("kill-large")
      const home = path.join(dir, "home")
      const sessionsDir = path.join(home, "sessions", "2026", "11", "22")
      fs.mkdirSync(sessionsDir, { recursive: true })
      const generator = (await import(path.join(__dirname, "../../bench/generate.mjs"))) as {
        generate: (sizeMb: number, outFile: string) => { bytes: number; lines: number; turns: number; threadId: string }
      }
      const tmp = path.join(sessionsDir, "generating.jsonl")
      const generated = generator.generate(4, tmp)
      const transcript = path.join(sessionsDir, `rollout-2026-11-22T03-09-07-${generated.threadId}.jsonl`)
      fs.renameSync(tmp, transcript)
      const firstLine = JSON.parse(fs.readFileSync(transcript, "utf8").split("\n", 1)[0]!) as { timestamp: string }
      // a drainer installed mid-session learns the transcript from the next hook
      const sessionStart = {
        session_id: generated.threadId,
        transcript_path: transcript,
        cwd: "/codex-run/shell-tool/work",
        hook_event_name: "SessionStart",
        model: "gpt-5.5",
        permission_mode: "default",
        source: "startup"
      }
      // small batches: the catch-up delivers and checkpoints many times on the way
      const extra = { TRACE_CODEX_BATCH_ROWS: "100" }

      // the same catch-up without faults, to tell the rows the kills made it send again
      const baselineState = path.join(dir, "baseline-state")
      spoolPayload(baselineState, Date.parse(firstLine.timestamp), sessionStart)
      await startDrainer(liveEnv(baselineState, baselineFake, extra)).exited
      expect(caughtUp(baselineState, generated.threadId)).toBe(true)
      const baseline = traffic(baselineFake)

      const stateDir = path.join(dir, "state")
      const env = liveEnv(stateDir, fake, extra)
      spoolPayload(stateDir, Date.parse(firstLine.timestamp), sessionStart)
      const kills: Array<string> = []
      /** kill the drainer while the server handles its k-th /logs3 request */
      const killAtBatch = async (drainer: Drainer, k: number, when: "stored" | "answered") => {
        let seen = 0
        const off = fake.onLogs3(() => {
          if (++seen === k) {
            off()
            void drainer.kill9()
          }
        }, { when })
        const exit = await drainer.exited
        off()
        kills.push(`${when} batch ${k}: ${exit}`)
      }
      for (let round = 0; round < 6 && !caughtUp(stateDir, generated.threadId); round++) {
        const drainer = startDrainer(env)
        const kind = round % 3
        // after the server stored the k-th batch and before it answered: delivered, never confirmed
        if (kind === 0) await killAtBatch(drainer, 1 + Math.floor(rand() * 4), "stored")
        // right after the server answered it: the checkpoint write races the kill
        else if (kind === 1) await killAtBatch(drainer, 1 + Math.floor(rand() * 4), "answered")
        else {
          // at a random moment: reading, reducing, sending or writing the checkpoint
          const delay = 300 + Math.floor(rand() * 1200)
          await Promise.race([sleep(delay), drainer.exited])
          if (drainer.isRunning()) await drainer.kill9()
          kills.push(`after ${delay} ms: ${await drainer.exited}`)
        }
      }
      const beforeLast = traffic(fake)
      await startDrainer(env).exited
      expect(caughtUp(stateDir, generated.threadId)).toBe(true)
      const t = traffic(fake)
      console.log(
        `kill -9 during the catch-up of a ${(generated.bytes / 2 ** 20).toFixed(1)} MiB transcript (${generated.lines} lines, batches of 100 rows): ${kills.join("; ")}. ` +
          `Without kills: ${baseline.rowsReceived} rows in ${baseline.logs3Requests} /logs3 requests (${baseline.distinct} ids, ${baseline.resent} sent unchanged twice). ` +
          `With kills: ${t.rowsReceived} rows in ${t.logs3Requests} requests (${t.distinct} ids, ${t.resent} sent unchanged twice), ` +
          `${t.rowsReceived - baseline.rowsReceived} more than without; the last drainer sent ${t.rowsReceived - beforeLast.rowsReceived}`
      )
      // the kills did land mid-catch-up: some rows had to be sent again
      expect(kills.length).toBeGreaterThan(1)
      expect(t.rowsReceived).toBeGreaterThan(baseline.rowsReceived)
      const imported = await importRows(home)
      const live = traceRows(fake, imported[0]!.root_span_id)
      expect(live.length).toBe(imported.length)
      expect(differences(live, imported)).toEqual([])
      expect(checkTreeInvariants(live)).toEqual([])
      expect(storedRows(fake).length).toBe(imported.length)
    } finally {
      await fake.close()
      await baselineFake.close()
    }
  }, 400_000)
})

// ---------------------------------------------------------------------------------------------

describe("Braintrust failing, then unreachable, during a session", () => {
  it("the session stays pending with its error in status; after recovery every row arrives and status clears", async () => {
    const fake = await startFakeBraintrust({ apiKey: API_KEY })
    try {
      const dir = newDir("outage")
      const session = copyScenario("subagent", dir)
      const stateDir = path.join(dir, "state")
      const env = liveEnv(stateDir, fake)
      const progress: Progress = new Map()
      const entry = async () => (await status(env)).sessions.find((s) => s.sessionId === session.sessionId)

      /** the session's entry in `status` once a failed attempt after `sinceMs` left an error like `error` */
      const failedAfter = (what: string, sinceMs: number, attempts: number, error: RegExp) =>
        waitFor(what, async () => {
          const s = await entry()
          return s?.lastErrorAt !== undefined && s.lastErrorAt > sinceMs && s.failedAttempts >= attempts && error.test(s.lastError ?? "") ? s : undefined
        })
      const phases: Array<string> = []
      const note = (s: { readonly failedAttempts: number; readonly lastError?: string }) => phases.push(`${s.failedAttempts} failed: ${s.lastError?.slice(0, 160)}`)

      // 1. Braintrust takes logins but answers 500 to /logs3, from before the session starts
      fake.setFailing(500, { path: "/logs3" })
      const drainer = startDrainer(env)
      for (const hook of session.hooks) {
        growForHook(session, progress, hook)
        spoolPayload(stateDir, hook.tMs, hook.payload)
        await sleep(30)
      }
      growAll(session, progress)
      const logs500 = await failedAfter("failed deliveries in status (500 on /logs3)", 0, 2, /500/)
      note(logs500)
      expect(logs500.upToDate).toBe(false)
      expect(logs500.lastError).toMatch(/500/)
      expect(drainer.isRunning(), drainerLog(stateDir)).toBe(true)
      expect(fake.requests().some((r) => r.path === "/logs3" && r.outcome === 500)).toBe(true)
      expect(traceRows(fake, session.rootSpanId)).toEqual([])

      // 2. then 500 to everything, the login too
      fake.setFailing(500)
      const all500 = await failedAfter("a failed delivery in status (500 everywhere)", Date.now(), logs500.failedAttempts + 1, /login|500/)
      note(all500)
      expect(all500.upToDate).toBe(false)
      expect(all500.lastError).toMatch(/500/)
      expect(drainer.isRunning(), drainerLog(stateDir)).toBe(true)

      // 3. then it refuses connections
      fake.setFailing(undefined)
      await fake.setListening(false)
      const refused = await failedAfter("a failed delivery in status (connection refused)", Date.now(), all500.failedAttempts + 1, /ECONNREFUSED|fetch failed|connect/i)
      note(refused)
      expect(refused.upToDate).toBe(false)
      expect(refused.lastError).toMatch(/ECONNREFUSED|fetch failed|connect/i)
      expect(drainer.isRunning(), drainerLog(stateDir)).toBe(true)
      expect(traceRows(fake, session.rootSpanId)).toEqual([])

      // 4. it comes back: the drainer's next retry delivers everything
      await fake.setListening(true)
      const recovered = await waitFor("delivery after recovery", async () => {
        const s = await entry()
        return s !== undefined && s.upToDate && s.lastError === undefined ? s : undefined
      }, 120_000, 300)
      expect(recovered.failedAttempts).toBe(0)
      expect(recovered.pendingEntries).toBe(0)
      await expectEqualsImport(fake, session)
      await drainer.exited
      const t = traffic(fake)
      console.log(`outage: ${fake.requests().filter((r) => r.outcome === 500).length} requests answered 500, ${fake.requests().filter((r) => r.outcome === "dropped").length} dropped; ${phases.join(" | ")}; rows received ${t.rowsReceived} (${t.distinct} distinct)`)
    } finally {
      await fake.close()
    }
  }, 300_000)
})

// ---------------------------------------------------------------------------------------------

const TOOL_EVENTS = new Set(["PreToolUse", "PostToolUse", "PermissionRequest"])

/** consecutive tool hooks fire together, as Codex runs the hooks of parallel tool calls */
const hookGroups = (hooks: ReadonlyArray<ReplayHook>): Array<Array<ReplayHook>> => {
  const groups: Array<Array<ReplayHook>> = []
  for (const hook of hooks) {
    const last = groups[groups.length - 1]
    if (last && TOOL_EVENTS.has(hook.event) && TOOL_EVENTS.has(last[0]!.event)) last.push(hook)
    else groups.push([hook])
  }
  return groups
}

describe("16 sessions at once", () => {
  it("through the sh hook with tool hooks fired concurrently: each trace equals its own import, none mixed", async () => {
    const fake = await startFakeBraintrust({ apiKey: API_KEY })
    try {
      const dir = newDir("sixteen")
      const stateDir = path.join(dir, "state")
      const env = liveEnv(stateDir, fake)
      const sessions = Array.from({ length: 16 }, (_, i) => copyScenario(SCENARIOS[i % SCENARIOS.length]!, path.join(dir, `s${i}`), i + 1))
      expect(new Set(sessions.map((s) => s.sessionId)).size).toBe(16)
      const hookRuns: Array<{ code: number | null; stdout: string; stderr: string }> = []
      const rand = seededRandom(SEED + 16)
      await Promise.all(
        sessions.map(async (session) => {
          const progress: Progress = new Map()
          await sleep(Math.floor(rand() * 200))
          for (const group of hookGroups(session.hooks)) {
            for (const hook of group) growForHook(session, progress, hook)
            const results = await Promise.all(group.map((hook) => runHook(hook.event, hook.payload, env)))
            hookRuns.push(...results)
            await sleep(Math.floor(rand() * 50))
          }
          growAll(session, progress)
        })
      )
      expect(hookRuns.length).toBe(sessions.reduce((n, s) => n + s.hooks.length, 0))
      expect(hookRuns.filter((r) => r.code !== 0 || r.stdout !== "")).toEqual([])
      const flushed = await cli(["flush", "--timeout", "120"], env)
      expect(flushed.stderr + flushed.stdout).not.toMatch(/not delivered/)
      expect(flushed.code).toBe(0)

      const stored = storedRows(fake)
      const roots = new Set(sessions.map((s) => s.rootSpanId))
      // no row outside the 16 traces, no row of one session under another's root
      expect(stored.filter((r) => !roots.has(r.root_span_id)).map((r) => r.id)).toEqual([])
      let expected = 0
      for (const session of sessions) {
        const imported = await importRows(session.home)
        expected += imported.length
        const live = stored.filter((r) => r.root_span_id === session.rootSpanId)
        expect(differences(live, imported), `${session.scenario} ${session.sessionId}`).toEqual([])
        expect(checkTreeInvariants(live), `${session.scenario} ${session.sessionId}`).toEqual([])
      }
      expect(stored.length).toBe(expected)
      const drainerLog = fs.readFileSync(path.join(stateDir, "logs", "drainer.log"), "utf8")
      console.log(
        `16 sessions: ${hookRuns.length} hook runs (tool hooks in concurrent groups), ${stored.length} rows stored in ${roots.size} traces, ` +
          `${drainerLog.split("drainer started").length - 1} drainer start(s) by the hooks; flush: ${flushed.stdout.trim() || flushed.stderr.trim()}`
      )
      const st = await status(env)
      expect(st.sessions.filter((s) => !s.upToDate || s.lastError !== undefined)).toEqual([])
      expect(st.sessions.length).toBe(16)
      // the drainer the hooks started goes idle and exits
      await waitFor("the hook-started drainer to exit", () => (fs.existsSync(path.join(stateDir, "drainer.pid")) ? undefined : true))
    } finally {
      await fake.close()
    }
  }, 300_000)
})

// ---------------------------------------------------------------------------------------------

describe("trace-codex flush", () => {
  it("exits 0 once everything is delivered, and 1 naming the session while Braintrust stays down past --timeout", async () => {
    const fake = await startFakeBraintrust({ apiKey: API_KEY })
    try {
      const dir = newDir("flush")
      const stateDir = path.join(dir, "state")
      const env = liveEnv(stateDir, fake)
      const spoolAll = (session: SessionCopy) => {
        const progress: Progress = new Map()
        for (const hook of session.hooks) {
          growForHook(session, progress, hook)
          spoolPayload(stateDir, hook.tMs, hook.payload)
        }
        growAll(session, progress)
      }

      // no drainer running: flush drains in the foreground
      const a = copyScenario("multi-turn", path.join(dir, "a"), 1)
      spoolAll(a)
      const okA = await cli(["flush", "--timeout", "60"], env)
      expect(okA.code, okA.stderr).toBe(0)
      expect(okA.stdout).toMatch(/everything delivered/)
      await expectEqualsImport(fake, a)

      // Braintrust down for longer than --timeout
      const b = copyScenario("shell-tool", path.join(dir, "b"), 2)
      spoolAll(b)
      await fake.setListening(false)
      const downB = await cli(["flush", "--timeout", "3"], env)
      expect(downB.code).toBe(1)
      expect(downB.stderr).toContain(b.sessionId)
      expect(downB.stderr).not.toContain(a.sessionId)
      expect(traceRows(fake, b.rootSpanId)).toEqual([])
      const pendingB = (await status(env)).sessions.find((s) => s.sessionId === b.sessionId)
      expect(pendingB?.upToDate).toBe(false)
      expect(pendingB?.lastError).toBeDefined()
      await fake.setListening(true)
      const okB = await cli(["flush", "--session", b.sessionId, "--timeout", "60"], env)
      expect(okB.code, okB.stderr).toBe(0)
      expect(okB.stdout).toContain(b.sessionId)
      await expectEqualsImport(fake, b)

      // a drainer is running: flush waits for it, with the same exit codes
      const c = copyScenario("apply-patch", path.join(dir, "c"), 3)
      await fake.setListening(false)
      const drainer = await startDrainerHoldingLock(env)
      spoolAll(c)
      const downC = await cli(["flush", "--session", c.sessionId, "--timeout", "3"], env)
      expect(downC.code).toBe(1)
      expect(downC.stderr).toContain(c.sessionId)
      expect(drainer.isRunning(), drainerLog(stateDir)).toBe(true)
      await fake.setListening(true)
      const okC = await cli(["flush", "--session", c.sessionId, "--timeout", "90"], env)
      expect(okC.code, okC.stderr).toBe(0)
      await expectEqualsImport(fake, c)
      const st = await status(env)
      expect(st.sessions.filter((s) => !s.upToDate || s.lastError !== undefined)).toEqual([])
      await drainer.exited
    } finally {
      await fake.close()
    }
  }, 300_000)

  it("names the delivery error in one line, in its message and in status, without a stack trace", async () => {
    const fake = await startFakeBraintrust({ apiKey: API_KEY })
    try {
      const dir = newDir("flush-error")
      const stateDir = path.join(dir, "state")
      const env = liveEnv(stateDir, fake)
      const session = copyScenario("simple", path.join(dir, "s"), 4)
      const progress: Progress = new Map()
      for (const hook of session.hooks) {
        growForHook(session, progress, hook)
        spoolPayload(stateDir, hook.tMs, hook.payload)
      }
      growAll(session, progress)
      await fake.setListening(false)
      const down = await cli(["flush", "--timeout", "2"], env)
      expect(down.code).toBe(1)
      const line = down.stderr.split("\n").find((l) => l.includes(session.sessionId))
      expect(line).toMatch(/ECONNREFUSED|fetch failed/)
      const entry = (await status(env)).sessions.find((s) => s.sessionId === session.sessionId)
      expect(entry?.lastError).toMatch(/ECONNREFUSED|fetch failed/)
      // what the user reads is the error, not where in dist/cli.mjs it was raised
      expect(down.stderr).not.toMatch(/\n\s+at .*cli\.mjs/)
      expect(entry?.lastError).not.toMatch(/\n\s+at /)
    } finally {
      await fake.close()
    }
  }, 120_000)
})
