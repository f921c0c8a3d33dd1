/**
 * The onnx backend end to end (docs/handler.md, "Choosing a backend"): `init`'s starter packages with the onnx
 * backend by default (auto: its MobileNetV2 converts), its function.zip holds onnxruntime-node for linux x64 only,
 * and `invoke --local --s3-local` tags the baboon photo and the fixture photos with the same labels as the same
 * model on wasm, run beside it in a second package (one model per backend, `models[].backend`).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { baboonPhoto } from '../../src/example/nsfwjs-model.js';
import { ensureNodeExample, NODE_EXAMPLE } from '../../src/example/node-example.js';
import { lambdaVcpus } from '../../src/handler/onnx-threads.js';
import { REPO_ROOT, runBin } from '../helpers/cli.js';
import { tempDir } from '../helpers/cli-procs.js';
import { sha256File, unzipTest } from '../helpers/package-cli.js';

const PHOTOS = join(REPO_ROOT, '..', 'shared', 'fixtures', 'images');
const FIXTURE_PHOTOS = ['cat_tabby.jpg', 'dog_labrador.jpg', 'elephant.jpg', 'grand_piano.jpg', 'owl.jpg', 'pizza.jpg'];
/** ONNX Runtime against TF.js wasm on the same input: the bound for equal answers. */
const AGREE = 1e-4;

const cleanups: (() => unknown)[] = [];
const scope = { after: (fn: () => unknown) => void cleanups.push(fn) };

let dir = '';
let images: string[] = [];
let canLink = true;

interface Packaged {
  readonly out: string;
  readonly body: any;
}

async function packageProject(config: string, name: string): Promise<Packaged> {
  const out = join(dir, name);
  const run = await runBin(['package', '--config', config, '--out', out, '--json'], { cwd: dir, timeoutMs: 600_000 });
  assert.equal(run.code, 0, run.stderr);
  return { out, body: JSON.parse(run.stdout) };
}

async function invoke(config: string, out: string): Promise<any> {
  const args = ['invoke', '--local', '--s3-local', '--config', config, '--out', out, '--json', '--image', ...images];
  const run = await runBin(args, { cwd: dir, env: { TMPDIR: await tempDir(scope, 'lambda-ml-onnx-tmp-') } });
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout);
}

/** Each image key's predictions by model. */
const predictionsOf = (body: any): Map<string, Record<string, { label: string; score: number }[]>> =>
  new Map(
    body.invocations[0].result.results.map((r: any) => {
      assert.equal(r.status, 'tagged', `${r.key}: ${r.reason} ${r.message}`);
      return [r.key, r.predictions];
    }),
  );

let starter: { config: string; packaged: Packaged };
let mixed: { config: string; packaged: Packaged };

before(async () => {
  await ensureNodeExample();
  dir = await tempDir(scope, 'lambda-ml-onnx-backend-');
  const init = await runBin(['init'], { cwd: dir });
  assert.equal(init.code, 0, init.stderr);
  try {
    // npm install stands in as hard links to the example's installed deps (the same pinned versions).
    execFileSync('cp', ['-al', join(NODE_EXAMPLE, 'node_modules'), join(dir, 'node_modules')]);
  } catch {
    canLink = false;
    return;
  }
  await mkdir(join(dir, 'photos'));
  await writeFile(join(dir, 'photos', 'baboon.png'), baboonPhoto());
  images = [join(dir, 'photos', 'baboon.png'), ...FIXTURE_PHOTOS.map((f) => join(PHOTOS, f)).filter(existsSync)];
  const config = join(dir, 'lambda-ml.config.json');
  starter = { config, packaged: await packageProject(config, 'out-onnx') };
  // The same model a second time on wasm, beside the first (auto: onnx): one function, both backends.
  const raw = JSON.parse(await readFile(config, 'utf8'));
  const safety = raw.models[0];
  raw.models.push({ ...safety, name: 'safetywasm', tag: 'safetywasm', s3: `${safety.s3}wasm/`, backend: 'wasm' });
  const mixedConfig = join(dir, 'mixed.config.json');
  await writeFile(mixedConfig, JSON.stringify(raw, null, 2));
  mixed = { config: mixedConfig, packaged: await packageProject(mixedConfig, 'out-mixed') };
});

