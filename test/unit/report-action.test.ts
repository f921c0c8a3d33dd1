/**
 * The Action's steps after `npm ci` (src/action/run.ts), end to end on a real git repository: the base commit
 * checked out with `git worktree add`, both budgeted by the real CLI (bin/lambda-ml), the comment posted to the
 * loopback GitHub server (test/helpers/github-server.ts), the job summary and outputs written as Actions reads them.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { readActionContext, type ActionContext } from '../../src/action/context.js';
import { FORK_NOTE, runAction } from '../../src/action/run.js';
import { COMMENT_MARKER } from '../../src/report/pr-comment.js';
import { FORK_TOKEN, startGitHubServer, WRITE_TOKEN, type GitHubServer } from '../helpers/github-server.js';
import { BIN } from '../helpers/package-cli.js';

const REPO = 'acme/shop';
let server: GitHubServer;
let root: string;
let repo: string;
let baseSha: string;

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.com',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.com',
};
const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8', env: GIT_ENV }).trim();

function write(rel: string, content: string | Buffer): void {
  const file = join(repo, 'app', rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
}

const CONFIG = { function: { name: 'fn', runtime: 'nodejs24.x' }, deps: 'node_modules' };

before(async () => {
  server = await startGitHubServer();
  root = mkdtempSync(join(tmpdir(), 'lambda-ml-action-'));
  repo = join(root, 'repo');
  mkdirSync(repo);
  git('init', '-q', '-b', 'main');
  write('lambda-ml.config.json', JSON.stringify(CONFIG));
  write('node_modules/left-pad/package.json', '{"name":"left-pad","version":"1.3.0"}');
  write('node_modules/left-pad/index.js', randomBytes(5_000));
  git('add', '-A');
  git('commit', '-qm', 'base');
  baseSha = git('rev-parse', 'HEAD');
  // The pull request adds a package with a native addon.
  write('node_modules/canvas/package.json', '{"name":"canvas","version":"2.11.2"}');
  write('node_modules/canvas/build/Release/canvas.node', randomBytes(300_000));
  git('add', '-A');
  git('commit', '-qm', 'head');
});
after(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

let runNo = 0;
/** A fresh context per run, as action.yml's env and GitHub's own would give it. */
function context(pr: number, env: Record<string, string> = {}): ActionContext & { summary: string; outputs: string } {
  const dir = join(root, `run-${++runNo}`);
  mkdirSync(dir);
  const summary = join(dir, 'summary.md');
  const outputs = join(dir, 'outputs');
  const ctx = readActionContext(
    {
      GITHUB_WORKSPACE: repo,
      GITHUB_API_URL: server.url,
      GITHUB_REPOSITORY: REPO,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_RUN_ID: '42',
      RUNNER_TEMP: dir,
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_OUTPUT: outputs,
      LAMBDA_ML_WORKING_DIRECTORY: 'app',
      LAMBDA_ML_GITHUB_TOKEN: WRITE_TOKEN,
      LAMBDA_ML_CLI: BIN,
      LAMBDA_ML_FILES: '5',
      ...env,
    },
    { pull_request: { number: pr, base: { sha: baseSha } } },
  );
  return { ...ctx, summary, outputs };
}

const log = () => {};
/** GITHUB_OUTPUT's name=value lines. */
function outputsOf(file: string): Record<string, string> {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  return Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}
const ours = (pr: number) => server.issueComments(REPO, pr);

