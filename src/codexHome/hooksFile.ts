/**
 * `$CODEX_HOME/hooks.json` as a document we edit without owning it: other tools keep their
 * hooks there too. Pure functions: decide which handlers are ours, merge ours in for the 12
 * events, take ours out again, and render the result in the file's own style.
 *
 * Rules that keep other tools' hooks untouched:
 * - the parsed JSON is edited in place of a copy, so key order and unknown fields survive;
 * - handlers that are not ours are never rewritten, only carried (the same objects), which also
 *   lets us tell which of them changed position (Codex keys hook trust by position);
 * - ours is appended as a group of its own at the end of an event's list, so adding it never
 *   moves anybody else; a current entry of ours is replaced where it stands.
 *
 * Format (shared/reference/codex-0.169.md §1): `{"hooks": {"<Event>": [group…]}}`, a group is
 * `{"matcher"?, "hooks": [handler…]}`, a handler `{"type": "command", "command", "timeout"?}`.
 */
import * as ParseResult from "effect/ParseResult"
import * as Either from "effect/Either"
import { isRecord } from "effect/Predicate"
import * as Schema from "effect/Schema"
import { HookEventName } from "../domain/HookPayload"

export const HOOK_EVENTS: ReadonlyArray<HookEventName> = HookEventName.literals

const JsonRecord = Schema.Record({ key: Schema.String, value: Schema.Unknown })
export type Handler = typeof JsonRecord.Type

const HookGroup = Schema.Struct({ hooks: Schema.Array(JsonRecord) }, JsonRecord)
export type HookGroup = typeof HookGroup.Type

const HooksDocument = Schema.Struct({ hooks: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Array(HookGroup) })) }, JsonRecord)
export type HooksDocument = typeof HooksDocument.Type

const isHooksDocument = Schema.is(HooksDocument)
const validate = Schema.validateEither(HooksDocument)

/**
 * Decodes the text of a hooks.json; Left is a message for the user. The value is the parsed JSON
 * itself (only checked, not rebuilt), so key order and unknown fields stay as they were.
 */
export const parseHooksFile = (text: string): Either.Either<HooksDocument, string> => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    return Either.left(`not valid JSON (${e instanceof Error ? e.message : String(e)})`)
  }
  if (isHooksDocument(value)) return Either.right(value)
  return Either.left(
    `not in the shape Codex reads ({"hooks": {"<Event>": [{"hooks": [...]}]}})${Either.match(validate(value), {
      onLeft: (error) => `: ${ParseResult.TreeFormatter.formatErrorSync(error)}`,
      onRight: () => ""
    })}`
  )
}

// ---------------------------------------------------------------------------------------------
// Our handler

/** Codex clamps these to 3 s (and warns when configured longer) */
const SHORT_EVENTS: ReadonlySet<string> = new Set(["SessionEnd", "Interrupt"])

/**
 * Seconds Codex gives each of our hooks before it stops waiting. The hot path returns in a few
 * ms; Stop may wait for delivery when flushing on turn end (10 s by default, plus starting
 * Node), SessionEnd waits at most 2.5 s and Codex allows no more than 3.
 */
export const hookTimeoutSeconds = (event: string): number => (SHORT_EVENTS.has(event) ? 3 : event === "Stop" ? 30 : 10)

/** POSIX single quotes: safe for any path under `$SHELL -lc` */
export const shellQuote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`

export const hookCommandFor = (hookBin: string, event: string): string => `${shellQuote(hookBin)} ${event}`

export const ourHandler = (hookBin: string, event: string): Handler => ({
  type: "command",
  command: hookCommandFor(hookBin, event),
  timeout: hookTimeoutSeconds(event)
})

/**
 * The first words of a command as the shell would split them (quotes and backslashes resolved;
 * `$…` left as written). Enough to recognise which program a hook runs.
 */
export const leadingWords = (command: string, count: number): Array<string> => {
  const words: Array<string> = []
  let i = 0
  while (words.length < count) {
    while (i < command.length && /\s/.test(command[i]!)) i++
    if (i >= command.length) break
    let word = ""
    while (i < command.length && !/\s/.test(command[i]!)) {
      const c = command[i]!
      if (c === "'") {
        const end = command.indexOf("'", i + 1)
        word += command.slice(i + 1, end === -1 ? command.length : end)
        i = end === -1 ? command.length : end + 1
      } else if (c === '"') {
        i++
        while (i < command.length && command[i] !== '"') {
          if (command[i] === "\\" && i + 1 < command.length && '"\\$`'.includes(command[i + 1]!)) i++
          word += command[i]
          i++
        }
        i++
      } else if (c === "\\" && i + 1 < command.length) {
        word += command[i + 1]
        i += 2
      } else {
        word += c
        i++
      }
    }
    words.push(word)
  }
  return words
}

const baseName = (path: string): string => path.slice(path.lastIndexOf("/") + 1)

