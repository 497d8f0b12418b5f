/**
 * FlushPolicy: when rows are delivered, and whether a hook waits for delivery.
 *
 * - Batch delivery: rows are buffered and handed to the sink once `batchRows` distinct spans are
 *   pending, and at the end of each transcript read (import, drain).
 * - Hooks never wait, except: with `BRAINTRUST_FLUSH_ON_TURN_END=true` the Stop hook waits until
 *   its turn's rows are accepted (CI), bounded by `turnEndTimeout`; SessionEnd, which Codex
 *   allows at most 3 s, does a final flush bounded by `sessionEndTimeout`.
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { SESSION_END_WAIT_MS, TURN_END_WAIT_MS } from "./commands/hook"
import { loadSettings } from "./Settings"
import { StateDir } from "./StateDir"

export interface FlushPolicyService {
  /** deliver when this many distinct spans are pending */
  readonly batchRows: number
  /** how long a hook for this event waits for delivery; none = return at once */
  readonly hookWait: (hookEventName: string) => Option.Option<Duration.Duration>
}

export interface FlushPolicySettings {
  readonly batchRows: number
  readonly flushOnTurnEnd: boolean
  readonly turnEndTimeout: Duration.Duration
  readonly sessionEndTimeout: Duration.Duration
}

/** the hook path (commands/hook.ts, bin/trace-codex-hook) applies the same rule without Effect */
export const defaultFlushPolicySettings: FlushPolicySettings = {
  batchRows: 500,
  flushOnTurnEnd: false,
  turnEndTimeout: Duration.millis(TURN_END_WAIT_MS),
  sessionEndTimeout: Duration.millis(SESSION_END_WAIT_MS)
}

export const makeFlushPolicy = (settings: FlushPolicySettings): FlushPolicyService => ({
  batchRows: settings.batchRows,
  hookWait: (event) => {
    if (event === "Stop" && settings.flushOnTurnEnd) return Option.some(settings.turnEndTimeout)
    if (event === "SessionEnd") return Option.some(settings.sessionEndTimeout)
    return Option.none()
  }
})

/** the tuning knobs; whether Stop waits comes from the settings (Settings.ts), which own that name */
const tuningConfig = Config.all({
  batchRows: Config.integer("TRACE_CODEX_BATCH_ROWS").pipe(Config.withDefault(defaultFlushPolicySettings.batchRows)),
  turnEndTimeout: Config.integer("TRACE_CODEX_TURN_END_TIMEOUT_MS").pipe(
    Config.map((ms) => Duration.millis(ms)),
    Config.withDefault(defaultFlushPolicySettings.turnEndTimeout)
  ),
  sessionEndTimeout: Config.succeed(defaultFlushPolicySettings.sessionEndTimeout)
})

export class FlushPolicy extends Context.Tag("trace-codex/FlushPolicy")<FlushPolicy, FlushPolicyService>() {
  /** from the settings (flushOnTurnEnd) and the environment (TRACE_CODEX_BATCH_ROWS, TRACE_CODEX_TURN_END_TIMEOUT_MS) */
  static readonly layer = Layer.effect(
    FlushPolicy,
    Effect.gen(function* () {
      const tuning = yield* tuningConfig
      // invalid settings are reported by the commands that use them; here they mean "do not wait"
      const flushOnTurnEnd = yield* loadSettings.pipe(
        Effect.map((s) => s.flushOnTurnEnd),
        Effect.orElseSucceed(() => false)
      )
      return makeFlushPolicy({ ...tuning, flushOnTurnEnd })
    })
  ).pipe(Layer.provide(StateDir.layer))
  static readonly Default = Layer.succeed(FlushPolicy, makeFlushPolicy(defaultFlushPolicySettings))
}
