/**
 * `trace-codex doctor`, run as a user runs it (`bin/trace-codex`, the built bundle) against
 * temporary CODEX_HOMEs and state dirs: each check failing for its own reason with a fix that
 * names what to do, the exit code, `--json`, and the Braintrust checks against the fake
 * Braintrust server (a good key, a rejected key, an organization that is not there, a server that
 * does not answer). Doctor with trust recorded by the real Codex passing is in install.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { type FakeBraintrust, startFakeBraintrust } from "./support/fakeBraintrust"
import { type CliRun, HOOK_EVENTS, hooksFileIn, parseJsonOutput, readHooks, runCli, runCliAsync, snakeCase, tempDir } from "./support/codexHomes"

interface Check {
  readonly id: string
  readonly status: "ok" | "info" | "warn" | "fail"
  readonly summary: string
  readonly details?: ReadonlyArray<string>
  readonly fix?: string
}
interface Report {
  readonly ok: boolean
  readonly codexHome: string
  readonly stateDir: string
  readonly checks: ReadonlyArray<Check>
}

const fresh = () => {
  const root = tempDir()
  return { home: path.join(root, "codex-home"), state: path.join(root, "state") }
}

const doctor = (home: string, state: string, env: Record<string, string> = {}, ...extra: Array<string>) =>
  runCli(["doctor", "--codex-home", home, ...extra], { TRACE_CODEX_STATE_DIR: state, ...env })

const report = (run: CliRun): Report => parseJsonOutput(run) as Report
const checkOf = (r: Report, id: string): Check | undefined => r.checks.find((c) => c.id === id)

const installed = () => {
  const { home, state } = fresh()
  const r = runCli(["install", "--codex-home", home], { TRACE_CODEX_STATE_DIR: state })
  expect(r.code, r.stderr).toBe(0)
  return { home, state }
}

describe("trace-codex doctor", () => {
  it("nothing installed: the hooks check fails with the command that fixes it, exit 1, in text and JSON", () => {
    const { home, state } = fresh()
    const text = doctor(home, state)
    expect(text.code).toBe(1)
    expect(text.stdout).toContain(`trace-codex doctor  (CODEX_HOME ${home})`)
    expect(text.stdout).toMatch(/✓ node +Node v\d+/)
    expect(text.stdout).toContain(`✗ hooks            no ${hooksFileIn(home)}: trace-codex's hooks are not installed`)
    expect(text.stdout).toContain("→ run trace-codex install")
    expect(text.stdout).toMatch(/\n1 problem found\./)

    const json = doctor(home, state, {}, "--json")
    expect(json.code).toBe(1)
    const r = report(json)
    expect(r).toMatchObject({ ok: false, codexHome: home, stateDir: state })
    expect(checkOf(r, "hooks")).toMatchObject({ status: "fail", fix: "run trace-codex install" })
    expect(checkOf(r, "node")?.status).toBe("ok")
    expect(checkOf(r, "install")?.status).toBe("ok")
    // a state dir that does not exist yet is fine: the first hook makes it
    expect(checkOf(r, "state-dir")).toMatchObject({ status: "ok", summary: expect.stringContaining("does not exist yet") })
    // Braintrust off: nothing online, and it says where the spans go
    expect(checkOf(r, "braintrust")).toMatchObject({ status: "info", summary: expect.stringContaining(path.join(state, "spans")) })
    // doctor only reads: it created neither the state dir nor the Codex home
    expect(fs.existsSync(state)).toBe(false)
    expect(fs.existsSync(home)).toBe(false)
  })

  it("installed without trust (no codex on PATH): hooks ok, trust fails and explains the prompt and the CI flag", () => {
    const { home, state } = installed()
    const r = report(doctor(home, state, {}, "--json"))
    expect(r.ok).toBe(false)
    expect(checkOf(r, "hooks")).toMatchObject({ status: "ok", summary: expect.stringContaining(`all ${HOOK_EVENTS.length} events`) })
    const trust = checkOf(r, "trust")
    expect(trust).toMatchObject({ status: "fail", summary: expect.stringContaining("no trust recorded for our 12 hooks") })
    expect(trust?.fix).toContain("Trust all")
    expect(trust?.fix).toContain("--dangerously-bypass-hook-trust")
    expect(r.checks.filter((c) => c.status === "fail").map((c) => c.id)).toEqual(["trust"])
  })

  it("hooks that point at a program that is gone, some events missing, a duplicate and a long SessionEnd timeout", () => {
    const { home, state } = installed()
    const doc = readHooks(home)
    const gone = "/nonexistent/trace-codex/bin/trace-codex-hook"
    for (const event of HOOK_EVENTS) {
      for (const group of doc.hooks[event] ?? []) for (const handler of group.hooks) handler["command"] = `'${gone}' ${event}`
    }
    delete doc.hooks["PreCompact"]
    doc.hooks["Stop"]?.push({ hooks: [{ type: "command", command: `'${gone}' Stop` }] })
    const end = doc.hooks["SessionEnd"]?.[0]?.hooks[0]
    if (end !== undefined) end["timeout"] = 30
    fs.writeFileSync(hooksFileIn(home), JSON.stringify(doc, null, 2))
    const r = report(doctor(home, state, {}, "--json"))
    const hooks = checkOf(r, "hooks")
    expect(hooks?.status).toBe("fail")
    expect(hooks?.summary).toContain("missing for PreCompact")
    expect(hooks?.summary).toContain(`${gone} is not an executable file`)
    const setup = checkOf(r, "hooks-setup")
    expect(setup?.status).toBe("warn")
    expect(setup?.summary).toContain("more than one trace-codex hook for Stop")
    expect(setup?.summary).toContain("SessionEnd timeout 30 s")
    expect(setup?.summary).toContain("not this installation's")
  })

  it("a hooks.json Codex cannot read, or with top-level fields Codex refuses", () => {
    const { home, state } = fresh()
    fs.mkdirSync(home)
    fs.writeFileSync(hooksFileIn(home), "{ \"hooks\": ")
    const broken = report(doctor(home, state, {}, "--json"))
    expect(checkOf(broken, "hooks")).toMatchObject({ status: "fail", fix: expect.stringContaining("fix the file") })

    const ok = installed()
    const doc = readHooks(ok.home) as Record<string, unknown>
    doc["version"] = 2
    fs.writeFileSync(hooksFileIn(ok.home), JSON.stringify(doc))
    const extra = report(doctor(ok.home, ok.state, {}, "--json"))
    expect(checkOf(extra, "hooks-file")).toMatchObject({ status: "fail", summary: expect.stringContaining("(version)") })
  })

  it("hooks switched off in config.toml", () => {
    const { home, state } = installed()
    fs.writeFileSync(path.join(home, "config.toml"), "model = \"gpt-5\"\n\n[features]\nhooks = false\n")
    const r = report(doctor(home, state, {}, "--json"))
    expect(checkOf(r, "codex-hooks")).toMatchObject({ status: "fail", summary: expect.stringContaining("[features] hooks = false") })
  })

  it("invalid settings name the key, and the config check fails", () => {
    const { home, state } = installed()
    const fromEnv = report(doctor(home, state, { TRACE_TO_BRAINTRUST: "maybe" }, "--json"))
    const config = checkOf(fromEnv, "config")
    expect(config?.status).toBe("fail")
    expect(config?.details?.join("\n")).toContain("TRACE_TO_BRAINTRUST")
    expect(checkOf(fromEnv, "braintrust")).toMatchObject({ status: "info", summary: expect.stringContaining("invalid settings") })

    fs.writeFileSync(path.join(state, "config.json"), JSON.stringify({ flushOnTurnEnd: "soon" }), { mode: 0o600 })
    const fromFile = report(doctor(home, state, {}, "--json"))
    expect(checkOf(fromFile, "config")?.details?.join("\n")).toContain("flushOnTurnEnd")
  })

  it("a state dir open to other users, and a config.json holding the API key readable by others", () => {
    const { home, state } = installed()
    fs.chmodSync(state, 0o755)
    fs.writeFileSync(path.join(state, "config.json"), JSON.stringify({ apiKey: "sk-not-a-real-key" }), { mode: 0o644 })
    fs.chmodSync(path.join(state, "config.json"), 0o644)
    const r = report(doctor(home, state, {}, "--json"))
    expect(checkOf(r, "state-dir")).toMatchObject({ status: "fail", fix: `chmod 700 ${state}` })
    expect(checkOf(r, "config-mode")).toMatchObject({ status: "fail", fix: `chmod 600 ${path.join(state, "config.json")}` })
    expect(checkOf(r, "config")?.details?.join("\n")).toContain("prefer BRAINTRUST_API_KEY")
    // the key itself is printed nowhere
    expect(JSON.stringify(r)).not.toContain("sk-not-a-real-key")
  })

  it("a state dir path that is a file", () => {
    const { home } = installed()
    const file = path.join(tempDir(), "not-a-folder")
    fs.writeFileSync(file, "")
    const r = report(doctor(home, file, {}, "--json"))
    expect(checkOf(r, "state-dir")).toMatchObject({ status: "fail", summary: `${file} is not a folder` })
  })

  it("delivery: payloads waiting with no drainer, failing sessions and the hook log are reported", () => {
    const { home, state } = installed()
    const spool = path.join(state, "spool")
    fs.mkdirSync(spool, { recursive: true, mode: 0o700 })
    // a payload spooled ten minutes ago that nobody picked up (names start with the receive time in ns)
    const old = `${BigInt(Date.now() - 600_000) * 1_000_000n}-4242.json`
    fs.writeFileSync(path.join(spool, old), JSON.stringify({ hook_event_name: "Stop", session_id: "s" }))
    fs.mkdirSync(path.join(state, "logs"), { recursive: true, mode: 0o700 })
    fs.writeFileSync(path.join(state, "logs", "hook.log"), "2026-12-07T10:00:00Z first\n2026-12-07T10:01:00Z cannot write spool: ENOSPC\n")
    const r = report(doctor(home, state, {}, "--json"))
    expect(checkOf(r, "drainer")).toMatchObject({ status: "fail", summary: "1 hook payloads waiting and no drainer running", fix: expect.stringContaining("trace-codex flush") })
    expect(checkOf(r, "hook-log")).toMatchObject({ status: "warn", summary: expect.stringContaining("cannot write spool: ENOSPC") })
  })
})

describe("trace-codex doctor: installed as a Codex plugin", () => {
  const withPlugin = (home: string, features: string) => {
    fs.mkdirSync(home, { recursive: true })
    fs.appendFileSync(path.join(home, "config.toml"), `${features}[marketplaces.trace-codex]\nsource_type = "local"\nsource = "/opt/trace-codex"\n\n[plugins."trace-codex@trace-codex"]\nenabled = true\n`)
  }

  it("plugin hooks switched off (Codex 0.169's default): fails and says which feature to turn on", () => {
    const { home, state } = fresh()
    withPlugin(home, "")
    const r = report(doctor(home, state, {}, "--json"))
    expect(r.ok).toBe(false)
    expect(checkOf(r, "hooks")).toMatchObject({ status: "info", summary: expect.stringContaining("the plugin trace-codex@trace-codex provides them") })
    expect(checkOf(r, "plugin")).toMatchObject({ status: "fail", fix: expect.stringContaining("features.plugin_hooks = true") })
  })

  /** what Codex's "Trust all" writes for the plugin's hooks (doctor reads the keys, not the hashes) */
  const trustPluginHooks = (home: string, events: ReadonlyArray<string>) =>
    fs.appendFileSync(
      path.join(home, "config.toml"),
      events.map((event) => `\n[hooks.state."trace-codex@trace-codex:hooks/hooks.json:${snakeCase(event)}:0:0"]\ntrusted_hash = "sha256:aa/sha256:bb"\n`).join("")
    )

  it("plugin hooks on but not trusted yet: the trust check fails and explains the prompt and the CI flag", () => {
    const { home, state } = fresh()
    withPlugin(home, "[features]\nplugin_hooks = true\n\n")
    trustPluginHooks(home, ["Stop", "SessionStart"])
    const r = report(doctor(home, state, {}, "--json"))
    const trust = checkOf(r, "plugin-trust")
    expect(trust?.status).toBe("fail")
    expect(trust?.summary).toContain("UserPromptSubmit")
    expect(trust?.summary).not.toMatch(/\bStop\b|SessionStart/)
    expect(trust?.fix).toContain("--dangerously-bypass-hook-trust")
  })

  it("plugin hooks on and trusted: passes, and checks the plugin's data folder as the state dir", () => {
    const root = tempDir()
    const home = path.join(root, "codex-home")
    withPlugin(home, "[features]\nplugin_hooks = true\n\n")
    trustPluginHooks(home, HOOK_EVENTS)
    // no TRACE_CODEX_STATE_DIR: the plugin's hooks use PLUGIN_DATA
    const run = runCli(["doctor", "--codex-home", home, "--json"])
    const r = report(run)
    expect(r.checks.filter((c) => c.status === "fail")).toEqual([])
    expect(run.code).toBe(0)
    const dataDir = path.join(home, "plugins", "data", "trace-codex-trace-codex")
    expect(r.stateDir).toBe(dataDir)
    expect(checkOf(r, "plugin")).toMatchObject({ status: "ok", summary: expect.stringContaining(dataDir) })
  })

  it("status and config from a shell (no PLUGIN_DATA there) use the plugin's data folder, as doctor does", () => {
    const { home } = fresh()
    withPlugin(home, "[features]\nplugin_hooks = true\n\n")
    const dataDir = path.join(home, "plugins", "data", "trace-codex-trace-codex")
    const stateOf = (env: Record<string, string> = {}) => (parseJsonOutput(runCli(["status", "--json"], { CODEX_HOME: home, ...env })) as { stateDir: string }).stateDir
    expect(stateOf()).toBe(dataDir)
    expect(runCli(["config"], { CODEX_HOME: home }).stdout).toContain(`${dataDir} (the Codex plugin's data folder)`)
    expect(report(runCli(["doctor", "--codex-home", home, "--json"])).stateDir).toBe(dataDir)
    // a named state dir wins
    const named = path.join(tempDir(), "named")
    expect(stateOf({ TRACE_CODEX_STATE_DIR: named })).toBe(named)
    // once hooks.json runs our hooks too, those keep the default state dir
    expect(runCli(["install", "--codex-home", home], { CODEX_HOME: home }).code).toBe(0)
    expect(stateOf()).toBe(path.join(home, "trace-codex"))
  })

  it("hooks.json and the plugin both: a warning that every event is recorded twice", () => {
    const { home, state } = installed()
    withPlugin(home, "[features]\nplugin_hooks = true\n\n")
    const r = report(doctor(home, state, {}, "--json"))
    expect(checkOf(r, "plugin-twice")).toMatchObject({ status: "warn", fix: expect.stringContaining("codex plugin remove trace-codex@trace-codex") })
    expect(checkOf(r, "hooks")?.status).toBe("ok")
  })
})

