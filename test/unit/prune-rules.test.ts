/** Safe pruning rules (docs/design.md §6): table-driven, pure. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pruneOff, pruneSafe } from '../../src/measure/prune.js';
import { nodeRule, protectedPaths, pythonRule } from '../../src/runtimes/prune-rules.js';
import type { FileEntry } from '../../src/types.js';

const NODE_CASES: [string, string | null][] = [
  // never removed
  ['LICENSE', null],
  ['license.md', null],
  ['LICENCE.txt', null],
  ['COPYING', null],
  ['NOTICE', null],
  ['docs/LICENSE', null],
  ['package.json', null],
  ['dist/index.js', null],
  ['lib/binding.node', null],
  ['build/Release/sharp.node', null],
  ['src/test-utils.js', null],
  ['lib/testing.js', null],
  ['contest/index.js', null],
  // docs
  ['README.md', 'docs'],
  ['readme', 'docs'],
  ['CHANGELOG.md', 'docs'],
  ['HISTORY', 'docs'],
  ['docs/api.html', 'docs'],
  ['guide.markdown', 'docs'],
  // tests
  ['test/index.js', 'tests'],
  ['tests/fixtures/a.png', 'tests'],
  ['__tests__/x.js', 'tests'],
  ['lib/foo.test.js', 'tests'],
  ['lib/foo.spec.mjs', 'tests'],
  ['.github/workflows/ci.yml', 'tests'],
  ['coverage/lcov.info', 'tests'],
  // examples
  ['examples/basic.js', 'examples'],
  ['demo/index.html', 'examples'],
  // types, source maps, browser bundles
  ['index.d.ts', 'types'],
  ['dist/index.d.mts', 'types'],
  ['dist/index.d.ts.map', 'types'],
  ['tsconfig.json', 'types'],
  ['dist/index.js.map', 'sourcemaps'],
  ['dist/styles.css.map', 'sourcemaps'],
  ['dist/tf.min.js', 'browser'],
  ['dist/tf.es2017.js', 'browser'],
  ['dist/tf.umd.js', 'browser'],
  ['umd/index.js', 'browser'],
  ['browser/index.js', 'browser'],
];

const PYTHON_CASES: [string, string | null][] = [
  ['numpy/__init__.py', null],
  ['numpy/core/_multiarray_umath.cpython-36m-x86_64-linux-gnu.so', null],
  ['numpy-1.16.3.dist-info/LICENSE.txt', null],
  ['numpy-1.16.3.dist-info/RECORD', null],
  ['numpy-1.16.3.dist-info/METADATA', null],
  ['numpy/__pycache__/version.cpython-36.pyc', 'pycache'],
  ['numpy/version.pyc', 'pycache'],
  ['numpy/core/tests/test_api.py', 'tests'],
  ['numpy/testing/utils.py', null],
  ['numpy/__init__.pyi', 'types'],
  ['numpy/py.typed', 'types'],
  ['numpy/doc/README.rst', 'docs'],
  ['numpy/CHANGES.md', 'docs'],
];

test('nodeRule: licences, manifests and code are kept; docs, tests, types, maps and browser bundles go', () => {
  for (const [path, rule] of NODE_CASES) assert.equal(nodeRule(path), rule, path);
});

test('pythonRule: __pycache__ and .pyc, tests folders, stubs; never dist-info metadata or licences', () => {
  for (const [path, rule] of PYTHON_CASES) assert.equal(pythonRule(path), rule, path);
});

test('protectedPaths: main, module, exports leaves, bin and explicit files are entry points', () => {
  const guard = protectedPaths({
    main: './dist/index',
    module: 'dist/index.esm.js',
    exports: { '.': { import: './dist/tf.es2017.js', require: './dist/index.js' }, './browser/*': './browser/*.js' },
    bin: { tool: './bin/cli.min.js' },
    files: ['dist', 'README.md'],
  });
  for (const path of [
    'dist/index',
    'dist/index.js',
    'dist/index/index.js',
    'dist/index.esm.js',
    'dist/tf.es2017.js',
    'bin/cli.min.js',
    'README.md',
  ]) {
    assert.ok(guard.exact.has(path), path);
  }
  assert.ok(guard.patterns.some((p) => p.test('browser/x.js')));
  assert.ok(!guard.exact.has('dist/other.js'));
  assert.ok(protectedPaths({}).exact.has('index.js'), 'main defaults to index.js');
});

function entry(path: string, bytes: number, owner: string | null): FileEntry {
  return { path, bytes, mode: 0o100644, link: null, owner };
}

test('pruneSafe, Node: per-rule totals, and a browser bundle that package.json names as its entry is kept', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'lambda-ml-prune-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const pkg = 'node_modules/@tensorflow/tfjs';
  mkdirSync(join(root, pkg), { recursive: true });
  writeFileSync(
    join(root, pkg, 'package.json'),
    JSON.stringify({ name: '@tensorflow/tfjs', main: 'dist/tf.node.js', exports: { '.': './dist/tf.es2017.js' } }),
  );
  const entries = [
    entry(`${pkg}/package.json`, 100, pkg),
    entry(`${pkg}/dist/tf.node.js`, 1_000, pkg),
    entry(`${pkg}/dist/tf.es2017.js`, 2_000, pkg), // browser-looking, but the package's export: kept
    entry(`${pkg}/dist/tf.min.js`, 3_000, pkg),
    entry(`${pkg}/dist/tf.node.js.map`, 400, pkg),
    entry(`${pkg}/README.md`, 50, pkg),
    entry(`${pkg}/LICENSE`, 11, pkg),
    entry(`${pkg}/dist/index.d.ts`, 70, pkg),
    entry('node_modules/.package-lock.json', 5, null),
  ];
  const result = pruneSafe(entries, 'node', root);
  assert.deepEqual(result.rules, [
    { rule: 'browser', files: 1, bytes: 3_000 },
    { rule: 'sourcemaps', files: 1, bytes: 400 },
    { rule: 'types', files: 1, bytes: 70 },
    { rule: 'docs', files: 1, bytes: 50 },
  ]);
  assert.equal(result.savedBytes, 3_520);
  assert.deepEqual(
    result.kept.map((e) => e.path).sort(),
    [
      'node_modules/.package-lock.json',
      `${pkg}/LICENSE`,
      `${pkg}/dist/tf.es2017.js`,
      `${pkg}/dist/tf.node.js`,
      `${pkg}/package.json`,
    ].sort(),
  );
  assert.equal(result.kept.length + result.removed.length, entries.length);
});

test('pruneSafe, Python: a .pyc without its .py source is the module itself and stays', () => {
  const entries = [
    entry('pkg/mod.py', 100, 'pkg-1.0.dist-info'),
    entry('pkg/__pycache__/mod.cpython-36.pyc', 70, 'pkg-1.0.dist-info'),
    entry('pkg/__pycache__/gone.cpython-36.pyc', 60, 'pkg-1.0.dist-info'),
    entry('pkg/compiled.pyc', 50, 'pkg-1.0.dist-info'),
    entry('pkg/tests/test_mod.py', 40, 'pkg-1.0.dist-info'),
  ];
  const result = pruneSafe(entries, 'python', '/nowhere');
  assert.deepEqual(result.removed.map((e) => e.path).sort(), [
    'pkg/__pycache__/mod.cpython-36.pyc',
    'pkg/tests/test_mod.py',
  ]);
  assert.equal(result.savedBytes, 110);
  const off = pruneOff(entries);
  assert.equal(off.savedBytes, 0);
  assert.equal(off.kept.length, entries.length);
});
