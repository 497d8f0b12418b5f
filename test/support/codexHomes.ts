/**
 * Temporary CODEX_HOMEs for the install, uninstall, doctor and plugin tests: running
 * `bin/trace-codex` as a user would (the built bundle, a clean environment), a hooks.json written
 * by another tool, and a `codex` executable for hook trust that runs the real Codex without
 * network access.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { CODEX_LAUNCHER, HOOK_EVENTS, probeCodex, REPO_ROOT } from "./codexRunner"

export const BIN = path.join(REPO_ROOT, "bin", "trace-codex")
/** what install writes into hooks.json: the hook script of this checkout, by its real path */
export const HOOK_BIN = path.join(fs.realpathSync(REPO_ROOT), "bin", "trace-codex-hook")

/** the 12 hook events, in Codex's order */
export { HOOK_EVENTS }

export const tempDir = (prefix = "trace-codex-home-"): string => fs.mkdtempSync(path.join(os.tmpdir(), prefix))

/**
 * PATH without npm's `node_modules/.bin` folders: vitest started by npm/npx has the repository's
 * own `codex` launcher there, and install and uninstall would start it (outside any network
 * namespace) to record trust. Tests that want trust pass `--codex-bin` explicitly.
 */
export const CLEAN_PATH = (process.env["PATH"] ?? "")
  .split(path.delimiter)
  .filter((dir) => dir !== "" && !dir.split(path.sep).includes("node_modules"))
  .join(path.delimiter)

export interface CliRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface RunOptions {
  /** run as this user and group (root only), e.g. nobody, to meet permissions root ignores */
  readonly uid?: number
  readonly gid?: number
}

const baseEnv = (env: Readonly<Record<string, string>>): Record<string, string> => ({ PATH: CLEAN_PATH, HOME: os.tmpdir(), ...env })

/** `bin/trace-codex <args>` with only PATH (no codex on it), a scratch HOME and `env` */
export const runCli = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}, options: RunOptions = {}): CliRun => {
  const r = spawnSync(BIN, args, {
    encoding: "utf8",
    input: "",
    env: baseEnv(env),
    timeout: 60_000,
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid })
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** the same without blocking this process, for commands that talk to a server the test runs */
export const runCliAsync = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}): Promise<CliRun> =>
  new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env: baseEnv(env), stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000)
    child.on("error", (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

/** what `--json` printed, or a failure that shows what was printed instead */
export const parseJsonOutput = (run: CliRun): unknown => {
  try {
    return JSON.parse(run.stdout)
  } catch {
    throw new Error(`not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`)
  }
}

/**
 * What a security tool might have put in hooks.json before us, formatted its own way: a
 * description, matchers, several matcher groups for one event, fields Codex does not know on
 * groups and handlers, an event name Codex does not have, compact and expanded objects, a
 * four-space indent.
 */
export const FOREIGN_HOOKS_JSON = `{
    "description": "Hooks managed by acme-guard 2.3; edit with acme-guard configure",
    "hooks": {
        "PreToolUse": [
            {
                "matcher": "Bash|apply_patch",
                "x-acme-policy": "strict",
                "hooks": [
                    { "type": "command", "command": "/opt/acme/bin/guard pre-tool", "timeout": 5, "statusMessage": "acme: checking command" }
                ]
            },
            {
                "matcher": "^mcp__.*",
                "hooks": [
                    { "type": "command", "command": "/opt/acme/bin/guard mcp" },
                    { "type": "command", "command": "/opt/acme/bin/audit --json", "async": true }
                ]
            }
        ],
        "Stop": [
            { "hooks": [ { "type": "command", "command": "/opt/acme/bin/notify --channel '#builds'", "x-acme-retries": 2 } ] }
        ],
        "SessionStart": [
            { "matcher": "startup|resume", "hooks": [ { "type": "command", "command": "/opt/acme/bin/guard session" } ] }
        ],
        "Notification": [
            { "hooks": [ { "type": "command", "command": "/opt/acme/bin/notify" } ] }
        ]
    }
}
`

export type HookHandler = Record<string, unknown>
export interface HookGroupShape {
  readonly matcher?: unknown
  readonly hooks: Array<HookHandler>
  readonly [key: string]: unknown
}
export interface HooksFileShape {
  readonly hooks: Record<string, Array<HookGroupShape>>
  readonly [key: string]: unknown
}

export const hooksFileIn = (home: string): string => path.join(home, "hooks.json")

export const readHooks = (home: string): HooksFileShape => JSON.parse(fs.readFileSync(hooksFileIn(home), "utf8")) as HooksFileShape

/** what install writes for one event (POSIX-quoted program, then the event name) */
export const ourCommand = (event: string, hookBin = HOOK_BIN): string => `'${hookBin}' ${event}`

const runsTraceCodex = (handler: HookHandler): boolean => {
  const command = handler["command"]
  return typeof command === "string" && /trace-codex-hook'? |trace-codex'? hook/.test(command)
}

/** every handler of an event whose command runs a trace-codex hook */
export const oursIn = (doc: HooksFileShape, event: string): Array<HookHandler> =>
  (doc.hooks[event] ?? []).flatMap((group) => group.hooks.filter(runsTraceCodex))

/** the document without any trace-codex handler (groups left empty by that, and then events, dropped) */
export const othersOf = (doc: HooksFileShape): Record<string, Array<HookGroupShape>> =>
  Object.fromEntries(
    Object.entries(doc.hooks).flatMap(([event, groups]) => {
      const kept = groups.flatMap((group) => {
        const hooks = group.hooks.filter((handler) => !runsTraceCodex(handler))
        return hooks.length === 0 ? [] : [{ ...group, hooks }]
      })
      return kept.length === 0 ? [] : [[event, kept]]
    })
  )

export const backupsIn = (home: string): Array<string> =>
  fs.existsSync(home) ? fs.readdirSync(home).filter((name) => name.startsWith("hooks.json.bak-")).sort() : []

export interface CodexForTrust {
  readonly available: boolean
  readonly reason: string
  /** an executable that runs the real Codex in a private network namespace */
  readonly bin: string
}

/**
 * A `codex` for `install --codex-bin`: a script running the npm launcher of the real Codex
 * (node_modules/@openai/codex) inside `unshare -n`, so `codex app-server` sees no network.
 * `available` is codexRunner's probe: Linux, unshare, the right to make a namespace, the binary.
 */
export const codexForTrust = (): CodexForTrust => {
  const probe = probeCodex()
  const dir = tempDir("codex-bin-")
  const bin = path.join(dir, "codex")
  const unshare = process.getuid?.() === 0 ? "unshare -n" : "unshare -r -n"
  fs.writeFileSync(bin, `#!/bin/sh\nexec ${unshare} '${process.execPath}' '${CODEX_LAUNCHER}' "$@"\n`, { mode: 0o755 })
  return { available: probe.available, reason: probe.reason, bin }
}

/** `hooks.state."<key>"` entries of a config.toml, by key: the trust Codex recorded */
export const trustEntries = (configToml: string): Map<string, string> => {
  const entries = new Map<string, string>()
  const pattern = /^\[hooks\.state\."((?:[^"\\]|\\.)*)"\]\s*\ntrusted_hash = "([^"]*)"/gm
  for (const match of configToml.matchAll(pattern)) entries.set(JSON.parse(`"${match[1]}"`) as string, match[2] ?? "")
  return entries
}

/** `SessionStart` → `session_start`, as in Codex's trust keys */
export const snakeCase = (event: string): string => event.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase()
