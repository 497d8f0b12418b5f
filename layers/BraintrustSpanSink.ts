/**
 * The Braintrust SpanSink: delivers span rows to a Braintrust project through the official
 * `braintrust` SDK and confirms that the server accepted them, which the SDK alone does not do
 * (its `flush()` never fails; it drops failed batches after retries, and a failed login poisons
 * its logger for good — see /work/shared/reference/braintrust-sdk.md).
 *
 * How delivery is confirmed, per write:
 * - the SDK's background logger is switched to explicit flushing, so every span leaves as one
 *   complete row (start, log and end merged client-side) when we flush, never half-written;
 * - a fetch wrapper gives every request a timeout and records which row ids travelled in /logs3
 *   bodies the server answered with 2xx + JSON;
 * - `onFlushError` (through our own `BraintrustState`) records every batch the SDK gave up on;
 * - the write succeeds only if no batch was dropped and every row id was acknowledged. Otherwise
 *   it fails with SpanSinkError and the SDK logger is thrown away, so a poisoned login cannot
 *   swallow later writes.
 *
 * The SDK is imported on the first write, not when the layer is built: loading it costs ~0.3 s,
 * which commands that never write (the hook fast path) must not pay.
 */
import type * as Braintrust from "braintrust"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type { SpanRow } from "../src/domain/SpanRow"
import { SpanSink, SpanSinkError, type SpanSinkService } from "../src/SpanSink"

export interface BraintrustSpanSinkOptions {
  readonly apiKey: Redacted.Redacted<string>
  /** project name; created on first use */
  readonly project: string
  /** default: the SDK's (BRAINTRUST_APP_URL, else https://www.braintrust.dev) */
  readonly appUrl?: string | undefined
  /**
   * default: the `api_url` the login answer names. The SDK has no option for it and itself
   * prefers process.env.BRAINTRUST_API_URL, so we substitute it into the login answer.
   */
  readonly apiUrl?: string | undefined
  /** which organization to log into when the key belongs to several */
  readonly orgName?: string | undefined
  /** limit for each HTTP request (login, project, /version, /logs3); default 20 s */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** SDK retries per batch after the first attempt (sleeping 1 s, 2 s, ...); default 1 */
  readonly retries?: number | undefined
  /** rows per SDK flush; keeps us far below the SDK's 15 000-item queue, which drops silently */
  readonly maxRowsPerFlush?: number | undefined
}

const SINK = "braintrust"
const DEFAULT_APP_URL = "https://www.braintrust.dev"

/** Settings read from the environment (or any ConfigProvider) when the layer is built. */
export const config: Config.Config<BraintrustSpanSinkOptions> = Config.all({
  apiKey: Config.redacted(Config.nonEmptyString("BRAINTRUST_API_KEY")),
  project: Config.nonEmptyString("BRAINTRUST_PROJECT").pipe(Config.withDefault("codex")),
  appUrl: Config.option(Config.nonEmptyString("BRAINTRUST_APP_URL")),
  // The SDK reads this variable from process.env itself, and an empty value makes its login fail
  // on every attempt; refuse it here, loudly, instead of failing every write later.
  apiUrl: Config.option(
    Config.string("BRAINTRUST_API_URL").pipe(
      Config.validate({
        message: "is set but empty, which breaks the Braintrust SDK's login; unset it or give a URL",
        validation: (url: string) => url.length > 0
      })
    )
  ),
  orgName: Config.option(Config.nonEmptyString("BRAINTRUST_ORG_NAME"))
}).pipe(
  Config.map(({ apiKey, apiUrl, appUrl, orgName, project }) => ({
    apiKey,
    project,
    appUrl: Option.getOrUndefined(appUrl),
    apiUrl: Option.getOrUndefined(apiUrl),
    orgName: Option.getOrUndefined(orgName)
  }))
)

/** What one flush observed; a fresh one per flush. */
interface Delivery {
  /** batches the SDK gave up on, as reported to `onFlushError` */
  readonly flushErrors: Array<unknown>
  /** ids of rows inside /logs3 bodies the server answered with 2xx + JSON */
  readonly acknowledgedIds: Set<string>
  /** acknowledged /logs3 requests that pointed at an overflow upload instead of inline rows */
  acknowledgedOverflows: number
  /** failed requests, to explain a failure; the SDK may have retried them successfully */
  readonly requestFailures: Array<string>
}

