/**
 * trace-codex's settings (SPEC §5): environment variables — the names of Braintrust's own Codex
 * plugin — win over `<state dir>/config.json`, which wins over the defaults. Every value is
 * decoded with Schema; an invalid one is a SettingsError whose message names the variable or
 * the file and key, and says what was expected.
 *
 * The API key is held as `Redacted` and is never written anywhere by us: `persistableSettings`
 * (what a live session stores in its checkpoint, so that it keeps the settings it started with)
 * leaves it out, and `restoreSettings` takes it from the caller's current environment.
 *
 * From settings to services: `sinkLayerFor` (Braintrust or the local store, behind redaction)
 * and `reducerOptionsFor` (parent span, additional and CI metadata).
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Config from "effect/Config"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { join } from "node:path"
import * as BraintrustSpanSink from "../layers/BraintrustSpanSink"
import { LocalSpanSink } from "../layers/LocalSpanSink"
import { CI_ENV_NAMES, ciMetadata } from "./ciMetadata"
import { compilePattern, defaultRedactor, makeRedactor, type Redactor } from "./redaction"
import type { ReducerOptions } from "./reducer/state"
import { SpanSink, type SpanSinkService } from "./SpanSink"
import { StateDir } from "./StateDir"

export interface RedactionSettings {
  /** redact secrets before rows reach a sink (default true) */
  readonly enabled: boolean
  /** further secrets: regular expressions (sources, or `/source/flags`) */
  readonly extraPatterns: ReadonlyArray<string>
}

export interface Settings {
  readonly traceToBraintrust: boolean
  readonly apiKey: Redacted.Redacted<string> | undefined
  readonly project: string
  /** undefined: the SDK's default */
  readonly appUrl: string | undefined
  /** undefined: the URL Braintrust's login names */
  readonly apiUrl: string | undefined
  /** which organization, when the key belongs to several */
  readonly orgName: string | undefined
  /** merged into the root span's metadata (standard keys win) */
  readonly additionalMetadata: Readonly<Record<string, unknown>> | undefined
  /** attach the session under this span; either alone is used for both */
  readonly parentSpanId: string | undefined
  readonly rootSpanId: string | undefined
  /** the Stop hook waits until the turn's spans are delivered */
  readonly flushOnTurnEnd: boolean
  readonly redaction: RedactionSettings
  /** the CI job this environment belongs to (`ci_*` keys), empty outside CI; see ciMetadata.ts */
  readonly ciMetadata: Readonly<Record<string, string>>
}

export const defaultSettings: Settings = {
  traceToBraintrust: false,
  apiKey: undefined,
  project: "codex",
  appUrl: undefined,
  apiUrl: undefined,
  orgName: undefined,
  additionalMetadata: undefined,
  parentSpanId: undefined,
  rootSpanId: undefined,
  flushOnTurnEnd: false,
  redaction: { enabled: true, extraPatterns: [] },
  ciMetadata: {}
}

export interface SettingsProblem {
  /** the config.json key of the setting, or "config.json" for the file as a whole */
  readonly setting: string
  /** the environment variable or the file the bad value came from */
  readonly source: string
  readonly message: string
}

export class SettingsError extends Data.TaggedError("SettingsError")<{
  /** one line per problem, each naming the variable or file and key */
  readonly message: string
  readonly problems: ReadonlyArray<SettingsProblem>
}> {}

// ---------------------------------------------------------------------------------------------
// decoding one setting

/** the names `config.json` uses; the `config` command lists settings in this order */
export const SETTING_NAMES = [
  "traceToBraintrust",
  "apiKey",
  "project",
  "appUrl",
  "apiUrl",
  "orgName",
  "additionalMetadata",
  "parentSpanId",
  "rootSpanId",
  "flushOnTurnEnd",
  "redact",
  "redactPatterns"
] as const
export type SettingName = (typeof SETTING_NAMES)[number]

export type SettingSource =
  | { readonly from: "env"; readonly name: string }
  | { readonly from: "config.json"; readonly path: string }
  | { readonly from: "default" }

interface Field<A> {
  /** environment variables, the first one set wins */
  readonly env: ReadonlyArray<string>
  /** decode a (trimmed, non-empty) environment value; Left: what was wrong */
  readonly fromEnv: (raw: string) => Either.Either<A, string>
  readonly fromFile: (value: unknown) => Either.Either<A, string>
  /** an empty environment value is an error rather than "not set" */
  readonly emptyIsError?: string
}

