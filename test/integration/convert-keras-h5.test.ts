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
import { loadModelFromDir } from '../../src/handler/models.js';
import { LambdaMlError, exitCodeFor } from '../../src/lib/errors.js';
import { nd, referenceForward } from '../helpers/keras-reference.js';
import { functional, sequential, SpecBuilder, type Built } from '../helpers/keras-specs.js';
import { writeKerasSpec, zip, type SpecFormat, type SpecWeight } from '../helpers/keras-writer.js';

// plain @tensorflow/tfjs on its cpu backend, whichever test runs first (or alone)
await tf.setBackend('cpu');

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

/**
 * An independent LeNet forward pass in plain JS, with weights read straight from the H5 by h5wasm (no converter, no
 * tfjs-layers).
 */
async function lenetForward(path: string, input: Float32Array): Promise<Float32Array> {
  await h5wasm.ready;
  const file = new h5wasm.File(path, 'r');
  try {
    const config = JSON.parse(file.attrs.model_config.value as string) as { config: Layer[] | { layers: Layer[] } };
    const layers = Array.isArray(config.config) ? config.config : config.config.layers;
    const weight = (layer: string, name: string) =>
      (file.get(`model_weights/${layer}/${layer}/${name}:0`) as InstanceType<typeof h5wasm.Dataset>)
        .value as Float32Array;
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
        for (let i = 0; i < oh; i++)
          for (let j = 0; j < ow; j++)
            for (let o = 0; o < cout; o++) {
              let sum = bias[o];
              for (let a = 0; a < kh; a++)
                for (let b = 0; b < kw; b++)
                  for (let k = 0; k < c; k++) {
                    sum += x[((i + a) * w + (j + b)) * c + k] * kernel[((a * kw + b) * c + k) * cout + o];
                  }
              out[(i * ow + j) * cout + o] = activate(sum, cfg.activation);
            }
        [x, h, w, c] = [out, oh, ow, cout];
      } else if (layer.class_name === 'MaxPooling2D') {
        const [oh, ow] = [Math.floor(h / 2), Math.floor(w / 2)];
        const out = new Float32Array(oh * ow * c).fill(-Infinity);
        for (let i = 0; i < oh * 2; i++)
          for (let j = 0; j < ow * 2; j++)
            for (let k = 0; k < c; k++) {
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
  return Float32Array.from({ length: 784 }, () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
}

/** A digit drawn with sharp: white text on black, 28x28, /255 (MNIST style). */
async function drawDigit(digit: string): Promise<Float32Array> {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><rect width="28" height="28" ` +
    `fill="black"/><text x="14" y="23" font-size="22" font-family="DejaVu Sans, sans-serif" ` +
    `font-weight="bold" fill="white" text-anchor="middle">${digit}</text></svg>`;
  const raw = await sharp(Buffer.from(svg)).greyscale().raw().toBuffer();
  return Float32Array.from(raw, (v) => v / 255);
}

for (const { file, version, layers } of MODELS) {
  test(
    `converts real Keras ${version} ${file}; TF.js output equals an independent forward pass`,
    { skip },
    async (t) => {
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
      assert.ok(
        names.every((name: string) => !name.endsWith(':0') && name.split('/').length === 2),
        names.join(),
      );
      assert.deepEqual((await readdir(join(dir, 'out'))).sort(), ['group1-shard1of1.bin', 'model.json']);

      const model = await tf.loadLayersModel(fileModelHandler(join(dir, 'out')));
      t.after(() => model.dispose());
      for (const input of [seededImage(7), await drawDigit('3')]) {
        const got = (model.predict(tf.tensor(input, [1, 28, 28])) as tf.Tensor).dataSync();
        const want = await lenetForward(path, input);
        const diff = Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i])));
        assert.ok(diff < 1e-4, `max diff ${diff}`);
      }

      const { modelConfig, ...info } = await readKerasInfo(path);
      assert.deepEqual(info, {
        format: 'keras-h5',
        kerasVersion: version,
        weightBytes: 177_704,
        memoryBytes: 177_704,
        layers,
        params: 44_426,
      });
      assert.ok(['Sequential', 'Model'].includes(String(modelConfig.class_name)));
      assert.deepEqual(report.notes, []);
    },
  );
}

test(
  'quantised LeNet: uint8 is 1/4 and float16 1/2 of the bytes, same argmax, small reported drift',
  { skip },
  async (t) => {
    const dir = await tempDir(t);
    const path = join(H5, MODELS[0].file);
    const float = await tf.loadLayersModel(fileModelHandler((await convertKeras(path, join(dir, 'f32'))).outDir));
    const input = tf.tensor(await drawDigit('7'), [1, 28, 28]);
    const want = (float.predict(input) as tf.Tensor).argMax(1).dataSync()[0];
    for (const mode of ['uint8', 'float16'] as const) {
      const report = await convertKeras(path, join(dir, mode), { quantize: mode });
      assert.equal(report.bytesAfter, report.bytesBefore / (mode === 'uint8' ? 4 : 2));
      assert.ok(
        report.maxAbsDiff > 0 && report.maxAbsDiff < (mode === 'uint8' ? 0.05 : 0.005),
        `${mode} drift ${report.maxAbsDiff}`,
      );
      const json = JSON.parse(await readFile(join(dir, mode, 'model.json'), 'utf8'));
      const quantization = json.weightsManifest[0].weights[0].quantization;
      assert.equal(quantization.dtype, mode);
      if (mode === 'uint8') assert.ok(typeof quantization.scale === 'number' && typeof quantization.min === 'number');
      const model = await tf.loadLayersModel(fileModelHandler(join(dir, mode)));
      assert.equal((model.predict(input) as tf.Tensor).argMax(1).dataSync()[0], want);
      model.dispose();
    }
    float.dispose();
  },
);

async function expectInputError(promise: Promise<unknown>, pattern: RegExp): Promise<LambdaMlError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof LambdaMlError, `expected a LambdaMlError, got ${String(error)}`);
  assert.equal(exitCodeFor(error), 2);
  assert.match(error.message, pattern);
  assert.ok(!error.message.includes('\n'), 'one line (the list is in details)');
  assert.ok(error.hint, 'has a hint');
  return error;
}

test('a weights-only H5 fails with exit 2, naming the file and the fix', { skip }, async (t) => {
  const dir = await tempDir(t);
  const path = join(H5, 'tensorspace_separated_weights.h5');
  const error = await expectInputError(
    convertKeras(path, join(dir, 'out')),
    /tensorspace_separated_weights\.h5: weights only \(no model_config\)/,
  );
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
  assert.deepEqual(
    (await readdir(dir)).filter((name) => name.includes('out')),
    [],
  );
});

test(
  'a custom class and Lambda layers are reported together, as docs/convert.md shows; the previous output stays intact',
  { skip },
  async (t) => {
    const dir = await tempDir(t);
    const out = join(dir, 'out');
    const path = join(dir, 'model.h5');
    await copyFile(join(H5, MODELS[1].file), path);
    await convertKeras(path, out);
    const before = await readFile(join(out, 'model.json'), 'utf8');
    await h5wasm.ready;
    const file = new h5wasm.File(path, 'a');
    const config = JSON.parse(file.attrs.model_config.value as string);
    const lambda = (name: string) => ({
      class_name: 'Lambda',
      config: { name, function: ['4wEAAAA=', null, null], function_type: 'lambda', trainable: true },
    });
    config.config.splice(
      6,
      0,
      lambda('lambda'),
      { class_name: 'MyBlock', config: { name: 'my_block' } },
      lambda('lambda_1'),
    );
    file.delete_attribute('model_config');
    file.create_attribute('model_config', JSON.stringify(config));
    file.close();
    const error = await expectInputError(
      convertKeras(path, out),
      /model\.h5: 3 layers cannot be converted: 2 Lambda, 1 MyBlock$/,
    );
    const doc = await readFile(join(dirname(fileURLToPath(import.meta.url)), '../../docs/convert.md'), 'utf8');
    const example = /```\n(error: model\.h5: 3 layers[\s\S]*?)\n```/.exec(doc)?.[1];
    const shown = [`error: ${error.message}`, ...error.details.map((line) => `  ${line}`), `hint: ${error.hint}`]
      .join('\n')
      .replaceAll(`${dir}/`, '');
    assert.equal(shown, example, 'the example in docs/convert.md is what convert prints');
    assert.equal(await readFile(join(out, 'model.json'), 'utf8'), before);
    assert.deepEqual((await readdir(dir)).sort(), ['model.h5', 'out']);
  },
);

test('refuses to write into a non-empty folder that is not a previous model', { skip }, async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'notes.txt'), 'keep me');
  await expectInputError(convertKeras(join(H5, MODELS[0].file), dir), /folder is not empty and holds no model\.json/);
  assert.equal(SHARD_BYTES, 4_194_304);
});

// ---- Keras 3 files saved as .h5, the TF tutorial's augmentation model, subclassed models (no fixtures needed)

const registerCustom = async () => (await import('../../src/handler/custom-layers.js')).registerCustomLayers(tf);

/**
 * Converts a spec and returns the converted model's outputs (loaded through the handler's loader) and the reference's.
 */
async function convertSpec(
  t: { after: (fn: () => Promise<void>) => void },
  built: Built,
  format: SpecFormat,
  name = 'model',
) {
  const dir = await tempDir(t);
  const path = join(dir, `${name}.${format === 'keras3-keras' ? 'keras' : 'h5'}`);
  await writeKerasSpec(path, format, built.spec);
  const report = await convertKeras(path, join(dir, 'out'));
  await tf.setBackend('cpu');
  await registerCustom();
  const loaded = await loadModelFromDir(
    tf,
    { name, format: 'tfjs-layers' } as unknown as Parameters<typeof loadModelFromDir>[1],
    join(dir, 'out'),
  );
  const random = new SpecBuilder(9);
  const values = built.inputs.map((input) => random.values(input));
  const got = loaded.predict(tf.tensor(values[0], [2, ...built.inputs[0].shape])).dataSync();
  const want = referenceForward(
    built.spec,
    values.map((v, i) => nd([2, ...built.inputs[i].shape], v)),
    format === 'keras2-h5' ? 2 : 3,
  )[0];
  loaded.dispose();
  const diff = Math.max(...Array.from(got, (v, i) => Math.abs(v - want.data[i])));
  return { report, path, dir, diff };
}

const conv = (b: SpecBuilder) => ({
  cls: 'Conv2D',
  name: 'conv2d',
  config: {
    filters: 4,
    kernel_size: [3, 3],
    strides: [1, 1],
    padding: 'valid',
    dilation_rate: [1, 1],
    activation: 'relu',
    use_bias: true,
  },
  weights: [b.w('kernel', [3, 3, 3, 4]), b.w('bias', [4])],
});

test('a Keras 3.8 .h5 (InputLayer + Conv2D): the layout Keras 3 writes, read and converted', async (t) => {
  const b = new SpecBuilder(3);
  const built = functional(
    [{ name: 'input_layer', shape: [6, 6, 3] }],
    [conv(b), { cls: 'GlobalAveragePooling2D', name: 'gap', config: { data_format: 'channels_last' } }],
  );
  const { report, path, diff } = await convertSpec(t, built, 'keras3-h5');
  assert.equal(report.format, 'keras-h5');
  assert.equal(report.kerasVersion, '3.8.0');
  assert.ok(diff < 1e-4, `max diff ${diff}`);
  // what Keras 3's legacy_h5_format writes: keras_version 3.x, batch_shape, DTypePolicy objects, variable paths without
  // :0
  await h5wasm.ready;
  const file = new h5wasm.File(path, 'r');
  try {
    assert.equal(file.attrs.keras_version.value, '3.8.0');
    const config = JSON.parse(file.attrs.model_config.value as string);
    assert.equal(config.class_name, 'Functional');
    assert.deepEqual(config.config.layers[0].config.batch_shape, [null, 6, 6, 3]);
    assert.equal(config.config.layers[1].config.dtype.class_name, 'DTypePolicy');
    assert.equal(config.config.layers[1].inbound_nodes[0].args[0].class_name, '__keras_tensor__');
    const group = file.get('model_weights/conv2d') as InstanceType<typeof h5wasm.Group>;
    assert.deepEqual(group.attrs.weight_names.value, ['conv2d/kernel', 'conv2d/bias']);
    assert.ok(file.get('model_weights/top_level_model_weights'));
  } finally {
    file.close();
  }
});

test('a Keras 3 .h5 without keras_version is told by its config; Sequential and nested models too', async (t) => {
  const b = new SpecBuilder(4);
  const built = sequential({ name: 'x', shape: [5, 5, 3] }, [
    conv(b),
    {
      cls: 'Sequential',
      name: 'head',
      inputShape: [3, 3, 4],
      layers: [
        { cls: 'Flatten', name: 'flatten' },
        { cls: 'Dense', name: 'dense', config: { units: 2, activation: 'softmax' }, weights: b.dense(36, 2) },
      ],
    },
  ]);
  const { path, dir } = await convertSpec(t, built, 'keras3-h5');
  await h5wasm.ready;
  const file = new h5wasm.File(path, 'a');
  file.delete_attribute('keras_version');
  (file.get('model_weights') as InstanceType<typeof h5wasm.Group>).delete_attribute('keras_version');
  file.close();
  const report = await convertKeras(path, join(dir, 'again'));
  assert.equal(report.kerasVersion, 'unknown');
  const model = await tf.loadLayersModel(fileModelHandler(join(dir, 'again')));
  assert.deepEqual(model.outputs[0].shape, [null, 2]);
  model.dispose();
});

test('TF tutorial model (augmentation, Rescaling, Dropout): converts in every format, a note per drop', async (t) => {
  const b = new SpecBuilder(5);
  const built = sequential({ name: 'x', shape: [6, 6, 3], range: [0, 255] }, [
    { cls: 'RandomFlip', name: 'random_flip', config: { mode: 'horizontal', seed: null } },
    { cls: 'RandomRotation', name: 'random_rotation', config: { factor: 0.1, fill_mode: 'reflect' } },
    { cls: 'RandomZoom', name: 'random_zoom', config: { height_factor: 0.1 } },
    { cls: 'Rescaling', name: 'rescaling', config: { scale: 1 / 255, offset: 0 } },
    conv(b),
    { cls: 'MaxPooling2D', name: 'max_pooling2d', config: { pool_size: [2, 2], strides: [2, 2], padding: 'valid' } },
    { cls: 'Dropout', name: 'dropout', config: { rate: 0.2 } },
    { cls: 'Flatten', name: 'flatten' },
    { cls: 'Dense', name: 'outputs', config: { units: 5, activation: 'linear' }, weights: b.dense(16, 5) },
  ]);
  for (const format of ['keras2-h5', 'keras3-keras', 'keras3-h5'] as const) {
    const { report, diff } = await convertSpec(t, built, format);
    assert.ok(diff < 1e-4, `${format}: max diff ${diff}`);
    assert.deepEqual(
      report.notes.map((note) => note.split(':')[0]),
      ['random_flip', 'random_rotation', 'random_zoom', 'dropout'],
      format,
    );
    assert.equal(report.layers, format === 'keras2-h5' ? 5 : 6, format); // Keras 3 lists a Sequential's InputLayer
  }
});

test('a Resizing model loads through the handler once the custom layers are registered', async (t) => {
  const b = new SpecBuilder(6);
  const built = functional(
    [{ name: 'x', shape: [9, 7, 3] }],
    [
      {
        cls: 'Resizing',
        name: 'resizing',
        config: { height: 5, width: 5, interpolation: 'bilinear', crop_to_aspect_ratio: true },
      },
      conv(b),
    ],
  );
  const { report, diff } = await convertSpec(t, built, 'keras3-keras');
  assert.ok(diff < 1e-4, `max diff ${diff}`);
  assert.match(report.notes[0], /^resizing: Resizing as the custom layer LambdaMlResizing/);
});

test('subclassed models are named as such, in .keras and .h5 files', async (t) => {
  const dir = await tempDir(t);
  const keras = join(dir, 'cifar.keras');
  const config = {
    module: 'models',
    class_name: 'CIFAR10Model',
    config: { trainable: true, dtype: 'float32' },
    registered_name: 'CIFAR10Model',
    name: 'cifar10_model',
    build_config: { input_shape: [null, 32, 32, 3] },
  };
  await h5wasm.ready;
  const weights = join(dir, 'w.h5');
  new h5wasm.File(weights, 'w').close();
  await writeFile(
    keras,
    zip([
      ['metadata.json', Buffer.from('{"keras_version":"3.8.0"}')],
      ['config.json', Buffer.from(JSON.stringify(config))],
      ['model.weights.h5', await readFile(weights)],
    ]),
  );
  const error = await expectInputError(
    convertKeras(keras, join(dir, 'out')),
    new RegExp(
      [
        String.raw`cifar\.keras: the model is a subclassed CIFAR10Model \(cifar10_model\): its `,
        String.raw`architecture is Python code and is not in the file$`,
      ].join(''),
    ),
  );
  assert.match(error.hint!, /Functional API .* keras\.Sequential/);
  const h5 = join(dir, 'cifar.h5');
  const file = new h5wasm.File(h5, 'w');
  file.create_attribute(
    'model_config',
    JSON.stringify({ class_name: 'CIFAR10Model', config: { name: 'cifar10_model', trainable: true } }),
  );
  file.create_attribute('keras_version', '2.15.0');
  file.create_group('model_weights').create_attribute('layer_names', ['conv2d']);
  file.close();
  await expectInputError(
    convertKeras(h5, join(dir, 'out')),
    /cifar\.h5: the model is a subclassed CIFAR10Model \(cifar10_model\)/,
  );
});

test('a nested model whose variables tf.keras renamed (conv_1 for conv) is bound whole, by position', async (t) => {
  const b = new SpecBuilder(7);
  const scoped = (weights: SpecWeight[], scope: string) => weights.map((weight) => ({ ...weight, keras2Scope: scope }));
  const built = sequential({ name: 'x', shape: [5, 5, 3] }, [
    {
      cls: 'Sequential',
      name: 'base',
      inputShape: [5, 5, 3],
      layers: [
        { ...conv(b), weights: scoped(conv(b).weights, 'conv2d_1') },
        {
          cls: 'BatchNormalization',
          name: 'bn',
          config: { axis: -1, epsilon: 0.001 },
          weights: scoped(b.bn(4), 'bn_1'),
        },
        {
          cls: 'BatchNormalization',
          name: 'bn2',
          config: { axis: -1, epsilon: 0.001 },
          weights: scoped(b.bn(4), 'bn2_1'),
        },
      ],
    },
    { cls: 'Flatten', name: 'flatten' },
    { cls: 'Dense', name: 'dense', config: { units: 2 }, weights: b.dense(36, 2) },
  ]);
  const { diff } = await convertSpec(t, built, 'keras2-h5');
  assert.ok(diff < 1e-4, `max diff ${diff}`);
});
