/**
 * What Codex (0.169) writes to a hook command's stdin: one JSON object per hook invocation, for
 * the 12 events named by `hook_event_name`. These schemas are the typed view the reducer reads;
 * the raw object always travels beside it (see HookReader), so nothing Codex sent is lost.
 *
 * Codex formats change often, so the schemas are lenient on purpose:
 * - only `hook_event_name` and `session_id` are required (the reference says they are always
 *   present);
 * - every other field is optional, and a field whose value has an unexpected type is left out of
 *   the typed view instead of rejecting the whole payload (the raw object still holds it);
 * - open sets (`source`, `trigger`, `reason`, `permission_mode`, ...) are plain strings;
 * - an event name we don't know decodes to `UnknownHookEvent`, which keeps every key.
 *
 * Background: shared/reference/codex-0.169.md, sections 2 and 4.
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/** A parsed JSON object, exactly as Codex sent it. */
export const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })
export type JsonObject = typeof JsonObject.Type

/**
 * An optional field that tolerates drift: when the value is missing or does not match `schema`,
 * the typed view simply has no such field.
 */
const lenient = <A>(schema: Schema.Schema<A, A, never>) =>
  Schema.optionalToOptional(Schema.Unknown, Schema.typeSchema(schema), {
    decode: Option.filter(Schema.is(schema)),
    encode: (value) => value
  })

/** An optional field whose value is kept as is, whatever its shape (tool inputs and outputs). */
const opaque = Schema.optional(Schema.Unknown)

const NullableString = Schema.NullOr(Schema.String)

/** Fields Codex may put on every event (depending on the event and on being in a sub-agent). */
const commonFields = {
  /** the session (root thread) id; inside a sub-agent this stays the parent's */
  session_id: Schema.String,
  /** absolute path of the rollout file; nullable per Codex's schema */
  transcript_path: lenient(NullableString),
  cwd: lenient(Schema.String),
  model: lenient(Schema.String),
  /** seen: bypassPermissions, default; Codex's schema adds acceptEdits, plan, dontAsk */
  permission_mode: lenient(Schema.String),
  /** on turn events; in a sub-agent, the child's turn */
  turn_id: lenient(Schema.String),
  /** set inside a sub-agent: the child thread id */
  agent_id: lenient(Schema.String),
  /** set inside a sub-agent: "default" in the captures */
  agent_type: lenient(Schema.String)
}

const toolFields = {
  /** hook-facing tool name: Bash, apply_patch, spawn_agent, multi_agent_v1wait_agent, mcp__<server>__<tool> */
  tool_name: lenient(Schema.String),
  tool_input: opaque,
  /** the model's call_id */
  tool_use_id: lenient(Schema.String)
}

const stopFields = {
  /** true on the continuation after a blocking Stop/SubagentStop hook */
  stop_hook_active: lenient(Schema.Boolean),
  last_assistant_message: lenient(NullableString)
}

export const SessionStartHookEvent = Schema.Struct({
  hook_event_name: Schema.Literal("SessionStart"),
  ...commonFields,
  /** seen: startup, resume, fork, clear, compact */
  source: lenient(Schema.String)
})
export type SessionStartHookEvent = typeof SessionStartHookEvent.Type

export const UserPromptSubmitHookEvent = Schema.Struct({
  hook_event_name: Schema.Literal("UserPromptSubmit"),
  ...commonFields,
  prompt: lenient(Schema.String)
})
export type UserPromptSubmitHookEvent = typeof UserPromptSubmitHookEvent.Type

export const PreToolUseHookEvent = Schema.Struct({
  hook_event_name: Schema.Literal("PreToolUse"),
  ...commonFields,
  ...toolFields
})
export type PreToolUseHookEvent = typeof PreToolUseHookEvent.Type

/** `tool_input` is `{command, description}`; Codex 0.169 sends no `tool_use_id` here. */
export const PermissionRequestHookEvent = Schema.Struct({
  hook_event_name: Schema.Literal("PermissionRequest"),
  ...commonFields,
  ...toolFields
})
export type PermissionRequestHookEvent = typeof PermissionRequestHookEvent.Type

/**
 * `tool_response` is a string for shell, apply_patch and agent tools (the agent tools' is itself
 * JSON text) and an object (`{content, isError}`) for MCP tools.
 */
export const PostToolUseHookEvent = Schema.Struct({
  hook_event_name: Schema.Literal("PostToolUse"),
  ...commonFields,
  ...toolFields,
  tool_response: opaque
})
export type PostToolUseHookEvent = typeof PostToolUseHookEvent.Type