/**
 * The program one of our hook commands runs, or undefined when the command is not ours:
 * `…/bin/trace-codex-hook <Event>` (any install path, also `${PLUGIN_ROOT}/…`), or the older
 * `…/trace-codex hook`.
 */
export const ourProgramOf = (command: string): string | undefined => {
  const [program, firstArg] = leadingWords(command, 2)
  if (program === undefined) return undefined
  const name = baseName(program)
  if (name === "trace-codex-hook") return program
  if (name === "trace-codex" && firstArg === "hook") return program
  return undefined
}

export const isOurHandler = (handler: Handler): boolean => {
  const command = handler["command"]
  return typeof command === "string" && ourProgramOf(command) !== undefined
}

// ---------------------------------------------------------------------------------------------
// Positions

/** Where a handler sits: Codex's trust key is `<hooks.json>:<event_snake_case>:<group>:<handler>`. */
export interface HandlerAt {
  readonly event: string
  readonly group: number
  readonly handler: number
  readonly value: Handler
  readonly matcher: unknown
}

export const handlersOf = (doc: HooksDocument): Array<HandlerAt> =>
  Object.entries(doc.hooks ?? {}).flatMap(([event, groups]) =>
    groups.flatMap((group, g) => group.hooks.map((value, h) => ({ event, group: g, handler: h, value, matcher: group["matcher"] })))
  )

export const ourHandlersOf = (doc: HooksDocument): Array<HandlerAt> => handlersOf(doc).filter((at) => isOurHandler(at.value))

/** `SessionStart` → `session_start`, as in Codex's trust keys */
export const snakeCase = (event: string): string => event.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase()

export const trustKey = (hooksPath: string, at: Pick<HandlerAt, "event" | "group" | "handler">): string =>
  `${hooksPath}:${snakeCase(at.event)}:${at.group}:${at.handler}`

/** the position part of a trust key, comparable whatever path Codex wrote in front of it */
export const positionKey = (at: Pick<HandlerAt, "event" | "group" | "handler">): string => `${snakeCase(at.event)}:${at.group}:${at.handler}`

export interface Move {
  readonly from: HandlerAt
  readonly to: HandlerAt
}

/** other tools' handlers whose position changed between two versions of the document */
const movedHandlers = (before: HooksDocument | undefined, after: HooksDocument): Array<Move> => {
  const old = new Map<Handler, HandlerAt>()
  for (const at of before === undefined ? [] : handlersOf(before)) old.set(at.value, at)
  return handlersOf(after).flatMap((to) => {
    const from = old.get(to.value)
    return from !== undefined && positionKey(from) !== positionKey(to) ? [{ from, to }] : []
  })
}

// ---------------------------------------------------------------------------------------------
// Install / uninstall

const isCatchAll = (matcher: unknown): boolean => matcher === undefined || matcher === null || matcher === "" || matcher === "*"

/** structural equality of JSON values (key order ignored) */
export const deepEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]))
  if (isRecord(a) && isRecord(b) && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a)
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]))
  }
  return false
}

/** the groups of an event without our handlers; groups that only held ours disappear */
const withoutOurs = (groups: ReadonlyArray<HookGroup>): { groups: Array<HookGroup>; removed: number } => {
  let removed = 0
  const kept: Array<HookGroup> = []
  for (const group of groups) {
    const hooks = group.hooks.filter((handler) => !isOurHandler(handler))
    removed += group.hooks.length - hooks.length
    if (hooks.length === group.hooks.length) kept.push(group)
    else if (hooks.length > 0) kept.push({ ...group, hooks })
  }
  return { groups: kept, removed }
}

export interface InstallPlan {
  readonly after: HooksDocument
  readonly changed: boolean
  readonly added: ReadonlyArray<string>
  readonly replaced: ReadonlyArray<string>
  readonly unchanged: ReadonlyArray<string>
  /** extra or misplaced handlers of ours that were dropped (duplicates, events we no longer use) */
  readonly removedExtra: number
  /** handlers of other tools in the file (never modified) */
  readonly othersKept: number
  /** handlers of other tools that changed position (their trust entries need to follow) */
  readonly moved: ReadonlyArray<Move>
}

/**
 * Our handler for every event, pointing at `hookBin`; running it twice changes nothing, and an
 * older entry of ours (another install path, another timeout) is replaced, not duplicated.
 */
