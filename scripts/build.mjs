// Bundles the CLI into dist/ so `bin/trace-codex` starts from one file with no module
// resolution work; the Braintrust SDK stays external and is loaded only when a sink needs it.
import { build } from "esbuild"

await build({
  entryPoints: { cli: "src/cli.ts" },
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  external: ["braintrust"],
  banner: {
    js: "import { createRequire as __traceCodexCreateRequire } from 'node:module'; const require = __traceCodexCreateRequire(import.meta.url);"
  },
  logLevel: "warning"
})
