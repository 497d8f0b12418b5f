/**
 * A fake Braintrust server for tests: the login, project and logs endpoints the `braintrust` SDK
 * uses for project logs (see /work/shared/reference/braintrust-sdk.md), over real HTTP on
 * 127.0.0.1 with an ephemeral port. It stores rows with the server's merge contract (a full row
 * replaces the stored row with its `id`, a merge row deep-merges into it), records every request,
 * and can inject faults (HTTP errors, dropped connections, requests that never get an answer) so
 * tests can check what a user would see when Braintrust misbehaves.
 */
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo, Socket } from "node:net"
import * as os from "node:os"
import * as nodePath from "node:path"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { isRecord } from "effect/Predicate"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { readBody } from "./http"

export type StoredRow = Readonly<Record<string, unknown>>

export interface RecordedRequest {
  readonly method: string
  /** path with query string, e.g. "/api/project?id=p1" */
  readonly url: string
  readonly path: string
  readonly authorization: string | undefined
  readonly body: string
  readonly bodyBytes: number
  /** the status we answered, "dropped" when we destroyed the connection, "hung" when we never answered */
  readonly outcome: number | "dropped" | "hung"
}

export interface FaultOptions {
  /** request path the fault applies to; default "/logs3" */
  readonly path?: string
  /** store the rows of a failed /logs3 request anyway (an acknowledgement lost on the way back) */
  readonly store?: boolean
  /** answer this raw body instead of a JSON error, e.g. "" for an empty 200 */
  readonly body?: string
}

export interface FakeBraintrustOptions {
  /** when set, every other bearer token gets 401 at login and on every other endpoint */
  readonly apiKey?: string
  readonly orgName?: string
  /**
   * also listen on a Unix socket (same routes, same store): a client in another network
   * namespace, such as the drainer that Codex's hooks start in codexRunner's private namespace,
   * reaches it through a relay there
   */
  readonly unixSocket?: boolean
}

export interface FakeBraintrust {
  /** base URL, e.g. "http://127.0.0.1:41234"; the login answer names it as `api_url` too */
  readonly url: string
  readonly orgName: string
  /** the Unix socket path, with `unixSocket: true` */
  readonly socketPath: string | undefined
  /** the stored rows after applying the merge contract, by `id` */
  readonly rows: () => ReadonlyMap<string, StoredRow>
  /** every row received on /logs3, in arrival order, as sent */
  readonly rawRows: () => ReadonlyArray<StoredRow>
  readonly requests: () => ReadonlyArray<RecordedRequest>
  /** request body bytes received so far */
  readonly bytesReceived: () => number
  /** answer the next `count` requests to `options.path` (default /logs3) with `status` */
  readonly failNext: (count: number, status: number, options?: FaultOptions) => void
  /**
   * while down, every connection is reset (TCP RST) as soon as it opens, and open ones now: the
   * client sees ECONNRESET at once. (A plain close without RST leaves undici's fetch waiting for
   * an answer until its timeout; `setHang` covers that kind of server.)
   */
  readonly setDown: (down: boolean) => void
  /** while hanging, requests are read and never answered */
  readonly setHang: (hang: boolean) => void
  /**
   * while set, every request (or only those to `options.path`) is answered with this HTTP status
   * and a JSON error, as a Braintrust whose API is up but failing would; `undefined` answers
   * normally again
   */
  readonly setFailing: (status: number | undefined, options?: { readonly path?: string }) => void
  /**
   * `false`: stop listening on the TCP port and close open connections, so new connections are
   * refused (ECONNREFUSED), as when Braintrust or the network is down; `true`: listen again on
   * the same port. Resolves once the server is closed or listening again.
   */
  readonly setListening: (listening: boolean) => Promise<void>
  /**
   * calls `listener` with the rows of every /logs3 request that is stored: with
   * `when: "stored"` (default) after storing and before answering — a client killed there has
   * delivered rows it never saw confirmed — with `when: "answered"` right after the 200 is written.
   * Returns a function that removes the listener.
   */
  readonly onLogs3: (listener: (rows: ReadonlyArray<StoredRow>) => void, options?: { readonly when?: "stored" | "answered" }) => () => void
  readonly clearFaults: () => void
  readonly close: () => Promise<void>
}

interface Fault {
  readonly path: string
  readonly status: number
  readonly store: boolean
  readonly body: string | undefined
  remaining: number
}

const Logs3Body = Schema.parseJson(
  Schema.Struct({ rows: Schema.Array(Schema.Record({ key: Schema.String, value: Schema.Unknown })) })
)
const RegisterBody = Schema.parseJson(Schema.Struct({ project_name: Schema.String }))
const decodeLogs3Body = Schema.decodeUnknownOption(Logs3Body)
const decodeRegisterBody = Schema.decodeUnknownOption(RegisterBody)

/** Fields that steer the merge and are not part of the stored row. */
const CONTROL_FIELDS = new Set(["_is_merge", "_merge_paths", "_object_delete"])

const withoutControlFields = (row: StoredRow): StoredRow =>
  Object.fromEntries(Object.entries(row).filter(([key]) => !CONTROL_FIELDS.has(key)))

