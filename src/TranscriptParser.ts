/**
 * TranscriptParser: reads a Codex rollout file (JSONL, one line per transcript entry) as a stream
 * of decoded-line batches, one batch per chunk read, with bounded memory. Reading resumes from a
 * byte offset returned earlier, so a live tailer and a one-shot import share one code path.
 *
 * Codex's background worker may replace `x.jsonl` by `x.jsonl.zst` (the plain file wins while
 * both exist). Offsets always count decompressed bytes, so an offset taken on the plain file stays
 * valid once the file has been compressed; resuming into a `.zst` decompresses and discards the
 * bytes before the offset.
 */
import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { Decompress } from "fzstd"
import * as nodeFs from "node:fs"
import { decodeRolloutLine, type RolloutLine } from "./domain/Rollout"

export class TranscriptReadError extends Data.TaggedError("TranscriptReadError")<{
  readonly path: string
  /** not-found: neither the file nor its `.zst` exists; truncated: the file is now shorter than the resume offset */
  readonly reason: "not-found" | "truncated" | "io"
  readonly message: string
  readonly cause?: unknown
}> {}

export interface TranscriptBatch {
  /** decoded lines in file order (unknown line types included, malformed ones not) */
  readonly lines: ReadonlyArray<RolloutLine>
  /** byte offset just past the last consumed line, counted in decompressed bytes */
  readonly endOffset: number
  /** lines in this batch that failed to decode: counted and skipped */
  readonly malformed: number
}

export interface ReadOptions {
  /** where to resume: 0 (default) or an `endOffset` returned earlier for the same transcript */
  readonly fromOffset?: number
  /**
   * true for a finished file (import): a last line without "\n" is decoded too.
   * false (default, live tailing): that line may still be being written, so it is left
   * unconsumed and `endOffset` stops before it.
   */
  readonly final?: boolean
  /** live tailing: a transcript that does not exist yet gives an empty stream instead of an error */
  readonly missingOk?: boolean
  /** bytes per read (default 1 MiB); one batch is produced per read */
  readonly chunkSize?: number
}

export interface TranscriptParserService {
  /**
   * Stream the transcript's lines from `fromOffset`, one batch per chunk read. Chunks that only
   * extend an unfinished line produce no batch, so every batch moves `endOffset` forward.
   */
  readonly read: (path: string, options?: ReadOptions) => Stream.Stream<TranscriptBatch, TranscriptReadError>
  /**
   * `read` without batches: hands the text of each non-empty line (no line ending), in file
   * order, to `onLine` as soon as its chunk is read, and emits the new `endOffset` after each
   * chunk once all of its lines have been handed over. The caller decodes each line with
   * `decodeRolloutLine`. For imports: a line's text and parsed JSON are garbage before the next
   * line is read, whereas a stream holds on to its previous element (a whole batch of decoded
   * lines) until the next one is ready, which made V8 copy and promote every batch.
   */
  readonly scanLines: (
    path: string,
    onLine: (text: string) => void,
    options?: ReadOptions
  ) => Stream.Stream<number, TranscriptReadError>
}

export interface ResolvedTranscript {
  /** the file to open */
  readonly path: string
  readonly compressed: boolean
}

const DEFAULT_CHUNK_SIZE = 1024 * 1024
const NEWLINE = 10
const CARRIAGE_RETURN = 13
const ZST_SUFFIX = ".zst"

// ---------------------------------------------------------------------------------------------
// Opening: plain file first, then its `.zst`

const isNotFound = (error: PlatformError): boolean => error._tag === "SystemError" && error.reason === "NotFound"

const ioError = (path: string, action: string, cause: unknown) =>
  new TranscriptReadError({ path, reason: "io", message: `cannot ${action} ${path}: ${String(cause)}`, cause })

const notFoundError = (path: string) =>
  new TranscriptReadError({
    path,
    reason: "not-found",
    message: path.endsWith(ZST_SUFFIX)
      ? `transcript ${path} does not exist`
      : `transcript ${path} does not exist (nor ${path}${ZST_SUFFIX})`
  })

const truncatedError = (path: string, size: number, fromOffset: number) =>
  new TranscriptReadError({
    path,
    reason: "truncated",
    message: `transcript ${path} has ${size} bytes, fewer than the resume offset ${fromOffset}: it was truncated or rewritten`
  })

