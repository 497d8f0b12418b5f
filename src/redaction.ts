/**
 * Secret redaction: what keeps API keys, tokens, private keys and passwords from leaving the
 * machine inside a trace (SPEC §7). Pure functions over span rows: every string in a row's input,
 * output, metadata, error, name and tags — object keys included — is scanned, and each secret is
 * replaced by a marker naming its kind, e.g. `[REDACTED:openai-key]`. Values of object fields
 * whose name says they hold a secret (`password`, `apiKey`, `authorization`, ...) are replaced
 * whole. Applied by the sinks' wrapper (Settings.sinkLayerFor), so every sink sees redacted rows.
 *
 * Speed matters: an import of a 200 MB rollout hands a few hundred million characters to the
 * sink. Each string is first tested against one trigger expression (TRIGGER) built to be cheap
 * for V8 — literal alternatives that start with rare characters, or that are anchored on a rare
 * character and look behind for the rest — and only strings that hit it run the rules, each
 * rule again only when one of its literal needles occurs. Rows repeat the same texts (every model
 * call shows the recent conversation again, field names and roles recur in every message), so a
 * redactor remembers its verdicts on strings; strings cannot change, so a remembered verdict is
 * always the one a scan would give. Unchanged values are returned as the same object, so clean
 * rows cost no allocation.
 */
import { isRecord } from "effect/Predicate"
import type { SpanRow } from "./domain/SpanRow"

export interface RedactionRule {
  /** named in the marker: `[REDACTED:<kind>]` */
  readonly kind: string
  /** the rule runs on a string only if it contains one of these */
  readonly needles: ReadonlyArray<string>
  /** global; the whole match is replaced by the marker, unless `keepPrefix` */
  readonly pattern: RegExp
  /**
   * when set, the pattern has two groups — what to keep (a header name, `KEY=`) and the secret —
   * and values that are references rather than secrets (`$TOKEN`, `<your key>`) are left alone
   */
  readonly keepPrefix?: boolean
}

export const marker = (kind: string): string => `[REDACTED:${kind}]`

const MARKER_PREFIX = "[REDACTED"

/** a value after `KEY=` that names a secret instead of holding one, or was already redacted */
const isReference = (value: string): boolean =>
  value.startsWith("$") || value.startsWith("<") || value.startsWith("%") || value.startsWith(MARKER_PREFIX) || /^\*+$/.test(value)

/** random tokens contain digits; a long hyphenated word after `sk-` is not a key */
const HAS_DIGIT = "(?=[A-Za-z_-]*[0-9])"

/** the end of a field name whose value is a secret: `password`, `apiKey`, `GITHUB_TOKEN`, `client_secret` */
const SECRET_NAME = "(?:pass(?:word|wd)|secret|(?:api|secret|private|access)[-_]?key|apikey|token|credentials?|authorization)"

/**
 * Where a token may start: after a non-word character, or after an escape sequence such as the
 * `\n` in text that is itself JSON (tool arguments as the model wrote them), where `\b` would see
 * the `n` and no boundary.
 */
const B = String.raw`(?:(?<![A-Za-z0-9_])|(?<=\\[nrt]))`
const rule = (kind: string, needles: ReadonlyArray<string>, source: string, flags = "g", keepPrefix = false): RedactionRule => ({
  kind,
  needles,
  pattern: new RegExp(source, flags),
  ...(keepPrefix ? { keepPrefix } : {})
})

