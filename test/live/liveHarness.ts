/**
 * Helpers for the live-capture tests that run real processes: copies of the real captures
 * (optionally with fresh ids, so many sessions can run side by side), a session replayed hook
 * by hook against its growing transcripts, the drainer and the CLI as child processes, the sh
 * hook, and the rows a fake Braintrust server stored, compared with `import` of the same rollouts.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { isDeepStrictEqual } from "node:util"
import * as Effect from "effect/Effect"
import { SpanKeys } from "../../src/domain/ids"
import type { SpanRow } from "../../src/domain/SpanRow"
import { HOOK_ONLY_METADATA_KEYS } from "../../src/live/hookFacts"
import type { FakeBraintrust, StoredRow } from "../support/fakeBraintrust"
import { FIXTURES, type Scenario } from "../support/fixtures"
import { importToMemory } from "../support/pipeline"

export const ROOT = path.resolve(__dirname, "../..")
export const CLI = path.join(ROOT, "dist/cli.mjs")
export const HOOK = path.join(ROOT, "bin/trace-codex-hook")
export const API_KEY = "live-faults-key"
export const PROJECT = "codex-live-faults"

// ---------------------------------------------------------------------------------------------
// seeded randomness

/** a small deterministic PRNG (mulberry32): the same seed gives the same kill points */
export const seededRandom = (seed: number) => {
  let a = seed >>> 0
  return (): number => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// ---------------------------------------------------------------------------------------------
// a session copied from the captures

export interface ReplayHook {
  readonly tMs: number
  readonly event: string
  readonly payload: Record<string, unknown>
  /** the payload's transcript, and how many lines it had when Codex ran the hook */
  readonly transcript: string | undefined
  readonly lines: number | undefined
}

export interface SessionCopy {
  readonly scenario: Scenario
  readonly sessionId: string
  /** the trace's root span id */
  readonly rootSpanId: string
  /** a CODEX_HOME holding only this session's rollouts */
  readonly home: string
  /** rollout path → its complete lines (each ending in "\n") */
  readonly full: ReadonlyMap<string, ReadonlyArray<string>>
  readonly hooks: ReadonlyArray<ReplayHook>
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g

/**
 * A fresh UUID for `uuid` in copy `copy`: the first three groups (a UUIDv7's time and version)
 * stay, so ids keep their order; the rest comes from a hash, the same for every occurrence.
 */
const remapUuid = (copy: number, uuid: string): string => {
  const h = createHash("sha1").update(`${copy}:${uuid}`).digest("hex")
  return `${uuid.slice(0, 19)}${((parseInt(h[0]!, 16) & 3) | 8).toString(16)}${h.slice(1, 4)}-${h.slice(4, 16)}`
}

const walk = (dir: string): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]))

/**
 * The scenario's rollouts in `<dir>/home` (empty files: the replay grows them) and its hook
 * payloads with their paths pointing there. With `copy`, every UUID in rollouts, file names and
 * payloads is replaced consistently (session, thread, turn and agent ids), so copies are
 * independent sessions.
 */
