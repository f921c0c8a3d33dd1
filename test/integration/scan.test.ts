/**
 * The scanner on real trees in mkdtemp: exact sizes (as `find` sums them), packages, layers and models (docs/design.md
 * §4).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { validateConfig } from '../../src/config/validate.js';
import { LambdaMlError } from '../../src/lib/errors.js';
import { fastWalk } from '../../src/scan/find-walk.js';
import { scanLayer, scanLayerZip } from '../../src/scan/layers.js';
import { scanModel } from '../../src/scan/models.js';
import { scanProject } from '../../src/scan/scan-project.js';
import { walkTree, type Walked } from '../../src/scan/walk.js';
import type { ModelConfig } from '../../src/types.js';
import { runCli } from '../helpers/cli.js';

type T = { after: (fn: () => void) => void };

function tempDir(t: T, label = 'scan'): string {
  const dir = mkdtempSync(join(tmpdir(), `lambda-ml-${label}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `content` (or `size` seeded bytes) at root/rel, creating folders. */
function put(root: string, rel: string, content: string | number | Buffer): void {
  const file = join(root, rel);
  mkdirSync(dirname(file), { recursive: true });
  if (typeof content === 'number') {
    const buffer = Buffer.alloc(content);
    for (let i = 0; i < content; i++) buffer[i] = (i * 2654435761) >>> 24;
    writeFileSync(file, buffer);
  } else writeFileSync(file, content);
}

const pkgJson = (name: string, version: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ name, version, ...extra });

/** `find ROOT -type f -printf '%s\n'` summed: the reference every total must equal. */
function findSum(root: string): { bytes: number; files: number } {
  const out = execFileSync('find', [root, '-type', 'f', '-printf', '%s\\n'], { maxBuffer: 256 << 20 })
    .toString()
    .trim();
  const sizes = out === '' ? [] : out.split('\n').map(Number);
  return { bytes: sizes.reduce((a, b) => a + b, 0), files: sizes.length };
}

/**
 * A node_modules tree with every awkward case of docs/design.md §4. Returns the project folder (holding node_modules).
 */
function makeNodeProject(t: T): string {
  const project = tempDir(t, 'node');
  const nm = join(project, 'node_modules');
  // a@1.0.0 with an empty file, non-ASCII names, a 60-level deep file and a nested b@2.0.0.
  put(nm, 'a/package.json', pkgJson('a', '1.0.0', { bin: { tool: 'bin/tool.js' } }));
  put(nm, 'a/index.js', 1_000);
  put(nm, 'a/empty.js', '');
  put(nm, 'a/café/é.js', 321);
  put(nm, 'a/日本/データ.txt', 4_567);
  put(nm, 'a/🎉 party.txt', 89);
  put(nm, 'a/bin/tool.js', '#!/usr/bin/env node\n');
  const deep = Array.from({ length: 60 }, (_, i) => `d${i}`).join('/');
  put(nm, `a/${deep}/leaf.bin`, 777);
  put(nm, 'a/node_modules/b/package.json', pkgJson('b', '2.0.0'));
  put(nm, 'a/node_modules/b/lib/b.js', 2_222);
  // b@1.0.0 at the top as well: two versions, two packages.
  put(nm, 'b/package.json', pkgJson('b', '1.0.0'));
  put(nm, 'b/index.js', 111);
  // @scope/pkg with a hard link to a's index.js: each path counts, as find and zip count them.
  put(nm, '@scope/pkg/package.json', pkgJson('@scope/pkg', '3.1.4'));
  put(nm, '@scope/pkg/data.bin', 50_000);
  linkSync(join(nm, 'a/index.js'), join(nm, '@scope/pkg/hard-link.js'));
  // Inside symlinks: kept as symlinks, never counted.
  mkdirSync(join(nm, '.bin'));
  symlinkSync('../a/bin/tool.js', join(nm, '.bin/tool'));
  symlinkSync('index.js', join(nm, 'a/alias.js'));
  symlinkSync('../../b', join(nm, '@scope/pkg/b-link'));
  // Files no package owns.
  put(nm, '.package-lock.json', 123);
  put(nm, 'stray.txt', 45);
  // A folder without package.json is not a package.
  put(nm, '.cache/junk.bin', 10);
  return project;
}

