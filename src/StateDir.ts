/**
 * Where trace-codex keeps its files (journal, checkpoints, local span store, logs,
 * config.json): `TRACE_CODEX_STATE_DIR`, else `PLUGIN_DATA` (when run as a Codex plugin), else
 * `${CODEX_HOME:-~/.codex}/trace-codex` (for the commands a user runs, when trace-codex is
 * installed only as a Codex plugin, that plugin's data folder: codexHome/pluginInstall.ts). Read
 * through Effect Config so tests can swap it.
 */
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { homedir } from "node:os"
import { join } from "node:path"
import { pluginOnlyStateDir } from "./codexHome/pluginInstall"

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

export interface ResolvedStateDir {
  readonly path: string
  /** where the path comes from, for people: `env TRACE_CODEX_STATE_DIR`, `default`, ... */
  readonly from: string
}

/** the state dir for the commands a user runs (and doctor), and why: stateDirConfig, or a plugin-only install's data folder */
export const resolveStateDirWithSource: Effect.Effect<ResolvedStateDir, ConfigError.ConfigError> = Effect.map(
  stateDirSettings,
  ({ codexHome, explicit, plugin }) => {
    if (Option.isSome(explicit)) return { path: explicit.value, from: "env TRACE_CODEX_STATE_DIR" }
    if (Option.isSome(plugin)) return { path: plugin.value, from: "env PLUGIN_DATA" }
    // installed only as a Codex plugin: Codex gives its hooks PLUGIN_DATA, which a shell does not have
    const home = homeOf(codexHome)
    const pluginData = pluginOnlyStateDir(home)
    if (pluginData !== undefined) return { path: pluginData, from: "the Codex plugin's data folder" }
    return { path: join(home, "trace-codex"), from: Option.isSome(codexHome) ? "$CODEX_HOME/trace-codex" : "default" }
  }
)

export const resolveStateDir: Effect.Effect<string, ConfigError.ConfigError> = Effect.map(resolveStateDirWithSource, (resolved) => resolved.path)

export const codexHomeConfig: Config.Config<string> = Config.nonEmptyString("CODEX_HOME").pipe(Config.withDefault(join(homedir(), ".codex")))

export class StateDir extends Context.Tag("trace-codex/StateDir")<StateDir, { readonly path: string }>() {
  static readonly layer = Layer.effect(StateDir, Effect.map(resolveStateDir, (path) => ({ path })))
  static readonly at = (path: string) => Layer.succeed(StateDir, { path })
}
