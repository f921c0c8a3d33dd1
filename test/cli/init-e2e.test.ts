/**
 * `init` end to end, as a new user runs it: init in an empty folder called "shop" (no DIR: the folder "."), and
 * `init "My Shop"` from its parent; then the printed Next line pasted into a shell (a real `npm install`, which
 * links the devDependency lambda-ml to this checkout, then `npm run budget`), then `npx lambda-ml budget`.
 * The handler's deps come from npm's cache (the repository's own `npm ci` fetched the same pinned versions):
 * --prefer-offline, the user's npm cache untouched. Slow (two real installs): timings go to the test's diagnostics.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, mkdir, readFile, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { REPO_ROOT, runBin } from '../helpers/cli.js';
import { tempDir } from '../helpers/cli-procs.js';

/**
 * npm settings for the pasted line, as environment (npm_config_*), so the line itself runs as printed.
 * ignore-scripts: npm runs a linked (`file:`) dependency's `prepare`, here this checkout's `tsc` build, which would
 * rewrite dist/ under the other tests running beside this one (`npm test` builds it first). The starter's own deps
 * have no install scripts that matter (core-js's postinstall prints a banner); `npm run` still runs the script.
 */
const NPM_ENV = {
  npm_config_ignore_scripts: 'true',
  npm_config_prefer_offline: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
  npm_config_loglevel: 'error',
  NO_COLOR: '1',
};

interface Shell {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

/** Runs `line` with /bin/sh in `cwd`, as pasting it into a terminal would. */
function sh(line: string, cwd: string): Promise<Shell> {
  const started = Date.now();
  return new Promise((done, fail) => {
    const env = { ...process.env, ...NPM_ENV };
    const child = spawn('/bin/sh', ['-c', line], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 }));
  });
}

/** The project `init` wrote in `dir`: installs and budgets it through the printed Next line, then through npx. */
async function installAndBudget(t: TestContext, dir: string, cwd: string, next: string, name: string): Promise<void> {
  const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
  assert.equal(pkg.name, name);
  assert.deepEqual(pkg.devDependencies, { 'lambda-ml': `file:${REPO_ROOT}` });
  assert.equal(pkg.scripts.budget, 'lambda-ml budget');

  const pasted = await sh(next, cwd);
  t.diagnostic(`${name}: "${next}" took ${pasted.seconds.toFixed(1)} s (npm install + npm run budget)`);
  assert.equal(pasted.code, 0, `the Next line failed\n--- stdout\n${pasted.stdout}\n--- stderr\n${pasted.stderr}`);
  assert.match(pasted.stdout, new RegExp(`lambda-ml budget · ${name} \\(nodejs24\\.x`), 'budget ran on this project');
  assert.match(pasted.stdout, /^ {2}model safety \(tfjs-layers, s3\)/m);
  assert.match(pasted.stdout, /^✓ fits {2}plan bundle/m, 'and printed the plan');
  const link = join(dir, 'node_modules', 'lambda-ml');
  assert.ok(!(await readlink(link)).startsWith('/'), 'a relative link, as npm writes file: specs');
  assert.equal(await realpath(link), await realpath(REPO_ROOT), 'npm linked this checkout');

  const npx = await sh('npx lambda-ml budget --json', dir);
  t.diagnostic(`${name}: npx lambda-ml budget took ${npx.seconds.toFixed(1)} s`);
  assert.equal(npx.code, 0, npx.stderr);
  const report = JSON.parse(npx.stdout);
  assert.equal(report.fits, true);
  assert.equal(report.plan, 'bundle');
  const names: string[] = report.components.deps.packages.map((p: { name: string }) => p.name);
  assert.ok(names.includes('sharp'));
  assert.ok(!names.includes('lambda-ml'), 'the devDependency is not budgeted (it never ships)');
}

const TITLE = 'init, the printed Next line (npm install && npm run budget), npx lambda-ml budget: "." and "My Shop"';

test(TITLE, { timeout: 20 * 60_000 }, async (t) => {
  const root = await tempDir(t, 'lambda-ml-init-e2e-');

  const shop = join(root, 'shop');
  await mkdir(shop);
  const here = await runBin(['init'], { cwd: shop });
  assert.equal(here.code, 0, here.stderr);
  const hereNext = /^Next: (.+)$/m.exec(here.stdout)?.[1];
  assert.equal(hereNext, 'npm install && npm run budget');

  const spaced = await runBin(['init', 'My Shop'], { cwd: root });
  assert.equal(spaced.code, 0, spaced.stderr);
  const spacedNext = /^Next: (.+)$/m.exec(spaced.stdout)?.[1];
  assert.equal(spacedNext, "cd 'My Shop' && npm install && npm run budget");

  await installAndBudget(t, shop, shop, hereNext, 'shop');
  // "My Shop" has the same dependencies: start it from shop's installed tree (same depth, so the relative link to
  // lambda-ml still resolves). Its pasted line still runs `npm install` for real, which then has little to fetch.
  await cp(join(shop, 'node_modules'), join(root, 'My Shop', 'node_modules'), {
    recursive: true,
    verbatimSymlinks: true,
  });
  await installAndBudget(t, join(root, 'My Shop'), root, spacedNext, 'my-shop');
});