/** a value quoted for an error message: short, and with any secret in it redacted */
const shown = (value: unknown): string => {
  // redacted before it is cut short: a cut could leave a secret too short to be recognised
  const text = defaultRedactor.redactString(JSON.stringify(value) ?? String(value))
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

const decodeOr = <A, I>(schema: Schema.Schema<A, I>, expected: string, echo = true) => {
  const decode = Schema.decodeUnknownEither(schema)
  return (value: unknown): Either.Either<A, string> =>
    Either.mapLeft(decode(value), () => (echo ? `expected ${expected}, got ${shown(value)}` : `expected ${expected}`))
}

const EnvBoolean = Schema.transform(Schema.Literal("true", "false", "1", "0", "yes", "no", "on", "off"), Schema.Boolean, {
  strict: true,
  decode: (word) => word === "true" || word === "1" || word === "yes" || word === "on",
  encode: (flag) => (flag ? "true" : "false")
})

const HttpUrl = Schema.String.pipe(Schema.filter((url) => /^https?:\/\/\S+$/i.test(url) && URL.canParse(url)))
const NonEmpty = Schema.NonEmptyTrimmedString
const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })
const Strings = Schema.Array(Schema.String)

const booleanField = (env: string): Field<boolean> => {
  const fromEnv = decodeOr(EnvBoolean, "true or false")
  return { env: [env], fromEnv: (raw) => fromEnv(raw.toLowerCase()), fromFile: decodeOr(Schema.Boolean, "true or false") }
}

const stringField = (env: ReadonlyArray<string>, echo = true): Field<string> => {
  const decode = decodeOr(NonEmpty, "a non-empty string", echo)
  return { env, fromEnv: Either.right, fromFile: decode }
}

const urlField = (env: string): Field<string> => {
  const decode = decodeOr(HttpUrl, "an http(s) URL")
  return { env: [env], fromEnv: decode, fromFile: decode }
}

const metadataField: Field<Readonly<Record<string, unknown>>> = {
  env: ["BRAINTRUST_ADDITIONAL_METADATA"],
  fromEnv: decodeOr(Schema.parseJson(JsonObject), "a JSON object"),
  fromFile: decodeOr(JsonObject, "a JSON object")
}

const checkPatterns = (patterns: ReadonlyArray<string>): Either.Either<ReadonlyArray<string>, string> => {
  for (const [index, pattern] of patterns.entries()) {
    const compiled = compilePattern(pattern)
    if ("error" in compiled) return Either.left(`pattern ${index + 1} ${shown(pattern)}: ${compiled.error}`)
  }
  return Either.right(patterns)
}

const decodePatternList = decodeOr(Strings, "a list of regular expressions (strings)")
const decodePatternJson = Schema.decodeUnknownEither(Schema.parseJson(Strings))

const patternsField: Field<ReadonlyArray<string>> = {
  env: ["TRACE_CODEX_REDACT_PATTERNS"],
  // a JSON array of patterns, or a single pattern
  fromEnv: (raw) => checkPatterns(Either.getOrElse(decodePatternJson(raw), () => [raw])),
  fromFile: (value) => Either.flatMap(decodePatternList(value), checkPatterns)
}

const FIELDS = {
  traceToBraintrust: booleanField("TRACE_TO_BRAINTRUST"),
  apiKey: stringField(["BRAINTRUST_API_KEY"], false),
  project: stringField(["BRAINTRUST_PROJECT", "BRAINTRUST_DEFAULT_PROJECT"]),
  appUrl: urlField("BRAINTRUST_APP_URL"),
  apiUrl: {
    ...urlField("BRAINTRUST_API_URL"),
    // the SDK reads this variable itself, and an empty value breaks its login on every attempt
    emptyIsError: "is set but empty, which breaks the Braintrust SDK's login; unset it or give a URL"
  },
  orgName: stringField(["BRAINTRUST_ORG_NAME"]),
  additionalMetadata: metadataField,
  parentSpanId: stringField(["CODEX_PARENT_SPAN_ID"]),
  rootSpanId: stringField(["CODEX_ROOT_SPAN_ID"]),
  flushOnTurnEnd: booleanField("BRAINTRUST_FLUSH_ON_TURN_END"),
  redact: booleanField("TRACE_CODEX_REDACT"),
  redactPatterns: patternsField
} satisfies { readonly [K in SettingName]: Field<unknown> }

