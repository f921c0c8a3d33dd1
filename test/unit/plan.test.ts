/** The planner (docs/design.md §5) and layer stripping, from literals only: no fs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateConfig } from '../../src/config/validate.js';
import { MiB } from '../../src/lib/limits.js';
import { WORKING_SET_BYTES } from '../../src/plan/memory.js';
import { ephemeralMbFor, planBudget, type PlanInput } from '../../src/plan/plan-budget.js';
import { stripLayers } from '../../src/plan/strip.js';
import { NODE_BASE_BYTES } from '../../src/runtimes/node.js';
import { PYTHON_BASE_BYTES } from '../../src/runtimes/python.js';
import { recordFor, recordForKind } from '../../src/runtimes/registry.js';
import type {
  Budget,
  Config,
  DepsKind,
  FileEntry,
  LayerScan,
  ModelScan,
  PackageInfo,
  ProvidedPackage,
  Scan,
} from '../../src/types.js';

// ---- builders ---------------------------------------------------------------------------------

interface Pkg {
  name: string;
  version: string;
  path: string;
  bytes: number;
  topLevel?: string[];
}

/** A deps scan whose every package is one file of `bytes`, plus optional unowned bytes. */
function depsOf(kind: DepsKind, pkgs: readonly Pkg[], unownedBytes = 0): Scan['deps'] {
  const packages: PackageInfo[] = pkgs.map((p) => ({
    name: p.name,
    version: p.version,
    path: p.path,
    bytes: p.bytes,
    files: 1,
    topLevel: p.topLevel ?? [p.name],
  }));
  const entries: FileEntry[] = pkgs.map((p) => ({
    path: `${p.path}/file`,
    bytes: p.bytes,
    mode: 0o100644,
    link: null,
    owner: p.path,
  }));
  if (unownedBytes > 0)
    entries.push({ path: 'README.txt', bytes: unownedBytes, mode: 0o100644, link: null, owner: null });
  const bytes = entries.reduce((t, e) => t + e.bytes, 0);
  return {
    root: '/deps',
    kind,
    bytes,
    files: entries.length,
    packages,
    unowned: { bytes: unownedBytes, files: unownedBytes > 0 ? 1 : 0, sample: unownedBytes > 0 ? ['README.txt'] : [] },
    entries,
  };
}

const layerOf = (name: string, bytes: number, provides: readonly ProvidedPackage[] = []): LayerScan => ({
  name,
  source: 'zip',
  location: `/${name}.zip`,
  bytes,
  zipBytes: bytes,
  files: 1,
  provides,
});

const modelOf = (name: string, bytes: number, extra: Partial<ModelScan> = {}): ModelScan => ({
  name,
  format: 'keras-h5',
  bytes,
  memoryBytes: bytes,
  location: 's3',
  quantization: null,
  files: [],
  ...extra,
});

const node = (name: string, version: string | null): ProvidedPackage => ({
  name,
  version,
  kind: 'node',
  topLevel: [name],
});
const python = (name: string, version: string | null, topLevel: string[] = [name]): ProvidedPackage => ({
  name,
  version,
  kind: 'python',
  topLevel,
});

/** Small byte limits so the literals stay readable; /tmp and memory are in MB as configured. */
function configOf(
  overrides: {
    runtime?: string;
    plan?: string;
    ephemeralStorageMb?: number;
    memoryMb?: number;
    unzippedBytes?: number;
    zipDirectBytes?: number;
    bucket?: string;
  } = {},
): Config {
  return validateConfig(
    {
      function: {
        name: 'fn',
        runtime: overrides.runtime ?? 'nodejs24.x',
        ephemeralStorageMb: overrides.ephemeralStorageMb ?? 512,
        memoryMb: overrides.memoryMb ?? 3008,
      },
      plan: overrides.plan ?? 'auto',
      limits: { unzippedBytes: overrides.unzippedBytes ?? 1_000, zipDirectBytes: overrides.zipDirectBytes ?? 500 },
      ...(overrides.bucket ? { artifacts: { bucket: overrides.bucket } } : {}),
    },
    '/project',
  );
}

