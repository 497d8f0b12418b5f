/**
 * `doctor`'s Braintrust check: the same requests the `braintrust` SDK makes before it logs a
 * span (shared/reference/braintrust-sdk.md §1) — log in with the API key, register the project,
 * reach the API — each bounded in time, each failure explained. Nothing is logged.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

export interface BraintrustTarget {
  readonly apiKey: Redacted.Redacted<string>
  readonly appUrl: string
  /** BRAINTRUST_API_URL / apiUrl; default: the `api_url` of the login answer */
  readonly apiUrl: string | undefined
  readonly orgName: string | undefined
  readonly project: string
  readonly timeoutMs: number
}

export interface BraintrustStep {
  readonly name: "login" | "project" | "api"
  readonly ok: boolean
  readonly message: string
  readonly fix?: string
}

const Org = Schema.Struct({ id: Schema.String, name: Schema.String, api_url: Schema.optional(Schema.NullOr(Schema.String)) })
const LoginAnswer = Schema.Struct({ org_info: Schema.Array(Org) })
const RegisterAnswer = Schema.Struct({ project: Schema.Struct({ id: Schema.String, name: Schema.String }) })
const decodeLogin = Schema.decodeUnknownOption(LoginAnswer)
const decodeRegister = Schema.decodeUnknownOption(RegisterAnswer)

interface Answer {
  readonly status: number
  readonly body: unknown
  readonly text: string
}

const describeFailure = (e: unknown): string => {
  if (!(e instanceof Error)) return String(e)
  if (e.name === "TimeoutError") return "no answer in time"
  return e.cause instanceof Error ? `${e.message} (${e.cause.message})` : e.message
}

const joinUrl = (base: string, path: string): string => base.replace(/\/+$/, "") + path

const request = (url: string, init: { method: string; apiKey: Redacted.Redacted<string>; body?: unknown; timeoutMs: number }): Effect.Effect<Answer, string> =>
  Effect.tryPromise({
    try: async () => {
      const response = await fetch(url, {
        method: init.method,
        headers: {
          Authorization: `Bearer ${Redacted.value(init.apiKey)}`,
          Accept: "application/json",
          ...(init.body !== undefined ? { "Content-Type": "application/json" } : {})
        },
        ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
        signal: AbortSignal.timeout(init.timeoutMs)
      })
      const text = await response.text()
      let body: unknown
      try {
        body = JSON.parse(text)
      } catch {
        body = undefined
      }
      return { status: response.status, body, text }
    },
    catch: describeFailure
  })

const snippet = (text: string): string => {
  const one = text.replace(/\s+/g, " ").trim()
  return one.length > 160 ? `${one.slice(0, 160)}…` : one
}

const rejected = (status: number): boolean => status === 401 || status === 403

export const checkBraintrust = (target: BraintrustTarget): Effect.Effect<ReadonlyArray<BraintrustStep>> =>
  Effect.gen(function* () {
    const steps: Array<BraintrustStep> = []
    const loginUrl = joinUrl(target.appUrl, "/api/apikey/login")
    const login = yield* Effect.either(request(loginUrl, { method: "POST", apiKey: target.apiKey, timeoutMs: target.timeoutMs }))
    if (login._tag === "Left") {
      steps.push({ name: "login", ok: false, message: `cannot reach ${target.appUrl}: ${login.left}`, fix: "check BRAINTRUST_APP_URL (or appUrl in config.json), your network and proxy settings" })
      return steps
    }
    if (rejected(login.right.status)) {
      steps.push({
        name: "login",
        ok: false,
        message: `${target.appUrl} rejected the API key (HTTP ${login.right.status})`,
        fix: "create an API key in Braintrust (Settings → API keys) and set BRAINTRUST_API_KEY to it; check it belongs to this Braintrust URL"
      })
      return steps
    }
    const orgs = Option.map(decodeLogin(login.right.body), (answer) => answer.org_info)
    if (login.right.status >= 300 || Option.isNone(orgs)) {
      steps.push({ name: "login", ok: false, message: `unexpected answer from ${loginUrl}: HTTP ${login.right.status} ${snippet(login.right.text)}`, fix: "check BRAINTRUST_APP_URL points at a Braintrust server" })
      return steps
    }
    const org = target.orgName === undefined ? orgs.value[0] : orgs.value.find((o) => o.name === target.orgName)
    if (org === undefined) {
      steps.push({
        name: "login",
        ok: false,
        message: target.orgName === undefined ? "the API key belongs to no organization" : `the API key has no organization "${target.orgName}" (it has: ${orgs.value.map((o) => o.name).join(", ") || "none"})`,
        fix: target.orgName === undefined ? "create the key inside an organization" : "set BRAINTRUST_ORG_NAME to one of those, or unset it"
      })
      return steps
    }
    steps.push({ name: "login", ok: true, message: `logged in to ${target.appUrl} (organization ${org.name})` })

    const register = yield* Effect.either(
      request(joinUrl(target.appUrl, "/api/project/register"), { method: "POST", apiKey: target.apiKey, body: { project_name: target.project, org_id: org.id }, timeoutMs: target.timeoutMs })
    )
    const project = register._tag === "Right" && register.right.status < 300 ? decodeRegister(register.right.body) : Option.none()
    if (Option.isSome(project)) {
      steps.push({ name: "project", ok: true, message: `project "${project.value.project.name}" is there (id ${project.value.project.id})` })
    } else {
      const why = register._tag === "Left" ? register.left : `HTTP ${register.right.status} ${snippet(register.right.text)}`
      steps.push({
        name: "project",
        ok: false,
        message: `cannot open project "${target.project}": ${why}`,
        fix: register._tag === "Right" && rejected(register.right.status)
          ? "the key may not create or write projects in this organization: use a key with access, or set BRAINTRUST_PROJECT to a project it can write"
          : "check the project name (BRAINTRUST_PROJECT) and the key's permissions"
      })
    }

    const apiUrl = target.apiUrl ?? org.api_url ?? undefined
    if (apiUrl === undefined || apiUrl === null) {
      steps.push({ name: "api", ok: false, message: "the login answer names no API URL", fix: "set BRAINTRUST_API_URL" })
      return steps
    }
    const version = yield* Effect.either(request(joinUrl(apiUrl, "/version"), { method: "GET", apiKey: target.apiKey, timeoutMs: target.timeoutMs }))
    if (version._tag === "Right" && version.right.status < 300) {
      steps.push({ name: "api", ok: true, message: `API ${apiUrl} answers` })
    } else {
      const why = version._tag === "Left" ? version.left : `HTTP ${version.right.status} ${snippet(version.right.text)}`
      steps.push({ name: "api", ok: false, message: `API ${apiUrl}: ${why}`, fix: "spans are sent there: check BRAINTRUST_API_URL (or unset it to use the one Braintrust names), network and proxy" })
    }
    return steps
  })
