/**
 * The redactor remembers its verdicts on strings and field names (rows repeat the same texts):
 * a remembered verdict must always be the one a fresh scan gives — for a string seen again, in a
 * value or as a field name, after the memory was cleared, and with extra patterns that match
 * strings too short for any built-in rule.
 */
import { describe, expect, it } from "@effect/vitest"
import { makeRedactor } from "../src/redaction"

const SECRET = "ghp_N8bQ3xL7mK2vR9sT4wY6zC1dF5gH0jP3aE7u"
const REDACTED = "[REDACTED:github-token]"

describe("remembered verdicts", () => {
  it("a string seen again, short or long, as a value or a field name, is redacted the same way every time", () => {
    const redactor = makeRedactor()
    const short = `use ${SECRET}`
    const long = `${"clean text ".repeat(40)}${SECRET}`
    for (let round = 0; round < 3; round++) {
      expect(redactor.redactString(short)).toBe(`use ${REDACTED}`)
      expect(redactor.redactString(long)).toBe(`${"clean text ".repeat(40)}${REDACTED}`)
      expect(redactor.redactString("assistant")).toBe("assistant")
      expect(redactor.redactValue({ [short]: "v", role: "assistant", password: "hunter22", nested: [{ password: "hunter22" }, short] })).toEqual({
        [`use ${REDACTED}`]: "v",
        role: "assistant",
        password: "[REDACTED:secret-field]",
        nested: [{ password: "[REDACTED:secret-field]" }, `use ${REDACTED}`]
      })
      // the same name, holding a value that is not a string or is empty, is left alone
      expect(redactor.redactValue({ password: 42, token: "" })).toEqual({ password: 42, token: "" })
    }
  })

  it("after more distinct strings and names than it remembers, verdicts are still right", () => {
    const redactor = makeRedactor()
    for (let i = 0; i < 30_000; i++) {
      const text = i % 7 === 0 ? `n${i} ${SECRET}` : `n${i} plain words`
      expect(redactor.redactString(text)).toBe(i % 7 === 0 ? `n${i} ${REDACTED}` : text)
      const name = i % 5 === 0 ? `field${i}_token` : `field${i}`
      expect(redactor.redactValue({ [name]: "value-x" })).toEqual({ [name]: i % 5 === 0 ? "[REDACTED:secret-field]" : "value-x" })
    }
  })

  it("extra patterns and known secrets apply to short strings, also when seen again", () => {
    const redactor = makeRedactor({ extraPatterns: ["ab\\d"], knownSecrets: [{ kind: "braintrust-key", value: "bt-known-1234" }] })
    for (let round = 0; round < 2; round++) {
      expect(redactor.redactString("ab1")).toBe("[REDACTED:custom]")
      expect(redactor.redactString("x ab2 y")).toBe("x [REDACTED:custom] y")
      expect(redactor.redactString("ab")).toBe("ab")
      expect(redactor.redactString("key bt-known-1234")).toBe("key [REDACTED:braintrust-key]")
      expect(redactor.redactValue({ ab3: "ok" })).toEqual({ "[REDACTED:custom]": "ok" })
    }
  })

  it("clean values come back as the same objects", () => {
    const redactor = makeRedactor()
    const value = { role: "assistant", content: "hello there", list: ["a", "bcdefghij"] }
    expect(redactor.redactValue(value)).toBe(value)
    expect(redactor.redactValue(value)).toBe(value)
  })
})