describe("trace-codex doctor: Braintrust, against the fake Braintrust server", () => {
  const KEY = "bt-doctor-test-key"
  let server: FakeBraintrust
  beforeAll(async () => {
    server = await startFakeBraintrust({ apiKey: KEY, orgName: "acme" })
  })
  afterAll(async () => {
    await server.close()
  })

  const braintrustEnv = (key: string, extra: Record<string, string> = {}) => ({
    TRACE_TO_BRAINTRUST: "true",
    BRAINTRUST_API_KEY: key,
    BRAINTRUST_APP_URL: server.url,
    BRAINTRUST_PROJECT: "doctor-check",
    ...extra
  })

  const doctorAsync = async (home: string, state: string, env: Record<string, string>) => {
    const run = await runCliAsync(["doctor", "--codex-home", home, "--json"], { TRACE_CODEX_STATE_DIR: state, ...env })
    return report(run)
  }

  it("a good key: login, project and API pass, and nothing is logged", async () => {
    const { home, state } = installed()
    const before = server.rawRows().length
    const r = await doctorAsync(home, state, braintrustEnv(KEY))
    expect(checkOf(r, "braintrust-login")).toMatchObject({ status: "ok", summary: `logged in to ${server.url} (organization acme)` })
    expect(checkOf(r, "braintrust-project")).toMatchObject({ status: "ok", summary: expect.stringContaining('project "doctor-check"') })
    expect(checkOf(r, "braintrust-api")).toMatchObject({ status: "ok", summary: `API ${server.url} answers` })
    expect(server.rawRows().length).toBe(before)
    expect(JSON.stringify(r)).not.toContain(KEY)
  })

  it("a rejected key: login fails with what to do, and the key is not printed", async () => {
    const { home, state } = installed()
    const r = await doctorAsync(home, state, braintrustEnv("bt-wrong-key"))
    expect(r.ok).toBe(false)
    expect(checkOf(r, "braintrust-login")).toMatchObject({ status: "fail", summary: `${server.url} rejected the API key (HTTP 401)`, fix: expect.stringContaining("BRAINTRUST_API_KEY") })
    expect(checkOf(r, "braintrust-project")).toBeUndefined()
    expect(JSON.stringify(r)).not.toContain("bt-wrong-key")
  })

  it("an organization the key does not have", async () => {
    const { home, state } = installed()
    const r = await doctorAsync(home, state, braintrustEnv(KEY, { BRAINTRUST_ORG_NAME: "globex" }))
    expect(checkOf(r, "braintrust-login")).toMatchObject({ status: "fail", summary: 'the API key has no organization "globex" (it has: acme)' })
  })

  it("an API URL that does not answer", async () => {
    const { home, state } = installed()
    const closed = await closedPortUrl()
    const r = await doctorAsync(home, state, braintrustEnv(KEY, { BRAINTRUST_API_URL: closed }))
    expect(checkOf(r, "braintrust-login")?.status).toBe("ok")
    expect(checkOf(r, "braintrust-api")).toMatchObject({ status: "fail", summary: expect.stringContaining(`API ${closed}:`) })
  })

  it("Braintrust on without a key: fails, says where the spans go instead, asks nothing online", async () => {
    const { home, state } = installed()
    const requests = server.requests().length
    const r = await doctorAsync(home, state, { TRACE_TO_BRAINTRUST: "true", BRAINTRUST_APP_URL: server.url })
    expect(checkOf(r, "braintrust")).toMatchObject({ status: "fail", fix: "export BRAINTRUST_API_KEY=<your key> where Codex runs" })
    expect(server.requests().length).toBe(requests)
  })
})

/** a loopback URL nobody listens on: a port the OS handed out, then closed */
const closedPortUrl = (): Promise<string> =>
  new Promise((resolve, reject) => {
    const probe = net.createServer()
    probe.on("error", reject)
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      probe.close(() => resolve(`http://127.0.0.1:${port}`))
    })
  })
