import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { nearest } from '../../src/config/schema.js';
import { validateConfig } from '../../src/config/validate.js';
import { LambdaMlError } from '../../src/lib/errors.js';
import { creatableRuntimes } from '../../src/runtimes/table.js';
import { runCli } from '../helpers/cli.js';

const FN = { name: 'asset-classifier', runtime: 'nodejs24.x' };

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'lambda-ml-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const write = (path: string, body: unknown) =>
  writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body));

/** Asserts `fn` throws a config/input LambdaMlError whose message and hint match. */
function throwsConfig(fn: () => unknown, message: RegExp, hint?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof LambdaMlError, `not a LambdaMlError: ${String(error)}`);
    assert.match(error.message, message);
    if (hint) assert.match(error.hint ?? '', hint);
    assert.ok(!error.message.includes('\n'), 'one line');
    return true;
  });
}

test('a minimal config gets the docs/design.md §2/§8 defaults', () => {
  const config = validateConfig({ function: FN }, '/project');
  assert.equal(config.function.memoryMb, 3008);
  assert.equal(config.function.ephemeralStorageMb, 512);
  assert.equal(config.function.architecture, 'x86_64');
  assert.equal(config.plan, 'auto');
  assert.deepEqual(config.limits, { unzippedBytes: 262_144_000, zipDirectBytes: 52_428_800, maxLayers: 5 });
  assert.deepEqual(config.layers, []);
  assert.equal(config.deps, null);
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.function));
});

test('relative paths resolve against the root folder; absolute ones are kept', () => {
  const config = validateConfig(
    {
      function: FN,
      code: 'src',
      deps: 'node_modules',
      layers: [{ zip: 'layers/tf.zip' }, { dir: '/abs/layer' }],
      models: [{ name: 'category', path: '../models/category', labels: 'labels.json' }],
    },
    '/project/app',
  );
  assert.equal(config.code, '/project/app/src');
  assert.equal(config.deps, '/project/app/node_modules');
  assert.equal(config.layers[0].zip, '/project/app/layers/tf.zip');
  assert.equal(config.layers[0].name, 'tf', 'name defaults to the zip base name');
  assert.equal(config.layers[1].dir, '/abs/layer');
  assert.equal(config.models[0].path, '/project/models/category');
  assert.equal(config.models[0].labels, '/project/app/labels.json');
});

