/**
 * Deterministic span ids: a name-based UUID (RFC 4122 version 5, SHA-1) of a stable key such as
 * ("turn", thread id, turn id). Re-reducing the same evidence always yields the same ids, so
 * replay, resume and re-import overwrite spans instead of duplicating them.
 *
 * An import computes an id for every span (~80k for a 200 MB rollout): the key is written
 * straight into one reused buffer and hashed in one call (no Hash object per id), and the id
 * is formatted into one buffer, so it is a flat string: one built by concatenating slices is a
 * tree of cons strings several times its size, and an import keeps every id it delivered.
 */
import * as crypto from "node:crypto"

/** Our namespace: uuidv5(URL namespace, "https://github.com/trace-codex/trace-codex"). */
const NAMESPACE = Buffer.from("8f0e6c1a5b2d5d7e9c4a3b1f2e6d7c8a", "hex")

/** "\u001f" between the parts of a key */
const SEPARATOR_BYTE = 0x1f

// `crypto.hash` arrived in Node 20.12; older Node 20 releases take the Hash object
const hasOneShotHash = typeof crypto.hash === "function"

const sha1 = (data: Buffer): Buffer =>
  hasOneShotHash ? crypto.hash("sha1", data, "buffer") : crypto.createHash("sha1").update(data).digest()

/** namespace + key bytes; grows for a longer key */
let input = Buffer.allocUnsafe(1024)
NAMESPACE.copy(input, 0)

const HEX_DIGITS = Buffer.from("0123456789abcdef", "latin1")
const DASH = 0x2d
const formatted = Buffer.alloc(36, DASH)

const formatUuid = (bytes: Uint8Array): string => {
  let out = 0
  for (let i = 0; i < 16; i++) {
    if (out === 8 || out === 13 || out === 18 || out === 23) out++ // the dashes stay in place
    const byte = bytes[i]!
    formatted[out++] = HEX_DIGITS[byte >> 4]!
    formatted[out++] = HEX_DIGITS[byte & 0x0f]!
  }
  return formatted.toString("latin1", 0, 36)
}

export const spanId = (...key: ReadonlyArray<string | number>): string => {
  // the key's parts joined by SEPARATOR_BYTE, written straight into the input buffer
  let length = NAMESPACE.length
  for (let i = 0; i < key.length; i++) {
    const part = String(key[i])
    const needed = length + 1 + part.length * 3
    if (needed > input.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, input.length * 2))
      input.copy(grown, 0, 0, length)
      input = grown
    }
    if (i > 0) input[length++] = SEPARATOR_BYTE
    length += input.write(part, length, "utf8")
  }
  const hash = sha1(input.subarray(0, length))
  hash[6] = (hash[6]! & 0x0f) | 0x50
  hash[8] = (hash[8]! & 0x3f) | 0x80
  return formatUuid(hash)
}

export const SpanKeys = {
  session: (sessionId: string) => spanId("session", sessionId),
  turn: (threadId: string, turnId: string) => spanId("turn", threadId, turnId),
  llm: (threadId: string, responseId: string) => spanId("llm", threadId, responseId),
  tool: (threadId: string, callId: string) => spanId("tool", threadId, callId),
  subagent: (childThreadId: string) => spanId("subagent", childThreadId),
  compaction: (threadId: string, key: string) => spanId("compaction", threadId, key)
} as const
