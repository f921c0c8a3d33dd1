import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import h5wasm from 'h5wasm/node';
import sharp from 'sharp';
import { convertKeras, fileModelHandler, readKerasInfo, SHARD_BYTES } from '../../src/convert/index.js';
import { LambdaMlError, exitCodeFor } from '../../src/lib/errors.js';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/fixtures');
const H5 = join(FIXTURES, 'keras-h5');
const skip = existsSync(H5) ? false : `fixtures not found at ${H5} (the shared fixtures folder sits next to the repo)`;

const MODELS = [
  { file: 'tensorspace_combined_keras_model.h5', version: '2.1.6', layers: 10 },
  { file: 'tensorspace_combined_keras_seq_model.h5', version: '2.2.2', layers: 9 },
  { file: 'tensorspace_combinedKeras_tf_keras_model.h5', version: '2.1.6-tf', layers: 9 },
];

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambda-ml-convert-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

type Layer = { class_name: string; config: Record<string, any> };

/** An independent LeNet forward pass in plain JS, with weights read straight from the H5 by h5wasm (no converter, no tfjs-layers). */
async function lenetForward(path: string, input: Float32Array): Promise<Float32Array> {
  await h5wasm.ready;
  const file = new h5wasm.File(path, 'r');
  try {
    const config = JSON.parse(file.attrs.model_config.value as string) as { config: Layer[] | { layers: Layer[] } };
    const layers = Array.isArray(config.config) ? config.config : config.config.layers;
    const weight = (layer: string, name: string) => (file.get(`model_weights/${layer}/${layer}/${name}:0`) as InstanceType<typeof h5wasm.Dataset>).value as Float32Array;
    let x = input;
    let [h, w, c] = [28, 28, 1];
    for (const layer of layers) {
      const cfg = layer.config;
      if (layer.class_name === 'Conv2D') {
        const kernel = weight(cfg.name, 'kernel'); // [kh, kw, cin, cout]
        const bias = weight(cfg.name, 'bias');
        const [kh, kw] = cfg.kernel_size as number[];
        const cout = cfg.filters as number;
        const [oh, ow] = [h - kh + 1, w - kw + 1]; // 'valid', stride 1
        const out = new Float32Array(oh * ow * cout);
        for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) for (let o = 0; o < cout; o++) {
          let sum = bias[o];
          for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) for (let k = 0; k < c; k++) {
            sum += x[((i + a) * w + (j + b)) * c + k] * kernel[((a * kw + b) * c + k) * cout + o];
          }
          out[(i * ow + j) * cout + o] = activate(sum, cfg.activation);
        }
        [x, h, w, c] = [out, oh, ow, cout];
      } else if (layer.class_name === 'MaxPooling2D') {
        const [oh, ow] = [Math.floor(h / 2), Math.floor(w / 2)];
        const out = new Float32Array(oh * ow * c).fill(-Infinity);
        for (let i = 0; i < oh * 2; i++) for (let j = 0; j < ow * 2; j++) for (let k = 0; k < c; k++) {
          const at = ((i >> 1) * ow + (j >> 1)) * c + k;
          out[at] = Math.max(out[at], x[(i * w + j) * c + k]);
        }
        [x, h, w] = [out, oh, ow];
      } else if (layer.class_name === 'Dense') {
        const kernel = weight(cfg.name, 'kernel');
        const bias = weight(cfg.name, 'bias');
        const units = cfg.units as number;
        const out = new Float32Array(units);
        for (let o = 0; o < units; o++) {
          let sum = bias[o];
          for (let i = 0; i < x.length; i++) sum += x[i] * kernel[i * units + o];
          out[o] = sum;
        }
        x = cfg.activation === 'softmax' ? softmax(out) : out.map((v) => activate(v, cfg.activation));
      }
    }
    return x;
  } finally {
    file.close();
  }
}

const activate = (v: number, activation: string) => (activation === 'relu' ? Math.max(0, v) : v);
function softmax(values: Float32Array): Float32Array {
  const max = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / sum);
}

