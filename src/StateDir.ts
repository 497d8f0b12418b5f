/**
 * Where trace-codex keeps its files (journal, checkpoints, local span store, logs,
 * config.json): `TRACE_CODEX_STATE_DIR`, else `PLUGIN_DATA` (when run as a Codex plugin), else
 * `${CODEX_HOME:-~/.codex}/trace-codex`. Read through Effect Config so tests can swap it.
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { homedir } from "node:os"
import { join } from "node:path"

export const stateDirConfig: Config.Config<string> = Config.all({
  explicit: Config.option(Config.nonEmptyString("TRACE_CODEX_STATE_DIR")),
  plugin: Config.option(Config.nonEmptyString("PLUGIN_DATA")),
  codexHome: Config.option(Config.nonEmptyString("CODEX_HOME"))
}).pipe(
  Config.map(({ codexHome, explicit, plugin }) =>
    Option.getOrElse(Option.orElse(explicit, () => plugin), () => join(Option.getOrElse(codexHome, () => join(homedir(), ".codex")), "trace-codex"))
  )
)

export const codexHomeConfig: Config.Config<string> = Config.nonEmptyString("CODEX_HOME").pipe(Config.withDefault(join(homedir(), ".codex")))

export class StateDir extends Context.Tag("trace-codex/StateDir")<StateDir, { readonly path: string }>() {
  static readonly layer = Layer.effect(StateDir, Effect.map(stateDirConfig, (path) => ({ path })))
  static readonly at = (path: string) => Layer.succeed(StateDir, { path })
}
