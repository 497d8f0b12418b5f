/**
 * vitest global setup: builds dist/ once so CLI tests run the same bundle `bin/trace-codex`
 * runs for users (npm ci builds it too, through `prepare`).
 */
import { execFileSync } from "node:child_process"
import * as path from "node:path"

export default function setup(): void {
  execFileSync(process.execPath, [path.resolve(__dirname, "../../scripts/build.mjs")], { stdio: "inherit" })
}
