/**
 * The hook hot path as Codex runs it (docs/live-capture.md §1, §3, §4): real processes —
 * `bin/trace-codex-hook`, `bin/trace-codex hook` and the Node path `node dist/cli.mjs hook` —
 * with payloads on stdin and temporary state directories. A fake Node (TRACE_CODEX_NODE) records
 * how the drainer and `hook-wait` are started, so no real drainer consumes the spool.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { FIXTURES } from "./support/fixtures"

const ROOT = path.resolve(__dirname, "..")
const HOOK = path.join(ROOT, "bin/trace-codex-hook")
const LAUNCHER = path.join(ROOT, "bin/trace-codex")
const DIST_CLI = path.join(ROOT, "dist/cli.mjs")
const SPOOL_NAME = /^(\d{19})-(\d+)\.json$/

interface Entry {
  readonly name: string
  readonly file: string
  readonly args: ReadonlyArray<string>
}

const SH_HOOK: Entry = { name: "bin/trace-codex-hook", file: HOOK, args: [] }
const LAUNCHER_HOOK: Entry = { name: "bin/trace-codex hook", file: LAUNCHER, args: ["hook"] }
const NODE_HOOK: Entry = { name: "node dist/cli.mjs hook", file: process.execPath, args: [DIST_CLI, "hook"] }
const ENTRIES = [SH_HOOK, LAUNCHER_HOOK, NODE_HOOK]

let scratch = ""
let fakeNode = ""
let fakeDateDir = ""

const tempDir = (prefix = "state-") => fs.mkdtempSync(path.join(scratch, prefix))

/**
 * Records each start as `<pid>\t<session id>\t<cwd>\t<TRACE_CODEX_STATE_DIR>\t<argv>` in
 * $FAKE_NODE_LOG. As `drain` it acts like a drainer: writes drainer.pid and stays alive a while.
 */
const FAKE_NODE = `#!/bin/sh
args="$*"
read -r stat </proc/$$/stat
set -- $stat
printf '%s\\t%s\\t%s\\t%s\\t%s\\n' "$$" "$6" "$PWD" "\${TRACE_CODEX_STATE_DIR:-}" "$args" >>"\${FAKE_NODE_LOG:-/dev/null}"
case $args in
  *" drain") echo $$ >"$TRACE_CODEX_STATE_DIR/drainer.pid"; exec sleep 5 ;;
esac
exit 0
`

/** a `date` without %N, like BSD's: prints a literal N */
const FAKE_DATE = `#!/bin/sh
if [ "$1" = "+%s%N" ]; then echo 1795000000N; else exec date "$@"; fi
`

beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "trace-codex-hook-"))
  fakeNode = path.join(scratch, "fake-node")
  fs.writeFileSync(fakeNode, FAKE_NODE, { mode: 0o755 })
  fakeDateDir = path.join(scratch, "fake-date")
  fs.mkdirSync(fakeDateDir)
  fs.writeFileSync(path.join(fakeDateDir, "date"), FAKE_DATE.replace("exec date", "exec /bin/date"), { mode: 0o755 })
})

afterAll(() => {
  // the fake drainers still sleeping
  for (const log of walk(scratch).filter((f) => f.endsWith("fake-node.log"))) {
    for (const start of fakeStarts(log)) {
      if (start.argv.endsWith(" drain")) {
        try {
          process.kill(start.pid)
        } catch {
          // already gone
        }
      }
    }
  }
  fs.rmSync(scratch, { recursive: true, force: true })
})

const walk = (dir: string): Array<string> =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]))

interface FakeStart {
  readonly pid: number
  readonly sid: number
  readonly cwd: string
  readonly stateDir: string
  readonly argv: string
}

const fakeStarts = (log: string): Array<FakeStart> =>
  fs.existsSync(log)
    ? fs
      .readFileSync(log, "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => {
        const [pid, sid, cwd, stateDir, argv] = l.split("\t")
        return { pid: Number(pid), sid: Number(sid), cwd: cwd ?? "", stateDir: stateDir ?? "", argv: argv ?? "" }
      })
    : []

interface Run {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: Buffer
  readonly pid: number | undefined
  /** set when writing stdin failed (EPIPE: the hook stopped reading) */
  readonly stdinError: string | undefined
  /** epoch ms just before the spawn and just after the exit */
  readonly startedMs: number
  readonly endedMs: number
}

