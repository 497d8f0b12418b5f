/**
 * trace-codex installed as a Codex plugin (`codex plugin add trace-codex@<marketplace>`): read
 * from the CODEX_HOME's config.toml. One answer for `doctor` and for the commands a user runs
 * (StateDir.ts) to "where do the hooks keep their state": a plugin's hooks get PLUGIN_DATA,
 * `$CODEX_HOME/plugins/data/<plugin>-<marketplace>`, from Codex; hooks.json hooks do not.
 */
import * as Either from "effect/Either"
import * as fs from "node:fs"
import * as path from "node:path"
import { type Assignment, enabledPlugins, featureFlag, readToml } from "./codexConfig"
import { ourHandlersOf, parseHooksFile } from "./hooksFile"

export interface PluginInstall {
  /** `trace-codex@<marketplace>` */
  readonly id: string
  /** PLUGIN_DATA, where its hooks keep their state */
  readonly dataDir: string
  /** Codex 0.169 runs plugin hooks only with `[features] plugin_hooks = true` */
  readonly hooksOn: boolean
}

export const readTextIfPresent = (file: string): string | undefined => {
  try {
    return fs.readFileSync(file, "utf8")
  } catch {
    return undefined
  }
}

/** the CODEX_HOME's config.toml, parsed (a missing file is an empty one) */
export const readCodexConfig = (codexHome: string) => readToml(readTextIfPresent(path.join(codexHome, "config.toml")) ?? "")

export const tracePluginOf = (codexHome: string, config: ReadonlyArray<Assignment>): PluginInstall | undefined => {
  const id = enabledPlugins(config).find((plugin) => plugin.split("@")[0] === "trace-codex")
  if (id === undefined) return undefined
  const [name, marketplace] = id.split("@")
  return { id, dataDir: path.join(codexHome, "plugins", "data", `${name}-${marketplace ?? ""}`), hooksOn: featureFlag(config, "plugin_hooks") === true }
}

/** do the hooks in `$CODEX_HOME/hooks.json` include ours */
export const hooksFileHasOurs = (codexHome: string): boolean => {
  const text = readTextIfPresent(path.join(codexHome, "hooks.json"))
  if (text === undefined) return false
  const parsed = parseHooksFile(text)
  return Either.isRight(parsed) && ourHandlersOf(parsed.right).length > 0
}

/** the plugin's data folder when the hooks that run are the plugin's only, else undefined */
export const pluginOnlyStateDir = (codexHome: string): string | undefined => {
  const config = readCodexConfig(codexHome)
  if (Either.isLeft(config)) return undefined
  const plugin = tracePluginOf(codexHome, config.right)
  return plugin !== undefined && !hooksFileHasOurs(codexHome) ? plugin.dataDir : undefined
}
