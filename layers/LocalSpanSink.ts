/**
 * Local NDJSON span store: the embedded default when Braintrust is not configured. One
 * append-only file per trace, `<state dir>/spans/<root span id>.ndjson`; a later row with the
 * same id supersedes an earlier one (readers keep the last), so re-delivery is idempotent.
 * A write counts as delivered once the bytes are fsync'd. Files 0600, folders 0700.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as Layer from "effect/Layer"
import { Buffer } from "node:buffer"
import { join } from "node:path"
import { SpanRow } from "../src/domain/SpanRow"
import { latestRows } from "../src/SessionReducer"
import { SpanSink, SpanSinkError, type SpanSinkService } from "../src/SpanSink"
import { StateDir } from "../src/StateDir"

const decodeRow = Schema.decodeEither(Schema.parseJson(SpanRow))

const SAFE_NAME = /^[A-Za-z0-9._-]{1,200}$/

export const spansDir = (stateDir: string): string => join(stateDir, "spans")
export const traceFile = (stateDir: string, rootSpanId: string): string =>
  join(spansDir(stateDir), `${SAFE_NAME.test(rootSpanId) ? rootSpanId : encodeURIComponent(rootSpanId)}.ndjson`)

/** a buffer of its own (never a slice of Node's shared pool) of at least `size` bytes, a power of two */
const newBuffer = (size: number): Buffer => Buffer.allocUnsafeSlow(2 ** Math.ceil(Math.log2(Math.max(size, 64 * 1024))))

/**
 * A batch as NDJSON bytes, one row a line, written into `buffer` from its start (into a larger
 * copy when it runs out of room): `bytes` is what was written, `buffer` the whole buffer used.
 * Each row's JSON is encoded into the buffer as soon as it is made, so the string dies young:
 * joining the rows into one string and encoding that copies every byte twice more (the join, then
 * the encoder's copy), which on a 200 MB import cost about half as much as JSON.stringify itself.
 */
export const encodeRows = (rows: ReadonlyArray<SpanRow>, buffer: Buffer = newBuffer(0)): { readonly bytes: Buffer; readonly buffer: Buffer } => {
  let out = buffer
  let end = 0
  for (const row of rows) {
    const line = JSON.stringify(row)
    // a UTF-16 code unit takes at most 3 bytes of UTF-8: only when even that might not fit are
    // the line's bytes counted, and the buffer grown if they do not
    if (out.length - end < 3 * line.length + 1) {
      const needed = end + Buffer.byteLength(line, "utf8") + 1
      if (out.length < needed) {
        const grown = newBuffer(needed)
        out.copy(grown, 0, 0, end)
        out = grown
      }
    }
    end += out.write(line, end, "utf8")
    out[end++] = 0x0a
  }
  return { bytes: out.subarray(0, end), buffer: out }
}

/** a spare encoding buffer larger than this is let go rather than held for the next batch */
const KEEP_BUFFER_BYTES = 32 * 1024 * 1024

export const makeLocalSpanSink = (stateDir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const dir = spansDir(stateDir)
    const fail = (rows: number) => (cause: unknown) =>
      new SpanSinkError({ sink: "local", message: `could not write the local span store in ${dir}: ${String(cause)}`, rows, cause })

    // The buffer the last batch was encoded into, kept for the next one: the first write into a
    // fresh buffer of a few MB faults its pages in one by one, which costs more than the encoding,
    // and every new buffer pushes V8 towards a full garbage collection. It is taken while a batch
    // is being written, so appends running at once never share it, and given back only after a
    // write that finished (an interrupted write may still be reading it).
    let spare: Buffer | undefined

    const append = (file: string, rows: ReadonlyArray<SpanRow>) =>
      Effect.scoped(
        Effect.gen(function* () {
          const handle = yield* fs.open(file, { flag: "a", mode: 0o600 })
          const taken = spare
          spare = undefined
          const { buffer, bytes } = encodeRows(rows, taken)
          // writeAll: a single write may store fewer bytes than it was given
          yield* handle.writeAll(bytes)
          yield* handle.sync
          if (buffer.length <= KEEP_BUFFER_BYTES) spare = buffer
        })
      )

    const write = (rows: ReadonlyArray<SpanRow>) =>
      Effect.gen(function* () {
        if (rows.length === 0) return
        yield* fs.makeDirectory(dir, { recursive: true, mode: 0o700 })
        const byTrace = new Map<string, Array<SpanRow>>()
        for (const r of rows) {
          const list = byTrace.get(r.root_span_id)
          if (list) list.push(r)
          else byTrace.set(r.root_span_id, [r])
        }
        for (const [root, list] of byTrace) yield* append(traceFile(stateDir, root), list)
      }).pipe(Effect.mapError(fail(rows.length)))

    const service: SpanSinkService = {
      name: "local",
      write,
      traceUrl: (rootSpanId) => Effect.succeed(`file://${traceFile(stateDir, rootSpanId)}`)
    }
    return service
  })

/** The latest row per span id of one stored trace (empty when there is none). */
export const readLocalTrace = (stateDir: string, rootSpanId: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const file = traceFile(stateDir, rootSpanId)
    if (!(yield* fs.exists(file))) return []
    const text = yield* fs.readFileString(file)
    const rows: Array<SpanRow> = []
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue
      // a torn last line after a crash is skipped: that row is re-sent on the next delivery
      const decoded = decodeRow(line)
      if (Either.isRight(decoded)) rows.push(decoded.right)
    }
    return latestRows(rows)
  })

export const LocalSpanSink = {
  layer: Layer.effect(SpanSink, Effect.flatMap(StateDir, ({ path }) => makeLocalSpanSink(path)))
}
