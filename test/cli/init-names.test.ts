/**
 * `init` names from any folder name: a table of folder names -> the npm package, Lambda function and S3 bucket names
 * it writes, each checked against npm's, Lambda's and S3's rules, the project's own config validation and a budget
 * run. `--name` is checked by the same rules (a bad one is exit 2 naming it).
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { LAMBDA_NAME, MAX_STEM, npmNameProblem, projectName, projectNameProblem } from '../../src/lib/names.js';
import { bucketNameProblem } from '../../src/lib/s3-bucket-name.js';
import { runCli } from '../helpers/cli.js';
import { assertOneLineError, tempDir } from '../helpers/cli-procs.js';

const SEVENTY = 'The Quick Brown Fox Jumps Over The Lazy Dog And Then Keeps On Running!!';
const LONG_WORD = 'a'.repeat(70);

/**
 * folder: the project folder's name. run: how init is called: "no-dir" (`init` inside it), "dot" (`init .` inside
 * it) or "arg" (`init <folder>` from its parent). name: the one stem every name is made of.
 */
const NAME_CASES: readonly { folder: string; run: 'no-dir' | 'dot' | 'arg'; name: string }[] = [
  { folder: 'shop', run: 'no-dir', name: 'shop' },
  { folder: 'shop', run: 'dot', name: 'shop' },
  { folder: 'My Shop', run: 'arg', name: 'my-shop' },
  { folder: 'Ünïcødé', run: 'arg', name: 'unicode' },
  { folder: '-x-', run: 'dot', name: 'x' },
  { folder: LONG_WORD, run: 'arg', name: 'a'.repeat(MAX_STEM) },
  { folder: SEVENTY.slice(0, 70), run: 'arg', name: 'the-quick-brown-fox-jumps-over-the-lazy-dog-and-then' },
  { folder: '123', run: 'arg', name: '123' },
  { folder: '日本語', run: 'arg', name: 'asset-classifier' },
  { folder: '!!!', run: 'dot', name: 'asset-classifier' },
  { folder: 'Bob\'s "Photo" Shop', run: 'arg', name: 'bobs-photo-shop' },
  { folder: 'sthree-photos', run: 'arg', name: 'my-sthree-photos' },
  { folder: 'Foo.Bar_Baz', run: 'arg', name: 'foo-bar-baz' },
];

/** A tiny node_modules standing in for `npm install`, so budget runs in seconds (init-e2e installs for real). */
async function fakeInstall(dir: string): Promise<void> {
  await mkdir(join(dir, 'node_modules', 'tiny-a'), { recursive: true });
  await writeFile(join(dir, 'node_modules', 'tiny-a', 'package.json'), '{ "name": "tiny-a", "version": "1.0.0" }\n');
}

const TITLE = 'folder names become valid npm, Lambda and S3 bucket names that validate and budget';

test(TITLE, { timeout: 600_000 }, async (t) => {
  const root = await tempDir(t, 'lambda-ml-init-names-');
  for (const [i, row] of NAME_CASES.entries()) {
    const parent = join(root, String(i));
    const dir = join(parent, row.folder);
    await mkdir(row.run === 'arg' ? parent : dir, { recursive: true });
    const args = row.run === 'no-dir' ? ['init'] : row.run === 'dot' ? ['init', '.'] : ['init', row.folder];
    const result = await runCli([...args, '--json'], { cwd: row.run === 'arg' ? parent : dir });
    const where = `${JSON.stringify(row.folder)} (${args.join(' ')})`;
    assert.equal(result.code, 0, `${where}: ${result.stderr}`);
    const body = JSON.parse(result.stdout);
    assert.equal(body.dir, dir, where);
    assert.equal(body.name, row.name, where);

    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    assert.equal(pkg.name, row.name, `${where}: npm name`);
    assert.equal(npmNameProblem(pkg.name), null, `${where}: npm accepts ${pkg.name}`);
    const raw = JSON.parse(await readFile(join(dir, 'lambda-ml.config.json'), 'utf8'));
    assert.equal(raw.function.name, row.name, `${where}: Lambda name`);
    assert.match(raw.function.name, LAMBDA_NAME);
    const buckets = [raw.artifacts.bucket, raw.trigger.bucket, new URL(raw.models[0].s3).host];
    assert.deepEqual(buckets, [`${row.name}-artifacts`, `${row.name}-assets`, `${row.name}-models`], where);
    for (const bucket of buckets) assert.equal(bucketNameProblem(bucket), null, `${where}: S3 accepts ${bucket}`);
    assert.deepEqual(body.buckets, { models: buckets[2], artifacts: buckets[0], assets: buckets[1] });

    const config = await loadConfig(dir); // the project's own validation (function.name, buckets, runtime, ...)
    assert.equal(config.function.name, row.name);
    await fakeInstall(dir);
    const budget = await runCli(['budget', '--json'], { cwd: dir });
    assert.equal(budget.code, 0, `${where}: budget\n${budget.stderr}${budget.stdout.slice(0, 2000)}`);
    assert.equal(JSON.parse(budget.stdout).fits, true, where);
  }
});

/** `--name` values: accepted as they are, or refused naming --name with the name that would work. */
const NAME_FLAG_CASES: readonly { name: string; ok: boolean; suggest?: string }[] = [
  { name: 'photos', ok: true },
  { name: 'shop-2', ok: true },
  { name: '123', ok: true },
  { name: 'a'.repeat(MAX_STEM), ok: true },
  { name: 'bad name!', ok: false, suggest: 'bad-name' },
  { name: 'MyShop', ok: false, suggest: 'myshop' },
  { name: 'my_shop', ok: false, suggest: 'my-shop' },
  { name: '-x', ok: false, suggest: 'x' },
  { name: 'a--b', ok: false, suggest: 'a-b' },
  { name: 'a'.repeat(MAX_STEM + 1), ok: false },
  { name: 'sthree-x', ok: false, suggest: 'my-sthree-x' },
  { name: '', ok: false, suggest: 'asset-classifier' },
];

test('--name is checked by the same rules: a bad one is exit 2 naming --name, nothing written', async (t) => {
  for (const row of NAME_FLAG_CASES) {
    assert.equal(projectNameProblem(row.name) === null, row.ok, JSON.stringify(row.name));
    if (row.ok) assert.equal(projectName(row.name), row.name);
    const cwd = await tempDir(t, 'lambda-ml-init-name-flag-');
    const result = await runCli(['init', 'sub', '--name', row.name], { cwd });
    if (row.ok) {
      assert.equal(result.code, 0, result.stderr);
      assert.equal((await loadConfig(join(cwd, 'sub'))).function.name, row.name);
      continue;
    }
    assert.equal(result.code, 2, `${JSON.stringify(row.name)}: ${result.stdout}`);
    assertOneLineError(result.stderr, new RegExp(`^error: --name ${escape(JSON.stringify(row.name))} `));
    if (row.suggest) assert.match(result.stderr, new RegExp(`^hint: .*try --name ${escape(row.suggest)}$`, 'm'));
    assert.deepEqual(await readdir(cwd), [], 'nothing written');
  }
});

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
