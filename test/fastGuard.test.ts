/**
 * fastIs (src/domain/fastGuard.ts) must answer exactly as Schema.is does, for every schema a
 * rollout line is checked against and for any value: the captures' records, values generated
 * from each schema, each of those with one field removed or replaced by a value of another
 * kind, and arbitrary JSON.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Arbitrary from "effect/Arbitrary"
import * as FastCheck from "effect/FastCheck"
import * as Schema from "effect/Schema"
import * as fs from "node:fs"
import * as path from "node:path"
import { fastIs } from "../src/domain/fastGuard"
import * as Rollout from "../src/domain/Rollout"
import { FIXTURES, rolloutFiles, SCENARIOS } from "./support/fixtures"

/** every schema Rollout.ts exports */
const SCHEMAS = Object.entries(Rollout).flatMap(([name, value]) => (Schema.isSchema(value) ? [[name, value as Schema.Schema<unknown, unknown, never>] as const] : []))

/** the records of the captures, and every object and array inside them */
const captured = (): Array<unknown> => {
  const out: Array<unknown> = []
  const visit = (u: unknown) => {
    if (typeof u !== "object" || u === null) return
    out.push(u)
    for (const v of Array.isArray(u) ? u : Object.values(u)) visit(v)
  }
  const files = [
    ...SCENARIOS.flatMap((s) => rolloutFiles(s)),
    ...fs.readdirSync(path.join(FIXTURES, "..", "legacy")).filter((f) => f.endsWith(".jsonl")).map((f) => path.join(FIXTURES, "..", "legacy", f))
  ]
  for (const file of files) {
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
      try {
        visit(JSON.parse(line))
      } catch {
        // a truncated line: nothing to compare
      }
    }
  }
  return out
}

const OTHER_KINDS: ReadonlyArray<unknown> = [null, undefined, 0, -1.5, Number.NaN, "", "text", true, false, [], [1, "a"], {}, { type: "message" }]

/** the value itself, then with each own key removed, then each key replaced by each other kind */
const variants = (value: unknown): Array<unknown> => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [value]
  const record = value as Record<string, unknown>
  const out: Array<unknown> = [value]
  for (const key of Object.keys(record)) {
    const { [key]: _removed, ...rest } = record
    out.push(rest)
    for (const other of OTHER_KINDS) out.push({ ...record, [key]: other })
  }
  return out
}

describe("fastIs answers as Schema.is", () => {
  it(`covers the schemas (${SCHEMAS.length})`, () => {
    expect(SCHEMAS.length).toBeGreaterThan(20)
  })

  const records = captured()

  it.each(SCHEMAS)("%s: on every record of the captures and its variants", (_, schema) => {
    const slow = Schema.is(schema)
    const fast = fastIs(schema)
    for (const record of records) {
      for (const value of variants(record)) expect(fast(value), JSON.stringify(value)?.slice(0, 300)).toBe(slow(value))
    }
  })

  it("the captures hold real instances of the main schemas, so the comparison above is not all 'no'", () => {
    const main = ["SessionMeta", "TurnContext", "MessageItem", "FunctionCallItem", "FunctionCallOutputItem", "ReasoningItem", "TokenCount", "TaskStarted", "TaskComplete", "ItemCompleted", "TokenUsageRecord", "Compacted"]
    const found = main.filter((name) => {
      const schema = SCHEMAS.find(([n]) => n === name)?.[1]
      return schema !== undefined && records.some((record) => fastIs(schema)(record))
    })
    expect(found).toEqual(main)
  })

  it.each(SCHEMAS)("%s: on generated instances, their variants and arbitrary JSON", (_, schema) => {
    const slow = Schema.is(schema)
    const fast = fastIs(schema)
    const generated = FastCheck.sample(Arbitrary.make(schema), { numRuns: 60, seed: 42 })
    for (const value of generated) {
      expect(slow(value)).toBe(true)
      for (const variant of variants(value)) expect(fast(variant), JSON.stringify(variant)?.slice(0, 300)).toBe(slow(variant))
    }
    for (const value of FastCheck.sample(FastCheck.jsonValue(), { numRuns: 200, seed: 7 })) expect(fast(value)).toBe(slow(value))
  })

  it("a recursive schema, a refinement and a record with string keys", () => {
    interface Tree {
      readonly name: string
      readonly children: ReadonlyArray<Tree>
    }
    const Tree: Schema.Schema<Tree> = Schema.Struct({ name: Schema.String, children: Schema.Array(Schema.suspend(() => Tree)) })
    const Positive = Schema.Struct({ n: Schema.Number.pipe(Schema.positive()), tags: Schema.Record({ key: Schema.String, value: Schema.String }) })
    const cases: Array<[Schema.Schema<any>, unknown]> = [
      [Tree, { name: "a", children: [{ name: "b", children: [] }] }],
      [Tree, { name: "a", children: [{ name: 1, children: [] }] }],
      [Positive, { n: 1, tags: { a: "x" } }],
      [Positive, { n: -1, tags: {} }],
      [Positive, { n: 1, tags: { a: 1 } }]
    ]
    for (const [schema, value] of cases) expect(fastIs(schema)(value)).toBe(Schema.is(schema)(value))
    expect(cases.map(([schema, value]) => fastIs(schema)(value))).toEqual([true, false, true, false, false])
  })
})
