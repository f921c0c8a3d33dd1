import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { decodeImage, toModelInput } from '../../src/handler/image.js';
import { greyOf, preprocessKey, type PreprocessSpec } from '../../src/handler/preprocess.js';
import { validateConfig } from '../../src/config/validate.js';

// a 2x2 PNG: the pixels each mode is checked against, by hand
const PIXELS = [
  [10, 20, 30],
  [200, 100, 50],
  [0, 0, 0],
  [255, 255, 255],
];
const png = () =>
  sharp(Buffer.from(PIXELS.flat()), { raw: { width: 2, height: 2, channels: 3 } })
    .png()
    .toBuffer();

const CAFFE = [103.939, 116.779, 123.68];
const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

const cases: { name: string; spec: Omit<PreprocessSpec, 'width' | 'height'>; expected: number[] }[] = [
  { name: 'rgb, range [0, 1]', spec: { range: [0, 1] }, expected: PIXELS.flatMap((p) => p.map((v) => v / 255)) },
  {
    name: 'rgb, range [-1, 1]',
    spec: { range: [-1, 1], channels: 'rgb' },
    expected: PIXELS.flatMap((p) => p.map((v) => -1 + (v * 2) / 255)),
  },
  {
    name: 'bgr caffe mode (mean subtracted, std 1, range [0, 255])',
    spec: { range: [0, 255], channels: 'bgr', mean: CAFFE, std: [1, 1, 1] },
    expected: PIXELS.flatMap(([r, g, b]) => [b - CAFFE[0], g - CAFFE[1], r - CAFFE[2]]),
  },
  {
    name: 'grey (one channel, PIL luma)',
    spec: { range: [0, 1], channels: 'grey' },
    expected: [(10 * 299 + 20 * 587 + 30 * 114) / 1000, (200 * 299 + 100 * 587 + 50 * 114) / 1000, 0, 255].map(
      (v) => Math.round(v) / 255,
    ),
  },
  {
    name: 'mean/std normalisation (torchvision ImageNet)',
    spec: { range: [0, 1], channels: 'rgb', mean: IMAGENET_MEAN, std: IMAGENET_STD },
    expected: PIXELS.flatMap((p) => p.map((v, c) => (v / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c])),
  },
  {
    name: 'grey with mean/std',
    spec: { range: [0, 1], channels: 'grey', mean: [0.5], std: [0.25] },
    expected: [18, 124, 0, 255].map((v) => (v / 255 - 0.5) / 0.25),
  },
];

for (const row of cases) {
  test(`preprocess: ${row.name}`, async () => {
    const image = await decodeImage(sharp, await png());
    const out = await toModelInput(image, { width: 2, height: 2, ...row.spec });
    assert.equal(out.length, row.expected.length);
    out.forEach((value, index) =>
      assert.ok(Math.abs(value - row.expected[index]) < 1e-5, `${index}: ${value} vs ${row.expected[index]}`),
    );
  });
}

test('preprocess: grey is PIL luma with integer rounding', () => {
  assert.deepEqual(
    [greyOf(10, 20, 30), greyOf(200, 100, 50), greyOf(255, 255, 255), greyOf(0, 0, 0)],
    [18, 124, 255, 0],
  );
});

test('preprocess: models with different channel modes never share an input', () => {
  const base = { width: 2, height: 2, range: [0, 1] as const };
  assert.notEqual(preprocessKey(base), preprocessKey({ ...base, channels: 'bgr' }));
  assert.equal(preprocessKey(base), preprocessKey({ ...base }));
});

const configWith = (input: unknown) => ({
  function: { name: 'f', runtime: 'nodejs24.x' },
  models: [{ name: 'm', path: 'models/m', input }],
});
const badInputs: { input: unknown; error: RegExp }[] = [
  { input: { channels: 'rgba' }, error: /input\.channels must be one of "rgb", "bgr", "grey"/ },
  { input: { mean: [1, 2] }, error: /input\.mean must be 3 numbers/ },
  { input: { channels: 'grey', std: [1, 1, 1] }, error: /input\.std must be 1 numbers > 0/ },
  { input: { std: [1, 0, 1] }, error: /input\.std must be 3 numbers > 0/ },
  { input: { std: -1 }, error: /input\.std must be 3 numbers > 0/ },
  { input: { mean: 'x' }, error: /input\.mean must be 3 numbers/ },
];
for (const row of badInputs) {
  test(`config: model input ${JSON.stringify(row.input)} is refused`, () => {
    assert.throws(() => validateConfig(configWith(row.input), '/p'), row.error);
  });
}

test('config: channels/mean/std absent by default, and a single number for every channel', () => {
  const plain = validateConfig(configWith(undefined), '/p').models[0].input;
  assert.deepEqual([plain.channels, plain.mean, plain.std], [undefined, undefined, undefined]); // defaults: rgb, 0, 1
  const caffe = validateConfig(configWith({ channels: 'bgr', range: [0, 255], mean: CAFFE, std: 1 }), '/p').models[0]
    .input;
  assert.deepEqual([caffe.channels, caffe.mean, caffe.std], ['bgr', CAFFE, [1, 1, 1]]);
  assert.deepEqual(validateConfig(configWith({ channels: 'grey', mean: 0.1307 }), '/p').models[0].input.mean, [0.1307]);
});