/** Built-in rules, most specific first (an Anthropic key is also an `sk-` key). */
export const BUILTIN_RULES: ReadonlyArray<RedactionRule> = [
  // a block cut off before its END line (truncated output) is redacted to the end of the string
  rule("private-key", ["PRIVATE KEY"], String.raw`-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|$)`),
  rule("jwt", ["eyJ"], String.raw`${B}eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`),
  rule("anthropic-key", ["sk-ant-"], String.raw`${B}sk-ant-[A-Za-z0-9_-]{20,}`),
  rule("openai-key", ["sk-"], String.raw`${B}sk-(?:proj|svcacct|admin|None)-${HAS_DIGIT}[A-Za-z0-9_-]{20,}|${B}sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}`),
  // other `sk-` keys: Braintrust's, and many providers' that copied OpenAI's format
  rule("api-key", ["sk-"], String.raw`${B}sk-${HAS_DIGIT}[A-Za-z0-9_-]{20,}`),
  rule("github-token", ["ghp_", "gho_", "ghs_", "ghu_", "ghr_", "github_pat_"], String.raw`${B}(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})`),
  rule("gitlab-token", ["glpat-"], String.raw`${B}glpat-[A-Za-z0-9_-]{20,}`),
  rule("slack-token", ["xox"], String.raw`${B}xox[abposr]-[A-Za-z0-9-]{10,}`),
  rule("slack-webhook", ["hooks.slack.com"], String.raw`https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_-]+`),
  rule("aws-access-key-id", ["AKIA", "ASIA"], String.raw`${B}(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])`),
  rule(
    "aws-secret-key",
    ["aws_secret_access_key", "AWS_SECRET_ACCESS_KEY", "SecretAccessKey"],
    String.raw`((?:aws_secret_access_key|SecretAccessKey)\\?["'${"`"}]?\s*[=:]\s*\\?["'${"`"}]?)([A-Za-z0-9/+=]{40})`,
    "gi",
    true
  ),
  rule("google-api-key", ["AIza"], String.raw`${B}AIza[0-9A-Za-z_-]{35}`),
  rule("stripe-key", ["k_live_", "k_test_"], String.raw`${B}[rs]k_(?:live|test)_[A-Za-z0-9]{16,}`),
  rule("npm-token", ["npm_"], String.raw`${B}npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])`),
  // `Authorization: Bearer <token>`, `authorization=Basic <b64>`, `"Authorization": "token <t>"`
  rule(
    "authorization",
    ["uthorization"],
    String.raw`(${B}[Aa]uthorization\\?["'${"`"}]?\s*[:=]\s*\\?["'${"`"}]?(?:(?:Bearer|Basic|Token|Bot|Digest|bearer|basic|token)\s+)?)([^\s"'${"`"}\\,;]+)`,
    "g",
    true
  ),
  rule("url-credentials", ["://"], String.raw`(${B}[A-Za-z][A-Za-z0-9+.-]{0,31}://)([^\s/?#@:[\]"'${"`"}<>\\]+:[^\s/?#@"'${"`"}<>\\]+)(?=@)`, "g", true),
  // `"password": "..."` inside text that is JSON (tool arguments as the model wrote them, files),
  // quotes possibly escaped once (`\"token\": \"...\"`)
  rule(
    "secret-field",
    ['":', "':", '" :', "' :"],
    String.raw`(\\?["'][A-Za-z0-9_.-]*?${SECRET_NAME}\\?["']\s*:\s*\\?["'])((?:[^"'\\]|\\[^"'])+)`,
    "gi",
    true
  ),
  // .env lines, `export X=...`, `X=... cmd`, YAML `X: ...`: an upper-case name whose last word
  // says it holds a secret (MAX_TOKENS does not; SECRET_KEY_BASE does)
  rule(
    "env-secret",
    ["SECRET", "TOKEN", "PASSW", "_KEY", "APIKEY", "CREDENTIAL", "_PWD"],
    String.raw`(${B}[A-Z0-9_]*(?:SECRET|TOKEN|PASSWORD|PASSWD|_PWD|API_KEY|APIKEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS?)(?:_[A-Z0-9_]*)?\\?["'${"`"}]?[ \t]*[=:][ \t]*\\?["'${"`"}]?)([^\s"'${"`"}\\]+)`,
    "g",
    true
  ),
  rule(
    "query-secret",
    ["token=", "password=", "passwd=", "secret=", "api_key=", "apikey=", "sig="],
    String.raw`([?&;](?:access_token|refresh_token|id_token|token|password|passwd|secret|client_secret|api_key|apikey|sig)=)([^&#\s"'${"`"}\\]+)`,
    "gi",
    true
  ),
  rule(
    "cli-secret",
    ["--pass", "--token", "--api-key", "--apikey", "--secret", "--client-secret", "--access-token"],
    String.raw`(--(?:password|passwd|token|api-key|apikey|secret|client-secret|access-token)(?:=|[ \t]+))([^\s"'${"`"}\\]+)`,
    "g",
    true
  )
]

/**
 * A string no built-in rule can match does not match this. Alternatives start with characters
 * rare in prose and code (upper case, `-`, `_`, `=`, `:`), lower-case prefixes are found from the
 * separator that follows them by looking behind: a scan runs at several hundred MB/s in V8,
 * where the plain alternation of all needles runs at a third of that. A new rule must be
 * reachable through it (the rule tables in test/redaction.test.ts go through it).
 */
const TRIGGER =
  /[-_](?<=(?:sk|rk|gh[pousr]|github_pat|glpat|npm|xox[abposr]|aws|-)[-_])|=(?<=(?:token|password|passwd|secret|api_key|apikey|sig|uthorization\\?["'`]?\s*)=)|:(?:\/\/|(?<=uthorization\\?["'`]?\s*:)|(?<=(?:assw(?:or)?d|ASSW(?:OR)?D|ecret|ECRET|[Kk]ey|KEY|oken|OKEN|redentials?|REDENTIALS?|UTHORIZATION)\\?["']\s*:))|AKIA|ASIA|AIza|SECRET|TOKEN|PASSW|_KEY|APIKEY|CREDENTIAL|_PWD|PRIVATE KEY|SecretAccessKey|J(?<=eyJ)/