interface Case {
  deps?: Scan['deps'];
  layers?: LayerScan[];
  models?: ModelScan[];
  codeBytes?: number;
  config?: Config;
  depsZipBytes?: number | null;
  bundleZipBytes?: number | null;
  codeZipBytes?: number;
}

function inputOf(c: Case): PlanInput {
  const deps = c.deps ?? depsOf('node', []);
  const scan: Scan = {
    code: { root: '/code', bytes: c.codeBytes ?? 100, files: 1, entries: [] },
    deps,
    layers: c.layers ?? [],
    models: c.models ?? [],
  };
  const config = c.config ?? configOf();
  const runtime = recordFor(config);
  return {
    scan,
    config,
    strip: stripLayers(scan, runtime.match),
    prune: { mode: 'off', savedBytes: 0, rules: [] },
    handlerBytes: 0,
    codeZipBytes: c.codeZipBytes ?? 40,
    depsZipBytes: c.depsZipBytes ?? null,
    bundleZipBytes: c.bundleZipBytes ?? null,
    runtime,
  };
}

const plan = (c: Case) => planBudget(inputOf(c));
const checkOf = (budget: Budget, limit: string) => budget.checks.find((check) => check.limit === limit)!;
const oneDep = (bytes: number) => depsOf('node', [{ name: 'big', version: '1.0.0', path: 'node_modules/big', bytes }]);

// ---- planner ----------------------------------------------------------------------------------

test('bundle fits: code + deps unzipped under the limit', () => {
  const budget = plan({ deps: oneDep(500), bundleZipBytes: 300 });
  assert.equal(budget.fits, true);
  assert.equal(budget.plan, 'bundle');
  assert.equal(budget.reason, 'code + deps + layers unzipped fit in 1,000 bytes');
  assert.deepEqual(
    budget.checks.map((c) => c.limit),
    ['unzipped', 'zipDirect', 'tmp', 'memory', 'layers'],
  );
  assert.deepEqual(checkOf(budget, 'unzipped'), { limit: 'unzipped', used: 600, max: 1_000, ok: true, blocking: true });
  assert.deepEqual(checkOf(budget, 'zipDirect'), {
    limit: 'zipDirect',
    used: 300,
    max: 500,
    ok: true,
    blocking: false,
  });
  assert.deepEqual(checkOf(budget, 'tmp'), { limit: 'tmp', used: 0, max: 512 * MiB, ok: true, blocking: true });
  assert.equal(checkOf(budget, 'memory').used, NODE_BASE_BYTES + WORKING_SET_BYTES);
  assert.equal(checkOf(budget, 'memory').max, 3008 * MiB);
  assert.deepEqual(checkOf(budget, 'layers'), { limit: 'layers', used: 0, max: 5, ok: true, blocking: true });
  assert.deepEqual(budget.suggestions, []);
  assert.deepEqual(budget.warnings, []);
  assert.equal(budget.attempts.length, 3);
});

test('the layer counts against the unzipped limit: bundle at exactly the limit fits, one byte over does not', () => {
  const at = plan({ deps: oneDep(400), layers: [layerOf('l', 500)], bundleZipBytes: 10 });
  assert.equal(at.plan, 'bundle');
  assert.equal(checkOf(at, 'unzipped').used, 1_000);
  assert.equal(checkOf(at, 'layers').used, 1);
  const over = plan({ deps: oneDep(401), layers: [layerOf('l', 500)], bundleZipBytes: 10, depsZipBytes: 100 });
  assert.equal(over.plan, 'sideload-bundled');
});

test('sideload-bundled when the bundle exceeds the unzipped limit and deps.zip fits beside the code', () => {
  const budget = plan({ deps: oneDep(2_000), depsZipBytes: 500 });
  assert.equal(budget.fits, true);
  assert.equal(budget.plan, 'sideload-bundled');
  assert.equal(budget.reason, 'deps + layers unzipped exceed 1,000 bytes; the level-9 deps.zip fits');
  assert.equal(checkOf(budget, 'unzipped').used, 100 + 500);
  assert.equal(checkOf(budget, 'zipDirect').used, 40 + 500);
  assert.equal(checkOf(budget, 'tmp').used, 2_000, '/tmp holds the extracted deps');
  const bundle = budget.attempts[0];
  assert.equal(bundle.fits, false);
  assert.equal(bundle.checks[0].used, 2_100);
  assert.equal(budget.components.deps.zipBytes, 500);
});

