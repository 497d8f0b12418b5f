/**
 * A fake OpenAI Responses API for end-to-end runs of the real Codex CLI: `POST /v1/responses`
 * answers a `text/event-stream` in the frame order Codex 0.169 expects (reference §7), driven by
 * a script of turns and model responses. Every request is recorded with its routing, so a test
 * can tell which scripted response answered it and whether Codex followed the script.
 *
 * Routing: a request belongs to the main thread, to a sub-agent thread (the `x-openai-subagent`
 * header, or a `thread-id` header that differs from `session-id`), or is a compaction request
 * (`x-codex-turn-metadata.request_kind = "compaction"`, or the compaction prompt in its input).
 * Main-thread requests consume the script's turns in order; a sub-agent thread is bound, at its
 * first request, to the first unclaimed sub-agent turn whose prompt its input contains, then
 * consumes that turn's responses in order. Anything the script does not cover gets a plain text
 * answer and is reported by `problems()` instead of hanging Codex.
 *
 * It listens on 127.0.0.1 (ephemeral port) and on a Unix socket: Codex runs in a private network
 * namespace where the host's loopback is out of reach, and reaches the socket through a relay
 * (see codexRunner.ts).
 */
import { Decompress } from "fzstd"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as zlib from "node:zlib"
import * as Effect from "effect/Effect"
import { isRecord } from "effect/Predicate"
import type * as Scope from "effect/Scope"
import { readBody } from "./http"

export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }

/** Token counts of one response; missing numbers are derived from the request and answer sizes. */
export interface UsageOverride {
  readonly inputTokens?: number
  readonly cachedTokens?: number
  readonly outputTokens?: number
  readonly reasoningTokens?: number
}

export type OutputItem =
  | { readonly type: "message"; readonly text: string }
  | { readonly type: "reasoning"; readonly summary: ReadonlyArray<string>; readonly encryptedContent?: string }
  | {
      readonly type: "function_call"
      readonly name: string
      readonly namespace?: string
      readonly callId: string
      /** sent as its JSON text; a function computes it from the request (e.g. from an earlier call's output) */
      readonly arguments: Json | ((request: ModelRequest) => Json)
      /** sent verbatim instead of `arguments`, e.g. text that is not valid JSON */
      readonly rawArguments?: string
    }
  | { readonly type: "custom_tool_call"; readonly name: string; readonly callId: string; readonly input: string }

export interface ModelResponse {
  readonly output: ReadonlyArray<OutputItem>
  readonly usage?: UsageOverride
}

export interface ScriptTurn {
  /** text the turn's user message contains (main thread) or the spawn message (sub-agent) */
  readonly prompt: string
  /** the model's answers in this turn, one per request, in order */
  readonly responses: ReadonlyArray<ModelResponse>
}

export interface FakeScript {
  /** the main thread's turns, in order, across every `codex exec` / `resume` run */
  readonly turns: ReadonlyArray<ScriptTurn>
  /** one turn per sub-agent thread */
  readonly subagents?: ReadonlyArray<ScriptTurn>
  /** answers to compaction requests, in order; by default a fixed summary */
  readonly compactions?: ReadonlyArray<ModelResponse>
}

export type Lane = "main" | "subagent" | "compaction"

export interface ModelRequest {
  /** 1-based arrival order over all requests */
  readonly seq: number
  readonly receivedAtMs: number
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  /** the request body as JSON (undefined if it was not JSON) */
  readonly body: unknown
  readonly bodyBytes: number
  readonly lane: Lane | "other"
  readonly threadId: string | undefined
  readonly sessionId: string | undefined
  /** from `x-codex-turn-metadata` */
  readonly turnId: string | undefined
  readonly requestKind: string | undefined
  /** HTTP status we answered */
  readonly status: number
  /** `resp_fake_<n>` when answered with a stream */
  readonly responseId: string | undefined
  /** which script entry answered, e.g. "turn 2 response 1", "subagent 1 response 2", "unscripted" */
  readonly answeredBy: string
}

