/**
 * TranscriptParser against the real Codex 0.169 rollouts: full reads, resuming from offsets,
 * live-tailing a line that is still being written, garbage lines, missing and shrunk files, and
 * the `.jsonl.zst` form Codex's background worker leaves behind (fixtures/zst/).
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as FileSystem from "@effect/platform/FileSystem"
import { afterAll, expect, layer } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { decodeRolloutLine, type RolloutLine } from "../src/domain/Rollout"
import { readAll, type ReadOptions, resolveTranscriptPath, TranscriptParser } from "../src/TranscriptParser"
import { rolloutFiles, SCENARIOS } from "./support/fixtures"

const ALL_ROLLOUTS = SCENARIOS.flatMap((scenario) => rolloutFiles(scenario))
const [COMPACTION] = rolloutFiles("compaction")
if (COMPACTION === undefined) throw new Error("the compaction fixture is missing")
const COMPRESSED = path.resolve(__dirname, "../fixtures/zst", `${path.basename(COMPACTION)}.zst`)

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "trace-codex-parser-"))
afterAll(() => fs.rmSync(tmpRoot, { recursive: true, force: true }))
let tmpCount = 0
/** a fresh directory per test, so tests never see each other's files */
const tmpDir = () => {
  const dir = path.join(tmpRoot, String(tmpCount++))
  fs.mkdirSync(dir)
  return dir
}

const nonEmptyLineCount = (file: string) => fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "").length

/** byte offsets just past each "\n" */
const lineEnds = (bytes: Uint8Array): Array<number> => {
  const ends: Array<number> = []
  bytes.forEach((b, i) => {
    if (b === 10) ends.push(i + 1)
  })
  return ends
}

/** What a whole-file string split gives: the reference the streaming reader must agree with. */
const referenceRead = (bytes: Uint8Array, final: boolean) => {
  const pieces = Buffer.from(bytes).toString("utf8").split("\n")
  const complete = final ? pieces : pieces.slice(0, -1)
  const lines: Array<RolloutLine> = []
  let malformed = 0
  for (const piece of complete) {
    const text = piece.endsWith("\r") ? piece.slice(0, -1) : piece
    if (text === "") continue
    const decoded = decodeRolloutLine(text)
    if (decoded.kind === "malformed") malformed++
    else lines.push(decoded)
  }
  const endOffset = final ? bytes.length : bytes.lastIndexOf(10) + 1
  return { lines, malformed, endOffset }
}

const readBatches = (file: string, options: ReadOptions) =>
  Effect.flatMap(TranscriptParser, (parser) => Stream.runCollect(parser.read(file, options))).pipe(
    Effect.map(Chunk.toReadonlyArray)
  )

/** a zstd skippable frame: readers must step over it */
const skippableFrame = (payload: Uint8Array) => {
  const frame = Buffer.alloc(8 + payload.length)
  frame.writeUInt32LE(0x184d2a5e, 0)
  frame.writeUInt32LE(payload.length, 4)
  frame.set(payload, 8)
  return frame
}

/** the Node file system, counting the files it holds open */
const countingFileSystem = (counter: { open: number }) =>
  Layer.effect(
    FileSystem.FileSystem,
    Effect.map(FileSystem.FileSystem, (inner): FileSystem.FileSystem => ({
      ...inner,
      open: (file, options) =>
        Effect.zipRight(
          Effect.acquireRelease(Effect.sync(() => counter.open++), () => Effect.sync(() => counter.open--)),
          inner.open(file, options)
        )
    }))
  ).pipe(Layer.provide(NodeFileSystem.layer))

const TestLayer = TranscriptParser.Default.pipe(Layer.provideMerge(NodeFileSystem.layer))

