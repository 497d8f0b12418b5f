/**
 * Where things are for `install`, `uninstall` and `doctor`: this package's own hook script, the
 * CODEX_HOME a command works on and the state directory its hooks will use, and the careful
 * file writes both commands make (backups, atomic replacement, private modes).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as ConfigProvider from "effect/ConfigProvider"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { isRecord } from "effect/Predicate"
import { CliFailure } from "../commands/errors"
import { codexHomeConfig, resolveStateDir, stateDirConfig } from "../StateDir"

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/** the folder holding trace-codex's package.json (the bundle runs from <root>/dist) */
export const packageRoot = (): string | undefined => {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    try {
      const pkg: unknown = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"))
      if (isRecord(pkg) && pkg["name"] === "trace-codex") return fs.realpathSync(dir)
    } catch {
      // keep looking upwards
    }
    const parent = path.dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

/** `<package root>/bin/trace-codex-hook`, the program hooks.json runs */
export const hookBinOfPackage = (root: string): string => path.join(root, "bin", "trace-codex-hook")

export const isExecutableFile = (file: string): boolean => {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

/** `--codex-home`, else CODEX_HOME, else ~/.codex; absolute */
export const resolveCodexHome = (option: Option.Option<string>): Effect.Effect<string, ConfigError.ConfigError> =>
  Option.match(option, {
    onSome: (dir) => Effect.succeed(path.resolve(dir)),
    onNone: () => Effect.map(codexHomeConfig, (dir) => path.resolve(dir))
  })

/** `effect` with CODEX_HOME set to `codexHome`, the rest of the configuration as it is */
const withCodexHome = <A, E, R>(codexHome: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.configProviderWith((current) =>
    Effect.withConfigProvider(effect, ConfigProvider.fromMap(new Map([["CODEX_HOME", codexHome]])).pipe(ConfigProvider.orElse(() => current)))
  )

/** the state directory hooks.json hooks run by Codex with this CODEX_HOME will use (same rules as the hook) */
export const stateDirFor = (codexHome: string): Effect.Effect<string, ConfigError.ConfigError> =>
  withCodexHome(codexHome, Effect.map(stateDirConfig, (dir) => path.resolve(dir)))

/** the state directory of whatever hooks this CODEX_HOME runs: a plugin-only install's, else stateDirFor's */
export const hooksStateDirFor = (codexHome: string): Effect.Effect<string, ConfigError.ConfigError> =>
  withCodexHome(codexHome, Effect.map(resolveStateDir, (dir) => path.resolve(dir)))

export const hooksFileOf = (codexHome: string): string => path.join(codexHome, "hooks.json")

export const readTextIfExists = (file: string): Effect.Effect<string | undefined, CliFailure> =>
  Effect.try({
    try: () => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined),
    catch: (e) => new CliFailure({ message: `cannot read ${file}: ${errorText(e)}` })
  })

const stamp = (now: Date): string => now.toISOString().replace(/:/g, "-")

/** copies `file` to `<file>.bak-<UTC time>` (never overwriting a backup); returns its path */
export const backUp = (file: string, now: Date): Effect.Effect<string, CliFailure> =>
  Effect.try({
    try: () => {
      const base = `${file}.bak-${stamp(now)}`
      for (let n = 0; ; n++) {
        const target = n === 0 ? base : `${base}-${n}`
        try {
          fs.copyFileSync(file, target, fs.constants.COPYFILE_EXCL)
          return target
        } catch (e) {
          if (!(e instanceof Error && "code" in e && e.code === "EEXIST")) throw e
        }
      }
    },
    catch: (e) => new CliFailure({ message: `cannot back up ${file}: ${errorText(e)}; nothing changed` })
  })

/** backups `backUp` made of `file`, newest first */
export const backupsOf = (file: string): Array<string> => {
  const dir = path.dirname(file)
  const prefix = `${path.basename(file)}.bak-`
  try {
    return fs
      .readdirSync(dir)
      .filter((name) => name.startsWith(prefix))
      .sort()
      .reverse()
      .map((name) => path.join(dir, name))
  } catch {
    return []
  }
}

/**
 * The file a write to `file` should replace: `file` itself, or, when it is a symlink (a
 * hooks.json kept in a dotfiles repository), the file the link points at, so the link stays.
 */
export const writeTargetOf = (file: string): string => {
  try {
    if (!fs.lstatSync(file).isSymbolicLink()) return file
  } catch {
    return file
  }
  try {
    return fs.realpathSync(file)
  } catch {
    // a dangling link: write where it points
    const link = fs.readlinkSync(file)
    return path.resolve(path.dirname(file), link)
  }
}

export const isSymlink = (file: string): boolean => {
  try {
    return fs.lstatSync(file).isSymbolicLink()
  } catch {
    return false
  }
}

/**
 * The path Codex names `hooks.json` by in its trust keys (`<path>:<event>:<group>:<handler>`):
 * Codex resolves CODEX_HOME to its real path first, so a symlinked home (macOS's /tmp, a
 * dotfiles link for ~/.codex) gives keys under the link's target.
 */
export const trustPathOf = (hooksFile: string): string => {
  try {
    return path.join(fs.realpathSync(path.dirname(hooksFile)), path.basename(hooksFile))
  } catch {
    return hooksFile
  }
}

/**
 * write to a temporary file beside `file`, then rename over it: readers never see half a file.
 * A symlink is written through (its target is replaced), not replaced by a file.
 */
export const writeAtomically = (destination: string, text: string | Uint8Array, mode: number): Effect.Effect<void, CliFailure> =>
  Effect.try({
    try: () => {
      const file = writeTargetOf(destination)
      fs.mkdirSync(path.dirname(file), { recursive: true })
      const temporary = `${file}.tmp-${process.pid}`
      try {
        fs.writeFileSync(temporary, text, { mode })
        fs.chmodSync(temporary, mode)
        fs.renameSync(temporary, file)
      } catch (e) {
        fs.rmSync(temporary, { force: true })
        throw e
      }
    },
    catch: (e) => new CliFailure({ message: `cannot write ${destination}: ${errorText(e)}` })
  })

/** the permission bits of an existing file, to keep them when we replace it */
export const modeOf = (file: string, fallback: number): number => {
  try {
    return fs.statSync(file).mode & 0o777
  } catch {
    return fallback
  }
}

export const removeFile = (file: string): Effect.Effect<void, CliFailure> =>
  Effect.try({
    try: () => fs.rmSync(file, { force: true }),
    catch: (e) => new CliFailure({ message: `cannot remove ${file}: ${errorText(e)}` })
  })

/**
 * Merges `patch` into `<state dir>/config.json` (other keys kept, in order), creating the folder
 * 0700 and the file 0600. Returns the file's path.
 */
export const mergeSettingsFile = (stateDir: string, patch: Readonly<Record<string, unknown>>): Effect.Effect<string, CliFailure> =>
  Effect.gen(function* () {
    const file = path.join(stateDir, "config.json")
    const text = yield* readTextIfExists(file)
    let current: Record<string, unknown> = {}
    if (text !== undefined && text.trim() !== "") {
      const parsed = yield* Effect.try({
        try: (): unknown => JSON.parse(text),
        catch: (e) => new CliFailure({ message: `${file} is not valid JSON (${errorText(e)}); fix or remove it, then run again` })
      })
      if (!isRecord(parsed) || Array.isArray(parsed)) {
        return yield* new CliFailure({ message: `${file} must hold a JSON object; fix or remove it, then run again` })
      }
      current = { ...parsed }
    }
    yield* Effect.try({
      try: () => fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 }),
      catch: (e) => new CliFailure({ message: `cannot create ${stateDir}: ${errorText(e)}` })
    })
    yield* writeAtomically(file, JSON.stringify({ ...current, ...patch }, null, 2) + "\n", 0o600)
    return file
  })