type Input = Buffer | string | "closed"

const run = (entry: Entry, input: Input, env: Record<string, string>, extraArgs: ReadonlyArray<string> = []): Promise<Run> =>
  new Promise((resolve, reject) => {
    const startedMs = Date.now()
    const args = [...entry.args, ...extraArgs]
    const child = input === "closed"
      ? spawn("/bin/sh", ["-c", "exec \"$0\" \"$@\" <&-", entry.file, ...args], { env, stdio: ["ignore", "pipe", "ignore"] })
      : spawn(entry.file, args, { env, stdio: ["pipe", "pipe", "ignore"] })
    const out: Array<Buffer> = []
    let stdinError: string | undefined
    child.stdout.on("data", (b: Buffer) => out.push(b))
    child.on("error", reject)
    if (input !== "closed" && child.stdin) {
      child.stdin.on("error", (e) => {
        stdinError = e.message
      })
      child.stdin.end(input)
    }
    child.on("close", (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out), pid: child.pid, stdinError, startedMs, endedMs: Date.now() })
    )
  })

/** an environment with nothing of the developer's: no BRAINTRUST_*, a fake Node, a given state dir */
const hookEnv = (state: string | undefined, extra: Record<string, string> = {}): Record<string, string> => ({
  PATH: process.env["PATH"] ?? "/usr/bin:/bin",
  HOME: path.join(scratch, "no-home"),
  TRACE_CODEX_NODE: fakeNode,
  FAKE_NODE_LOG: path.join(scratch, "fake-node.log"),
  ...(state === undefined ? {} : { TRACE_CODEX_STATE_DIR: state }),
  ...extra
})

/** a state dir whose drainer.pid names a live process (this one): no drainer gets started */
const stateWithLiveDrainer = (): string => {
  const state = tempDir()
  fs.writeFileSync(path.join(state, "drainer.pid"), `${process.pid}\n`)
  return state
}

/** everything in the spool but the `<id>.env` a SessionStart payload brings (test/live/sessionEnv.test.ts) */
const spoolFiles = (state: string): Array<string> => {
  const dir = path.join(state, "spool")
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => !/^\d+-\d+\.env$/.test(name)).sort() : []
}

const hookLog = (state: string): string => {
  const file = path.join(state, "logs", "hook.log")
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : ""
}

