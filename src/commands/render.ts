/**
 * Draws a span tree in the terminal for `trace-codex show`: names, durations, tokens, errors,
 * children in time order. Pure: rows in, text out.
 */
import type { SpanRow } from "../domain/SpanRow"

export interface RenderOptions {
  readonly color: boolean
}

const fmtDuration = (seconds: number): string => {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`
  if (seconds < 60) return `${seconds.toFixed(2)}s`
  const m = Math.floor(seconds / 60)
  return `${m}m${Math.round(seconds - m * 60)}s`
}

const plural = (n: number, noun: string): string => `${n.toLocaleString("en-US")} ${noun}${n === 1 ? "" : "s"}`

const fmtInt = (n: number): string => Math.round(n).toLocaleString("en-US")

const oneLine = (u: unknown, max: number): string => {
  const text = typeof u === "string" ? u : u === undefined || u === null ? "" : JSON.stringify(u)
  const flat = text.replace(/\s+/g, " ").trim()
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

const tokens = (m: SpanRow["metrics"]): string => {
  const p = m["prompt_tokens"]
  const c = m["completion_tokens"]
  if (p === undefined && c === undefined) return ""
  const cached = m["prompt_cached_tokens"]
  const reasoning = m["completion_reasoning_tokens"]
  return `${fmtInt(p ?? 0)} in${cached ? ` (${fmtInt(cached)} cached)` : ""} / ${fmtInt(c ?? 0)} out${reasoning ? ` (${fmtInt(reasoning)} reasoning)` : ""}`
}

/** Sums token metrics over the llm spans of a tree (for the header line). */
export const totalTokens = (rows: ReadonlyArray<SpanRow>): { prompt: number; completion: number; llmCalls: number } => {
  let prompt = 0
  let completion = 0
  let llmCalls = 0
  for (const r of rows) {
    if (r.span_attributes.type !== "llm") continue
    llmCalls++
    prompt += r.metrics["prompt_tokens"] ?? 0
    completion += r.metrics["completion_tokens"] ?? 0
  }
  return { prompt, completion, llmCalls }
}

export const renderTree = (rows: ReadonlyArray<SpanRow>, options: RenderOptions): string => {
  const paint = (code: string, s: string) => (options.color ? `\u001b[${code}m${s}\u001b[0m` : s)
  const ids = new Set(rows.map((r) => r.id))
  const children = new Map<string, Array<SpanRow>>()
  const roots: Array<SpanRow> = []
  for (const r of rows) {
    const parent = r.span_parents[0]
    if (parent === undefined || !ids.has(parent)) roots.push(r)
    else children.set(parent, [...(children.get(parent) ?? []), r])
  }
  for (const list of children.values()) list.sort((a, b) => a.metrics.start - b.metrics.start || a.metrics.end - b.metrics.end)
  const lines: Array<string> = []
  const draw = (row: SpanRow, prefix: string, last: boolean, top: boolean) => {
    const { name, type } = row.span_attributes
    const duration = fmtDuration(Math.max(0, row.metrics.end - row.metrics.start))
    const parts = [paint("1", name), paint("2", `${type} ${duration}`)]
    const tok = tokens(row.metrics)
    if (tok) parts.push(paint("36", tok))
    if (type === "task" && row.input !== undefined && !top) parts.push(paint("2", `“${oneLine(row.input, 60)}”`))
    if (type === "tool" && row.input !== undefined) parts.push(paint("2", oneLine(row.input, 60)))
    if (row.error !== undefined) parts.push(paint("31", `✗ ${oneLine(row.error, 100)}`))
    lines.push(`${top ? "" : `${prefix}${last ? "└─ " : "├─ "}`}${parts.join("  ")}`)
    const kids = children.get(row.id) ?? []
    const nextPrefix = top ? "" : `${prefix}${last ? "   " : "│  "}`
    kids.forEach((k, i) => draw(k, nextPrefix, i === kids.length - 1, false))
  }
  for (const root of roots) {
    const t = totalTokens(rows)
    draw(root, "", true, true)
    const meta = root.metadata
    const header = [
      `session ${String(meta["session_id"] ?? "?")}`,
      plural(rows.length, "span"),
      plural(t.llmCalls, "model call"),
      `${fmtInt(t.prompt)} prompt / ${fmtInt(t.completion)} completion tokens`,
      plural(rows.filter((r) => r.error !== undefined).length, "error")
    ].join(" · ")
    lines.push(paint("2", header))
  }
  return lines.join("\n")
}