test('context: inputs and the pull request from the event; defaults', () => {
  const env = {
    GITHUB_WORKSPACE: '/w',
    LAMBDA_ML_WORKING_DIRECTORY: 'svc',
    LAMBDA_ML_BASE_JSON: 'base.json',
    GITHUB_REPOSITORY: 'o/r',
    GITHUB_RUN_ID: '9',
    RUNNER_TEMP: '/t',
  };
  const ctx = readActionContext(env, { pull_request: { number: 3, base: { sha: 'abc' } } }, '/node');
  const { workdir, baseJson, baseRef, issue, files, artifact, comment, outDir, runUrl, cli } = ctx;
  assert.deepEqual(
    { workdir, baseJson, baseRef, issue, files, artifact, comment, outDir, runUrl, cli },
    {
      workdir: '/w/svc',
      baseJson: '/w/svc/base.json',
      baseRef: 'abc',
      issue: 3,
      files: 10,
      artifact: 'lambda-ml-report',
      comment: true,
      outDir: '/t/lambda-ml-report',
      runUrl: 'https://github.com/o/r/actions/runs/9',
      cli: ['/node', '/w/svc/node_modules/lambda-ml/bin/lambda-ml'],
    },
  );
  const push = readActionContext(
    { GITHUB_WORKSPACE: '/w', LAMBDA_ML_COMMENT: 'false', LAMBDA_ML_BASE_REF: 'main' },
    null,
  );
  assert.deepEqual([push.issue, push.baseRef, push.comment], [null, 'main', false]);
  assert.throws(() => readActionContext({ LAMBDA_ML_FILES: 'ten' }, null), /files must be a whole number/);
});

