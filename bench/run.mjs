#!/usr/bin/env node
// Import benchmark (SPEC §7 "import" bar): throughput of `trace-codex import` relative to a bare
// JSON.parse-every-line pass over the same rollout, and peak RSS. Prints numbers, asserts nothing.
//
//   node bench/run.mjs [--sizes 1,200] [--repeat N] [--timeout SECONDS] [--regenerate] [--cli dist/cli.mjs]
//   npm run bench            (builds dist/ first)
//
// Every pass runs as its own child process under `/usr/bin/time -f '%M %e'`, so wall time and
// peak RSS are measured the same way for all of them. Rounds are interleaved (baseline, dry run,
// import, with the order rotated each round) and the median is reported. Writes
// bench/results.json next to this file.

import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { ensureRollout } from "./generate.mjs"

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, "..")
const BASELINE = path.join(HERE, "baseline.mjs")
const RESULTS = path.join(HERE, "results.json")
const TIME = "/usr/bin/time"
const MiB = 1024 * 1024
const BAR_RATIO = 0.5
const BAR_RSS_MB = 150
const BAR_RSS_AT_MB = 200

// ---------------------------------------------------------------------------------------------
// Arguments

const argv = process.argv.slice(2)
const opt = (name, fallback) => {
  const i = argv.indexOf(name)
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback
}
const sizes = opt("--sizes", "1,200")
  .split(",")
  .map((s) => Number(s.trim()))
if (sizes.some((s) => !(s > 0))) {
  console.error("--sizes takes a comma-separated list of MiB, e.g. --sizes 1,50,100,200")
  process.exit(2)
}
/** the CLI bundle to measure (default dist/cli.mjs) */
const CLI = path.resolve(opt("--cli", path.join(ROOT, "dist/cli.mjs")))
const forcedRepeat = argv.includes("--repeat") ? Math.max(1, Number(opt("--repeat", "3"))) : undefined
const timeoutS = Number(opt("--timeout", "900"))
/** without --repeat: 3 rounds, or 1 when the first round of a size took longer than this */
const SLOW_ROUND_S = 60

const log = (msg) => process.stderr.write(`[bench] ${msg}\n`)

// ---------------------------------------------------------------------------------------------
// Measuring one child process

const hasTime = fs.existsSync(TIME)

/**
 * Run `node <args>` under /usr/bin/time. Wall time comes from our own clock (ms resolution),
 * peak RSS from time's %M (KiB).
 */
const measure = (args, { env = process.env, timeout = timeoutS } = {}) =>
  new Promise((resolve) => {
    const timeFile = path.join(os.tmpdir(), `trace-codex-bench-time-${process.pid}-${Date.now()}`)
    const cmd = hasTime ? TIME : process.execPath
    const cmdArgs = hasTime ? ["-f", "%M %e", "-o", timeFile, process.execPath, ...args] : args
    const t0 = process.hrtime.bigint()
    // own process group, so a timeout can stop node and the time wrapper together
    const child = spawn(cmd, cmdArgs, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true })
    let stdout = ""
    let stderr = ""
    const keep = (acc, d) => (acc + d).slice(-64 * 1024)
    child.stdout.on("data", (d) => (stdout = keep(stdout, d)))
    child.stderr.on("data", (d) => (stderr = keep(stderr, d)))
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid, "SIGKILL")
      } catch {}
    }, timeout * 1000)
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      const wallS = Number(process.hrtime.bigint() - t0) / 1e9
      let rssMb = null
      let exit = code
      if (hasTime) {
        try {
          const lines = fs.readFileSync(timeFile, "utf8").trim().split("\n")
          const m = /^(\d+) ([\d.]+)$/.exec(lines[lines.length - 1] ?? "")
          if (m) rssMb = Number(m[1]) / 1024
          const st = /exited with non-zero status (\d+)/.exec(lines.join("\n"))
          if (st) exit = Number(st[1])
          const sig = /terminated by signal (\d+)/.exec(lines.join("\n"))
          if (sig) exit = 128 + Number(sig[1])
        } catch {}
        fs.rmSync(timeFile, { force: true })
      }
      resolve({ wallS, rssMb, exit: timedOut ? "timeout" : (exit ?? signal), stdout, stderr })
    })
  })

const median = (xs) => {
  const v = xs.filter((x) => typeof x === "number" && Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return null
  const mid = v.length >> 1
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

const dirBytes = (dir) => {
  let total = 0
  let files = 0
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.isFile()) {
        total += fs.statSync(p).size
        files++
      }
    }
  }
  if (fs.existsSync(dir)) walk(dir)
  return { bytes: total, files }
}