export interface FakeResponses {
  /** e.g. "http://127.0.0.1:41234/v1", for clients in this network namespace */
  readonly baseUrl: string
  /** the same API on a Unix socket, for the relay inside Codex's private network namespace */
  readonly socketPath: string
  readonly requests: () => ReadonlyArray<ModelRequest>
  /** `/v1/responses` requests answered with a stream (one model response each) */
  readonly modelResponses: () => ReadonlyArray<ModelRequest>
  /** deviations from the script: unscripted requests, prompts not found, unused responses */
  readonly problems: () => ReadonlyArray<string>
  readonly close: () => Promise<void>
}

const COMPACTION_MARKER = "CONTEXT CHECKPOINT COMPACTION"

// ---------------------------------------------------------------------------------------------
// Script helpers

export const say = (text: string): OutputItem => ({ type: "message", text })

export const think = (...summary: ReadonlyArray<string>): OutputItem => ({
  type: "reasoning",
  summary,
  encryptedContent: `fake-encrypted-${summary.length}`
})

/**
 * Codex's unified-exec shell tool; its hook `tool_name` is `Bash`. Codex waits up to
 * `yieldTimeMs` for the command before it answers the model with what ran so far.
 */
export const execCommand = (callId: string, cmd: string, yieldTimeMs = 1000): OutputItem => ({
  type: "function_call",
  name: "exec_command",
  callId,
  arguments: { cmd, yield_time_ms: yieldTimeMs }
})

/** a call of any function tool, e.g. one Codex does not have */
export const callTool = (callId: string, name: string, args: Json): OutputItem => ({
  type: "function_call",
  name,
  callId,
  arguments: args
})

/** the freeform apply_patch tool (a custom tool call) */
export const applyPatch = (callId: string, patch: string): OutputItem => ({
  type: "custom_tool_call",
  name: "apply_patch",
  callId,
  input: patch
})

export const spawnAgent = (callId: string, message: string): OutputItem => ({
  type: "function_call",
  namespace: "multi_agent_v1",
  name: "spawn_agent",
  callId,
  arguments: { message }
})

/** waits for the agent that the `spawn_agent` call `spawnCallId` started (its id is read from that call's output) */
export const waitAgent = (callId: string, spawnCallId: string, timeoutMs = 30_000): OutputItem => ({
  type: "function_call",
  namespace: "multi_agent_v1",
  name: "wait_agent",
  callId,
  arguments: (request) => {
    const agentId = /"(?:agent_id|id)"\s*:\s*"([^"]+)"/.exec(callOutput(request, spawnCallId) ?? "")?.[1]
    return { targets: agentId === undefined ? [] : [agentId], timeout_ms: timeoutMs }
  }
})

export const respond = (output: ReadonlyArray<OutputItem>, usage?: UsageOverride): ModelResponse =>
  usage === undefined ? { output } : { output, usage }

// ---------------------------------------------------------------------------------------------
// Reading requests

const asRecord = (u: unknown): Readonly<Record<string, unknown>> | undefined => (isRecord(u) ? u : undefined)

const inputItems = (request: Pick<ModelRequest, "body">): ReadonlyArray<Readonly<Record<string, unknown>>> => {
  const input = asRecord(request.body)?.["input"]
  return Array.isArray(input) ? input.filter(isRecord) : []
}

const contentText = (content: unknown): string => {
  if (typeof content === "string") return content
  if (!Array.isArray(content)) return ""
  return content
    .map((part) => {
      const text = asRecord(part)?.["text"]
      return typeof text === "string" ? text : ""
    })
    .join("\n")
}

/** texts of the user messages in a request's input, oldest first */
export const userTexts = (request: Pick<ModelRequest, "body">): Array<string> =>
  inputItems(request)
    .filter((item) => item["type"] === "message" && item["role"] === "user")
    .map((item) => contentText(item["content"]))

/** the output Codex sent back for a tool call, as text */
export const callOutput = (request: Pick<ModelRequest, "body">, callId: string): string | undefined => {
  for (const item of inputItems(request)) {
    if (item["call_id"] !== callId || typeof item["type"] !== "string" || !item["type"].endsWith("_output")) continue
    const output = item["output"]
    return typeof output === "string" ? output : contentText(output)
  }
  return undefined
}