export const copyScenario = (scenario: Scenario, dir: string, copy?: number): SessionCopy => {
  const ids = new Map<string, string>()
  const remap = (text: string): string =>
    copy === undefined
      ? text
      : text.replace(UUID, (u) => {
          let v = ids.get(u)
          if (v === undefined) {
            v = remapUuid(copy, u)
            ids.set(u, v)
          }
          return v
        })
  const home = path.join(dir, "home")
  const source = path.join(FIXTURES, scenario, "rollouts")
  const full = new Map<string, Array<string>>()
  for (const file of walk(source).filter((f) => f.endsWith(".jsonl"))) {
    const target = path.join(home, remap(path.relative(source, file)))
    fs.mkdirSync(path.dirname(target), { recursive: true })
    const lines = remap(fs.readFileSync(file, "utf8")).split("\n").filter((l) => l !== "").map((l) => l + "\n")
    full.set(target, lines)
    fs.writeFileSync(target, "")
  }
  const prefix = `/codex-run/${scenario}/home/`
  const rewrite = (value: unknown): unknown =>
    typeof value === "string" && value.startsWith(prefix) ? path.join(home, value.slice(prefix.length)) : value
  const hooks: Array<ReplayHook> = fs
    .readFileSync(path.join(FIXTURES, scenario, "hooks.ndjson"), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      const captured = JSON.parse(remap(l)) as { t_ms: number; payload: Record<string, unknown>; transcript_state?: { lines?: number } }
      const payload = Object.fromEntries(Object.entries(captured.payload).map(([k, v]) => [k, rewrite(v)]))
      const transcript = typeof payload["transcript_path"] === "string" ? payload["transcript_path"] : undefined
      return { tMs: captured.t_ms, event: String(payload["hook_event_name"]), payload, transcript, lines: captured.transcript_state?.lines }
    })
  const sessionId = String(hooks[0]?.payload["session_id"])
  return { scenario, sessionId, rootSpanId: SpanKeys.session(sessionId), home, full, hooks }
}

/** how many lines of each transcript are written so far */
export type Progress = Map<string, number>

/** appends to `file` (as Codex does) until it has `count` of its lines */
export const growTo = (session: SessionCopy, progress: Progress, file: string, count: number): void => {
  const lines = session.full.get(file)
  if (!lines) return
  const have = progress.get(file) ?? 0
  const want = Math.min(count, lines.length)
  if (want <= have) return
  fs.appendFileSync(file, lines.slice(have, want).join(""))
  progress.set(file, want)
}

/** the transcripts as long as they were when Codex ran `hook` */
export const growForHook = (session: SessionCopy, progress: Progress, hook: ReplayHook): void => {
  if (hook.transcript !== undefined && hook.lines !== undefined) growTo(session, progress, hook.transcript, hook.lines)
}

export const growAll = (session: SessionCopy, progress: Progress): void => {
  for (const [file, lines] of session.full) growTo(session, progress, file, lines.length)
}

let spoolSeq = 0
/**
 * Spools a payload as the hook does (`.<id>.tmp`, then rename to `<id>.json`), with the capture's
 * receive time in the id (19-digit ns) so hook facts carry the capture's times.
 */
export const spoolPayload = (stateDir: string, tMs: number, payload: unknown): string => {
  const spool = path.join(stateDir, "spool")
  fs.mkdirSync(spool, { recursive: true, mode: 0o700 })
  spoolSeq = (spoolSeq + 1) % 1_000_000
  const id = `${BigInt(Math.floor(tMs)) * 1_000_000n + BigInt(spoolSeq)}-${process.pid}`
  const tmp = path.join(spool, `.${id}.tmp`)
  fs.writeFileSync(tmp, JSON.stringify(payload), { mode: 0o600 })
  fs.renameSync(tmp, path.join(spool, `${id}.json`))
  return id
}

// ---------------------------------------------------------------------------------------------
// processes

/** the environment the hook gives the drainer: live capture to the fake Braintrust server */
export const liveEnv = (stateDir: string, fake: FakeBraintrust, extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  PATH: process.env["PATH"] ?? "/usr/bin:/bin",
  HOME: path.dirname(stateDir),
  TRACE_CODEX_STATE_DIR: stateDir,
  TRACE_CODEX_NODE: process.execPath,
  TRACE_TO_BRAINTRUST: "true",
  BRAINTRUST_API_KEY: API_KEY,
  BRAINTRUST_PROJECT: PROJECT,
  BRAINTRUST_APP_URL: fake.url,
  BRAINTRUST_API_URL: fake.url,
  TRACE_CODEX_DRAIN_IDLE_MS: "2000",
  TRACE_CODEX_DRAIN_POLL_MS: "50",
  ...extra
})