const waitFor = async (check: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 20_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const fixturePayloads = (): Array<string> =>
  fs
    .readdirSync(FIXTURES, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(FIXTURES, e.name, "hooks.ndjson")))
    .flatMap((e) =>
      fs
        .readFileSync(path.join(FIXTURES, e.name, "hooks.ndjson"), "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.stringify((JSON.parse(l) as { payload: unknown }).payload))
    )

const postToolUse = () => {
  const payload = fixturePayloads().find((p) => p.includes('"hook_event_name":"PostToolUse"'))
  if (payload === undefined) throw new Error("no PostToolUse payload in the fixtures")
  return payload
}

const expectQuietSuccess = (r: Run) => {
  expect(r.signal).toBeNull()
  expect(r.code).toBe(0)
  expect(r.stdout.length).toBe(0)
  expect(r.stdinError).toBeUndefined()
}

describe.each(ENTRIES)("$name", (entry) => {
  it("copies stdin byte for byte to spool/<ns>-<pid>.json, 0600 in 0700 folders, and exits 0 with empty stdout", async () => {
    const state = stateWithLiveDrainer()
    const payload = postToolUse()
    const r = await run(entry, payload, hookEnv(state))
    expectQuietSuccess(r)
    const files = spoolFiles(state)
    expect(files).toHaveLength(1)
    const [, ns, pid] = SPOOL_NAME.exec(files[0]!) ?? []
    // the launcher execs the sh hook, so the pid is the one Codex started
    expect(Number(pid)).toBe(r.pid)
    const receivedMs = Number(BigInt(ns!) / 1_000_000n)
    expect(receivedMs).toBeGreaterThanOrEqual(r.startedMs)
    expect(receivedMs).toBeLessThanOrEqual(r.endedMs)
    const file = path.join(state, "spool", files[0]!)
    expect(fs.readFileSync(file, "utf8")).toBe(payload)
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    expect(fs.statSync(path.join(state, "spool")).mode & 0o777).toBe(0o700)
    expect(fs.statSync(path.join(state, "logs")).mode & 0o777).toBe(0o700)
    expect(hookLog(state)).toBe("")
  })

  it("stores a 5 MB payload completely", async () => {
    const state = stateWithLiveDrainer()
    const big = JSON.stringify({ ...(JSON.parse(postToolUse()) as object), tool_response: "x".repeat(5 * 1024 * 1024) })
    const r = await run(entry, big, hookEnv(state))
    expectQuietSuccess(r)
    const files = spoolFiles(state)
    expect(files).toHaveLength(1)
    expect(fs.readFileSync(path.join(state, "spool", files[0]!)).equals(Buffer.from(big))).toBe(true)
  })

  it("stores what is not JSON as it came: decoding is the drainer's job", async () => {
    const state = stateWithLiveDrainer()
    const bytes = Buffer.from([0x6e, 0x6f, 0x74, 0x20, 0x6a, 0x73, 0x6f, 0x6e, 0x00, 0xff, 0xfe, 0x0a, 0x7b])
    expectQuietSuccess(await run(entry, bytes, hookEnv(state)))
    const files = spoolFiles(state)
    expect(files).toHaveLength(1)
    expect(fs.readFileSync(path.join(state, "spool", files[0]!)).equals(bytes)).toBe(true)
  })

  it("empty or closed stdin: nothing stored, a log line, exit 0", async () => {
    const state = stateWithLiveDrainer()
    expectQuietSuccess(await run(entry, "", hookEnv(state)))
    expectQuietSuccess(await run(entry, "closed", hookEnv(state)))
    expect(spoolFiles(state)).toEqual([])
    const lines = hookLog(state).trim().split("\n")
    expect(lines).toHaveLength(2)
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \[\d+\] hook \S+ \d{19}-\d+: /)
    expect(lines[0]).toContain("empty stdin")
  })

  it("a spool that cannot be created: exit 0, stdin read to the end, a log line, no .tmp left", async () => {
    const state = stateWithLiveDrainer()
    fs.writeFileSync(path.join(state, "spool"), "a file where the spool folder should be")
    const r = await run(entry, "x".repeat(2 * 1024 * 1024), hookEnv(state))
    expectQuietSuccess(r)
    expect(hookLog(state)).toContain("cannot create the spool folder")
    expect(walk(state).filter((f) => f.endsWith(".tmp"))).toEqual([])
  })

  // as root the test cannot fail: root writes into a 0500 folder all the same
  it.skipIf(process.getuid?.() === 0)("a read-only state dir: exit 0, stdin read to the end (skipped as root, who may write to read-only folders)", async () => {
    const state = stateWithLiveDrainer()
    fs.chmodSync(state, 0o500)
    try {
      expectQuietSuccess(await run(entry, "x".repeat(2 * 1024 * 1024), hookEnv(state)))
      expect(spoolFiles(state)).toEqual([])
    } finally {
      fs.chmodSync(state, 0o700)
    }
  })

  it("no writable state dir at all, or no HOME: exit 0, stdin read to the end", async () => {
    const file = path.join(tempDir(), "file")
    fs.writeFileSync(file, "")
    expectQuietSuccess(await run(entry, "x".repeat(1024 * 1024), hookEnv(path.join(file, "state"))))
    const noHome = hookEnv(undefined)
    delete noHome["HOME"]
    expectQuietSuccess(await run(entry, "x".repeat(1024 * 1024), noHome))
    // CODEX_HOME is enough
    const codexHome = tempDir("codex-home-")
    expectQuietSuccess(await run(entry, postToolUse(), { ...noHome, CODEX_HOME: codexHome }))
    expect(spoolFiles(path.join(codexHome, "trace-codex"))).toHaveLength(1)
  })

  it("starts a drainer (detached, in /, with the state dir) when none runs, and not when drainer.pid names a live one", async () => {
    const state = tempDir()
    const log = path.join(state, "fake-node.log")
    const env = hookEnv(state, { FAKE_NODE_LOG: log })
    expectQuietSuccess(await run(entry, postToolUse(), env))
    await waitFor(() => fs.existsSync(path.join(state, "drainer.pid")), "the fake drainer's pid file")
    const [start, ...more] = fakeStarts(log)
    expect(more).toEqual([])
    const [cli, command] = start!.argv.split(" ")
    expect(path.resolve(cli!)).toBe(DIST_CLI)
    expect(command).toBe("drain")
    expect(start!.cwd).toBe("/")
    expect(start!.stateDir).toBe(state)
    // its own session: Codex ending the hook's process group does not end it
    expect(start!.sid).toBe(start!.pid)

    // drainer.pid now names the (fake) drainer, alive
    expectQuietSuccess(await run(entry, postToolUse(), env))
    expectQuietSuccess(await run(entry, postToolUse(), env))
    expect(spoolFiles(state)).toHaveLength(3)
    // a start would have been logged within moments; give it time to show
    await new Promise((r) => setTimeout(r, 1000))
    expect(fakeStarts(log)).toHaveLength(1)
  })

  it("a drainer that cannot be started (no node): the payload is spooled, a log line, exit 0", async () => {
    const state = tempDir()
    expectQuietSuccess(await run(entry, postToolUse(), hookEnv(state, { TRACE_CODEX_NODE: path.join(scratch, "no-such-node") })))
    expect(spoolFiles(state)).toHaveLength(1)
    expect(hookLog(state)).toContain("cannot start the drainer")
  })

  it("16 concurrent hooks of one session leave 16 distinct complete spool files", async () => {
    const state = stateWithLiveDrainer()
    const base = JSON.parse(postToolUse()) as Record<string, unknown>
    const payloads = Array.from({ length: 16 }, (_, i) => JSON.stringify({ ...base, tool_use_id: `call_${i}`, tool_response: String(i).repeat(100_000) }))
    const runs = await Promise.all(payloads.map((p) => run(entry, p, hookEnv(state))))
    for (const r of runs) expectQuietSuccess(r)
    const files = spoolFiles(state)
    expect(files).toHaveLength(16)
    expect(files.every((f) => SPOOL_NAME.test(f))).toBe(true)
    const stored = files.map((f) => fs.readFileSync(path.join(state, "spool", f), "utf8")).sort()
    expect(stored).toEqual([...payloads].sort())
  })
})

