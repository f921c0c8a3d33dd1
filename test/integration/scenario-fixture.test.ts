import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { type Scenario, ensureScenario, makeScenario } from '../helpers/scenario.js';

const SMALL = 0.01;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'lambda-ml-scenario-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** path (relative) -> size, as `find` sees regular files. */
function listTree(dir: string): Map<string, number> {
  const out = execFileSync('find', [dir, '-type', 'f', '-printf', '%P\\t%s\\n'], { maxBuffer: 64 << 20 }).toString();
  return new Map(
    out
      .trim()
      .split('\n')
      .map((line) => {
        const [path, size] = line.split('\t');
        return [path, Number(size)] as const;
      }),
  );
}

/** Entries of `unzip -l`: path -> size (folders excluded), plus the listing's own total line. */
function listZip(zip: string): { files: Map<string, number>; total: number } {
  const lines = execFileSync('unzip', ['-l', zip], { maxBuffer: 64 << 20 })
    .toString()
    .trim()
    .split('\n');
  const total = Number(/^\s*(\d+)/.exec(lines[lines.length - 1])?.[1]);
  const files = new Map<string, number>();
  for (const line of lines.slice(3, -2)) {
    const match = /^\s*(\d+)\s+\S+\s+\S+\s+(.+)$/.exec(line);
    assert.ok(match, `unparsed unzip -l line: ${line}`);
    if (!match[2].endsWith('/')) files.set(match[2], Number(match[1]));
  }
  return { files, total };
}

const sumValues = (map: ReadonlyMap<string, number>) => [...map.values()].reduce((a, b) => a + b, 0);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('base64url');

/**
 * Every file but `unowned` is in exactly one RECORD, every RECORD line is a file of its own dist (under its
 * top_level names, its dist-info, bin/ or a root __pycache__), and sizes/hashes match.
 */
function checkRecords(
  files: ReadonlyMap<string, number>,
  read: (path: string) => Buffer,
  unowned: readonly string[],
  prefix = '',
): Map<string, number> {
  const owner = new Map<string, string>();
  const distBytes = new Map<string, number>();
  const records = [...files.keys()].filter((path) => /^[^/]+\.dist-info\/RECORD$/.test(path.slice(prefix.length)));
  assert.ok(records.length >= 25, `found ${records.length} RECORDs`);
  for (const record of records) {
    const info = record.slice(prefix.length).split('/')[0];
    const tops = read(`${prefix}${info}/top_level.txt`).toString().trim().split('\n');
    const isOwn = (path: string) =>
      path.startsWith(`${info}/`) ||
      path.startsWith('bin/') ||
      /^[^/]+\.pth$/.test(path) ||
      tops.some((top) => path.startsWith(`${top}/`) || path === `${top}.py` || path.startsWith(`__pycache__/${top}.`));
    let bytes = 0;
    for (const line of read(record).toString().trim().split('\n')) {
      const [path, hash, size] = line.split(',');
      assert.ok(isOwn(path), `${info} RECORD lists a foreign file: ${path}`);
      assert.ok(!owner.has(path), `${path} is in ${owner.get(path)} and ${info}`);
      owner.set(path, info);
      const actual = files.get(prefix + path);
      assert.ok(actual !== undefined, `${info} RECORD lists a missing file: ${path}`);
      bytes += actual;
      if (path.endsWith('.pyc') || path === `${info}/RECORD`) {
        assert.equal(`${hash},${size}`, ',', `${path} should be recorded without hash, as pip does`);
      } else {
        assert.equal(Number(size), actual, `${path} size`);
        assert.equal(hash, `sha256=${sha256(read(prefix + path))}`, `${path} hash`);
      }
    }
    distBytes.set(info, bytes);
  }
  const stray = [...files.keys()].map((path) => path.slice(prefix.length)).filter((path) => !owner.has(path));
  assert.deepEqual(stray.sort(), [...unowned].sort());
  return distBytes;
}

function checkElf(data: Buffer, path: string): void {
  assert.equal(data.subarray(0, 4).toString('latin1'), '\x7fELF', `${path} ELF magic`);
  assert.equal(data[4], 2, `${path} is ELF64`);
  assert.equal(data.readUInt16LE(18), 62, `${path} e_machine is x86_64`);
}

function deflateRatio(samples: readonly Buffer[]): number {
  const raw = samples.reduce((n, b) => n + b.length, 0);
  return raw / samples.reduce((n, b) => n + deflateRawSync(b, { level: 9 }).length, 0);
}