test('sideload-s3 when deps.zip inside the function zip would still exceed the unzipped limit', () => {
  const node = plan({ deps: oneDep(5_000), depsZipBytes: 1_200 });
  assert.equal(node.plan, 'sideload-s3');
  assert.match(
    node.reason,
    new RegExp(
      [
        String.raw`^deps \+ layers unzipped exceed 1,000 bytes; deps\.zip inside the function zip `,
        String.raw`fails unzipped, so it is fetched from S3 at cold start$`,
      ].join(''),
    ),
  );
  assert.equal(node.attempts[1].fits, false);
  assert.equal(checkOf(node, 'unzipped').used, 100);
  assert.equal(checkOf(node, 'zipDirect').used, 40);
  assert.equal(
    checkOf(node, 'tmp').used,
    5_000,
    'Node streams deps.zip from memory: /tmp holds only the extracted deps',
  );
  assert.equal(checkOf(node, 'memory').used, NODE_BASE_BYTES + WORKING_SET_BYTES + 1_200);
  const py = plan({
    deps: depsOf('python', [{ name: 'numpy', version: '1.16.3', path: 'numpy-1.16.3.dist-info', bytes: 5_000 }]),
    depsZipBytes: 1_200,
    config: configOf({ runtime: 'python3.11' }),
  });
  assert.equal(py.plan, 'sideload-s3');
  assert.equal(checkOf(py, 'tmp').used, 5_000 + 1_200, 'the Python bootstrap downloads deps.zip to /tmp first');
  assert.equal(checkOf(py, 'memory').used, PYTHON_BASE_BYTES + WORKING_SET_BYTES);
});

test('nothing fits: each failing check and the smallest ephemeral storage that fits (re-planning with it fits)', () => {
  const models = [modelOf('a', 180_000_000), modelOf('b', 180_000_000), modelOf('c', 180_000_000)];
  const c: Case = { deps: oneDep(2_000), depsZipBytes: 500, models };
  const budget = plan(c);
  assert.equal(budget.fits, false);
  assert.equal(budget.plan, null);
  assert.match(
    budget.reason,
    /^nothing fits: bundle fails unzipped, tmp; sideload-bundled fails tmp; sideload-s3 fails tmp$/,
  );
  assert.deepEqual(budget.checks, budget.attempts[2].checks, 'the last attempt is shown');
  const tmpUsed = budget.attempts[1].checks.find((ch) => ch.limit === 'tmp')!.used;
  assert.equal(tmpUsed, 540_002_000);
  const storage = budget.suggestions.find((s) => s.kind === 'ephemeral-storage');
  assert.ok(storage, JSON.stringify(budget.suggestions));
  assert.equal(storage.value, Math.ceil(tmpUsed / MiB));
  assert.equal(storage.value, 515);
  assert.match(storage.message, /ephemeralStorageMb to 515/);
  const fixed = plan({ ...c, config: configOf({ ephemeralStorageMb: 515 }) });
  assert.equal(fixed.fits, true);
  assert.equal(fixed.plan, 'sideload-bundled');
  const short = plan({ ...c, config: configOf({ ephemeralStorageMb: 514 }) });
  assert.equal(short.fits, false, 'one MB less does not fit: the suggestion is the smallest');
  // Float32 models: each gets a quantize suggestion.
  assert.deepEqual(
    budget.suggestions.filter((s) => s.kind === 'quantize').map((s) => s.value),
    ['a', 'b', 'c'],
  );
  assert.equal(budget.suggestions.find((s) => s.kind === 'quantize')!.savesBytes, 135_000_000);
});

