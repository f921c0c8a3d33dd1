import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { baboonPhoto } from '../../src/example/nsfwjs-model.js';
import { selectBackend } from '../../src/handler/backend.js';
import { classify } from '../../src/handler/classify.js';
import { decodeImage, toModelInput } from '../../src/handler/image.js';
import { clearModelCache, getModel, loadModelFromDir } from '../../src/handler/models.js';
import { makeS3Ops } from '../../src/handler/s3.js';
import { startS3 } from '../helpers/s3rver.js';
import { hasFixtures, loadDeps, modelSpec, nsfwModelDir, photo, SKIP_FIXTURES } from '../helpers/handler-fixtures.js';

const { tf, sharp, req, sdk } = loadDeps();

async function inputOf(buf: Buffer) {
  return toModelInput(await decodeImage(sharp, buf), 224, 224, [0, 1]);
}

test('graph model (nsfwjs mobilenet_v2_mid) loads through the file IOHandler and classifies', async () => {
  await selectBackend(tf, req, 'wasm');
  const dir = await nsfwModelDir('mobilenet_v2_mid');
  const model = await loadModelFromDir(tf, modelSpec(dir, { name: 'mid', tag: 'mid' }), dir);
  const input = hasFixtures() ? await inputOf(photo('elephant.jpg')) : await inputOf(baboonPhoto());
  const top = await classify(tf, model, input);
  assert.equal(top.length, 3);
  if (hasFixtures()) assert.equal(top[0].label, 'Neutral');
  assert.ok(Math.abs(top.reduce((s, p) => s + p.score, 0) - 1) < 0.05 || top[0].score > 0.5);
  model.dispose();
});

test('wasm and cpu agree (top-1 same, scores within 1e-3); latency per image', async (t) => {
  const dir = await nsfwModelDir();
  const spec = modelSpec(dir);
  const input = await inputOf(hasFixtures() ? photo('cat_tabby.jpg') : baboonPhoto());
  const run = async (backend: 'wasm' | 'cpu') => {
    const choice = await selectBackend(tf, req, backend);
    assert.equal(choice.active, backend);
    const model = await loadModelFromDir(tf, spec, dir);
    if (backend === 'wasm') await classify(tf, model, input); // warm-up (cpu is ~15x slower: one predict only)
    const t0 = performance.now();
    const top = await classify(tf, model, input);
    const ms = performance.now() - t0;
    model.dispose();
    return { top, ms };
  };
  const wasm = await run('wasm');
  const cpu = await run('cpu');
  await selectBackend(tf, req, 'wasm');
  t.diagnostic(`predict per image: wasm ${wasm.ms.toFixed(0)} ms (warm), cpu ${cpu.ms.toFixed(0)} ms (first)`);
  assert.equal(wasm.top[0].label, cpu.top[0].label);
  for (let i = 0; i < wasm.top.length; i++)
    assert.ok(Math.abs(wasm.top[i].score - cpu.top[i].score) < 1e-3, `${wasm.top[i].score} vs ${cpu.top[i].score}`);
  const leaked = tf.memory().numTensors;
  const model = await loadModelFromDir(tf, spec, dir);
  const before = tf.memory().numTensors;
  await classify(tf, model, input);
  assert.equal(tf.memory().numTensors, before, 'classify disposes every tensor it makes');
  model.dispose();
  assert.equal(tf.memory().numTensors, leaked);
});

test('"tensorflow" backend without tfjs-node falls back to wasm with a warning', async () => {
  const choice = await selectBackend(tf, req, 'tensorflow');
  assert.equal(choice.active, 'wasm');
  assert.match(choice.warnings.join('\n'), /@tensorflow\/tfjs-node/);
});

