/**
 * The product's source scenario at full size (scale 1, generated once and cached under fixtures/generated/):
 * `lambda-ml budget --json` through the real executable, asserting plans, exit codes and exact byte totals.
 * Each scale-1 budget deflates the kept deps at level 9, so every run happens once, and they run concurrently.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { after, test } from 'node:test';
import { MiB } from '../../src/lib/limits.js';
import { runBin, type CliResult } from '../helpers/cli.js';
import { ensureScenario, type Scenario } from '../helpers/scenario.js';

const LAYER = 'tf_keras_pillow';
const KEPT = ['colorgram.py', 'numpy', 'webcolors'];
const SPEC_TOP_LEVEL = ['fits', 'plan', 'reason', 'components', 'checks', 'suggestions'];
const ADDED_TOP_LEVEL = [
  'schemaVersion',
  'ok',
  'runtime',
  'attempts',
  'warnings',
  'prune',
  'warnAtPercent',
  'binaries',
  'cost',
];
const CHECKS = ['unzipped', 'zipDirect', 'tmp', 'memory', 'layers'];

// Generate (or reuse) the three scenarios, then start their budgets at once: they are CPU-bound on deflate.
const base = await ensureScenario();
const threeModels = await ensureScenario({ models: 3 });
const noLayer = await ensureScenario({ layer: false });
const budgetOf = (s: Scenario) => runBin(['budget', '--json'], { cwd: s.dir });
const runs = { base: budgetOf(base), threeModels: budgetOf(threeModels), noLayer: budgetOf(noLayer) };
// Never leave a rejection unhandled while an earlier test is still running.
for (const run of Object.values(runs)) run.catch(() => undefined);

const scratch = mkdtempSync(join(tmpdir(), 'lambda-ml-budget-scenario-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Parses a --json run: exactly one document on stdout, nothing on stderr. */
function parse(run: CliResult): any {
  assert.equal(run.stderr, '', 'stderr must be empty under --json');
  const body = JSON.parse(run.stdout);
  assert.equal(run.stdout, `${JSON.stringify(body, null, 2)}\n`, 'one JSON document and nothing else');
  return body;
}

const findSum = (dir: string) =>
  execFileSync('find', [dir, '-type', 'f', '-printf', '%s\\n'], { maxBuffer: 64 << 20 })
    .toString()
    .trim()
    .split('\n')
    .reduce((total, line) => total + Number(line), 0);

function unzipTotal(zip: string): number {
  const lines = execFileSync('unzip', ['-l', zip], { maxBuffer: 64 << 20 })
    .toString()
    .trim()
    .split('\n');
  return Number(/^\s*(\d+)/.exec(lines[lines.length - 1])![1]);
}

const check = (body: any, limit: string) => body.checks.find((c: { limit: string }) => c.limit === limit);
const attemptCheck = (body: any, strategy: string, limit: string) =>
  body.attempts
    .find((a: { strategy: string }) => a.strategy === strategy)
    .checks.find((c: { limit: string }) => c.limit === limit);

/** The docs/design.md §9 shape: field names are a contract (fields may be added, never renamed). */
function assertShape(body: any): void {
  assert.deepEqual(Object.keys(body).sort(), [...SPEC_TOP_LEVEL, ...ADDED_TOP_LEVEL].sort());
  assert.deepEqual(Object.keys(body.components).sort(), ['code', 'deps', 'layers', 'models']);
  assert.equal(typeof body.components.code.bytes, 'number');
  for (const key of ['bytes', 'afterStrip', 'afterPrune']) assert.ok(Number.isInteger(body.components.deps[key]), key);
  assert.ok(body.components.deps.zipBytes === null || Number.isInteger(body.components.deps.zipBytes));
  assert.ok(body.components.deps.packages.length > 0);
  for (const pkg of body.components.deps.packages) {
    assert.equal(typeof pkg.name, 'string');
    assert.equal(typeof pkg.version, 'string');
    assert.ok(Number.isInteger(pkg.bytes) && pkg.bytes > 0, `${pkg.name} bytes`);
    assert.ok(pkg.providedBy === null || typeof pkg.providedBy === 'string', `${pkg.name} providedBy`);
  }
  for (const layer of body.components.layers) {
    assert.equal(typeof layer.name, 'string');
    assert.ok(Number.isInteger(layer.bytes));
    assert.ok(Array.isArray(layer.provides) && layer.provides.every((p: unknown) => typeof p === 'string'));
  }
  for (const model of body.components.models) {
    assert.deepEqual(
      [typeof model.name, typeof model.bytes, typeof model.memoryBytes, model.location],
      ['string', 'number', 'number', 's3'],
    );
  }
  assert.deepEqual(
    body.checks.map((c: { limit: string }) => c.limit),
    CHECKS,
  );
  for (const c of body.checks) {
    for (const key of ['limit', 'used', 'max', 'ok']) assert.ok(key in c, `check ${c.limit} has ${key}`);
    assert.equal(c.ok, c.used <= c.max);
  }
  assert.ok(Array.isArray(body.suggestions));
}

