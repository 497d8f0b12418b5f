/**
 * Rewrites a JSON text to hold a new value while keeping every part that did not change byte
 * for byte: other tools' entries keep their layout, and a diff of our edit shows only our
 * lines. Containers are rebuilt from the original's own separators and indentation; values
 * that changed are rendered in the file's style. If the result does not parse back to the new
 * value (it always should), a plain re-render is used instead.
 */
import { deepEqual, type TextStyle } from "./hooksFile"

type Node =
  | { readonly kind: "object"; readonly start: number; readonly end: number; readonly members: ReadonlyArray<Member> }
  | { readonly kind: "array"; readonly start: number; readonly end: number; readonly items: ReadonlyArray<Node> }
  | { readonly kind: "scalar"; readonly start: number; readonly end: number }

interface Member {
  readonly key: string
  readonly keyStart: number
  readonly keyEnd: number
  readonly value: Node
}

/** positions of every value in an already valid JSON text */
const parseTree = (text: string): Node => {
  let pos = 0
  const ws = () => {
    while (pos < text.length && " \t\n\r".includes(text[pos]!)) pos++
  }
  const string = (): void => {
    pos++
    while (text[pos] !== '"') pos += text[pos] === "\\" ? 2 : 1
    pos++
  }
  const value = (): Node => {
    ws()
    const start = pos
    const c = text[pos]
    if (c === "{") {
      pos++
      const members: Array<Member> = []
      ws()
      while (text[pos] !== "}") {
        ws()
        const keyStart = pos
        string()
        const keyEnd = pos
        ws()
        pos++ // ':'
        const v = value()
        members.push({ key: String(JSON.parse(text.slice(keyStart, keyEnd))), keyStart, keyEnd, value: v })
        ws()
        if (text[pos] === ",") pos++
        ws()
      }
      pos++
      return { kind: "object", start, end: pos, members }
    }
    if (c === "[") {
      pos++
      const items: Array<Node> = []
      ws()
      while (text[pos] !== "]") {
        items.push(value())
        ws()
        if (text[pos] === ",") pos++
        ws()
      }
      pos++
      return { kind: "array", start, end: pos, items }
    }
    if (c === '"') string()
    else while (pos < text.length && !",]} \t\n\r".includes(text[pos]!)) pos++
    return { kind: "scalar", start, end: pos }
  }
  return value()
}

const isObject = (v: unknown): v is Readonly<Record<string, unknown>> => typeof v === "object" && v !== null && !Array.isArray(v)

/** the indentation of the line `at` is on */
const lineIndent = (text: string, at: number): string => {
  const lineStart = text.lastIndexOf("\n", at - 1) + 1
  return /^[ \t]*/.exec(text.slice(lineStart))?.[0] ?? ""
}

export const rewriteJsonText = (text: string, value: unknown, style: TextStyle): string => {
  const unit = typeof style.indent === "number" ? " ".repeat(style.indent) : style.indent
  const fallback = () => {
    const json = JSON.stringify(value, null, style.indent).replace(/\n/g, style.newline)
    return style.finalNewline ? json + style.newline : json
  }
  let root: Node
  try {
    root = parseTree(text)
  } catch {
    return fallback()
  }
  const valueOf = (node: Node): unknown => JSON.parse(text.slice(node.start, node.end))

  /** a new value, laid out for a line indented by `indent` (one line when `multiline` is false) */
  const fresh = (v: unknown, indent: string, multiline: boolean): string =>
    multiline && unit !== "" ? JSON.stringify(v, null, unit).split("\n").join(style.newline + indent) : JSON.stringify(v)

  /** whitespace after the opening bracket, between elements, before the closing one */
  const layout = (node: Node & { kind: "object" | "array" }, starts: ReadonlyArray<number>, ends: ReadonlyArray<number>) => {
    const indent = lineIndent(text, node.start)
    if (starts.length === 0) {
      const lead = unit === "" ? "" : style.newline + indent + unit
      return { lead, sep: "," + lead, trail: unit === "" ? "" : style.newline + indent }
    }
    const lead = text.slice(node.start + 1, starts[0])
    const trail = text.slice(ends[ends.length - 1], node.end - 1)
    const sep = starts.length > 1 ? text.slice(ends[0], starts[1]) : "," + lead
    return { lead, sep, trail }
  }

  const render = (node: Node | undefined, v: unknown, indent: string, multiline: boolean): string => {
    if (node !== undefined && deepEqual(valueOf(node), v)) return text.slice(node.start, node.end)
    if (node?.kind === "object" && isObject(v)) {
      const { lead, sep, trail } = layout(node, node.members.map((m) => m.keyStart), node.members.map((m) => m.value.end))
      const childIndent = lead.includes("\n") ? lead.slice(lead.lastIndexOf("\n") + 1) : indent
      const childMultiline = lead.includes("\n")
      const colon = node.members[0] !== undefined ? text.slice(node.members[0].keyEnd, node.members[0].value.start) : unit === "" ? ":" : ": "
      const parts = Object.entries(v).map(([key, child]) => {
        const old = node.members.find((m) => m.key === key)
        const keyText = old !== undefined ? text.slice(old.keyStart, old.keyEnd) : JSON.stringify(key)
        const between = old !== undefined ? text.slice(old.keyEnd, old.value.start) : colon
        return keyText + between + render(old?.value, child, childIndent, childMultiline)
      })
      return parts.length === 0 ? "{}" : "{" + lead + parts.join(sep) + trail + "}"
    }
    if (node?.kind === "array" && Array.isArray(v)) {
      const { lead, sep, trail } = layout(node, node.items.map((i) => i.start), node.items.map((i) => i.end))
      const childIndent = lead.includes("\n") ? lead.slice(lead.lastIndexOf("\n") + 1) : indent
      const parts = alignItems(node.items, v).map(([old, child]) => render(old, child, childIndent, lead.includes("\n")))
      return parts.length === 0 ? "[]" : "[" + lead + parts.join(sep) + trail + "]"
    }
    return fresh(v, indent, multiline)
  }

  /**
   * Pairs each new element with the old element it continues: equal ones first (in order), then,
   * between two equal pairs, changed elements position by position.
   */
  const alignItems = (old: ReadonlyArray<Node>, next: ReadonlyArray<unknown>): Array<[Node | undefined, unknown]> => {
    const oldValues = old.map(valueOf)
    const n = old.length
    const m = next.length
    const lcs: Array<Array<number>> = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0))
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i]![j] = deepEqual(oldValues[i], next[j]) ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!)
      }
    }
    const pairs: Array<[Node | undefined, unknown]> = []
    // old elements dropped since the last equal pair: a changed element may continue one of them
    let pendingOld: Array<Node> = []
    let i = 0
    let j = 0
    while (i < n || j < m) {
      if (i < n && j < m && deepEqual(oldValues[i], next[j])) {
        pendingOld = []
        pairs.push([old[i], next[j]])
        i++
        j++
        continue
      }
      if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
        pendingOld.push(old[i]!)
        i++
      } else {
        // a new element: pair it with a changed old one at the same place, if any
        pairs.push([pendingOld.shift(), next[j]])
        j++
      }
    }
    return pairs
  }

  const rendered = text.slice(0, root.start) + render(root, value, lineIndent(text, root.start), unit !== "") + text.slice(root.end)
  try {
    if (deepEqual(JSON.parse(rendered), value)) return rendered
  } catch {
    // fall through
  }
  return fallback()
}