test('wrong types name the field path and the fix', () => {
  const cases: [unknown, RegExp, RegExp][] = [
    [
      { function: { ...FN, memoryMb: '3008' } },
      /^function\.memoryMb must be an integer, got "3008"$/,
      /"memoryMb": 3008/,
    ],
    [{ function: { ...FN, memoryMb: 1.5 } }, /^function\.memoryMb must be an integer/, /memoryMb/],
    [{ function: { ...FN, memoryMb: 64 } }, /^function\.memoryMb is 64, outside 128–10240$/, /between 128 and 10240/],
    [
      { function: { ...FN, ephemeralStorageMb: 20_000 } },
      /^function\.ephemeralStorageMb is 20000, outside 512–10240$/,
      /512/,
    ],
    [
      { function: { ...FN, architecture: 'arm' } },
      /^function\.architecture must be one of "x86_64", "arm64", got "arm"$/,
      /did you mean "arm64"/,
    ],
    [{ function: FN, layers: {} }, /^layers must be an array, got an object$/, /"layers": \[/],
    [{ function: FN, layers: [{ zip: 5 }] }, /^layers\[0\]\.zip must be a non-empty string, got 5$/, /"zip"/],
    [{ function: FN, layers: [{ name: 'x' }] }, /^layers\[0\] needs "zip", "dir" or "arn"$/, /layer version ARN/],
    [
      { function: FN, models: [{ name: 'm', path: 'm', topK: 'three' }] },
      /^models\[0\]\.topK must be an integer, got "three"$/,
      /"topK": 3/,
    ],
    [
      { function: FN, models: [{ name: 'm', path: 'm', input: { range: [1, 0] } }] },
      /^models\[0\]\.input\.range must be \[min, max\]/,
      /\[-1, 1\]/,
    ],
    [{ function: FN, models: [{ path: 'm' }] }, /^models\[0\]\.name is required$/, /"name"/],
    [
      { function: FN, plan: 'sideload' },
      /^plan must be one of/,
      /did you mean "sideload-s3"|did you mean "sideload-bundled"|e\.g\./,
    ],
    [{ function: FN, limits: { unzippedBytes: -1 } }, /^limits\.unzippedBytes is -1, outside/, /between/],
    [{ function: FN, tags: { prefix: 'aws:x' } }, /^tags\.prefix must not start with "aws:"$/, /ml:/],
    [{ function: { ...FN, environment: { A: 1 } } }, /^function\.environment\.A must be a string$/, /"A": "1"/],
    [{}, /^function is required$/, /"function"/],
    [[], /^config must be an object, got an array$/, /\{ \.\.\. \}/],
  ];
  for (const [raw, message, hint] of cases) throwsConfig(() => validateConfig(raw, '/p'), message, hint);
});

test('function.runtime: only ids of the runtime table; the default is nodejs24.x', () => {
  assert.equal(validateConfig({ function: { name: 'fn' } }, '/p').function.runtime, 'nodejs24.x');
  // Accepted as they are (the table names them); deploy and budget judge their dates.
  for (const runtime of ['nodejs22.x', 'nodejs24.x', 'python3.10', 'python3.12', 'python3.14', 'nodejs20.x']) {
    assert.equal(validateConfig({ function: { ...FN, runtime } }, '/p').function.runtime, runtime);
  }
  // The hint lists what AWS still lets you create (today: nodejs24.x, nodejs22.x, python3.14 ... python3.10).
  const creatable = new RegExp(
    creatableRuntimes()
      .map((r) => r.id.replace(/\./g, '\\.'))
      .join(', '),
  );
  assert.match(creatable.source, /nodejs24\\.x/);
  for (const runtime of ['nodejs25.x', 'node24', 'python3.7', 'python3', 'java21', 'NODEJS24.X']) {
    throwsConfig(
      () => validateConfig({ function: { ...FN, runtime } }, '/p'),
      new RegExp(`^function\\.runtime "${runtime.replace(/\./g, '\\.')}" is not a Lambda runtime`),
      creatable,
    );
  }
  throwsConfig(() => validateConfig({}, '/p'), /^function is required$/, /"runtime": "nodejs24\.x"/);
});

test('unknown keys are errors that suggest the nearest known key', () => {
  throwsConfig(
    () => validateConfig({ function: FN, modles: [] }, '/p'),
    /^modles is not a known key$/,
    /^did you mean "models"\?$/,
  );
  throwsConfig(
    () => validateConfig({ function: { ...FN, memoryMB: 1024 } }, '/p'),
    /^function\.memoryMB is not a known key$/,
    /did you mean "memoryMb"/,
  );
  throwsConfig(
    () => validateConfig({ function: FN, models: [{ name: 'a', path: 'a', tpoK: 3 }] }, '/p'),
    /^models\[0\]\.tpoK is not a known key$/,
    /did you mean "topK"/,
  );
  throwsConfig(
    () => validateConfig({ function: FN, layers: [{ zip: 'a.zip' }, { zpi: 'b.zip' }] }, '/p'),
    /^layers\[1\]\.zpi is not a known key$/,
    /did you mean "zip"/,
  );
  throwsConfig(
    () => validateConfig({ function: FN, limits: { unzipedBytes: 1 } }, '/p'),
    /^limits\.unzipedBytes is not a known key$/,
    /did you mean "unzippedBytes"/,
  );
  // Nothing close: the hint lists the known keys instead of guessing.
  throwsConfig(
    () => validateConfig({ function: FN, colors: { palette: 3 } }, '/p'),
    /^colors\.palette is not a known key$/,
    /known keys of colors: count/,
  );
});

test('nearest() only suggests plausible typos', () => {
  assert.equal(nearest('modles', ['function', 'models', 'layers']), 'models');
  assert.equal(nearest('zzzzzzzz', ['function', 'models', 'layers']), null);
  assert.equal(nearest('MEMORYMB', ['memoryMb']), 'memoryMb');
});

test('a null function.environment is a config error, not a crash', () => {
  throwsConfig(
    () => validateConfig({ function: { ...FN, environment: null } }, '/p'),
    /^function\.environment must be an object, got null$/,
  );
});

test("loadConfig: --config path, relative to cwd; paths resolve against that file's folder", async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'conf'));
  write(join(dir, 'conf', 'custom.json'), { function: FN, deps: '../deps', code: 'src' });
  const config = await loadConfig(dir, 'conf/custom.json');
  assert.equal(config.configPath, join(dir, 'conf', 'custom.json'));
  assert.equal(config.rootDir, join(dir, 'conf'));
  assert.equal(config.deps, join(dir, 'deps'));
  assert.equal(config.code, join(dir, 'conf', 'src'));
});

