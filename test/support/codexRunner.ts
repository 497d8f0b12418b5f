/**
 * Runs the real Codex CLI (`codex exec`, from node_modules/@openai/codex) offline, with
 * trace-codex's hook wired to all 12 hook events, for end-to-end tests.
 *
 * Isolation: each sandbox has its own temp folder with CODEX_HOME (config.toml + hooks.json),
 * HOME, a scratch work dir and TRACE_CODEX_STATE_DIR; Codex gets a minimal environment (no
 * OPENAI_* / CODEX_API_KEY, nothing of the test runner's), empty stdin, and always runs in a
 * private network namespace (`unshare -m -n` as root, `unshare -r -m -n` otherwise) where only a
 * loopback interface exists, so it cannot reach anything outside.
 *
 * Reaching the fake model from inside the namespace: a server listening on the host's 127.0.0.1
 * is invisible from a new network namespace, but a Unix socket is a file, and connecting to it
 * works from any network namespace. So the fake Responses API (in the test process) also listens
 * on a Unix socket, and each run starts, inside the namespace, a small Node relay that listens on
 * the namespace's own 127.0.0.1:RELAY_PORT, pipes every connection to that socket, and only
 * then spawns Codex as its child (so Codex never starts before the model is reachable) and exits
 * with Codex's status. The namespace is private to the run, so the fixed port cannot collide,
 * config.toml is the same for every run, and `exec resume` runs can share one CODEX_HOME. The
 * script and the request log stay in the test process, where tests read them directly.
 *
 * Live capture: the hooks start trace-codex's drainer (detached) inside the namespace, with
 * Codex's environment. With `braintrust` set, that environment points BRAINTRUST_API_URL /
 * BRAINTRUST_APP_URL at a second relay port, forwarded to the fake Braintrust server's Unix
 * socket; and in every sandbox TRACE_CODEX_DRAIN_IDLE_MS is short. Once Codex has exited, the
 * relay stays (and so keeps the forwards open) until the drainer is gone, bounded; so when a
 * run returns, whatever live capture delivers has been delivered, and the journal is written.
 *
 * DNS: Codex looks up github.com, api.github.com, chatgpt.com and ab.chatgpt.com by itself. With
 * the host's nameserver out of reach, its (musl) resolver waits out a 5 s timeout, at exit too.
 * So the run also gets a private mount namespace with a resolv.conf naming 127.0.0.1, where the
 * relay answers every query NXDOMAIN and logs it: a run takes ~2 s instead of ~7 s.
 *
 * The loopback interface starts down in a new namespace: it is brought up with `ip` (iproute2),
 * else `ifconfig` (net-tools), else an ioctl from Perl (perl-base is essential in Debian, so some
 * way exists even on a slim image without network tools).
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { isRecord } from "effect/Predicate"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { HookEventName } from "../../src/domain/HookPayload"

export const REPO_ROOT = path.resolve(__dirname, "../..")
export const TRACE_CODEX_BIN = path.join(REPO_ROOT, "bin", "trace-codex")
export const TRACE_CODEX_BUNDLE = path.join(REPO_ROOT, "dist", "cli.mjs")
/** the npm launcher users run; it execs the native binary of the platform package */
export const CODEX_LAUNCHER = path.join(REPO_ROOT, "node_modules", "@openai", "codex", "bin", "codex.js")
export const CODEX_MODEL = "gpt-5.5"
/** where the relay listens inside each run's private namespace */
export const RELAY_PORT = 18_080
/** where the relay forwards to the fake Braintrust server inside each run's namespace */
export const BRAINTRUST_RELAY_PORT = 18_081
/** the URL the hooks' drainer reaches the fake Braintrust server at (API and app) */
export const BRAINTRUST_RELAY_URL = `http://127.0.0.1:${BRAINTRUST_RELAY_PORT}`
/** how long the drainer may stay idle before it exits, in every sandbox (its default is 30 s) */
export const DRAIN_IDLE_MS = 1_500

export const HOOK_EVENTS = HookEventName.literals
export type HookEvent = (typeof HOOK_EVENTS)[number]

/** Codex clamps these hooks' timeout to 3 s and warns when configured longer */
const SHORT_HOOK_EVENTS: ReadonlySet<HookEvent> = new Set(["SessionEnd", "Interrupt"])