/** Environment for the CLI: a fresh state dir, and no Braintrust credentials (nothing leaves). */
const cliEnv = (stateDir) => {
  const env = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("BRAINTRUST_") && !k.startsWith("TRACE_CODEX_")) env[k] = v
  }
  env.TRACE_CODEX_STATE_DIR = stateDir
  return env
}

const SUMMARY = /imported (\d+) sessions?, (\d+) spans?, (\d+) errors?/

// ---------------------------------------------------------------------------------------------
// The passes

const PASSES = {
  baseline: {
    title: "baseline: JSON.parse every line",
    run: async (file) => {
      const r = await measure([BASELINE, file])
      let parsed = null
      try {
        parsed = JSON.parse(r.stdout.trim().split("\n").pop())
      } catch {}
      return { ...r, inProcessMs: parsed?.parseMs ?? null, lines: parsed?.lines ?? null }
    }
  },
  dryRun: {
    title: "trace-codex import --dry-run",
    cli: true,
    run: (file) => runImport(file, true)
  },
  import: {
    title: "trace-codex import (local store)",
    cli: true,
    run: (file) => runImport(file, false)
  }
}

const runImport = async (file, dryRun) => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "trace-codex-bench-state-"))
  try {
    const args = [CLI, "import", file, ...(dryRun ? ["--dry-run"] : [])]
    const r = await measure(args, { env: cliEnv(stateDir) })
    const m = SUMMARY.exec(r.stdout)
    const store = dirBytes(stateDir)
    return {
      ...r,
      summary: r.stdout.trim().split("\n").pop() ?? "",
      sessions: m ? Number(m[1]) : null,
      spans: m ? Number(m[2]) : null,
      errors: m ? Number(m[3]) : null,
      storeBytes: store.bytes,
      storeFiles: store.files
    }
  } finally {
    fs.rmSync(stateDir, { recursive: true, force: true })
  }
}