// ---------------------------------------------------------------------------------------------
// garbage in

/** deterministic, so a failing case can be replayed */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const garbage = (count: number, seed: number): Array<Buffer> => {
  const next = random(seed)
  const int = (n: number) => Math.floor(next() * n)
  const fixtures = fixturePayloads()
  const shapes: ReadonlyArray<unknown> = [
    [],
    null,
    42,
    "PostToolUse",
    { hook_event_name: 7 },
    { hook_event_name: "Stop", session_id: ["not", "a", "string"] },
    { hook_event_name: "SessionStart", session_id: "../../etc/passwd", transcript_path: { a: 1 } },
    { hook_event_name: "NoSuchEvent", session_id: "s" },
    { payload: { hook_event_name: "Stop" } }
  ]
  return Array.from({ length: count }, (_, i) => {
    switch (i % 5) {
      case 0:
        return Buffer.from(Array.from({ length: int(4096) }, () => int(256)))
      case 1: {
        const p = fixtures[int(fixtures.length)]!
        return Buffer.from(p.slice(0, int(p.length)))
      }
      case 2:
        return Buffer.from(JSON.stringify(shapes[int(shapes.length)]))
      case 3:
        return i % 25 === 3 ? Buffer.alloc(0) : Buffer.from(fixtures[int(fixtures.length)]!)
      default:
        return Buffer.from(`${"\n \t".slice(0, int(3))}{"hook_event_name":"Stop"${"\u0000\u00e9\ud83d\ude00".slice(0, int(4))}`)
    }
  })
}

/** runs `jobs` at most `width` at a time */
const inBatches = async <A, B>(items: ReadonlyArray<A>, width: number, job: (a: A, i: number) => Promise<B>): Promise<Array<B>> => {
  const results: Array<B> = new Array(items.length)
  let next = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++
        results[i] = await job(items[i]!, i)
      }
    })
  )
  return results
}

