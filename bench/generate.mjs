#!/usr/bin/env node
// Synthetic but realistic big Codex 0.169 rollouts for the import benchmark.
//
// A generated file is one real session: the session_meta and the whole first turn (with its
// context lines) of the shell-tool fixture, followed by copies of real turns (task_started …
// task_complete) taken from several fixtures. Each copy gets fresh ids (turn, item, message,
// response, call ids), the header's thread/session id, shifted timestamps and times, continuing
// ordinals and history sequence numbers, and token totals that keep accumulating across copies.
//
// Nothing here parses and re-serializes copied lines: each template line is compiled once into
// literal text plus "slots" (an id, a timestamp, a token total, …) and a copy is rendered by
// concatenation, then written out in ~4 MB chunks (memory stays flat whatever the target size).
//
//   node bench/generate.mjs [--sizes 1,200] [--force]   generate (or reuse cached) files
//   node bench/generate.mjs --check <file.jsonl>...     validate files (streaming)
//
// Output: bench/data/<N>mb/rollout-<time>-<thread id>.jsonl + meta.json (cache key).

import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const HERE = path.dirname(fileURLToPath(import.meta.url))
const FIXTURES = path.resolve(HERE, "../fixtures/codex-0.169")
export const DATA_DIR = path.join(HERE, "data")
const MiB = 1024 * 1024

/** The scenario whose session_meta and first turn (with context lines) open every file. */
const HEADER = "shell-tool"
/** Turns used as copy templates: `<scenario>#<turn index in that rollout>`. */
const TEMPLATE_KEYS = [
  "shell-tool#0",
  "parallel-reasoning#0",
  "apply-patch#0",
  "tool-failure#0",
  "multi-turn#0",
  "multi-turn#1",
  "multi-turn#2",
  "compaction#0" // mid-turn auto compaction
]
/** Order in which templates are appended, cycled until the target size is reached. */
const CYCLE = [
  "shell-tool#0",
  "parallel-reasoning#0",
  "apply-patch#0",
  "multi-turn#1",
  "tool-failure#0",
  "shell-tool#0",
  "multi-turn#0",
  "parallel-reasoning#0",
  "apply-patch#0",
  "multi-turn#2",
  "shell-tool#0",
  "compaction#0"
]

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
const USAGE_KEYS = [
  "input_tokens",
  "cached_input_tokens",
  "cache_write_input_tokens",
  "output_tokens",
  "reasoning_output_tokens",
  "total_tokens"
]

// ---------------------------------------------------------------------------------------------
// Deterministic randomness and fresh ids

const mulberry32 = (seed) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
/** A bijection on 32-bit integers: distinct counters give distinct outputs. */
const mix32 = (x) => {
  x ^= x >>> 16
  x = Math.imul(x, 0x7feb352d)
  x ^= x >>> 15
  x = Math.imul(x, 0x846ca68b)
  x ^= x >>> 16
  return x >>> 0
}
const hex = (n, width) => n.toString(16).padStart(width, "0")

