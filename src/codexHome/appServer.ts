/**
 * A short conversation with `codex app-server` (JSON-RPC, one JSON object per line on stdio),
 * for hook trust. Codex hashes each hook handler itself and keeps the hashes it trusts in the
 * user `config.toml`; rather than re-implement that hash, `install` asks Codex:
 * `hooks/list` gives every hook Codex sees with its `key`, `currentHash` and `trustStatus`, and
 * `config/batchWrite` makes Codex write `hooks.state."<key>".trusted_hash` into its own config
 * file (the same entries the TUI's "Trust all" writes; shared/reference/codex-0.169.md §1).
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"

export class CodexAppServerError extends Data.TaggedError("CodexAppServerError")<{ readonly message: string }> {}

const CodexHookEntry = Schema.Struct({
  key: Schema.String,
  eventName: Schema.String,
  command: Schema.optional(Schema.NullOr(Schema.String)),
  sourcePath: Schema.optional(Schema.NullOr(Schema.String)),
  source: Schema.optional(Schema.NullOr(Schema.String)),
  /** `<plugin>@<marketplace>` for a plugin's hooks */
  pluginId: Schema.optional(Schema.NullOr(Schema.String)),
  currentHash: Schema.String,
  /** managed, untrusted, trusted, modified */
  trustStatus: Schema.String
})
export type CodexHookEntry = typeof CodexHookEntry.Type

const HooksListResult = Schema.Struct({
  data: Schema.Array(
    Schema.Struct({
      hooks: Schema.Array(CodexHookEntry),
      warnings: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
      errors: Schema.optionalWith(Schema.Array(Schema.Unknown), { default: () => [] })
    })
  )
})

/** what Codex sees: the hooks, and its complaints about hook files (e.g. one it could not parse) */
export interface CodexHookList {
  readonly hooks: ReadonlyArray<CodexHookEntry>
  readonly warnings: ReadonlyArray<string>
}
const decodeHooksList = Schema.decodeUnknownEither(HooksListResult)

const BatchWriteResult = Schema.Struct({ status: Schema.String, filePath: Schema.optional(Schema.String) })
const decodeBatchWrite = Schema.decodeUnknownEither(BatchWriteResult)

const JsonRpcMessage = Schema.parseJson(
  Schema.Struct({
    id: Schema.optional(Schema.Union(Schema.Number, Schema.String)),
    method: Schema.optional(Schema.String),
    result: Schema.optional(Schema.Unknown),
    error: Schema.optional(Schema.Struct({ message: Schema.String }))
  })
)
const decodeMessage = Schema.decodeUnknownOption(JsonRpcMessage)

export interface ConfigEdit {
  /** dotted, with quoted segments: `hooks.state."<key>".trusted_hash` */
  readonly keyPath: string
  /** null removes the entry */
  readonly value: unknown
  readonly mergeStrategy: "upsert" | "replace"
}

/** one TOML key segment, quoted the way Codex's keyPath parser reads it */
export const quoteKeySegment = (segment: string): string => `"${segment.replace(/[\\"]/g, (c) => `\\${c}`)}"`

export interface CodexAppServer {
  readonly listHooks: (cwd: string) => Effect.Effect<CodexHookList, CodexAppServerError>
  /** writes into the user config.toml of this CODEX_HOME; returns the file Codex wrote */
  readonly writeConfig: (edits: ReadonlyArray<ConfigEdit>) => Effect.Effect<string, CodexAppServerError>
}