const feed = async (entry: Entry, payloads: ReadonlyArray<Buffer>) => {
  const events = ["", "", "Stop", "SessionEnd", "PostToolUse", "../x", "Stop;true", "--help"]
  const states = payloads.map(() => stateWithLiveDrainer())
  const runs = await inBatches(payloads, 16, (payload, i) => {
    const event = events[i % events.length]!
    // SessionEnd waits for delivery: only where the fake hook-wait answers at once
    return run(entry, payload, hookEnv(states[i]!), event === "" ? [] : [event])
  })
  runs.forEach((r, i) => {
    expectQuietSuccess(r)
    const files = spoolFiles(states[i]!)
    if (payloads[i]!.length === 0) {
      expect(files).toEqual([])
    } else {
      expect(files).toHaveLength(1)
      expect(fs.readFileSync(path.join(states[i]!, "spool", files[0]!)).equals(payloads[i]!)).toBe(true)
    }
  })
}

describe("garbage on stdin", () => {
  it("1,000 random, truncated, wrongly shaped and empty payloads through the sh hook: exit 0, empty stdout, stored byte for byte", async () => {
    await feed(SH_HOOK, garbage(1000, 1))
  }, 300_000)

  it("the same kinds through the Node hook", async () => {
    // SessionEnd waits 2.5 s in the Node hook (no drainer delivers here): keep it to plain events
    const payloads = garbage(60, 2)
    const states = payloads.map(() => stateWithLiveDrainer())
    const runs = await inBatches(payloads, 4, (payload, i) => run(NODE_HOOK, payload, hookEnv(states[i]!), ["PostToolUse"]))
    runs.forEach((r, i) => {
      expectQuietSuccess(r)
      const files = spoolFiles(states[i]!)
      expect(files).toHaveLength(payloads[i]!.length === 0 ? 0 : 1)
      if (files.length === 1) expect(fs.readFileSync(path.join(states[i]!, "spool", files[0]!)).equals(payloads[i]!)).toBe(true)
    })
  }, 300_000)
})

// ---------------------------------------------------------------------------------------------
// the flush policy and hook-wait

const hookWaitStarts = (log: string) => fakeStarts(log).filter((s) => s.argv.includes(" hook-wait "))

describe("sh hook: which events wait for delivery", () => {
  const cases: ReadonlyArray<{
    readonly name: string
    readonly arg?: string
    readonly event: string
    readonly env?: Record<string, string>
    readonly config?: string
    readonly timeoutMs: number | undefined
  }> = [
    { name: "PostToolUse", arg: "PostToolUse", event: "PostToolUse", timeoutMs: undefined },
    { name: "Stop, not flushing", arg: "Stop", event: "Stop", timeoutMs: undefined },
    { name: "Stop, BRAINTRUST_FLUSH_ON_TURN_END=true", arg: "Stop", event: "Stop", env: { BRAINTRUST_FLUSH_ON_TURN_END: "true" }, timeoutMs: 10000 },
    { name: "Stop, BRAINTRUST_FLUSH_ON_TURN_END=Yes and a timeout", arg: "Stop", event: "Stop", env: { BRAINTRUST_FLUSH_ON_TURN_END: "Yes", TRACE_CODEX_TURN_END_TIMEOUT_MS: "1234" }, timeoutMs: 1234 },
    { name: "Stop, flushOnTurnEnd in config.json", arg: "Stop", event: "Stop", config: '{\n  "project": "x",\n  "flushOnTurnEnd": true\n}', timeoutMs: 10000 },
    { name: "Stop, flushOnTurnEnd \"1\" in config.json", arg: "Stop", event: "Stop", config: '{"flushOnTurnEnd":"1"}', timeoutMs: 10000 },
    { name: "Stop, flushOnTurnEnd false in config.json", arg: "Stop", event: "Stop", config: '{"flushOnTurnEnd": false}', timeoutMs: undefined },
    { name: "Stop, the env (false) wins over config.json", arg: "Stop", event: "Stop", env: { BRAINTRUST_FLUSH_ON_TURN_END: "false" }, config: '{"flushOnTurnEnd": true}', timeoutMs: undefined },
    { name: "Stop without an argument, flushing", event: "Stop", env: { BRAINTRUST_FLUSH_ON_TURN_END: "1" }, timeoutMs: 10000 },
    { name: "PostToolUse without an argument, flushing", event: "PostToolUse", env: { BRAINTRUST_FLUSH_ON_TURN_END: "1" }, timeoutMs: undefined },
    { name: "SessionEnd", arg: "SessionEnd", event: "SessionEnd", timeoutMs: 2500 },
    { name: "SessionEnd without an argument", event: "SessionEnd", timeoutMs: 2500 }
  ]

  it.each(cases)("$name", async ({ arg, config, env, event, timeoutMs }) => {
    const state = stateWithLiveDrainer()
    if (config !== undefined) fs.writeFileSync(path.join(state, "config.json"), config)
    const log = path.join(state, "fake-node.log")
    const payload = JSON.stringify({ ...(JSON.parse(postToolUse()) as object), hook_event_name: event })
    for (const entry of [SH_HOOK, LAUNCHER_HOOK]) {
      fs.rmSync(log, { force: true })
      expectQuietSuccess(await run(entry, payload, hookEnv(state, { FAKE_NODE_LOG: log, ...env }), arg === undefined ? [] : [arg]))
      const waits = hookWaitStarts(log)
      if (timeoutMs === undefined) {
        expect(waits).toEqual([])
      } else {
        expect(waits).toHaveLength(1)
        const id = spoolFiles(state).at(-1)!.replace(/\.json$/, "")
        // the hook commands' own bundle, beside the CLI's
        expect(path.resolve(waits[0]!.argv.split(" ")[0]!)).toBe(path.join(path.dirname(DIST_CLI), "hook.mjs"))
        expect(waits[0]!.argv.split(" ").slice(1)).toEqual(["hook-wait", "--entry", id, "--timeout-ms", String(timeoutMs)])
        expect(waits[0]!.stateDir).toBe(state)
      }
    }
  })
})