const header = (headers: http.IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name]
  return Array.isArray(value) ? value.join(", ") : value
}

const turnMetadata = (headers: http.IncomingHttpHeaders): { turnId?: string; requestKind?: string } => {
  const raw = header(headers, "x-codex-turn-metadata")
  if (raw === undefined) return {}
  try {
    const parsed = asRecord(JSON.parse(raw))
    const turnId = parsed?.["turn_id"]
    const requestKind = parsed?.["request_kind"]
    return {
      ...(typeof turnId === "string" ? { turnId } : {}),
      ...(typeof requestKind === "string" ? { requestKind } : {})
    }
  } catch {
    return {}
  }
}


const zstdDecompress = (bytes: Uint8Array): Buffer => {
  const parts: Array<Uint8Array> = []
  const stream = new Decompress((chunk) => {
    parts.push(chunk)
  })
  stream.push(bytes, true)
  return Buffer.concat(parts)
}

const decodeBody = (bytes: Buffer, encoding: string | undefined): Buffer => {
  switch (encoding?.trim().toLowerCase()) {
    case "gzip":
      return zlib.gunzipSync(bytes)
    case "deflate":
      return zlib.inflateSync(bytes)
    case "br":
      return zlib.brotliDecompressSync(bytes)
    case "zstd":
      return zstdDecompress(bytes)
    default:
      return bytes
  }
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

// ---------------------------------------------------------------------------------------------
// Writing the event stream

interface StreamFrame {
  readonly event: string
  readonly data: Record<string, unknown>
}

const approxTokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4))

/** the complete output item as `response.output_item.done` and `response.completed` carry it */
const finalItem = (item: OutputItem, id: string, request: ModelRequest): Record<string, unknown> => {
  switch (item.type) {
    case "message":
      return {
        id,
        type: "message",
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text: item.text, annotations: [] }]
      }
    case "reasoning":
      return {
        id,
        type: "reasoning",
        summary: item.summary.map((text) => ({ type: "summary_text", text })),
        ...(item.encryptedContent === undefined ? {} : { encrypted_content: item.encryptedContent })
      }
    case "function_call": {
      const args = item.rawArguments ??
        JSON.stringify(typeof item.arguments === "function" ? item.arguments(request) : item.arguments)
      return {
        id,
        type: "function_call",
        status: "completed",
        call_id: item.callId,
        name: item.name,
        ...(item.namespace === undefined ? {} : { namespace: item.namespace }),
        arguments: args
      }
    }
    case "custom_tool_call":
      return { id, type: "custom_tool_call", status: "completed", call_id: item.callId, name: item.name, input: item.input }
  }
}

