/**
 * The span-tree invariants of SPEC §6, as a checker over final rows: used by the golden tests
 * and by `trace-codex show --check`. Returns the list of violations (empty = a correct tree).
 */
import type { SpanRow } from "./SpanRow"

export const checkTreeInvariants = (rows: ReadonlyArray<SpanRow>): Array<string> => {
  const problems: Array<string> = []
  const byId = new Map<string, SpanRow>()
  for (const r of rows) {
    if (byId.has(r.id)) problems.push(`duplicate span id ${r.id} (${r.span_attributes.name})`)
    byId.set(r.id, r)
    if (r.id !== r.span_id) problems.push(`row id ${r.id} differs from span id ${r.span_id}`)
  }
  // the root is the one span whose parent is not in the trace (none, or a foreign span it attaches to)
  const roots = rows.filter((r) => r.span_parents.length === 0 || !byId.has(r.span_parents[0]!))
  if (roots.length !== 1) problems.push(`expected one root, found ${roots.length}: ${roots.map((r) => r.span_attributes.name).join(", ")}`)
  const rootIds = new Set(rows.map((r) => r.root_span_id))
  if (rootIds.size > 1) problems.push(`rows belong to ${rootIds.size} traces`)
  const EPS = 1e-6
  for (const r of rows) {
    const { start, end } = r.metrics
    const name = `${r.span_attributes.type} "${r.span_attributes.name}"`
    if (!Number.isFinite(start) || !Number.isFinite(end)) problems.push(`${name} lacks a start or end`)
    if (end + EPS < start) problems.push(`${name} ends before it starts`)
    const parentId = r.span_parents[0]
    if (parentId === undefined) continue
    const parent = byId.get(parentId)
    if (!parent) continue
    if (start + EPS < parent.metrics.start) problems.push(`${name} starts ${(parent.metrics.start - start).toFixed(3)}s before its parent "${parent.span_attributes.name}"`)
    if (end > parent.metrics.end + EPS) problems.push(`${name} ends ${(end - parent.metrics.end).toFixed(3)}s after its parent "${parent.span_attributes.name}"`)
  }
  return problems
}