test('default scenario: exit 0, sideload-bundled, exact totals for deps, layer and what the strip keeps', async () => {
  const run = await runs.base;
  assert.equal(run.code, 0, run.stderr);
  const body = parse(run);
  assertShape(body);
  assert.equal(body.ok, true);
  assert.equal(body.fits, true);
  assert.equal(body.plan, 'sideload-bundled');
  assert.equal(body.reason, 'deps + layers unzipped exceed 262,144,000 bytes (250 MiB); the level-9 deps.zip fits');
  assert.equal(body.runtime, 'python');
  const { code, deps, layers, models } = body.components;
  // deps: exactly what the generator wrote, and what find sums.
  assert.equal(deps.kind, 'python');
  assert.equal(deps.bytes, 415_000_000);
  assert.equal(deps.bytes, base.expected.depsBytes);
  assert.equal(deps.bytes, findSum(base.depsDir));
  assert.equal(deps.files, base.expected.depsFiles);
  // The layer: 230,000,000 bytes from its central directory, as unzip -l totals it.
  assert.equal(layers.length, 1);
  assert.equal(layers[0].name, LAYER);
  assert.equal(layers[0].bytes, 230_000_000);
  assert.equal(layers[0].bytes, unzipTotal(base.layerZip as string));
  // provides: import names, as docs/design.md §9 shows them (PIL, not Pillow); packages: the distributions.
  for (const name of ['tensorflow', 'keras', 'PIL', 'boto3', 'botocore', 'scipy'])
    assert.ok(layers[0].provides.includes(name), name);
  for (const name of ['tensorflow@1.8.0', 'Keras@2.2.4', 'Pillow@5.4.1', 'boto3@1.9.137'])
    assert.ok(layers[0].packages.includes(name), name);
  for (const name of ['colorgram', 'numpy', 'webcolors']) assert.ok(!layers[0].provides.includes(name), name);
  // After the strip: numpy + colorgram.py + webcolors (81,000,000) plus the one file no distribution owns, which stays.
  const readme = statSync(join(base.depsDir, 'README.txt')).size;
  assert.deepEqual(deps.unowned, { bytes: readme, files: 1, sample: ['README.txt'] });
  assert.equal(deps.afterStrip, base.expected.keptBytes + readme);
  assert.equal(deps.afterStrip, 81_000_000 + readme);
  const kept = deps.packages.filter((p: { providedBy: string | null }) => p.providedBy === null);
  assert.deepEqual(kept.map((p: { name: string }) => p.name).sort(), KEPT);
  assert.equal(
    kept.reduce((total: number, p: { bytes: number }) => total + p.bytes, 0),
    81_000_000,
  );
  assert.ok(
    deps.packages
      .filter((p: { providedBy: string | null }) => p.providedBy !== null)
      .every((p: { providedBy: string }) => p.providedBy === LAYER),
  );
  assert.equal(deps.packages.reduce((total: number, p: { bytes: number }) => total + p.bytes, 0) + readme, deps.bytes);
  assert.deepEqual(body.warnings, [], 'the layer has the same versions');
  // The exact level-9 deps.zip, and the checks built from it.
  assert.ok(deps.afterPrune <= deps.afterStrip);
  assert.ok(
    Number.isInteger(deps.zipBytes) && deps.zipBytes > 0 && deps.zipBytes < deps.afterPrune / 2,
    `zip ${deps.zipBytes}`,
  );
  assert.deepEqual(
    models.map((m: { name: string; bytes: number }) => [m.name, m.bytes]),
    [
      ['category', 159_000_000],
      ['color', 159_000_000],
    ],
  );
  assert.ok(code.bytes >= base.expected.codeBytes);
  assert.deepEqual(check(body, 'unzipped'), {
    limit: 'unzipped',
    used: code.bytes + deps.zipBytes + 230_000_000,
    max: 262_144_000,
    ok: true,
    blocking: true,
  });
  assert.equal(check(body, 'zipDirect').max, 52_428_800);
  // /tmp holds the extracted deps in 4 KiB blocks (docs/design.md §2), more than their file bytes.
  assert.ok(deps.diskBytes > deps.afterPrune, `blocks ${deps.diskBytes} over file bytes ${deps.afterPrune}`);
  assert.deepEqual(check(body, 'tmp'), {
    limit: 'tmp',
    used: deps.diskBytes + 318_000_000,
    max: 512 * MiB,
    ok: true,
    blocking: true,
  });
  assert.equal(check(body, 'memory').max, 3008 * MiB);
  assert.deepEqual(check(body, 'layers'), { limit: 'layers', used: 1, max: 5, ok: true, blocking: true });
  // Why not bundle: deps + layer unzipped are over.
  assert.equal(attemptCheck(body, 'bundle', 'unzipped').ok, false);
  assert.deepEqual(body.suggestions, []);
});

