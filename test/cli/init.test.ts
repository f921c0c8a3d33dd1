/** `lambda-ml init [DIR]` as a real process: the starter project, pinned deps, a config that budgets, no silent overwrite. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { pinnedHandlerDeps } from '../../src/cli/commands/init.js';
import { loadConfig } from '../../src/config/load.js';
import { NODE_EXAMPLE } from '../../src/example/node-example.js';
import { HANDLER_PACKAGES } from '../../src/pack/handler-files.js';
import { runBin } from '../helpers/cli.js';
import { assertOneLineError, tempDir } from '../helpers/cli-procs.js';

const FILES = ['lambda-ml.config.json', 'package.json', 'models/classifier/labels.json'];

/** Every written file's bytes and mtime. */
async function snapshot(dir: string): Promise<string[]> {
  return Promise.all(FILES.map(async (file) => `${file} ${(await stat(join(dir, file))).mtimeMs} ${await readFile(join(dir, file), 'utf8')}`));
}

test('init DIR writes the starter project: pinned handler deps, a config that validates and budgets, a model', async (t) => {
  const cwd = await tempDir(t, 'lambda-ml-init-');
  const result = await runBin(['init', 'my-classifier', '--json'], { cwd });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '');
  const dir = join(cwd, 'my-classifier');
  const body = JSON.parse(result.stdout);
  assert.equal(body.ok, true);
  assert.equal(body.dir, dir);
  assert.deepEqual(body.files, FILES.map((file) => join(dir, file)));
  assert.equal(body.model, 'MobileNetV2 (nsfwjs)');
  for (const file of [...FILES, 'models/classifier/model.json']) assert.ok(existsSync(join(dir, file)), file);

  const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
  assert.equal(pkg.name, 'my-classifier');
  assert.equal(pkg.type, 'module');
  assert.deepEqual(Object.keys(pkg.dependencies).sort(), [...HANDLER_PACKAGES].sort());
  for (const [name, version] of Object.entries(pkg.dependencies)) assert.match(String(version), /^\d+\.\d+\.\d+(-[\w.]+)?$/, `${name} is pinned exactly, not a range`);
  assert.deepEqual(pkg.dependencies, pinnedHandlerDeps(), 'the versions lambda-ml itself was tested with');

  const config = await loadConfig(dir);
  assert.equal(config.function.name, 'my-classifier');
  assert.equal(config.models[0].path, join(dir, 'models', 'classifier'));
  assert.equal(config.models[0].labels, join(dir, 'models', 'classifier', 'labels.json'));
  const labels = JSON.parse(await readFile(join(dir, 'models/classifier/labels.json'), 'utf8'));
  assert.ok(Array.isArray(labels) || typeof labels === 'object');

  // "after npm install it packages as it is": stand in for npm install with hard links to the example's installed deps
  // (same versions), then budget the project exactly as init wrote it.
  try {
    execFileSync('cp', ['-al', join(NODE_EXAMPLE, 'node_modules'), join(dir, 'node_modules')]);
  } catch {
    t.skip('cannot hard-link the example node_modules (another filesystem): the config was validated with loadConfig only');
    return;
  }
  const budget = await runBin(['budget', '--json', '--config', join(dir, 'lambda-ml.config.json')], { cwd });
  assert.equal(budget.code, 0, budget.stderr);
  const report = JSON.parse(budget.stdout);
  assert.equal(report.fits, true);
  assert.equal(report.plan, 'bundle');
  assert.ok(report.components.deps.afterPrune > 10_000_000, `trace pruning keeps the handler's deps (${report.components.deps.afterPrune} bytes)`);
});

test('a second init refuses to overwrite (exit 2, nothing changed); --force overwrites', async (t) => {
  const dir = await tempDir(t, 'lambda-ml-init-');
  const first = await runBin(['init', '--name', 'photos'], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^✓ wrote lambda-ml\.config\.json, package\.json, models\/classifier\/labels\.json in \.\/$/m);
  assert.match(first.stdout, /Next: cd \. && npm install && npx lambda-ml budget/);
  const before = await snapshot(dir);

  const again = await runBin(['init', '--name', 'other'], { cwd: dir });
  assert.equal(again.code, 2);
  assertOneLineError(again.stderr, /lambda-ml\.config\.json already exists/);
  assert.match(again.stderr, /^hint: pass --force/m);
  assert.equal(again.stdout, '');
  assert.deepEqual(await snapshot(dir), before, 'nothing was touched');

  await writeFile(join(dir, 'lambda-ml.config.json'), '{ "edited": true }\n');
  const forced = await runBin(['init', '--force', '--name', 'other'], { cwd: dir });
  assert.equal(forced.code, 0, forced.stderr);
  const config = await loadConfig(dir);
  assert.equal(config.function.name, 'other');
  assert.equal(JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')).name, 'other');
});