const isStringArray = Schema.is(Schema.Array(Schema.String))
const isMergePaths = Schema.is(Schema.Array(Schema.Array(Schema.String)))

/**
 * Deep merge as the Braintrust server documents it: objects merge recursively, arrays and scalars
 * are replaced, null overwrites; merging stops at any path listed in `_merge_paths`.
 */
const deepMerge = (
  into: Readonly<Record<string, unknown>>,
  from: Readonly<Record<string, unknown>>,
  stopPaths: ReadonlyArray<ReadonlyArray<string>>,
  path: ReadonlyArray<string>
): Record<string, unknown> => {
  const merged: Record<string, unknown> = { ...into }
  for (const [key, value] of Object.entries(from)) {
    if (value === undefined) continue
    const childPath = [...path, key]
    const stopsHere = stopPaths.some(
      (stop) => stop.length === childPath.length && stop.every((part, i) => part === childPath[i])
    )
    const current = merged[key]
    merged[key] = !stopsHere && isRecord(current) && isRecord(value)
      ? deepMerge(current, value, stopPaths, childPath)
      : value
  }
  return merged
}

const mergeRow = (stored: StoredRow, update: StoredRow): StoredRow => {
  const stopPaths = isMergePaths(update["_merge_paths"]) ? update["_merge_paths"] : []
  const merged = deepMerge(stored, withoutControlFields(update), stopPaths, [])
  // the server unions top-level tags instead of replacing them
  const storedTags = stored["tags"]
  const updateTags = update["tags"]
  if (isStringArray(storedTags) && isStringArray(updateTags)) {
    merged["tags"] = [...new Set([...storedTags, ...updateTags])]
  }
  return merged
}