/**
 * Which file holds the transcript at `path`: the path itself when it exists (or is a `.zst`),
 * else `path.zst` when Codex has compressed it.
 */
export const resolveTranscriptPath = (
  path: string
): Effect.Effect<ResolvedTranscript, TranscriptReadError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const exists = (p: string) => Effect.mapError(fs.exists(p), (cause) => ioError(path, "check", cause))
    if (path.endsWith(ZST_SUFFIX)) {
      if (yield* exists(path)) return { path, compressed: true }
      return yield* notFoundError(path)
    }
    if (yield* exists(path)) return { path, compressed: false }
    const compressedPath = path + ZST_SUFFIX
    if (yield* exists(compressedPath)) return { path: compressedPath, compressed: true }
    return yield* notFoundError(path)
  })

interface OpenedTranscript {
  readonly file: FileSystem.File
  readonly path: string
  readonly compressed: boolean
}

/**
 * Open by trying the candidates in order rather than checking existence first: the worker may
 * compress the file between a check and an open, and a handle once open keeps reading the
 * plain file even after it is unlinked.
 */
const openTranscript = (fs: FileSystem.FileSystem, path: string) => {
  const attempt = (candidate: string) =>
    fs.open(candidate, { flag: "r" }).pipe(
      Effect.map(Option.some),
      Effect.catchAll((cause) =>
        isNotFound(cause) ? Effect.succeedNone : Effect.fail(ioError(candidate, "open", cause))
      )
    )
  return Effect.gen(function*() {
    if (!path.endsWith(ZST_SUFFIX)) {
      const plain = yield* attempt(path)
      if (Option.isSome(plain)) return Option.some<OpenedTranscript>({ file: plain.value, path, compressed: false })
    }
    const compressedPath = path.endsWith(ZST_SUFFIX) ? path : path + ZST_SUFFIX
    const compressed = yield* attempt(compressedPath)
    return Option.map(compressed, (file): OpenedTranscript => ({ file, path: compressedPath, compressed: true }))
  })
}

// ---------------------------------------------------------------------------------------------
// Byte sources: the transcript's (decompressed) bytes from `fromOffset` on, one chunk per pull

/** `undefined` = end of file; the bytes are valid until the next pull (a source may reuse its buffer) */
type NextBytes = Effect.Effect<Buffer | undefined, TranscriptReadError>

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)

const plainSource = (opened: OpenedTranscript, fromOffset: number, chunkSize: number) =>
  Effect.gen(function*() {
    const { file, path } = opened
    const info = yield* Effect.mapError(file.stat, (cause) => ioError(path, "stat", cause))
    const size = Number(info.size)
    if (size < fromOffset) return yield* truncatedError(path, size, fromOffset)
    // Two buffers, used in turn: while the caller splits one chunk, the next is read into the
    // other, so the file's bytes arrive while lines are parsed instead of between chunks. The
    // read is started with node's fs.read on the file's descriptor, at once: an Effect fiber
    // forked for it would only start once the caller yields, which is after the chunk is split.
    // Reused buffers, not one per read: a fresh buffer per read (readAlloc) lives outside the JS
    // heap until V8 collects its wrapper, and meanwhile dozens of 1 MiB blocks pile up in the C
    // heap (about 40 MB of a 200 MB import's peak RSS).
    const fd = Number(file.fd)
    const buffers = [Buffer.allocUnsafeSlow(chunkSize), Buffer.allocUnsafeSlow(chunkSize)] as const
    let turn = 0
    let position = fromOffset
    const startRead = (buffer: Buffer, at: number): Promise<number> => {
      const read = new Promise<number>((resolve, reject) =>
        nodeFs.read(fd, buffer, 0, buffer.length, at, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead)))
      )
      // a read still running when the stream is closed early fails on the closed descriptor: nobody waits for it
      read.catch(() => undefined)
      return read
    }
    let ahead: Promise<number> | undefined
    const next: NextBytes = Effect.gen(function*() {
      const pending = ahead ?? startRead(buffers[turn]!, position)
      ahead = undefined
      const bytesRead = yield* Effect.tryPromise({ try: () => pending, catch: (cause) => ioError(path, "read", cause) })
      if (bytesRead === 0) return undefined
      const chunk = buffers[turn]!.subarray(0, bytesRead)
      position += bytesRead
      turn = 1 - turn
      ahead = startRead(buffers[turn]!, position)
      return chunk
    })
    return next
  })

