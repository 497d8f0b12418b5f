// Bundles the CLI into dist/ so `bin/trace-codex` starts from one file with no module
// resolution work, and so an install without node_modules (a Codex plugin's copy of this
// repository) runs too. The Braintrust SDK is bundled as well, but into a chunk of its own that
// is loaded only when a sink needs it; the hook's entry (hook.mjs) is one file with nothing else.
import { build } from "esbuild"
import { readFileSync, rmSync } from "node:fs"

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))

const common = {
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  define: { TRACE_CODEX_VERSION: JSON.stringify(version) },
  banner: {
    js: "import { createRequire as __traceCodexCreateRequire } from 'node:module'; const require = __traceCodexCreateRequire(import.meta.url);"
  },
  logLevel: "warning"
}

rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true })
// cli.mjs: everything; the SDK's dynamic import becomes dist/chunks/braintrust-*.mjs
await build({ ...common, entryPoints: { cli: "src/cli.ts" }, splitting: true, chunkNames: "chunks/[name]-[hash]" })
// hook.mjs: only `hook` and `hook-wait` (they run on Codex's clock), self-contained
await build({ ...common, entryPoints: { hook: "src/commands/hookEntry.ts" } })
