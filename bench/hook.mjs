#!/usr/bin/env node
// Hook latency benchmark (SPEC §7 "hook latency" bar: median wall time of `trace-codex hook`
// ≤ 1.3× `node -e 0`, measured interleaved in one run). Prints numbers, asserts nothing.
//
//   node bench/hook.mjs [--rounds N] [--json]
//   npm run bench            (builds dist/ first, runs the import benchmark, then this)
//
// Every command gets the same real PostToolUse payload on stdin (the apply_patch call of the
// apply-patch capture), as Codex would pipe it. The hooks write to a temporary state dir whose
// drainer.pid names a live process (this one), so, as while Codex runs, no drainer is started.
// Rounds are interleaved — one run of every command per round, the order rotated each round —
// and the median is reported.

import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, "..")
const CLI = path.join(ROOT, "dist/cli.mjs")
const HOOK_BUNDLE = path.join(ROOT, "dist/hook.mjs")
const BAR = 1.3

const argv = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = argv.indexOf(name)
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback
}
const rounds = Math.max(1, Number(opt("--rounds", "40")))
const asJson = argv.includes("--json")
const log = (msg) => process.stderr.write(`[bench:hook] ${msg}\n`)

// fixtures/codex-0.169 is the repository's copy of the shared Codex 0.169 captures
const capture = path.join(ROOT, "fixtures/codex-0.169/apply-patch/hooks.ndjson")
const payload = fs
  .readFileSync(capture, "utf8")
  .split("\n")
  .filter((l) => l !== "")
  .map((l) => JSON.parse(l).payload)
  .find((p) => p.hook_event_name === "PostToolUse")
if (!payload) throw new Error(`no PostToolUse payload in ${capture}`)
const stdin = Buffer.from(JSON.stringify(payload))

const state = fs.mkdtempSync(path.join(os.tmpdir(), "trace-codex-bench-hook-"))
fs.writeFileSync(path.join(state, "drainer.pid"), `${process.pid}\n`)
// the environment Codex would pass on (ours), minus anything that could make a hook flush or
// upload; NODE_OPTIONS / NODE_EXTRA_CA_CERTS stay: they slow every Node start, hooks included
const env = {}
for (const [k, v] of Object.entries(process.env)) {
  if (!k.startsWith("BRAINTRUST_") && !k.startsWith("TRACE_CODEX_")) env[k] = v
}
env.TRACE_CODEX_STATE_DIR = state
const nodeEnv = ["NODE_OPTIONS", "NODE_EXTRA_CA_CERTS"].filter((k) => process.env[k])

const haveCli = fs.existsSync(CLI)
if (!haveCli) log(`${path.relative(ROOT, CLI)} is missing (run npm run build): the Node hook is not measured`)

const commands = [
  { name: "`/bin/true` (bare exec)", file: "/bin/true", args: [], hook: false },
  { name: "`node -e 0`", file: process.execPath, args: ["-e", "0"], hook: false, reference: true },
  { name: "`bin/trace-codex-hook PostToolUse` (installed form)", file: path.join(ROOT, "bin/trace-codex-hook"), args: ["PostToolUse"], hook: true },
  { name: "`bin/trace-codex hook` (launcher)", file: path.join(ROOT, "bin/trace-codex"), args: ["hook"], hook: true },
  ...(haveCli ? [{ name: "`node dist/cli.mjs hook` (Node path)", file: process.execPath, args: [CLI, "hook"], hook: true }] : []),
  ...(fs.existsSync(HOOK_BUNDLE) ? [{ name: "`node dist/hook.mjs hook` (Node path, own bundle)", file: process.execPath, args: [HOOK_BUNDLE, "hook"], hook: true }] : [])
]

/** wall time of one run, spawn to exit with stdout closed, in ms */
const once = (command) =>
  new Promise((resolve, reject) => {
    const start = process.hrtime.bigint()
    const child = spawn(command.file, command.args, { env, stdio: ["pipe", "pipe", "ignore"] })
    let stdout = 0
    child.stdout.on("data", (b) => (stdout += b.length))
    child.stdin.on("error", () => {}) // /bin/true and node -e 0 do not read it
    child.stdin.end(stdin)
    child.on("error", reject)
    child.on("close", (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6
      if (command.hook && (code !== 0 || stdout !== 0)) reject(new Error(`${command.name}: exit ${code}, ${stdout} bytes on stdout`))
      else resolve(ms)
    })
  })

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b)
  const i = (s.length - 1) * q
  const lo = Math.floor(i)
  return s[lo] + (s[Math.ceil(i)] - s[lo]) * (i - lo)
}

const loadStart = os.loadavg()
log(`${rounds} rounds × ${commands.length} commands, interleaved; payload ${stdin.length} bytes`)
// one unmeasured round warms the page cache and Node's code cache
for (const c of commands) await once(c)
const times = commands.map(() => [])
for (let r = 0; r < rounds; r++) {
  for (let k = 0; k < commands.length; k++) {
    const i = (r + k) % commands.length
    times[i].push(await once(commands[i]))
  }
}
const loadEnd = os.loadavg()
const spooled = fs.readdirSync(path.join(state, "spool")).length
fs.rmSync(state, { recursive: true, force: true })

const rows = commands.map((c, i) => ({
  command: c.name,
  hook: c.hook,
  median: quantile(times[i], 0.5),
  p10: quantile(times[i], 0.1),
  p90: quantile(times[i], 0.9)
}))
const reference = rows[commands.findIndex((c) => c.reference)].median
const floor = rows[0].median

if (asJson) {
  process.stdout.write(JSON.stringify({ rounds, payloadBytes: stdin.length, nodeEnv, loadStart, loadEnd, spooled, rows, times }, null, 2) + "\n")
} else {
  const f = (x) => x.toFixed(1)
  const lines = [
    `${rounds} interleaved rounds; ${stdin.length}-byte PostToolUse payload on stdin; node ${process.version}, ${os.cpus().length} cores; load ${loadStart[0].toFixed(2)} → ${loadEnd[0].toFixed(2)}` +
      (nodeEnv.length > 0 ? `; ${nodeEnv.join(", ")} set` : ""),
    "",
    `| command | median ms | p10–p90 ms | × \`node -e 0\` (bar ≤ ${BAR}) | over \`/bin/true\` ms |`,
    "|---|--:|--:|--:|--:|",
    ...rows.map((r) => {
      const ratio = r.median / reference
      const mark = r.hook ? (ratio <= BAR ? " ✓" : " ✗") : ""
      return `| ${r.command} | ${f(r.median)} | ${f(r.p10)}–${f(r.p90)} | ${ratio.toFixed(2)}${mark} | ${f(r.median - floor)} |`
    })
  ]
  process.stdout.write(lines.join("\n") + "\n")
}
log(`${spooled} payloads spooled (every hook run, warm-up included)`)