/** Is `dist/cli.mjs import` there? Returns null if yes, else the reason. */
const cliMissing = async () => {
  if (!fs.existsSync(CLI)) return `${path.relative(ROOT, CLI)} not found (build it: node scripts/build.mjs)`
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "trace-codex-bench-probe-"))
  try {
    const r = await measure([CLI, "import", "--help"], { env: cliEnv(stateDir), timeout: 60 })
    if (r.exit !== 0) {
      const why = (r.stderr || r.stdout).trim().split("\n").slice(0, 3).join(" | ")
      return `\`node ${path.relative(ROOT, CLI)} import --help\` exited ${r.exit}${why ? `: ${why.slice(0, 300)}` : ""}`
    }
    return null
  } finally {
    fs.rmSync(stateDir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------------------------------------
// Main

const fmt = (x, digits = 1) => (x === null || x === undefined || !Number.isFinite(x) ? "—" : x.toFixed(digits))

const machine = () => ({
  node: process.version,
  v8: process.versions.v8,
  platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  cores: os.cpus().length,
  cpu: os.cpus()[0]?.model ?? "unknown",
  memoryMb: Math.round(os.totalmem() / MiB),
  loadAverage: os.loadavg().map((x) => +x.toFixed(2))
})

const warmPageCache = (file) => {
  const fd = fs.openSync(file, "r")
  const buf = Buffer.allocUnsafe(4 * MiB)
  while (fs.readSync(fd, buf, 0, buf.length, null) > 0) {}
  fs.closeSync(fd)
}

const main = async () => {
  const info = machine()
  log(`node ${info.node}, ${info.cores} cores (${info.cpu}), ${info.memoryMb} MB RAM, load ${info.loadAverage.join(" ")}`)
  if (!hasTime) log(`${TIME} not found: peak RSS will not be reported`)

  const rollouts = []
  for (const s of sizes) {
    const r = ensureRollout(s, { force: argv.includes("--regenerate"), log })
    if (!r.generated) log(`using cached ${path.relative(ROOT, r.path)} (${(r.bytes / MiB).toFixed(1)} MiB)`)
    rollouts.push({ sizeMb: s, ...r })
    globalThis.gc?.()
  }

  const missing = await cliMissing()
  const notes = []
  if (missing) {
    const line = `trace-codex import is not available yet — ${missing}. Only the baseline is measured.`
    notes.push(line)
    console.log(`> ${line}\n`)
  }
  const passes = Object.entries(PASSES).filter(([, p]) => !p.cli || !missing)

  // the fixed cost every pass pays: starting node
  const startupRuns = []
  for (let i = 0; i < 5; i++) startupRuns.push(await measure(["-e", "0"]))
  const startup = { wallS: median(startupRuns.map((r) => r.wallS)), rssMb: median(startupRuns.map((r) => r.rssMb)) }
  log(`node -e 0: ${fmt(startup.wallS * 1000, 0)} ms, ${fmt(startup.rssMb)} MB`)

  const results = []
  for (const ro of rollouts) {
    warmPageCache(ro.path)
    const runs = Object.fromEntries(passes.map(([k]) => [k, []]))
    const dead = new Set() // passes that timed out: not repeated
    const rounds = forcedRepeat ?? 3
    let done = 0
    for (let round = 0; round < rounds; round++) {
      const t0 = Date.now()
      const order = passes.map((_, i) => passes[(i + round) % passes.length])
      for (const [key, pass] of order) {
        if (dead.has(key)) continue
        const r = await pass.run(ro.path)
        runs[key].push(r)
        if (r.exit === "timeout") dead.add(key)
        log(
          `${ro.sizeMb} MB round ${round + 1} ${key}: ${fmt(r.wallS, 2)} s, ${fmt(r.rssMb)} MB` +
            (r.exit !== 0 ? ` — exit ${r.exit}: ${(r.stderr || r.stdout).trim().split("\n").slice(-3).join(" | ").slice(0, 400)}` : "") +
            (r.summary ? ` — ${r.summary}` : "")
        )
      }
      done++
      const roundS = (Date.now() - t0) / 1000
      if (forcedRepeat === undefined && round === 0 && roundS > SLOW_ROUND_S) {
        log(`${ro.sizeMb} MB: first round took ${roundS.toFixed(0)} s, not repeating (use --repeat N to force)`)
        break
      }
    }

    const mb = ro.bytes / MiB
    const stat = (key) => {
      const rs = runs[key] ?? []
      if (rs.length === 0) return null
      const ok = rs.filter((r) => r.exit === 0)
      const wallS = median(ok.map((r) => r.wallS))
      const last = rs[rs.length - 1]
      return {
        runs: rs.length,
        failed: rs.length - ok.length,
        failure: ok.length < rs.length ? `exit ${rs.find((r) => r.exit !== 0).exit}: ${(rs.find((r) => r.exit !== 0).stderr || "").trim().split("\n").slice(-5).join("\n").slice(0, 2000)}` : undefined,
        wallS,
        wallRunsS: rs.map((r) => +r.wallS.toFixed(3)),
        mbPerS: wallS ? mb / wallS : null,
        rssMb: median(ok.map((r) => r.rssMb)),
        rssMaxMb: ok.length ? Math.max(...ok.map((r) => r.rssMb ?? 0)) : null,
        rssRunsMb: rs.map((r) => (r.rssMb === null ? null : +r.rssMb.toFixed(1))),
        ...(key === "baseline" ? { inProcessMs: median(ok.map((r) => r.inProcessMs)) } : {}),
        ...(PASSES[key].cli
          ? {
              summary: last.summary,
              sessions: last.sessions,
              spans: last.spans,
              errors: last.errors,
              storeBytes: last.storeBytes,
              storeFiles: last.storeFiles
            }
          : {})
      }
    }
    const baseline = stat("baseline")
    const entry = {
      sizeMb: ro.sizeMb,
      file: path.relative(ROOT, ro.path),
      bytes: ro.bytes,
      lines: ro.lines,
      turns: ro.turns,
      rounds: done,
      baseline,
      dryRun: stat("dryRun"),
      import: stat("import")
    }
    for (const k of ["dryRun", "import"]) {
      const s = entry[k]
      if (s && baseline?.wallS && s.wallS) {
        s.ratio = baseline.wallS / s.wallS // = import MB/s ÷ baseline MB/s
        s.ratioNoStartup = Math.max(baseline.wallS - startup.wallS, 1e-3) / Math.max(s.wallS - startup.wallS, 1e-3)
      }
    }
    results.push(entry)
  }

  // ------------------------------------------------------------------------------------------
  // Report

  const out = []
  out.push(`## trace-codex import benchmark`)
  out.push("")
  out.push(
    `node ${info.node} · ${info.cores} cores (${info.cpu}) · ${info.memoryMb} MB RAM · ${info.platform} · load at start ${info.loadAverage.join(" ")}`
  )
  out.push(`node startup (\`node -e 0\`, median of 5): ${fmt(startup.wallS * 1000, 0)} ms wall, ${fmt(startup.rssMb)} MB peak RSS`)
  out.push("")
  out.push("| rollout | pass | runs | wall s (median) | MB/s | vs baseline (bar ≥ 0.5) | peak RSS MB (median) | spans | store MB |")
  out.push("|---|---|--:|--:|--:|--:|--:|--:|--:|")
  for (const e of results) {
    const label = `${e.sizeMb} MB (${fmt(e.bytes / MiB, 1)} MiB, ${e.lines.toLocaleString("en-US")} lines, ${e.turns.toLocaleString("en-US")} turns)`
    let first = true
    for (const [key, pass] of Object.entries(PASSES)) {
      const s = e[key]
      const cell = first ? label : ""
      first = false
      if (!s) {
        out.push(`| ${cell} | ${pass.title} | — | not run | | | | | |`)
        continue
      }
      if (s.wallS === null) {
        out.push(`| ${cell} | ${pass.title} | ${s.runs} | failed (${s.failure?.split("\n")[0] ?? "?"}) | | | | | |`)
        continue
      }
      const ratio = s.ratio === undefined ? "—" : `${fmt(s.ratio, 2)} ${s.ratio >= BAR_RATIO ? "✓" : "✗"}`
      const rssBar = e.sizeMb >= BAR_RSS_AT_MB && pass.cli && s.rssMb !== null ? (s.rssMb <= BAR_RSS_MB ? " ✓" : " ✗") : ""
      const failed = s.failed ? ` (${s.failed} failed)` : ""
      out.push(
        `| ${cell} | ${pass.title} | ${s.runs}${failed} | ${fmt(s.wallS, 3)} | ${fmt(s.mbPerS)} | ${ratio} | ${fmt(s.rssMb)}${rssBar} | ${s.spans ?? "—"}${s.errors ? ` (${s.errors} errors)` : ""} | ${s.storeBytes !== undefined && !key.startsWith("dry") ? fmt(s.storeBytes / MiB) : "—"} |`
      )
    }
  }
  out.push("")
  out.push(
    `Bars (SPEC §7): import throughput ≥ ${BAR_RATIO} × baseline; peak RSS ≤ ${BAR_RSS_MB} MB for the ${BAR_RSS_AT_MB} MB rollout. ` +
      `MB = MiB (2^20 bytes); wall time includes node startup.`
  )
  for (const e of results) {
    const b = e.baseline
    if (b?.inProcessMs) {
      out.push(`- ${e.sizeMb} MB baseline in-process parse time: ${fmt(b.inProcessMs, 0)} ms (${fmt(e.bytes / MiB / (b.inProcessMs / 1000))} MB/s without startup)`)
    }
    for (const k of ["dryRun", "import"]) {
      const s = e[k]
      if (s?.ratioNoStartup !== undefined) out.push(`- ${e.sizeMb} MB ${PASSES[k].title}: ratio with node startup subtracted from both: ${fmt(s.ratioNoStartup, 2)}`)
      if (s?.failure) out.push(`- ${e.sizeMb} MB ${PASSES[k].title} failed: ${s.failure.replace(/\n/g, " | ")}`)
      if (k === "dryRun" && s?.storeBytes) out.push(`- ${e.sizeMb} MB --dry-run wrote ${s.storeBytes} bytes (${s.storeFiles} files) to TRACE_CODEX_STATE_DIR`)
      if (s?.summary && !SUMMARY.test(s.summary)) out.push(`- ${e.sizeMb} MB ${PASSES[k].title}: unexpected summary line: ${JSON.stringify(s.summary)}`)
    }
  }
  for (const n of notes) out.push(`- ${n}`)
  console.log(out.join("\n"))

  const json = {
    date: new Date().toISOString(),
    machine: { ...info, loadAverageAtEnd: os.loadavg().map((x) => +x.toFixed(2)) },
    bars: { importRatio: BAR_RATIO, peakRssMb: BAR_RSS_MB, peakRssAtRolloutMb: BAR_RSS_AT_MB },
    cli: missing ? { available: false, reason: missing } : { available: true },
    nodeStartup: { wallS: startup.wallS, rssMb: startup.rssMb },
    results
  }
  fs.writeFileSync(RESULTS, JSON.stringify(json, null, 2) + "\n")
  log(`wrote ${path.relative(ROOT, RESULTS)}`)
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