test('nothing fits even at the maximum /tmp: no ephemeral-storage suggestion', () => {
  const budget = plan({ deps: oneDep(2_000), depsZipBytes: 500, models: [modelOf('huge', 11_000 * MiB)] });
  assert.equal(budget.fits, false);
  assert.equal(
    budget.suggestions.some((s) => s.kind === 'ephemeral-storage'),
    false,
  );
  assert.equal(ephemeralMbFor(10_240 * MiB), 10_240);
  assert.equal(ephemeralMbFor(10_240 * MiB + 1), null);
  assert.equal(ephemeralMbFor(1), 512, 'never below the minimum');
});

test('memory over: a memory suggestion, and models count as their float32 weights', () => {
  const models = [modelOf('a', 10_000_000, { memoryBytes: 900 * MiB })];
  const budget = plan({ deps: oneDep(500), bundleZipBytes: 100, models, config: configOf({ memoryMb: 1024 }) });
  assert.equal(budget.fits, false);
  const memory = budget.attempts[0].checks.find((ch) => ch.limit === 'memory')!;
  assert.equal(memory.used, NODE_BASE_BYTES + WORKING_SET_BYTES + 900 * MiB);
  assert.equal(memory.ok, false);
  const suggestion = budget.suggestions.find((s) => s.kind === 'memory');
  assert.equal(suggestion?.value, Math.ceil(memory.used / MiB));
});

test('move-to-layer: re-planned with the biggest packages in a new layer; only suggested if that makes it fit', () => {
  const deps = depsOf('node', [
    { name: 'huge', version: '2.0.0', path: 'node_modules/huge', bytes: 200_000_000 },
    { name: 'mid', version: '1.0.0', path: 'node_modules/mid', bytes: 150_000_000 },
    { name: 'tiny', version: '1.0.0', path: 'node_modules/tiny', bytes: 50_000_000 },
  ]);
  const config = configOf({ unzippedBytes: 262_144_000, zipDirectBytes: 52_428_800 });
  // deps (400 MB) + models (300 MB) overflow 512 MB of /tmp; with huge in a layer, /tmp holds 500 MB and the
  // function (deps.zip shrunk in proportion) + layer stay under 262,144,000 bytes.
  const budget = plan({ deps, depsZipBytes: 100_000_000, models: [modelOf('m', 300_000_000)], config });
  assert.equal(budget.fits, false);
  const move = budget.suggestions.find((s) => s.kind === 'move-to-layer');
  assert.ok(move, JSON.stringify(budget.suggestions));
  assert.equal(move.value, 'huge@2.0.0');
  assert.equal(move.savesBytes, 200_000_000);
  assert.match(move.message, /then sideload-bundled fits/);
  assert.equal(budget.suggestions.find((s) => s.kind === 'ephemeral-storage')?.value, Math.ceil(700_000_000 / MiB));
  // When a layer cannot help (the unzipped total is what is over, and a layer counts against it), no such suggestion.
  const over = plan({ deps: oneDep(5_000), depsZipBytes: 1_500, models: [modelOf('m', 11_000 * MiB)] });
  assert.equal(over.fits, false);
  assert.equal(
    over.suggestions.some((s) => s.kind === 'move-to-layer'),
    false,
  );
});

test('a forced plan that does not fit: fits false, no plan, a reason naming the failing limit', () => {
  const forced = plan({ deps: oneDep(2_000), depsZipBytes: 500, config: configOf({ plan: 'bundle' }) });
  assert.equal(forced.fits, false);
  assert.equal(forced.plan, null);
  assert.equal(forced.reason, 'plan forced by config ("plan": "bundle") does not fit: unzipped');
  assert.equal(checkOf(forced, 'unzipped').used, 2_100, 'the forced attempt is the one shown');
  const fits = plan({ deps: oneDep(2_000), depsZipBytes: 500, config: configOf({ plan: 'sideload-s3' }) });
  assert.equal(fits.fits, true);
  assert.equal(fits.plan, 'sideload-s3', 'forced even though sideload-bundled would come first');
  assert.equal(fits.reason, 'plan forced by config ("plan": "sideload-s3") and it fits');
});

