/** Fake-model scripts that more than one end-to-end file runs. */
import { execCommand, type FakeScript, respond, say, spawnAgent, waitAgent } from "../support/fakeResponses"

/** the parent delegates counting to a sub-agent, waits for it, and reports */
export const SUBAGENT_SCRIPT: FakeScript = {
  turns: [{
    prompt: "Please delegate",
    responses: [
      respond([spawnAgent("call_spawn_1", "SUBTASK: run `echo 1 2 3` and report the output.")]),
      respond([waitAgent("call_wait_1", "call_spawn_1")]),
      respond([say("The sub-agent counted: 1 2 3.")])
    ]
  }],
  subagents: [{
    prompt: "SUBTASK:",
    responses: [respond([execCommand("call_child_1", "echo 1 2 3")]), respond([say("Child result: 1 2 3")])]
  }]
}
export const SUBAGENT_PROMPT = "Please delegate the counting subtask to a sub-agent."

/** two shell commands in one turn, then the answer */
export const SHELL_SCRIPT: FakeScript = {
  turns: [{
    prompt: "Run echo hi and then ls",
    responses: [
      respond([execCommand("call_echo_1", "echo hi")]),
      respond([execCommand("call_ls_1", "ls")]),
      respond([say("`echo hi` printed hi, and `ls` listed README.md.")])
    ]
  }]
}
export const SHELL_PROMPT = "Run echo hi and then ls, then tell me what you saw."