export interface Drainer {
  readonly pid: number
  /** resolves with the exit code, or the signal's name */
  readonly exited: Promise<number | string>
  readonly isRunning: () => boolean
  /** kill -9, and wait until the process is gone (reaped, so its pid is free) */
  readonly kill9: () => Promise<void>
}

/** `node dist/cli.mjs drain` as the hook starts it: detached, in /, stdio on /dev/null */
export const startDrainer = (env: NodeJS.ProcessEnv): Drainer => {
  const child: ChildProcess = spawn(process.execPath, [CLI, "drain"], { cwd: "/", detached: true, stdio: "ignore", env })
  let running = true
  const exited = new Promise<number | string>((resolve) => {
    child.on("exit", (code, signal) => {
      running = false
      resolve(code ?? signal ?? "unknown")
    })
    child.on("error", () => {
      running = false
      resolve("spawn error")
    })
  })
  return {
    pid: child.pid ?? -1,
    exited,
    isRunning: () => running,
    kill9: async () => {
      if (running) child.kill("SIGKILL")
      await exited
    }
  }
}

/** a drainer that holds the state dir's lock (its pid in drainer.pid), or has already exited */
export const startDrainerHoldingLock = async (env: NodeJS.ProcessEnv): Promise<Drainer> => {
  const drainer = startDrainer(env)
  const pidFile = path.join(String(env["TRACE_CODEX_STATE_DIR"]), "drainer.pid")
  const holds = () => {
    try {
      return fs.readFileSync(pidFile, "utf8").trim() === String(drainer.pid)
    } catch {
      return false
    }
  }
  await waitFor("the drainer to take the lock", () => (holds() || !drainer.isRunning() ? true : undefined), 30_000, 20)
  return drainer
}

export interface ProcessResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export const run = (command: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv, stdin?: string): Promise<ProcessResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { env, stdio: ["pipe", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")))
    child.on("error", reject)
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
    child.stdin.on("error", () => {})
    child.stdin.end(stdin ?? "")
  })

export const cli = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv): Promise<ProcessResult> => run(process.execPath, [CLI, ...args], env)

/** the sh hook as Codex runs it: `trace-codex-hook <Event>` with the payload on stdin */
export const runHook = (event: string, payload: unknown, env: NodeJS.ProcessEnv): Promise<ProcessResult> =>
  run(HOOK, [event], env, JSON.stringify(payload))

export interface StatusSession {
  readonly sessionId: string
  readonly pendingEntries: number
  readonly upToDate: boolean
  readonly spansDelivered: number
  readonly lastError?: string
  readonly lastErrorAt?: number
  readonly failedAttempts: number
}

export interface Status {
  readonly drainer: { readonly pid: number } | null
  readonly spool: number
  readonly sessions: ReadonlyArray<StatusSession>
}