export const planInstall = (before: HooksDocument | undefined, hookBin: string): InstallPlan => {
  const added: Array<string> = []
  const replaced: Array<string> = []
  const unchanged: Array<string> = []
  let removedExtra = 0
  const existing = before?.hooks ?? {}
  const hooks: Record<string, ReadonlyArray<HookGroup>> = {}
  const ours: ReadonlySet<string> = new Set(HOOK_EVENTS)

  for (const [event, groups] of Object.entries(existing)) {
    const desired = ourHandler(hookBin, event)
    const positions = groups.flatMap((group, g) => group.hooks.flatMap((handler, h) => (isOurHandler(handler) ? [{ g, h }] : [])))
    if (!ours.has(event)) {
      const cleaned = withoutOurs(groups)
      removedExtra += cleaned.removed
      if (cleaned.groups.length > 0 || cleaned.removed === 0) hooks[event] = cleaned.groups
      continue
    }
    const only = positions.length === 1 ? positions[0] : undefined
    const home = only === undefined ? undefined : groups[only.g]
    if (only !== undefined && home !== undefined && home.hooks.length === 1 && isCatchAll(home["matcher"])) {
      if (deepEqual(home.hooks[0], desired)) {
        unchanged.push(event)
        hooks[event] = groups
      } else {
        replaced.push(event)
        hooks[event] = groups.map((group, g) => (g === only.g ? { ...group, hooks: [desired] } : group))
      }
      continue
    }
    const cleaned = withoutOurs(groups)
    removedExtra += Math.max(0, cleaned.removed - 1)
    ;(cleaned.removed > 0 ? replaced : added).push(event)
    hooks[event] = [...cleaned.groups, { hooks: [desired] }]
  }
  for (const event of HOOK_EVENTS) {
    if (Object.hasOwn(hooks, event)) continue
    added.push(event)
    hooks[event] = [{ hooks: [ourHandler(hookBin, event)] }]
  }

  const after: HooksDocument = { ...(before ?? {}), hooks }
  const changed = before === undefined || !deepEqual(before, after)
  return {
    after: changed ? after : before,
    changed,
    added,
    replaced,
    unchanged,
    removedExtra,
    othersKept: handlersOf(after).filter((at) => !isOurHandler(at.value)).length,
    moved: movedHandlers(before, after)
  }
}

export interface UninstallPlan {
  readonly after: HooksDocument
  readonly changed: boolean
  /** our handlers that were removed, where they were */
  readonly removed: ReadonlyArray<HandlerAt>
  readonly othersKept: number
  readonly moved: ReadonlyArray<Move>
}

/** every handler of ours out; groups and events left empty by that go too */
export const planUninstall = (before: HooksDocument): UninstallPlan => {
  const hooks: Record<string, ReadonlyArray<HookGroup>> = {}
  for (const [event, groups] of Object.entries(before.hooks ?? {})) {
    const cleaned = withoutOurs(groups)
    if (cleaned.groups.length > 0 || cleaned.removed === 0) hooks[event] = cleaned.groups
  }
  const removed = ourHandlersOf(before)
  const after: HooksDocument = before.hooks === undefined ? before : { ...before, hooks }
  return {
    after: removed.length > 0 ? after : before,
    changed: removed.length > 0,
    removed,
    othersKept: handlersOf(after).filter((at) => !isOurHandler(at.value)).length,
    moved: removed.length > 0 ? movedHandlers(before, after) : []
  }
}

/** Codex 0.169 refuses a whole hooks.json with any other top-level field (no hook in it runs) */
export const CODEX_TOP_LEVEL_FIELDS: ReadonlySet<string> = new Set(["description", "hooks"])

export const unknownTopLevelFields = (doc: HooksDocument): Array<string> => Object.keys(doc).filter((key) => !CODEX_TOP_LEVEL_FIELDS.has(key))

/** nothing left that Codex would run, and nothing else in the file */
export const isEmptyDocument = (doc: HooksDocument): boolean =>
  Object.keys(doc).every((key) => key === "hooks") && Object.keys(doc.hooks ?? {}).length === 0

// ---------------------------------------------------------------------------------------------
// Rendering

export interface TextStyle {
  /** JSON.stringify's indent: a number of spaces, a tab, or 0 for one line */
  readonly indent: string | number
  readonly newline: "\n" | "\r\n"
  readonly finalNewline: boolean
}

export const DEFAULT_STYLE: TextStyle = { indent: 2, newline: "\n", finalNewline: true }

/** the indentation and line endings a file already uses, so our edit does not reformat it */
export const styleOf = (text: string): TextStyle => {
  const newline = text.includes("\r\n") ? "\r\n" : "\n"
  const trimmed = text.trimEnd()
  const indented = /\n([ \t]+)\S/.exec(text)
  const indent = !trimmed.includes("\n") ? 0 : indented?.[1] === undefined ? 2 : indented[1].startsWith("\t") ? "\t" : indented[1].length
  return { indent, newline, finalNewline: text.endsWith("\n") }
}

export const renderHooksFile = (doc: HooksDocument, style: TextStyle = DEFAULT_STYLE): string => {
  const json = JSON.stringify(doc, null, style.indent)
  const lines = style.newline === "\n" ? json : json.replace(/\n/g, "\r\n")
  return style.finalNewline ? lines + style.newline : lines
}
