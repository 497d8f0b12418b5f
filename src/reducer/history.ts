/**
 * The conversation a thread's model sees, in OpenAI chat format, kept within a byte budget.
 *
 * Each LLM span's input is the conversation as it stood when that call was made: every message
 * added since the previous call (in full, up to a per-message cap), plus as many older messages
 * as fit in the budget, newest first; the rest is replaced by one marker message that counts
 * them. This keeps upload volume linear in the session length (Braintrust's plugin copies the
 * whole history into every span, which grows quadratically) while showing what matters: the new
 * context and the recent turns. Compaction replaces the history, as it does for the model.
 */

export interface ToolCallMessagePart {
  readonly id: string
  readonly type: "function"
  readonly function: { readonly name: string; readonly arguments: string }
}

export interface ChatMessage {
  readonly role: "system" | "developer" | "user" | "assistant" | "tool"
  readonly content: string | null
  readonly tool_calls?: ReadonlyArray<ToolCallMessagePart>
  readonly tool_call_id?: string
  readonly reasoning?: ReadonlyArray<string>
}

interface Entry {
  readonly message: ChatMessage
  readonly bytes: number
}

export interface HistoryState {
  entries: Array<Entry>
  /** index of the first entry added after the previous model call was made */
  newFrom: number
  elidedCount: number
  elidedBytes: number
}

/** a single message longer than this is cut, with a marker saying how much */
export const MESSAGE_CAP_CHARS = 32 * 1024

export const emptyHistory = (): HistoryState => ({ entries: [], newFrom: 0, elidedCount: 0, elidedBytes: 0 })

export const capText = (text: string, cap: number = MESSAGE_CAP_CHARS): string =>
  text.length <= cap ? text : `${text.slice(0, cap)}\n…[trace-codex: ${text.length - cap} more characters not shown]`

const sizeOf = (m: ChatMessage): number => {
  let n = 32 + (m.content?.length ?? 0)
  if (m.tool_calls) for (const c of m.tool_calls) n += 48 + c.function.name.length + c.function.arguments.length
  if (m.reasoning) for (const r of m.reasoning) n += r.length
  return n
}

export const pushMessage = (h: HistoryState, message: ChatMessage): void => {
  const capped: ChatMessage = message.content !== null && message.content.length > MESSAGE_CAP_CHARS ? { ...message, content: capText(message.content) } : message
  h.entries.push({ message: capped, bytes: sizeOf(capped) })
}

/** Compaction: the model's history is replaced wholesale. */
export const resetHistory = (h: HistoryState, messages: ReadonlyArray<ChatMessage>): void => {
  h.entries = []
  h.newFrom = 0
  h.elidedCount = 0
  h.elidedBytes = 0
  for (const m of messages) pushMessage(h, m)
}

const elisionMarker = (count: number, bytes: number): ChatMessage => ({
  role: "system",
  content: `[trace-codex: ${count} earlier message${count === 1 ? "" : "s"} (${bytes} bytes) not shown in this span]`
})

/**
 * The input of a model call made now. Marks everything so far as "seen" and forgets older
 * messages that no later span will show, so memory stays bounded too.
 */
export const snapshotForCall = (h: HistoryState, budgetBytes: number): ReadonlyArray<ChatMessage> => {
  let keepFrom = h.newFrom
  let used = 0
  while (keepFrom > 0) {
    const e = h.entries[keepFrom - 1]!
    if (used + e.bytes > budgetBytes) break
    used += e.bytes
    keepFrom--
  }
  for (let i = 0; i < keepFrom; i++) {
    h.elidedCount++
    h.elidedBytes += h.entries[i]!.bytes
  }
  if (keepFrom > 0) h.entries = h.entries.slice(keepFrom)
  const shown = h.entries.map((e) => e.message)
  h.newFrom = h.entries.length
  return h.elidedCount > 0 ? [elisionMarker(h.elidedCount, h.elidedBytes), ...shown] : shown
}