class IdFactory {
  constructor(seed) {
    this.rand = mulberry32(seed)
    this.counter = 0
  }
  r16() {
    return hex(Math.floor(this.rand() * 0x10000), 4)
  }
  /** unique suffix: 8 hex digits that never repeat within a file */
  unique() {
    return hex(mix32(++this.counter), 8)
  }
  /** UUIDv7 layout: 48-bit ms timestamp, version 7, variant 10xx */
  uuid7(ms) {
    const t = hex(ms, 12)
    const v = (8 + Math.floor(this.rand() * 4)).toString(16)
    return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${this.r16().slice(1)}-${v}${this.r16().slice(1)}-${this.r16()}${this.unique()}`
  }
  response(ms) {
    return `resp_${hex(ms, 12)}${this.r16()}${this.r16()}${this.unique()}`
  }
  call() {
    return `call_${this.r16()}${this.r16()}${this.r16()}${this.r16()}${this.unique()}`
  }
}

// ---------------------------------------------------------------------------------------------
// Fixtures → compiled templates

const rolloutOf = (scenario) => {
  const dir = path.join(FIXTURES, scenario, "rollouts/sessions/2026/11/22")
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".jsonl"))
  if (files.length !== 1) throw new Error(`expected one rollout in ${dir}, found ${files.length}`)
  return path.join(dir, files[0])
}

const usageOf = (obj) => USAGE_KEYS.map((k) => obj?.[k] ?? 0)
const usageJson = (vals) => "{" + USAGE_KEYS.map((k, i) => `"${k}":${vals[i]}`).join(",") + "}"

/** Split a fixture into turns and record what precedes each one (tokens, history sequence). */
const loadFixture = (scenario) => {
  const file = rolloutOf(scenario)
  const texts = fs.readFileSync(file, "utf8").split("\n").filter((l) => l.length > 0)
  const objs = texts.map((t) => JSON.parse(t))
  const meta = objs[0].payload
  const turns = []
  let open = null
  let tokens = [0, 0, 0, 0, 0, 0]
  let seq = 0
  objs.forEach((o, i) => {
    const p = o.payload
    if (o.type === "event_msg" && p.type === "task_started") {
      open = { start: i, tokBase: tokens, seqBefore: seq }
    }
    if (o.type === "token_usage_record") tokens = usageOf(p.thread_token_usage)
    if (o.type === "event_msg" && p.type === "token_count" && p.info) tokens = usageOf(p.info.total_token_usage)
    const hs = o.metadata?.history_sequence
    if (typeof hs === "number") seq = Math.max(seq, hs)
    if (o.type === "event_msg" && p.type === "task_complete" && open) {
      turns.push({ ...open, end: i, tokEnd: tokens })
      open = null
    }
  })
  return { scenario, file, texts, objs, threadId: meta.id, windowId: meta.context_window?.window_id, turns }
}

/** Context lines: what Codex writes at a thread's start before the first real prompt. */
const contextLineIndexes = (fx, turn) => {
  const out = new Set()
  for (let i = turn.start + 1; i < turn.end; i++) {
    const o = fx.objs[i]
    const p = o.payload
    if (o.type === "event_msg" && p.type === "item_completed" && p.item?.type === "UserMessage") break
    const isContextMessage =
      o.type === "response_item" &&
      p.type === "message" &&
      (p.role === "developer" || p.role === "user") &&
      !o.metadata?.retained_source
    if (isContextMessage || o.type === "world_state") out.add(i)
  }
  return out
}

/**
 * Compile one template line into literal strings and slots. The regex alternatives, in order:
 * envelope prefix, cumulative token totals, window ids, window number, unix-second times,
 * epoch-ms times, create_time (float seconds), history sequence numbers, any UUID, the fake
 * model's response ids, and the fixture's call ids.
 */
const compileLine = (text, fx) => {
  const calls = [...new Set(fx.objs.map((o) => o.payload?.call_id).filter((c) => typeof c === "string"))]
  const callAlt = calls.length ? "|(?<call>" + calls.map((c) => c.replace(/[^\w]/g, "\\$&")).join("|") + ")(?![\\w])" : ""
  const re = new RegExp(
    [
      `(?<env>^\\{"timestamp":"(?<ts>[^"]+)","ordinal":\\d+,)`,
      `"(?<tkey>thread_token_usage|total_token_usage)":(?<tobj>\\{[^{}]*\\})`,
      `"(?<wkey>first_window_id|previous_window_id|window_id)":"(?<wid>${UUID})"`,
      `"window_number":(?<wn>\\d+)`,
      `"(?<skey>started_at|completed_at)":(?<sv>\\d+)`,
      `"(?<mkey>started_at_ms|completed_at_ms)":(?<mv>\\d+)`,
      `"create_time":(?<cti>\\d+)(?<ctf>\\.\\d+)?`,
      `"(?<qkey>history_sequence|sampled_through_sequence)":(?<qv>\\d+)`,
      `(?<uuid>${UUID})`,
      `(?<resp>resp_fake_\\d+)`
    ].join("|") + callAlt,
    "g"
  )
  const parts = []
  let last = 0
  const lit = (s) => {
    if (s.length === 0) return
    if (typeof parts[parts.length - 1] === "string") parts[parts.length - 1] += s
    else parts.push(s)
  }
  for (const m of text.matchAll(re)) {
    const g = m.groups
    lit(text.slice(last, m.index))
    last = m.index + m[0].length
    if (g.env !== undefined) parts.push({ k: "env", ms: Date.parse(g.ts) })
    else if (g.tkey !== undefined) {
      lit(`"${g.tkey}":`)
      parts.push({ k: "tok", v: usageOf(JSON.parse(g.tobj)) })
    } else if (g.wkey !== undefined) {
      lit(`"${g.wkey}":"`)
      parts.push({ k: g.wkey === "window_id" ? "wnew" : g.wkey === "first_window_id" ? "wfirst" : "wprev", old: g.wid })
      lit(`"`)
    } else if (g.wn !== undefined) {
      lit(`"window_number":`)
      parts.push({ k: "wnum" })
    } else if (g.skey !== undefined) {
      lit(`"${g.skey}":`)
      parts.push({ k: "s", v: Number(g.sv) })
    } else if (g.mkey !== undefined) {
      lit(`"${g.mkey}":`)
      parts.push({ k: "ms", v: Number(g.mv) })
    } else if (g.cti !== undefined) {
      lit(`"create_time":`)
      parts.push({ k: "ct", i: Number(g.cti), f: g.ctf ?? "" })
    } else if (g.qkey !== undefined) {
      lit(`"${g.qkey}":`)
      parts.push({ k: "seq", v: Number(g.qv) })
    } else if (g.uuid !== undefined) parts.push(g.uuid === fx.threadId ? { k: "thread" } : { k: "id", old: g.uuid })
    else if (g.resp !== undefined) parts.push({ k: "resp", old: g.resp })
    else if (g.call !== undefined) parts.push({ k: "call", old: g.call })
  }
  lit(text.slice(last) + "\n")
  return parts
}