/** the frames of one output item: added, its deltas, done */
const itemFrames = (item: OutputItem, full: Record<string, unknown>, outputIndex: number): Array<StreamFrame> => {
  const id = String(full["id"])
  const base = { item_id: id, output_index: outputIndex }
  const added = (partial: Record<string, unknown>): StreamFrame => ({
    event: "response.output_item.added",
    data: { output_index: outputIndex, item: partial }
  })
  const done: StreamFrame = { event: "response.output_item.done", data: { output_index: outputIndex, item: full } }
  switch (item.type) {
    case "message": {
      const part = { type: "output_text", text: item.text, annotations: [] }
      return [
        added({ id, type: "message", status: "in_progress", role: "assistant", content: [] }),
        { event: "response.content_part.added", data: { ...base, content_index: 0, part: { ...part, text: "" } } },
        { event: "response.output_text.delta", data: { ...base, content_index: 0, delta: item.text } },
        { event: "response.output_text.done", data: { ...base, content_index: 0, text: item.text } },
        { event: "response.content_part.done", data: { ...base, content_index: 0, part } },
        done
      ]
    }
    case "reasoning":
      return [
        added({ id, type: "reasoning", summary: [] }),
        ...item.summary.flatMap((text, summaryIndex): Array<StreamFrame> => {
          const at = { ...base, summary_index: summaryIndex }
          return [
            { event: "response.reasoning_summary_part.added", data: { ...at, part: { type: "summary_text", text: "" } } },
            { event: "response.reasoning_summary_text.delta", data: { ...at, delta: text } },
            { event: "response.reasoning_summary_text.done", data: { ...at, text } },
            { event: "response.reasoning_summary_part.done", data: { ...at, part: { type: "summary_text", text } } }
          ]
        }),
        done
      ]
    case "function_call": {
      const args = String(full["arguments"])
      return [
        added({ ...full, status: "in_progress", arguments: "" }),
        { event: "response.function_call_arguments.delta", data: { ...base, delta: args } },
        { event: "response.function_call_arguments.done", data: { ...base, arguments: args } },
        done
      ]
    }
    case "custom_tool_call":
      return [
        added({ ...full, status: "in_progress", input: "" }),
        { event: "response.custom_tool_call_input.delta", data: { ...base, delta: item.input } },
        { event: "response.custom_tool_call_input.done", data: { ...base, input: item.input } },
        done
      ]
  }
}

const itemText = (item: Record<string, unknown>): string => JSON.stringify(item)

const responseFrames = (
  responseId: string,
  model: string,
  answer: ModelResponse,
  request: ModelRequest
): Array<StreamFrame> => {
  const createdAt = Math.floor(request.receivedAtMs / 1000)
  const shell = { id: responseId, object: "response", created_at: createdAt, model }
  const items = answer.output.map((item, k) => ({ item, full: finalItem(item, `${responseId}_item${k + 1}`, request) }))
  const inputTokens = answer.usage?.inputTokens ?? approxTokens("x".repeat(request.bodyBytes))
  const cachedTokens = answer.usage?.cachedTokens ?? Math.floor(inputTokens / 2)
  const reasoningTokens = answer.usage?.reasoningTokens ??
    answer.output.reduce((n, item) => n + (item.type === "reasoning" ? approxTokens(item.summary.join("")) : 0), 0)
  const outputTokens = answer.usage?.outputTokens ?? items.reduce((n, { full }) => n + approxTokens(itemText(full)), 0)
  const usage = {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: cachedTokens },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: reasoningTokens },
    total_tokens: inputTokens + outputTokens
  }
  return [
    { event: "response.created", data: { response: { ...shell, status: "in_progress", output: [] } } },
    { event: "response.in_progress", data: { response: { ...shell, status: "in_progress", output: [] } } },
    ...items.flatMap(({ item, full }, k) => itemFrames(item, full, k)),
    {
      event: "response.completed",
      data: { response: { ...shell, status: "completed", output: items.map(({ full }) => full), usage } }
    }
  ]
}

const encodeFrames = (frames: ReadonlyArray<StreamFrame>): string =>
  frames
    .map((frame, sequence) =>
      `event: ${frame.event}\ndata: ${JSON.stringify({ type: frame.event, sequence_number: sequence, ...frame.data })}\n\n`
    )
    .join("")

// ---------------------------------------------------------------------------------------------
// The server

interface SubagentBinding {
  readonly turnIndex: number
  nextResponse: number
}

const DEFAULT_COMPACTION: ModelResponse = {
  output: [say("FAKE-SUMMARY: the conversation so far, compacted by the fake model.")]
}

