/**
 * Where trace-codex keeps its files (journal, checkpoints, local span store, logs,
 * config.json): `TRACE_CODEX_STATE_DIR`, else `PLUGIN_DATA` (when run as a Codex plugin), else
 * `${CODEX_HOME:-~/.codex}/trace-codex` (for the commands a user runs, when that does not exist,
 * a Codex plugin install's data folder). Read through Effect Config so tests can swap it.
 */
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as fs from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"

const stateDirSettings = Config.all({
  explicit: Config.option(Config.nonEmptyString("TRACE_CODEX_STATE_DIR")),
  plugin: Config.option(Config.nonEmptyString("PLUGIN_DATA")),
  codexHome: Config.option(Config.nonEmptyString("CODEX_HOME"))
})

const homeOf = (codexHome: Option.Option<string>): string => Option.getOrElse(codexHome, () => join(homedir(), ".codex"))

/** the state dir the hooks use, as the environment gives it (what install and doctor write for) */
export const stateDirConfig: Config.Config<string> = stateDirSettings.pipe(
  Config.map(({ codexHome, explicit, plugin }) => Option.getOrElse(Option.orElse(explicit, () => plugin), () => join(homeOf(codexHome), "trace-codex")))
)

/**
 * A user who installed trace-codex as a Codex plugin runs `status`, `flush` or `show` from a
 * shell, where PLUGIN_DATA is not set: when nothing names a state dir and the default one does
 * not exist, the plugin's data folder (`$CODEX_HOME/plugins/data/trace-codex-<marketplace>`),
 * if there is exactly one, is where the hooks keep their state.
 */
const pluginDataDir = (codexHome: string): string | undefined => {
  const data = join(codexHome, "plugins", "data")
  try {
    const found = fs.readdirSync(data, { withFileTypes: true }).filter((entry) => entry.isDirectory() && entry.name.startsWith("trace-codex-"))
    return found.length === 1 ? join(data, found[0]!.name) : undefined
  } catch {
    return undefined
  }
}

/** the state dir for the commands a user runs: stateDirConfig, or a plugin install's data folder */
export const resolveStateDir: Effect.Effect<string, ConfigError.ConfigError> = Effect.map(stateDirSettings, ({ codexHome, explicit, plugin }) => {
  const named = Option.orElse(explicit, () => plugin)
  if (Option.isSome(named)) return named.value
  const home = homeOf(codexHome)
  const fallback = join(home, "trace-codex")
  return fs.existsSync(fallback) ? fallback : pluginDataDir(home) ?? fallback
})

export const codexHomeConfig: Config.Config<string> = Config.nonEmptyString("CODEX_HOME").pipe(Config.withDefault(join(homedir(), ".codex")))

export class StateDir extends Context.Tag("trace-codex/StateDir")<StateDir, { readonly path: string }>() {
  static readonly layer = Layer.effect(StateDir, Effect.map(resolveStateDir, (path) => ({ path })))
  static readonly at = (path: string) => Layer.succeed(StateDir, { path })
}
