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

export const makeLocalSpanSink = (stateDir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const encoder = new TextEncoder()
    const dir = spansDir(stateDir)
    const fail = (rows: number) => (cause: unknown) =>
      new SpanSinkError({ sink: "local", message: `could not write the local span store in ${dir}: ${String(cause)}`, rows, cause })

    const append = (file: string, rows: ReadonlyArray<SpanRow>) =>
      Effect.scoped(
        Effect.gen(function* () {
          const handle = yield* fs.open(file, { flag: "a", mode: 0o600 })
          // writeAll: a single write may store fewer bytes than it was given
          yield* handle.writeAll(encoder.encode(rows.map((r) => JSON.stringify(r)).join("\n") + "\n"))
          yield* handle.sync
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
