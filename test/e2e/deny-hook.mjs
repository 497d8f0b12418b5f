// A PreToolUse policy hook for the live-capture end-to-end suite: denies every tool call whose
// input mentions DENY_ME (the answer shape Codex 0.169 honours, reference §3), stays silent
// otherwise.
let input = ""
process.stdin.setEncoding("utf8")
process.stdin.on("data", (chunk) => {
  input += chunk
})
process.stdin.on("end", () => {
  let toolInput = ""
  try {
    toolInput = JSON.stringify(JSON.parse(input).tool_input ?? "")
  } catch {
    return
  }
  if (!toolInput.includes("DENY_ME")) return
  process.stdout.write(JSON.stringify({
    hookSpecificOutput: {
      hookEventName: "PreToolUse",
      permissionDecision: "deny",
      permissionDecisionReason: "e2e policy: DENY_ME is not allowed"
    }
  }))
})