const normalise = (walked: Walked) => ({
  entries: [...walked.entries].map((e) => ({ ...e })).sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0)),
  dirs: [...walked.dirs].sort(),
  bytes: walked.bytes,
  files: walked.files,
});

test("walkers: totals equal find's sum; fastWalk, walkTree and LAMBDA_ML_NO_FIND=1 agree entry by entry", async (t) => {
  const project = makeNodeProject(t);
  const nm = join(project, 'node_modules');
  const reference = findSum(nm);
  const slow = normalise(walkTree(nm));
  const fast = normalise(await fastWalk(nm));
  process.env.LAMBDA_ML_NO_FIND = '1';
  let noFind;
  try {
    noFind = normalise(await fastWalk(nm));
  } finally {
    delete process.env.LAMBDA_ML_NO_FIND;
  }
  assert.equal(slow.bytes, reference.bytes);
  assert.equal(slow.files, reference.files);
  assert.deepEqual(fast, slow);
  assert.deepEqual(noFind, slow);
  // Hard links: both paths are regular files of the full size.
  const hard = slow.entries.filter((e) => e.path === 'a/index.js' || e.path === '@scope/pkg/hard-link.js');
  assert.deepEqual(
    hard.map((e) => e.bytes),
    [1_000, 1_000],
  );
  // Symlinks: kept with their target, 0 bytes, not in the file count.
  const links = slow.entries.filter((e) => e.link !== null).map((e) => [e.path, e.link, e.bytes]);
  assert.deepEqual(links, [
    ['.bin/tool', '../a/bin/tool.js', 0],
    ['@scope/pkg/b-link', '../../b', 0],
    ['a/alias.js', 'index.js', 0],
  ]);
  assert.equal(slow.files, slow.entries.length - 3);
  // Names and depth survive exactly.
  const paths = new Set(slow.entries.map((e) => e.path));
  for (const name of ['a/café/é.js', 'a/日本/データ.txt', 'a/🎉 party.txt', 'a/empty.js'])
    assert.ok(paths.has(name), name);
  assert.ok(
    slow.entries.some((e) => e.path.split('/').length === 62 && e.bytes === 777),
    'the 60-level deep file',
  );
  assert.equal(slow.entries.find((e) => e.path === 'a/empty.js')!.bytes, 0);
});

test('Node deps: each package (scoped, nested) as name@version with its bytes; unowned files reported', async (t) => {
  const project = makeNodeProject(t);
  const config = validateConfig({ function: { name: 'fn' }, deps: '.' }, project);
  const scan = await scanProject(config);
  const { deps } = scan;
  const reference = findSum(join(project, 'node_modules'));
  assert.equal(deps.kind, 'node');
  assert.equal(deps.root, project);
  assert.equal(deps.bytes, reference.bytes);
  assert.equal(deps.files, reference.files);
  const size = (rel: string) => readFileSync(join(project, 'node_modules', rel)).length;
  const aBytes =
    [
      'a/package.json',
      'a/index.js',
      'a/empty.js',
      'a/café/é.js',
      'a/日本/データ.txt',
      'a/🎉 party.txt',
      'a/bin/tool.js',
    ].reduce((n, f) => n + size(f), 0) + 777;
  const packages = deps.packages.map((p) => [`${p.name}@${p.version}`, p.path, p.bytes, p.files]).sort();
  assert.deepEqual(
    packages,
    [
      ['@scope/pkg@3.1.4', 'node_modules/@scope/pkg', size('@scope/pkg/package.json') + 50_000 + 1_000, 3],
      ['a@1.0.0', 'node_modules/a', aBytes, 8],
      ['b@1.0.0', 'node_modules/b', size('b/package.json') + 111, 2],
      ['b@2.0.0', 'node_modules/a/node_modules/b', size('a/node_modules/b/package.json') + 2_222, 2],
    ].sort(),
  );
  assert.deepEqual(deps.unowned, { bytes: 123 + 45 + 10, files: 3, sample: deps.unowned.sample });
  assert.deepEqual([...deps.unowned.sample].sort(), [
    'node_modules/.cache/junk.bin',
    'node_modules/.package-lock.json',
    'node_modules/stray.txt',
  ]);
  const owned = deps.packages.reduce((n, p) => n + p.bytes, 0);
  assert.equal(owned + deps.unowned.bytes, deps.bytes, 'every byte is owned once or reported as unowned');
  // Entries sit where the function zip will put them, owned by their package folder.
  const nested = deps.entries.find((e) => e.path === 'node_modules/a/node_modules/b/lib/b.js');
  assert.equal(nested?.owner, 'node_modules/a/node_modules/b');
  assert.equal(deps.entries.find((e) => e.path === 'node_modules/stray.txt')?.owner, null);
  // Pointing deps at node_modules itself gives the same result.
  const direct = await scanProject(validateConfig({ function: { name: 'fn' }, deps: 'node_modules' }, project));
  assert.equal(direct.deps.bytes, deps.bytes);
  assert.deepEqual(direct.deps.packages, deps.packages);
});