test('loadConfig: lambda-ml.config.json in the cwd wins over package.json', async (t) => {
  const dir = tempDir(t);
  write(join(dir, 'lambda-ml.config.json'), { function: { ...FN, name: 'from-file' } });
  write(join(dir, 'package.json'), { name: 'x', 'lambda-ml': { function: { ...FN, name: 'from-package' } } });
  const config = await loadConfig(dir);
  assert.equal(config.function.name, 'from-file');
  assert.equal(config.configPath, join(dir, 'lambda-ml.config.json'));
});

test('loadConfig: the "lambda-ml" key of package.json', async (t) => {
  const dir = tempDir(t);
  write(join(dir, 'package.json'), {
    name: 'x',
    'lambda-ml': { function: { ...FN, name: 'from-package' }, deps: 'node_modules' },
  });
  const config = await loadConfig(dir);
  assert.equal(config.function.name, 'from-package');
  assert.equal(config.deps, join(dir, 'node_modules'));
  // --config pointing at a package.json reads its key too.
  const sub = join(dir, 'sub');
  mkdirSync(sub);
  const viaFlag = await loadConfig(sub, '../package.json');
  assert.equal(viaFlag.function.name, 'from-package');
  // A package.json without the key is an error that says how to add it.
  write(join(sub, 'package.json'), { name: 'y' });
  await assert.rejects(loadConfig(dir, 'sub/package.json'), (error: LambdaMlError) => {
    assert.match(error.message, /package\.json has no "lambda-ml" key/);
    assert.match(error.hint ?? '', /"lambda-ml"/);
    return true;
  });
});

test('loadConfig: no config at all, a missing --config file, invalid JSON', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(loadConfig(dir), (error: LambdaMlError) => {
    assert.equal(error.code, 'config');
    assert.match(error.message, /^no config found in /);
    assert.match(error.hint ?? '', /lambda-ml\.config\.json/);
    return true;
  });
  write(join(dir, 'package.json'), { name: 'no-key' });
  await assert.rejects(loadConfig(dir), /no config found/);
  await assert.rejects(loadConfig(dir, 'nope.json'), (error: LambdaMlError) => {
    assert.equal(error.code, 'input');
    assert.match(error.message, /nope\.json: not found$/);
    return true;
  });
  // Trailing commas and comments are JSONC (test/unit/config-input.test.ts); a missing comma is an error at
  // line:column.
  write(join(dir, 'lambda-ml.config.json'), '{ "function": { "name": "x" "runtime": "y" } }');
  await assert.rejects(loadConfig(dir), (error: LambdaMlError) => {
    assert.match(error.message, /lambda-ml\.config\.json:1:29 is not valid JSON: expected ","/);
    assert.match(error.hint ?? '', /trailing commas are allowed/);
    return true;
  });
});

test('CLI: config errors exit 2 with one error line and one hint line, no stack', async (t) => {
  const dir = tempDir(t);
  const cases: [unknown, RegExp, RegExp][] = [
    [{ function: { ...FN, memoryMb: 'big' } }, /function\.memoryMb must be an integer/, /"memoryMb": 3008/],
    [{ function: FN, modles: [] }, /modles is not a known key/, /did you mean "models"/],
    [
      { function: FN, models: [{ name: 'a', path: 'a', tpoK: 1 }] },
      /models\[0\]\.tpoK is not a known key/,
      /did you mean "topK"/,
    ],
    ['{ not json', /is not valid JSON/, /fix the syntax/],
  ];
  for (const [body, message, hint] of cases) {
    write(join(dir, 'lambda-ml.config.json'), body);
    const result = await runCli(['budget'], { cwd: dir });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stdout, '');
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2, result.stderr);
    assert.match(lines[0], /^error: /);
    assert.match(lines[0], message);
    assert.match(lines[1], /^hint: /);
    assert.match(lines[1], hint);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  }
  // --config pointing nowhere, and under --json: one JSON error document on stdout.
  const missing = await runCli(['budget', '--config', 'missing.json'], { cwd: dir });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^error: .*missing\.json: not found\nhint: /);
  const json = await runCli(['budget', '--json', '--config', 'missing.json'], { cwd: dir });
  assert.equal(json.code, 2);
  assert.equal(json.stderr, '');
  const body = JSON.parse(json.stdout);
  assert.equal(body.ok, false);
  assert.equal(body.error.code, 'input');
  assert.match(body.error.message, /missing\.json: not found/);
});
