/**
 * The handler on the onnx backend, in-process against s3rver: one InferenceSession per model, created on the first
 * invocation (from the downloaded bytes for an S3 model, from the file for a bundled one) with the threads the
 * memory buys, and kept for the warm invocations; the same Float32Array as TF.js (one preprocessing path), so the
 * same labels as the same model on wasm beside it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CreateBucketCommand, GetObjectTaggingCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type * as Ort from 'onnxruntime-node';
import { baboonPhoto } from '../../src/example/nsfwjs-model.js';
import { createHandler, type S3Summary } from '../../src/handler/handler.js';
import { clearModelCache } from '../../src/handler/models.js';
import { ONNX_FILE, loadOnnxRuntime } from '../../src/handler/onnx-session.js';
import { makeS3Ops } from '../../src/handler/s3.js';
import { convertToOnnx } from '../../src/onnx/index.js';
import { context, loadDeps, modelSpec, nsfwModelDir, runtimeConfig, s3Event } from '../helpers/handler-fixtures.js';
import { startS3 } from '../helpers/s3rver.js';

const deps = loadDeps();

test('onnx models: sessions on first use with the memory-sized threads, kept warm; same labels as wasm', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-ml-onnx-handler-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tfjsDir = await nsfwModelDir();
  const bundled = join(dir, 'task', 'models', 'safe');
  await mkdir(bundled, { recursive: true });
  await convertToOnnx(tfjsDir, join(bundled, ONNX_FILE));
  const data = await readFile(join(bundled, ONNX_FILE));
  const file = { name: ONNX_FILE, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') };

  const s3 = await startS3(t);
  for (const bucket of ['photos', 'models']) await s3.client.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.client.send(new PutObjectCommand({ Bucket: 'models', Key: `fetched/${ONNX_FILE}`, Body: data }));
  await s3.client.send(new PutObjectCommand({ Bucket: 'photos', Key: 'a.png', Body: baboonPhoto() }));
  await s3.client.send(new PutObjectCommand({ Bucket: 'photos', Key: 'b.png', Body: baboonPhoto() }));

  const onnx = { format: 'onnx' as const, backend: 'onnx' as const, files: [file], topK: 5 };
  const config = runtimeConfig([
    modelSpec(tfjsDir, { name: 'bundled', tag: 'bundled', ...onnx, dir: 'models/safe' }),
    modelSpec(tfjsDir, { name: 'fetched', tag: 'fetched', ...onnx, dir: null, s3: 's3://models/fetched/' }),
    modelSpec(tfjsDir, { name: 'wasm', tag: 'wasm', backend: 'wasm', topK: 5 }),
  ]);
  // Counts the sessions the handler creates, and with what options and from what.
  const real = await loadOnnxRuntime();
  const created: { source: string; options: Ort.InferenceSession.SessionOptions | undefined }[] = [];
  const counting = {
    ...real,
    InferenceSession: {
      create: (source: string | Uint8Array, options?: Ort.InferenceSession.SessionOptions) => {
        created.push({ source: typeof source === 'string' ? 'file' : 'bytes', options });
        return real.InferenceSession.create(source as Uint8Array, options);
      },
    },
  } as unknown as typeof Ort;
  clearModelCache();
  t.after(clearModelCache);
  const lines: Record<string, any>[] = [];
  const env = { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3539' }; // 3 vCPUs' worth
  const handler = createHandler({
    config,
    taskRoot: join(dir, 'task'),
    tmpDir: join(dir, 'tmp'),
    tf: deps.tf,
    sharp: deps.sharp,
    s3: makeS3Ops(deps.sdk, s3.client),
    require: deps.req,
    env,
    log: (line) => lines.push(line),
    metrics: null,
    ort: async () => counting,
  });
  await mkdir(join(dir, 'tmp'));
  const first = (await handler(s3Event([{ bucket: 'photos', key: 'a.png' }]), context())) as S3Summary;
  assert.equal(first.tagged, 1);
  // From the file both times: the fetched model is read back from /tmp, since handing ONNX Runtime the downloaded
  // buffer held two copies at once (src/handler/models.ts, ModelFiles).
  assert.deepEqual(created.map((c) => c.source).sort(), ['file', 'file'], 'fetched and bundled: from the file');
  for (const c of created) assert.equal(c.options?.intraOpNumThreads, 3);

  const cold = lines.find((l) => l.coldStart)!.coldStart;
  assert.equal(cold.backend, 'onnx+wasm');
  assert.deepEqual(cold.backends, { bundled: 'onnx', fetched: 'onnx', wasm: 'wasm' });
  assert.equal(cold.onnxThreads, 3);
  for (const name of ['bundled', 'fetched', 'wasm']) assert.equal(typeof cold.modelLoad[name], 'number', name);

  const second = (await handler(s3Event([{ bucket: 'photos', key: 'b.png' }]), context())) as S3Summary;
  assert.equal(second.tagged, 1);
  assert.equal(created.length, 2, 'warm: the sessions were kept, none created again');
  assert.equal(lines.filter((l) => l.coldStart).length, 1);

  for (const result of [...first.results, ...second.results]) {
    const { bundled: a, fetched: b, wasm } = result.predictions!;
    assert.deepEqual(a, b, 'the same model, bundled or fetched');
    assert.deepEqual(
      a.map((p) => p.label),
      wasm.map((p) => p.label),
      'every label of the top 5 in the same order',
    );
    for (const [i, p] of a.entries()) assert.ok(Math.abs(p.score - wasm[i].score) <= 1e-4, `${p.label}`);
  }
  const tags = (await s3.client.send(new GetObjectTaggingCommand({ Bucket: 'photos', Key: 'a.png' }))).TagSet ?? [];
  const byKey = Object.fromEntries(tags.map((tag) => [tag.Key, tag.Value]));
  assert.equal(byKey['ml:bundled'], byKey['ml:wasm']);
  assert.equal(byKey['ml:fetched'], byKey['ml:wasm']);
});