const nodeEntry = (args: ReadonlyArray<string>): Entry => ({ name: "hook-wait", file: process.execPath, args: [DIST_CLI, ...args] })

describe("hook-wait", () => {
  it("returns once delivered/<id> appears, and deletes it", async () => {
    const state = stateWithLiveDrainer()
    const id = "1795000000123456789-4242"
    const waiting = run(nodeEntry(["hook-wait", "--entry", id, "--timeout-ms", "30000"]), "", hookEnv(state))
    await new Promise((r) => setTimeout(r, 300))
    fs.mkdirSync(path.join(state, "delivered"), { recursive: true })
    fs.writeFileSync(path.join(state, "delivered", id), "")
    const r = await waiting
    expectQuietSuccess(r)
    expect(fs.existsSync(path.join(state, "delivered", id))).toBe(false)
    expect(hookLog(state)).toBe("")
  })

  it("gives up at the timeout with exit 0 and a log line", async () => {
    const state = stateWithLiveDrainer()
    const r = await run(nodeEntry(["hook-wait", "--entry", "1795000000123456789-4242", "--timeout-ms", "200"]), "", hookEnv(state))
    expectQuietSuccess(r)
    expect(hookLog(state)).toMatch(/hook hook-wait 1795000000123456789-4242: not delivered within 200 ms/)
  })

  it("starts a drainer when none runs while it waits", async () => {
    const state = tempDir()
    const log = path.join(state, "fake-node.log")
    expectQuietSuccess(await run(nodeEntry(["hook-wait", "--entry", "1795000000123456789-4242", "--timeout-ms", "1500"]), "", hookEnv(state, { FAKE_NODE_LOG: log })))
    await waitFor(() => fakeStarts(log).length > 0, "a drainer start")
    expect(fakeStarts(log)[0]!.argv).toMatch(/ drain$/)
  })

  it("run from the small dist/hook.mjs bundle, it starts the drainer from dist/cli.mjs", async () => {
    const state = tempDir()
    const log = path.join(state, "fake-node.log")
    const hookBundle = path.join(path.dirname(DIST_CLI), "hook.mjs")
    const entry: Entry = { name: "hook-wait (hook.mjs)", file: process.execPath, args: [hookBundle, "hook-wait", "--entry", "1795000000123456789-4243", "--timeout-ms", "1500"] }
    expectQuietSuccess(await run(entry, "", hookEnv(state, { FAKE_NODE_LOG: log })))
    await waitFor(() => fakeStarts(log).length > 0, "a drainer start")
    expect(fakeStarts(log)[0]!.argv.split(" ").map((a) => (a.endsWith(".mjs") ? path.resolve(a) : a))).toEqual([DIST_CLI, "drain"])
  })

  it("bad arguments: exit 0, empty stdout, a log line", async () => {
    const state = stateWithLiveDrainer()
    expectQuietSuccess(await run(nodeEntry(["hook-wait", "--entry", "../../etc/passwd", "--timeout-ms", "100"]), "", hookEnv(state)))
    expectQuietSuccess(await run(nodeEntry(["hook-wait"]), "", hookEnv(state)))
    expect(hookLog(state).trim().split("\n")).toHaveLength(2)
  })

  it("the sh hook waits for a SessionEnd entry's delivery marker", async () => {
    const state = stateWithLiveDrainer()
    const env = hookEnv(state)
    delete env["TRACE_CODEX_NODE"]
    const payload = JSON.stringify({ session_id: "s", transcript_path: null, cwd: "/", hook_event_name: "SessionEnd", reason: "other" })
    const hook = run(SH_HOOK, payload, env, ["SessionEnd"])
    await waitFor(() => spoolFiles(state).length === 1, "the spooled SessionEnd")
    const id = spoolFiles(state)[0]!.replace(/\.json$/, "")
    fs.mkdirSync(path.join(state, "delivered"), { recursive: true })
    fs.writeFileSync(path.join(state, "delivered", id), "")
    expectQuietSuccess(await hook)
    expect(fs.existsSync(path.join(state, "delivered", id))).toBe(false)
    expect(hookLog(state)).toBe("")
  })

  it("the Node hook waits in-process: Stop when flushing, up to its timeout", async () => {
    const state = stateWithLiveDrainer()
    const stop = JSON.stringify({ ...(JSON.parse(postToolUse()) as object), hook_event_name: "Stop" })
    expectQuietSuccess(await run(NODE_HOOK, stop, hookEnv(state)))
    expect(hookLog(state)).toBe("")
    expectQuietSuccess(await run(NODE_HOOK, stop, hookEnv(state, { BRAINTRUST_FLUSH_ON_TURN_END: "TRUE", TRACE_CODEX_TURN_END_TIMEOUT_MS: "200" })))
    expect(hookLog(state)).toMatch(/hook Stop \d{19}-\d+: not delivered within 200 ms/)
  })
})