test('a symlink escaping the tree: an input error naming it, in both walkers and the CLI (exit 2)', async (t) => {
  const project = tempDir(t, 'escape');
  put(project, 'node_modules/a/package.json', pkgJson('a', '1.0.0'));
  symlinkSync('../../../outside.txt', join(project, 'node_modules/a/evil.js'));
  const nm = join(project, 'node_modules');
  for (const walk of [() => walkTree(nm), () => fastWalk(nm)]) {
    await assert.rejects(
      async () => walk(),
      (error: LambdaMlError) => {
        assert.ok(error instanceof LambdaMlError);
        assert.equal(error.code, 'input');
        assert.match(
          error.message,
          /node_modules\/a\/evil\.js: symlink escapes the tree \(-> \.\.\/\.\.\/\.\.\/outside\.txt\)/,
        );
        return true;
      },
    );
  }
  const absolute = tempDir(t, 'escape-abs');
  put(absolute, 'x/package.json', pkgJson('x', '1.0.0'));
  symlinkSync('/etc/hostname', join(absolute, 'x/host'));
  await assert.rejects(fastWalk(absolute), /x\/host: symlink escapes the tree \(-> \/etc\/hostname\)/);
  writeFileSync(
    join(project, 'lambda-ml.config.json'),
    JSON.stringify({ function: { name: 'fn' }, deps: 'node_modules' }),
  );
  const result = await runCli(['budget'], { cwd: project });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^error: .*evil\.js: symlink escapes the tree/);
  assert.match(result.stderr, /\nhint: /);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
});

test('missing deps folder: exit 2 naming it', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'lambda-ml.config.json'), JSON.stringify({ function: { name: 'fn' }, deps: 'nope' }));
  const result = await runCli(['budget'], { cwd: dir });
  assert.equal(result.code, 2);
  assert.match(result.stderr, new RegExp(`^error: deps: ${join(dir, 'nope')} not found[^\\n]*\\nhint: `));
});

/** A `pip install -t` tree with RECORD (one quoted path), top_level.txt, a bin script and unowned files. */
function makePythonTree(t: T): string {
  const root = tempDir(t, 'python');
  const files: Record<string, string | number> = {
    'foo/__init__.py': 10,
    'foo/core.py': 2_000,
    'foo/__pycache__/core.cpython-311.pyc': 1_500,
    'foo/data/a,b.json': 300,
    'bin/foo-cli': 64,
    'foo-1.0.dist-info/METADATA': 'Metadata-Version: 2.1\nName: Foo\nVersion: 1.0\n',
    'foo-1.0.dist-info/top_level.txt': 'foo\n',
    'Keras_Preprocessing-1.0.9.dist-info/METADATA':
      'Metadata-Version: 2.1\nName: Keras-Preprocessing\nVersion: 1.0.9\n',
    'Keras_Preprocessing-1.0.9.dist-info/top_level.txt': 'keras_preprocessing\n',
    'keras_preprocessing/__init__.py': 40,
    'keras_preprocessing/image.py': 5_000,
    'six.py': 32_452,
    'six-1.12.0.dist-info/top_level.txt': 'six\n',
    // No distribution lists these:
    'README.txt': 77,
    'foo/untracked.dat': 900,
  };
  for (const [rel, content] of Object.entries(files)) put(root, rel, content);
  const record = (lines: string[]) => `${lines.join('\n')}\n`;
  put(
    root,
    'foo-1.0.dist-info/RECORD',
    record([
      'foo/__init__.py,sha256=x,10',
      'foo/core.py,sha256=x,2000',
      'foo/__pycache__/core.cpython-311.pyc,,',
      '"foo/data/a,b.json",sha256=x,300',
      'foo-1.0.dist-info/METADATA,,',
      'foo-1.0.dist-info/top_level.txt,,',
      'foo-1.0.dist-info/RECORD,,',
      'bin/foo-cli,sha256=x,64',
      '../../../bin/elsewhere,,',
    ]),
  );
  put(
    root,
    'Keras_Preprocessing-1.0.9.dist-info/RECORD',
    record([
      'keras_preprocessing/__init__.py,,',
      'keras_preprocessing/image.py,,',
      'Keras_Preprocessing-1.0.9.dist-info/METADATA,,',
      'Keras_Preprocessing-1.0.9.dist-info/top_level.txt,,',
      'Keras_Preprocessing-1.0.9.dist-info/RECORD,,',
    ]),
  );
  // six has no RECORD: only its dist-info folder is its own; six.py is then unowned.
  return root;
}