test('zipDirect over is not blocking: the plan fits, with a warning to deploy through S3', () => {
  const budget = plan({ deps: oneDep(2_000), depsZipBytes: 700 });
  assert.equal(budget.fits, true);
  assert.equal(budget.plan, 'sideload-bundled');
  const zipDirect = checkOf(budget, 'zipDirect');
  assert.deepEqual(zipDirect, { limit: 'zipDirect', used: 740, max: 500, ok: false, blocking: false });
  assert.deepEqual(budget.warnings, [
    'function.zip is over 500 bytes: deploy uploads it through S3 (set artifacts.bucket)',
  ]);
  const withBucket = plan({ deps: oneDep(2_000), depsZipBytes: 700, config: configOf({ bucket: 'my-artifacts' }) });
  assert.deepEqual(withBucket.warnings, ['function.zip is over 500 bytes: deploy uploads it through S3']);
});

test('too many layers is a blocking failure with a merge suggestion', () => {
  const layers = Array.from({ length: 6 }, (_, i) => layerOf(`l${i}`, 1));
  const budget = plan({ deps: oneDep(10), layers, bundleZipBytes: 10 });
  assert.equal(budget.fits, false);
  assert.deepEqual(checkOf(budget, 'layers'), { limit: 'layers', used: 6, max: 5, ok: false, blocking: true });
  assert.equal(budget.suggestions.find((s) => s.kind === 'layers')?.value, 5);
});

test('no deps: sideload plans add nothing, bundle is code only', () => {
  const budget = plan({ deps: depsOf('none', []), bundleZipBytes: 50 });
  assert.equal(budget.plan, 'bundle');
  assert.equal(budget.attempts[1].checks[0].used, 100);
  assert.equal(budget.attempts[2].checks[2].used, 0);
});

// ---- layer stripping --------------------------------------------------------------------------

test('strip, Node: by package name; nested packages under a stripped one go too; nested copies elsewhere stay', () => {
  const deps = depsOf(
    'node',
    [
      { name: 'sharp', version: '0.35.5', path: 'node_modules/sharp', bytes: 100 },
      { name: 'color', version: '4.2.3', path: 'node_modules/sharp/node_modules/color', bytes: 20 },
      { name: '@tensorflow/tfjs', version: '4.22.0', path: 'node_modules/@tensorflow/tfjs', bytes: 300 },
      { name: 'app-utils', version: '1.0.0', path: 'node_modules/app-utils', bytes: 7 },
      { name: 'sharp', version: '0.30.0', path: 'node_modules/app-utils/node_modules/sharp', bytes: 50 },
    ],
    3,
  );
  const layers = [
    layerOf('img', 1_000, [node('sharp', '0.33.0'), node('@tensorflow/tfjs', '4.22.0'), python('numpy', '1.0')]),
  ];
  const strip = stripLayers({ deps, layers }, recordForKind(deps.kind).match);
  assert.deepEqual([...strip.strippedPaths].sort(), [
    'node_modules/@tensorflow/tfjs',
    'node_modules/sharp',
    'node_modules/sharp/node_modules/color',
  ]);
  assert.equal(strip.afterStrip, 7 + 50 + 3, 'app-utils, its own sharp copy and the unowned file');
  const byPath = new Map(strip.packages.map((p) => [p.path, p]));
  assert.equal(byPath.get('node_modules/sharp')!.providedBy, 'img');
  assert.equal(byPath.get('node_modules/sharp')!.layerVersion, '0.33.0');
  assert.equal(byPath.get('node_modules/sharp/node_modules/color')!.providedBy, 'img');
  assert.equal(byPath.get('node_modules/app-utils/node_modules/sharp')!.providedBy, null);
  assert.deepEqual(strip.mismatches, [{ name: 'sharp', ours: '0.35.5', layer: 'img', layerVersion: '0.33.0' }]);
  assert.deepEqual(strip.warnings, [
    "sharp: deps have 0.35.5, layer img provides 0.33.0; the layer's version is what runs",
  ]);
  assert.deepEqual(
    strip.packages.map((p) => p.bytes),
    [300, 100, 50, 20, 7],
    'biggest first',
  );
  assert.deepEqual(strip.kept.map((e) => e.path).sort(), [
    'README.txt',
    'node_modules/app-utils/file',
    'node_modules/app-utils/node_modules/sharp/file',
  ]);
});

