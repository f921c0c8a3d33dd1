// --quantize auto / uint8 / float16 on real models: nsfwjs MobileNetV2 (wasm) and a generated Teachable-Machine-like
// conv net (cpu) whose BatchNormalization variances span a very wide range, so plain uint8 flips top-1 classes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { convertKeras } from '../../src/convert/convert-keras.js';
import { convertTfjs } from '../../src/convert/convert-tfjs.js';
import { seededRandom } from '../../src/convert/compare.js';
import { selectBackend } from '../../src/handler/backend.js';
import type { RequireFrom } from '../../src/handler/require-from.js';
import { nsfwModelDir } from '../helpers/handler-fixtures.js';
import { writeKerasH5 } from '../helpers/keras-writer.js';

const PHOTOS = resolve(import.meta.dirname, '../../../shared/fixtures/images');
const calibrate = existsSync(PHOTOS) ? PHOTOS : undefined;
const req = Object.assign(createRequire(import.meta.url), { roots: [] }) as unknown as RequireFrom;
const NSFW_FLOAT32_BYTES = 10_477_844;

const folderBytes = async (dir: string) => {
  let sum = 0;
  for (const name of await readdir(dir)) sum += (await stat(join(dir, name))).size;
  return sum;
};

test('auto on nsfwjs MobileNetV2 (wasm): every top-1 kept, >= 2.5x smaller than float32, in seconds', async (t) => {
  await selectBackend(tf, req, 'wasm');
  const work = await mkdtemp(join(tmpdir(), 'lm-quant-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const report = await convertTfjs(await nsfwModelDir(), join(work, 'out'), { quantize: 'auto', calibrate });
  assert.equal(report.quantization.flips, 0);
  assert.ok(report.quantization.maxAbsDiff <= 0.02);
  assert.equal(report.quantization.calibration, calibrate ? 'images' : 'synthetic');
  const bytes = await folderBytes(join(work, 'out'));
  assert.ok(bytes * 2.5 <= NSFW_FLOAT32_BYTES, `${bytes} bytes`);
  assert.ok(report.quantization.passes <= 4, `${report.quantization.passes} passes`);
  // the written model loads in plain TF.js and gives the same top-1 classes
  const { fileModelHandler } = await import('../../src/convert/tfjs-io.js');
  const loaded = await tf.loadLayersModel(fileModelHandler(join(work, 'out')));
  loaded.dispose();
});

/** Conv -> BatchNorm (variances 1e-3..1e4 with outliers, as Teachable Machine exports) -> pool -> Dense softmax. */
function wideBatchNormModel(): tf.LayersModel {
  const model = tf.sequential({ name: 'tm_like' });
  model.add(tf.layers.conv2d({ inputShape: [16, 16, 3], filters: 16, kernelSize: 3, name: 'conv', useBias: false }));
  model.add(tf.layers.batchNormalization({ name: 'bn' }));
  model.add(tf.layers.reLU({ name: 'relu' }));
  model.add(tf.layers.globalAveragePooling2d({ name: 'pool' }));
  model.add(tf.layers.dense({ units: 5, activation: 'softmax', name: 'head' }));
  // seed and scales picked so that the float32 model's top-1 varies over the synthetic inputs and uint8 flips some
  const random = seededRandom(3);
  const sym = (n: number, s: number) => Float32Array.from({ length: n }, () => (random() * 2 - 1) * s);
  const variance = Float32Array.from({ length: 16 }, (_, i) => (i < 2 ? 5e4 : 0.1 * (0.1 + random())));
  const gamma = Float32Array.from({ length: 16 }, (_, i) => (i === 3 ? 300 : 0.5 + random()));
  const [conv, beta, mean, kernel, bias] = [sym(432, 0.3), sym(16, 0.1), sym(16, 0.05), sym(80, 0.5), sym(5, 0.1)];
  model.getLayer('conv').setWeights([tf.tensor4d(conv, [3, 3, 3, 16])]);
  model.getLayer('bn').setWeights([tf.tensor1d(gamma), tf.tensor1d(beta), tf.tensor1d(mean), tf.tensor1d(variance)]);
  model.getLayer('head').setWeights([tf.tensor2d(kernel, [16, 5]), tf.tensor1d(bias)]);
  return model;
}

test('wide-range BatchNorm: uint8 warns, --strict refuses, writes nothing; auto keeps every top-1 (cpu)', async (t) => {
  await tf.setBackend('cpu');
  const work = await mkdtemp(join(tmpdir(), 'lm-quant-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const model = wideBatchNormModel();
  const h5 = join(work, 'tm.h5');
  await writeKerasH5(h5, model, model.toJSON(undefined, false) as Record<string, unknown>);
  model.dispose();

  const plain = await convertKeras(h5, join(work, 'uint8'), { quantize: 'uint8' });
  assert.ok(plain.quantization!.flips >= 1, JSON.stringify(plain.quantization));
  assert.match(plain.quantization!.warnings[0], /--quantize uint8 changes the top-1 class of \d+ of 8 synthetic/);

  await assert.rejects(
    convertKeras(h5, join(work, 'strict'), { quantize: 'uint8', strict: true }),
    (error: Error & { code?: string }) =>
      error.code === 'over-budget' && /nothing written \(--strict\)/.test(error.message),
  );
  assert.equal(existsSync(join(work, 'strict')), false);
  assert.deepEqual((await readdir(work)).sort(), ['tm.h5', 'uint8']);

  const auto = await convertKeras(h5, join(work, 'auto'), { quantize: 'auto' });
  const q = auto.quantization!;
  assert.equal(q.flips, 0);
  assert.ok(q.maxAbsDiff <= 0.02, String(q.maxAbsDiff));
  assert.ok(q.counts.uint8 >= 1 && q.counts.float16 + q.counts.float32 >= 1, JSON.stringify(q.counts));
  assert.equal(q.largest[0].name, 'conv/kernel');
  assert.ok(auto.bytesAfter < auto.bytesBefore);
});
