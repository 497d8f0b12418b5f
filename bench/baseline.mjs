#!/usr/bin/env node
// The reference pass for the import bar: read a rollout in 1 MiB chunks, split on newlines,
// JSON.parse every line, nothing else. Run as its own process (by bench/run.mjs) so its wall
// time and peak RSS are measured exactly like `trace-codex import`.
//
//   node bench/baseline.mjs <file.jsonl>   → prints {"bytes","lines","types","parseMs"} on stdout

import * as fs from "node:fs"

const file = process.argv[2]
if (!file) {
  console.error("usage: node bench/baseline.mjs <file.jsonl>")
  process.exit(2)
}

const t0 = process.hrtime.bigint()
const fd = fs.openSync(file, "r")
const chunk = Buffer.allocUnsafe(1024 * 1024)
let carry = Buffer.alloc(0)
let bytes = 0
let lines = 0
let typed = 0 // use every parse result so none of the work can be skipped

// Split on the raw bytes (0x0A never occurs inside a UTF-8 multi-byte sequence) and decode each
// line on its own: measured faster here than decoding whole chunks and slicing strings.
const parse = (buf, start, end) => {
  if (end <= start) return
  const o = JSON.parse(buf.toString("utf8", start, end))
  lines++
  if (o !== null && typeof o.type === "string") typed++
}

for (;;) {
  const n = fs.readSync(fd, chunk, 0, chunk.length, null)
  if (n === 0) break
  bytes += n
  const buf = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n)
  let start = 0
  for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
    parse(buf, start, nl)
    start = nl + 1
  }
  carry = Buffer.from(buf.subarray(start)) // copy: `chunk` is reused by the next read
}
parse(carry, 0, carry.length) // a last line without a newline
fs.closeSync(fd)
const parseMs = Number(process.hrtime.bigint() - t0) / 1e6
process.stdout.write(JSON.stringify({ bytes, lines, types: typed, parseMs: +parseMs.toFixed(1) }) + "\n")
