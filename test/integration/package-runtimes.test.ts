/**
 * The runtime table in `budget` and `package` (docs/design.md §2): deprecation warnings, layer folders that are not on
 * the runtime's module path, and the native audit's language ABI on a real `package` run (real ELF files on disk).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { validateConfig } from '../../src/config/validate.js';
import { runBudget } from '../../src/pipeline/budget.js';
import { runPackage } from '../../src/pipeline/package.js';
import { runCli } from '../helpers/cli.js';
import { makeElf } from '../helpers/elf.js';
import { tempDir } from '../helpers/package-cli.js';

function writeTree(root: string, files: Record<string, string | Buffer>): void {
  for (const [path, data] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), data);
  }
}

const pkgJson = (name: string, version: string) => JSON.stringify({ name, version, main: 'index.js' });

/** A pip -t tree with one compiled extension (`so` is its file name under fast/), and a Python handler. */
function pythonProject(dir: string, runtime: string, so: string): void {
  writeTree(dir, {
    'lambda-ml.config.json': JSON.stringify({
      function: { name: 'py-fn', runtime, handler: 'app.handler' },
      code: 'src',
      deps: 'site',
    }),
    'src/app.py': 'import lambda_ml_bootstrap\nimport fast\n\ndef handler(event, context):\n    return fast.speed()\n',
    'site/fast/__init__.py': 'from ._speedups import speed\n',
    [`site/fast/${so}`]: makeElf({ glibc: ['2.2.5', '2.17'], exports: ['PyInit__speedups'] }),
    'site/fast-1.0.dist-info/METADATA': 'Name: fast\nVersion: 1.0\n',
    'site/fast-1.0.dist-info/top_level.txt': 'fast\n',
    'site/fast-1.0.dist-info/WHEEL':
      'Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-manylinux_2_17_x86_64\n',
    'site/fast-1.0.dist-info/RECORD': `fast/__init__.py,,\nfast/${so},,\nfast-1.0.dist-info/METADATA,,\n`,
  });
}

test('package: a cpython-311 extension in a python3.12 tree is exit 2 naming the file; nothing written', async (t) => {
  const dir = tempDir(t);
  pythonProject(dir, 'python3.12', '_speedups.cpython-311-x86_64-linux-gnu.so');
  const result = await runCli(['package', '--out', 'out'], { cwd: dir });
  assert.equal(result.code, 2, result.stderr);
  const lines = result.stderr.trim().split('\n');
  assert.match(
    lines[0],
    /^error: 1 native binary cannot load on python3\.12 x86_64: fast\/_speedups\.cpython-311-x86_64-linux-gnu\.so$/,
  );
  assert.match(
    lines[1],
    new RegExp(
      [
        String.raw`^ {2}fast\/_speedups\.cpython-311-x86_64-linux-gnu\.so: built for CPython 3\.11 `,
        String.raw`\(cpython-311\); python3\.12 imports only cpython-312 extensions$`,
      ].join(''),
    ),
  );
  assert.match(
    lines[2],
    new RegExp(
      [
        String.raw`^hint: reinstall the deps for python3\.12 x86_64: pip install -t DIR --platform `,
        String.raw`manylinux2014_x86_64 --python-version 3\.12 --only-binary=:all:`,
      ].join(''),
    ),
  );
  assert.ok(!result.stderr.includes('    at '), 'no stack trace');
  assert.equal(existsSync(join(dir, 'out')), false);

  const json = await runCli(['package', '--out', 'out', '--json'], { cwd: dir });
  assert.equal(json.code, 2);
  const body = JSON.parse(json.stdout);
  assert.deepEqual(body.error.details, [
    'fast/_speedups.cpython-311-x86_64-linux-gnu.so: built for CPython 3.11 ' +
      '(cpython-311); python3.12 imports only cpython-312 extensions',
  ]);

  // The same tree on the runtime it was built for packages.
  const ok = tempDir(t);
  pythonProject(ok, 'python3.11', '_speedups.cpython-311-x86_64-linux-gnu.so');
  const packaged = await runCli(['package', '--out', 'out', '--json'], { cwd: ok });
  assert.equal(packaged.code, 0, packaged.stdout + packaged.stderr);
  assert.equal(JSON.parse(packaged.stdout).binariesAudited, 1);
});