test('strip, Python: PEP 503 dist names, top-level import names, and Python ignores Node layer contents', () => {
  const deps = depsOf(
    'python',
    [
      {
        name: 'Keras_Preprocessing',
        version: '1.0.9',
        path: 'Keras_Preprocessing-1.0.9.dist-info',
        bytes: 10,
        topLevel: ['keras_preprocessing'],
      },
      { name: 'Pillow', version: '5.4.1', path: 'Pillow-5.4.1.dist-info', bytes: 20, topLevel: ['PIL'] },
      {
        name: 'python-dateutil',
        version: '2.8.0',
        path: 'python_dateutil-2.8.0.dist-info',
        bytes: 30,
        topLevel: ['dateutil'],
      },
      { name: 'numpy', version: '1.16.3', path: 'numpy-1.16.3.dist-info', bytes: 40, topLevel: ['numpy'] },
      { name: 'sharp', version: '1.0', path: 'sharp-1.0.dist-info', bytes: 50, topLevel: ['sharp'] },
    ],
    5,
  );
  const layers = [
    layerOf('tf', 1_000, [
      python('keras-preprocessing', '1.0.9', ['keras_preprocessing']),
      python('PIL', null), // a bare import folder: no dist-info in the layer
      python('Python.Dateutil', '2.7.0', ['dateutil']),
      node('sharp', '1.0'),
    ]),
  ];
  const strip = stripLayers({ deps, layers }, recordForKind(deps.kind).match);
  const by = new Map(strip.packages.map((p) => [p.name, p]));
  assert.equal(by.get('Keras_Preprocessing')!.providedBy, 'tf');
  assert.equal(by.get('Pillow')!.providedBy, 'tf', 'matched by its import name PIL');
  assert.equal(by.get('Pillow')!.layerVersion, null);
  assert.equal(by.get('python-dateutil')!.providedBy, 'tf');
  assert.equal(by.get('numpy')!.providedBy, null);
  assert.equal(by.get('sharp')!.providedBy, null, 'a Node package in a layer does not provide a Python dist');
  assert.equal(strip.afterStrip, 40 + 50 + 5);
  assert.deepEqual(strip.mismatches, [{ name: 'python-dateutil', ours: '2.8.0', layer: 'tf', layerVersion: '2.7.0' }]);
  assert.equal(strip.warnings.length, 1);
  assert.match(strip.warnings[0], /^python-dateutil: deps have 2\.8\.0, layer tf provides 2\.7\.0/);
});

test('strip through the planner: afterStrip feeds every check, and packages report providedBy', () => {
  const deps = depsOf('python', [
    { name: 'tensorflow', version: '1.8.0', path: 'tensorflow-1.8.0.dist-info', bytes: 900 },
    { name: 'numpy', version: '1.16.3', path: 'numpy-1.16.3.dist-info', bytes: 300 },
  ]);
  const budget = plan({
    deps,
    layers: [layerOf('tf', 600, [python('tensorflow', '1.8.0')])],
    bundleZipBytes: 200,
    config: configOf({ runtime: 'python3.11' }),
  });
  assert.equal(budget.components.deps.bytes, 1_200);
  assert.equal(budget.components.deps.afterStrip, 300);
  assert.equal(budget.plan, 'bundle');
  assert.equal(checkOf(budget, 'unzipped').used, 100 + 300 + 600);
  assert.deepEqual(
    budget.components.deps.packages.map((p) => [p.name, p.providedBy]),
    [
      ['tensorflow', 'tf'],
      ['numpy', null],
    ],
  );
  assert.deepEqual(budget.components.layers, [
    { name: 'tf', bytes: 600, source: 'zip', provides: ['tensorflow'], packages: ['tensorflow@1.8.0'] },
  ]);
  assert.equal(budget.runtime, 'python');
});
