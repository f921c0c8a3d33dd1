/**
 * `lambda-ml init [DIR]` as a real process: the starter project (the nsfwjs content-safety model as "safety", top-1),
 * pinned handler deps, lambda-ml itself as a devDependency, a config that budgets, no silent overwrite.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { pinnedHandlerDeps } from '../../src/cli/commands/init.js';
import { cliRoot, isInstalledFromRegistry, lambdaMlSpec } from '../../src/cli/commands/init/lambda-ml-spec.js';
import { STARTER_SCRIPTS } from '../../src/cli/commands/init/starter-files.js';
import { loadConfig } from '../../src/config/load.js';
import { NODE_EXAMPLE } from '../../src/example/node-example.js';
import { HANDLER_PACKAGES } from '../../src/runtimes/node-handler.js';
import { nsfwjsLabels } from '../../src/example/nsfwjs-model.js';
import { REPO_ROOT, runBin } from '../helpers/cli.js';
import { assertOneLineError, tempDir } from '../helpers/cli-procs.js';

const FILES = ['lambda-ml.config.json', 'package.json', 'models/safety/labels.json', 'models/safety/model.json'];

/** Every written file's bytes and mtime. */
async function snapshot(dir: string): Promise<string[]> {
  return Promise.all(
    FILES.map(
      async (file) => `${file} ${(await stat(join(dir, file))).mtimeMs} ${await readFile(join(dir, file), 'utf8')}`,
    ),
  );
}

test('init DIR writes a starter project: pinned handler deps, a valid config that budgets, a model', async (t) => {
  const cwd = await tempDir(t, 'lambda-ml-init-');
  const result = await runBin(['init', 'my-classifier', '--json'], { cwd });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '');
  const dir = join(cwd, 'my-classifier');
  const body = JSON.parse(result.stdout);
  assert.equal(body.ok, true);
  assert.equal(body.dir, dir);
  for (const file of FILES) assert.ok(body.files.includes(join(dir, file)), file);
  const isShard = (file: string) => /models\/safety\/group1-shard\d+of\d+\.bin$/.test(file);
  assert.ok(body.files.some(isShard), 'the weight shards');
  assert.deepEqual(body.model, {
    name: 'safety',
    kind: 'bundled',
    about: `nsfwjs's content-safety classifier (${nsfwjsLabels().join(', ')})`,
    labels: 5,
    input: { width: 224, height: 224 },
  });
  assert.equal(body.next, "cd 'my-classifier' && npm install && npm run budget");
  for (const file of body.files) assert.ok(existsSync(file), file);

  const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
  assert.equal(pkg.name, 'my-classifier');
  assert.equal(pkg.type, 'module');
  assert.deepEqual(Object.keys(pkg.dependencies).sort(), [...HANDLER_PACKAGES].sort());
  for (const [name, version] of Object.entries(pkg.dependencies))
    assert.match(String(version), /^\d+\.\d+\.\d+(-[\w.]+)?$/, `${name} is pinned exactly, not a range`);
  assert.deepEqual(pkg.dependencies, pinnedHandlerDeps(), 'the versions lambda-ml itself was tested with');
  assert.deepEqual(pkg.devDependencies, { 'lambda-ml': `file:${REPO_ROOT}` }, "a clone: the running CLI's own folder");
  assert.deepEqual(pkg.scripts, STARTER_SCRIPTS);
  for (const script of Object.values(pkg.scripts)) assert.match(String(script), /^lambda-ml /);

  const config = await loadConfig(dir);
  assert.equal(config.function.name, 'my-classifier');
  assert.equal(config.models.length, 1);
  const [model] = config.models;
  assert.equal(model.name, 'safety');
  assert.equal(model.tag, 'safety');
  assert.equal(model.topK, 1, 'the top label only: no Porn=0.000 scores on product photos');
  assert.equal(model.path, join(dir, 'models', 'safety'));
  assert.equal(model.labels, join(dir, 'models', 'safety', 'labels.json'));
  assert.equal(model.s3, 's3://my-classifier-models/safety/');
  const labels = JSON.parse(await readFile(join(dir, 'models/safety/labels.json'), 'utf8'));
  assert.deepEqual(labels, ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy']);

  // "after npm install it packages as it is": stand in for npm install with hard links to the example's installed deps
  // (same versions), then budget the project exactly as init wrote it.
  try {
    execFileSync('cp', ['-al', join(NODE_EXAMPLE, 'node_modules'), join(dir, 'node_modules')]);
  } catch {
    t.skip(
      'cannot hard-link the example node_modules (another filesystem): the config was validated with loadConfig only',
    );
    return;
  }
  const budget = await runBin(['budget', '--json', '--config', join(dir, 'lambda-ml.config.json')], { cwd });
  assert.equal(budget.code, 0, budget.stderr);
  const report = JSON.parse(budget.stdout);
  assert.equal(report.fits, true);
  assert.equal(report.plan, 'bundle');
  // The handler bundle inlines the starter's deps (sharp ships beside it for the CPU): none is shipped again.
  const provided = report.components.deps.packages.filter((p: { providedBy: string | null }) => p.providedBy);
  assert.deepEqual(
    provided.filter((p: { providedBy: string }) => p.providedBy !== 'handler'),
    [],
  );
  assert.ok(
    provided.length > 0 && report.components.deps.afterPrune < 1_000_000,
    `${report.components.deps.afterPrune}`,
  );
  assert.ok(report.components.code.bytes > 20_000_000, `the bundle and sharp count as code + handler`);
});

test('a second init refuses to overwrite (exit 2, nothing changed); --force overwrites', async (t) => {
  const dir = await tempDir(t, 'lambda-ml-init-');
  const first = await runBin(['init', '--name', 'photos'], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^✓ wrote lambda-ml\.config\.json, package\.json, models\/safety\/ in \.\/$/m);
  const about = /^ {2}model "safety": nsfwjs's content-safety classifier \(Drawing, Hentai, Neutral, Porn, Sexy\)/m;
  assert.match(first.stdout, about);
  assert.match(first.stdout, /^ {2}your own model: lambda-ml init --force --model PATH \[--labels FILE\]/m);
  assert.match(first.stdout, /^Next: npm install && npm run budget$/m, 'in the folder itself: nothing to cd into');
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

test('the devDependency lambda-ml: file: its own folder from a clone, its version when npm installed it', async (t) => {
  assert.equal(cliRoot(), REPO_ROOT);
  assert.equal(isInstalledFromRegistry(REPO_ROOT), false);
  assert.equal(lambdaMlSpec(), `file:${REPO_ROOT}`, 'absolute, so it resolves from wherever the starter is');
  const app = await tempDir(t, 'lambda-ml-init-spec-');
  const installed = join(app, 'node_modules', 'lambda-ml');
  await mkdir(join(installed, 'dist', 'cli', 'commands', 'init'), { recursive: true });
  await writeFile(join(installed, 'package.json'), JSON.stringify({ name: 'lambda-ml', version: '1.2.3' }));
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '0.0.1' }));
  const from = join(installed, 'dist', 'cli', 'commands', 'init');
  assert.equal(cliRoot(from), installed, 'the nearest lambda-ml package.json');
  assert.equal(isInstalledFromRegistry(installed), true);
  assert.equal(lambdaMlSpec(installed), '1.2.3', "the running CLI's own version");
});