/** Checks shared by every scale: exact totals vs. what `find`/`unzip -l` see, and the config. */
function checkTotals(s: Scenario, scale: number): void {
  const deps = listTree(s.depsDir);
  assert.equal(sumValues(deps), s.expected.depsBytes);
  assert.equal(deps.size, s.expected.depsFiles);
  assert.equal(s.expected.depsBytes, Math.round(415_000_000 * scale));
  assert.equal(s.expected.keptBytes, Math.round(81_000_000 * scale));
  assert.equal(sumValues(listTree(s.codeDir)), s.expected.codeBytes);
  assert.equal(s.expected.codeBytes, Math.round(1_000_000 * scale));
  assert.match(readFileSync(join(s.codeDir, 'handler.py'), 'utf8'), /^import lambda_ml_bootstrap\b/);
  for (const model of s.modelPaths) {
    assert.equal(statSync(model).size, Math.round(159_000_000 * scale));
    assert.deepEqual(readFileSync(model).subarray(0, 8), Buffer.from('\x89HDF\r\n\x1a\n', 'latin1'));
  }
  assert.equal(s.expected.modelBytes, s.modelPaths.length * Math.round(159_000_000 * scale));
  if (s.layerZip) {
    const zip = listZip(s.layerZip);
    assert.equal(zip.total, s.expected.layerBytes);
    assert.equal(sumValues(zip.files), s.expected.layerBytes);
    assert.equal(zip.files.size, s.expected.layerFiles);
    assert.equal(s.expected.layerBytes, Math.round(230_000_000 * scale));
    assert.ok([...zip.files.keys()].every((path) => path.startsWith('python/')));
  }
  const config = JSON.parse(readFileSync(s.configPath, 'utf8'));
  assert.equal(config.function.runtime, 'python3.11');
  assert.equal(config.deps, 'deps');
  assert.deepEqual(
    config.models.map((m: { path: string }) => join(s.dir, m.path)),
    s.modelPaths,
  );
}

test('scale 0.01: exact totals, RECORDs own every file, ELF headers, layer zip', async (t) => {
  const started = performance.now();
  const s = await makeScenario(join(tempDir(t), 'scenario'), { scale: SMALL });
  t.diagnostic(`generated in ${Math.round(performance.now() - started)} ms: ${JSON.stringify(s.expected)}`);
  checkTotals(s, SMALL);

  const deps = listTree(s.depsDir);
  const distBytes = checkRecords(deps, (path) => readFileSync(join(s.depsDir, path)), ['README.txt']);
  const kept = ['numpy-1.16.3.dist-info', 'colorgram.py-1.2.0.dist-info', 'webcolors-1.8.1.dist-info'];
  assert.equal(
    kept.reduce((n, info) => n + (distBytes.get(info) ?? 0), 0),
    s.expected.keptBytes,
  );
  for (const info of [
    'Keras-2.2.4.dist-info',
    'Pillow-5.4.1.dist-info',
    'tensorflow-1.8.0.dist-info',
    'python_dateutil-2.8.0.dist-info',
    'boto3-1.9.137.dist-info',
    'protobuf-3.7.1.dist-info',
    'PyYAML-5.1.dist-info',
  ])
    assert.ok(distBytes.has(info), info);
  assert.equal(readFileSync(join(s.depsDir, 'colorgram.py-1.2.0.dist-info/top_level.txt'), 'utf8'), 'colorgram\n');
  assert.equal(readFileSync(join(s.depsDir, 'protobuf-3.7.1.dist-info/top_level.txt'), 'utf8'), 'google\n');
  assert.ok(
    deps.has('webcolors.py') && deps.has('__pycache__/webcolors.cpython-311.pyc'),
    'installed for the config runtime, python3.11',
  );
  const tf = distBytes.get('tensorflow-1.8.0.dist-info') ?? 0;
  assert.ok(tf > 0.55 * s.expected.depsBytes, 'tensorflow dominates the tree');

  const sharedObjects = [...deps.keys()].filter((path) => /\.so(\.|$)/.test(path));
  assert.ok(
    sharedObjects.some((p) => p.startsWith('numpy/')) &&
      sharedObjects.some((p) => p.startsWith('PIL/')) &&
      sharedObjects.some((p) => p.startsWith('grpc/')) &&
      sharedObjects.some((p) => p.startsWith('tensorflow/')),
  );
  for (const path of sharedObjects) checkElf(readFileSync(join(s.depsDir, path)), path);

  assert.ok(s.layerZip);
  execFileSync('unzip', ['-tq', s.layerZip]);
  const zip = listZip(s.layerZip);
  const unzipped = join(tempDir(t), 'layer');
  execFileSync('unzip', ['-q', s.layerZip, '-d', unzipped]);
  const layerDists = checkRecords(zip.files, (path) => readFileSync(join(unzipped, path)), [], 'python/');
  assert.ok(!layerDists.has('numpy-1.16.3.dist-info') && !layerDists.has('webcolors-1.8.1.dist-info'));
  assert.ok(
    layerDists.has('Keras-2.2.4.dist-info') &&
      layerDists.has('Pillow-5.4.1.dist-info') &&
      layerDists.has('boto3-1.9.137.dist-info'),
  );

  const config = JSON.parse(readFileSync(s.configPath, 'utf8'));
  assert.deepEqual(config.limits, { unzippedBytes: 2_621_440, zipDirectBytes: 524_288 });
  assert.equal(config.function.ephemeralStorageMb, 512);
  assert.deepEqual(config.layers, [{ name: 'tf_keras_pillow', zip: 'layer.zip' }]);
  assert.deepEqual(
    config.models.map((m: { name: string }) => m.name),
    ['category', 'color'],
  );
});

