/**
 * The runtime records (docs/design.md, "Runtimes: one record per language"): every row of lambda-runtimes.json has
 * one, and a third language is one record: registered here, "tinylang" runs `budget` and `package` with its own deps
 * layout, layer folder, prune rule and emitted file, without a line of src/ knowing it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { validateConfig } from '../../src/config/validate.js';
import { runBudget } from '../../src/pipeline/budget.js';
import { runPackage } from '../../src/pipeline/package.js';
import data from '../../src/runtimes/lambda-runtimes.json' with { type: 'json' };
import { layerPackageRoots, recordFor, registerRuntimeRecord, runtimeRecords } from '../../src/runtimes/registry.js';
import type { OwnedTree, RuntimeRecord } from '../../src/runtimes/record.js';
import { runtimeOf, type LambdaRuntime } from '../../src/runtimes/table.js';
import type { FileEntry, PackageInfo } from '../../src/types.js';

test('every row of lambda-runtimes.json maps to the record of its language', async (t) => {
  const used = new Set<string>();
  for (const row of data.runtimes) {
    await t.test(row.id, () => {
      const record = recordFor(row.id);
      used.add(record.name);
      assert.equal(record.name, row.language);
      assert.equal(recordFor(runtimeOf(row.id)), record, 'by table row as by id');
      const roots = layerPackageRoots(runtimeOf(row.id));
      assert.ok(roots.length > 0, 'the runtime loads layer packages from somewhere');
      for (const root of roots) assert.match(`${root}/x/y`, record.layers.anyRoot, `${root} is one of its folders`);
      assert.ok(record.baseMemoryBytes > 0);
    });
  }
  assert.deepEqual(
    [...used].sort(),
    runtimeRecords()
      .map((r) => r.name)
      .sort(),
    'no record without table rows',
  );
});

test('a config or a runtime id finds the same record; an unknown runtime is a bug, not a guess', () => {
  const config = validateConfig({ function: { name: 'fn', runtime: 'python3.12' } }, '/p');
  assert.equal(recordFor(config), recordFor('python3.12'));
  assert.notEqual(recordFor('nodejs24.x'), recordFor('python3.12'));
  assert.throws(() => recordFor('cobol1.x'), /unknown Lambda runtime "cobol1\.x"/);
});

// ---- a third language, "tinylang" ------------------------------------------------------------------------------
// Deps live in tl_modules/<name>/ with a tl.json naming the package; layers put them in tinylang/lib/<name>/;
// *.tldoc files are documentation (pruned); package writes tiny_boot.tl at the function root.

const TL_ROW: LambdaRuntime = Object.freeze({
  id: 'tinylang1.x',
  language: 'tinylang',
  version: '1',
  major: 1,
  minor: null,
  os: 'Amazon Linux 2023',
  glibc: [2, 34] as const,
  architectures: ['x86_64', 'arm64'] as const,
  nodeModuleVersion: null,
  deprecation: null,
  blockCreate: null,
  blockUpdate: null,
});

const BOOT = Buffer.from('tinylang boot: load tl_modules/ first\n');

const readJson = (file: string): Record<string, unknown> | null => {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
};

/** Each tl_modules/<name>/ with a tl.json is a package that owns every file below it. */
function groupTiny(walkRoot: string, tree: { entries: FileEntry[]; dirs: string[] }): OwnedTree {
  const packages: PackageInfo[] = [];
  for (const dir of tree.dirs.filter((d) => !d.includes('/'))) {
    const meta = readJson(join(walkRoot, dir, 'tl.json'));
    if (!meta) continue;
    const own = tree.entries.filter((e) => e.path.startsWith(`${dir}/`));
    packages.push({
      name: String(meta.name),
      version: String(meta.version),
      path: `tl_modules/${dir}`,
      bytes: own.reduce((s, e) => s + e.bytes, 0),
      files: own.length,
      topLevel: [String(meta.name)],
    });
  }
  const unowned = { bytes: 0, files: 0, sample: [] as string[] };
  const entries = tree.entries.map((e) => {
    const owner = packages.find((p) => e.path.startsWith(`${p.path.slice('tl_modules/'.length)}/`))?.path ?? null;
    if (owner === null) {
      unowned.bytes += e.bytes;
      unowned.files++;
    }
    return { ...e, path: `tl_modules/${e.path}`, owner };
  });
  return { packages, entries, unowned };
}

const TINY: RuntimeRecord = {
  name: 'tinylang',
  title: 'TinyLang',
  deps: {
    folder: 'tl_modules',
    install: 'tl get',
    example: 'tl_modules',
    walkRoot: (configured) => configured,
    exclude: () => new Set(),
    group: groupTiny,
    rootOf: dirname,
  },
  layers: {
    packageRoots: () => ['tinylang/lib'],
    anyRoot: /^tinylang\/lib\//,
    isMetadata: (rest) => rest.length === 2 && rest[1] === 'tl.json',
    provided: (paths, readMeta) =>
      [...new Set(paths.filter((p) => p.rest.length === 2 && p.rest[1] === 'tl.json').map((p) => p.rest[0]))].map(
        (dir) => {
          const meta = JSON.parse(readMeta(`tinylang/lib/${dir}/tl.json`) ?? '{}');
          return {
            name: meta.name,
            version: meta.version,
            kind: 'tinylang',
            topLevel: [meta.name],
            root: 'tinylang/lib',
          };
        },
      ),
    resolvedByHandler: false,
  },
  match: {
    importNames: (pkg) => [pkg.name],
    providedKeys: (pkg) => [pkg.name],
    depKeys: (pkg) => [pkg.name],
    isTopLevel: () => true,
    nests: false,
  },
  prune: { ruleFor: () => (entry) => (entry.path.endsWith('.tldoc') ? 'docs' : null), traces: false },
  emitted: () => [{ path: 'tiny_boot.tl', kind: 'file', data: BOOT }],
  handlerProvides: () => [],
  handlerNatives: () => [],
  sideloadFormat: 'zip',
  sideloadFormats: ['zip'],
  sideloadReader: 'boot file',
  defaultHandler: 'main.tl',
  baseMemoryBytes: 64 * 1024 * 1024,
  sideloadArchiveIn: 'tmp',
  loadsKeras: false,
  audit: { abiChecker: () => () => null, fixHint: () => 'rebuild with tl build --lambda' },
  invoke: { local: false, hint: 'run tl locally' },
};