test('budget and package warn for a deprecated runtime with its date and replacement (human and --json)', async (t) => {
  const dir = tempDir(t);
  pythonProject(dir, 'python3.10', '_speedups.cpython-310-x86_64-linux-gnu.so');
  const config = validateConfig(
    { function: { name: 'py-fn', runtime: 'python3.10', handler: 'app.handler' }, code: 'src', deps: 'site' },
    dir,
  );
  const at = async (day: string) =>
    (await runBudget(config, { now: new Date(`${day}T12:00:00Z`) })).budget.warnings.filter((w) =>
      w.startsWith('function.runtime'),
    );
  assert.deepEqual(await at('2026-06-01'), [], 'supported until 2026-10-31');
  assert.deepEqual(await at('2026-12-01'), [
    'function.runtime: python3.10 is deprecated since 2026-10-31 (AWS blocks new ' +
      'functions on 2027-01-15, updates on 2027-02-15); move to python3.14',
  ]);
  assert.match(
    (await at('2027-03-01'))[0],
    new RegExp(
      [
        String.raw`^function\.runtime: python3\.10 is retired: AWS blocks creating functions on it since `,
        String.raw`2027-01-15 and updating them since 2027-02-15; move to python3\.14$`,
      ].join(''),
    ),
  );

  // Through the CLI (today's date): nodejs20.x stays retired from 2026-09-30 on.
  const node = tempDir(t);
  writeTree(node, {
    'lambda-ml.config.json': JSON.stringify({
      function: { name: 'node-fn', runtime: 'nodejs20.x' },
      deps: 'node_modules',
    }),
    'node_modules/tiny-a/package.json': pkgJson('tiny-a', '1.0.0'),
    'node_modules/tiny-a/index.js': 'module.exports = 1;\n',
  });
  const retired = new RegExp(
    [
      String.raw`nodejs20\.x is retired: AWS blocks creating functions on it since 2026-08-31 `,
      String.raw`and updating them since 2026-09-30; move to nodejs24\.x`,
    ].join(''),
  );
  const budget = await runCli(['budget'], { cwd: node });
  assert.equal(budget.code, 0, budget.stderr);
  assert.match(budget.stdout, /Warnings/);
  assert.match(budget.stdout.replace(/\s+/g, ' '), retired);
  const budgetJson = await runCli(['budget', '--json'], { cwd: node });
  assert.ok(
    JSON.parse(budgetJson.stdout).warnings.some((w: string) => retired.test(w)),
    budgetJson.stdout,
  );
  const packaged = await runCli(['package', '--out', 'out'], { cwd: node });
  assert.equal(packaged.code, 0, packaged.stderr);
  assert.match(packaged.stdout, retired);
  const packagedJson = await runCli(['package', '--out', 'out', '--json'], { cwd: node });
  assert.ok(JSON.parse(packagedJson.stdout).warnings.some((w: string) => retired.test(w)));
});

test("a layer with packages in another runtime's folder provides nothing there: warned, not stripped", async (t) => {
  const cases: { folder: string; runtime: string; provided: boolean }[] = [
    { folder: 'nodejs/node20/node_modules', runtime: 'nodejs24.x', provided: false },
    { folder: 'nodejs/node24/node_modules', runtime: 'nodejs24.x', provided: true },
    { folder: 'nodejs/node_modules', runtime: 'nodejs22.x', provided: true },
    { folder: 'nodejs/node24/node_modules', runtime: 'nodejs22.x', provided: false },
  ];
  for (const { folder, runtime, provided } of cases) {
    const dir = tempDir(t);
    writeTree(dir, {
      'node_modules/tiny-a/package.json': pkgJson('tiny-a', '1.0.0'),
      'node_modules/tiny-a/index.js': 'module.exports = 1;\n'.repeat(100),
      'node_modules/tiny-b/package.json': pkgJson('tiny-b', '1.0.0'),
      'node_modules/tiny-b/index.js': 'module.exports = 2;\n',
      [`layer/${folder}/tiny-a/package.json`]: pkgJson('tiny-a', '1.0.0'),
      [`layer/${folder}/tiny-a/index.js`]: 'module.exports = 1;\n',
    });
    const config = validateConfig(
      { function: { name: 'fn', runtime }, deps: 'node_modules', layers: [{ name: 'shared', dir: 'layer' }] },
      dir,
    );
    const { budget } = await runBudget(config, { now: new Date('2026-12-01T00:00:00Z') });
    const tinyA = budget.components.deps.packages.find((p) => p.name === 'tiny-a');
    assert.equal(tinyA?.providedBy, provided ? 'shared' : null, `${runtime} ${folder}`);
    // The handler resolves layer packages through the runtime's own layer folders (lambda-ml.runtime.json).
    const { manifest } = await runPackage(config, { out: join(dir, 'out'), now: new Date('2026-12-01T00:00:00Z') });
    const major = runtime.slice(6, 8);
    assert.deepEqual(
      manifest.runtime.layerNodeModules,
      provided ? [`/opt/nodejs/node${major}/node_modules`, '/opt/nodejs/node_modules'] : [],
    );
    const warning = budget.warnings.find((w) => w.startsWith('layer shared:'));
    if (provided) assert.equal(warning, undefined, `${runtime} ${folder}`);
    else {
      assert.equal(
        warning,
        `layer shared: tiny-a sits in ${folder}/, which ${runtime} does not load ` +
          `(it looks in nodejs/node${major}/node_modules/ ` +
          `and nodejs/node_modules/): they are not provided; rebuild the layer for ${runtime}`,
      );
    }
  }
});