/** the environment variable(s) of each setting, for documentation and the `config` command */
export const settingEnvNames = (name: SettingName): ReadonlyArray<string> => FIELDS[name].env

// ---------------------------------------------------------------------------------------------
// reading the environment and config.json

const ENV_NAMES: ReadonlyArray<string> = [...new Set([...SETTING_NAMES.flatMap((n) => FIELDS[n].env), ...CI_ENV_NAMES])]

/** every variable we read, as set (through Effect Config, so tests swap the provider) */
const environment: Config.Config<ReadonlyMap<string, string>> = Config.all(
  ENV_NAMES.map((name) => Config.option(Config.string(name)).pipe(Config.map((value) => [name, value] as const)))
).pipe(
  Config.map((entries) => {
    const set = new Map<string, string>()
    for (const [name, value] of entries) if (Option.isSome(value)) set.set(name, value.value)
    return set
  })
)

export const configFilePath = (stateDir: string): string => join(stateDir, "config.json")

/** keys starting with `$` or `_` (`$schema`, `_comment`) are left for people and editors */
const isAnnotation = (key: string): boolean => key.startsWith("$") || key.startsWith("_")

const decodeConfigText = Schema.decodeUnknownEither(Schema.parseJson())
const decodeConfigObject = Schema.decodeUnknownEither(JsonObject)

const readConfigFile = (path: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const fail = (message: string) =>
      new SettingsError({ message: `${path}: ${message}`, problems: [{ setting: "config.json", source: path, message }] })
    const exists = yield* fs.exists(path).pipe(Effect.mapError((e) => fail(`cannot read: ${e.message}`)))
    if (!exists) return undefined
    const text = yield* fs.readFileString(path).pipe(Effect.mapError((e) => fail(`cannot read: ${e.message}`)))
    if (text.trim() === "") return {}
    const json = decodeConfigText(text)
    if (Either.isLeft(json)) return yield* fail(`not valid JSON (${json.left.message.split("\n").pop()?.trim() ?? ""})`)
    const object = decodeConfigObject(json.right)
    if (Either.isLeft(object)) return yield* fail(`expected a JSON object of settings, got ${shown(json.right)}`)
    const known = new Set<string>(SETTING_NAMES)
    const unknown = Object.keys(object.right).filter((key) => !known.has(key) && !isAnnotation(key))
    if (unknown.length > 0) {
      return yield* fail(`unknown ${unknown.length === 1 ? "key" : "keys"} ${unknown.map((k) => JSON.stringify(k)).join(", ")} (known: ${SETTING_NAMES.join(", ")})`)
    }
    return object.right
  })

// ---------------------------------------------------------------------------------------------
// resolving

export interface SettingsReport {
  readonly settings: Settings
  readonly stateDir: string
  readonly configFile: string
  readonly configFileFound: boolean
  /** where each setting's effective value came from */
  readonly sources: { readonly [K in SettingName]: SettingSource }
}

interface Resolved<A> {
  readonly value: A | undefined
  readonly source: SettingSource
}

const resolve = <A>(
  name: SettingName,
  field: Field<A>,
  env: ReadonlyMap<string, string>,
  file: Readonly<Record<string, unknown>> | undefined,
  path: string,
  problems: Array<SettingsProblem>
): Resolved<A> => {
  for (const variable of field.env) {
    const raw = env.get(variable)
    if (raw === undefined) continue
    const trimmed = raw.trim()
    if (trimmed === "") {
      if (field.emptyIsError === undefined) continue
      problems.push({ setting: name, source: variable, message: `${variable}: ${field.emptyIsError}` })
      return { value: undefined, source: { from: "env", name: variable } }
    }
    const decoded = field.fromEnv(trimmed)
    if (Either.isLeft(decoded)) problems.push({ setting: name, source: variable, message: `${variable}: ${decoded.left}` })
    return { value: Either.getOrUndefined(decoded), source: { from: "env", name: variable } }
  }
  if (file !== undefined && name in file) {
    const decoded = field.fromFile(file[name])
    if (Either.isLeft(decoded)) problems.push({ setting: name, source: path, message: `${path}: ${name}: ${decoded.left}` })
    return { value: Either.getOrUndefined(decoded), source: { from: "config.json", path } }
  }
  return { value: undefined, source: { from: "default" } }
}

