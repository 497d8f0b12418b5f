/**
 * `trace-codex install --plugin`: the hooks of the trace-codex Codex plugin (added with
 * `codex plugin add trace-codex@<marketplace>`) trusted in one step, like install does for
 * hooks.json. Codex 0.169 runs plugin hooks only with `[features] plugin_hooks = true` and, like
 * any hook, only once trusted. Both are written by Codex itself (`codex app-server`,
 * `config/batchWrite`), and trust only for hooks that are exactly the ones this trace-codex
 * ships: the plugin's hooks.json must equal our own `hooks/hooks.json`, all 12 events listed.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { type CodexAppServer, type CodexHookEntry, connectAppServer } from "./appServer"
import { featureFlag } from "./codexConfig"
import { toConfigEdits } from "./hookTrust"
import { deepEqual, HOOK_EVENTS, parseHooksFile } from "./hooksFile"
import { readCodexConfig, readTextIfPresent } from "./pluginInstall"
import { CliFailure } from "../commands/errors"

export interface PluginTrustOutcome {
  readonly pluginId: string
  /** the plugin's hooks.json, in Codex's plugin cache */
  readonly hooksFile: string
  /** whether install switched `features.plugin_hooks` on */
  readonly enabledPluginHooks: boolean
  readonly newlyTrusted: number
  readonly alreadyTrusted: number
  /** the config.toml Codex wrote, when it wrote anything */
  readonly configFile: string | undefined
}

const isTraceCodexPlugin = (entry: CodexHookEntry): boolean => (entry.pluginId ?? "").split("@")[0] === "trace-codex"

const readHooksDoc = (file: string): unknown => Either.getOrUndefined(parseHooksFile(readTextIfPresent(file) ?? ""))

const fail = (message: string) => new CliFailure({ message })

const pluginHooks = (server: CodexAppServer, codexHome: string) =>
  Effect.map(server.listHooks(codexHome), (list) => list.hooks.filter(isTraceCodexPlugin))

export const trustPluginHooks = (options: {
  readonly codexBin: string
  readonly codexHome: string
  /** this installation's hooks/hooks.json: what the plugin's hooks must be */
  readonly shippedHooksFile: string
}): Effect.Effect<PluginTrustOutcome, CliFailure> =>
  Effect.scoped(
    Effect.gen(function* () {
      const asFailure = <A, R>(effect: Effect.Effect<A, { readonly message: string }, R>) => Effect.mapError(effect, (e) => fail(`codex app-server (${options.codexBin}): ${e.message}`))
      const server = yield* asFailure(connectAppServer(options.codexBin, options.codexHome))
      const listed = yield* asFailure(pluginHooks(server, options.codexHome))
      if (listed.length === 0) {
        return yield* fail(
          "Codex lists no hooks of a trace-codex plugin in this CODEX_HOME. Add the plugin first: codex plugin marketplace add <trace-codex checkout>, then codex plugin add trace-codex@<marketplace>"
        )
      }
      const pluginIds = [...new Set(listed.map((entry) => entry.pluginId ?? ""))]
      if (pluginIds.length > 1) return yield* fail(`more than one trace-codex plugin is enabled (${pluginIds.join(", ")}): keep one (codex plugin remove <id>)`)
      const pluginId = pluginIds[0] ?? ""
      const sources = [...new Set(listed.map((entry) => entry.sourcePath ?? ""))]
      const hooksFile = sources[0] ?? ""
      const shipped = readHooksDoc(options.shippedHooksFile)
      if (shipped === undefined) return yield* fail(`cannot read ${options.shippedHooksFile}: this trace-codex installation is incomplete`)
      if (sources.length !== 1 || !deepEqual(readHooksDoc(hooksFile), shipped)) {
        return yield* fail(
          `the hooks of ${pluginId} (${sources.join(", ")}) are not the ones this trace-codex ships (${options.shippedHooksFile}): not trusting them. Update the plugin (codex plugin marketplace upgrade, codex plugin add ${pluginId}) and run again`
        )
      }
      const events = new Set(listed.map((entry) => entry.eventName.toLowerCase()))
      const missing = HOOK_EVENTS.filter((event) => !events.has(event.toLowerCase()))
      if (missing.length > 0 || listed.length !== HOOK_EVENTS.length) {
        return yield* fail(`Codex lists ${listed.length} hooks of ${pluginId}${missing.length > 0 ? `, none for ${missing.join(", ")}` : ""}; expected one for each of the ${HOOK_EVENTS.length} events`)
      }
      const edits = listed
        .filter((entry) => entry.trustStatus !== "trusted" && entry.trustStatus !== "managed")
        .map((entry) => ({ key: entry.key, hash: entry.currentHash, why: "ours" as const }))
      // Codex lists plugin hooks either way, but runs them only with the feature on
      const config = readCodexConfig(options.codexHome)
      const enabledPluginHooks = Either.isLeft(config) || featureFlag(config.right, "plugin_hooks") !== true
      const writes = [
        ...(enabledPluginHooks ? [{ keyPath: "features.plugin_hooks", value: true, mergeStrategy: "upsert" as const }] : []),
        ...toConfigEdits(edits)
      ]
      const configFile = writes.length > 0 ? yield* asFailure(server.writeConfig(writes)) : undefined
      return { pluginId, hooksFile, enabledPluginHooks, newlyTrusted: edits.length, alreadyTrusted: listed.length - edits.length, configFile }
    })
  )