const emptyDelivery = (): Delivery => ({
  flushErrors: [],
  acknowledgedIds: new Set(),
  acknowledgedOverflows: 0,
  requestFailures: []
})

interface Session {
  readonly state: Braintrust.BraintrustState
  readonly logger: Braintrust.Logger<true>
  /** the SDK callbacks write into whatever delivery is current */
  readonly tracker: { current: Delivery }
}

interface Settings {
  readonly apiKey: Redacted.Redacted<string>
  readonly project: string
  readonly appUrl: string | undefined
  readonly apiUrl: string | undefined
  readonly orgName: string | undefined
  readonly timeoutMillis: number
  readonly retries: number
  readonly maxRowsPerFlush: number
}

const Logs3Body = Schema.parseJson(
  Schema.Struct({
    rows: Schema.Union(
      Schema.Array(Schema.Struct({ id: Schema.String })),
      Schema.Struct({ type: Schema.Literal("logs3_overflow") })
    )
  })
)
const decodeLogs3Body = Schema.decodeUnknownOption(Logs3Body)

const decodeJsonText = Schema.decodeUnknownOption(Schema.parseJson())

const UnknownRecord = Schema.Record({ key: Schema.String, value: Schema.Unknown })
const LoginAnswer = Schema.parseJson(Schema.Struct({ org_info: Schema.Array(UnknownRecord) }, UnknownRecord))
const decodeLoginAnswer = Schema.decodeUnknownOption(LoginAnswer)

/** One line per error; undici hides the useful part ("ECONNREFUSED", "other side closed") in `cause`. */
const describeError = (error: unknown): string => {
  const message = error instanceof Error
    ? error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message
    : String(error)
  return message.replace(/\s*\n\s*/g, " ")
}

const requestPath = (input: string | URL | Request): string => {
  const href = typeof input === "string" ? input : input instanceof URL ? input.href : input.url
  try {
    return new URL(href).pathname
  } catch {
    return href
  }
}

const recordAcknowledged = (delivery: Delivery, body: unknown): void =>
  Option.match(decodeLogs3Body(body), {
    onNone: () => {
      delivery.requestFailures.push("/logs3: accepted a body whose rows we could not read back")
    },
    onSome: ({ rows }) => {
      if ("type" in rows) {
        delivery.acknowledgedOverflows += 1
      } else {
        for (const row of rows) delivery.acknowledgedIds.add(row.id)
      }
    }
  })

/** The login answer with every organization's `api_url` replaced by ours. */
const withApiUrl = async (response: Response, apiUrl: string): Promise<Response> => {
  const text = await response.text()
  const rewritten = Option.match(decodeLoginAnswer(text), {
    // not ours to judge: hand the SDK the original text and let its own parsing fail
    onNone: () => text,
    onSome: (answer) => JSON.stringify({ ...answer, org_info: answer.org_info.map((org) => ({ ...org, api_url: apiUrl })) })
  })
  return new Response(rewritten, {
    status: response.status,
    statusText: response.statusText,
    headers: { "content-type": "application/json" }
  })
}

/**
 * The fetch the SDK uses for login, project registration, /version and /logs3. The SDK sets no
 * timeout of its own, so a server that accepts connections and never answers would hang a flush
 * (and the process) for minutes; the abort signal also covers reading the answer's body.
 */
const makeFetch = (tracker: Session["tracker"], settings: Settings): typeof globalThis.fetch =>
async (input, init) => {
  const path = requestPath(input)
  const timeout = AbortSignal.timeout(settings.timeoutMillis)
  const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout
  let response: Response
  try {
    response = await globalThis.fetch(input, { ...init, signal })
  } catch (error) {
    tracker.current.requestFailures.push(
      `${path}: ${timeout.aborted ? `no answer within ${settings.timeoutMillis} ms` : describeError(error)}`
    )
    throw error
  }
  if (!response.ok) {
    tracker.current.requestFailures.push(`${path}: HTTP ${response.status}`)
    return response
  }
  if (path.endsWith("/logs3")) {
    // the SDK counts a 2xx as success only when its body is JSON; so do we
    const answer = await response.clone().text()
    if (Option.isSome(decodeJsonText(answer))) {
      recordAcknowledged(tracker.current, init?.body)
    } else {
      tracker.current.requestFailures.push(`${path}: HTTP ${response.status} with a body that is not JSON`)
    }
    return response
  }
  if (settings.apiUrl !== undefined && path.endsWith("/api/apikey/login")) {
    return withApiUrl(response, settings.apiUrl)
  }
  return response
}

