/**
 * The environment a session starts in, kept with its SessionStart payload (SPEC §5: a session
 * keeps the settings it started with). The drainer runs once for many sessions, with the
 * environment of whichever Codex started it; so at SessionStart the hook stores the variables the
 * settings and the CI metadata are read from in `spool/<id>.env` beside the payload, and the
 * journal keeps them with that entry. The API key is left out: it is never written to disk by
 * us, and the drainer takes it from its own environment.
 *
 * Format: `NAME=value` records, each ended by a NUL byte (values may hold newlines). No Effect
 * here: the hook's bundle imports this.
 */

/** the settings' variables (Settings.ts FIELDS), BRAINTRUST_API_KEY excepted */
export const SETTING_ENV_NAMES = [
  "TRACE_TO_BRAINTRUST",
  "BRAINTRUST_PROJECT",
  "BRAINTRUST_DEFAULT_PROJECT",
  "BRAINTRUST_APP_URL",
  "BRAINTRUST_API_URL",
  "BRAINTRUST_ORG_NAME",
  "BRAINTRUST_ADDITIONAL_METADATA",
  "CODEX_PARENT_SPAN_ID",
  "CODEX_ROOT_SPAN_ID",
  "BRAINTRUST_FLUSH_ON_TURN_END",
  "TRACE_CODEX_REDACT",
  "TRACE_CODEX_REDACT_PATTERNS"
] as const

/** every variable ciMetadata.ts looks at */
export const CI_ENV_NAMES = [
  "CI",
  "GITHUB_ACTIONS", "GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_RUN_NUMBER", "GITHUB_RUN_ATTEMPT",
  "GITHUB_REF", "GITHUB_REF_NAME", "GITHUB_HEAD_REF", "GITHUB_SHA", "GITHUB_JOB", "GITHUB_WORKFLOW", "GITHUB_ACTOR",
  "GITHUB_EVENT_NAME",
  "GITLAB_CI", "CI_PIPELINE_ID", "CI_PIPELINE_IID", "CI_PIPELINE_URL", "CI_PIPELINE_SOURCE", "CI_PROJECT_PATH",
  "CI_COMMIT_REF_NAME", "CI_COMMIT_BRANCH", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "CI_COMMIT_SHA", "CI_JOB_NAME",
  "CI_JOB_ID", "CI_JOB_URL", "GITLAB_USER_LOGIN",
  "BUILDKITE", "BUILDKITE_BUILD_ID", "BUILDKITE_BUILD_NUMBER", "BUILDKITE_BUILD_URL", "BUILDKITE_REPO", "BUILDKITE_BRANCH",
  "BUILDKITE_TAG", "BUILDKITE_COMMIT", "BUILDKITE_LABEL", "BUILDKITE_STEP_KEY", "BUILDKITE_JOB_ID",
  "BUILDKITE_PIPELINE_SLUG", "BUILDKITE_BUILD_CREATOR", "BUILDKITE_SOURCE",
  "CIRCLECI", "CIRCLE_WORKFLOW_ID", "CIRCLE_BUILD_NUM", "CIRCLE_BUILD_URL", "CIRCLE_PROJECT_USERNAME",
  "CIRCLE_PROJECT_REPONAME", "CIRCLE_REPOSITORY_URL", "CIRCLE_BRANCH", "CIRCLE_TAG", "CIRCLE_SHA1", "CIRCLE_JOB",
  "CIRCLE_USERNAME"
] as const

/** what the hook stores at SessionStart, in this order */
export const SESSION_ENV_NAMES: ReadonlyArray<string> = [...SETTING_ENV_NAMES, ...CI_ENV_NAMES]

/** the records for the variables of `env` that are set (an empty value is set) */
export const formatSessionEnv = (env: Readonly<Record<string, string | undefined>>): string => {
  let out = ""
  for (const name of SESSION_ENV_NAMES) {
    const value = env[name]
    if (value !== undefined) out += `${name}=${value}\0`
  }
  return out
}

/** the records back; anything else (no `=`, a name we do not read, the API key) is ignored */
export const parseSessionEnv = (text: string): Record<string, string> => {
  const known = new Set(SESSION_ENV_NAMES)
  const env: Record<string, string> = {}
  for (const record of text.split("\0")) {
    const eq = record.indexOf("=")
    if (eq <= 0) continue
    const name = record.slice(0, eq)
    if (known.has(name)) env[name] = record.slice(eq + 1)
  }
  return env
}
