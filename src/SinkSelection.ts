/**
 * Which SpanSink and reducer options a command uses, from the settings (Settings.ts, SPEC §5):
 * Braintrust when `TRACE_TO_BRAINTRUST` is on and an API key is set, otherwise the local NDJSON
 * store in the state directory — the embedded default, which needs no account and no network —
 * and either way behind secret redaction unless it is switched off.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { defaultReducerOptions, type ReducerOptions } from "./reducer/state"
import { SessionReducer } from "./SessionReducer"
import { forImport, loadSettings, reducerOptionsFor, type Settings, sinkLayerFor } from "./Settings"
import { SpanSink, SpanSinkError } from "./SpanSink"
import { StateDir } from "./StateDir"

/**
 * The sink of the current settings. Invalid settings do not fail the layer — commands that
 * never deliver (`config`, `doctor`, `status`) must still run — but every write fails with the
 * settings' message, so nothing is delivered with settings nobody meant (redaction included)
 * and nothing is counted as delivered either.
 */
export const SelectedSpanSink = Layer.unwrapEffect(
  loadSettings.pipe(
    Effect.map(sinkLayerFor),
    Effect.catchTag("SettingsError", (error) =>
      Effect.succeed(
        Layer.succeed(SpanSink, {
          name: "none",
          write: (rows) => new SpanSinkError({ sink: "none", rows: rows.length, message: `invalid settings: ${error.message}` }),
          traceUrl: () => Effect.succeed(undefined)
        })
      ))
  )
).pipe(Layer.provide(StateDir.layer))

/** How `import` (and `show --redacted`, its preview) reduces past sessions with these settings. */
export const importReducerOptions = (settings: Settings): ReducerOptions =>
  reducerOptionsFor(forImport(settings), { ...defaultReducerOptions, emitOpenSpans: false })

/** The sink and reducer of `import`, from the settings; invalid settings fail it with SettingsError. */
export const ImportServices = Layer.unwrapEffect(
  Effect.map(loadSettings, (settings) => Layer.merge(sinkLayerFor(settings), SessionReducer.layer(importReducerOptions(settings))))
).pipe(Layer.provide(StateDir.layer))