/** Field names whose string values are secrets whatever they look like. */
const SECRET_FIELD = new RegExp(`${SECRET_NAME}$`, "i")

const SHORTEST_SECRET = 8

export interface Redactor {
  readonly redactString: (text: string) => string
  /** deep: strings, arrays, objects (keys too); other values as they are; the same object when nothing changed */
  readonly redactValue: (value: unknown) => unknown
  /** input, output, metadata, error, name and tags; ids, parents and metrics are left alone */
  readonly redactRow: (row: SpanRow) => SpanRow
}

export interface RedactorOptions {
  /** regular expressions (sources, or `/source/flags`) of further secrets: the whole match is redacted, kind `custom` */
  readonly extraPatterns?: ReadonlyArray<string>
  /** exact strings to redact wherever they occur, e.g. the configured Braintrust API key */
  readonly knownSecrets?: ReadonlyArray<{ readonly kind: string; readonly value: string }>
}

const REGEX_LITERAL = /^\/([\s\S]+)\/([a-z]*)$/

/** An extra pattern as a global RegExp, or why it cannot be one. */
export const compilePattern = (source: string): { readonly regex: RegExp } | { readonly error: string } => {
  const literal = REGEX_LITERAL.exec(source)
  const body = literal ? literal[1]! : source
  const flags = literal ? literal[2]! : ""
  if (/[^imsu]/.test(flags)) return { error: `flags "${flags}" not supported (use i, m, s, u)` }
  let regex: RegExp
  try {
    regex = new RegExp(body, `${flags}g`)
  } catch (error) {
    return { error: `not a valid regular expression: ${error instanceof Error ? error.message : String(error)}` }
  }
  if (new RegExp(body, flags).test("")) return { error: "matches the empty string, which would redact nothing and mark everything" }
  return { regex }
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&")

const applyRule = (rule: RedactionRule, text: string): string => {
  const replacement = marker(rule.kind)
  if (rule.keepPrefix !== true) return text.replace(rule.pattern, replacement)
  return text.replace(rule.pattern, (whole: string, prefix: string, secret: string) =>
    isReference(secret) ? whole : prefix + replacement
  )
}

const REMEMBER_FROM_LENGTH = 256
const REMEMBERED_TEXTS = 2048
/**
 * Short values repeat even more (`assistant`, tool names, the same command and its output in
 * every later model call): a few thousand of them cover nearly all calls, and a small map stays
 * faster to look up than a large one.
 */
const REMEMBERED_SHORT_TEXTS = 4096

/** what a field name becomes, and whether the field's value is a secret whatever it looks like */
interface FieldName {
  readonly redacted: string
  readonly secret: boolean
}

const containsAny = (text: string, needles: ReadonlyArray<string>): boolean => {
  for (const n of needles) if (text.includes(n)) return true
  return false
}

export const makeRedactor = (options: RedactorOptions = {}): Redactor => {
  const extra: Array<RedactionRule> = []
  for (const source of options.extraPatterns ?? []) {
    // patterns are validated when settings load (Settings.ts); one that is not valid here is skipped
    const compiled = compilePattern(source)
    if ("regex" in compiled) extra.push({ kind: "custom", needles: [], pattern: compiled.regex })
  }
  for (const known of options.knownSecrets ?? []) {
    if (known.value.length >= SHORTEST_SECRET) {
      extra.unshift({ kind: known.kind, needles: [known.value], pattern: new RegExp(escapeRegex(known.value), "g") })
    }
  }

  // the same long texts come back span after span (each model call shows the conversation's
  // recent messages again): remember their verdicts instead of scanning them every time
  const longVerdicts = new Map<string, string>()
  const shortVerdicts = new Map<string, string>()
  /** the verdict on `text` from `verdicts`, else a scan remembered there (at most `limit` of them) */
  const remembered = (verdicts: Map<string, string>, limit: number, text: string): string => {
    const known = verdicts.get(text)
    if (known !== undefined) return known
    const verdict = scanString(text)
    if (verdicts.size >= limit) verdicts.clear()
    verdicts.set(text, verdict)
    return verdict
  }
  const redactString = (text: string): string => {
    if (text.length >= REMEMBER_FROM_LENGTH) return remembered(longVerdicts, REMEMBERED_TEXTS, text)
    // too short for any built-in secret; only an extra rule could change it
    if (text.length < SHORTEST_SECRET && extra.length === 0) return text
    return remembered(shortVerdicts, REMEMBERED_SHORT_TEXTS, text)
  }

  const scanString = (text: string): string => {
    let out = text
    for (const rule of extra) if (rule.needles.length === 0 || out.includes(rule.needles[0]!)) out = applyRule(rule, out)
    if (out.length < SHORTEST_SECRET || !TRIGGER.test(out)) return out
    for (const rule of BUILTIN_RULES) if (containsAny(out, rule.needles)) out = applyRule(rule, out)
    return out
  }

  // field names repeat endlessly (role, content, type, tool_call_id, ...): remember, per name,
  // both what it becomes and whether its value is a secret, so a known name costs one lookup
  // instead of a run of the trigger expression and a second lookup
  const fieldNames = new Map<string, FieldName>()
  const fieldName = (key: string): FieldName => {
    let known = fieldNames.get(key)
    if (known === undefined) {
      known = { redacted: redactString(key), secret: SECRET_FIELD.test(key) }
      if (fieldNames.size > 10_000) fieldNames.clear()
      fieldNames.set(key, known)
    }
    return known
  }

  const redactArray = <A>(items: ReadonlyArray<A>, redactItem: (item: A) => A): ReadonlyArray<A> => {
    let copy: Array<A> | undefined
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!
      const redacted = redactItem(item)
      if (redacted !== item) {
        copy ??= items.slice()
        copy[i] = redacted
      }
    }
    return copy ?? items
  }

  const redactValue = (value: unknown): unknown => {
    if (typeof value === "string") return redactString(value)
    if (Array.isArray(value)) return redactArray<unknown>(value, redactValue)
    if (isRecord(value)) return redactRecord(value)
    return value
  }

  const redactRecord = (record: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> => {
    const keys = Object.keys(record)
    let copy: Record<string, unknown> | undefined
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!
      const item = record[key]
      const name = fieldName(key)
      const newKey = name.redacted
      const redacted = typeof item === "string" && item.length > 0 && name.secret && !item.startsWith(MARKER_PREFIX)
        ? marker("secret-field")
        : redactValue(item)
      if (copy === undefined && (newKey !== key || redacted !== item)) {
        copy = {}
        for (let j = 0; j < i; j++) copy[keys[j]!] = record[keys[j]!]
      }
      if (copy !== undefined) copy[newKey] = redacted
    }
    return copy ?? record
  }

  const redactRow = (row: SpanRow): SpanRow => {
    const name = redactString(row.span_attributes.name)
    const input = row.input === undefined ? undefined : redactValue(row.input)
    const output = row.output === undefined ? undefined : redactValue(row.output)
    const error = row.error === undefined ? undefined : redactString(row.error)
    const metadata = redactRecord(row.metadata)
    const tags = row.tags === undefined ? undefined : redactArray(row.tags, redactString)
    if (name === row.span_attributes.name && input === row.input && output === row.output && error === row.error && metadata === row.metadata && tags === row.tags) {
      return row
    }
    return {
      ...row,
      span_attributes: name === row.span_attributes.name ? row.span_attributes : { ...row.span_attributes, name },
      ...(input !== undefined ? { input } : {}),
      ...(output !== undefined ? { output } : {}),
      ...(error !== undefined ? { error } : {}),
      metadata,
      ...(tags !== undefined ? { tags } : {})
    }
  }

  return { redactString, redactValue, redactRow }
}

/** The built-in rules alone. */
export const defaultRedactor: Redactor = makeRedactor()

/**
 * A URL without the credentials in it, for metadata such as the git origin: http(s) URLs lose
 * their whole user-info part (`https://x-access-token:ghs_…@github.com/o/r` →
 * `https://github.com/o/r`), other schemes only the password (`ssh://git@host` stays). Strings
 * that are not URLs (`git@github.com:o/r.git`) come back unchanged.
 */
export const stripUrlCredentials = (url: string | null | undefined): string | undefined => {
  if (url === null || url === undefined) return undefined
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(url)
  if (!scheme) return url
  const start = scheme[0].length
  const authorityEnd = url.slice(start).search(/[/?#]/)
  const authority = authorityEnd < 0 ? url.slice(start) : url.slice(start, start + authorityEnd)
  const at = authority.lastIndexOf("@")
  if (at < 0) return url
  const userinfo = authority.slice(0, at)
  const rest = url.slice(start + at + 1)
  if (/^https?:\/\/$/i.test(scheme[0])) return scheme[0] + rest
  const colon = userinfo.indexOf(":")
  return colon < 0 ? url : `${scheme[0]}${userinfo.slice(0, colon)}@${rest}`
}