test('Python deps: a dist-info owns its RECORD files; top_level.txt names imports; unowned files listed', async (t) => {
  const root = makePythonTree(t);
  const scan = await scanProject(validateConfig({ function: { name: 'fn', runtime: 'python3.11' }, deps: '.' }, root));
  const { deps } = scan;
  assert.equal(deps.kind, 'python');
  assert.equal(deps.root, root);
  assert.equal(deps.bytes, findSum(root).bytes);
  const size = (rel: string) => readFileSync(join(root, rel)).length;
  const by = new Map(deps.packages.map((p) => [p.name, p]));
  assert.deepEqual([...by.keys()].sort(), ['Foo', 'Keras-Preprocessing', 'six']);
  const foo = by.get('Foo')!;
  assert.equal(foo.version, '1.0');
  assert.deepEqual(foo.topLevel, ['foo']);
  assert.equal(foo.path, 'foo-1.0.dist-info');
  assert.equal(foo.files, 8);
  assert.equal(
    foo.bytes,
    10 +
      2_000 +
      1_500 +
      300 +
      64 +
      size('foo-1.0.dist-info/METADATA') +
      size('foo-1.0.dist-info/top_level.txt') +
      size('foo-1.0.dist-info/RECORD'),
  );
  const keras = by.get('Keras-Preprocessing')!;
  assert.equal(keras.version, '1.0.9');
  assert.deepEqual(keras.topLevel, ['keras_preprocessing']);
  assert.equal(by.get('six')!.bytes, size('six-1.12.0.dist-info/top_level.txt'));
  assert.equal(deps.unowned.files, 3);
  assert.equal(deps.unowned.bytes, 77 + 900 + 32_452);
  assert.deepEqual([...deps.unowned.sample].sort(), ['README.txt', 'foo/untracked.dat', 'six.py']);
  assert.equal(deps.packages.reduce((n, p) => n + p.bytes, 0) + deps.unowned.bytes, deps.bytes);
});

// ---- layers -------------------------------------------------------------------------------------