test(
  'a PR against its base: one comment with the delta, the summary, the outputs; the worktree removed',
  {
    timeout: 120_000,
  },
  async () => {
    const ctx = context(7);
    const outcome = await runAction(ctx, { log });
    assert.equal(outcome.exitCode, 0, outcome.body);
    assert.equal(outcome.comment, 'created');
    assert.equal(ours(7).length, 1);
    const body = ours(7)[0].body;
    assert.ok(body.startsWith(`${COMMENT_MARKER}\n### lambda-ml budget: ✅ fits (plan \`bundle\`)`), body);
    const headroom = String.raw`^\*\*[\d.]+ [KM]iB unzipped of 250 MiB \([\d.]+%\), [\d.]+ MiB headroom\*\* `;
    const lead = new RegExp(`${headroom}${String.raw`\(\+293 KiB against the base\)$`}`, 'm');
    assert.match(body, lead);
    assert.match(body, /\| `canvas` \| 2\.11\.2 \| – \| 293 KiB \| \+293 KiB \(new\) \|/);
    assert.match(body, new RegExp(`compared with the base ${baseSha.slice(0, 7)}`));
    const summary = readFileSync(ctx.summary, 'utf8');
    assert.match(summary, /## lambda-ml budget: fn/, 'budget --markdown wrote the job summary');
    assert.match(summary, /`canvas`/, 'with the delta');
    const outputs = outputsOf(ctx.outputs);
    assert.equal(outputs['exit-code'], '0');
    assert.equal(outputs.comment, 'created');
    assert.equal(outputs.fits, 'true');
    assert.equal(git('worktree', 'list').split('\n').length, 1, 'the base worktree is gone');
    // This lambda-ml has --base/--html/--files: budget itself wrote the delta, the HTML report and the largest files.
    assert.ok(outcome.html, 'budget --html wrote the report');
    assert.equal(outputs.html, outcome.html);
    const html = readFileSync(outcome.html, 'utf8');
    assert.ok(html.startsWith('<!doctype html>') && html.includes('"changed":{"canvas":"added'), 'canvas outlined');
    assert.match(body, /HTML report \(treemap\): artifact `lambda-ml-report`/);
    assert.match(
      body,
      /⚠️ new native binary: `node_modules\/canvas\/build\/Release\/canvas\.node` \(`canvas@2\.11\.2`/,
    );
    assert.match(
      summary,
      /^\*\*[\d.]+ [KM]iB unzipped of 250 MiB \([\d.]+%\), [\d.]+ MiB headroom\*\*$/m,
      'leads with the headroom',
    );
    assert.match(
      summary,
      /\*\*Largest files\*\*[\s\S]*`node_modules\/canvas\/build\/Release\/canvas\.node`/,
      '--files 5',
    );
    assert.match(summary, /\*\*Against the base:\*\* unzipped \+293 KiB/, 'budget --markdown --base wrote the delta');

    const again = await runAction(context(7), { log });
    assert.equal(again.comment, 'unchanged', 'nothing changed: no write');
    write('node_modules/canvas/extra.js', randomBytes(100_000));
    git('add', '-A');
    git('commit', '-qm', 'more');
    try {
      const grown = await runAction(context(7), { log });
      assert.equal(grown.comment, 'updated');
      assert.equal(ours(7).length, 1, 'never a second comment');
      assert.match(ours(7)[0].body, /\+391 KiB \(new\)/);
    } finally {
      git('reset', '-q', '--hard', 'HEAD~1');
    }
  },
);

test('a stored base JSON instead of a base checkout', { timeout: 60_000 }, async () => {
  const stored = join(root, 'stored-base.json');
  writeFileSync(stored, execFileSync(process.execPath, [BIN, 'budget', '--json'], { cwd: join(repo, 'app') }));
  const outcome = await runAction(context(1, { LAMBDA_ML_BASE_JSON: stored, LAMBDA_ML_COMMENT: 'false' }), { log });
  assert.equal(outcome.comment, 'skipped');
  assert.match(outcome.body, /Packages: 0 added, 0 removed, 0 grown, 0 shrunk, 2 unchanged/);
  assert.match(outcome.body, /compared with the stored base budget/);
});

test(
  "a fork's token: the comment falls back to the job summary with a note; the check follows budget",
  {
    timeout: 60_000,
  },
  async () => {
    server.seed(REPO, 8, `${COMMENT_MARKER}\nfrom an earlier run`, 'github-actions[bot]');
    const before = ours(8).map((c) => c.body);
    const ctx = context(8, { LAMBDA_ML_GITHUB_TOKEN: FORK_TOKEN, LAMBDA_ML_BASE_REF: 'HEAD' });
    const outcome = await runAction(ctx, { log });
    assert.deepEqual([outcome.exitCode, outcome.comment], [0, 'fallback']);
    assert.ok(readFileSync(ctx.summary, 'utf8').includes(FORK_NOTE));
    assert.deepEqual(
      ours(8).map((c) => c.body),
      before,
      'nothing written',
    );
  },
);

test('over budget: exit 1 fails the check, and the comment says what fails', { timeout: 60_000 }, async () => {
  write('lambda-ml.config.json', JSON.stringify({ ...CONFIG, limits: { unzippedBytes: 50_000 } }));
  try {
    const outcome = await runAction(context(9, { LAMBDA_ML_BASE_REF: 'HEAD' }), { log });
    assert.equal(outcome.exitCode, 1);
    assert.equal(outcome.comment, 'created');
    assert.match(ours(9)[0].body, /### lambda-ml budget: ❌ does not fit/);
    assert.match(ours(9)[0].body, /over by [\d.]+ [KM]iB\*\*/);
    assert.match(
      ours(9)[0].body,
      /^Why: nothing fits: bundle fails unzipped/m,
      'the reason once, not "Nothing fits: nothing fits"',
    );
  } finally {
    git('checkout', '-q', '--', 'app/lambda-ml.config.json');
  }
});

test(
  'budget cannot run on the head (exit 2): an error comment replaces the report, the check fails',
  {
    timeout: 60_000,
  },
  async () => {
    write('lambda-ml.config.json', JSON.stringify({ ...CONFIG, functoin: {} }));
    try {
      server.seed(REPO, 10, `${COMMENT_MARKER}\nthe report of an earlier run`, 'github-actions[bot]');
      const ctx = context(10, { LAMBDA_ML_BASE_REF: 'HEAD' });
      const outcome = await runAction(ctx, { log });
      assert.deepEqual([outcome.exitCode, outcome.comment], [2, 'updated']);
      assert.equal(ours(10).length, 1);
      const body = ours(10)[0].body;
      assert.match(body, /could not run on the head \(exit 2: bad input/);
      assert.match(body, /```text\nerror: .*functoin/);
      assert.equal(outputsOf(ctx.outputs)['exit-code'], '2');
      assert.match(readFileSync(ctx.summary, 'utf8'), /could not run on the head/);
    } finally {
      git('checkout', '-q', '--', 'app/lambda-ml.config.json');
    }
  },
);