/** The effective settings and where each came from (what `trace-codex config` prints). */
export const loadSettingsReport: Effect.Effect<SettingsReport, SettingsError, StateDir | FileSystem.FileSystem> = Effect.gen(
  function*() {
    const { path: stateDir } = yield* StateDir
    const configFile = configFilePath(stateDir)
    const env = yield* environment.pipe(
      // Config.option(Config.string) only fails on a broken provider; report it like a bad value
      Effect.mapError((error) =>
        new SettingsError({ message: `cannot read the environment: ${String(error)}`, problems: [] })
      )
    )
    const file = yield* readConfigFile(configFile)
    const problems: Array<SettingsProblem> = []
    const get = <K extends SettingName>(name: K) => resolve(name, FIELDS[name] as Field<FieldValue<K>>, env, file, configFile, problems)
    const traceToBraintrust = get("traceToBraintrust")
    const apiKey = get("apiKey")
    const project = get("project")
    const appUrl = get("appUrl")
    const apiUrl = get("apiUrl")
    const orgName = get("orgName")
    const additionalMetadata = get("additionalMetadata")
    const parentSpanId = get("parentSpanId")
    const rootSpanId = get("rootSpanId")
    const flushOnTurnEnd = get("flushOnTurnEnd")
    const redact = get("redact")
    const redactPatterns = get("redactPatterns")
    if (problems.length > 0) {
      return yield* new SettingsError({ message: problems.map((p) => p.message).join("\n"), problems })
    }
    const settings: Settings = {
      traceToBraintrust: traceToBraintrust.value ?? defaultSettings.traceToBraintrust,
      apiKey: apiKey.value === undefined ? undefined : Redacted.make(apiKey.value),
      project: project.value ?? defaultSettings.project,
      appUrl: appUrl.value,
      apiUrl: apiUrl.value,
      orgName: orgName.value,
      additionalMetadata: additionalMetadata.value,
      parentSpanId: parentSpanId.value,
      rootSpanId: rootSpanId.value,
      flushOnTurnEnd: flushOnTurnEnd.value ?? defaultSettings.flushOnTurnEnd,
      redaction: {
        enabled: redact.value ?? defaultSettings.redaction.enabled,
        extraPatterns: redactPatterns.value ?? defaultSettings.redaction.extraPatterns
      },
      ciMetadata: ciMetadata(Object.fromEntries(env))
    }
    return {
      settings,
      stateDir,
      configFile,
      configFileFound: file !== undefined,
      sources: {
        traceToBraintrust: traceToBraintrust.source,
        apiKey: apiKey.source,
        project: project.source,
        appUrl: appUrl.source,
        apiUrl: apiUrl.source,
        orgName: orgName.source,
        additionalMetadata: additionalMetadata.source,
        parentSpanId: parentSpanId.source,
        rootSpanId: rootSpanId.source,
        flushOnTurnEnd: flushOnTurnEnd.source,
        redact: redact.source,
        redactPatterns: redactPatterns.source
      }
    }
  }
)

type FieldValue<K extends SettingName> = (typeof FIELDS)[K] extends Field<infer A> ? A : never

/** The effective settings: environment over `<state dir>/config.json` over defaults. */
export const loadSettings: Effect.Effect<Settings, SettingsError, StateDir | FileSystem.FileSystem> = Effect.map(
  loadSettingsReport,
  (report) => report.settings
)

// ---------------------------------------------------------------------------------------------
// persisting with a session

/** Settings as a session's checkpoint keeps them: everything but the API key, as JSON. */
export const PersistedSettings = Schema.Struct({
  traceToBraintrust: Schema.Boolean,
  project: Schema.String,
  appUrl: Schema.optional(Schema.String),
  apiUrl: Schema.optional(Schema.String),
  orgName: Schema.optional(Schema.String),
  additionalMetadata: Schema.optional(JsonObject),
  parentSpanId: Schema.optional(Schema.String),
  rootSpanId: Schema.optional(Schema.String),
  flushOnTurnEnd: Schema.Boolean,
  redaction: Schema.Struct({ enabled: Schema.Boolean, extraPatterns: Strings }),
  ciMetadata: Schema.Record({ key: Schema.String, value: Schema.String })
})
export type PersistedSettings = typeof PersistedSettings.Type