test('three models: nothing fits in 512 MB of /tmp (exit 1); the suggested /tmp size fits (exit 0)', async () => {
  const run = await runs.threeModels;
  assert.equal(run.code, 1, run.stderr);
  const body = parse(run);
  assertShape(body);
  assert.equal(body.fits, false);
  assert.equal(body.plan, null);
  assert.match(body.reason, /^nothing fits: /);
  const tmp = attemptCheck(body, 'sideload-bundled', 'tmp');
  assert.equal(tmp.used, body.components.deps.diskBytes + 3 * 159_000_000);
  assert.equal(tmp.ok, false);
  assert.equal(attemptCheck(body, 'sideload-bundled', 'unzipped').ok, true, 'only /tmp stands in the way');
  const storage = body.suggestions.find((s: { kind: string }) => s.kind === 'ephemeral-storage');
  assert.ok(storage, JSON.stringify(body.suggestions));
  const needed = Math.ceil(tmp.used / MiB);
  assert.equal(storage.value, needed);
  assert.ok(needed > 512 && needed < 10_240);
  assert.match(storage.message, new RegExp(`ephemeralStorageMb to ${needed}\\b`));

  // The same scenario with that value, through --config (paths made absolute: the config lives elsewhere).
  const config = JSON.parse(readFileSync(threeModels.configPath, 'utf8'));
  const abs = (p: string) => (isAbsolute(p) ? p : join(threeModels.dir, p));
  config.function.ephemeralStorageMb = needed;
  config.code = abs(config.code);
  config.deps = abs(config.deps);
  config.layers = config.layers.map((l: { zip: string }) => ({ ...l, zip: abs(l.zip) }));
  config.models = config.models.map((m: { path: string }) => ({ ...m, path: abs(m.path) }));
  const configPath = join(scratch, 'raised.config.json');
  writeFileSync(configPath, JSON.stringify(config));
  const raised = await runBin(['budget', '--json', '--config', configPath], { cwd: scratch });
  assert.equal(raised.code, 0, raised.stderr);
  const fixed = parse(raised);
  assert.equal(fixed.fits, true);
  assert.equal(fixed.plan, 'sideload-bundled');
  assert.deepEqual(check(fixed, 'tmp'), { limit: 'tmp', used: tmp.used, max: needed * MiB, ok: true, blocking: true });
  assert.equal(fixed.components.deps.zipBytes, body.components.deps.zipBytes, 'the same deps, the same exact zip');
});

test('no layer: nothing fits (exit 1), with the failing limits and suggestions', async () => {
  const run = await runs.noLayer;
  assert.equal(run.code, 1, run.stderr);
  const body = parse(run);
  assertShape(body);
  assert.equal(body.fits, false);
  assert.equal(body.plan, null);
  assert.deepEqual(body.components.layers, []);
  assert.equal(body.components.deps.bytes, 415_000_000);
  assert.equal(body.components.deps.afterStrip, 415_000_000, 'nothing is stripped without a layer');
  assert.ok(body.components.deps.packages.every((p: { providedBy: string | null }) => p.providedBy === null));
  assert.equal(attemptCheck(body, 'bundle', 'unzipped').ok, false);
  for (const strategy of ['sideload-bundled', 'sideload-s3'])
    assert.equal(attemptCheck(body, strategy, 'tmp').ok, false, strategy);
  assert.deepEqual(check(body, 'layers'), { limit: 'layers', used: 0, max: 5, ok: true, blocking: true });
  assert.ok(body.suggestions.length > 0);
  assert.ok(body.suggestions.some((s: { kind: string }) => s.kind === 'quantize'));
});