export const startFakeBraintrust = async (options: FakeBraintrustOptions = {}): Promise<FakeBraintrust> => {
  const orgName = options.orgName ?? "fake-org"
  const orgId = "fake-org-id"
  const stored = new Map<string, StoredRow>()
  const raw: Array<StoredRow> = []
  const requests: Array<RecordedRequest> = []
  const sockets = new Set<Socket>()
  let faults: Array<Fault> = []
  let bytes = 0
  let down = false
  let hang = false
  let failing: { readonly status: number; readonly path: string | undefined } | undefined
  const logs3Listeners = new Set<{ readonly when: "stored" | "answered"; readonly listener: (rows: ReadonlyArray<StoredRow>) => void }>()
  const notifyLogs3 = (when: "stored" | "answered", rows: ReadonlyArray<StoredRow>): void => {
    for (const each of [...logs3Listeners]) if (each.when === when) each.listener(rows)
  }
  let baseUrl = ""

  const projectFor = (name: string) => ({ id: `project-${name}`, name, org_id: orgId })

  const takeFault = (path: string): Fault | undefined => {
    const fault = faults.find((candidate) => candidate.path === path && candidate.remaining > 0)
    if (fault !== undefined) fault.remaining -= 1
    return fault
  }

  const storeRows = (rows: ReadonlyArray<StoredRow>): void => {
    for (const row of rows) {
      raw.push(row)
      const id = row["id"]
      if (typeof id !== "string") continue
      const previous = stored.get(id)
      stored.set(
        id,
        row["_is_merge"] === true && previous !== undefined ? mergeRow(previous, row) : withoutControlFields(row)
      )
    }
  }

  const handle = async (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    const body = await readBody(request)
    bytes += body.length
    const url = request.url ?? "/"
    const path = url.split("?")[0] ?? "/"
    const method = request.method ?? "GET"
    const authorization = request.headers.authorization
    const text = body.toString("utf8")
    const record = (outcome: RecordedRequest["outcome"]) =>
      requests.push({ method, url, path, authorization, body: text, bodyBytes: body.length, outcome })
    const answer = (status: number, payload: unknown) => {
      record(status)
      response.writeHead(status, { "content-type": "application/json" })
      response.end(JSON.stringify(payload))
    }

    if (down) {
      record("dropped")
      request.socket.resetAndDestroy()
      return
    }
    if (hang) {
      record("hung")
      return
    }
    if (failing !== undefined && (failing.path === undefined || failing.path === path)) {
      return answer(failing.status, { error: `injected failure ${failing.status}` })
    }
    const fault = takeFault(path)
    if (fault !== undefined) {
      const decoded = path === "/logs3" ? decodeLogs3Body(text) : Option.none()
      if (fault.store && Option.isSome(decoded)) storeRows(decoded.value.rows)
      if (fault.body !== undefined) {
        record(fault.status)
        response.writeHead(fault.status, { "content-type": "text/plain" })
        response.end(fault.body)
        return
      }
      return answer(fault.status, { error: `injected fault ${fault.status}` })
    }
    if (options.apiKey !== undefined && authorization !== `Bearer ${options.apiKey}`) {
      return answer(401, { error: "Invalid API key" })
    }

    if (method === "POST" && path === "/api/apikey/login") {
      return answer(200, {
        org_info: [{ id: orgId, name: orgName, api_url: baseUrl, proxy_url: baseUrl, git_metadata: null }]
      })
    }
    if (method === "POST" && path === "/api/project/register") {
      return Option.match(decodeRegisterBody(text), {
        onNone: () => answer(400, { error: "expected {project_name}" }),
        onSome: (decoded) => answer(200, { project: projectFor(decoded.project_name) })
      })
    }
    if (method === "GET" && path === "/api/project") {
      const id = new URL(url, baseUrl).searchParams.get("id") ?? ""
      const project = projectFor(id.replace(/^project-/, ""))
      return answer(200, { ...project, project })
    }
    if (method === "GET" && path === "/version") {
      return answer(200, {})
    }
    if (method === "POST" && path === "/logs3") {
      return Option.match(decodeLogs3Body(text), {
        onNone: () => answer(400, { error: "expected {rows: [...]}" }),
        onSome: (decoded) => {
          storeRows(decoded.rows)
          notifyLogs3("stored", decoded.rows)
          answer(200, { ids: decoded.rows.map((row) => row["id"]) })
          notifyLogs3("answered", decoded.rows)
        }
      })
    }
    return answer(404, { error: `no route for ${method} ${path}` })
  }

  const makeServer = () => {
    const created = http.createServer((request, response) => {
      handle(request, response).catch(() => {
        request.socket.destroy()
      })
    })
    created.on("connection", (socket: Socket) => {
      if (down) {
        // a Unix socket has no RST: a plain destroy is the closest
        if (socket.remoteAddress !== undefined) socket.resetAndDestroy()
        else socket.destroy()
        return
      }
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
    })
    return created
  }
  const server = makeServer()

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => resolve())
  })
  const socketDir = options.unixSocket === true ? fs.mkdtempSync(nodePath.join(os.tmpdir(), "fake-braintrust-")) : undefined
  const socketPath = socketDir === undefined ? undefined : nodePath.join(socketDir, "braintrust.sock")
  const socketServer = socketPath === undefined ? undefined : makeServer()
  if (socketServer !== undefined && socketPath !== undefined) {
    await new Promise<void>((resolve, reject) => {
      socketServer.once("error", reject)
      socketServer.listen(socketPath, () => resolve())
    })
  }
  const address: AddressInfo | string | null = server.address()
  if (address === null || typeof address === "string") {
    throw new Error("fake Braintrust server has no TCP address")
  }
  baseUrl = `http://127.0.0.1:${address.port}`
  const tcpPort = address.port

  return {
    url: baseUrl,
    orgName,
    socketPath,
    rows: () => new Map(stored),
    rawRows: () => [...raw],
    requests: () => [...requests],
    bytesReceived: () => bytes,
    failNext: (count, status, faultOptions = {}) => {
      faults.push({
        path: faultOptions.path ?? "/logs3",
        status,
        store: faultOptions.store ?? false,
        body: faultOptions.body,
        remaining: count
      })
    },
    setDown: (value) => {
      down = value
      if (value) {
        for (const socket of sockets) {
          if (socket.remoteAddress !== undefined) socket.resetAndDestroy()
          else socket.destroy()
        }
      }
    },
    setHang: (value) => {
      hang = value
    },
    setFailing: (status, failingOptions = {}) => {
      failing = status === undefined ? undefined : { status, path: failingOptions.path }
    },
    setListening: (value) =>
      new Promise<void>((resolve, reject) => {
        if (value === server.listening) return resolve()
        if (value) {
          server.once("error", reject)
          server.listen(tcpPort, "127.0.0.1", () => {
            server.off("error", reject)
            resolve()
          })
          return
        }
        server.close(() => resolve())
        server.closeAllConnections()
      }),
    onLogs3: (listener, listenerOptions = {}) => {
      const entry = { when: listenerOptions.when ?? "stored", listener }
      logs3Listeners.add(entry)
      return () => {
        logs3Listeners.delete(entry)
      }
    },
    clearFaults: () => {
      faults = []
      down = false
      hang = false
      failing = undefined
    },
    close: async () => {
      const closing = [server, ...(socketServer === undefined ? [] : [socketServer])].map((each) =>
        new Promise<void>((resolve) => {
          each.closeAllConnections()
          each.close(() => resolve())
        })
      )
      await Promise.all(closing)
      if (socketDir !== undefined) fs.rmSync(socketDir, { recursive: true, force: true })
    }
  }
}

/** The fake as an Effect service, for `layer(...)` / `it.scoped` in @effect/vitest. */
export class FakeBraintrustServer extends Context.Tag("test/FakeBraintrustServer")<
  FakeBraintrustServer,
  FakeBraintrust
>() {}

/** Start a fake for the surrounding scope; it is closed when the scope closes. */
export const acquireFakeBraintrust = (
  options: FakeBraintrustOptions = {}
): Effect.Effect<FakeBraintrust, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => startFakeBraintrust(options)),
    (fake) => Effect.promise(() => fake.close())
  )

export const fakeBraintrustLayer = (options: FakeBraintrustOptions = {}): Layer.Layer<FakeBraintrustServer> =>
  Layer.scoped(FakeBraintrustServer, acquireFakeBraintrust(options))