export const PreCompactHookEvent = Schema.Struct({
  hook_event_name: Schema.Literal("PreCompact"),
  ...commonFields,
  /** auto or manual */
  trigger: lenient(Schema.String)
})
export type PreCompactHookEvent = typeof PreCompactHookEvent.Type

export const PostCompactHookEvent = Schema.Struct({
  hook_event_name: Schema.Literal("PostCompact"),
  ...commonFields,
  /** auto or manual */
  trigger: lenient(Schema.String)
})
export type PostCompactHookEvent = typeof PostCompactHookEvent.Type

/** Fires in the child: `transcript_path` is the child's rollout, `turn_id` the child's turn. */
export const SubagentStartHookEvent = Schema.Struct({
  hook_event_name: Schema.Literal("SubagentStart"),
  ...commonFields
})
export type SubagentStartHookEvent = typeof SubagentStartHookEvent.Type

/** `transcript_path` is the parent's rollout, `agent_transcript_path` the child's. */
export const SubagentStopHookEvent = Schema.Struct({
  hook_event_name: Schema.Literal("SubagentStop"),
  ...commonFields,
  agent_transcript_path: lenient(NullableString),
  ...stopFields
})
export type SubagentStopHookEvent = typeof SubagentStopHookEvent.Type

/** Runs before `task_complete` is written to the rollout. */
export const StopHookEvent = Schema.Struct({
  hook_event_name: Schema.Literal("Stop"),
  ...commonFields,
  ...stopFields
})
export type StopHookEvent = typeof StopHookEvent.Type

/** SIGINT mid-turn; no Stop follows. */
export const InterruptHookEvent = Schema.Struct({
  hook_event_name: Schema.Literal("Interrupt"),
  ...commonFields
})
export type InterruptHookEvent = typeof InterruptHookEvent.Type

/** Once per `codex exec` process (each resume too). */
export const SessionEndHookEvent = Schema.Struct({
  hook_event_name: Schema.Literal("SessionEnd"),
  ...commonFields,
  /** "other" in every capture */
  reason: lenient(Schema.String)
})
export type SessionEndHookEvent = typeof SessionEndHookEvent.Type

export const HookEventName = Schema.Literal(
  "SessionStart",
  "UserPromptSubmit",
  "PreToolUse",
  "PermissionRequest",
  "PostToolUse",
  "PreCompact",
  "PostCompact",
  "SubagentStart",
  "SubagentStop",
  "Stop",
  "Interrupt",
  "SessionEnd"
)
export type HookEventName = typeof HookEventName.Type

export const isHookEventName = Schema.is(HookEventName)

export const KnownHookEvent = Schema.Union(
  SessionStartHookEvent,
  UserPromptSubmitHookEvent,
  PreToolUseHookEvent,
  PermissionRequestHookEvent,
  PostToolUseHookEvent,
  PreCompactHookEvent,
  PostCompactHookEvent,
  SubagentStartHookEvent,
  SubagentStopHookEvent,
  StopHookEvent,
  InterruptHookEvent,
  SessionEndHookEvent
)
export type KnownHookEvent = typeof KnownHookEvent.Type

/**
 * A name outside the 12 known ones. Kept apart from them so that a known event which does not
 * fit its schema is reported as such, never silently relabelled as unknown.
 */
export const UnknownHookEventName = Schema.String.pipe(
  Schema.filter((name) => !isHookEventName(name), {
    message: () => "a known hook event name cannot be an unknown hook event"
  })
)

/**
 * An event this version does not know. Every key of the payload is kept (the index signature),
 * and the common fields are typed when they fit, so it can still be attributed to a session.
 */
export const UnknownHookEvent = Schema.Struct(
  {
    hook_event_name: UnknownHookEventName,
    ...commonFields,
    session_id: lenient(Schema.String)
  },
  JsonObject
)
export type UnknownHookEvent = typeof UnknownHookEvent.Type

/**
 * Any hook stdin payload, discriminated by `hook_event_name`. TypeScript cannot express "any
 * string but the 12 names", so a `switch` on the name narrows to `<Event>HookEvent |
 * UnknownHookEvent`; narrow with `isKnownHookEvent` first to get the exact variant.
 */
export const HookPayload = Schema.Union(KnownHookEvent, UnknownHookEvent)
export type HookPayload = typeof HookPayload.Type

export const isKnownHookEvent: (event: HookPayload) => event is KnownHookEvent = Schema.is(KnownHookEvent)
