/**
 * Reading Codex's `$CODEX_HOME/config.toml` for the two facts `doctor` needs: whether hooks are
 * switched on (`[features] hooks`), and the hook trust Codex recorded
 * (`[hooks.state."<hooks.json>:<event>:<group>:<handler>"] trusted_hash / enabled`, see
 * shared/reference/codex-0.169.md §1). We never write this file ourselves: `install` asks Codex
 * (its app-server) to do that.
 *
 * A small TOML reader that flattens the document into `(key path, value)` assignments: tables,
 * dotted and quoted keys, inline tables, strings of every kind, booleans; arrays, numbers and
 * dates are skipped over. Anything it cannot read is an error naming the line, never a guess.
 */
import * as Data from "effect/Data"
import * as Either from "effect/Either"

export class TomlError extends Data.TaggedError("TomlError")<{ readonly message: string }> {}

export type TomlScalar = string | boolean | { readonly other: string }

export interface Assignment {
  readonly path: ReadonlyArray<string>
  readonly value: TomlScalar
}

const BARE_KEY = /[A-Za-z0-9_-]/

class Reader {
  pos = 0
  readonly out: Array<Assignment> = []
  constructor(readonly text: string) {}

  fail(what: string): never {
    const line = this.text.slice(0, this.pos).split("\n").length
    throw new TomlError({ message: `line ${line}: ${what}` })
  }
  peek(offset = 0): string {
    return this.text[this.pos + offset] ?? ""
  }
  startsWith(s: string): boolean {
    return this.text.startsWith(s, this.pos)
  }
  /** spaces and tabs; with `lines`, also newlines and comments */
  skip(lines: boolean): void {
    for (;;) {
      const c = this.peek()
      if (c === " " || c === "\t") this.pos++
      else if (lines && (c === "\n" || c === "\r")) this.pos++
      else if (c === "#") while (this.pos < this.text.length && this.peek() !== "\n") this.pos++
      else return
    }
  }
  endOfLine(): void {
    this.skip(false)
    if (this.peek() === "\r") this.pos++
    if (this.pos < this.text.length && this.peek() !== "\n") this.fail(`unexpected "${this.peek()}"`)
  }

  document(): Array<Assignment> {
    let table: Array<string> = []
    for (;;) {
      this.skip(true)
      if (this.pos >= this.text.length) return this.out
      if (this.startsWith("[[")) {
        this.pos += 2
        // entries of an array of tables are not addressed by any path we look up
        table = [...this.keyPath(), "[]"]
        if (!this.startsWith("]]")) this.fail(`expected "]]"`)
        this.pos += 2
      } else if (this.peek() === "[") {
        this.pos++
        table = this.keyPath()
        if (this.peek() !== "]") this.fail(`expected "]"`)
        this.pos++
      } else {
        this.keyValue(table)
      }
      this.endOfLine()
    }
  }

  keyValue(prefix: ReadonlyArray<string>): void {
    const path = [...prefix, ...this.keyPath()]
    if (this.peek() !== "=") this.fail(`expected "=" after ${path.join(".")}`)
    this.pos++
    this.skip(false)
    this.value(path)
  }

  keyPath(): Array<string> {
    const keys: Array<string> = []
    for (;;) {
      this.skip(false)
      const c = this.peek()
      if (c === '"') keys.push(this.basicString())
      else if (c === "'") keys.push(this.literalString())
      else {
        const start = this.pos
        while (BARE_KEY.test(this.peek())) this.pos++
        if (this.pos === start) this.fail("expected a key")
        keys.push(this.text.slice(start, this.pos))
      }
      this.skip(false)
      if (this.peek() !== ".") return keys
      this.pos++
    }
  }

  value(path: ReadonlyArray<string>): void {
    if (this.startsWith('"""')) return this.emit(path, this.multiline('"""'))
    if (this.startsWith("'''")) return this.emit(path, this.multiline("'''"))
    const c = this.peek()
    if (c === '"') return this.emit(path, this.basicString())
    if (c === "'") return this.emit(path, this.literalString())
    if (c === "{") return this.inlineTable(path)
    if (c === "[") return this.array()
    const start = this.pos
    while (this.pos < this.text.length && !/[\s,\]}#]/.test(this.peek())) this.pos++
    // dates may contain one space ("1979-05-27 07:32:00")
    if (/^\d{4}-\d\d-\d\d$/.test(this.text.slice(start, this.pos)) && /^ \d/.test(this.text.slice(this.pos, this.pos + 2))) {
      this.pos++
      while (this.pos < this.text.length && !/[\s,\]}#]/.test(this.peek())) this.pos++
    }
    const token = this.text.slice(start, this.pos)
    if (token === "") this.fail(`expected a value for ${path.join(".")}`)
    this.emit(path, token === "true" ? true : token === "false" ? false : { other: token })
  }

  emit(path: ReadonlyArray<string>, value: TomlScalar): void {
    this.out.push({ path, value })
  }

