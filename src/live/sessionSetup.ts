/**
 * What the drainer needs to know about a session before it reduces it: where its rows go and
 * how they are built, from the settings the session started with (SPEC §5: "a session keeps
 * the settings it started with", resume included). The first time the drainer sees a session it
 * reads the settings from the environment the session's SessionStart hook recorded (over
 * config.json; live/sessionEnv.ts), or, when none was recorded, from its own environment (that of
 * the Codex process whose hook started it), and stores them, without the API key, in the
 * session's checkpoint; later drainers restore them from there. The API key always comes from
 * the drainer's environment (or config.json): it is never recorded.
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { defaultReducerOptions, type ReducerOptions } from "../reducer/state"
import { defaultSettings, loadSettings, PersistedSettings, persistableSettings, reducerOptionsFor, restoreSettings, type Settings, type SettingsError, sinkLayerFor } from "../Settings"
import { SpanSink, type SpanSinkService } from "../SpanSink"
import type { StateDir } from "../StateDir"

export interface SessionSetup {
  readonly sink: SpanSinkService
  readonly options: ReducerOptions
  /** what to store in the session's checkpoint so a later drainer keeps the same settings */
  readonly settings: unknown
}

/** live capture shows running sessions: open spans are sent as they start */
export const liveReducerOptions: ReducerOptions = { ...defaultReducerOptions, emitOpenSpans: true }

const decodePersisted = Schema.decodeUnknownOption(PersistedSettings)

/**
 * Session setup from settings. Sinks are built once per distinct settings and live as long as
 * the drainer (the surrounding scope). `onInvalid` hears about settings that cannot be read;
 * such sessions go to the local store, so nothing is sent anywhere nobody meant.
 */
export const settingsSessionSetup = (onInvalid: (message: string) => void) =>
  Effect.gen(function* () {
    /** settings that cannot be read send to the local store, and say so */
    const orLocalStore = (why: string) => <R>(settings: Effect.Effect<Settings, SettingsError, R>): Effect.Effect<Settings, never, R> =>
      Effect.catchTag(settings, "SettingsError", (e) =>
        Effect.sync((): Settings => {
          onInvalid(`${why}: ${e.message}`)
          return { ...defaultSettings, traceToBraintrust: false }
        })
      )
    const current: Settings = yield* loadSettings.pipe(orLocalStore("invalid settings, sessions go to the local store until they are fixed"))
    const context = yield* Effect.context<StateDir | FileSystem.FileSystem | Scope.Scope>()
    const sinks = new Map<string, SpanSinkService>()
    const fromStartEnv = (sessionId: string, startEnv: Readonly<Record<string, string>>) =>
      loadSettings.pipe(
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(startEnv)))),
        Effect.map((settings): Settings => ({ ...settings, apiKey: settings.apiKey ?? current.apiKey })),
        orLocalStore(`session ${sessionId} started with invalid settings, it goes to the local store`)
      )
    return (sessionId: string, persisted: unknown, startEnv?: Readonly<Record<string, string>>): Effect.Effect<SessionSetup> =>
      Effect.gen(function* () {
        const stored = decodePersisted(persisted)
        const settings = Option.isSome(stored)
          ? restoreSettings(stored.value, current.apiKey)
          : startEnv !== undefined
          ? yield* fromStartEnv(sessionId, startEnv)
          : current
        const kept = persistableSettings(settings)
        const key = JSON.stringify([kept, settings.apiKey !== undefined])
        let sink = sinks.get(key)
        if (!sink) {
          const built = yield* Layer.build(sinkLayerFor(settings))
          sink = Context.get(built, SpanSink)
          sinks.set(key, sink)
        }
        return { sink, options: reducerOptionsFor(settings, liveReducerOptions), settings: kept }
      }).pipe(Effect.provide(context))
  })

export const envMs = (name: string, fallback: number): number => {
  const raw = process.env[name]
  const n = raw === undefined || raw === "" ? Number.NaN : Number(raw)
  return Number.isFinite(n) && n >= 0 ? n : fallback
}
