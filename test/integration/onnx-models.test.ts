// Real models through the ONNX export: the nsfwjs MobileNetV2 (a TF.js layers model with uint8 weights, from npm)
// on every photo of ../shared/fixtures/images and the baboon, and the real Keras files of ../shared/fixtures/keras-h5
// that convert to TF.js. ONNX Runtime must agree with TF.js (wasm, as the handler runs it) within 1e-4, with the
// same top-1 on every photo, through the handler's one preprocessing path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertKeras, fileModelHandler } from '../../src/convert/index.js';
import { baboonPhoto, nsfwjsLabels } from '../../src/example/nsfwjs-model.js';
import { selectBackend } from '../../src/handler/backend.js';
import { topK } from '../../src/handler/classify.js';
import { decodeImage, SkipError, toModelInput } from '../../src/handler/image.js';
import { LambdaMlError } from '../../src/lib/errors.js';
import { convertToOnnx, decodeModel, loadOrt } from '../../src/onnx/index.js';
import { FIXTURES, hasFixtures, loadDeps, nsfwModelDir, SKIP_FIXTURES } from '../helpers/handler-fixtures.js';
import { seeded } from '../helpers/keras-specs.js';

const { tf, sharp, req } = loadDeps();
const ort = loadOrt();
const TOLERANCE = 1e-4;

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-ml-onnx-models-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
};

/** The photos: every fixture image that decodes (the truncated JPEG is the handler's skip case), and the baboon. */
async function photos(): Promise<{ name: string; input: Float32Array }[]> {
  const files = hasFixtures() ? readdirSync(join(FIXTURES, 'images')).sort() : [];
  const buffers = [
    ...files.map((name) => ({ name, read: () => readFile(join(FIXTURES, 'images', name)) })),
    { name: 'baboon.png (baboon-image-uri)', read: async () => baboonPhoto() },
  ];
  const out: { name: string; input: Float32Array }[] = [];
  for (const { name, read } of buffers) {
    try {
      out.push({ name, input: await toModelInput(await decodeImage(sharp, await read()), 224, 224, [0, 1]) });
    } catch (error) {
      if (!(error instanceof SkipError)) throw error;
    }
  }
  return out;
}

test('nsfwjs MobileNetV2 as ONNX: same scores as TF.js wasm (1e-4) and same top-1 on every photo', async (t) => {
  if (!hasFixtures()) t.diagnostic(`${SKIP_FIXTURES}: the baboon photo only`);
  await selectBackend(tf, req, 'wasm');
  const dir = await nsfwModelDir();
  await withDir(async (out) => {
    const file = join(out, 'nsfw.onnx');
    const started = performance.now();
    const report = await convertToOnnx(dir, file);
    const exportMs = performance.now() - started;
    // the file read back with the schema: NHWC input kept, one output, every weight an initializer
    const model = decodeModel(await readFile(file));
    const dims = (value: any) => value.type.tensor_type.shape.dim.map((d: any) => d.dim_value ?? d.dim_param);
    assert.deepEqual(model.graph.input.map(dims), [['batch', 224, 224, 3]]);
    assert.deepEqual(model.graph.output.map(dims), [['batch', 5]]);
    assert.equal(model.graph.initializer.length, report.initializers);
    assert.equal(report.ops.Conv, 52, 'every Conv2D/DepthwiseConv2D one Conv');
    assert.equal(report.ops.Mul ?? 0, 0, 'every BatchNormalization folded into its convolution');
    assert.equal(report.ops.Transpose, 2, 'one Transpose in (NHWC to NCHW), one before Flatten');
    const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1 });
    const tfModel = await tf.loadLayersModel(fileModelHandler(dir));
    const labels = nsfwjsLabels();
    let worst = 0;
    try {
      for (const photo of await photos()) {
        const feeds = { [report.inputs[0].name]: new ort.Tensor('float32', photo.input, [1, 224, 224, 3]) };
        const onnx = (await session.run(feeds))[report.outputs[0].name].data as Float32Array;
        const want = tf.tidy(() => (tfModel.predict(tf.tensor4d(photo.input, [1, 224, 224, 3])) as any).dataSync());
        const diff = maxDiff(onnx, want);
        worst = Math.max(worst, diff);
        const [top] = topK(onnx, labels, 1);
        const [wantTop] = topK(want, labels, 1);
        t.diagnostic(`${photo.name}: ${top.label} ${top.score.toFixed(4)} (TF.js ${wantTop.label}), diff ${diff}`);
        assert.ok(diff <= TOLERANCE, `${photo.name}: ONNX differs from TF.js by ${diff}`);
        assert.equal(top.label, wantTop.label, `${photo.name}: top-1`);
      }
    } finally {
      tfModel.dispose();
      await session.release();
    }
    t.diagnostic(`export ${exportMs.toFixed(0)} ms, ${report.bytes} bytes, largest difference ${worst}`);
  });
});

const KERAS_DIR = join(FIXTURES, 'keras-h5');
const kerasFiles = existsSync(KERAS_DIR) ? readdirSync(KERAS_DIR).filter((name) => name.endsWith('.h5')) : [];

test('the real Keras files that convert to TF.js also convert to ONNX and agree', async (t) => {
  if (kerasFiles.length === 0) return t.skip(`${KERAS_DIR} absent: the shared Keras files are needed`);
  await selectBackend(tf, req, 'wasm');
  let converted = 0;
  for (const name of kerasFiles) {
    await withDir(async (dir) => {
      const source = join(KERAS_DIR, name);
      const tfjs = await convertKeras(source, join(dir, 'tfjs')).catch((error: unknown) => error);
      if (tfjs instanceof LambdaMlError) {
        t.diagnostic(`${name}: not a model convert takes (${tfjs.message.split(': ').slice(1).join(': ')})`);
        const onnx = await convertToOnnx(source, join(dir, 'm.onnx')).catch((error: unknown) => error);
        assert.ok(onnx instanceof LambdaMlError, `${name}: refused for TF.js, so for ONNX too`);
        return;
      }
      if (tfjs instanceof Error) throw tfjs;
      const report = await convertToOnnx(source, join(dir, 'm.onnx'));
      const model = await tf.loadLayersModel(fileModelHandler(join(dir, 'tfjs')));
      const session = await ort.InferenceSession.create(join(dir, 'm.onnx'), { intraOpNumThreads: 1 });
      try {
        const shape = [3, ...(model.inputs[0].shape.slice(1) as number[])];
        const random = seeded(7);
        const values = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, random);
        const feeds = { [report.inputs[0].name]: new ort.Tensor('float32', values, shape) };
        const onnx = (await session.run(feeds))[report.outputs[0].name].data as Float32Array;
        const want = tf.tidy(() => (model.predict(tf.tensor(values, shape)) as any).dataSync());
        const diff = maxDiff(onnx, want);
        t.diagnostic(`${name}: ${report.nodes} nodes, ${report.bytes} bytes, difference ${diff}`);
        assert.ok(diff <= TOLERANCE, `${name}: ONNX differs from TF.js by ${diff}`);
        converted++;
      } finally {
        model.dispose();
        await session.release();
      }
    });
  }
  assert.ok(converted >= 1, 'at least one real Keras file converted');
});