/** `trace-codex status --json` */
export const status = async (env: NodeJS.ProcessEnv): Promise<Status> => {
  const r = await cli(["status", "--json"], env)
  if (r.code !== 0) throw new Error(`status exited ${r.code}: ${r.stderr}`)
  return JSON.parse(r.stdout) as Status
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Polls `check` until it returns a value (not undefined). A safety net so a broken drainer fails
 * the test with `what` instead of hanging it; nothing is asserted about how long it took.
 */
export const waitFor = async <A>(what: string, check: () => A | undefined | Promise<A | undefined>, limitMs = 90_000, everyMs = 100): Promise<A> => {
  const until = Date.now() + limitMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`)
    await sleep(everyMs)
  }
}

// ---------------------------------------------------------------------------------------------
// rows

/** a row as the fake Braintrust server stored it, back in SpanRow shape */
export const fromServer = (s: StoredRow): SpanRow => {
  const attrs = (s["span_attributes"] ?? {}) as Record<string, unknown>
  const parents = s["span_parents"]
  return JSON.parse(
    JSON.stringify({
      id: s["id"],
      span_id: s["span_id"],
      root_span_id: s["root_span_id"],
      span_parents: Array.isArray(parents) ? parents : [],
      span_attributes: { name: attrs["name"], type: attrs["type"] },
      metrics: s["metrics"],
      input: s["input"],
      output: s["output"],
      error: s["error"] ?? undefined,
      metadata: s["metadata"] ?? {},
      tags: s["tags"] ?? undefined
    })
  ) as SpanRow
}

/** every row the server holds (the latest per id), as SpanRows */
export const storedRows = (fake: FakeBraintrust): Array<SpanRow> => [...fake.rows().values()].map(fromServer)

const comparable = (row: SpanRow): unknown =>
  JSON.parse(
    JSON.stringify({
      ...row,
      metadata: Object.fromEntries(Object.entries(row.metadata ?? {}).filter(([k]) => !HOOK_ONLY_METADATA_KEYS.includes(k)))
    })
  )

/** every way `live` differs from `imported` (missing, extra, different), one line each */
export const differences = (live: ReadonlyArray<SpanRow>, imported: ReadonlyArray<SpanRow>): Array<string> => {
  const found: Array<string> = []
  const name = (r: SpanRow) => `${r.span_attributes.type} "${r.span_attributes.name}" ${r.id}`
  const liveById = new Map<string, SpanRow>()
  for (const r of live) {
    if (liveById.has(r.id)) found.push(`twice in live: ${name(r)}`)
    liveById.set(r.id, r)
  }
  const spanIds = new Set<string>()
  for (const r of live) {
    if (spanIds.has(r.span_id)) found.push(`span id in two live rows: ${r.span_id}`)
    spanIds.add(r.span_id)
  }
  const importedById = new Map(imported.map((r) => [r.id, r]))
  for (const r of imported) if (!liveById.has(r.id)) found.push(`missing (only in import): ${name(r)}`)
  for (const r of live) if (!importedById.has(r.id)) found.push(`extra (only in live): ${name(r)}`)
  for (const r of imported) {
    const other = liveById.get(r.id)
    if (other === undefined) continue
    const a = comparable(r) as Record<string, unknown>
    const b = comparable(other) as Record<string, unknown>
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (!isDeepStrictEqual(a[key], b[key])) found.push(`${name(r)}: ${key}: live ${JSON.stringify(b[key])?.slice(0, 300)} ≠ import ${JSON.stringify(a[key])?.slice(0, 300)}`)
    }
  }
  return found
}

/** `import` of the rollouts under `home`, in memory */
export const importRows = (home: string): Promise<ReadonlyArray<SpanRow>> =>
  Effect.runPromise(Effect.map(importToMemory([home]), (r) => r.rows))

export interface Traffic {
  /** rows received on /logs3, every version */
  readonly rowsReceived: number
  /** rows received that were byte-for-byte a version of that id received before (sent again) */
  readonly resent: number
  /** distinct ids */
  readonly distinct: number
  readonly logs3Requests: number
}

/** what the server received: how many rows came more than once with the same content */
export const traffic = (fake: FakeBraintrust): Traffic => {
  const seen = new Map<string, Set<string>>()
  let resent = 0
  const raw = fake.rawRows()
  for (const row of raw) {
    const id = String(row["id"])
    // the SDK's own bookkeeping (call site, counters) is not part of the row's content
    const { _xact_id: _x, created: _c, context: _ctx, span_attributes: attrs, ...rest } = row as Record<string, unknown>
    const { exec_counter: _e, ...attributes } = (attrs ?? {}) as Record<string, unknown>
    const text = JSON.stringify({ ...rest, span_attributes: attributes })
    let versions = seen.get(id)
    if (!versions) seen.set(id, (versions = new Set()))
    if (versions.has(text)) resent++
    else versions.add(text)
  }
  return { rowsReceived: raw.length, resent, distinct: seen.size, logs3Requests: fake.requests().filter((r) => r.path === "/logs3").length }
}