layer(TestLayer)("TranscriptParser", (it) => {
  it.effect("reads every fixture rollout completely, in file order, with nothing malformed", () =>
    Effect.gen(function*() {
      expect(ALL_ROLLOUTS.length).toBeGreaterThanOrEqual(SCENARIOS.length)
      for (const file of ALL_ROLLOUTS) {
        const size = fs.statSync(file).size
        for (const final of [true, false]) {
          const result = yield* readAll(file, { final })
          expect(result.malformed).toBe(0)
          expect(result.lines.length).toBe(nonEmptyLineCount(file))
          expect(result.endOffset).toBe(size)
          expect(result.lines[0]?.kind).toBe("session_meta")
          expect(result.lines.map((l) => l.ordinal)).toEqual(result.lines.map((_, i) => i))
        }
      }
    }))

  it.effect("emits one batch per chunk, each ending on a line boundary", () =>
    Effect.gen(function*() {
      const bytes = fs.readFileSync(COMPACTION)
      const boundaries = new Set(lineEnds(bytes))
      const batches = yield* readBatches(COMPACTION, { chunkSize: 8 * 1024, final: true })
      expect(batches.length).toBeGreaterThan(3)
      expect(batches.length).toBeLessThanOrEqual(Math.ceil(bytes.length / (8 * 1024)) + 1)
      for (const batch of batches) expect(boundaries.has(batch.endOffset)).toBe(true)
      const offsets = batches.map((b) => b.endOffset)
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b))
      expect(batches.flatMap((b) => b.lines)).toEqual((yield* readAll(COMPACTION)).lines)
    }))

  it.effect("resuming at any line boundary yields exactly the remaining lines", () =>
    Effect.gen(function*() {
      const bytes = fs.readFileSync(COMPACTION)
      const full = yield* readAll(COMPACTION, { final: true })
      const ends = [0, ...lineEnds(bytes)]
      for (const [index, offset] of ends.entries()) {
        const rest = yield* readAll(COMPACTION, { fromOffset: offset, chunkSize: 4096 })
        expect([...full.lines.slice(0, index), ...rest.lines]).toEqual(full.lines)
        expect(rest.endOffset).toBe(bytes.length)
        expect(rest.malformed).toBe(0)
      }
    }))

  it.effect("live tailing leaves a half-written last line for later and reads it exactly once", () =>
    Effect.gen(function*() {
      const bytes = fs.readFileSync(COMPACTION)
      const ends = lineEnds(bytes)
      const lastLineStart = ends[ends.length - 2] ?? 0
      const cut = lastLineStart + Math.floor((bytes.length - lastLineStart) / 2)
      const file = path.join(tmpDir(), path.basename(COMPACTION))
      fs.writeFileSync(file, bytes.subarray(0, cut))
      const full = yield* readAll(COMPACTION)

      const first = yield* readAll(file, { final: false })
      expect(first.endOffset).toBe(lastLineStart)
      expect(first.lines).toEqual(full.lines.slice(0, -1))
      expect(first.malformed).toBe(0)

      const again = yield* readAll(file, { fromOffset: first.endOffset, final: false })
      expect(again).toEqual({ lines: [], endOffset: lastLineStart, malformed: 0 })

      fs.appendFileSync(file, bytes.subarray(cut))
      const second = yield* readAll(file, { fromOffset: first.endOffset, final: false })
      expect(second.lines).toEqual(full.lines.slice(-1))
      expect(second.endOffset).toBe(bytes.length)

      const third = yield* readAll(file, { fromOffset: second.endOffset, final: false })
      expect(third).toEqual({ lines: [], endOffset: bytes.length, malformed: 0 })
    }))

  it.effect("an import of a file cut mid-line counts the cut line as malformed", () =>
    Effect.gen(function*() {
      const bytes = fs.readFileSync(COMPACTION)
      const cut = bytes.length - 100
      const file = path.join(tmpDir(), path.basename(COMPACTION))
      fs.writeFileSync(file, bytes.subarray(0, cut))
      const full = yield* readAll(COMPACTION)
      const result = yield* readAll(file, { final: true })
      expect(result.lines).toEqual(full.lines.slice(0, -1))
      expect(result.malformed).toBe(1)
      expect(result.endOffset).toBe(cut)
    }))

  it.effect("a complete last line without its newline is decoded on import", () =>
    Effect.gen(function*() {
      const bytes = fs.readFileSync(COMPACTION)
      const file = path.join(tmpDir(), path.basename(COMPACTION))
      fs.writeFileSync(file, bytes.subarray(0, bytes.length - 1))
      const full = yield* readAll(COMPACTION)
      const result = yield* readAll(file, { final: true })
      expect(result).toEqual({ lines: full.lines, endOffset: bytes.length - 1, malformed: 0 })
    }))

  it.effect("garbage lines are counted and skipped without failing the stream", () =>
    Effect.gen(function*() {
      const lines = fs.readFileSync(COMPACTION, "utf8").split("\n").filter((l) => l !== "")
      const binary = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x7b, 0x22, 0xc3, 0x28, 0x01, 0x0d, 0x09, 0x5d])
      const huge = `{"type":"event_msg","payload":${"x".repeat(2 * 1024 * 1024)}`
      const content = Buffer.concat([
        Buffer.from(`${lines[0]}\n`),
        Buffer.from("not json at all\n"),
        binary,
        Buffer.from("\n[]\n{}\n\n\r\n"),
        Buffer.from(`${huge}\n`),
        Buffer.from(`${lines[1]}\r\n`),
        Buffer.from(`"a string"\n42\n`),
        Buffer.from(`${lines[2]}\n`)
      ])
      const file = path.join(tmpDir(), "garbage.jsonl")
      fs.writeFileSync(file, content)
      const expected = [lines[0], lines[1], lines[2]].map((l) => decodeRolloutLine(l ?? ""))
      for (const chunkSize of [undefined, 4096, 100_000]) {
        const options: ReadOptions = chunkSize === undefined ? { final: true } : { final: true, chunkSize }
        const result = yield* readAll(file, options)
        expect(result.lines).toEqual(expected)
        expect(result.malformed).toBe(7)
        expect(result.endOffset).toBe(content.length)
      }
    }))

  it.effect("a missing transcript is an error, or an empty stream when tailing may start early", () =>
    Effect.gen(function*() {
      const file = path.join(tmpDir(), "rollout-not-yet.jsonl")
      const error = yield* Effect.flip(readAll(file))
      expect(error._tag).toBe("TranscriptReadError")
      expect(error.reason).toBe("not-found")
      expect(error.path).toBe(file)
      expect(yield* readBatches(file, { missingOk: true })).toEqual([])
      expect(yield* readAll(file, { missingOk: true, fromOffset: 0 })).toEqual({ lines: [], endOffset: 0, malformed: 0 })
      expect((yield* Effect.flip(resolveTranscriptPath(file))).reason).toBe("not-found")
    }))

  it.effect("a transcript that shrank below the resume offset fails instead of restarting", () =>
    Effect.gen(function*() {
      const bytes = fs.readFileSync(COMPACTION)
      const file = path.join(tmpDir(), path.basename(COMPACTION))
      fs.writeFileSync(file, bytes)
      const first = yield* readAll(file)
      fs.writeFileSync(file, bytes.subarray(0, 1000))
      const error = yield* Effect.flip(readAll(file, { fromOffset: first.endOffset }))
      expect(error.reason).toBe("truncated")
      expect(error.message).toContain(String(first.endOffset))

      const compressed = path.join(tmpDir(), path.basename(COMPRESSED))
      fs.copyFileSync(COMPRESSED, compressed)
      const zstError = yield* Effect.flip(readAll(compressed, { fromOffset: bytes.length + 1 }))
      expect(zstError.reason).toBe("truncated")
    }))

  it.effect("a .jsonl.zst reads the same lines and offsets as the plain file", () =>
    Effect.gen(function*() {
      const plain = yield* readAll(COMPACTION, { final: true })
      expect(yield* readAll(COMPRESSED, { final: true })).toEqual(plain)
      // compressed input is read 1000 bytes at a time; output comes a zstd block (<= 128 KiB) at a time
      const small = yield* readBatches(COMPRESSED, { chunkSize: 1000, final: true })
      const boundaries = new Set(lineEnds(fs.readFileSync(COMPACTION)))
      for (const batch of small) expect(boundaries.has(batch.endOffset)).toBe(true)
      expect(small.flatMap((b) => b.lines)).toEqual(plain.lines)
      expect(small.at(-1)?.endOffset).toBe(plain.endOffset)
    }))

  it.effect("reading x.jsonl after Codex compressed it to x.jsonl.zst continues from the plain offset", () =>
    Effect.gen(function*() {
      const bytes = fs.readFileSync(COMPACTION)
      const full = yield* readAll(COMPACTION)
      const dir = tmpDir()
      const file = path.join(dir, path.basename(COMPACTION))
      const ends = lineEnds(bytes)
      const halfway = ends[Math.floor(ends.length / 2)] ?? 0
      fs.writeFileSync(file, bytes.subarray(0, halfway))
      const tailed = yield* readAll(file)
      expect(tailed.endOffset).toBe(halfway)

      // while both exist, the plain file wins
      fs.copyFileSync(COMPRESSED, `${file}.zst`)
      expect(yield* resolveTranscriptPath(file)).toEqual({ path: file, compressed: false })
      expect((yield* readAll(file, { fromOffset: tailed.endOffset })).lines).toEqual([])

      fs.rmSync(file)
      expect(yield* resolveTranscriptPath(file)).toEqual({ path: `${file}.zst`, compressed: true })
      for (const chunkSize of [undefined, 512]) {
        const options: ReadOptions = { fromOffset: tailed.endOffset, ...(chunkSize === undefined ? {} : { chunkSize }) }
        const rest = yield* readAll(file, options)
        expect([...tailed.lines, ...rest.lines]).toEqual(full.lines)
        expect(rest.endOffset).toBe(bytes.length)
      }
    }))

  it.effect("a .zst with several frames and a skippable frame decodes them all", () =>
    Effect.gen(function*() {
      const compressed = fs.readFileSync(COMPRESSED)
      const file = path.join(tmpDir(), "multi.jsonl.zst")
      fs.writeFileSync(file, Buffer.concat([skippableFrame(Buffer.from("metadata")), compressed, compressed]))
      const full = yield* readAll(COMPACTION)
      for (const chunkSize of [undefined, 100]) {
        const result = yield* readAll(file, chunkSize === undefined ? {} : { chunkSize })
        expect(result.lines).toEqual([...full.lines, ...full.lines])
        expect(result.endOffset).toBe(2 * fs.statSync(COMPACTION).size)
      }
    }))

  it.effect("a corrupt or cut .zst fails with an io error", () =>
    Effect.gen(function*() {
      const compressed = fs.readFileSync(COMPRESSED)
      const dir = tmpDir()
      const corrupt = path.join(dir, "corrupt.jsonl.zst")
      fs.writeFileSync(corrupt, Buffer.from("this is not zstd data\n"))
      expect((yield* Effect.flip(readAll(corrupt))).reason).toBe("io")
      const cut = path.join(dir, "cut.jsonl.zst")
      fs.writeFileSync(cut, compressed.subarray(0, compressed.length - 500))
      expect((yield* Effect.flip(readAll(cut))).reason).toBe("io")
    }))

  it.effect("a consumer that stops early or fails closes the file", () =>
    Effect.gen(function*() {
      const counter = { open: 0 }
      const parser = yield* Effect.provide(TranscriptParser, TranscriptParser.Default.pipe(Layer.provide(countingFileSystem(counter))))
      const firstBatch = yield* Stream.runCollect(Stream.take(parser.read(COMPACTION, { chunkSize: 1000 }), 1))
      expect(Chunk.size(firstBatch)).toBe(1)
      expect(counter.open).toBe(0)
      const failed = yield* Effect.flip(
        Stream.runForEach(parser.read(COMPRESSED, { chunkSize: 1000 }), () => Effect.fail("consumer gave up"))
      )
      expect(failed).toBe("consumer gave up")
      expect(counter.open).toBe(0)
      const reading = yield* Deferred.make<void>()
      const stuck = yield* Effect.fork(
        Stream.runDrain(
          Stream.tap(parser.read(COMPACTION, { chunkSize: 1000 }), () => Effect.zipRight(Deferred.succeed(reading, undefined), Effect.never))
        )
      )
      yield* Deferred.await(reading)
      expect(counter.open).toBe(1)
      yield* Fiber.interrupt(stuck)
      expect(counter.open).toBe(0)
    }))

  // the short ones keep tiny chunk sizes fast; the long ones are covered above
  const fixtureLines = fs.readFileSync(COMPACTION, "utf8").split("\n").filter((l) => l !== "" && l.length < 1000)
  const segment = FastCheck.oneof(
    { weight: 3, arbitrary: FastCheck.constantFrom(...fixtureLines).map((l) => Buffer.from(l)) },
    { weight: 2, arbitrary: FastCheck.uint8Array({ maxLength: 40 }) },
    { weight: 1, arbitrary: FastCheck.constantFrom("{}", "[]", "", "\r", "  ", "null", "{\"type\":\"x\",\"payload\":1}").map((s) => Buffer.from(s)) },
    { weight: 1, arbitrary: FastCheck.string({ unit: "binary", maxLength: 30 }).map((s) => Buffer.from(s)) }
  )
  const content = FastCheck.tuple(
    FastCheck.array(FastCheck.tuple(segment, FastCheck.constantFrom("\n", "\r\n", "")), { maxLength: 12 }),
    FastCheck.nat({ max: 200 })
  ).map(([segments, cutFromEnd]) => {
    const whole = Buffer.concat(segments.flatMap(([bytes, separator]) => [bytes, Buffer.from(separator)]))
    return whole.subarray(0, Math.max(0, whole.length - cutFromEnd))
  })

  it.effect.prop(
    "any bytes and any chunk size give the lines of a whole-file split, never a crash",
    { bytes: content, chunkSize: FastCheck.integer({ min: 1, max: 300 }), final: FastCheck.boolean(), resumeAt: FastCheck.nat() },
    ({ bytes, chunkSize, final, resumeAt }) =>
      Effect.gen(function*() {
        const file = path.join(tmpDir(), "prop.jsonl")
        fs.writeFileSync(file, bytes)
        const exit = yield* Effect.exit(readAll(file, { chunkSize, final }))
        expect(Exit.isSuccess(exit)).toBe(true)
        if (Exit.isFailure(exit)) return
        expect(exit.value).toEqual(referenceRead(bytes, final))

        const boundaries = [0, ...lineEnds(bytes)]
        const from = boundaries[resumeAt % boundaries.length] ?? 0
        const resumed = yield* Effect.either(readAll(file, { chunkSize, final, fromOffset: from }))
        expect(Either.isRight(resumed)).toBe(true)
        if (Either.isLeft(resumed)) return
        const rest = referenceRead(bytes.subarray(from), final)
        expect(resumed.right).toEqual({ ...rest, endOffset: from + rest.endOffset })
      }),
    { fastCheck: { numRuns: 150 } }
  )
})
