/**
 * Secret redaction (SPEC §7, issue 4): the rules one by one, what they must leave alone, and the
 * corpus test — secrets of every kind planted in the prompts, tool inputs, tool outputs and
 * apply_patch patches of real captures, imported by `trace-codex import` through the real
 * Braintrust sink into the fake Braintrust server: no secret reaches the server, the text around
 * them does, and `show --redacted` prints exactly the rows the server received.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { SpanRow } from "../src/domain/SpanRow"
import { defaultRedactor, makeRedactor, marker, stripUrlCredentials } from "../src/redaction"
import { acquireFakeBraintrust, type StoredRow } from "./support/fakeBraintrust"
import { rolloutFiles } from "./support/fixtures"

const BIN = path.resolve(__dirname, "../bin/trace-codex")

const redact = defaultRedactor.redactString

describe("redaction rules", () => {
  it.each([
    ["openai-key", "key sk-proj-Q7rX2mN9pL4vK8sT1wZ6yB3cD5fG0hJ2 here", "key [REDACTED:openai-key] here"],
    ["anthropic-key", "ANTHROPIC sk-ant-api03-Wm4Xn7Bq2Lp9Rt5Vs8Yz1Kc6Hd3Fg0Aj", "ANTHROPIC [REDACTED:anthropic-key]"],
    ["api-key", "braintrust: sk-Fq3Lm8Np2Rs6Tv0Wx4Yz7Bc1Dg5Hj9Kq.", "braintrust: [REDACTED:api-key]."],
    ["github-token", "git push https://ghp_N8bQ3xL7mK2vR9sT4wY6zC1dF5gH0jP3aE7u@github.com/o/r", "git push https://[REDACTED:github-token]@github.com/o/r"],
    ["github-pat", "github_pat_11ABCDE2F0abcdefGHIJKL_mnopqrstuvWXYZ0123456789abcd", "[REDACTED:github-token]"],
    ["gitlab-token", "glpat-Hx7Ns3Qk9Lm2Vb5Rt8Wy", "[REDACTED:gitlab-token]"],
    ["slack-token", "xoxb-918273645-5647382910-Kq8Lm3Nz7Xw", "[REDACTED:slack-token]"],
    ["slack-webhook", "post to https://hooks.slack.com/services/T0CORPUS1/B0CORPUS2/Zx9Yw8Vu7Ts6Rq5 now", "post to [REDACTED:slack-webhook] now"],
    ["aws-access-key-id", "id AKIAZ7Q4CORPUS9TEST2", "id [REDACTED:aws-access-key-id]"],
    ["aws-secret-key", "aws_secret_access_key = Zq8/Xw7+Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf9De8Cb7Aa", "aws_secret_access_key = [REDACTED:aws-secret-key]"],
    ["google-api-key", "AIzaSyC0rpUsT3stK3y-F0rR3d4ct10n_Ab12Cd", "[REDACTED:google-api-key]"],
    ["stripe-key", "sk_live_51CorpusTestKeyQx8Wv7Ut6", "[REDACTED:stripe-key]"],
    ["npm-token", "//registry.npmjs.org/:_authToken=npm_Q8w7E6r5T4y3U2i1O0pAsDfGhJkLzXcVbNm9", "//registry.npmjs.org/:_authToken=[REDACTED:npm-token]"],
    ["jwt", "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "jwt [REDACTED:jwt]"],
    ["bearer header", "curl -H 'Authorization: Bearer abc.def-123456789' https://x", "curl -H 'Authorization: Bearer [REDACTED:authorization]' https://x"],
    ["basic header", "authorization: Basic dXNlcjpwYXNz", "authorization: Basic [REDACTED:authorization]"],
    ["private key", "a\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n-----END OPENSSH PRIVATE KEY-----\nb", "a\n[REDACTED:private-key]\nb"],
    ["truncated private key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA...", "[REDACTED:private-key]"],
    [".env lines", "DB_PASSWORD=hunter2\nexport GITHUB_TOKEN=abc123\nSECRET_KEY_BASE: \"x9\"", "DB_PASSWORD=[REDACTED:env-secret]\nexport GITHUB_TOKEN=[REDACTED:env-secret]\nSECRET_KEY_BASE: \"[REDACTED:env-secret]\""],
    ["url credentials", "git clone https://user:s3cret@github.com/o/r.git", "git clone https://[REDACTED:url-credentials]@github.com/o/r.git"],
    ["query secrets", "GET /cb?code=1&access_token=abc123&x=1", "GET /cb?code=1&access_token=[REDACTED:query-secret]&x=1"],
    ["command-line secrets", "mysql --password hunter2 && tool --token=xyz", "mysql --password [REDACTED:cli-secret] && tool --token=[REDACTED:cli-secret]"],
    ["JSON secret fields in text", '{"cmd":"ls","api_token":"correct-horse","client_secret": "abc"}', '{"cmd":"ls","api_token":"[REDACTED:secret-field]","client_secret": "[REDACTED:secret-field]"}'],
    ["escaped JSON secret fields", '{\\"password\\": \\"hunter2\\"}', '{\\"password\\": \\"[REDACTED:secret-field]\\"}']
  ])("%s", (_kind, input, expected) => {
    expect(redact(input)).toBe(expected)
  })

  it.each([
    ["ordinary prose about tokens", "Bearer tokens are short-lived; MAX_TOKENS=4096 and prompt_tokens: 12"],
    ["the shell's PWD and variable references", "PWD=/home/me\nTOKEN=$GITHUB_TOKEN\nAPI_KEY=${{ secrets.API_KEY }}\nPASSWORD=<your password>"],
    ["hyphenated words after sk-", "the risk-of-a-task-and-sk-learn-is-not-a-key-at-all"],
    ["ssh remotes, plain URLs, commit ids, uuids", "git@github.com:acme/app.git https://github.com/acme/app 3f2a9c1e0b7d4a6f8e5c2b1a0d9e8f7c6b5a4d3e 01a2013a-9ba2-7f60-9bd9-ba69e3de7bf8"],
    ["code that reads secrets from the environment", 'const token = process.env.GITHUB_TOKEN\nheaders: { Authorization: `Bearer ${token}` }'],
    ["JSON fields that only sound secret", '{"max_tokens": "100", "key": "Enter", "keyboard": "us"}']
  ])("leaves alone: %s", (_what, text) => {
    expect(redact(text)).toBe(text)
  })

  it("is idempotent and returns unchanged values as the same object", () => {
    const samples = [
      'Authorization: Bearer abc.def-123456789 and {"authorization": "Bearer zzz"}',
      "DB_PASSWORD=hunter2 https://u:p@h.example.com sk-proj-Q7rX2mN9pL4vK8sT1wZ6yB3cD5fG0hJ2"
    ]
    for (const s of samples) expect(redact(redact(s))).toBe(redact(s))
    const clean = { messages: [{ role: "user", content: "hello" }], n: 3, ok: true, none: null }
    expect(defaultRedactor.redactValue(clean)).toBe(clean)
  })

  it("redacts values of secret-named fields whole, object keys, and every text field of a row", () => {
    const value = defaultRedactor.redactValue({
      password: "hunter2",
      apiKey: "x",
      GITHUB_TOKEN: "plain",
      headers: { authorization: "Bearer zzz" },
      max_tokens: "5",
      "sk-proj-Q7rX2mN9pL4vK8sT1wZ6yB3cD5fG0hJ2": 1,
      list: ["AKIAZ7Q4CORPUS9TEST2"],
      flags: { secret: true }
    })
    expect(value).toEqual({
      password: "[REDACTED:secret-field]",
      apiKey: "[REDACTED:secret-field]",
      GITHUB_TOKEN: "[REDACTED:secret-field]",
      headers: { authorization: "[REDACTED:secret-field]" },
      max_tokens: "5",
      "[REDACTED:openai-key]": 1,
      list: ["[REDACTED:aws-access-key-id]"],
      flags: { secret: true }
    })
    const row: SpanRow = {
      id: "a",
      span_id: "a",
      root_span_id: "r",
      span_parents: ["r"],
      span_attributes: { name: "exec glpat-Hx7Ns3Qk9Lm2Vb5Rt8Wy", type: "tool" },
      metrics: { start: 1, end: 2 },
      input: "glpat-Hx7Ns3Qk9Lm2Vb5Rt8Wy",
      output: ["glpat-Hx7Ns3Qk9Lm2Vb5Rt8Wy"],
      error: "failed with glpat-Hx7Ns3Qk9Lm2Vb5Rt8Wy",
      metadata: { note: "glpat-Hx7Ns3Qk9Lm2Vb5Rt8Wy" },
      tags: ["glpat-Hx7Ns3Qk9Lm2Vb5Rt8Wy"]
    }
    const redacted = defaultRedactor.redactRow(row)
    expect(JSON.stringify(redacted)).not.toContain("glpat-Hx7Ns3Qk9Lm2Vb5Rt8Wy")
    expect(redacted.error).toBe("failed with [REDACTED:gitlab-token]")
    expect({ ...redacted, span_attributes: row.span_attributes, input: row.input, output: row.output, error: row.error, metadata: row.metadata, tags: row.tags }).toEqual(row)
    const untouched: SpanRow = { ...row, span_attributes: { name: "exec", type: "tool" }, input: "ls", output: "ok", error: "exit 1", metadata: {}, tags: ["t"] }
    expect(defaultRedactor.redactRow(untouched)).toBe(untouched)
  })

  it("extra patterns (sources or /source/flags) and known secrets are redacted too", () => {
    const redactor = makeRedactor({ extraPatterns: ["ACME-[0-9]{8}", "/internal-[a-z]+/i"], knownSecrets: [{ kind: "braintrust-key", value: "bt-key-123456789" }] })
    expect(redactor.redactString("ticket ACME-31415926 at INTERNAL-wiki with bt-key-123456789")).toBe(
      `ticket ${marker("custom")} at ${marker("custom")} with ${marker("braintrust-key")}`
    )
  })
})

describe("stripUrlCredentials", () => {
  it.each([
    ["https://x-access-token:ghs_abc@github.com/o/r.git", "https://github.com/o/r.git"],
    ["https://ghp_token@github.com/o/r", "https://github.com/o/r"],
    ["https://u:p@ss@host.example.com/a@b", "https://host.example.com/a@b"],
    ["ssh://git:pw@host/r.git", "ssh://git@host/r.git"],
    ["ssh://git@host/r.git", "ssh://git@host/r.git"],
    ["git@github.com:o/r.git", "git@github.com:o/r.git"],
    ["https://github.com/o/r", "https://github.com/o/r"]
  ])("%s", (url, expected) => {
    expect(stripUrlCredentials(url)).toBe(expected)
  })
})

// ---------------------------------------------------------------------------------------------
// the corpus

const API_KEY = "bt-corpus-K3y-Vb7Nm3Qw9Er1Ty5Ui8Op"

/** every secret planted, by the marker kind that must replace it */
const SECRETS: ReadonlyArray<readonly [kind: string, secret: string, line: string]> = [
  ["openai-key", "sk-proj-Q7rX2mN9pL4vK8sT1wZ6yB3cD5fG0hJ2", "my openai key is sk-proj-Q7rX2mN9pL4vK8sT1wZ6yB3cD5fG0hJ2, keep it safe"],
  ["anthropic-key", "sk-ant-api03-Wm4Xn7Bq2Lp9Rt5Vs8Yz1Kc6Hd3Fg0Aj", "anthropic sk-ant-api03-Wm4Xn7Bq2Lp9Rt5Vs8Yz1Kc6Hd3Fg0Aj"],
  ["api-key", "sk-Fq3Lm8Np2Rs6Tv0Wx4Yz7Bc1Dg5Hj9Kq", "braintrust key sk-Fq3Lm8Np2Rs6Tv0Wx4Yz7Bc1Dg5Hj9Kq"],
  ["github-token", "ghp_N8bQ3xL7mK2vR9sT4wY6zC1dF5gH0jP3aE7u", "gh auth token ghp_N8bQ3xL7mK2vR9sT4wY6zC1dF5gH0jP3aE7u"],
  ["gitlab-token", "glpat-Hx7Ns3Qk9Lm2Vb5Rt8Wy", "gitlab glpat-Hx7Ns3Qk9Lm2Vb5Rt8Wy"],
  ["slack-token", "xoxb-918273645-5647382910-Kq8Lm3Nz7Xw", "slack bot xoxb-918273645-5647382910-Kq8Lm3Nz7Xw"],
  ["slack-webhook", "hooks.slack.com/services/T0CORPUS1/B0CORPUS2/Zx9Yw8Vu7Ts6Rq5", "webhook https://hooks.slack.com/services/T0CORPUS1/B0CORPUS2/Zx9Yw8Vu7Ts6Rq5"],
  ["aws-access-key-id", "AKIAZ7Q4CORPUS9TEST2", "aws key id AKIAZ7Q4CORPUS9TEST2"],
  ["aws-secret-key", "Zq8/Xw7+Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf9De8Cb7Aa", "aws_secret_access_key = Zq8/Xw7+Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf9De8Cb7Aa"],
  ["google-api-key", "AIzaSyC0rpUsT3stK3y-F0rR3d4ct10n_Ab12Cd", "maps AIzaSyC0rpUsT3stK3y-F0rR3d4ct10n_Ab12Cd"],
  ["stripe-key", "sk_live_51CorpusTestKeyQx8Wv7Ut6", "stripe sk_live_51CorpusTestKeyQx8Wv7Ut6"],
  ["npm-token", "npm_Q8w7E6r5T4y3U2i1O0pAsDfGhJkLzXcVbNm9", "//registry.npmjs.org/:_authToken=npm_Q8w7E6r5T4y3U2i1O0pAsDfGhJkLzXcVbNm9"],
  ["jwt", "eyJzdWIiOiJjb3JwdXMiLCJpYXQiOjE3MDAwMDAwMDB9", "session eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjb3JwdXMiLCJpYXQiOjE3MDAwMDAwMDB9.Q29ycHVzU2lnbmF0dXJlVGVzdA"],
  ["authorization", "Zm9vYmFyLWNvcnB1cy1iZWFyZXItdG9rZW4", "curl -H 'Authorization: Bearer Zm9vYmFyLWNvcnB1cy1iZWFyZXItdG9rZW4' https://api.example.com"],
  ["authorization", "Y29ycHVzOnNlY3JldC1iYXNpYy1wYXNz", "Authorization: Basic Y29ycHVzOnNlY3JldC1iYXNpYy1wYXNz"],
  ["private-key", "MIIEowIBAAKCAQEAcorpusPrivateKeyBody", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAcorpusPrivateKeyBody\nQ29ycHVzUHJpdmF0ZUtleUxpbmUy\n-----END RSA PRIVATE KEY-----"],
  ["env-secret", "Tr0ub4dor-Corpus-Env-3", "DATABASE_PASSWORD=Tr0ub4dor-Corpus-Env-3"],
  ["url-credentials", "Url-Pa55-Corpus-9", "git remote add deploy https://deploy:Url-Pa55-Corpus-9@git.example.com/app.git"],
  ["query-secret", "QueryTok3nCorpus77", "GET https://api.example.com/v1/items?access_token=QueryTok3nCorpus77&page=2"],
  ["cli-secret", "CliPassw0rdCorpus", "psql --password CliPassw0rdCorpus -h db"],
  ["secret-field", "correct-horse-battery-staple-corpus", '{"client_secret": "correct-horse-battery-staple-corpus"}'],
  ["custom", "ACME-31415926", "internal ticket ACME-31415926"],
  ["braintrust-key", API_KEY, `the configured key ${API_KEY}`]
]

const block = (where: string): string => [`corpus:${where} begin`, ...SECRETS.map(([, , line]) => line), `corpus:${where} end`].join("\n")

const GIT_PASSWORD = "Git-Origin-Pa55-Corpus"

/** Copy of a fixture rollout with the secrets planted; `plant` maps a string value to its planted version. */
const plantedCopy = (source: string, dir: string, plant: (value: string) => string | undefined): string => {
  const walk = (value: unknown): unknown => {
    if (typeof value === "string") return plant(value) ?? value
    if (Array.isArray(value)) return value.map(walk)
    if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]))
    return value
  }
  const lines = fs.readFileSync(source, "utf8").split("\n").filter((l) => l.trim() !== "").map((l) => {
    const line = walk(JSON.parse(l)) as { type: string; payload: Record<string, unknown> }
    if (line.type === "session_meta") {
      line.payload["git"] = { repository_url: `https://ci-bot:${GIT_PASSWORD}@github.com/acme/app.git`, branch: "main", commit_hash: "c0ffee" }
    }
    return JSON.stringify(line)
  })
  const target = path.join(dir, path.basename(source))
  fs.writeFileSync(target, lines.join("\n") + "\n")
  return target
}