const shellQuote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`

/** what hooks.json runs: `<repo>/bin/trace-codex hook`, quoted for `$SHELL -lc` */
export const TRACE_CODEX_HOOK_COMMAND = `${shellQuote(TRACE_CODEX_BIN)} hook`

/** bring `lo` up inside the new namespace with whatever tool the machine has */
const LOOPBACK_UP = [
  "if command -v ip >/dev/null 2>&1; then ip link set lo up",
  "elif command -v ifconfig >/dev/null 2>&1; then ifconfig lo up",
  // SIOCSIFFLAGS on "lo" with IFF_UP|IFF_LOOPBACK|IFF_RUNNING
  `else perl -e 'socket(my $s, 2, 2, 0) or die "socket: $!"; my $ifr = pack("Z16 s x22", "lo", 0x49); ioctl($s, 0x8914, $ifr) or die "lo up: $!"'`,
  "fi"
].join("; ")

/** what Codex's resolver reads inside the namespace: the relay's DNS stub, and no long waits */
const RESOLV_CONF = "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"

/**
 * `unshare -m -n sh -c '<lo up>; <resolv.conf>; exec "$@"' sh <command…>`: runs command in fresh
 * network and mount namespaces, with `resolvConf` mounted over /etc/resolv.conf (in the new mount
 * namespace only; a failure there only makes DNS look-ups slow, so it is not fatal).
 */
const inPrivateNetwork = (resolvConf: string, command: ReadonlyArray<string>): Array<string> => [
  ...(process.getuid?.() === 0 ? [] : ["-r"]),
  "-m",
  "-n",
  "sh",
  "-c",
  `{ ${LOOPBACK_UP}; } && { mount --bind ${shellQuote(resolvConf)} /etc/resolv.conf || echo "codexRunner: /etc/resolv.conf not replaced" >&2; } && exec "$@"`,
  "sh",
  ...command
]

/**
 * The relay, run with `node -e` inside the namespace: argv = a JSON `RelayConfig`, command….
 * Listens on 127.0.0.1:<port> for each forward and pipes each connection to that forward's
 * socket; answers every DNS query on 127.0.0.1:53 with NXDOMAIN (and logs its name), as Codex
 * looks hosts up by itself and musl's resolver would otherwise wait out its timeout; then runs
 * the command with inherited stdio and forwards termination signals to it.
 *
 * When the command has exited, and `stateDir` is set, it keeps the forwards open until the
 * trace-codex drainer that the hooks started inside the namespace is gone (it could not reach
 * the fake Braintrust server otherwise): it waits while `<stateDir>/drainer.pid` (or
 * `drainer.lock`) names a live process, and, with no drainer, up to `spoolGraceMs` for one to
 * pick up files left in `<stateDir>/spool`; all of it bounded by `waitMs`, after which it sends
 * the drainer SIGTERM. It reports how the wait ended on stderr as one line
 * `codexRunner-relay: {"drainer": ...}` and exits with the command's status.
 */
export interface RelayConfig {
  readonly forwards: ReadonlyArray<{ readonly port: number; readonly socket: string }>
  readonly dnsLog: string
  readonly drainer?: { readonly stateDir: string; readonly waitMs: number; readonly spoolGraceMs: number }
}

const RELAY_REPORT_PREFIX = "codexRunner-relay: "

const RELAY_SOURCE = `
const fs = require("node:fs")
const net = require("node:net")
const path = require("node:path")
const dgram = require("node:dgram")
const { spawn } = require("node:child_process")
const { constants } = require("node:os")
const [configJson, command, ...args] = process.argv.slice(1)
const config = JSON.parse(configJson)
const fail = (what) => (error) => { console.error("relay " + what + ": " + error.message); process.exit(125) }
const servers = config.forwards.map(({ port, socket }) => {
  const server = net.createServer((client) => {
    const upstream = net.connect(socket)
    const drop = () => { client.destroy(); upstream.destroy() }
    client.on("error", drop)
    upstream.on("error", drop)
    client.pipe(upstream).pipe(client)
  })
  server.on("error", fail("tcp " + port))
  return new Promise((resolve) => server.listen(port, "127.0.0.1", resolve))
})
const dns = dgram.createSocket("udp4")
dns.on("message", (query, peer) => {
  let at = 12
  const labels = []
  while (at < query.length && query[at] !== 0) {
    labels.push(query.subarray(at + 1, at + 1 + query[at]).toString("latin1"))
    at += query[at] + 1
  }
  const end = at + 5
  if (query.length < 12 || end > query.length) return
  fs.appendFileSync(config.dnsLog, labels.join(".") + " " + query.readUInt16BE(at + 1) + "\\n")
  const answer = Buffer.from(query.subarray(0, end))
  answer[2] = 0x80 | (query[2] & 0x01)
  answer[3] = 0x83
  answer.writeUInt16BE(1, 4)
  answer.fill(0, 6, 12)
  dns.send(answer, peer.port, peer.address)
})
dns.on("error", fail("dns"))