const openSession = (sdk: typeof Braintrust, settings: Settings): Session => {
  const tracker = { current: emptyDelivery() }
  const login: Braintrust.LoginOptions = {
    apiKey: Redacted.value(settings.apiKey),
    fetch: makeFetch(tracker, settings),
    // the SDK's troubleshooting output goes to the console; our stdout belongs to Codex
    debugLogLevel: false,
    ...(settings.appUrl !== undefined ? { appUrl: settings.appUrl } : {}),
    ...(settings.orgName !== undefined ? { orgName: settings.orgName } : {})
  }
  const state = new sdk.BraintrustState({
    ...login,
    // we flush explicitly; a beforeExit flush would keep a finished process alive on retries
    noExitFlush: true,
    disableSpanCache: true,
    onFlushError: (error) => {
      tracker.current.flushErrors.push(error)
    }
  })
  const background = state.httpLogger()
  // public fields of the SDK's background logger; setting them here spares us mutating
  // process.env (BRAINTRUST_NUM_RETRIES / BRAINTRUST_SYNC_FLUSH), which the SDK reads once
  background.numTries = settings.retries + 1
  // no flush per logged event: start, log and end of a span must travel as one full row
  background.syncFlush = true
  const logger = sdk.initLogger({
    ...login,
    state,
    projectName: settings.project,
    asyncFlush: true,
    setCurrent: false
  })
  return { state, logger, tracker }
}

/** Hand one row to the SDK as a span with our ids, so that re-sending it replaces the same row. */
const emitSpan = (logger: Braintrust.Logger<true>, row: SpanRow): void => {
  const { end, start, ...tokenMetrics } = row.metrics
  const span = logger.startSpan({
    name: row.span_attributes.name,
    type: row.span_attributes.type,
    spanId: row.span_id,
    // the list form also covers a parentless root: without it the SDK invents a random
    // root_span_id, different on every run
    parentSpanIds: { parentSpanIds: [...row.span_parents], rootSpanId: row.root_span_id },
    startTime: start,
    event: { id: row.id }
  })
  span.log({
    metadata: row.metadata,
    metrics: tokenMetrics,
    ...(row.input !== undefined ? { input: row.input } : {}),
    ...(row.output !== undefined ? { output: row.output } : {}),
    ...(row.error !== undefined ? { error: row.error } : {}),
    // the SDK throws on duplicate tags
    ...(row.tags !== undefined ? { tags: [...new Set(row.tags)] } : {})
  })
  span.end({ endTime: end })
}

const chunksOf = <A>(items: ReadonlyArray<A>, size: number): Array<ReadonlyArray<A>> => {
  const chunks: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size))
  return chunks
}

/**
 * Build the sink from explicit options (tests, or callers with their own configuration).
 * Writes are serialized: each one flushes the SDK and inspects what that flush did.
 */