function seededImage(seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: 784 }, () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648));
}

/** A digit drawn with sharp: white text on black, 28x28, /255 (MNIST style). */
async function drawDigit(digit: string): Promise<Float32Array> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><rect width="28" height="28" fill="black"/><text x="14" y="23" font-size="22" font-family="DejaVu Sans, sans-serif" font-weight="bold" fill="white" text-anchor="middle">${digit}</text></svg>`;
  const raw = await sharp(Buffer.from(svg)).greyscale().raw().toBuffer();
  return Float32Array.from(raw, (v) => v / 255);
}

for (const { file, version, layers } of MODELS) {
  test(`converts real Keras ${version} ${file}; TF.js output equals an independent forward pass`, { skip }, async (t) => {
    const dir = await tempDir(t);
    const path = join(H5, file);
    const report = await convertKeras(path, join(dir, 'out'));
    assert.equal(report.format, 'keras-h5');
    assert.equal(report.kerasVersion, version);
    assert.equal(report.layers, layers);
    assert.equal(report.weights, 10);
    assert.equal(report.params, 44_426);
    assert.equal(report.bytesAfter, report.bytesBefore);
    assert.equal(report.maxAbsDiff, 0);

    const json = JSON.parse(await readFile(join(dir, 'out', 'model.json'), 'utf8'));
    assert.equal(json.format, 'layers-model');
    assert.equal(json.convertedBy, 'lambda-ml');
    assert.equal(json.modelTopology.keras_version, version);
    const names = json.weightsManifest[0].weights.map((w: { name: string }) => w.name);
    assert.ok(names.every((name: string) => !name.endsWith(':0') && name.split('/').length === 2), names.join());
    assert.deepEqual((await readdir(join(dir, 'out'))).sort(), ['group1-shard1of1.bin', 'model.json']);

    const model = await tf.loadLayersModel(fileModelHandler(join(dir, 'out')));
    t.after(() => model.dispose());
    for (const input of [seededImage(7), await drawDigit('3')]) {
      const got = (model.predict(tf.tensor(input, [1, 28, 28])) as tf.Tensor).dataSync();
      const want = await lenetForward(path, input);
      const diff = Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i])));
      assert.ok(diff < 1e-4, `max diff ${diff}`);
    }

    const info = await readKerasInfo(path);
    assert.deepEqual(info, { format: 'keras-h5', kerasVersion: version, weightBytes: 177_704, memoryBytes: 177_704, layers, params: 44_426 });
  });
}

test('quantised LeNet: uint8 is 1/4 and float16 1/2 of the bytes, same argmax, small reported drift', { skip }, async (t) => {
  const dir = await tempDir(t);
  const path = join(H5, MODELS[0].file);
  const float = await tf.loadLayersModel(fileModelHandler((await convertKeras(path, join(dir, 'f32'))).outDir));
  const input = tf.tensor(await drawDigit('7'), [1, 28, 28]);
  const want = (float.predict(input) as tf.Tensor).argMax(1).dataSync()[0];
  for (const mode of ['uint8', 'float16'] as const) {
    const report = await convertKeras(path, join(dir, mode), { quantize: mode });
    assert.equal(report.bytesAfter, report.bytesBefore / (mode === 'uint8' ? 4 : 2));
    assert.ok(report.maxAbsDiff > 0 && report.maxAbsDiff < (mode === 'uint8' ? 0.05 : 0.005), `${mode} drift ${report.maxAbsDiff}`);
    const json = JSON.parse(await readFile(join(dir, mode, 'model.json'), 'utf8'));
    const quantization = json.weightsManifest[0].weights[0].quantization;
    assert.equal(quantization.dtype, mode);
    if (mode === 'uint8') assert.ok(typeof quantization.scale === 'number' && typeof quantization.min === 'number');
    const model = await tf.loadLayersModel(fileModelHandler(join(dir, mode)));
    assert.equal((model.predict(input) as tf.Tensor).argMax(1).dataSync()[0], want);
    model.dispose();
  }
  float.dispose();
});

async function expectInputError(promise: Promise<unknown>, pattern: RegExp): Promise<LambdaMlError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  assert.ok(error instanceof LambdaMlError, `expected a LambdaMlError, got ${String(error)}`);
  assert.equal(exitCodeFor(error), 2);
  assert.match(error.message, pattern);
  assert.ok(!error.message.includes('\n'), 'one line');
  assert.ok(error.hint, 'has a hint');
  return error;
}

test('a weights-only H5 fails with exit 2, naming the file and the fix', { skip }, async (t) => {
  const dir = await tempDir(t);
  const path = join(H5, 'tensorspace_separated_weights.h5');
  const error = await expectInputError(convertKeras(path, join(dir, 'out')), /tensorspace_separated_weights\.h5: weights only \(no model_config\)/);
  assert.match(error.hint!, /model\.save\(\)/);
  await expectInputError(readKerasInfo(path), /weights only/);
  assert.equal(existsSync(join(dir, 'out')), false);
});

test('not HDF5, truncated, empty and missing files fail with exit 2 and leave no output', { skip }, async (t) => {
  const dir = await tempDir(t);
  const notH5 = join(dir, 'model.h5');
  await writeFile(notH5, '{"this": "is json, not HDF5"}');
  await expectInputError(convertKeras(notH5, join(dir, 'out')), /model\.h5: not an HDF5 file/);
  const truncated = join(dir, 'cut.h5');
  await writeFile(truncated, (await readFile(join(H5, MODELS[0].file))).subarray(0, 300_000));
  await expectInputError(convertKeras(truncated, join(dir, 'out')), /cut\.h5: truncated HDF5 file/);
  const tiny = join(dir, 'tiny.h5');
  await writeFile(tiny, (await readFile(join(H5, MODELS[0].file))).subarray(0, 20));
  await expectInputError(convertKeras(tiny, join(dir, 'out')), /tiny\.h5: truncated HDF5 file/);
  const empty = join(dir, 'empty.h5');
  await writeFile(empty, '');
  await expectInputError(convertKeras(empty, join(dir, 'out')), /empty\.h5: empty file/);
  await expectInputError(convertKeras(join(dir, 'missing.h5'), join(dir, 'out')), /missing\.h5: not found/);
  const badZip = join(dir, 'model.keras');
  await writeFile(badZip, Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(100)]));
  await expectInputError(convertKeras(badZip, join(dir, 'out')), /model\.keras: not a valid \.keras archive/);
  assert.deepEqual((await readdir(dir)).filter((name) => name.includes('out')), []);
});

test('a layer TF.js lacks is named with its class; the previous output stays intact', { skip }, async (t) => {
  const dir = await tempDir(t);
  const out = join(dir, 'out');
  const path = join(dir, 'lambda.h5');
  await copyFile(join(H5, MODELS[1].file), path);
  await convertKeras(path, out);
  const before = await readFile(join(out, 'model.json'), 'utf8');
  await h5wasm.ready;
  const file = new h5wasm.File(path, 'a');
  const config = JSON.parse(file.attrs.model_config.value as string);
  config.config[6] = { class_name: 'Lambda', config: { name: 'my_lambda', function: ['...', null, null], trainable: true } };
  file.delete_attribute('model_config');
  file.create_attribute('model_config', JSON.stringify(config));
  file.close();
  await expectInputError(convertKeras(path, out), /lambda\.h5: layer my_lambda is a Lambda, which TF.js does not support/);
  assert.equal(await readFile(join(out, 'model.json'), 'utf8'), before);
  assert.deepEqual((await readdir(dir)).sort(), ['lambda.h5', 'out']);
});

test('refuses to write into a non-empty folder that is not a previous model', { skip }, async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'notes.txt'), 'keep me');
  await expectInputError(convertKeras(join(H5, MODELS[0].file), dir), /folder is not empty and holds no model\.json/);
  assert.equal(SHARD_BYTES, 4_194_304);
});