describe("bin/trace-codex-hook, where it runs", () => {
  it("through a symlink (npm's bin links), relative or absolute, or the launcher's, it still finds dist/cli.mjs", async () => {
    const links = tempDir("links-")
    fs.symlinkSync(HOOK, path.join(links, "absolute"))
    fs.symlinkSync(path.relative(links, HOOK), path.join(links, "relative"))
    fs.symlinkSync("relative", path.join(links, "chained"))
    fs.symlinkSync(LAUNCHER, path.join(links, "launcher"))
    for (const name of ["absolute", "relative", "chained", "launcher"]) {
      const state = tempDir()
      const log = path.join(state, "fake-node.log")
      const args = name === "launcher" ? ["hook"] : []
      expectQuietSuccess(await run({ name, file: path.join(links, name), args }, postToolUse(), hookEnv(state, { FAKE_NODE_LOG: log })))
      expect(spoolFiles(state)).toHaveLength(1)
      await waitFor(() => fakeStarts(log).length > 0, `a drainer start through the ${name} link`)
      expect(path.resolve(fakeStarts(log)[0]!.argv.split(" ")[0]!)).toBe(DIST_CLI)
    }
  })

  it("where date has no %N, the ns part of the id ends in zeros", async () => {
    const state = stateWithLiveDrainer()
    const env = hookEnv(state, { PATH: `${fakeDateDir}:${process.env["PATH"] ?? "/usr/bin:/bin"}` })
    expectQuietSuccess(await run(SH_HOOK, postToolUse(), env))
    expect(spoolFiles(state)[0]).toMatch(/^1795000000000000000-\d+\.json$/)
  })

  it("a relative state dir is made absolute for the drainer", async () => {
    const parent = tempDir("cwd-")
    const log = path.join(parent, "fake-node.log")
    const r = await new Promise<number | null>((resolve) => {
      const child = spawn(HOOK, [], { cwd: parent, env: hookEnv("rel-state", { FAKE_NODE_LOG: log }), stdio: ["pipe", "ignore", "ignore"] })
      child.stdin.end(postToolUse())
      child.on("close", resolve)
    })
    expect(r).toBe(0)
    await waitFor(() => fakeStarts(log).length > 0, "a drainer start")
    expect(fakeStarts(log)[0]!.stateDir).toBe(path.join(fs.realpathSync(parent), "rel-state"))
    expect(spoolFiles(path.join(parent, "rel-state"))).toHaveLength(1)
  })
})