test('models from S3 are fetched once into /tmp (sha256-checked, atomic) and cached in memory', async (t) => {
  const s3 = await startS3(t);
  await s3.client.send(new CreateBucketCommand({ Bucket: 'models' }));
  const dir = await nsfwModelDir();
  const spec = { ...modelSpec(dir), dir: null, s3: 's3://models/nsfw/v1' };
  for (const f of spec.files)
    await s3.client.send(
      new PutObjectCommand({ Bucket: 'models', Key: `nsfw/v1/${f.name}`, Body: await readFile(join(dir, f.name)) }),
    );
  const tmpDir = await mkdtemp(join(tmpdir(), 'lambda-ml-models-'));
  t.after(() => rm(tmpDir, { recursive: true, force: true }));
  const ops = makeS3Ops(sdk, s3.client);
  let gets = 0;
  const get = (b: string, k: string) => {
    gets++;
    return ops.get(b, k, null);
  };
  await selectBackend(tf, req, 'wasm');
  clearModelCache();
  const a = await getModel(tf, spec, { taskRoot: tmpDir, tmpDir, get });
  const b = await getModel(tf, spec, { taskRoot: tmpDir, tmpDir, get });
  assert.equal(a, b);
  assert.equal(gets, spec.files.length);
  assert.deepEqual(
    (await readdir(join(tmpDir, 'lambda-ml', 'models'))).filter((n) => n.startsWith('.tmp-')),
    [],
  );
  const top = await classify(tf, a, await inputOf(baboonPhoto()));
  assert.equal(top.length, 3);
  // A corrupted upload is refused with the file named, and nothing is left in the cache folder.
  clearModelCache();
  const bad = {
    ...spec,
    name: 'bad',
    files: spec.files.map((f) => (f.name === 'model.json' ? { ...f, sha256: '0'.repeat(64) } : f)),
  };
  await assert.rejects(
    getModel(tf, bad, { taskRoot: tmpDir, tmpDir, get }),
    /model bad: s3:\/\/models\/nsfw\/v1\/model\.json sha256 mismatch/,
  );
  assert.deepEqual((await readdir(join(tmpDir, 'lambda-ml', 'models'))).length, 1);
  a.dispose();
  clearModelCache();
});

void SKIP_FIXTURES;

test('an ONNX model from S3 is streamed to /tmp (never whole in memory), checked, refused if it differs', async (t) => {
  const { convertToOnnx } = await import('../../src/onnx/index.js');
  const { createHash } = await import('node:crypto');
  const { fetchModelFiles } = await import('../../src/handler/models.js');
  const { ONNX_FILE } = await import('../../src/handler/onnx-session.js');
  const s3 = await startS3(t);
  await s3.client.send(new CreateBucketCommand({ Bucket: 'models' }));
  const tmpDir = await mkdtemp(join(tmpdir(), 'lambda-ml-onnx-stream-'));
  t.after(() => rm(tmpDir, { recursive: true, force: true }));
  const onnxPath = join(tmpDir, 'src.onnx');
  await convertToOnnx(await nsfwModelDir(), onnxPath);
  const data = await readFile(onnxPath);
  await s3.client.send(new PutObjectCommand({ Bucket: 'models', Key: `o/${ONNX_FILE}`, Body: data }));
  const file = { name: ONNX_FILE, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };
  const spec = {
    ...modelSpec(await nsfwModelDir()),
    name: 'o',
    format: 'onnx' as const,
    backend: 'onnx' as const,
    dir: null,
    s3: 's3://models/o/',
    files: [file],
  };
  const ops = makeS3Ops(sdk, s3.client);
  let whole = 0;
  const get = (b: string, k: string) => {
    whole++;
    return ops.get(b, k, null);
  };
  const opts = { taskRoot: tmpDir, tmpDir: join(tmpDir, 'tmp'), get, getStream: ops.getStream };
  const files = await fetchModelFiles(spec, opts);
  assert.equal(whole, 0, 'streamed, not fetched whole');
  assert.equal(files.bytes, null, 'no bytes kept: ONNX Runtime reads the file');
  assert.equal(files.downloaded, true);
  assert.ok((await readFile(join(files.dir, ONNX_FILE))).equals(data), 'the same bytes on disk');

  const models = join(tmpDir, 'tmp', 'lambda-ml', 'models');
  for (const [name, bad, pattern] of [
    ['hash', { ...file, sha256: '0'.repeat(64) }, /^model hash: s3:\/\/models\/o\/model\.onnx sha256 mismatch/],
    ['short', { ...file, bytes: data.length - 1 }, /^model short: s3:\/\/models\/o\/model\.onnx: more than the/],
  ] as const) {
    const before = await readdir(models);
    await assert.rejects(fetchModelFiles({ ...spec, name, files: [bad] }, opts), { message: pattern });
    assert.deepEqual(await readdir(models), before, `${name}: nothing kept, no temp folder`);
  }
});
