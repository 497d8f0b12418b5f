/**
 * Which SpanSink a command uses: Braintrust when `TRACE_TO_BRAINTRUST` is true and an API key
 * is set (SPEC §5), otherwise the local NDJSON store in the state directory — the embedded
 * default, which needs no account and no network.
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as BraintrustSpanSink from "../layers/BraintrustSpanSink"
import { LocalSpanSink } from "../layers/LocalSpanSink"
import { StateDir } from "./StateDir"

export const wantsBraintrust: Config.Config<boolean> = Config.all({
  enabled: Config.boolean("TRACE_TO_BRAINTRUST").pipe(Config.withDefault(false)),
  apiKey: Config.option(Config.nonEmptyString("BRAINTRUST_API_KEY"))
}).pipe(Config.map(({ apiKey, enabled }) => enabled && Option.isSome(apiKey)))

export const SelectedSpanSink = Layer.unwrapEffect(
  Effect.map(wantsBraintrust, (braintrust) => (braintrust ? BraintrustSpanSink.layer : LocalSpanSink.layer))
).pipe(Layer.provide(StateDir.layer))