/** A layer source folder using all four docs/design.md §4 layouts. */
function makeLayerSource(t: T): string {
  const src = tempDir(t, 'layer');
  put(src, 'nodejs/node_modules/sharp/package.json', pkgJson('sharp', '0.33.0'));
  put(src, 'nodejs/node_modules/sharp/lib/index.js', 3_000);
  put(src, 'nodejs/node_modules/@img/sharp-linux-x64/package.json', pkgJson('@img/sharp-linux-x64', '0.33.0'));
  put(src, 'nodejs/node_modules/@img/sharp-linux-x64/lib/sharp.node', 9_000);
  put(src, 'nodejs/node_modules/.bin/x', 5);
  put(src, 'nodejs/node20/node_modules/uuid/package.json', pkgJson('uuid', '9.0.0'));
  put(src, 'nodejs/node20/node_modules/uuid/index.js', 700);
  put(src, 'python/PIL/__init__.py', 1_200);
  put(src, 'python/PIL/Image.py', 8_000);
  put(src, 'python/six.py', 900);
  put(src, 'python/lib/python3.11/site-packages/numpy/__init__.py', 400);
  put(src, 'python/lib/python3.11/site-packages/numpy-1.26.4.dist-info/METADATA', 'Name: numpy\nVersion: 1.26.4\n');
  put(src, 'python/lib/python3.11/site-packages/numpy-1.26.4.dist-info/top_level.txt', 'numpy\n');
  put(src, 'python/lib/python3.11/site-packages/numpy-1.26.4.dist-info/RECORD', 'numpy/__init__.py,,\n');
  put(
    src,
    'python/lib/python3.11/site-packages/Keras_Preprocessing-1.1.2.dist-info/METADATA',
    'Name: Keras-Preprocessing\nVersion: 1.1.2\n',
  );
  put(
    src,
    'python/lib/python3.11/site-packages/Keras_Preprocessing-1.1.2.dist-info/top_level.txt',
    'keras_preprocessing\n',
  );
  put(src, 'python/lib/python3.11/site-packages/Keras_Preprocessing-1.1.2.dist-info/RECORD', '');
  put(src, 'python/lib/python3.11/site-packages/keras_preprocessing/__init__.py', 50);
  return src;
}

/** `unzip -l` total of uncompressed sizes. */
function unzipTotal(zip: string): number {
  const lines = execFileSync('unzip', ['-l', zip]).toString().trim().split('\n');
  return Number(/^\s*(\d+)/.exec(lines[lines.length - 1])![1]);
}

/** name, version, kind and the layer folder (root) each sits in: which runtime loads it depends on that folder. */
const SITE = 'python/lib/python3.11/site-packages';
const EXPECTED_PROVIDES = [
  ['@img/sharp-linux-x64', '0.33.0', 'node', 'nodejs/node_modules'],
  ['Keras-Preprocessing', '1.1.2', 'python', SITE],
  ['numpy', '1.26.4', 'python', SITE],
  ['PIL', null, 'python', 'python'],
  ['sharp', '0.33.0', 'node', 'nodejs/node_modules'],
  ['six', null, 'python', 'python'],
  ['uuid', '9.0.0', 'node', 'nodejs/node20/node_modules'],
];

test('layer zip: sized by the central directory (= unzip -l); provides for each layout; a folder agrees', async (t) => {
  const src = makeLayerSource(t);
  const out = tempDir(t, 'layer-zip');
  const zip = join(out, 'layer.zip');
  execFileSync('zip', ['-q', '-r', '-X', '-9', zip, 'nodejs', 'python'], { cwd: src });
  const scan = await scanLayerZip('mixed', zip);
  assert.equal(scan.bytes, unzipTotal(zip));
  assert.equal(scan.bytes, findSum(src).bytes);
  assert.equal(scan.files, findSum(src).files);
  assert.equal(scan.zipBytes, readFileSync(zip).length);
  assert.equal(scan.source, 'zip');
  assert.deepEqual(scan.provides.map((p) => [p.name, p.version, p.kind, p.root]).sort(), [...EXPECTED_PROVIDES].sort());
  assert.deepEqual(scan.provides.find((p) => p.name === 'Keras-Preprocessing')?.topLevel, ['keras_preprocessing']);
  const dir = await scanLayer({ name: 'mixed', zip: null, dir: src, arn: null });
  assert.equal(dir.source, 'dir');
  assert.equal(dir.bytes, scan.bytes);
  assert.equal(dir.zipBytes, null);
  assert.deepEqual(dir.provides, scan.provides);
});