export const persistableSettings = (settings: Settings): PersistedSettings => ({
  traceToBraintrust: settings.traceToBraintrust,
  project: settings.project,
  ...(settings.appUrl !== undefined ? { appUrl: settings.appUrl } : {}),
  ...(settings.apiUrl !== undefined ? { apiUrl: settings.apiUrl } : {}),
  ...(settings.orgName !== undefined ? { orgName: settings.orgName } : {}),
  ...(settings.additionalMetadata !== undefined ? { additionalMetadata: settings.additionalMetadata } : {}),
  ...(settings.parentSpanId !== undefined ? { parentSpanId: settings.parentSpanId } : {}),
  ...(settings.rootSpanId !== undefined ? { rootSpanId: settings.rootSpanId } : {}),
  flushOnTurnEnd: settings.flushOnTurnEnd,
  redaction: { enabled: settings.redaction.enabled, extraPatterns: [...settings.redaction.extraPatterns] },
  ciMetadata: { ...settings.ciMetadata }
})

/** A session's settings back from its checkpoint, with the API key of the current environment. */
export const restoreSettings = (persisted: PersistedSettings, apiKey: Redacted.Redacted<string> | undefined): Settings => ({
  traceToBraintrust: persisted.traceToBraintrust,
  apiKey,
  project: persisted.project,
  appUrl: persisted.appUrl,
  apiUrl: persisted.apiUrl,
  orgName: persisted.orgName,
  additionalMetadata: persisted.additionalMetadata,
  parentSpanId: persisted.parentSpanId,
  rootSpanId: persisted.rootSpanId,
  flushOnTurnEnd: persisted.flushOnTurnEnd,
  redaction: persisted.redaction,
  ciMetadata: persisted.ciMetadata
})

// ---------------------------------------------------------------------------------------------
// from settings to services

/** Braintrust is the sink when it is switched on and there is a key; otherwise the local store. */
export const sendsToBraintrust = (settings: Settings): boolean => settings.traceToBraintrust && settings.apiKey !== undefined

/** What the sinks apply to every row, or undefined when redaction is switched off. */
export const redactorFor = (settings: Settings): Redactor | undefined =>
  settings.redaction.enabled
    ? makeRedactor({
      extraPatterns: settings.redaction.extraPatterns,
      knownSecrets: settings.apiKey === undefined ? [] : [{ kind: "braintrust-key", value: Redacted.value(settings.apiKey) }]
    })
    : undefined

/** A sink that hands only redacted rows to `sink`. */
export const redactingSpanSink = (sink: SpanSinkService, redactor: Redactor): SpanSinkService => ({
  ...sink,
  write: (rows) => sink.write(rows.map(redactor.redactRow))
})

/** The SpanSink these settings choose, behind redaction unless it is switched off. */
export const sinkLayerFor = (settings: Settings): Layer.Layer<SpanSink, never, StateDir | FileSystem.FileSystem> => {
  const apiKey = settings.apiKey
  const backEnd = settings.traceToBraintrust && apiKey !== undefined
    ? Layer.effect(
      SpanSink,
      BraintrustSpanSink.make({
        apiKey,
        project: settings.project,
        appUrl: settings.appUrl,
        apiUrl: settings.apiUrl,
        orgName: settings.orgName
      })
    )
    : LocalSpanSink.layer
  const redactor = redactorFor(settings)
  if (redactor === undefined) return backEnd
  return Layer.effect(SpanSink, Effect.map(SpanSink, (sink) => redactingSpanSink(sink, redactor))).pipe(Layer.provide(backEnd))
}

/**
 * Reducer options for a session traced with these settings: the parent span (either id alone
 * stands for both) and the root's extra metadata — CI metadata, then the additional metadata,
 * which wins over it; the reducer's standard keys win over both.
 */
export const reducerOptionsFor = (settings: Settings, base: ReducerOptions): ReducerOptions => {
  const spanId = settings.parentSpanId ?? settings.rootSpanId
  const rootSpanId = settings.rootSpanId ?? settings.parentSpanId
  const metadata = { ...base.additionalMetadata, ...settings.ciMetadata, ...settings.additionalMetadata }
  return {
    ...base,
    ...(spanId !== undefined && rootSpanId !== undefined ? { parent: { spanId, rootSpanId } } : {}),
    ...(Object.keys(metadata).length > 0 ? { additionalMetadata: metadata } : {})
  }
}

/**
 * The settings `import` traces past sessions with: those sessions did not run in this
 * environment's CI job, so its CI metadata is left out.
 */
export const forImport = (settings: Settings): Settings => ({ ...settings, ciMetadata: {} })
