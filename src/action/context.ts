/** What the Action was asked to do: its inputs (passed as LAMBDA_ML_* env by action.yml) and GitHub's own env. */
import { isAbsolute, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';

export interface ActionContext {
  /** The project folder of the head checkout (absolute). */
  readonly workdir: string;
  /** `--config`, relative to workdir; null for lambda-ml's default lookup. */
  readonly config: string | null;
  /** A commit or branch to budget as the base (default: the pull request's base commit). */
  readonly baseRef: string | null;
  /** A stored `budget --json` of the base (absolute); wins over baseRef. */
  readonly baseJson: string | null;
  readonly token: string | null;
  readonly api: string;
  /** owner/name */
  readonly repo: string | null;
  /** The pull request's number; null outside pull_request events (then nothing is commented). */
  readonly issue: number | null;
  readonly files: number;
  readonly artifact: string;
  readonly comment: boolean;
  /** Where report.html, base.json and head.json go. */
  readonly outDir: string;
  readonly summaryPath: string | null;
  readonly outputPath: string | null;
  readonly runUrl: string | null;
  /** The command that runs the head's lambda-ml (argv prefix). */
  readonly cli: readonly string[];
}

/** The event payload's fields we use (GITHUB_EVENT_PATH). */
export interface EventPayload {
  readonly pull_request?: { readonly number?: number; readonly base?: { readonly sha?: string } };
}

const text = (value: string | undefined) => (value === undefined || value.trim() === '' ? null : value.trim());

/** Reads the context; `event` is the parsed GITHUB_EVENT_PATH file (or null). */
export function readActionContext(
  env: NodeJS.ProcessEnv,
  event: EventPayload | null,
  execPath = process.execPath,
): ActionContext {
  const workspace = env.GITHUB_WORKSPACE ?? process.cwd();
  const workdir = resolve(workspace, text(env.LAMBDA_ML_WORKING_DIRECTORY) ?? '.');
  const files = Number(text(env.LAMBDA_ML_FILES) ?? '10');
  if (!Number.isInteger(files) || files < 0) {
    throw new Error(`files must be a whole number, got "${env.LAMBDA_ML_FILES}"`);
  }
  const baseJson = text(env.LAMBDA_ML_BASE_JSON);
  const server = text(env.GITHUB_SERVER_URL) ?? 'https://github.com';
  const repo = text(env.GITHUB_REPOSITORY);
  const runId = text(env.GITHUB_RUN_ID);
  const cliOverride = text(env.LAMBDA_ML_CLI);
  return {
    workdir,
    config: text(env.LAMBDA_ML_CONFIG),
    baseRef: text(env.LAMBDA_ML_BASE_REF) ?? event?.pull_request?.base?.sha ?? null,
    baseJson: baseJson === null ? null : isAbsolute(baseJson) ? baseJson : resolve(workdir, baseJson),
    token: text(env.LAMBDA_ML_GITHUB_TOKEN),
    api: text(env.GITHUB_API_URL) ?? 'https://api.github.com',
    repo,
    issue: typeof event?.pull_request?.number === 'number' ? event.pull_request.number : null,
    files,
    artifact: text(env.LAMBDA_ML_ARTIFACT) ?? 'lambda-ml-report',
    comment: (text(env.LAMBDA_ML_COMMENT) ?? 'true') !== 'false',
    outDir: join(text(env.RUNNER_TEMP) ?? tmpdir(), 'lambda-ml-report'),
    summaryPath: text(env.GITHUB_STEP_SUMMARY),
    outputPath: text(env.GITHUB_OUTPUT),
    runUrl: repo && runId ? `${server}/${repo}/actions/runs/${runId}` : null,
    // The head's own lambda-ml, as `npm ci` installed it (docs/ci.md): the same CLI budgets both checkouts.
    cli: [execPath, cliOverride ?? join(workdir, 'node_modules', 'lambda-ml', 'bin', 'lambda-ml')],
  };
}