  inlineTable(path: ReadonlyArray<string>): void {
    this.pos++
    this.skip(false)
    if (this.peek() === "}") {
      this.pos++
      return
    }
    for (;;) {
      this.keyValue(path)
      this.skip(false)
      const c = this.peek()
      this.pos++
      if (c === "}") return
      if (c !== ",") this.fail(`expected "," or "}" in an inline table`)
    }
  }

  array(): void {
    this.pos++
    for (;;) {
      this.skip(true)
      if (this.peek() === "]") {
        this.pos++
        return
      }
      this.value(["[]"])
      this.skip(true)
      const c = this.peek()
      if (c === ",") this.pos++
      else if (c !== "]") this.fail(`expected "," or "]" in an array`)
    }
  }

  literalString(): string {
    const end = this.text.indexOf("'", this.pos + 1)
    const newline = this.text.indexOf("\n", this.pos + 1)
    if (end === -1 || (newline !== -1 && newline < end)) this.fail("unterminated string")
    const s = this.text.slice(this.pos + 1, end)
    this.pos = end + 1
    return s
  }

  basicString(): string {
    this.pos++
    let s = ""
    for (;;) {
      const c = this.peek()
      if (c === "" || c === "\n") this.fail("unterminated string")
      this.pos++
      if (c === '"') return s
      s += c === "\\" ? this.escape() : c
    }
  }

  escape(): string {
    const c = this.peek()
    this.pos++
    const simple: Record<string, string> = { b: "\b", t: "\t", n: "\n", f: "\f", r: "\r", e: "\u001b", '"': '"', "\\": "\\" }
    const known = simple[c]
    if (known !== undefined) return known
    const digits = c === "u" ? 4 : c === "U" ? 8 : c === "x" ? 2 : 0
    if (digits === 0) this.fail(`unknown escape "\\${c}"`)
    const hex = this.text.slice(this.pos, this.pos + digits)
    if (!/^[0-9A-Fa-f]+$/.test(hex) || hex.length !== digits) this.fail("bad unicode escape")
    this.pos += digits
    return String.fromCodePoint(parseInt(hex, 16))
  }

  multiline(quote: '"""' | "'''"): string {
    this.pos += 3
    if (this.peek() === "\n") this.pos++
    else if (this.startsWith("\r\n")) this.pos += 2
    let s = ""
    for (;;) {
      if (this.pos >= this.text.length) this.fail("unterminated multi-line string")
      if (this.startsWith(quote)) {
        // up to two quotes right before the closing ones belong to the string
        let extra = 0
        while (extra < 2 && this.text[this.pos + 3 + extra] === quote[0]) extra++
        s += quote[0]!.repeat(extra)
        this.pos += 3 + extra
        return s
      }
      const c = this.peek()
      this.pos++
      if (c === "\\" && quote === '"""') {
        if (/^[ \t]*\r?\n/.test(this.text.slice(this.pos))) {
          while (/\s/.test(this.peek())) this.pos++
        } else s += this.escape()
      } else s += c
    }
  }
}

export const readToml = (text: string): Either.Either<ReadonlyArray<Assignment>, TomlError> =>
  Either.try({
    try: () => new Reader(text).document(),
    catch: (e) => (e instanceof TomlError ? e : new TomlError({ message: e instanceof Error ? e.message : String(e) }))
  })

const samePath = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): boolean => a.length === b.length && a.every((k, i) => k === b[i])

/** `[features] <name>` when set to true or false (the last assignment wins) */
export const featureFlag = (config: ReadonlyArray<Assignment>, name: string): boolean | undefined => {
  const found = config.filter((a) => samePath(a.path, ["features", name])).at(-1)
  return typeof found?.value === "boolean" ? found.value : undefined
}

/** `[features] hooks`: false switches every hook off */
export const hooksFeature = (config: ReadonlyArray<Assignment>): boolean | undefined => featureFlag(config, "hooks")

/** `[plugins."<name>@<marketplace>"] enabled = true`: the plugins Codex loads, by id */
export const enabledPlugins = (config: ReadonlyArray<Assignment>): Array<string> => {
  const enabled = new Map<string, boolean>()
  for (const { path, value } of config) {
    const [plugins, id, field] = path
    if (path.length === 3 && plugins === "plugins" && id !== undefined && field === "enabled" && typeof value === "boolean") enabled.set(id, value)
  }
  return [...enabled].filter(([, on]) => on).map(([id]) => id)
}

export interface HookTrustState {
  readonly trustedHash?: string
  readonly enabled?: boolean
}

/** `hooks.state.<key>` entries, by trust key */
export const hookTrustStates = (config: ReadonlyArray<Assignment>): Map<string, HookTrustState> => {
  const states = new Map<string, HookTrustState>()
  for (const { path, value } of config) {
    const [hooks, state, key, field] = path
    if (path.length !== 4 || hooks !== "hooks" || state !== "state" || key === undefined) continue
    const current = states.get(key) ?? {}
    if (field === "trusted_hash" && typeof value === "string") states.set(key, { ...current, trustedHash: value })
    if (field === "enabled" && typeof value === "boolean") states.set(key, { ...current, enabled: value })
  }
  return states
}
