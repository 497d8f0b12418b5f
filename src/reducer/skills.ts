/**
 * Codex skills in a trace: a skill is loaded when a tool call reads its `SKILL.md`
 * (`<skills dir>/<name>/SKILL.md`), and requested explicitly when the prompt names it
 * (`$name`, `skill://name`, `/skills name`). Shell variables (`$HOME`, `$PATH`) are upper case
 * and are not taken for skills.
 */

const SKILL_FILE = /([A-Za-z0-9][A-Za-z0-9._-]{0,63})[\\/]+SKILL\.md\b/
const REQUESTS = [/(?:^|[\s(["'`])\$([a-z][a-z0-9_-]{1,63})\b/g, /skill:\/\/([A-Za-z0-9][A-Za-z0-9._-]{0,63})/g, /(?:^|\s)\/skills?\s+([A-Za-z0-9][A-Za-z0-9._-]{0,63})/g]

/** the skill whose SKILL.md these call arguments read, if any */
export const skillLoadedBy = (input: unknown): string | undefined => {
  const text = typeof input === "string" ? input : input === undefined || input === null ? "" : JSON.stringify(input)
  if (!text.includes("SKILL.md")) return undefined
  return SKILL_FILE.exec(text)?.[1]
}

/** skills a prompt asks for by name, in the order named */
export const skillsRequestedIn = (prompt: string | undefined): Array<string> => {
  if (prompt === undefined || prompt === "") return []
  const names: Array<string> = []
  for (const pattern of REQUESTS) {
    for (const m of prompt.matchAll(pattern)) if (!names.includes(m[1]!)) names.push(m[1]!)
  }
  return names
}
