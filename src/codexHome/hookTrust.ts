/**
 * Hook trust (shared/reference/codex-0.169.md §1): Codex runs a hook from hooks.json only if
 * the user config.toml holds `hooks.state."<hooks.json>:<event>:<group>:<handler>".trusted_hash`
 * equal to the hash Codex computes for that handler; otherwise it skips the hook silently.
 *
 * What we change, and why it is safe:
 * - trust only for our own handlers, at the positions we just wrote, with the hash Codex itself
 *   reports for exactly that content — as the TUI's "Trust all" would, but for nothing else;
 * - other tools' handlers whose position moved because of our edit keep the trust they had
 *   (same hash at the new key), never gain trust they did not have;
 * - trust entries left behind by our removed handlers are deleted.
 *
 * `doctor` checks trust from files alone: the hashes Codex gave us at install time are kept in
 * `<state dir>/install.json` with the handler they were computed for, so an unchanged handler
 * whose recorded hash matches config.toml is known trusted without running Codex.
 */
import * as Schema from "effect/Schema"
import type { CodexHookEntry, ConfigEdit } from "./appServer"
import { quoteKeySegment } from "./appServer"
import type { HookTrustState } from "./codexConfig"
import { deepEqual, type HandlerAt, isOurHandler, type Move, positionKey, trustKey } from "./hooksFile"

/** `…/hooks.json:stop:1:0` → `stop:1:0` */
export const positionOfKey = (key: string): string => key.split(":").slice(-3).join(":")

export interface TrustEdit {
  readonly key: string
  /** null: remove the entry */
  readonly hash: string | null
  readonly why: "ours" | "moved" | "stale"
}

export const toConfigEdits = (edits: ReadonlyArray<TrustEdit>): Array<ConfigEdit> =>
  edits.map((edit) =>
    edit.hash === null
      ? { keyPath: `hooks.state.${quoteKeySegment(edit.key)}`, value: null, mergeStrategy: "replace" }
      : { keyPath: `hooks.state.${quoteKeySegment(edit.key)}.trusted_hash`, value: edit.hash, mergeStrategy: "upsert" }
  )

export interface TrustPlanInput {
  /** our handlers in the file as written now (empty after an uninstall) */
  readonly ours: ReadonlyArray<HandlerAt>
  /** other tools' handlers that changed position */
  readonly moved: ReadonlyArray<Move>
  /** what Codex listed for this hooks.json before our edit, and after it */
  readonly before: ReadonlyArray<CodexHookEntry>
  readonly after: ReadonlyArray<CodexHookEntry>
  /** the command we wrote for each event, to make sure Codex hashed exactly that */
  readonly expectedCommand: (event: string) => string | undefined
}

export interface TrustPlan {
  readonly edits: ReadonlyArray<TrustEdit>
  readonly alreadyTrusted: number
  /** our handlers Codex did not list as we wrote them (not trusted by us) */
  readonly missing: ReadonlyArray<string>
}

export const planTrust = (input: TrustPlanInput): TrustPlan => {
  const beforeAt = new Map(input.before.map((entry) => [positionOfKey(entry.key), entry]))
  const afterAt = new Map(input.after.map((entry) => [positionOfKey(entry.key), entry]))
  const edits: Array<TrustEdit> = []
  const missing: Array<string> = []
  let alreadyTrusted = 0

  for (const at of input.ours) {
    const entry = afterAt.get(positionKey(at))
    const expected = input.expectedCommand(at.event)
    if (entry === undefined || expected === undefined || entry.command !== expected) {
      missing.push(at.event)
    } else if (entry.trustStatus === "trusted" || entry.trustStatus === "managed") {
      alreadyTrusted++
    } else {
      edits.push({ key: entry.key, hash: entry.currentHash, why: "ours" })
    }
  }

  const written = new Set(edits.map((edit) => positionOfKey(edit.key)))
  for (const { from, to } of input.moved) {
    const was = beforeAt.get(positionKey(from))
    const now = afterAt.get(positionKey(to))
    if (was?.trustStatus === "trusted" && now !== undefined && now.currentHash === was.currentHash && now.trustStatus !== "trusted") {
      edits.push({ key: now.key, hash: now.currentHash, why: "moved" })
      written.add(positionOfKey(now.key))
    }
  }

  // keys that held a handler of ours before and now hold nothing of ours, and no carried trust
  const oursNow = new Set(input.ours.map(positionKey))
  for (const entry of input.before) {
    const position = positionOfKey(entry.key)
    if (entry.command === undefined || entry.command === null || !isOurHandler({ command: entry.command })) continue
    if (oursNow.has(position) || written.has(position)) continue
    if (entry.trustStatus === "trusted" || entry.trustStatus === "modified") {
      edits.push({ key: afterAt.get(position)?.key ?? entry.key, hash: null, why: "stale" })
    }
  }
  return { edits, alreadyTrusted, missing }
}

// ---------------------------------------------------------------------------------------------
// The install record

const RecordedHandler = Schema.Struct({
  /** the handler as written to hooks.json */
  handler: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  hash: Schema.String
})

export const InstallRecord = Schema.Struct({
  hooksFile: Schema.String,
  hookBin: Schema.String,
  installedAt: Schema.String,
  /** by trust key: the handler Codex hashed and the hash it gave */
  trusted: Schema.Record({ key: Schema.String, value: RecordedHandler })
})
export type InstallRecord = typeof InstallRecord.Type

export const decodeInstallRecord = Schema.decodeUnknownEither(Schema.parseJson(InstallRecord))

export type TrustVerdict =
  | { readonly status: "trusted"; readonly verified: boolean }
  | { readonly status: "untrusted" }
  | { readonly status: "disabled" }
  | { readonly status: "modified" }

/** what files say about one of our handlers: config.toml's state and our record of the hash */
export const trustFromFiles = (
  hooksPath: string,
  at: HandlerAt,
  states: ReadonlyMap<string, HookTrustState>,
  record: InstallRecord | undefined
): TrustVerdict => {
  const key = trustKey(hooksPath, at)
  const state = states.get(key)
  if (state?.enabled === false) return { status: "disabled" }
  if (state?.trustedHash === undefined) return { status: "untrusted" }
  const recorded = record?.trusted[key]
  if (recorded === undefined) return { status: "trusted", verified: false }
  if (recorded.hash !== state.trustedHash) return { status: "trusted", verified: false }
  return deepEqual(recorded.handler, at.value) ? { status: "trusted", verified: true } : { status: "modified" }
}
