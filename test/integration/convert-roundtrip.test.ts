import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import sharp from 'sharp';
import { convertKeras, fileModelHandler, readKerasInfo } from '../../src/convert/index.js';
import { writeKerasH5, writeKerasV3 } from '../helpers/keras-writer.js';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/fixtures');
const MOBILENET = join(FIXTURES, 'tfjs', 'nsfwjs_mobilenet_v2_layers');
const skip = existsSync(MOBILENET)
  ? false
  : `fixtures not found at ${MOBILENET} (the shared fixtures folder sits next to the repo)`;
const PHOTOS = ['cat_tabby.jpg', 'grand_piano.jpg', 'pizza.jpg'];

async function photo(name: string): Promise<tf.Tensor> {
  const data = await sharp(join(FIXTURES, 'images', name))
    .removeAlpha()
    .resize(224, 224, { fit: 'fill' })
    .raw()
    .toBuffer();
  return tf.tensor(
    Float32Array.from(data, (v) => v / 255),
    [1, 224, 224, 3],
  );
}

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
const top1 = (t: tf.Tensor) => Array.from(tf.tidy(() => t.argMax(1).dataSync()));

test(
  'MobileNetV2 layers model -> Keras 2 .h5 and Keras 3 .keras -> convert: same predictions; uint8/float16 keep top-1',
  { skip },
  async (t) => {
    await tf.setBackend('wasm'); // cpu takes ~1.7 s per MobileNet predict
    const dir = await mkdtemp(join(tmpdir(), 'lambda-ml-roundtrip-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const json = JSON.parse(await readFile(join(MOBILENET, 'model.json'), 'utf8'));
    const original = await tf.loadLayersModel(fileModelHandler(MOBILENET)); // uint8 shards, dequantised on load
    const images = tf.concat(await Promise.all(PHOTOS.map(photo)));
    const want = original.predict(images) as tf.Tensor;
    assert.deepEqual(top1(want), [2, 2, 2]); // Neutral, as the fixture manifest records

    const h5 = join(dir, 'mobilenet.h5');
    const keras = join(dir, 'mobilenet.keras');
    await writeKerasH5(h5, original, json.modelTopology.model_config);
    await writeKerasV3(keras, original, json.modelTopology.model_config);

    const cases = [
      { input: h5, mode: undefined, tolerance: 1e-4 },
      { input: keras, mode: undefined, tolerance: 1e-4 },
      { input: h5, mode: 'uint8', tolerance: 0.05 },
      { input: keras, mode: 'float16', tolerance: 0.01 },
    ] as const;
    for (const { input, mode, tolerance } of cases) {
      const out = join(dir, `out-${input.endsWith('.h5') ? 'h5' : 'keras'}-${mode ?? 'f32'}`);
      const report = await convertKeras(input, out, { quantize: mode });
      assert.equal(report.format, input.endsWith('.h5') ? 'keras-h5' : 'keras-v3');
      assert.equal(report.weights, 266);
      assert.equal(report.bytesBefore, 10_477_844);
      assert.equal(report.bytesAfter, mode === 'uint8' ? 2_619_461 : mode === 'float16' ? 5_238_922 : 10_477_844);
      assert.equal(report.files.length, 1 + Math.ceil(report.bytesAfter / 4_194_304));
      const model = await tf.loadLayersModel(fileModelHandler(out));
      const got = model.predict(images) as tf.Tensor;
      const diff = maxDiff(got, want);
      assert.ok(diff < tolerance, `${input} ${mode ?? 'float32'}: max diff ${diff}`);
      assert.deepEqual(top1(got), top1(want));
      // the reported drift is measured on 8 synthetic calibration images (quantize-check.ts), not these photos
      if (mode)
        assert.ok(
          report.maxAbsDiff > 0 && report.maxAbsDiff < 0.02 && report.quantization?.flips === 0,
          `reported drift ${report.maxAbsDiff}`,
        );
      model.dispose();
      got.dispose();
    }

    const info = await readKerasInfo(keras);
    assert.equal(info.format, 'keras-v3');
    assert.equal(info.kerasVersion, '3.5.0');
    assert.equal(info.memoryBytes, 10_477_844);
    assert.equal(info.params, 10_477_844 / 4);
    original.dispose();
  },
);

/** A Teachable Machine-like model: a Sequential holding a Sequential (with BatchNorm) plus a head. */
function nestedModels(): tf.LayersModel[] {
  const inner = () =>
    tf.sequential({
      layers: [tf.layers.dense({ units: 6, inputShape: [4], activation: 'relu' }), tf.layers.batchNormalization()],
    });
  const sequential = tf.sequential({ layers: [inner(), tf.layers.dense({ units: 3, activation: 'softmax' })] });
  const input = tf.input({ shape: [4] });
  const features = inner().apply(input) as tf.SymbolicTensor;
  const head = tf.layers
    .dense({ units: 2 })
    .apply(tf.layers.concatenate().apply([features, input]) as tf.SymbolicTensor) as tf.SymbolicTensor;
  const functional = tf.model({ inputs: input, outputs: head });
  for (const model of [sequential, functional]) {
    // non-trivial moving statistics, so a swapped mean/variance would show
    model.setWeights(
      model.getWeights().map((w, i) => tf.add(tf.mul(tf.randomUniform(w.shape, 0, 1, 'float32', i + 1), 0.5), 0.5)),
    );
  }
  return [sequential, functional];
}

test('nested models (Sequential in Sequential or in functional) round-trip through .h5 and .keras', async (t) => {
  // Each test picks its own backend: it must pass alone, in any order, and without the shared fixtures.
  await tf.setBackend('cpu');
  const dir = await mkdtemp(join(tmpdir(), 'lambda-ml-nested-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const input = tf.tensor([
    [0.1, -0.2, 0.3, 0.9],
    [1, 2, 3, 4],
  ]);
  for (const [index, model] of nestedModels().entries()) {
    const config = model.toJSON(null, false) as unknown as Record<string, unknown>;
    const want = model.predict(input) as tf.Tensor;
    for (const ext of ['h5', 'keras'] as const) {
      const path = join(dir, `nested${index}.${ext}`);
      await (ext === 'h5' ? writeKerasH5(path, model, config) : writeKerasV3(path, model, config));
      const report = await convertKeras(path, join(dir, `out${index}-${ext}`));
      assert.equal(report.weights, model.weights.length);
      const converted = await tf.loadLayersModel(fileModelHandler(join(dir, `out${index}-${ext}`)));
      const diff = maxDiff(converted.predict(input) as tf.Tensor, want);
      assert.ok(diff < 1e-6, `model ${index} via .${ext}: max diff ${diff}`);
    }
  }
});
