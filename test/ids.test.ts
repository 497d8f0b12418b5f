/**
 * Span ids are UUIDv5 of a key: they must never change between versions (re-import merges by
 * id). spanId (which hashes into reused buffers for speed) is compared with a plain UUIDv5
 * computed here from node:crypto.
 */
import { describe, expect, it } from "@effect/vitest"
import * as crypto from "node:crypto"
import { spanId, SpanKeys } from "../src/domain/ids"

const NAMESPACE = Buffer.from("8f0e6c1a5b2d5d7e9c4a3b1f2e6d7c8a", "hex")

const referenceId = (...key: ReadonlyArray<string | number>): string => {
  const hash = crypto.createHash("sha1").update(NAMESPACE).update(key.map(String).join("\u001f"), "utf8").digest()
  hash[6] = (hash[6]! & 0x0f) | 0x50
  hash[8] = (hash[8]! & 0x3f) | 0x80
  const hex = hash.subarray(0, 16).toString("hex")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

describe("spanId", () => {
  it("is the UUIDv5 of the key's parts in our namespace, for short, long and non-ASCII keys", () => {
    const keys: Array<Array<string | number>> = [
      ["session", "01a2013a-9ba2-7f60-9bd9-ba69e3de7bf8"],
      ["turn", "thread", "turn-1"],
      ["llm", "t", "resp_" + "x".repeat(2000)],
      ["tool", "fädén", "call_☃"],
      ["compaction", "t", 42],
      [""]
    ]
    for (const key of keys) expect(spanId(...key)).toBe(referenceId(...key))
    expect(SpanKeys.session("abc")).toBe(referenceId("session", "abc"))
  })
})
