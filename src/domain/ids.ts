/**
 * Deterministic span ids: a name-based UUID (RFC 4122 version 5, SHA-1) of a stable key such as
 * ("turn", thread id, turn id). Re-reducing the same evidence always yields the same ids, so
 * replay, resume and re-import overwrite spans instead of duplicating them.
 */
import { createHash } from "node:crypto"

/** Our namespace: uuidv5(URL namespace, "https://github.com/trace-codex/trace-codex"). */
const NAMESPACE = Buffer.from("8f0e6c1a5b2d5d7e9c4a3b1f2e6d7c8a", "hex")

export const spanId = (...key: ReadonlyArray<string | number>): string => {
  const hash = createHash("sha1").update(NAMESPACE).update(key.join("\u001f")).digest()
  hash[6] = (hash[6]! & 0x0f) | 0x50
  hash[8] = (hash[8]! & 0x3f) | 0x80
  const hex = hash.subarray(0, 16).toString("hex")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

export const SpanKeys = {
  session: (sessionId: string) => spanId("session", sessionId),
  turn: (threadId: string, turnId: string) => spanId("turn", threadId, turnId),
  llm: (threadId: string, responseId: string) => spanId("llm", threadId, responseId),
  tool: (threadId: string, callId: string) => spanId("tool", threadId, callId),
  subagent: (childThreadId: string) => spanId("subagent", childThreadId),
  compaction: (threadId: string, key: string) => spanId("compaction", threadId, key)
} as const
