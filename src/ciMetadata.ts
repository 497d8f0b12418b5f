/**
 * Which CI job a Codex session ran in, as root-span metadata teams can filter on: provider, run
 * id and URL, repository, ref/branch, commit, job, workflow and who triggered it. Read from the
 * environment the provider sets (GitHub Actions, GitLab CI, Buildkite, CircleCI; `CI=true` alone
 * gives `ci_provider: "generic"`). Pure: the caller passes the environment (Settings reads it
 * through Effect Config) and captures it when a session starts.
 */
import { stripUrlCredentials } from "./redaction"

export { CI_ENV_NAMES } from "./live/sessionEnv"

export type CiEnv = Readonly<Partial<Record<string, string | undefined>>>

const truthy = (value: string | undefined): boolean => value !== undefined && /^(?:true|1|yes)$/i.test(value.trim())

/** keys in a fixed order, empty and missing values left out */
const compact = (entries: ReadonlyArray<readonly [string, string | undefined]>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [key, value] of entries) if (value !== undefined && value.trim() !== "") out[key] = value
  return out
}

const githubActions = (env: CiEnv): Record<string, string> => {
  const server = env["GITHUB_SERVER_URL"] ?? "https://github.com"
  const repository = env["GITHUB_REPOSITORY"]
  const runId = env["GITHUB_RUN_ID"]
  const attempt = env["GITHUB_RUN_ATTEMPT"]
  const runUrl = repository && runId
    ? `${server}/${repository}/actions/runs/${runId}${attempt && attempt !== "1" ? `/attempts/${attempt}` : ""}`
    : undefined
  return compact([
    ["ci_provider", "github-actions"],
    ["ci_run_id", runId],
    ["ci_run_number", env["GITHUB_RUN_NUMBER"]],
    ["ci_run_attempt", attempt],
    ["ci_run_url", runUrl],
    ["ci_repository", repository],
    ["ci_ref", env["GITHUB_REF"]],
    // on pull requests GITHUB_REF_NAME is "<n>/merge"; the branch is the PR's head
    ["ci_branch", env["GITHUB_HEAD_REF"] || env["GITHUB_REF_NAME"]],
    ["ci_commit", env["GITHUB_SHA"]],
    ["ci_job", env["GITHUB_JOB"]],
    ["ci_workflow", env["GITHUB_WORKFLOW"]],
    ["ci_event", env["GITHUB_EVENT_NAME"]],
    ["ci_actor", env["GITHUB_ACTOR"]]
  ])
}

const gitlab = (env: CiEnv): Record<string, string> =>
  compact([
    ["ci_provider", "gitlab"],
    ["ci_run_id", env["CI_PIPELINE_ID"]],
    ["ci_run_number", env["CI_PIPELINE_IID"]],
    ["ci_run_url", env["CI_PIPELINE_URL"]],
    ["ci_repository", env["CI_PROJECT_PATH"]],
    ["ci_ref", env["CI_COMMIT_REF_NAME"]],
    ["ci_branch", env["CI_COMMIT_BRANCH"] || env["CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"]],
    ["ci_commit", env["CI_COMMIT_SHA"]],
    ["ci_job", env["CI_JOB_NAME"]],
    ["ci_job_id", env["CI_JOB_ID"]],
    ["ci_job_url", env["CI_JOB_URL"]],
    ["ci_event", env["CI_PIPELINE_SOURCE"]],
    ["ci_actor", env["GITLAB_USER_LOGIN"]]
  ])

const buildkite = (env: CiEnv): Record<string, string> =>
  compact([
    ["ci_provider", "buildkite"],
    ["ci_run_id", env["BUILDKITE_BUILD_ID"]],
    ["ci_run_number", env["BUILDKITE_BUILD_NUMBER"]],
    ["ci_run_url", env["BUILDKITE_BUILD_URL"]],
    ["ci_repository", stripUrlCredentials(env["BUILDKITE_REPO"])],
    ["ci_ref", env["BUILDKITE_TAG"]],
    ["ci_branch", env["BUILDKITE_BRANCH"]],
    ["ci_commit", env["BUILDKITE_COMMIT"]],
    ["ci_job", env["BUILDKITE_LABEL"] || env["BUILDKITE_STEP_KEY"]],
    ["ci_job_id", env["BUILDKITE_JOB_ID"]],
    ["ci_workflow", env["BUILDKITE_PIPELINE_SLUG"]],
    ["ci_event", env["BUILDKITE_SOURCE"]],
    ["ci_actor", env["BUILDKITE_BUILD_CREATOR"]]
  ])

const circleci = (env: CiEnv): Record<string, string> => {
  const owner = env["CIRCLE_PROJECT_USERNAME"]
  const name = env["CIRCLE_PROJECT_REPONAME"]
  return compact([
    ["ci_provider", "circleci"],
    ["ci_run_id", env["CIRCLE_WORKFLOW_ID"]],
    ["ci_run_number", env["CIRCLE_BUILD_NUM"]],
    ["ci_run_url", env["CIRCLE_BUILD_URL"]],
    ["ci_repository", owner && name ? `${owner}/${name}` : stripUrlCredentials(env["CIRCLE_REPOSITORY_URL"])],
    ["ci_ref", env["CIRCLE_TAG"]],
    ["ci_branch", env["CIRCLE_BRANCH"]],
    ["ci_commit", env["CIRCLE_SHA1"]],
    ["ci_job", env["CIRCLE_JOB"]],
    ["ci_actor", env["CIRCLE_USERNAME"]]
  ])
}

/** Root metadata describing the CI job of this environment (`ci_*` keys); empty outside CI. */
export const ciMetadata = (env: CiEnv): Record<string, string> => {
  if (truthy(env["GITHUB_ACTIONS"])) return githubActions(env)
  if (truthy(env["GITLAB_CI"])) return gitlab(env)
  if (truthy(env["BUILDKITE"])) return buildkite(env)
  if (truthy(env["CIRCLECI"])) return circleci(env)
  if (truthy(env["CI"])) return { ci_provider: "generic" }
  return {}
}
