// Bundles the CLI into dist/ so `bin/trace-codex` starts from one file with no module
// resolution work; the Braintrust SDK stays external and is loaded only when a sink needs it.
import { build } from "esbuild"
import { readFileSync } from "node:fs"

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))

await build({
  // hook.mjs: only `hook` and `hook-wait` (they run on Codex's clock); cli.mjs: everything
  entryPoints: { cli: "src/cli.ts", hook: "src/commands/hookEntry.ts" },
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  external: ["braintrust"],
  define: { TRACE_CODEX_VERSION: JSON.stringify(version) },
  banner: {
    js: "import { createRequire as __traceCodexCreateRequire } from 'node:module'; const require = __traceCodexCreateRequire(import.meta.url);"
  },
  logLevel: "warning"
})