/** apply-patch: the prompt, the patch (and the file contents it adds), the tool's output */
const plantApplyPatch = (value: string): string | undefined => {
  if (value.startsWith("Change hello to")) return `${value}\n${block("prompt")}`
  if (value.startsWith("*** Begin Patch")) {
    const lines = block("patch").split("\n").map((l) => `+${l}`).join("\n")
    return value.replace("+second note\n", `+second note\n${lines}\n`)
  }
  if (value === "first note\nsecond note\n") return `${value}${block("patch")}\n`
  if (value.includes("Success. Updated the following files")) return `${value}${block("tool-output")}\n`
  return undefined
}

/** shell-tool: the prompt, the command (arguments as the model wrote them, and as executed), its output */
const PLANTED_COMMAND = "export GITHUB_TOKEN=ghp_N8bQ3xL7mK2vR9sT4wY6zC1dF5gH0jP3aE7u; curl -H 'Authorization: Bearer Zm9vYmFyLWNvcnB1cy1iZWFyZXItdG9rZW4' https://deploy:Url-Pa55-Corpus-9@git.example.com/app.git; echo hi # corpus:command"
const plantShellTool = (value: string): string | undefined => {
  if (value.startsWith("Run echo hi")) return `${value}\n${block("prompt")}`
  if (value === '{"cmd":"echo hi","yield_time_ms":1000}') {
    return JSON.stringify({ cmd: PLANTED_COMMAND, yield_time_ms: 1000, api_token: "correct-horse-battery-staple-corpus", note: block("arguments") })
  }
  if (value === "echo hi") return PLANTED_COMMAND
  if (value.endsWith("Output:\nhi\n") || value === "hi\n") return `${value}${block("tool-output")}\n`
  return undefined
}