export const startFakeResponses = async (script: FakeScript): Promise<FakeResponses> => {
  const requests: Array<ModelRequest> = []
  const problems: Array<string> = []
  let responseCounter = 0

  // main thread: position in the script, and the turn id Codex used for the current scripted turn
  let mainTurn = 0
  let mainResponse = 0
  let mainTurnId: string | undefined
  const subagentBindings = new Map<string, SubagentBinding>()
  const claimedSubagentTurns = new Set<number>()
  let compactionCount = 0

  const laneOf = (headers: http.IncomingHttpHeaders, body: unknown, requestKind: string | undefined): Lane => {
    if (requestKind === "compaction") return "compaction"
    const lastInput = inputItems({ body }).at(-1)
    if (lastInput !== undefined && contentText(lastInput["content"]).includes(COMPACTION_MARKER)) return "compaction"
    const threadId = header(headers, "thread-id")
    const sessionId = header(headers, "session-id")
    if (header(headers, "x-openai-subagent") !== undefined) return "subagent"
    if (threadId !== undefined && sessionId !== undefined && threadId !== sessionId) return "subagent"
    return "main"
  }

  const pickMain = (request: ModelRequest): { answer: ModelResponse; by: string } | undefined => {
    let turn = script.turns[mainTurn]
    // a new Codex turn while the scripted one still has answers left: the script is out of step
    if (turn !== undefined && mainResponse > 0 && request.turnId !== undefined && request.turnId !== mainTurnId) {
      problems.push(
        `turn ${mainTurn + 1} ended after ${mainResponse} of ${turn.responses.length} scripted responses (request ${request.seq} belongs to a new turn)`
      )
      mainTurn += 1
      mainResponse = 0
      turn = script.turns[mainTurn]
    }
    if (mainResponse === 0 && mainTurn > 0 && request.turnId !== undefined && request.turnId === mainTurnId) {
      problems.push(`request ${request.seq} continues turn ${mainTurn} beyond its scripted responses`)
      return undefined
    }
    if (turn === undefined) return undefined
    if (mainResponse === 0) {
      mainTurnId = request.turnId
      if (!userTexts(request).some((text) => text.includes(turn.prompt))) {
        problems.push(`request ${request.seq} starts turn ${mainTurn + 1} but no user message contains ${JSON.stringify(turn.prompt)}`)
      }
    } else if (request.turnId !== undefined && mainTurnId !== undefined && request.turnId !== mainTurnId) {
      problems.push(`request ${request.seq} continues turn ${mainTurn + 1} under another turn id`)
    }
    const answer = turn.responses[mainResponse]
    const by = `turn ${mainTurn + 1} response ${mainResponse + 1}`
    mainResponse += 1
    if (mainResponse >= turn.responses.length) {
      mainTurn += 1
      mainResponse = 0
    }
    return answer === undefined ? undefined : { answer, by }
  }

  const pickSubagent = (request: ModelRequest): { answer: ModelResponse; by: string } | undefined => {
    const key = request.threadId ?? "(no thread id)"
    let binding = subagentBindings.get(key)
    if (binding === undefined) {
      const texts = userTexts(request)
      const turnIndex = (script.subagents ?? []).findIndex(
        (turn, index) => !claimedSubagentTurns.has(index) && texts.some((text) => text.includes(turn.prompt))
      )
      if (turnIndex < 0) return undefined
      claimedSubagentTurns.add(turnIndex)
      binding = { turnIndex, nextResponse: 0 }
      subagentBindings.set(key, binding)
    }
    const answer = script.subagents?.[binding.turnIndex]?.responses[binding.nextResponse]
    const by = `subagent ${binding.turnIndex + 1} response ${binding.nextResponse + 1}`
    binding.nextResponse += 1
    return answer === undefined ? undefined : { answer, by }
  }

  const pickCompaction = (): { answer: ModelResponse; by: string } => {
    compactionCount += 1
    const scripted = script.compactions?.[compactionCount - 1]
    return { answer: scripted ?? DEFAULT_COMPACTION, by: `compaction ${compactionCount}` }
  }

  const handle = async (incoming: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    const receivedAtMs = Date.now()
    const raw = await readBody(incoming)
    const bytes = decodeBody(raw, header(incoming.headers, "content-encoding"))
    const body = parseJson(bytes.toString("utf8"))
    const method = incoming.method ?? "GET"
    const requestPath = (incoming.url ?? "/").split("?")[0] ?? "/"
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(incoming.headers)) {
      if (value === undefined) continue
      headers[name] = name === "authorization" ? "(redacted)" : Array.isArray(value) ? value.join(", ") : value
    }
    const { turnId, requestKind } = turnMetadata(incoming.headers)
    const isModelCall = method === "POST" && requestPath === "/v1/responses"
    const base: ModelRequest = {
      seq: requests.length + 1,
      receivedAtMs,
      method,
      path: requestPath,
      headers,
      body,
      bodyBytes: bytes.length,
      lane: isModelCall ? laneOf(incoming.headers, body, requestKind) : "other",
      threadId: header(incoming.headers, "thread-id"),
      sessionId: header(incoming.headers, "session-id"),
      turnId,
      requestKind,
      status: 404,
      responseId: undefined,
      answeredBy: "unscripted"
    }
    if (!isModelCall) {
      requests.push(base)
      response.writeHead(404, { "content-type": "application/json" })
      response.end(JSON.stringify({ error: { message: `fake Responses API: no route for ${method} ${requestPath}` } }))
      return
    }
    const picked =
      base.lane === "compaction" ? pickCompaction() : base.lane === "subagent" ? pickSubagent(base) : pickMain(base)
    if (picked === undefined) problems.push(`request ${base.seq} (${base.lane}) has no scripted response`)
    const answer = picked?.answer ?? { output: [say("(fake Responses API: the script has no answer for this request)")] }
    responseCounter += 1
    const responseId = `resp_fake_${responseCounter}`
    const model = asRecord(body)?.["model"]
    requests.push({ ...base, status: 200, responseId, answeredBy: picked?.by ?? "unscripted" })
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" })
    response.end(encodeFrames(responseFrames(responseId, typeof model === "string" ? model : "gpt-5.5", answer, base)))
  }

  const onRequest = (incoming: http.IncomingMessage, response: http.ServerResponse): void => {
    handle(incoming, response).catch((error: unknown) => {
      problems.push(`fake Responses API failed on ${incoming.method} ${incoming.url}: ${String(error)}`)
      incoming.socket.destroy()
    })
  }
  const tcpServer = http.createServer(onRequest)
  const socketServer = http.createServer(onRequest)

  const socketDir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-responses-"))
  const socketPath = path.join(socketDir, "responses.sock")
  const listening = (server: http.Server) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject)
      server.once("listening", () => resolve())
    })
  const tcpReady = listening(tcpServer)
  tcpServer.listen(0, "127.0.0.1")
  await tcpReady
  const socketReady = listening(socketServer)
  socketServer.listen(socketPath)
  await socketReady
  const address: AddressInfo | string | null = tcpServer.address()
  if (address === null || typeof address === "string") throw new Error("fake Responses API has no TCP address")

  const unusedResponses = (): Array<string> => {
    const left: Array<string> = []
    script.turns.forEach((turn, t) => {
      const from = t === mainTurn ? mainResponse : t > mainTurn ? 0 : turn.responses.length
      if (from < turn.responses.length) left.push(`turn ${t + 1}: ${turn.responses.length - from} scripted responses never requested`)
    })
    ;(script.subagents ?? []).forEach((turn, t) => {
      const binding = [...subagentBindings.values()].find((b) => b.turnIndex === t)
      const used = binding?.nextResponse ?? 0
      if (used < turn.responses.length) left.push(`subagent ${t + 1}: ${turn.responses.length - used} scripted responses never requested`)
    })
    return left
  }

  const closeServer = (server: http.Server) =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })

  return {
    baseUrl: `http://127.0.0.1:${address.port}/v1`,
    socketPath,
    requests: () => [...requests],
    modelResponses: () => requests.filter((r) => r.responseId !== undefined),
    problems: () => [...problems, ...unusedResponses()],
    close: async () => {
      await Promise.all([closeServer(tcpServer), closeServer(socketServer)])
      fs.rmSync(socketDir, { recursive: true, force: true })
    }
  }
}

/** Start a fake for the surrounding scope; it is closed when the scope closes. */
export const acquireFakeResponses = (script: FakeScript): Effect.Effect<FakeResponses, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => startFakeResponses(script)),
    (fake) => Effect.promise(() => fake.close())
  )