/**
 * Where the zstd stream is: before a frame (or skippable frame), inside a frame's blocks, or
 * before a frame's 4-byte checksum.
 */
type ZstdPhase =
  | { readonly at: "frame" }
  | { readonly at: "blocks"; readonly checksum: boolean }
  | { readonly at: "checksum" }

const ZSTD_MAGIC = 0xfd2fb528
const SKIPPABLE_MAGIC_MASK = 0xfffffff0
const SKIPPABLE_MAGIC = 0x184d2a50
const DICT_ID_BYTES = [0, 1, 2, 4] as const
const FRAME_CONTENT_SIZE_BYTES = [0, 2, 4, 8] as const

/**
 * The length of the next unit of a zstd stream (a frame header, a block, a checksum, a skippable
 * frame) starting at `at`, from its header alone; `undefined` when the header is not all there.
 * Invalid data gets the rest of the input, so the decompressor reports it.
 */
const nextZstdUnit = (
  bytes: Uint8Array,
  at: number,
  phase: ZstdPhase
): { readonly length: number; readonly next: ZstdPhase } | undefined => {
  const available = bytes.length - at
  const byte = (i: number) => bytes[at + i] ?? 0
  switch (phase.at) {
    case "frame": {
      if (available < 4) return undefined
      const magic = (byte(0) | (byte(1) << 8) | (byte(2) << 16) | (byte(3) << 24)) >>> 0
      if ((magic & SKIPPABLE_MAGIC_MASK) >>> 0 === SKIPPABLE_MAGIC) {
        if (available < 8) return undefined
        const size = (byte(4) | (byte(5) << 8) | (byte(6) << 16) | (byte(7) << 24)) >>> 0
        return { length: 8 + size, next: phase }
      }
      if (magic !== ZSTD_MAGIC) return { length: available, next: phase }
      if (available < 5) return undefined
      const descriptor = byte(4)
      const singleSegment = (descriptor >> 5) & 1
      const contentSizeFlag = descriptor >> 6
      const contentSizeBytes = contentSizeFlag === 0 ? singleSegment : (FRAME_CONTENT_SIZE_BYTES[contentSizeFlag] ?? 0)
      const length = 5 + (singleSegment ? 0 : 1) + (DICT_ID_BYTES[descriptor & 3] ?? 0) + contentSizeBytes
      return { length, next: { at: "blocks", checksum: ((descriptor >> 2) & 1) === 1 } }
    }
    case "blocks": {
      if (available < 3) return undefined
      const header = byte(0) | (byte(1) << 8) | (byte(2) << 16)
      const last = (header & 1) === 1
      const isRle = ((header >> 1) & 3) === 1
      const length = 3 + (isRle ? 1 : header >>> 3)
      const next: ZstdPhase = !last ? phase : phase.checksum ? { at: "checksum" } : { at: "frame" }
      return { length, next }
    }
    case "checksum":
      return { length: 4, next: { at: "frame" } }
  }
}

/**
 * The decompressor emits everything a push completes at once, and zstd can expand a few bytes
 * into megabytes (repetitive transcripts). So the compressed input is pushed one zstd unit at a
 * time: a block decodes to at most 128 KiB, which keeps each batch near `chunkSize`.
 */