const livePid = (file) => {
  let text
  try { text = fs.readFileSync(file, "utf8") } catch { return undefined }
  const match = /"pid"\\s*:\\s*(\\d+)/.exec(text) || /^\\s*(\\d+)/.exec(text)
  const pid = Number(match === null ? NaN : match[1])
  if (!(pid > 0)) return undefined
  try { process.kill(pid, 0) } catch (error) { if (error.code !== "EPERM") return undefined }
  // an exited drainer nobody reaped yet (no init reaping in some containers) is gone too
  try { if (/^\\d+ \\(.*\\) Z/.test(fs.readFileSync("/proc/" + pid + "/stat", "utf8"))) return undefined } catch {}
  return pid
}
const spooled = (dir) => {
  try { return fs.readdirSync(dir).filter((name) => !name.startsWith(".")).length } catch { return 0 }
}
const waitForDrainer = (drainer) => new Promise((resolve) => {
  const started = Date.now()
  let quietSince = Date.now()
  let noDrainerSince
  let lastPid
  const tick = () => {
    const now = Date.now()
    const pid = livePid(path.join(drainer.stateDir, "drainer.pid")) ?? livePid(path.join(drainer.stateDir, "drainer.lock"))
    const pending = spooled(path.join(drainer.stateDir, "spool"))
    const report = (outcome) => resolve({ outcome, waitedMs: now - started, pid: pid ?? lastPid, spooled: pending })
    if (pid !== undefined) {
      lastPid = pid
      quietSince = now
      noDrainerSince = undefined
      if (now - started >= drainer.waitMs) {
        try { process.kill(pid, "SIGTERM") } catch {}
        return report("timeout")
      }
    } else if (pending > 0) {
      noDrainerSince = noDrainerSince ?? now
      if (now - noDrainerSince >= drainer.spoolGraceMs) return report("spool-left")
    } else if (now - quietSince >= 300) {
      return report(lastPid === undefined ? "none" : "exited")
    }
    setTimeout(tick, 100)
  }
  tick()
})