test('a layer that is not a zip, a truncated zip, ../ or absolute entry paths: exit 2 naming the file', async (t) => {
  const dir = tempDir(t, 'bad-layers');
  writeFileSync(join(dir, 'text.zip'), 'this is not a zip file\n'.repeat(10));
  const src = makeLayerSource(t);
  execFileSync('zip', ['-q', '-r', '-X', join(dir, 'good.zip'), 'python'], { cwd: src });
  const good = readFileSync(join(dir, 'good.zip'));
  writeFileSync(join(dir, 'truncated.zip'), good.subarray(0, good.length - 200));
  writeFileSync(join(dir, 'cut-in-half.zip'), good.subarray(0, Math.floor(good.length / 2)));
  execFileSync('python3', [
    '-c',
    [
      'import zipfile, sys',
      'with zipfile.ZipFile(sys.argv[1], "w") as z:',
      '    z.writestr("python/ok.py", "x = 1\\n")',
      '    z.writestr(zipfile.ZipInfo("../evil"), "bad")',
      'with zipfile.ZipFile(sys.argv[2], "w") as z:',
      '    z.writestr(zipfile.ZipInfo("/abs/file"), "bad")',
      'with zipfile.ZipFile(sys.argv[3], "w") as z:',
      '    z.writestr(zipfile.ZipInfo("python/../../evil"), "bad")',
    ].join('\n'),
    join(dir, 'dotdot.zip'),
    join(dir, 'abs.zip'),
    join(dir, 'inner-dotdot.zip'),
  ]);
  const cases: [string, RegExp][] = [
    ['text.zip', /not a zip file or truncated/],
    ['truncated.zip', /not a zip file or truncated|corrupt or truncated/],
    ['cut-in-half.zip', /not a zip file or truncated|corrupt or truncated/],
    ['dotdot.zip', /\.\.\/evil.*(escapes|invalid relative path)/],
    ['abs.zip', /(absolute path.*\/abs\/file|\/abs\/file.*absolute path)/],
    ['inner-dotdot.zip', /python\/\.\.\/\.\.\/evil.*(escapes|invalid relative path)/],
    ['missing.zip', /missing\.zip: not found/],
  ];
  for (const [name, pattern] of cases) {
    const file = join(dir, name);
    await assert.rejects(scanLayerZip('l', file), (error: LambdaMlError) => {
      assert.ok(error instanceof LambdaMlError, `${name}: ${String(error)}`);
      assert.equal(error.code, 'input', name);
      assert.ok(error.message.startsWith(file), `${name}: ${error.message}`);
      assert.match(error.message, pattern, name);
      return true;
    });
    writeFileSync(
      join(dir, 'lambda-ml.config.json'),
      JSON.stringify({ function: { name: 'fn' }, layers: [{ zip: name }] }),
    );
    const result = await runCli(['budget'], { cwd: dir });
    assert.equal(result.code, 2, `${name}: ${result.stderr}`);
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2, result.stderr);
    assert.ok(lines[0].startsWith(`error: ${file}`), lines[0]);
    assert.match(lines[1], /^hint: /);
  }
});

// ---- models -------------------------------------------------------------------------------------

const modelConfig = (name: string, path: string): ModelConfig =>
  validateConfig({ function: { name: 'fn' }, models: [{ name, path }] }, '/').models[0];

function makeTfjsModel(t: T, extra: Record<string, unknown> = {}): string {
  const dir = tempDir(t, 'tfjs');
  const manifest = [
    {
      paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'],
      weights: [
        { name: 'dense/kernel', shape: [10, 10], dtype: 'float32' }, // 400 bytes
        {
          name: 'conv/kernel',
          shape: [5, 10],
          dtype: 'float32',
          quantization: { dtype: 'uint8', scale: 0.01, min: -1 },
        }, // 50 on disk, 200 in memory
      ],
    },
    { paths: ['group2-shard1of1.bin'], weights: [{ name: 'steps', shape: [5], dtype: 'int32' }] }, // 20
  ];
  writeFileSync(
    join(dir, 'model.json'),
    JSON.stringify({
      format: 'layers-model',
      modelTopology: { class_name: 'Sequential' },
      weightsManifest: manifest,
      ...extra,
    }),
  );
  put(dir, 'group1-shard1of2.bin', 300);
  put(dir, 'group1-shard2of2.bin', 150);
  put(dir, 'group2-shard1of1.bin', 20);
  return dir;
}