const compressedSource = (opened: OpenedTranscript, fromOffset: number, chunkSize: number): NextBytes => {
  const { file, path } = opened
  let blocks: Array<Uint8Array> = []
  let blocksLength = 0
  const decompressor = new Decompress((block) => {
    if (block.length === 0) return
    blocks.push(block)
    blocksLength += block.length
  })
  /** decompressed bytes handed out or discarded so far */
  let produced = 0
  let input: Uint8Array = new Uint8Array(0)
  let inputPosition = 0
  let inputDone = false
  let phase: ZstdPhase = { at: "frame" }
  /** bytes of the current unit not pushed yet */
  let unitRemaining = 0

  const push = (slice: Uint8Array, final: boolean) =>
    Effect.try({
      try: () => decompressor.push(slice, final),
      catch: (cause) =>
        new TranscriptReadError({
          path,
          reason: "io",
          message: `cannot decompress ${path}: ${cause instanceof Error ? cause.message : String(cause)}`,
          cause
        })
    })

  /** the decompressed blocks collected so far, without the bytes before `fromOffset` */
  const takeBlocks = (): Buffer | undefined => {
    if (blocksLength === 0) return undefined
    const first = blocks[0]
    const joined = blocks.length === 1 && first !== undefined ? asBuffer(first) : Buffer.concat(blocks, blocksLength)
    blocks = []
    blocksLength = 0
    const start = produced
    produced += joined.length
    if (produced <= fromOffset) return undefined
    return start >= fromOffset ? joined : joined.subarray(fromOffset - start)
  }

  /** more compressed input, keeping what is left of the current input (a unit header may span reads) */
  const readInput = Effect.gen(function*() {
    const chunk = yield* Effect.mapError(file.readAlloc(chunkSize), (cause) => ioError(path, "read", cause))
    if (Option.isNone(chunk)) {
      inputDone = true
      yield* push(input.subarray(inputPosition), true)
      inputPosition = input.length
      return
    }
    input = inputPosition < input.length ? Buffer.concat([input.subarray(inputPosition), chunk.value]) : chunk.value
    inputPosition = 0
  })

  const next: NextBytes = Effect.gen(function*() {
    for (;;) {
      if (blocksLength >= chunkSize || (inputDone && blocksLength > 0)) {
        const ready = takeBlocks()
        if (ready !== undefined) return ready
      } else if (inputDone) {
        if (produced < fromOffset) return yield* truncatedError(path, produced, fromOffset)
        return undefined
      } else if (unitRemaining > 0 && inputPosition < input.length) {
        const end = Math.min(input.length, inputPosition + unitRemaining)
        yield* push(input.subarray(inputPosition, end), false)
        unitRemaining -= end - inputPosition
        inputPosition = end
      } else if (unitRemaining === 0) {
        const unit = nextZstdUnit(input, inputPosition, phase)
        if (unit === undefined) yield* readInput
        else {
          unitRemaining = unit.length
          phase = unit.next
        }
      } else {
        yield* readInput
      }
    }
  })
  return next
}

// ---------------------------------------------------------------------------------------------
// Line splitting: plain mutable state, no Effect per line

interface SplitState {
  /** absolute offset just past the last consumed line */
  offset: number
  /** bytes after `offset` that do not yet end with "\n" */
  pending: Array<Buffer>
  pendingLength: number
}

type OnLine = (text: string) => void

/** Hand over bytes [start, end) of `buf` (one line without its "\n") as text. */
const takeLine = (buf: Buffer, start: number, end: number, onLine: OnLine): void => {
  const stop = end > start && buf[end - 1] === CARRIAGE_RETURN ? end - 1 : end
  if (stop === start) return
  onLine(buf.toString("utf8", start, stop))
}

const takePending = (state: SplitState, tail: Buffer): Buffer => {
  const parts = state.pending
  parts.push(tail)
  const joined = Buffer.concat(parts, state.pendingLength + tail.length)
  state.pending = []
  state.pendingLength = 0
  return joined
}

/** the new end offset, or undefined when no line was consumed */
const movedOffset = (state: SplitState, previousOffset: number): number | undefined =>
  state.offset === previousOffset ? undefined : state.offset

/** Consume every complete line `chunk` finishes; keep the rest pending. */
const splitChunk = (state: SplitState, chunk: Buffer, onLine: OnLine): number | undefined => {
  const previousOffset = state.offset
  const chunkStart = state.offset + state.pendingLength
  let start = 0
  let newline = chunk.indexOf(NEWLINE, 0)
  if (newline !== -1 && state.pendingLength > 0) {
    const line = takePending(state, chunk.subarray(0, newline))
    takeLine(line, 0, line.length, onLine)
    start = newline + 1
    newline = chunk.indexOf(NEWLINE, start)
  }
  while (newline !== -1) {
    takeLine(chunk, start, newline, onLine)
    start = newline + 1
    newline = chunk.indexOf(NEWLINE, start)
  }
  if (start > 0) state.offset = chunkStart + start
  if (start < chunk.length) {
    // a copy: the source reuses its buffer for the next read
    state.pending.push(Buffer.from(chunk.subarray(start)))
    state.pendingLength += chunk.length - start
  }
  return movedOffset(state, previousOffset)
}