/** Seeded bytes that do not compress, so sizes are real. */
function seeded(bytes: number, seed: number): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function tinyProject(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'lambda-ml-tinylang-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const files: Record<string, string | Buffer> = {
    'code/main.tl': 'use alpha\nuse beta\nhandle(event) -> alpha.classify(event)\n',
    'tl_modules/alpha/tl.json': JSON.stringify({ name: 'alpha', version: '1.2.0' }),
    'tl_modules/alpha/alpha.tl': seeded(40_000, 1),
    'tl_modules/alpha/guide.tldoc': seeded(9_000, 2),
    'tl_modules/beta/tl.json': JSON.stringify({ name: 'beta', version: '1.0.0' }),
    'tl_modules/beta/beta.tl': seeded(30_000, 3),
    'layer/tinylang/lib/beta/tl.json': JSON.stringify({ name: 'beta', version: '2.0.0' }),
    'layer/tinylang/lib/beta/beta.tl': seeded(31_000, 4),
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

const tinyConfig = (dir: string) =>
  validateConfig(
    {
      function: { name: 'tiny-fn', runtime: TL_ROW.id },
      code: 'code',
      deps: 'tl_modules',
      layers: [{ name: 'tl-base', dir: 'layer' }],
    },
    dir,
  );

test('a registered third runtime: budget scans its deps layout, strips its layer, prunes by its rule', async (t) => {
  t.after(registerRuntimeRecord(TINY, [TL_ROW]));
  const dir = tinyProject(t);
  const { budget, strip, prune } = await runBudget(tinyConfig(dir));
  assert.equal(budget.runtime, 'tinylang');
  const deps = budget.components.deps;
  assert.equal(deps.kind, 'tinylang');
  assert.deepEqual(deps.packages.map((p) => [p.name, p.version, p.providedBy]).sort(), [
    ['alpha', '1.2.0', null],
    ['beta', '1.0.0', 'tl-base'],
  ]);
  const alphaBytes = 40_000 + 9_000 + JSON.stringify({ name: 'alpha', version: '1.2.0' }).length;
  assert.equal(strip.afterStrip, alphaBytes, 'beta is left to the layer');
  assert.deepEqual(prune.rules, [{ rule: 'docs', files: 1, bytes: 9_000 }]);
  assert.equal(deps.afterPrune, alphaBytes - 9_000);
  assert.deepEqual(budget.components.layers[0].provides, ['beta']);
  assert.match(budget.warnings.join('\n'), /beta: deps have 1\.0\.0, layer tl-base provides 2\.0\.0/);
  const code = 'use alpha\nuse beta\nhandle(event) -> alpha.classify(event)\n'.length;
  assert.equal(budget.components.code.bytes, code + BOOT.length, 'the emitted file counts as code');
  const memory = budget.checks.find((c) => c.limit === 'memory')!;
  assert.ok(memory.used >= TINY.baseMemoryBytes && memory.used < recordFor('nodejs24.x').baseMemoryBytes);
  assert.equal(budget.plan, 'bundle');
});

test('a registered third runtime: package zips its code, its pruned deps and its emitted file', async (t) => {
  t.after(registerRuntimeRecord(TINY, [TL_ROW]));
  const dir = tinyProject(t);
  const run = await runPackage(tinyConfig(dir), { out: join(dir, 'out') });
  const zip = join(run.out, 'function.zip');
  execFileSync('unzip', ['-tq', zip]); // throws on a corrupt archive
  const names = execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' }).trim().split('\n').sort();
  assert.deepEqual(names, [
    'lambda-ml.runtime.json',
    'main.tl',
    'tiny_boot.tl',
    'tl_modules/alpha/alpha.tl',
    'tl_modules/alpha/tl.json',
  ]);
  assert.deepEqual(execFileSync('unzip', ['-p', zip, 'tiny_boot.tl']), BOOT);
  assert.equal(run.manifest.plan, 'bundle');
});

test('registering twice, or a name taken, is refused; unregistering forgets the runtime', () => {
  assert.throws(() => registerRuntimeRecord({ ...TINY, name: 'node' }), /named "node" exists already/);
  const remove = registerRuntimeRecord(TINY, [TL_ROW]);
  assert.equal(recordFor(TL_ROW.id), TINY);
  assert.throws(() => registerRuntimeRecord(TINY), /exists already/);
  remove();
  assert.throws(() => recordFor(TL_ROW.id), /unknown Lambda runtime "tinylang1\.x"/);
});
