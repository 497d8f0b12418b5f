#!/usr/bin/env node
// Upload-volume benchmark (SPEC §7 "upload volume"): bytes `trace-codex import` sends to
// Braintrust for a rollout, relative to the rollout's own size (bar: ≤ 3× at 50 MB), plus wall
// time. It drives the real CLI and the real `braintrust` SDK against the test suite's fake
// Braintrust server (bundled here with esbuild, listening on 127.0.0.1). Prints numbers only.
//
//   node bench/upload.mjs [--sizes 1,50]

import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { build } from "esbuild"
import { ensureRollout } from "./generate.mjs"

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, "..")
const MiB = 1024 * 1024
const argv = process.argv.slice(2)
const i = argv.indexOf("--sizes")
const sizes = (i >= 0 ? argv[i + 1] : "1,50").split(",").map(Number)

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "trace-codex-upload-"))
const fakeBundle = path.join(tmp, "fake.mjs")
await build({
  entryPoints: [path.join(ROOT, "test/support/fakeBraintrust.ts")],
  outfile: fakeBundle,
  bundle: true,
  platform: "node",
  format: "esm",
  logLevel: "warning"
})
const { startFakeBraintrust } = await import(pathToFileURL(fakeBundle).href)

const runImport = (file, env) =>
  new Promise((resolve) => {
    const started = process.hrtime.bigint()
    const child = spawn(process.execPath, [path.join(ROOT, "dist/cli.mjs"), "import", file], { env, stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    child.stdout.on("data", (d) => (out += d))
    child.stderr.on("data", (d) => (out += d))
    child.on("close", (code) => resolve({ code, out: out.trim(), seconds: Number(process.hrtime.bigint() - started) / 1e9 }))
  })

const rows = []
for (const size of sizes) {
  const rollout = ensureRollout(size, { log: (m) => process.stderr.write(`[upload] ${m}\n`) })
  const fake = await startFakeBraintrust({ apiKey: "bench-key" })
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: tmp,
    TRACE_CODEX_STATE_DIR: path.join(tmp, `state-${size}`),
    TRACE_TO_BRAINTRUST: "true",
    BRAINTRUST_API_KEY: "bench-key",
    BRAINTRUST_APP_URL: fake.url
  }
  const r = await runImport(rollout.path, env)
  const sent = fake.bytesReceived()
  const stored = fake.rows().size
  rows.push({ size, rolloutBytes: rollout.bytes, sent, ratio: sent / rollout.bytes, stored, seconds: r.seconds, code: r.code, out: r.out })
  process.stderr.write(`[upload] ${size} MB: exit ${r.code}, ${r.out.split("\n").pop()}\n`)
  await fake.close()
}

console.log("## Upload volume to Braintrust (real SDK → fake server on 127.0.0.1)\n")
console.log(`node ${process.version} · ${os.cpus().length} cores\n`)
console.log("| rollout | bytes sent | sent / rollout (bar ≤ 3×) | spans stored | import wall s | exit |")
console.log("|---|--:|--:|--:|--:|--:|")
for (const r of rows) {
  console.log(
    `| ${r.size} MB (${(r.rolloutBytes / MiB).toFixed(1)} MiB) | ${(r.sent / MiB).toFixed(1)} MiB | ${r.ratio.toFixed(2)}× ${r.ratio <= 3 ? "✓" : "✗"} | ${r.stored} | ${r.seconds.toFixed(1)} | ${r.code} |`
  )
}
fs.rmSync(tmp, { recursive: true, force: true })
