/**
 * The local NDJSON store: what lands on disk is exactly one `JSON.stringify(row)` a line, however
 * the batch is encoded (rows encoded straight into a buffer that is kept for the next batch),
 * with files 0600 in folders 0700, and readLocalTrace reads back the latest row per span.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { encodeRows, makeLocalSpanSink, readLocalTrace, traceFile } from "../../layers/LocalSpanSink"
import type { SpanRow } from "../../src/domain/SpanRow"

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "trace-codex-local-sink-"))

const row = (id: string, root: string, input: unknown): SpanRow => ({
  id,
  span_id: id,
  root_span_id: root,
  span_parents: id === root ? [] : [root],
  span_attributes: { name: `span ${id}`, type: "llm" },
  metrics: { start: 1, end: 2.5 },
  input,
  metadata: { note: "n" }
})

/** text outside ASCII: accents, an emoji (a surrogate pair), a lone surrogate, control characters */
const UNUSUAL = ["café ünïcödé", "emoji 🚀 and 𝔘", "lone \ud800 surrogate", "tab\tnewline\nquote\"backslash\\", "\u0000\u001f\u2028"]

const expectedNdjson = (rows: ReadonlyArray<SpanRow>): string => rows.map((r) => JSON.stringify(r) + "\n").join("")

describe("LocalSpanSink", () => {
  it("encodes a batch as the UTF-8 of one JSON.stringify(row) a line", () => {
    const rows = [row("a", "a", UNUSUAL), row("b", "a", { big: "x".repeat(100_000) }), row("c", "a", null)]
    expect(encodeRows(rows).bytes.toString("utf8")).toBe(expectedNdjson(rows))
    expect(encodeRows(rows).bytes.equals(Buffer.from(new TextEncoder().encode(expectedNdjson(rows))))).toBe(true)
    expect(encodeRows([]).bytes.length).toBe(0)
  })

  it.effect("batches of changing sizes, large then small, are stored byte for byte; 0600 files in 0700 folders", () =>
    Effect.gen(function*() {
      const dir = path.join(tempDir(), "state")
      const sink = yield* makeLocalSpanSink(dir)
      const batches: Array<Array<SpanRow>> = [
        [row("r", "r", "root")],
        Array.from({ length: 300 }, (_, i) => row(`big-${i}`, "r", { text: `${UNUSUAL[i % UNUSUAL.length]} ${"y".repeat(5_000)}` })),
        // smaller than the one before: the kept buffer must not leak the earlier batch's bytes
        [row("small", "r", "é")],
        [row("other-root", "other-root", "a second trace"), row("o1", "other-root", UNUSUAL)],
        Array.from({ length: 50 }, (_, i) => row(`big-${i}`, "r", { text: "rewritten" }))
      ]
      for (const batch of batches) yield* sink.write(batch)

      const all = batches.flat()
      for (const root of ["r", "other-root"]) {
        const file = traceFile(dir, root)
        expect(fs.readFileSync(file, "utf8")).toBe(expectedNdjson(all.filter((r) => r.root_span_id === root)))
        expect(fs.statSync(file).mode & 0o777).toBe(0o600)
      }
      expect(fs.statSync(path.join(dir, "spans")).mode & 0o777).toBe(0o700)

      // a later row with the same id supersedes the earlier one
      const stored = yield* readLocalTrace(dir, "r")
      expect(stored.length).toBe(302)
      expect(stored.find((r) => r.id === "big-3")!.input).toEqual({ text: "rewritten" })
      expect(stored.find((r) => r.id === "big-200")!.input).toEqual({ text: `${UNUSUAL[0]} ${"y".repeat(5_000)}` })
    }).pipe(Effect.provide(NodeContext.layer)))

  it.effect("writes running at once each store their own rows", () =>
    Effect.gen(function*() {
      const dir = tempDir()
      const sink = yield* makeLocalSpanSink(dir)
      // a first write leaves a buffer to reuse, which the writes below then compete for
      yield* sink.write([row("warm-up", "warm-up", "x".repeat(200_000))])
      const batches = Array.from({ length: 8 }, (_, b) =>
        Array.from({ length: 40 }, (_, i) => row(`t${b}-${i}`, `t${b}`, { text: `${b}:${i} ${"z".repeat(1_000 * (b + 1))}` })))
      yield* Effect.forEach(batches, (batch) => sink.write(batch), { concurrency: "unbounded" })
      for (const batch of batches) expect(fs.readFileSync(traceFile(dir, batch[0]!.root_span_id), "utf8")).toBe(expectedNdjson(batch))
    }).pipe(Effect.provide(NodeContext.layer)))
})