const skipIfNoLink = (t: { skip: (why: string) => void }) => {
  if (!canLink) t.skip('cannot hard-link the example node_modules (another filesystem)');
  return !canLink;
};

test('the starter: .npmrc skips the CUDA download; onnxruntime-node pinned with the handler deps', async () => {
  assert.equal(await readFile(join(dir, '.npmrc'), 'utf8'), 'onnxruntime-node-install=skip\n');
  const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
  const own = JSON.parse(await readFile(join(REPO_ROOT, 'node_modules/onnxruntime-node/package.json'), 'utf8'));
  assert.equal(pkg.dependencies['onnxruntime-node'], own.version);
});

test('the starter packages on onnx by default: model.onnx staged with its sha256, backend per model', async (t) => {
  if (skipIfNoLink(t)) return;
  const { out, body } = starter.packaged;
  const runtime = body.manifest.runtime;
  assert.equal(runtime.backend, 'wasm', 'the TF.js backend, unused here');
  assert.equal(runtime.models.length, 1);
  const [model] = runtime.models;
  assert.equal(model.backend, 'onnx');
  assert.equal(model.format, 'onnx');
  assert.deepEqual(
    model.files.map((f: { name: string }) => f.name),
    ['model.onnx'],
  );
  const staged = join(out, 'models', 'safety', 'model.onnx');
  assert.equal(sha256File(staged), model.files[0].sha256);
  assert.ok(body.binariesAudited >= 4, 'sharp, libvips, the ONNX Runtime binding and libonnxruntime.so.1 audited');
  // budget (no --out): the same choice, the .onnx counted as it ships (float32, 2.6 M parameters: not the uint8
  // TF.js shards), its memory the weights plus the session's, the cost estimate on onnx's per-image time.
  const run = await runBin(['budget', '--json', '--config', starter.config], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  const [counted] = report.components.models;
  assert.equal(counted.backend, 'onnx');
  assert.equal(counted.bytes, model.files[0].bytes);
  assert.ok(counted.bytes > 9_000_000, String(counted.bytes));
  assert.ok(counted.memoryBytes > 2 * counted.bytes, `memory ${counted.memoryBytes} for a ${counted.bytes}-byte model`);
  assert.match(report.cost.time.label, / on onnx,/);
  const ort = report.components.deps.packages.find((p: { name: string }) => p.name === 'onnxruntime-node');
  assert.ok(!ort || ort.providedBy === 'handler', "the deps' own onnxruntime-node (all platforms) never ships");
});

test('zipinfo: onnxruntime-node ships for linux x64 only (no darwin, win32, arm64, CUDA or TensorRT)', (t) => {
  if (skipIfNoLink(t)) return;
  const zip = join(starter.packaged.out, 'function.zip');
  unzipTest(zip);
  // Issue 13: the Node classifier's function stays under 80 MB unzipped with ONNX Runtime in it.
  const { unzippedBytes } = starter.packaged.body.manifest.artifacts.function;
  assert.ok(unzippedBytes <= 80_000_000, `function.zip unzips to ${unzippedBytes} bytes`);
  const names = execFileSync('zipinfo', ['-1', zip], { maxBuffer: 64 << 20 })
    .toString()
    .split('\n')
    .filter((n) => n.startsWith('node_modules/onnxruntime-node/'));
  const binaries = names.filter((n) => n.includes('/bin/'));
  assert.deepEqual(binaries.sort(), [
    'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
    'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
  ]);
  assert.deepEqual(
    names.filter((n) => /darwin|win32|arm64|cuda|tensorrt|\.dll$|\.dylib$/i.test(n)),
    [],
  );
  assert.ok(names.includes('node_modules/onnxruntime-node/dist/index.js'));
  assert.ok(names.includes('node_modules/onnxruntime-node/node_modules/onnxruntime-common/package.json'));
  assert.deepEqual(
    names.filter((n) => /\/(lib|script)\/|\.ts$|\.map$/.test(n)),
    [],
    'no TypeScript sources, install scripts or source maps',
  );
});

test('a wasm-only function ships no onnxruntime-node', async (t) => {
  if (skipIfNoLink(t)) return;
  const raw = JSON.parse(await readFile(starter.config, 'utf8'));
  const config = join(dir, 'wasm.config.json');
  await writeFile(config, JSON.stringify({ ...raw, backend: 'wasm', prune: 'safe' }, null, 2));
  const { out, body } = await packageProject(config, 'out-wasm');
  assert.deepEqual(
    body.manifest.runtime.models.map((m: { backend: string; format: string }) => [m.backend, m.format]),
    [['wasm', 'tfjs-layers']],
  );
  const names = execFileSync('zipinfo', ['-1', join(out, 'function.zip')], { maxBuffer: 64 << 20 }).toString();
  assert.doesNotMatch(names, /onnxruntime/);
  assert.deepEqual((await readdir(join(out, 'models', 'safety'))).includes('model.json'), true);
});

test('runtime config: each model carries its backend (auto -> onnx, wasm as asked)', (t) => {
  if (skipIfNoLink(t)) return;
  const models = mixed.packaged.body.manifest.runtime.models;
  assert.deepEqual(
    models.map((m: { name: string; backend: string; format: string }) => [m.name, m.backend, m.format]),
    [
      ['safety', 'onnx', 'onnx'],
      ['safetywasm', 'wasm', 'tfjs-layers'],
    ],
  );
});

test('invoke --local: the same labels on onnx as on wasm; the cold start names the backend', async (t) => {
  if (skipIfNoLink(t)) return;
  const onnxRun = await invoke(starter.config, starter.packaged.out);
  assert.equal(onnxRun.coldStart.backend, 'onnx');
  assert.deepEqual(onnxRun.coldStart.backends, { safety: 'onnx' });
  const memoryMb = starter.packaged.body.manifest.function.memoryMb;
  assert.equal(onnxRun.coldStart.onnxThreads, lambdaVcpus(memoryMb));
  const mixedRun = await invoke(mixed.config, mixed.packaged.out);
  assert.equal(mixedRun.coldStart.backend, 'onnx+wasm');
  assert.deepEqual(mixedRun.coldStart.backends, { safety: 'onnx', safetywasm: 'wasm' });
  const alone = predictionsOf(onnxRun);
  const both = predictionsOf(mixedRun);
  assert.equal(alone.size, images.length);
  t.diagnostic(`${images.length} photos (${images.length - 1} from ../shared/fixtures/images)`);
  for (const [key, predictions] of both) {
    const [onnx] = predictions.safety;
    const [wasm] = predictions.safetywasm;
    assert.equal(onnx.label, wasm.label, `${key}: top-1 on onnx and wasm`);
    assert.ok(Math.abs(onnx.score - wasm.score) <= AGREE, `${key}: ${onnx.score} vs ${wasm.score}`);
    assert.deepEqual(alone.get(key)?.safety, predictions.safety, `${key}: the same on the onnx-only function`);
  }
  const tags = onnxRun.s3Local.images.map((i: { tags: Record<string, string> }) => i.tags['ml:safety']);
  const wasmTags = mixedRun.s3Local.images.map((i: { tags: Record<string, string> }) => i.tags['ml:safetywasm']);
  assert.deepEqual(tags, wasmTags, 'the ml:safety tags on onnx are the wasm ones');
});

test.after(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