Promise.all([...servers, new Promise((resolve) => dns.bind(53, "127.0.0.1", resolve))]).then(() => {
  const child = spawn(command, args, { stdio: "inherit" })
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal))
  child.on("error", (error) => { console.error("relay: " + error.message); process.exit(127) })
  child.on("exit", async (code, signal) => {
    const status = code ?? 128 + (constants.signals[signal] ?? 0)
    if (config.drainer !== undefined) {
      const drainer = await waitForDrainer(config.drainer)
      process.stderr.write(${JSON.stringify(RELAY_REPORT_PREFIX)} + JSON.stringify({ drainer }) + "\\n")
    }
    process.exit(status)
  })
})
`

// ---------------------------------------------------------------------------------------------
// Availability

export interface CodexAvailability {
  readonly available: boolean
  /** why the e2e suite cannot run here (empty when available) */
  readonly reason: string
  /** e.g. "codex-cli 0.169.0" */
  readonly version: string
}

/**
 * Can this machine run Codex in a private network namespace? Runs `codex --version` inside one,
 * which needs all of: Linux, `unshare`, permission to create the namespace, a way to bring the
 * loopback up, and the installed native binary.
 */
export const probeCodex = (): CodexAvailability => {
  const unavailable = (reason: string): CodexAvailability => ({ available: false, reason, version: "" })
  if (process.platform !== "linux") return unavailable(`network namespaces need Linux (this is ${process.platform})`)
  if (!fs.existsSync(CODEX_LAUNCHER)) return unavailable(`${CODEX_LAUNCHER} is missing: run npm install`)
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "codex-probe-"))
  const resolvConf = path.join(scratch, "resolv.conf")
  fs.writeFileSync(resolvConf, RESOLV_CONF)
  const probe = spawnSync("unshare", inPrivateNetwork(resolvConf, [process.execPath, CODEX_LAUNCHER, "--version"]), {
    encoding: "utf8",
    timeout: 30_000,
    stdio: ["ignore", "pipe", "pipe"]
  })
  fs.rmSync(scratch, { recursive: true, force: true })
  if (probe.error !== undefined) {
    const code = "code" in probe.error ? String(probe.error.code) : ""
    return unavailable(code === "ENOENT" ? "`unshare` (util-linux) is not installed" : `unshare failed: ${probe.error.message}`)
  }
  if (probe.status !== 0) {
    return unavailable(`codex --version in a private network namespace exited ${probe.status}: ${probe.stderr.trim().slice(0, 500)}`)
  }
  return { available: true, reason: "", version: probe.stdout.trim() }
}

// ---------------------------------------------------------------------------------------------
// Runs

export interface ProcessResult {
  readonly args: ReadonlyArray<string>
  readonly exitCode: number | null
  readonly signal: NodeJS.Signals | null
  readonly timedOut: boolean
  readonly stdout: string
  readonly stderr: string
  readonly durationMs: number
}

/** how the relay's wait for the hooks' drainer ended, after Codex exited */
export interface DrainerWait {
  /**
   * "none": no drainer ran and nothing was left in the spool; "exited": the drainer exited by
   * itself; "timeout": still running at the bound (then sent SIGTERM); "spool-left": spool
   * files and no drainer to take them
   */
  readonly outcome: "none" | "exited" | "timeout" | "spool-left"
  readonly waitedMs: number
  readonly pid?: number | undefined
  /** spool files left when the wait ended */
  readonly spooled: number
}

export interface CodexRun extends ProcessResult {
  /** `codex exec --json` events, one per stdout line */
  readonly events: ReadonlyArray<Readonly<Record<string, unknown>>>
  /** from the `thread.started` event */
  readonly threadId: string | undefined
  /** the signal sent by `ExecOptions.interrupt`, if it was sent */
  readonly interruptedWith: NodeJS.Signals | undefined
  /** undefined when the relay did not report (e.g. it was killed at the time limit) */
  readonly drainer: DrainerWait | undefined
}

export interface JournalEntry {
  readonly received_at_ms: number
  readonly payload: Readonly<Record<string, unknown>>
}

export interface ExecOptions {
  /** `exec resume --last` or `exec resume <session id>` */
  readonly resume?: "last" | { readonly sessionId: string }
  readonly timeoutMs?: number
  /**
   * send `signal` (default SIGINT) to Codex once `when()` holds (polled every 50 ms), the way a
   * user's Ctrl-C would reach `codex exec`; e.g. when a slow command has started
   */
  readonly interrupt?: { readonly when: () => boolean; readonly signal?: NodeJS.Signals }
}

/** a hooks.json matcher group */
export interface HookGroup {
  readonly matcher?: string
  readonly hooks: ReadonlyArray<{ readonly type: "command"; readonly command: string; readonly timeout?: number }>
}

/** live capture into a fake Braintrust server that listens on a Unix socket */
export interface BraintrustTarget {
  readonly socketPath: string
  readonly apiKey: string
  /** BRAINTRUST_PROJECT; default "codex" */
  readonly project?: string
}

export interface CodexSandboxOptions {
  readonly fake: { readonly socketPath: string }
  /** extra top-level config.toml lines, e.g. "model_auto_compact_token_limit = 20000" */
  readonly extraConfig?: string
  /** files to create in the work dir before the first run, by relative path */
  readonly workFiles?: Readonly<Record<string, string>>
  /** per-run time limit (default 60 s) */
  readonly timeoutMs?: number
  /** what the hooks run instead of `<repo>/bin/trace-codex hook` (for negative controls) */
  readonly hookCommand?: string
  /** more hook groups per event, after ours (e.g. a PreToolUse hook that denies) */
  readonly extraHooks?: Partial<Record<HookEvent, ReadonlyArray<HookGroup>>>
  /**
   * send the hooks' spans to this fake Braintrust server: Codex and its hooks get
   * TRACE_TO_BRAINTRUST=true, BRAINTRUST_API_KEY, BRAINTRUST_PROJECT and BRAINTRUST_API_URL /
   * BRAINTRUST_APP_URL = BRAINTRUST_RELAY_URL, which the relay forwards to `socketPath`
   */
  readonly braintrust?: BraintrustTarget
  /** more environment for Codex and its hooks (wins over the defaults above) */
  readonly env?: Readonly<Record<string, string>>
  /** how long the relay waits, after Codex exited, for the drainer to finish (default 60 s) */
  readonly drainerWaitMs?: number
  /**
   * false: write no hooks.json (a test puts its own there, e.g. with `trace-codex install`);
   * `hookCommand` and `extraHooks` are then unused. Default true.
   */
  readonly writeHooksJson?: boolean
  /**
   * false: run `codex exec` without `--dangerously-bypass-hook-trust`, so Codex runs only the
   * hooks its config.toml trusts. Default true.
   */
  readonly bypassHookTrust?: boolean
  /**
   * the state dir whose drainer the relay waits for after Codex exits (default: the sandbox's
   * own; a plugin's hooks use `$CODEX_HOME/plugins/data/<plugin>-<marketplace>` instead)
   */
  readonly drainerStateDir?: (codexHome: string) => string
}

export interface CodexSandbox {
  readonly root: string
  readonly codexHome: string
  readonly workDir: string
  readonly stateDir: string
  /** what the hooks run (quoted for `$SHELL -lc`) */
  readonly hookCommand: string
  readonly exec: (prompt: string, options?: ExecOptions) => Promise<CodexRun>
  /**
   * runs `bin/trace-codex` (outside the namespace: it needs no network) with this sandbox's
   * state dir and CODEX_HOME, plus `env` (which does not include the hooks' Braintrust settings)
   */
  readonly traceCodex: (args: ReadonlyArray<string>, env?: Readonly<Record<string, string>>) => Promise<ProcessResult>
  readonly journalSessions: () => Array<string>
  readonly journal: (sessionId: string) => Array<JournalEntry>
  /** rollout files under CODEX_HOME/sessions, oldest name first */
  readonly rolloutFiles: () => Array<string>
  readonly rolloutOf: (threadId: string) => string | undefined
  /** host names Codex looked up (all answered NXDOMAIN), with the query type, e.g. "chatgpt.com 1" */
  readonly dnsQueries: () => Array<string>
  readonly cleanup: () => void
}

const runProcess = (
  command: string,
  args: ReadonlyArray<string>,
  options: {
    readonly cwd: string
    readonly env: NodeJS.ProcessEnv
    readonly timeoutMs: number
    /** polled every 50 ms while the process runs; the first signal it returns is sent to the process */
    readonly signalWhen?: () => NodeJS.Signals | undefined
  }
): Promise<ProcessResult> =>
  new Promise((resolve, reject) => {
    const started = performance.now()
    // its own process group, so a timeout can end Codex, its hooks and its commands together
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"], detached: true })
    const stdout: Array<Buffer> = []
    const stderr: Array<Buffer> = []
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk))
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk))
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, "SIGKILL")
        } catch {
          // already gone
        }
      }
    }, options.timeoutMs)
    const signalWhen = options.signalWhen
    const poller = signalWhen === undefined ? undefined : setInterval(() => {
      const signal = signalWhen()
      if (signal === undefined || child.pid === undefined) return
      clearInterval(poller)
      try {
        process.kill(child.pid, signal)
      } catch {
        // already gone
      }
    }, 50)
    let finished = false
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      clearInterval(poller)
      resolve({
        args: [command, ...args],
        exitCode,
        signal,
        timedOut,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
        durationMs: Math.round(performance.now() - started)
      })
    }
    child.on("error", (error) => {
      finished = true
      clearTimeout(timer)
      clearInterval(poller)
      reject(error)
    })
    child.on("close", finish)
    // a straggler outside the process group may hold the pipes open: do not wait for it long
    child.on("exit", (exitCode, signal) => {
      setTimeout(() => {
        child.stdout.destroy()
        child.stderr.destroy()
        finish(exitCode, signal)
      }, 2_000)
    })
  })

const parseJsonLines = (text: string): Array<Readonly<Record<string, unknown>>> =>
  text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      try {
        const value: unknown = JSON.parse(line)
        return isRecord(value) ? value : { unparsed: line }
      } catch {
        return { unparsed: line }
      }
    })

const walkFiles = (dir: string): Array<string> =>
  fs.existsSync(dir)
    ? fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? walkFiles(path.join(dir, entry.name)) : [path.join(dir, entry.name)]
      )
    : []

const DrainerWaitJson = Schema.parseJson(Schema.Struct({
  drainer: Schema.Struct({
    outcome: Schema.Literal("none", "exited", "timeout", "spool-left"),
    waitedMs: Schema.Number,
    pid: Schema.optional(Schema.Number),
    spooled: Schema.Number
  })
}))
const decodeDrainerWait = Schema.decodeUnknownOption(DrainerWaitJson)

/** the relay's report line on stderr */
const relayReport = (stderr: string): DrainerWait | undefined => {
  const line = stderr.split("\n").reverse().find((text) => text.startsWith(RELAY_REPORT_PREFIX))
  if (line === undefined) return undefined
  return Option.getOrUndefined(Option.map(decodeDrainerWait(line.slice(RELAY_REPORT_PREFIX.length)), (report) => report.drainer))
}

const configToml = (extraConfig: string | undefined): string =>
  [
    `model = "${CODEX_MODEL}"`,
    `model_provider = "fake"`,
    `approval_policy = "never"`,
    `sandbox_mode = "danger-full-access"`,
    ...(extraConfig === undefined ? [] : [extraConfig]),
    "",
    "[model_providers.fake]",
    `name = "fake"`,
    `base_url = "http://127.0.0.1:${RELAY_PORT}/v1"`,
    `wire_api = "responses"`,
    "requires_openai_auth = false",
    "request_max_retries = 0",
    "stream_max_retries = 0",
    "stream_idle_timeout_ms = 20000",
    ""
  ].join("\n")

const hooksJson = (hookCommand: string, extraHooks: CodexSandboxOptions["extraHooks"] = {}): string =>
  JSON.stringify(
    {
      hooks: Object.fromEntries(
        HOOK_EVENTS.map((event) => [
          event,
          [
            { hooks: [{ type: "command", command: hookCommand, timeout: SHORT_HOOK_EVENTS.has(event) ? 3 : 30 }] },
            ...(extraHooks[event] ?? [])
          ]
        ])
      )
    },
    null,
    2
  )

/** the variables Codex and the hooks may see: nothing of the caller's credentials or test runner */
const baseEnvironment = (): NodeJS.ProcessEnv => {
  const keep = ["PATH", "LANG", "LC_ALL", "TZ", "TMPDIR"]
  const env: NodeJS.ProcessEnv = {}
  for (const name of keep) {
    const value = process.env[name]
    if (value !== undefined) env[name] = value
  }
  env["SHELL"] = fs.existsSync("/bin/bash") ? "/bin/bash" : "/bin/sh"
  env["TERM"] = "dumb"
  env["NO_COLOR"] = "1"
  return env
}

export const makeCodexSandbox = (options: CodexSandboxOptions): CodexSandbox => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "codex-e2e-"))
  const codexHome = path.join(root, "codex-home")
  const workDir = path.join(root, "work")
  const stateDir = path.join(root, "trace-codex-state")
  const userHome = path.join(root, "user-home")
  for (const dir of [codexHome, workDir, stateDir, userHome]) fs.mkdirSync(dir, { recursive: true })
  for (const [file, content] of Object.entries(options.workFiles ?? {})) {
    fs.mkdirSync(path.dirname(path.join(workDir, file)), { recursive: true })
    fs.writeFileSync(path.join(workDir, file), content)
  }

  const resolvConf = path.join(root, "resolv.conf")
  const dnsLog = path.join(root, "dns-queries.log")
  fs.writeFileSync(resolvConf, RESOLV_CONF)
  fs.writeFileSync(dnsLog, "")

  const hookCommand = options.hookCommand ?? TRACE_CODEX_HOOK_COMMAND
  fs.writeFileSync(path.join(codexHome, "config.toml"), configToml(options.extraConfig))
  if (options.writeHooksJson !== false) fs.writeFileSync(path.join(codexHome, "hooks.json"), hooksJson(hookCommand, options.extraHooks))

  const env: NodeJS.ProcessEnv = {
    ...baseEnvironment(),
    HOME: userHome,
    CODEX_HOME: codexHome,
    TRACE_CODEX_STATE_DIR: stateDir,
    TRACE_CODEX_DRAIN_IDLE_MS: String(DRAIN_IDLE_MS)
  }
  const braintrust = options.braintrust
  const codexEnv: NodeJS.ProcessEnv = {
    ...env,
    ...(braintrust === undefined ? {} : {
      TRACE_TO_BRAINTRUST: "true",
      BRAINTRUST_API_KEY: braintrust.apiKey,
      BRAINTRUST_PROJECT: braintrust.project ?? "codex",
      BRAINTRUST_API_URL: BRAINTRUST_RELAY_URL,
      BRAINTRUST_APP_URL: BRAINTRUST_RELAY_URL
    }),
    ...options.env
  }
  const drainerWaitMs = options.drainerWaitMs ?? 60_000
  const relayConfig: RelayConfig = {
    forwards: [
      { port: RELAY_PORT, socket: options.fake.socketPath },
      ...(braintrust === undefined ? [] : [{ port: BRAINTRUST_RELAY_PORT, socket: braintrust.socketPath }])
    ],
    dnsLog,
    drainer: { stateDir: options.drainerStateDir?.(codexHome) ?? stateDir, waitMs: drainerWaitMs, spoolGraceMs: 5_000 }
  }

  const exec = async (prompt: string, execOptions: ExecOptions = {}): Promise<CodexRun> => {
    const resume = execOptions.resume
    const flags = ["--skip-git-repo-check", ...(options.bypassHookTrust === false ? [] : ["--dangerously-bypass-hook-trust"]), "--json", "-m", CODEX_MODEL]
    const codexArgs = resume === undefined
      ? ["exec", ...flags, prompt]
      : ["exec", "resume", ...flags, ...(resume === "last" ? ["--last"] : [resume.sessionId]), prompt]
    const relay = ["-e", RELAY_SOURCE, JSON.stringify(relayConfig)]
    const command = [process.execPath, ...relay, process.execPath, CODEX_LAUNCHER, ...codexArgs]
    const interrupt = execOptions.interrupt
    let interruptedWith: NodeJS.Signals | undefined
    const result = await runProcess("unshare", inPrivateNetwork(resolvConf, command), {
      cwd: workDir,
      env: codexEnv,
      // the drainer's time comes on top of Codex's
      timeoutMs: (execOptions.timeoutMs ?? options.timeoutMs ?? 60_000) + drainerWaitMs + 5_000,
      ...(interrupt === undefined ? {} : {
        signalWhen: () => {
          if (!interrupt.when()) return undefined
          interruptedWith = interrupt.signal ?? "SIGINT"
          return interruptedWith
        }
      })
    })
    const events = parseJsonLines(result.stdout)
    const started = events.find((event) => event["type"] === "thread.started")?.["thread_id"]
    return {
      ...result,
      args: ["codex", ...codexArgs],
      events,
      threadId: typeof started === "string" ? started : undefined,
      interruptedWith,
      drainer: relayReport(result.stderr)
    }
  }

  const rolloutFiles = () =>
    walkFiles(path.join(codexHome, "sessions"))
      .filter((file) => /\.jsonl(\.zst)?$/.test(file))
      .sort((a, b) => path.basename(a).localeCompare(path.basename(b)))

  return {
    root,
    codexHome,
    workDir,
    stateDir,
    hookCommand,
    exec,
    traceCodex: (args, extraEnv = {}) =>
      runProcess(TRACE_CODEX_BIN, args, { cwd: workDir, env: { ...env, ...extraEnv }, timeoutMs: 60_000 }),
    journalSessions: () =>
      walkFiles(path.join(stateDir, "journal"))
        .filter((file) => file.endsWith(".ndjson"))
        .map((file) => path.basename(file, ".ndjson")),
    journal: (sessionId) => {
      const file = path.join(stateDir, "journal", `${sessionId}.ndjson`)
      if (!fs.existsSync(file)) return []
      return parseJsonLines(fs.readFileSync(file, "utf8")).map((line) => {
        const payload = line["payload"]
        const receivedAt = line["received_at_ms"]
        return {
          received_at_ms: typeof receivedAt === "number" ? receivedAt : Number.NaN,
          payload: isRecord(payload) ? payload : {}
        }
      })
    },
    rolloutFiles,
    dnsQueries: () => fs.readFileSync(dnsLog, "utf8").split("\n").filter((line) => line !== ""),
    rolloutOf: (threadId) => rolloutFiles().find((file) => path.basename(file).includes(threadId)),
    cleanup: () => fs.rmSync(root, { recursive: true, force: true })
  }
}

/** A sandbox for the surrounding scope; its folder is removed when the scope closes. */
export const acquireCodexSandbox = (options: CodexSandboxOptions): Effect.Effect<CodexSandbox, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => makeCodexSandbox(options)),
    (sandbox) => Effect.sync(() => sandbox.cleanup())
  )
