/**
 * The handler bundle (scripts/build-handler.mjs): two builds give the same bytes with no path of the machine in
 * them, and esbuild's own metafile says the one output imports nothing but Node built-ins and the native packages
 * `package` ships beside it. The bundle running as a Lambda task root is handler-entry.test.ts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from '../helpers/handler-fixtures.js';

const NATIVE = ['sharp', 'onnxruntime-node'];

interface Metafile {
  readonly inputs: Record<string, unknown>;
  readonly outputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[] }>;
}

/** Builds into `out` with the real script, as `npm run build` does, and returns esbuild's metafile. */
function build(out: string): Metafile {
  const metafile = `${out}.meta.json`;
  execFileSync(process.execPath, ['scripts/build-handler.mjs', '--out', out, '--metafile', metafile], {
    cwd: PROJECT_ROOT,
    stdio: 'pipe',
  });
  return JSON.parse(readFileSync(metafile, 'utf8')) as Metafile;
}

const isBuiltin = (path: string) => path.startsWith('node:') || builtinModules.includes(path.split('/')[0]);

test('the bundle: same bytes twice, no machine path, one SIMD .wasm, imports only built-ins and natives', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lambda-ml-bundle-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const [a, b] = [join(dir, 'a'), join(dir, 'second-build')];
  const meta = build(a);
  build(b);

  const files = readdirSync(a).sort();
  assert.deepEqual(readdirSync(b).sort(), files);
  for (const name of files) assert.ok(readFileSync(join(a, name)).equals(readFileSync(join(b, name))), name);
  const code = readFileSync(join(a, 'index.mjs'), 'utf8');
  for (const path of [PROJECT_ROOT, dir, process.env.HOME ?? '/root'])
    assert.ok(!code.includes(path), `the bundle embeds ${path}`);

  // The one wasm build Node runs, byte for byte the package's; the threaded and plain builds stay behind.
  const wasmDir = dirname(createRequire(join(PROJECT_ROOT, 'package.json')).resolve('@tensorflow/tfjs-backend-wasm'));
  assert.deepEqual(
    files.filter((f) => f.endsWith('.wasm')),
    ['tfjs-backend-wasm-simd.wasm'],
  );
  assert.ok(
    readFileSync(join(a, 'tfjs-backend-wasm-simd.wasm')).equals(
      readFileSync(join(wasmDir, 'tfjs-backend-wasm-simd.wasm')),
    ),
  );

  const outputs = Object.entries(meta.outputs);
  assert.equal(outputs.length, 1, 'one output file');
  const external = [...new Set(outputs[0][1].imports.filter((i) => i.external).map((i) => i.path))].sort();
  const foreign = external.filter((path) => !isBuiltin(path) && !NATIVE.includes(path));
  assert.deepEqual(foreign, [], 'the bundle imports packages it does not inline');
  assert.ok(external.includes('sharp'), `sharp is imported, not inlined: ${external.join(' ')}`);
  const inputs = Object.keys(meta.inputs);
  for (const inlined of ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', '@aws-sdk/client-s3'])
    assert.ok(
      inputs.some((i) => i.startsWith(`node_modules/${inlined}/`)),
      `${inlined} is inlined`,
    );
  assert.ok(!inputs.some((i) => i.startsWith('node_modules/sharp/')), 'sharp is not inlined');
  assert.ok(!inputs.some((i) => i.startsWith('/')), 'metafile inputs are relative to the repo');

  const info = JSON.parse(readFileSync(join(a, 'bundle.json'), 'utf8')) as {
    files: { name: string; bytes: number }[];
    native: { name: string }[];
    packages: { name: string }[];
  };
  assert.deepEqual(
    info.files.map((f) => f.name),
    ['index.mjs', 'tfjs-backend-wasm-simd.wasm', 'index.mjs.LEGAL.txt'],
  );
  assert.deepEqual(
    info.native.map((n) => n.name),
    ['sharp', 'onnxruntime-node'],
  );
  assert.ok(info.packages.some((p) => p.name === '@tensorflow/tfjs'));
  t.diagnostic(`bundle: ${info.files.map((f) => `${f.name} ${f.bytes} B`).join(', ')}`);
});

test('the bundle loads with no node_modules at all: sharp is imported only when the cold start runs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lambda-ml-bundle-load-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  build(join(dir, 'task'));
  const script =
    `const m = await import('./task/index.mjs'); ` +
    `console.log(typeof m.handler, typeof m.bootstrap); ` +
    `await m.bootstrap(undefined, { LAMBDA_TASK_ROOT: process.cwd() + '/task' }).catch((e) => console.log(e.message));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: dir,
    env: { PATH: process.env.PATH },
    stdio: 'pipe',
  })
    .toString()
    .trim()
    .split('\n');
  assert.equal(out[0], 'function function');
  // The runtime config comes first; without it the cold start stops before any package is looked for.
  assert.match(out[1], /lambda-ml\.runtime\.json not found/);
});