test('TF.js model: bytes are model.json + shards; memory dequantises uint8 weights to float32', async (t) => {
  const dir = makeTfjsModel(t);
  const scan = await scanModel(modelConfig('category', dir));
  assert.equal(scan.format, 'tfjs-layers');
  assert.equal(scan.bytes, readFileSync(join(dir, 'model.json')).length + 300 + 150 + 20);
  assert.equal(scan.memoryBytes, 400 + 200 + 20);
  assert.equal(scan.quantization, 'uint8');
  assert.equal(scan.location, 's3');
  assert.deepEqual(scan.files.map((f) => f.bytes).slice(1), [300, 150, 20]);
  const viaJson = await scanModel(modelConfig('category', join(dir, 'model.json')));
  assert.equal(viaJson.bytes, scan.bytes);
  const graph = await scanModel(
    modelConfig('g', makeTfjsModel(t, { format: 'graph-model', modelTopology: { node: [] } })),
  );
  assert.equal(graph.format, 'tfjs-graph');
});

test('TF.js model with a missing shard: exit 2 naming the shard', async (t) => {
  const dir = makeTfjsModel(t);
  rmSync(join(dir, 'group1-shard2of2.bin'));
  await assert.rejects(
    scanModel(modelConfig('m', dir)),
    /model\.json: weight shard "group1-shard2of2\.bin" is missing/,
  );
  writeFileSync(
    join(dir, 'lambda-ml.config.json'),
    JSON.stringify({ function: { name: 'fn' }, models: [{ name: 'm', path: '.' }] }),
  );
  const result = await runCli(['budget'], { cwd: dir });
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    new RegExp(
      [
        String.raw`^error: .*model\.json: weight shard "group1-shard2of2\.bin" is `,
        String.raw`missing\nhint: copy group1-shard2of2\.bin next to model\.json`,
      ].join(''),
    ),
  );
});

test('Keras files: .h5 by its HDF5 signature, .keras by its zip signature; anything else is exit 2', async (t) => {
  const dir = tempDir(t, 'keras');
  writeFileSync(join(dir, 'model.h5'), Buffer.from('\x89HDF\r\n\x1a\n', 'latin1'));
  truncateSync(join(dir, 'model.h5'), 1_234_567);
  const h5 = await scanModel(modelConfig('h5', join(dir, 'model.h5')));
  assert.deepEqual([h5.format, h5.bytes, h5.memoryBytes, h5.quantization], ['keras-h5', 1_234_567, 1_234_567, null]);
  const withReader = await scanModel(modelConfig('h5', join(dir, 'model.h5')), async () => ({
    memoryBytes: 999,
    weightBytes: 999,
  }));
  assert.equal(withReader.memoryBytes, 999);
  const failingReader = await scanModel(modelConfig('h5', join(dir, 'model.h5')), async () => {
    throw new Error('unreadable');
  });
  assert.equal(failingReader.memoryBytes, 1_234_567, 'falls back to the file size');
  execFileSync('zip', ['-q', join(dir, 'model.keras'), 'model.h5'], { cwd: dir });
  const keras = await scanModel(modelConfig('k', join(dir, 'model.keras')));
  assert.equal(keras.format, 'keras-v3');
  // A renamed HDF5-less file, and a zip that is not named .keras, are not models.
  writeFileSync(join(dir, 'weights.h5'), 'not really hdf5');
  execFileSync('cp', [join(dir, 'model.keras'), join(dir, 'archive.h5')]);
  for (const name of ['weights.h5', 'archive.h5']) {
    await assert.rejects(scanModel(modelConfig('x', join(dir, name))), (error: LambdaMlError) => {
      assert.equal(error.code, 'input');
      assert.match(
        error.message,
        new RegExp(`${name}: not a TF\\.js model folder, an HDF5 \\.h5 file or a \\.keras zip`),
      );
      return true;
    });
  }
  writeFileSync(
    join(dir, 'lambda-ml.config.json'),
    JSON.stringify({ function: { name: 'fn' }, models: [{ name: 'x', path: 'weights.h5' }] }),
  );
  const result = await runCli(['budget'], { cwd: dir });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^error: .*weights\.h5: not a TF\.js model folder/);
  writeFileSync(
    join(dir, 'lambda-ml.config.json'),
    JSON.stringify({ function: { name: 'fn' }, models: [{ name: 'x', path: 'nope.h5' }] }),
  );
  const missing = await runCli(['budget'], { cwd: dir });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^error: .*nope\.h5: not found/);
});
