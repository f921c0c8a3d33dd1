/**
 * The rows of test/cli/bad-inputs/invoke.json once more, as real processes: bin/lambda-ml with the row's env as
 * the process env (the AWS SDK reads that one), on a copy of the bad-input starter project. Each must end with its
 * exit code, one `error:` line (plus at most a hint) and nothing else, and leave nothing behind.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { copyStarterProject, starterProject } from '../helpers/bad-input-project.js';
import { runBin } from '../helpers/cli.js';
import { assertOneLineError } from '../helpers/cli-procs.js';

interface Row {
  readonly id: string;
  readonly args: readonly string[];
  readonly exit: number;
  readonly stderr: string;
  readonly files?: Record<string, string>;
  readonly env?: Record<string, string>;
}

const ROWS = join(dirname(fileURLToPath(import.meta.url)), 'bad-inputs', 'invoke.json');
const rows = JSON.parse(await readFile(ROWS, 'utf8')) as Row[];
let emptyAwsFile = '';
let work = '';

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'lambda-ml-invoke-rows-'));
  emptyAwsFile = join(work, 'aws-empty');
  await writeFile(emptyAwsFile, '');
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
  await rm(dirname(await starterProject()), { recursive: true, force: true });
});

/** The process env of a row: no AWS variables of the caller, fake keys and empty AWS files, then the row's own. */
function rowEnv(row: Row, tmp: string): NodeJS.ProcessEnv {
  const callers = Object.keys(process.env).filter((k) => k.startsWith('AWS_'));
  const env: NodeJS.ProcessEnv = Object.fromEntries(callers.map((k) => [k, undefined]));
  Object.assign(env, { TMPDIR: tmp, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
  Object.assign(env, { AWS_CONFIG_FILE: emptyAwsFile, AWS_SHARED_CREDENTIALS_FILE: emptyAwsFile });
  for (const [key, value] of Object.entries(row.env ?? {})) env[key] = value === '' ? undefined : value;
  return env;
}

const TITLE = 'every row of bad-inputs/invoke.json, spawned: its exit code, one line, nothing left behind';
test(TITLE, { timeout: 600_000 }, async () => {
  assert.ok(rows.length >= 30, `${rows.length} rows`);
  for (const row of rows) {
    const dir = join(work, row.id);
    await copyStarterProject(dir);
    for (const [path, text] of Object.entries(row.files ?? {})) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    const tmp = join(work, `${row.id}-tmp`);
    await mkdir(tmp);
    const before = (await readdir(dir)).sort();
    const result = await runBin(row.args, { cwd: dir, env: rowEnv(row, tmp) });
    const shown = `${row.id}: exit ${result.code}\n${result.stdout}${result.stderr}`;
    assert.equal(result.code, row.exit, shown);
    assert.doesNotMatch(result.stderr, /^\s+at /m, `${row.id}: a stack trace\n${shown}`);
    if (row.args.includes('--json')) {
      const doc = JSON.parse(result.stdout);
      assert.equal(doc.ok, false, shown);
      assert.match(doc.error.message, new RegExp(row.stderr, 'i'), shown);
    } else {
      assert.equal(result.stdout, '', shown);
      assertOneLineError(result.stderr, new RegExp(row.stderr, 'i'));
    }
    assert.deepEqual((await readdir(dir)).sort(), before, `${row.id}: the project changed`);
    assert.deepEqual(await readdir(tmp), [], `${row.id}: left something in the temp dir`);
  }
});