const compileTemplate = (fx, turnIndex, keepContext) => {
  const turn = fx.turns[turnIndex]
  if (!turn) throw new Error(`${fx.scenario} has no turn ${turnIndex}`)
  const skip = keepContext ? new Set() : contextLineIndexes(fx, turn)
  // every scenario ran in its own folder; make copies look like one workspace
  const samePlace = (t) => t.split(`/codex-run/${fx.scenario}/`).join(`/codex-run/${HEADER}/`)
  const lines = []
  let seqBase = turn.seqBefore
  let seqMax = turn.seqBefore
  for (let i = turn.start; i <= turn.end; i++) {
    const hs = fx.objs[i].metadata?.history_sequence
    if (skip.has(i)) {
      if (typeof hs === "number") seqBase = Math.max(seqBase, hs)
      continue
    }
    if (typeof hs === "number") seqMax = Math.max(seqMax, hs)
    lines.push(compileLine(samePlace(fx.texts[i]), fx))
  }
  const tsOf = (i) => Date.parse(fx.objs[i].timestamp)
  return {
    key: `${fx.scenario}#${turnIndex}`,
    lines,
    startMs: tsOf(turn.start),
    endMs: tsOf(turn.end),
    tokBase: turn.tokBase,
    tokDelta: turn.tokEnd.map((v, i) => v - turn.tokBase[i]),
    seqBase,
    seqDelta: seqMax - seqBase
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering

const isoOf = (ms) => new Date(ms).toISOString()

/** Render one copy of a template into a string, advancing the running state. */
const renderCopy = (tpl, st, deltaMs, ids) => {
  const map = new Map()
  const deltaS = deltaMs / 1000 // deltaMs is a whole number of seconds
  const fresh = (kind, old) => {
    let v = map.get(old)
    if (v === undefined) {
      const ms = tpl.startMs + deltaMs
      v = kind === "resp" ? ids.response(ms) : kind === "call" ? ids.call() : ids.uuid7(ms)
      map.set(old, v)
    }
    return v
  }
  let out = ""
  for (const parts of tpl.lines) {
    for (const p of parts) {
      if (typeof p === "string") {
        out += p
        continue
      }
      switch (p.k) {
        case "env":
          out += `{"timestamp":"${isoOf(p.ms + deltaMs)}","ordinal":${st.ordinal++},`
          break
        case "thread":
          out += st.threadId
          break
        case "id":
          out += fresh("id", p.old)
          break
        case "resp":
          out += fresh("resp", p.old)
          break
        case "call":
          out += fresh("call", p.old)
          break
        case "s":
          out += p.v + deltaS
          break
        case "ms":
          out += p.v + deltaMs
          break
        case "ct":
          out += p.i + deltaS + p.f
          break
        case "seq":
          out += Math.max(0, p.v - tpl.seqBase + st.seq)
          break
        case "tok":
          out += usageJson(p.v.map((v, i) => v - tpl.tokBase[i] + st.tokens[i]))
          break
        case "wfirst":
          out += st.firstWindow
          break
        case "wprev":
          out += st.window
          break
        case "wnew":
          st.window = fresh("id", p.old)
          out += st.window
          break
        case "wnum":
          out += ++st.windowNumber
          break
      }
    }
  }
  st.tokens = st.tokens.map((v, i) => v + tpl.tokDelta[i])
  st.seq += tpl.seqDelta
  st.lastMs = tpl.endMs + deltaMs
  st.turns++
  return out
}

// ---------------------------------------------------------------------------------------------
// Generation with caching

let compiled
const compileAll = () => {
  if (compiled) return compiled
  const fixtures = new Map()
  const fx = (s) => {
    if (!fixtures.has(s)) fixtures.set(s, loadFixture(s))
    return fixtures.get(s)
  }
  const header = fx(HEADER)
  const templates = new Map()
  for (const key of TEMPLATE_KEYS) {
    const [scenario, turn] = key.split("#")
    templates.set(key, compileTemplate(fx(scenario), Number(turn), false))
  }
  const headerTurn = compileTemplate(header, 0, true)
  compiled = { header, headerTurn, templates, fixtures }
  return compiled
}

/** Cache key: this file plus every fixture it reads. */
export const generatorHash = () => {
  const { fixtures } = compileAll()
  const h = createHash("sha256").update(fs.readFileSync(fileURLToPath(import.meta.url)))
  for (const fx of [...fixtures.values()].sort((a, b) => a.file.localeCompare(b.file))) {
    h.update(fx.file).update(fs.readFileSync(fx.file))
  }
  return h.digest("hex").slice(0, 16)
}

const labelOf = (sizeMb) => `${sizeMb}mb`

/**
 * Write a rollout of about `sizeMb` MiB (whole turns; it stops after the turn that crosses the
 * target) to `outFile`. Returns stats.
 */
export const generate = (sizeMb, outFile) => {
  const { header, headerTurn, templates } = compileAll()
  const target = Math.round(sizeMb * MiB)
  const seed = createHash("sha256").update(`trace-codex-bench-${labelOf(sizeMb)}`).digest()
  const ids = new IdFactory(seed.readUInt32LE(0))
  const rand = mulberry32(seed.readUInt32LE(4))
  const metaTs = Date.parse(header.objs[0].payload.timestamp)
  const threadId = ids.uuid7(metaTs)
  const firstWindow = ids.uuid7(metaTs + 2)

  const st = {
    ordinal: 0,
    threadId,
    firstWindow,
    window: firstWindow,
    windowNumber: 0,
    tokens: [0, 0, 0, 0, 0, 0],
    seq: 0,
    lastMs: 0,
    turns: 0
  }

  const tmp = outFile + ".tmp"
  const fd = fs.openSync(tmp, "w")
  let written = 0
  let pending = []
  let pendingBytes = 0
  const emit = (s) => {
    const n = Buffer.byteLength(s)
    pending.push(s)
    pendingBytes += n
    if (pendingBytes >= 4 * MiB) flush()
    return n
  }
  const flush = () => {
    if (pending.length === 0) return
    const buf = Buffer.from(pending.join(""))
    let off = 0
    while (off < buf.length) off += fs.writeSync(fd, buf, off)
    written += buf.length
    pending = []
    pendingBytes = 0
  }
  let total = 0
  try {
    // session_meta: the header fixture's, with our thread and window ids
    const metaLine = header.texts[0]
      .split(header.threadId)
      .join(threadId)
      .split(header.windowId)
      .join(firstWindow)
    if (!metaLine.startsWith('{"timestamp":') || !metaLine.includes('"ordinal":0,')) throw new Error("unexpected session_meta")
    st.ordinal = 1
    total += emit(metaLine + "\n")
    total += emit(renderCopy(headerTurn, st, 0, ids))
    const mix = {}
    for (let i = 0; total < target; i++) {
      const tpl = templates.get(CYCLE[i % CYCLE.length])
      const gapMs = 3000 + Math.floor(rand() * 40000) // the user reads, thinks, types
      const deltaMs = Math.ceil((st.lastMs + gapMs - tpl.startMs) / 1000) * 1000
      total += emit(renderCopy(tpl, st, deltaMs, ids))
      mix[tpl.key] = (mix[tpl.key] ?? 0) + 1
    }
    flush()
    fs.fsyncSync(fd)
    fs.closeSync(fd)
    fs.renameSync(tmp, outFile)
    return { bytes: written, lines: st.ordinal, turns: st.turns, threadId, mix }
  } catch (e) {
    try {
      fs.closeSync(fd)
    } catch {}
    fs.rmSync(tmp, { force: true })
    throw e
  }
}

/**
 * The cached rollout for `sizeMb`, generated if missing or if the generator (or a fixture)
 * changed since it was written. Returns { path, bytes, lines, turns, generated, seconds }.
 */
export const ensureRollout = (sizeMb, { force = false, log = () => {} } = {}) => {
  const dir = path.join(DATA_DIR, labelOf(sizeMb))
  const metaFile = path.join(dir, "meta.json")
  const hash = generatorHash()
  if (!force && fs.existsSync(metaFile)) {
    try {
      const meta = JSON.parse(fs.readFileSync(metaFile, "utf8"))
      const file = path.join(dir, meta.file)
      if (meta.hash === hash && meta.sizeMb === sizeMb && fs.existsSync(file) && fs.statSync(file).size === meta.bytes) {
        return { ...meta, path: file, generated: false }
      }
    } catch {}
  }
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(dir, { recursive: true })
  log(`generating ${labelOf(sizeMb)} rollout …`)
  const t0 = process.hrtime.bigint()
  const { header } = compileAll()
  // name it like Codex does: rollout-<creation time>-<thread id>.jsonl
  const probe = path.basename(header.file).replace(header.threadId, "THREAD")
  const tmpName = path.join(dir, "generating.jsonl")
  const stats = generate(sizeMb, tmpName)
  const file = probe.replace("THREAD", stats.threadId)
  fs.renameSync(tmpName, path.join(dir, file))
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  const meta = { hash, sizeMb, file, ...stats, generatedAt: new Date().toISOString(), seconds: +seconds.toFixed(2) }
  fs.writeFileSync(metaFile, JSON.stringify(meta, null, 2) + "\n")
  log(`generated ${file}: ${(stats.bytes / MiB).toFixed(1)} MiB, ${stats.lines} lines, ${stats.turns} turns in ${seconds.toFixed(1)} s`)
  return { ...meta, path: path.join(dir, file), generated: true }
}

// ---------------------------------------------------------------------------------------------
// Validation (streaming): the properties the generator promises

export const checkRollout = async (file) => {
  const errors = []
  const fail = (msg) => {
    if (errors.length < 20) errors.push(msg)
  }
  const seen = {
    turn: new Set(),
    response: new Set(),
    call: new Set(),
    item: new Set(),
    completed: new Set(),
    window: new Set()
  }
  const unique = (kind, v, where) => {
    if (typeof v !== "string") return
    if (seen[kind].has(v)) fail(`${where}: duplicate ${kind} id ${v}`)
    seen[kind].add(v)
  }
  let n = 0
  let lastTs = ""
  let threadId
  let windowId
  let firstWindow
  let running = [0, 0, 0, 0, 0, 0]
  let turnRunning = [0, 0, 0, 0, 0, 0]
  let currentTurn = null
  let lastSeq = 0
  let turns = 0
  let llmCalls = 0
  let toolCalls = 0
  const same = (a, b) => a.every((v, i) => v === b[i])

  const onLine = (text) => {
    const where = `line ${n + 1}`
    let o
    try {
      o = JSON.parse(text)
    } catch (e) {
      fail(`${where}: does not parse (${e.message})`)
      n++
      return
    }
    if (o.ordinal !== n) {
      fail(`${where}: ordinal ${o.ordinal}, expected ${n}`)
      if (Number.isInteger(o.ordinal)) n = o.ordinal // report each gap once
    }
    if (typeof o.timestamp !== "string" || o.timestamp < lastTs) fail(`${where}: timestamp ${o.timestamp} goes back`)
    lastTs = o.timestamp
    const p = o.payload ?? {}
    if (n === 0) {
      if (o.type !== "session_meta") fail("line 1 is not session_meta")
      threadId = p.id
      firstWindow = windowId = p.context_window?.window_id
      n++
      return
    }
    for (const k of ["thread_id", "session_id"]) {
      if (k in p && p[k] !== threadId) fail(`${where}: ${k} ${p[k]} is not the session's ${threadId}`)
    }
    const turnOf = p.turn_id ?? p.internal_chat_message_metadata_passthrough?.turn_id
    const opening = o.type === "event_msg" && p.type === "task_started"
    if (!opening && turnOf !== undefined && turnOf !== currentTurn) fail(`${where}: turn ${turnOf} outside its turn (${currentTurn})`)
    const hs = o.metadata?.history_sequence
    if (o.type === "response_item" && typeof hs === "number") {
      if (hs <= lastSeq) fail(`${where}: history_sequence ${hs} after ${lastSeq}`)
      lastSeq = hs
    }
    if (o.type === "event_msg" && p.type === "task_started") {
      if (currentTurn !== null) fail(`${where}: task_started inside turn ${currentTurn}`)
      currentTurn = p.turn_id
      if (p.root_turn_id !== p.turn_id || p.turn_attribution?.turn_id !== p.turn_id) fail(`${where}: turn ids disagree`)
      unique("turn", p.turn_id, where)
      turnRunning = [0, 0, 0, 0, 0, 0]
      turns++
    } else if (o.type === "event_msg" && p.type === "task_complete") {
      if (p.turn_id !== currentTurn) fail(`${where}: task_complete for ${p.turn_id}, open turn ${currentTurn}`)
      currentTurn = null
    } else if (o.type === "token_usage_record") {
      llmCalls++
      unique("response", p.response_id, where)
      running = running.map((v, i) => v + usageOf(p.usage)[i])
      turnRunning = turnRunning.map((v, i) => v + usageOf(p.usage)[i])
      if (!same(usageOf(p.thread_token_usage), running)) fail(`${where}: thread_token_usage does not accumulate`)
      if (!same(usageOf(p.turn_token_usage), turnRunning)) fail(`${where}: turn_token_usage does not accumulate`)
    } else if (o.type === "event_msg" && p.type === "token_count") {
      if (p.info && !same(usageOf(p.info.total_token_usage), running)) fail(`${where}: token_count total is not the running sum`)
    } else if (o.type === "response_item") {
      if (p.type === "function_call" || p.type === "custom_tool_call") {
        toolCalls++
        unique("call", p.call_id, where)
      }
      if ((p.type === "function_call_output" || p.type === "custom_tool_call_output") && !seen.call.has(p.call_id)) {
        fail(`${where}: output for unknown call ${p.call_id}`)
      }
      unique("item", p.id, where)
    } else if (o.type === "event_msg" && p.type === "item_completed") {
      unique("completed", p.item?.id, where)
    } else if (o.type === "compacted") {
      if (p.first_window_id !== firstWindow) fail(`${where}: first_window_id is not the session's`)
      if (p.previous_window_id !== windowId) fail(`${where}: previous_window_id does not chain`)
      unique("window", p.window_id, where)
      windowId = p.window_id
    }
    n++
  }

  const fd = fs.openSync(file, "r")
  const chunk = Buffer.allocUnsafe(MiB)
  let carry = Buffer.alloc(0)
  let bytes = 0
  for (;;) {
    const got = fs.readSync(fd, chunk, 0, chunk.length, null)
    if (got === 0) break
    bytes += got
    let buf = carry.length ? Buffer.concat([carry, chunk.subarray(0, got)]) : chunk.subarray(0, got)
    let start = 0
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      onLine(buf.toString("utf8", start, nl))
      start = nl + 1
    }
    carry = Buffer.from(buf.subarray(start))
  }
  fs.closeSync(fd)
  if (carry.length) fail("file does not end with a newline")
  if (currentTurn !== null) fail(`last turn ${currentTurn} has no task_complete`)
  return { file, bytes, lines: n, turns, llmCalls, toolCalls, compactions: seen.window.size, ok: errors.length === 0, errors }
}

// ---------------------------------------------------------------------------------------------
// CLI

const main = async () => {
  const args = process.argv.slice(2)
  if (args[0] === "--check") {
    let ok = true
    for (const f of args.slice(1)) {
      const r = await checkRollout(f)
      ok &&= r.ok
      const { errors, ...rest } = r
      console.log(JSON.stringify(rest))
      for (const e of errors) console.log("  " + e)
    }
    process.exit(ok ? 0 : 1)
  }
  const i = args.indexOf("--sizes")
  const sizes = (i >= 0 ? args[i + 1] : "1,200").split(",").map(Number)
  if (sizes.some((s) => !(s > 0))) throw new Error("--sizes takes a comma-separated list of MiB, e.g. 1,50,100,200")
  for (const s of sizes) {
    const r = ensureRollout(s, { force: args.includes("--force"), log: (m) => console.error(m) })
    console.log(`${r.path}\t${r.bytes} bytes\t${r.lines} lines\t${r.turns} turns${r.generated ? "" : "\t(cached)"}`)
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e)
    process.exit(1)
  })
}
