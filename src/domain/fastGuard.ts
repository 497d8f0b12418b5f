/**
 * `Schema.is` for the hot path: the schema's type side compiled once into plain predicates.
 *
 * `Schema.is` runs Effect's general parser, which builds an `Either` (and on failure an issue
 * tree) for every property it visits; on an import that is most of the time spent after
 * `JSON.parse` and much of the garbage. The schemas of a rollout line only use a few AST nodes
 * (structs, literals, keywords, unions, arrays, refinements), and for those a predicate needs
 * no allocation at all. Any other node is handed to `Schema.is` itself, so the answer is the
 * same as `Schema.is(schema)` for every input (test/fastGuard.test.ts checks it on the
 * captures and on generated values).
 */
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import type * as Schema from "effect/Schema"
import * as AST from "effect/SchemaAST"

type Predicate = (u: unknown) => boolean

const isRecord = (u: unknown): u is Record<PropertyKey, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const hasOwn = Object.prototype.hasOwnProperty

/** Effect's own parser for one node: the exact answer, at Effect's cost */
const viaEffect = (ast: AST.AST): Predicate => {
  const is = ParseResult.is({ ast } as Schema.Schema<unknown>)
  return (u) => is(u)
}

const compile = (ast: AST.AST, memo: Map<AST.AST, Predicate>): Predicate => {
  const known = memo.get(ast)
  if (known !== undefined) return known
  // a placeholder first, so a recursive schema (Suspend) finds itself
  let compiled: Predicate | undefined
  memo.set(ast, (u) => compiled!(u))
  compiled = build(ast, memo)
  memo.set(ast, compiled)
  return compiled
}

const build = (ast: AST.AST, memo: Map<AST.AST, Predicate>): Predicate => {
  switch (ast._tag) {
    case "StringKeyword":
      return (u) => typeof u === "string"
    case "NumberKeyword":
      return (u) => typeof u === "number"
    case "BooleanKeyword":
      return (u) => typeof u === "boolean"
    case "UnknownKeyword":
    case "AnyKeyword":
      return () => true
    case "UndefinedKeyword":
      return (u) => u === undefined
    case "Literal": {
      const literal = ast.literal
      return (u) => u === literal
    }
    case "Union": {
      const members = ast.types.map((member) => compile(member, memo))
      return (u) => {
        for (let i = 0; i < members.length; i++) if (members[i]!(u)) return true
        return false
      }
    }
    case "TupleType": {
      // plain arrays only (Schema.Array): no fixed elements, one rest type
      if (ast.elements.length !== 0 || ast.rest.length !== 1) return viaEffect(ast)
      const item = compile(ast.rest[0]!.type, memo)
      return (u) => {
        if (!Array.isArray(u)) return false
        for (let i = 0; i < u.length; i++) if (!item(u[i])) return false
        return true
      }
    }
    case "TypeLiteral": {
      if (ast.propertySignatures.length === 0 && ast.indexSignatures.length === 0) return (u) => u !== null && u !== undefined
      if (ast.propertySignatures.some((ps) => typeof ps.name !== "string")) return viaEffect(ast)
      const properties = ast.propertySignatures.map((ps) => ({ name: ps.name as string, optional: ps.isOptional, check: compile(ps.type, memo) }))
      const indexes = ast.indexSignatures.map((is) => {
        // string keys only (Schema.Record({ key: Schema.String, ... }))
        if (is.parameter._tag !== "StringKeyword") return undefined
        return compile(is.type, memo)
      })
      if (indexes.some((check) => check === undefined)) return viaEffect(ast)
      const valueChecks = indexes as Array<Predicate>
      return (u) => {
        if (!isRecord(u)) return false
        for (let i = 0; i < properties.length; i++) {
          const p = properties[i]!
          if (!hasOwn.call(u, p.name)) {
            if (p.optional) continue
            return false
          }
          if (!p.check(u[p.name])) return false
        }
        if (valueChecks.length > 0) {
          for (const key of Object.keys(u)) {
            for (let i = 0; i < valueChecks.length; i++) if (!valueChecks[i]!(u[key])) return false
          }
        }
        return true
      }
    }
    case "Refinement": {
      const from = compile(ast.from, memo)
      return (u) => from(u) && Option.isNone(ast.filter(u, AST.defaultParseOption, ast))
    }
    case "Suspend": {
      let inner: Predicate | undefined
      return (u) => (inner ??= compile(ast.f(), memo))(u)
    }
    case "Transformation":
      return compile(AST.typeAST(ast), memo)
    default:
      return viaEffect(ast)
  }
}

/** the same answer as `Schema.is(schema)`, without its per-property allocations */
export const fastIs = <A, I, R>(schema: Schema.Schema<A, I, R>): (u: unknown) => u is A => {
  const check = compile(AST.typeAST(schema.ast), new Map())
  return check as (u: unknown) => u is A
}
