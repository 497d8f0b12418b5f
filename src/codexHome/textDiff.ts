/**
 * A unified diff of two small text files (what `install --dry-run` and `uninstall --dry-run`
 * show): longest common subsequence of lines, hunks with three lines of context.
 */

type Op = { readonly kind: " " | "-" | "+"; readonly line: string }

const MAX_CELLS = 4_000_000

const lineOps = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): Array<Op> | undefined => {
  const n = a.length
  const m = b.length
  if ((n + 1) * (m + 1) > MAX_CELLS) return undefined
  // lcs[i][j] = length of the LCS of a[i..] and b[j..]
  const lcs = new Uint32Array((n + 1) * (m + 1))
  const at = (i: number, j: number) => i * (m + 1) + j
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[at(i, j)] = a[i] === b[j] ? lcs[at(i + 1, j + 1)]! + 1 : Math.max(lcs[at(i + 1, j)]!, lcs[at(i, j + 1)]!)
    }
  }
  const ops: Array<Op> = []
  let i = 0
  let j = 0
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ kind: " ", line: a[i]! })
      i++
      j++
    } else if (i < n && (j === m || lcs[at(i + 1, j)]! >= lcs[at(i, j + 1)]!)) {
      ops.push({ kind: "-", line: a[i]! })
      i++
    } else {
      ops.push({ kind: "+", line: b[j]! })
      j++
    }
  }
  return ops
}

const splitLines = (text: string): Array<string> => (text === "" ? [] : text.replace(/\r?\n$/, "").split(/\r?\n/))

/** `--- <from>` / `+++ <to>` and the hunks; empty when the texts are equal */
export const unifiedDiff = (before: string, after: string, names: { readonly from: string; readonly to: string }, context = 3): string => {
  if (before === after) return ""
  const a = splitLines(before)
  const b = splitLines(after)
  const ops = lineOps(a, b)
  const header = `--- ${names.from}\n+++ ${names.to}\n`
  if (ops === undefined) return `${header}@@ file too large to diff: ${a.length} → ${b.length} lines @@\n`
  const changed = ops.flatMap((op, k) => (op.kind === " " ? [] : [k]))
  if (changed.length === 0) return `${header}@@ only line endings differ @@\n`
  // group changes whose context overlaps into hunks
  const hunks: Array<[number, number]> = []
  for (const k of changed) {
    const last = hunks.at(-1)
    if (last !== undefined && k - last[1] <= 2 * context) last[1] = k
    else hunks.push([k, k])
  }
  let out = header
  for (const [first, last] of hunks) {
    const start = Math.max(0, first - context)
    const end = Math.min(ops.length - 1, last + context)
    let oldLine = 1
    let newLine = 1
    for (let k = 0; k < start; k++) {
      if (ops[k]!.kind !== "+") oldLine++
      if (ops[k]!.kind !== "-") newLine++
    }
    const slice = ops.slice(start, end + 1)
    const oldCount = slice.filter((op) => op.kind !== "+").length
    const newCount = slice.filter((op) => op.kind !== "-").length
    out += `@@ -${oldCount === 0 ? oldLine - 1 : oldLine},${oldCount} +${newCount === 0 ? newLine - 1 : newLine},${newCount} @@\n`
    for (const op of slice) out += `${op.kind}${op.line}\n`
  }
  return out
}