interface RunResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** the CLI as a child process, without blocking this process (the fake server lives here) */
const runCli = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.async<RunResult>((resume) => {
    execFile(
      BIN,
      [...args],
      { env: { PATH: process.env["PATH"] ?? "", HOME: os.tmpdir(), ...env }, encoding: "utf8", timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
        resume(Effect.succeed({ code, stdout, stderr }))
      }
    )
  })

/** the fields of a stored row that carry content, as JSON */
const contentOf = (row: StoredRow | SpanRow) => {
  const attributes = ("span_attributes" in row ? row.span_attributes : {}) as Record<string, unknown>
  return JSON.parse(JSON.stringify({ name: attributes["name"], input: row["input"], output: row["output"], error: row["error"], metadata: row["metadata"] }))
}

describe("the redaction corpus", () => {
  it.scopedLive("no planted secret reaches Braintrust; the content around them does; show --redacted prints what was uploaded", () =>
    Effect.gen(function*() {
      const fake = yield* acquireFakeBraintrust({ apiKey: API_KEY })
      const work = fs.mkdtempSync(path.join(os.tmpdir(), "trace-codex-corpus-"))
      const state = path.join(work, "state")
      fs.mkdirSync(state)
      fs.writeFileSync(
        path.join(state, "config.json"),
        JSON.stringify({
          redactPatterns: ["ACME-[0-9]{8}"],
          additionalMetadata: { team: "platform", deploy_note: "deploys with ghp_N8bQ3xL7mK2vR9sT4wY6zC1dF5gH0jP3aE7u" },
          parentSpanId: "corpus-parent-span"
        })
      )
      const files = [
        plantedCopy(rolloutFiles("apply-patch")[0]!, work, plantApplyPatch),
        plantedCopy(rolloutFiles("shell-tool")[0]!, work, plantShellTool)
      ]
      // the planting took: every secret is in the rollouts we import
      const planted = files.map((f) => fs.readFileSync(f, "utf8")).join("\n")
      for (const [, secret] of SECRETS) expect(planted).toContain(JSON.stringify(secret).slice(1, -1))

      const env = { TRACE_CODEX_STATE_DIR: state, TRACE_TO_BRAINTRUST: "true", BRAINTRUST_API_KEY: API_KEY, BRAINTRUST_APP_URL: fake.url }
      const imported = yield* runCli(["import", ...files], env)
      expect(imported.stderr).toBe("")
      expect(imported.code).toBe(0)
      expect(imported.stdout).toMatch(/^imported 2 sessions, \d+ spans, 0 errors \(delivered to braintrust\)/)

      const received = fake.requests().map((r) => r.body).join("\n")
      const uploads = fake.requests().filter((r) => r.path.endsWith("/logs3")).map((r) => r.body).join("\n")
      expect(uploads.length).toBeGreaterThan(0)
      for (const [kind, secret] of SECRETS) {
        expect(received, `${kind} secret ${secret} reached the server`).not.toContain(secret)
        expect(uploads, `no ${kind} marker arrived`).toContain(marker(kind))
      }
      expect(received).not.toContain(GIT_PASSWORD)
      for (const where of ["prompt", "patch", "tool-output", "arguments"]) {
        expect(uploads).toContain(`corpus:${where} begin`)
        expect(uploads).toContain(`corpus:${where} end`)
      }
      expect(uploads).toContain("Change hello to 'hello, patched' in hello.txt")
      expect(uploads).toContain("+hello, patched")
      expect(uploads).toContain("corpus:command")

      const stored = [...fake.rows().values()]
      const roots = stored.filter((r) => Array.isArray(r["span_parents"]) && r["span_parents"].includes("corpus-parent-span"))
      expect(roots).toHaveLength(2)
      for (const root of roots) {
        const metadata = root["metadata"] as Record<string, unknown>
        expect(metadata["team"]).toBe("platform")
        expect(metadata["deploy_note"]).toBe("deploys with [REDACTED:github-token]")
        expect(metadata["git_origin_url"]).toBe("https://github.com/acme/app.git")
        expect(root["root_span_id"]).toBe("corpus-parent-span")
      }

      // the preview: the same rows, byte for byte in their content, and no secret in the tree either
      for (const file of files) {
        const preview = yield* runCli(["show", "--redacted", "--json", file], env)
        expect(preview.code).toBe(0)
        for (const [, secret] of SECRETS) expect(preview.stdout).not.toContain(secret)
        const rows = preview.stdout.trim().split("\n").map((l) => JSON.parse(l) as SpanRow)
        expect(rows.length).toBeGreaterThan(0)
        for (const row of rows) expect(contentOf(row), row.span_attributes.name).toEqual(contentOf(fake.rows().get(row.id)!))
        const tree = yield* runCli(["show", "--redacted", file], env)
        expect(tree.code).toBe(0)
        for (const [, secret] of SECRETS) expect(tree.stdout).not.toContain(secret)
      }
      // without --redacted, show is the raw view of the transcript
      const raw = yield* runCli(["show", "--json", files[1]!], env)
      expect(raw.stdout).toContain("Url-Pa55-Corpus-9")
    }), 120_000)
})