test('content compresses like real libraries: ~4x for Python, 2-3x for shared objects', async (t) => {
  const s = await makeScenario(join(tempDir(t), 'scenario'), { scale: SMALL, layer: false });
  const deps = [...listTree(s.depsDir)].sort((a, b) => b[1] - a[1]);
  const sample = (re: RegExp) =>
    deps
      .filter(([path]) => re.test(path))
      .slice(0, 8)
      .map(([path]) => readFileSync(join(s.depsDir, path)));
  const py = deflateRatio(sample(/\.py$/));
  const so = deflateRatio(sample(/\.so$/));
  t.diagnostic(`deflate level 9 ratio: .py ${py.toFixed(2)}, .so ${so.toFixed(2)}`);
  assert.ok(py >= 3.5 && py <= 5, `.py ratio ${py}`);
  assert.ok(so >= 2 && so <= 3, `.so ratio ${so}`);
});

test('generation is deterministic per seed', async (t) => {
  const root = tempDir(t);
  const a = await makeScenario(join(root, 'a'), { scale: SMALL, layer: false });
  const b = await makeScenario(join(root, 'b'), { scale: SMALL, layer: false });
  const c = await makeScenario(join(root, 'c'), { scale: SMALL, layer: false, seed: 'other' });
  assert.deepEqual(a.expected, b.expected);
  // RECORDs hold the sha256 of every file of their dist, so equal RECORDs mean equal trees.
  const samples = [
    'tensorflow-1.8.0.dist-info/RECORD',
    'numpy-1.16.3.dist-info/RECORD',
    'tensorflow/python/_pywrap_tensorflow_internal.so',
    'six.py',
    'README.txt',
  ];
  for (const rel of samples) {
    assert.equal(sha256(readFileSync(join(a.depsDir, rel))), sha256(readFileSync(join(b.depsDir, rel))), rel);
  }
  assert.equal(
    sha256(readFileSync(join(a.codeDir, 'asset_utils.py'))),
    sha256(readFileSync(join(b.codeDir, 'asset_utils.py'))),
  );
  assert.notEqual(sha256(readFileSync(join(a.depsDir, 'six.py'))), sha256(readFileSync(join(c.depsDir, 'six.py'))));
});

test('options: three models, no layer, other ephemeral storage', async (t) => {
  const s = await makeScenario(join(tempDir(t), 'scenario'), {
    scale: SMALL,
    models: 3,
    layer: false,
    ephemeralStorageMb: 2048,
  });
  checkTotals(s, SMALL);
  assert.equal(s.layerZip, null);
  assert.equal(s.expected.layerBytes, 0);
  const config = JSON.parse(readFileSync(s.configPath, 'utf8'));
  assert.deepEqual(config.layers, []);
  assert.equal(config.function.ephemeralStorageMb, 2048);
  assert.deepEqual(
    config.models.map((m: { tag: string }) => m.tag),
    ['category', 'color', 'style'],
  );
  await assert.rejects(makeScenario(join(tempDir(t), 'tiny'), { scale: 0.0001 }), /scale too small/);
});

test('ensureScenario builds once and survives a race', async (t) => {
  const options = { scale: SMALL, layer: false, seed: `race-${process.pid}-${Date.now()}` };
  const [a, b] = await Promise.all([ensureScenario(options), ensureScenario(options)]);
  t.after(() => rmSync(a.dir, { recursive: true, force: true }));
  assert.equal(a.dir, b.dir);
  assert.match(a.dir, /fixtures\/generated\/scenario-[0-9a-f]{12}$/);
  assert.deepEqual(a.expected, b.expected);
  checkTotals(a, SMALL);
  const again = await ensureScenario(options);
  assert.deepEqual(again, a);
  const leftovers = execFileSync('find', [
    join(a.dir, '..'),
    '-maxdepth',
    '1',
    '-name',
    `.tmp-${a.dir.slice(-12)}-*`,
  ]).toString();
  assert.equal(leftovers, '');
});

test('scale 1: the full 415 MB scenario, exact decimal totals (cached under fixtures/generated)', async (t) => {
  const started = performance.now();
  const s = await ensureScenario();
  t.diagnostic(`ensureScenario() took ${Math.round(performance.now() - started)} ms: ${JSON.stringify(s.expected)}`);
  checkTotals(s, 1);
  assert.equal(s.expected.depsBytes, 415_000_000);
  assert.equal(s.expected.keptBytes, 81_000_000);
  assert.equal(s.expected.layerBytes, 230_000_000);
  assert.equal(s.expected.modelBytes, 2 * 159_000_000);
  assert.ok(s.expected.depsFiles > 5_000, `${s.expected.depsFiles} files`);
  const model = statSync(s.modelPaths[0]);
  assert.ok(model.blocks * 512 < model.size / 10, 'models are sparse');
  const config = JSON.parse(readFileSync(s.configPath, 'utf8'));
  assert.equal(config.limits, undefined);
});