/** End of file: a finished transcript's last line counts even without its "\n". */
const finishSplit = (state: SplitState, final: boolean, onLine: OnLine): number | undefined => {
  if (!final || state.pendingLength === 0) return undefined
  const previousOffset = state.offset
  const consumed = state.pendingLength
  const line = takePending(state, Buffer.alloc(0))
  takeLine(line, 0, line.length, onLine)
  state.offset += consumed
  return movedOffset(state, previousOffset)
}

// ---------------------------------------------------------------------------------------------
// The stream

const scanTranscript = (
  fs: FileSystem.FileSystem,
  path: string,
  onLine: OnLine,
  options: ReadOptions = {}
): Stream.Stream<number, TranscriptReadError> => {
  const fromOffset = options.fromOffset ?? 0
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE
  const final = options.final ?? false
  if (!Number.isSafeInteger(fromOffset) || fromOffset < 0) {
    return Stream.dieMessage(`TranscriptParser.read: fromOffset must be a byte offset, got ${fromOffset}`)
  }
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
    return Stream.dieMessage(`TranscriptParser.read: chunkSize must be a positive integer, got ${chunkSize}`)
  }
  return Stream.unwrapScoped(
    Effect.gen(function*() {
      const opened = yield* openTranscript(fs, path)
      if (Option.isNone(opened)) {
        if (options.missingOk === true) return Stream.empty
        return yield* notFoundError(path)
      }
      const nextBytes = opened.value.compressed
        ? compressedSource(opened.value, fromOffset, chunkSize)
        : yield* plainSource(opened.value, fromOffset, chunkSize)
      const state: SplitState = { offset: fromOffset, pending: [], pendingLength: 0 }
      let done = false
      const nextBatch = Effect.gen(function*() {
        while (!done) {
          const bytes = yield* nextBytes
          if (bytes === undefined) done = true
          const endOffset = bytes === undefined ? finishSplit(state, final, onLine) : splitChunk(state, bytes, onLine)
          if (endOffset !== undefined) return Option.some<readonly [number, undefined]>([endOffset, undefined])
        }
        return Option.none()
      })
      return Stream.unfoldEffect(undefined, () => nextBatch)
    })
  )
}

/** Batches of decoded lines: each chunk's lines are collected until the scan emits its offset. */
const readTranscript = (
  fs: FileSystem.FileSystem,
  path: string,
  options?: ReadOptions
): Stream.Stream<TranscriptBatch, TranscriptReadError> =>
  Stream.suspend(() => {
    let lines: Array<RolloutLine> = []
    let malformed = 0
    const collect = (text: string) => {
      const decoded = decodeRolloutLine(text)
      if (decoded.kind === "malformed") malformed++
      else lines.push(decoded)
    }
    return Stream.map(scanTranscript(fs, path, collect, options), (endOffset): TranscriptBatch => {
      const batch = { lines, endOffset, malformed }
      lines = []
      malformed = 0
      return batch
    })
  })

export class TranscriptParser extends Effect.Service<TranscriptParser>()("trace-codex/TranscriptParser", {
  effect: Effect.map(
    FileSystem.FileSystem,
    (fs): TranscriptParserService => ({
      read: (path, options) => readTranscript(fs, path, options),
      scanLines: (path, onLine, options) => scanTranscript(fs, path, onLine, options)
    })
  )
}) {}

export interface TranscriptContents {
  readonly lines: ReadonlyArray<RolloutLine>
  readonly endOffset: number
  readonly malformed: number
}

/** The whole transcript (from `fromOffset`) in memory: for small files and tests. */
export const readAll = (
  path: string,
  options: ReadOptions = {}
): Effect.Effect<TranscriptContents, TranscriptReadError, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => {
    const lines: Array<RolloutLine> = []
    let endOffset = options.fromOffset ?? 0
    let malformed = 0
    return readTranscript(fs, path, options).pipe(
      Stream.runForEach((batch) =>
        Effect.sync(() => {
          for (const line of batch.lines) lines.push(line)
          endOffset = batch.endOffset
          malformed += batch.malformed
        })
      ),
      Effect.map((): TranscriptContents => ({ lines, endOffset, malformed }))
    )
  })