/** `codex` on PATH (an executable file), unless given explicitly */
export const findCodex = (explicit: Option.Option<string>, pathVariable: string | undefined): string | undefined => {
  if (Option.isSome(explicit)) return path.resolve(explicit.value)
  for (const dir of (pathVariable ?? "").split(path.delimiter)) {
    if (dir === "") continue
    const candidate = path.join(dir, "codex")
    try {
      fs.accessSync(candidate, fs.constants.X_OK)
      if (fs.statSync(candidate).isFile()) return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

/**
 * Starts `<codex> app-server` for this CODEX_HOME and says hello; the process is stopped when the
 * scope closes. Every request is bounded by `timeoutMs`.
 */
export const connectAppServer = (
  codexBin: string,
  codexHome: string,
  timeoutMs = 20_000
): Effect.Effect<CodexAppServer, CodexAppServerError, Scope.Scope> =>
  Effect.gen(function* () {
    const child = yield* Effect.acquireRelease(
      Effect.try({
        try: () =>
          spawn(codexBin, ["app-server"], {
            env: { ...process.env, CODEX_HOME: codexHome },
            cwd: codexHome,
            stdio: ["pipe", "pipe", "pipe"]
          }),
        catch: (e) => new CodexAppServerError({ message: `cannot start ${codexBin}: ${e instanceof Error ? e.message : String(e)}` })
      }),
      (child) =>
        Effect.sync(() => {
          child.stdin.end()
          child.kill("SIGTERM")
          setTimeout(() => child.kill("SIGKILL"), 2_000).unref()
        })
    )
    const pending = new Map<number, (answer: { result?: unknown; error?: string }) => void>()
    let stderrTail = ""
    let gone: string | undefined
    const endAll = (reason: string) => {
      gone ??= reason
      for (const [, resolve] of pending) resolve({ error: reason })
      pending.clear()
    }
    let buffered = ""
    child.stdout.setEncoding("utf8")
    child.stdout.on("data", (chunk: string) => {
      buffered += chunk
      for (let nl = buffered.indexOf("\n"); nl !== -1; nl = buffered.indexOf("\n")) {
        const line = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        const message = decodeMessage(line)
        if (Option.isNone(message) || typeof message.value.id !== "number" || message.value.method !== undefined) continue
        const resolve = pending.get(message.value.id)
        pending.delete(message.value.id)
        resolve?.(message.value.error !== undefined ? { error: message.value.error.message } : { result: message.value.result })
      }
    })
    child.stderr.setEncoding("utf8")
    child.stderr.on("data", (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-2_000)
    })
    child.on("error", (e) => endAll(`${codexBin}: ${e.message}`))
    child.on("exit", (code, signal) => {
      const last = stderrTail.trim().split("\n").slice(-3).join(" | ")
      endAll(`codex app-server exited (${signal ?? code})${last ? `: ${last}` : ""}`)
    })
    // a closed pipe must not take this process down; the exit handler reports it
    child.stdin.on("error", () => {})

    let nextId = 0
    const request = (method: string, params: unknown): Effect.Effect<unknown, CodexAppServerError> =>
      Effect.async<unknown, CodexAppServerError>((resume) => {
        if (gone !== undefined) return resume(Effect.fail(new CodexAppServerError({ message: gone })))
        const id = ++nextId
        pending.set(id, (answer) =>
          resume(
            answer.error !== undefined
              ? Effect.fail(new CodexAppServerError({ message: `${method}: ${answer.error}` }))
              : Effect.succeed(answer.result)
          )
        )
        child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n")
        return Effect.sync(() => pending.delete(id))
      }).pipe(
        Effect.timeoutFail({
          duration: timeoutMs,
          onTimeout: () => new CodexAppServerError({ message: `codex app-server did not answer ${method} within ${timeoutMs / 1000} s` })
        })
      )

    yield* request("initialize", { clientInfo: { name: "trace-codex", version: "1" } })
    child.stdin.write(JSON.stringify({ jsonrpc: "2.0", method: "initialized" }) + "\n")

    const server: CodexAppServer = {
      listHooks: (cwd) =>
        request("hooks/list", { cwds: [cwd] }).pipe(
          Effect.flatMap((result) => decodeHooksList(result)),
          Effect.map((list) => ({
            hooks: list.data.flatMap((entry) => entry.hooks),
            warnings: list.data.flatMap((entry) => [...entry.warnings, ...entry.errors.map((e) => (typeof e === "string" ? e : JSON.stringify(e)))])
          })),
          Effect.mapError((e) => (e instanceof CodexAppServerError ? e : new CodexAppServerError({ message: `hooks/list: unexpected answer: ${e.message}` })))
        ),
      writeConfig: (edits) =>
        request("config/batchWrite", { edits }).pipe(
          Effect.flatMap((result) => decodeBatchWrite(result)),
          Effect.mapError((e) => (e instanceof CodexAppServerError ? e : new CodexAppServerError({ message: `config/batchWrite: unexpected answer: ${e.message}` }))),
          Effect.flatMap((answer) =>
            answer.status === "ok"
              ? Effect.succeed(answer.filePath ?? path.join(codexHome, "config.toml"))
              : Effect.fail(new CodexAppServerError({ message: `config/batchWrite: status ${answer.status}` }))
          )
        )
    }
    return server
  })