export const make = Effect.fn("BraintrustSpanSink.make")(function*(options: BraintrustSpanSinkOptions) {
  const settings: Settings = {
    apiKey: options.apiKey,
    project: options.project,
    appUrl: options.appUrl,
    apiUrl: options.apiUrl,
    orgName: options.orgName,
    timeoutMillis: Duration.toMillis(Duration.decode(options.requestTimeout ?? "20 seconds")),
    retries: Math.max(0, Math.floor(options.retries ?? 1)),
    maxRowsPerFlush: Math.max(1, Math.floor(options.maxRowsPerFlush ?? 1000))
  }
  const lock = yield* Effect.makeSemaphore(1)
  const session = yield* Ref.make(Option.none<Session>())
  /** where the UI lives and which organization we logged into, once a write succeeded */
  const linkBase = yield* Ref.make(Option.none<{ readonly appUrl: string; readonly orgName: string }>())

  const fail = (rows: number, message: string, cause?: unknown) =>
    new SpanSinkError({ sink: SINK, rows, message, ...(cause !== undefined ? { cause } : {}) })

  const currentSession = (rows: number) =>
    Effect.flatMap(Ref.get(session), (existing) => {
      if (Option.isSome(existing)) return Effect.succeed(existing.value)
      return Effect.tryPromise({
        try: () => import("braintrust"),
        catch: (cause) => fail(rows, `cannot load the braintrust SDK: ${describeError(cause)}`, cause)
      }).pipe(
        Effect.flatMap((sdk) =>
          Effect.try({
            try: () => openSession(sdk, settings),
            catch: (cause) => fail(rows, `cannot set up the braintrust SDK: ${describeError(cause)}`, cause)
          })
        ),
        Effect.tap((opened) => Ref.set(session, Option.some(opened)))
      )
    })

  const deliverChunk = (current: Session, chunk: ReadonlyArray<SpanRow>, rows: number) =>
    Effect.gen(function*() {
      const delivery = emptyDelivery()
      current.tracker.current = delivery
      yield* Effect.try({
        try: () => {
          for (const row of chunk) emitSpan(current.logger, row)
        },
        catch: (cause) => fail(rows, `the braintrust SDK refused a row: ${describeError(cause)}`, cause)
      })
      yield* Effect.tryPromise({
        try: () => current.logger.flush(),
        catch: (cause) => fail(rows, `flushing to Braintrust failed: ${describeError(cause)}`, cause)
      })
      const missing = chunk.filter((row) => !delivery.acknowledgedIds.has(row.id)).length
      // rows too large for one request travel by overflow upload, whose ids we cannot see;
      // for those we rely on the SDK reporting a drop
      const allAcknowledged = missing === 0 || delivery.acknowledgedOverflows > 0
      if (delivery.flushErrors.length === 0 && allAcknowledged) return
      const reasons = [
        ...delivery.flushErrors.map(describeError),
        ...new Set(delivery.requestFailures)
      ]
      const summary = missing > 0
        ? `Braintrust did not acknowledge ${missing} of ${chunk.length} rows`
        : `the Braintrust SDK reported a failed flush of ${chunk.length} rows`
      return yield* fail(
        rows,
        summary + (reasons.length > 0 ? `: ${reasons.join("; ")}` : ""),
        delivery.flushErrors.length > 0 ? delivery.flushErrors : undefined
      )
    })

  const rememberLinkBase = (current: Session) => {
    const orgName = current.state.orgName
    const appUrl = current.state.appPublicUrl ?? current.state.appUrl
    return orgName !== null && appUrl !== null
      ? Ref.set(linkBase, Option.some({ appUrl, orgName }))
      : Effect.void
  }

  const write = Effect.fn("BraintrustSpanSink.write")(
    function*(rows: ReadonlyArray<SpanRow>) {
      for (const chunk of chunksOf(rows, settings.maxRowsPerFlush)) {
        const current = yield* currentSession(rows.length)
        yield* deliverChunk(current, chunk, rows.length).pipe(
          // after any failure or interruption the logger may be poisoned (cached failed login) or
          // still busy with a flush we stopped waiting for: start over with a fresh one
          Effect.onExit((exit) => (Exit.isSuccess(exit) ? rememberLinkBase(current) : Ref.set(session, Option.none())))
        )
      }
    },
    lock.withPermits(1)
  )

  const traceUrl = (rootSpanId: string) =>
    Effect.map(Ref.get(linkBase), (known) => {
      // Best effort: the UI's URL scheme is not a documented API. Without a successful login
      // (or BRAINTRUST_ORG_NAME) we do not know the organization and give no link.
      const base = Option.getOrElse(
        known,
        () => ({ appUrl: settings.appUrl ?? DEFAULT_APP_URL, orgName: settings.orgName })
      )
      if (base.orgName === undefined) return undefined
      return `${base.appUrl.replace(/\/+$/, "")}/app/${encodeURIComponent(base.orgName)}/p/${
        encodeURIComponent(settings.project)
      }/logs?r=${encodeURIComponent(rootSpanId)}`
    })

  const service: SpanSinkService = { name: SINK, write, traceUrl }
  return service
})

/** The live sink, configured from BRAINTRUST_* settings through Effect's Config. */
export const layer: Layer.Layer<SpanSink, ConfigError.ConfigError> = Layer.effect(
  SpanSink,
  Effect.flatMap(config, make)
)
