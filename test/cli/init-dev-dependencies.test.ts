/**
 * What makes the starter budget after `npm install`: its devDependency lambda-ml (a `file:` link to the CLI's
 * folder, outside the project) and whatever else npm marks dev-only in node_modules/.package-lock.json is left out
 * of the deps scan, so budget neither refuses the escaping link nor counts (and package never ships) dev packages.
 * Both walkers: GNU find and the Node fallback (LAMBDA_ML_NO_FIND=1).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_NODE_RUNTIME } from '../../src/runtimes/table.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/cli-procs.js';

const DEV_ONLY = ['lambda-ml', 'dev-tool', '@scope/dev-b', 'dev-nested'];
const SHIPPED = ['prod-a', 'shared'];

/** npm's hidden lockfile for the tree below: a dev link, dev packages at the top, in a scope and nested. */
const LOCKFILE = {
  name: 'shop',
  lockfileVersion: 3,
  requires: true,
  packages: {
    'node_modules/lambda-ml': { resolved: '../cli', link: true },
    '../cli': { version: '0.1.0', dev: true },
    'node_modules/dev-tool': { version: '1.0.0', dev: true },
    'node_modules/@scope/dev-b': { version: '1.0.0', dev: true },
    'node_modules/prod-a': { version: '1.0.0' },
    'node_modules/prod-a/node_modules/dev-nested': { version: '1.0.0', dev: true },
    'node_modules/shared': { version: '2.0.0' },
  },
};

async function put(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}

/** A project whose node_modules holds dev-only and shipped packages, as npm installs them. */
async function devProject(root: string): Promise<string> {
  const dir = join(root, 'shop');
  const modules = join(dir, 'node_modules');
  const cli = { name: 'lambda-ml', version: '0.1.0', bin: { 'lambda-ml': 'bin/cli.js' } };
  await put(join(root, 'cli', 'package.json'), JSON.stringify(cli));
  await put(join(root, 'cli', 'bin', 'cli.js'), '#!/usr/bin/env node\n');
  await mkdir(modules, { recursive: true });
  await symlink('../../cli', join(modules, 'lambda-ml')); // what npm writes for "lambda-ml": "file:<root>/cli"
  const pkg = (name: string, version: string) => JSON.stringify({ name, version });
  await put(join(modules, 'dev-tool', 'package.json'), pkg('dev-tool', '1.0.0'));
  await put(join(modules, 'dev-tool', 'big.js'), 'x'.repeat(1_000_000));
  await put(join(modules, '@scope', 'dev-b', 'package.json'), pkg('@scope/dev-b', '1.0.0'));
  await put(join(modules, 'prod-a', 'package.json'), pkg('prod-a', '1.0.0'));
  await put(join(modules, 'prod-a', 'index.js'), 'module.exports = 1;\n');
  await put(join(modules, 'prod-a', 'node_modules', 'dev-nested', 'package.json'), pkg('dev-nested', '1.0.0'));
  await put(join(modules, 'shared', 'package.json'), pkg('shared', '2.0.0'));
  await mkdir(join(modules, '.bin'));
  await symlink('../lambda-ml/bin/cli.js', join(modules, '.bin', 'lambda-ml'));
  await symlink('../prod-a/index.js', join(modules, '.bin', 'prod-a'));
  await put(join(modules, '.package-lock.json'), JSON.stringify(LOCKFILE, null, 2));
  const config = {
    function: { name: 'shop', runtime: DEFAULT_NODE_RUNTIME },
    deps: 'node_modules',
    models: [],
    prune: 'safe',
  };
  await put(join(dir, 'lambda-ml.config.json'), JSON.stringify(config));
  return dir;
}

for (const walker of ['find', 'node'] as const) {
  const title = `dev-only packages are not scanned, budgeted or packaged (${walker} walker)`;
  test(title, { timeout: 180_000 }, async (t) => {
    const root = await tempDir(t, 'lambda-ml-dev-deps-');
    const dir = await devProject(root);
    const saved = process.env.LAMBDA_ML_NO_FIND;
    if (walker === 'node') process.env.LAMBDA_ML_NO_FIND = '1';
    t.after(() => {
      if (saved === undefined) delete process.env.LAMBDA_ML_NO_FIND;
      else process.env.LAMBDA_ML_NO_FIND = saved;
    });

    const budget = await runCli(['budget', '--json'], { cwd: dir });
    assert.equal(budget.code, 0, budget.stderr + budget.stdout.slice(0, 1500));
    const deps = JSON.parse(budget.stdout).components.deps;
    assert.deepEqual(deps.packages.map((p: { name: string }) => p.name).sort(), [...SHIPPED].sort());
    assert.ok(deps.bytes < 100_000, `dev-tool's 1 MB is not counted (${deps.bytes} bytes)`);

    const out = join(root, 'out');
    const packaged = await runCli(['package', '--out', out, '--quiet'], { cwd: dir });
    assert.equal(packaged.code, 0, packaged.stderr);
    const names = execFileSync('unzip', ['-Z1', join(out, 'function.zip')], { encoding: 'utf8' }).split('\n');
    assert.ok(names.includes('node_modules/prod-a/index.js'), 'shipped packages are in the zip');
    assert.ok(names.includes('node_modules/.bin/prod-a'), 'and their bin links');
    for (const dev of [...DEV_ONLY, '.bin/lambda-ml']) {
      const isDev = (name: string) => name === `node_modules/${dev}` || name.includes(`node_modules/${dev}/`);
      assert.ok(!names.some(isDev), `${dev} is not in the zip`);
    }
  });
}

test("without npm's lockfile nothing is known to be dev-only: the escaping link is refused as before", async (t) => {
  const root = await tempDir(t, 'lambda-ml-dev-deps-');
  const dir = await devProject(root);
  await rm(join(dir, 'node_modules', '.package-lock.json'));
  const budget = await runCli(['budget'], { cwd: dir });
  assert.equal(budget.code, 2);
  assert.match(budget.stderr, /^error: .*node_modules\/lambda-ml: symlink escapes the tree \(-> \.\.\/\.\.\/cli\)$/m);
});
