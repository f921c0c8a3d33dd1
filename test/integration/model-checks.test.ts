/**
 * Corrupt models caught by `budget` (and `package`, which runs the same scan): a weight shard whose size disagrees
 * with the weights manifest, labels whose count differs from the model's output units, a labels file that is not
 * there. Real model folders written by TF.js itself (model.save to an IOHandler) and real Keras files.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { readKerasInfo } from '../../src/convert/index.js';
import { LambdaMlError } from '../../src/lib/errors.js';
import { graphOutputUnits, layersOutputUnits } from '../../src/scan/model-topology.js';
import { scanModel } from '../../src/scan/models.js';
import type { ModelConfig } from '../../src/types.js';
import { writeTinyModel } from '../helpers/bad-input-project.js';
import { runCli } from '../helpers/cli.js';
import { writeKerasH5, writeKerasV3 } from '../helpers/keras-writer.js';

tf.env().set('PROD', true);
const root = await mkdtemp(join(tmpdir(), 'lambda-ml-model-checks-'));
const tiny = join(root, 'tiny');
await writeTinyModel(tiny); // Conv2D(4) -> GlobalAveragePooling2D -> Dense(3, softmax): one 508-byte shard
test.after(() => rm(root, { recursive: true, force: true }));

let count = 0;
/** A fresh project folder: the tiny model, its 3 labels and a config (edited by `edit`). */
async function project(edit: (config: Record<string, any>) => void = () => {}): Promise<string> {
  const dir = join(root, `p${count++}`);
  await cp(tiny, join(dir, 'models/m'), { recursive: true });
  await writeFile(join(dir, 'models/m/labels.json'), JSON.stringify(['a', 'b', 'c']));
  const config: Record<string, any> = {
    function: { name: 'fn', runtime: 'nodejs24.x' },
    models: [{ name: 'm', path: 'models/m', s3: 's3://my-models/m/', labels: 'models/m/labels.json' }],
  };
  edit(config);
  await writeFile(join(dir, 'lambda-ml.config.json'), JSON.stringify(config));
  return dir;
}

const modelConfig = (dir: string, over: Partial<ModelConfig> = {}): ModelConfig => ({
  name: 'm',
  path: join(dir, 'models/m'),
  s3: null,
  labels: join(dir, 'models/m/labels.json'),
  input: { width: 224, height: 224, range: [0, 1] },
  topK: 3,
  threshold: 0,
  tag: 'm',
  bundle: false,
  ...over,
});

/** `budget` and `package` both exit 2 with one error line matching `message`, and package writes nothing. */
async function bothRefuse(dir: string, message: RegExp): Promise<void> {
  for (const command of ['budget', 'package']) {
    const result = await runCli([command], { cwd: dir });
    assert.equal(result.code, 2, `${command}: ${result.stdout}${result.stderr}`);
    const lines = result.stderr.trimEnd().split('\n');
    assert.match(lines[0], message, command);
    assert.match(lines[1] ?? '', /^hint: /, command);
    assert.doesNotMatch(result.stderr, /^\s+at /m);
  }
  assert.equal(existsSync(join(dir, '.lambda-ml')), false, 'package wrote nothing');
}

test('the tiny model as written passes: shard sizes match the manifest, 3 labels for 3 output units', async () => {
  const dir = await project();
  const scan = await scanModel(modelConfig(dir));
  assert.equal(scan.bytes, (await readFile(join(dir, 'models/m/model.json'))).length + 508);
  const result = await runCli(['budget'], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
});

test('a weight shard cut short (or grown) is exit 2 naming the shard, the bytes needed and found', async () => {
  const cut = await project();
  await truncate(join(cut, 'models/m/group1-shard1of1.bin'), 100);
  await bothRefuse(
    cut,
    new RegExp(
      [
        String.raw`^error: model "m" \(.*model\.json\): weight shard group1-shard1of1\.bin `,
        String.raw`is 100 bytes, the weights manifest needs 508 bytes$`,
      ].join(''),
    ),
  );
  const grown = await project();
  await writeFile(join(grown, 'models/m/group1-shard1of1.bin'), Buffer.alloc(600));
  await bothRefuse(grown, /weight shard group1-shard1of1\.bin is 600 bytes, the weights manifest needs 508 bytes/);
});

test('a group split into shards: the shard that breaks the equal-shards layout is the one named', async () => {
  const dir = await project();
  const json = JSON.parse(await readFile(join(dir, 'models/m/model.json'), 'utf8'));
  const data = await readFile(join(dir, 'models/m/group1-shard1of1.bin'));
  // 508 bytes as 200 + 200 + 108, as the converter's fixed-size shards would be
  const paths = ['group1-shard1of3.bin', 'group1-shard2of3.bin', 'group1-shard3of3.bin'];
  json.weightsManifest[0].paths = paths;
  await writeFile(join(dir, 'models/m/model.json'), JSON.stringify(json));
  await writeFile(join(dir, 'models/m', paths[0]), data.subarray(0, 200));
  await writeFile(join(dir, 'models/m', paths[1]), data.subarray(200, 400));
  await writeFile(join(dir, 'models/m', paths[2]), data.subarray(400));
  assert.equal((await scanModel(modelConfig(dir))).files.length, 4, 'the split model is fine');
  await writeFile(join(dir, 'models/m', paths[1]), data.subarray(200, 300));
  await assert.rejects(
    scanModel(modelConfig(dir)),
    /weight shard group1-shard2of3\.bin is 100 bytes, the weights manifest needs 200 bytes/,
  );
  await writeFile(join(dir, 'models/m', paths[1]), data.subarray(200, 400));
  await writeFile(join(dir, 'models/m', paths[2]), data.subarray(400, 450));
  await assert.rejects(
    scanModel(modelConfig(dir)),
    /weight shard group1-shard3of3\.bin is 50 bytes, the weights manifest needs 108 bytes/,
  );
});

test('labels whose count differs from the output units: exit 2 naming the file, both counts, the layer', async () => {
  const fewer = await project();
  await writeFile(join(fewer, 'models/m/labels.json'), JSON.stringify(['a', 'b']));
  await bothRefuse(
    fewer,
    /^error: model "m": .*labels\.json has 2 labels, the model outputs 3 classes \(layer dense_Dense1\)$/,
  );
  const object = await project();
  await writeFile(join(object, 'models/m/labels.json'), JSON.stringify({ 0: 'a', 1: 'b', 2: 'c', 3: 'd' }));
  await assert.rejects(scanModel(modelConfig(object)), /has 4 labels, the model outputs 3 classes/);
  // no labels file configured: nothing to compare, it passes (the handler tags class indexes)
  const none = await project((c) => {
    delete c.models[0].labels;
  });
  assert.equal((await runCli(['budget'], { cwd: none })).code, 0);
});

test('a labels file that is not there, or not a JSON list: exit 2 naming the file', async () => {
  const missing = await project((c) => {
    c.models[0].labels = 'models/m/classes.json';
  });
  await bothRefuse(missing, /^error: model "m": labels file .*models\/m\/classes\.json not found$/);
  const broken = await project();
  await writeFile(join(broken, 'models/m/labels.json'), '["a", "b"');
  await bothRefuse(broken, /labels\.json: labels are not valid JSON/);
  // an S3-only model's labels are local too: checked before any AWS call
  const remote = await project((c) => {
    delete c.models[0].path;
    c.models[0].labels = 'nope.json';
  });
  const result = await runCli(['budget'], { cwd: remote, env: { NO_COLOR: '1', AWS_REGION: 'eu-west-1' } });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /^error: model "m": labels file .*nope\.json not found/);
});

test('output units from the topology: Sequential, functional, nested, pass-through layers, Keras files', async (t) => {
  const tfjsTopology = JSON.parse(await readFile(join(tiny, 'model.json'), 'utf8')).modelTopology;
  assert.deepEqual(layersOutputUnits(tfjsTopology), { layer: 'dense_Dense1', units: 3 });
  assert.deepEqual(
    layersOutputUnits({ model_config: tfjsTopology }),
    { layer: 'dense_Dense1', units: 3 },
    'converter layout',
  );
  const inner = () =>
    tf.sequential({ layers: [tf.layers.dense({ units: 6, inputShape: [4] }), tf.layers.batchNormalization()] });
  const nested = tf.sequential({
    layers: [
      inner(),
      tf.layers.dense({ units: 5, name: 'head' }),
      tf.layers.activation({ activation: 'softmax' }),
      tf.layers.dropout({ rate: 0.1 }),
    ],
  });
  const input = tf.input({ shape: [4] });
  const features = inner().apply(input) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: 2, name: 'out' })
    .apply(tf.layers.concatenate().apply([features, input]) as tf.SymbolicTensor) as tf.SymbolicTensor;
  const functional = tf.model({ inputs: input, outputs: tf.layers.softmax().apply(out) as tf.SymbolicTensor });
  const endsInInner = tf.sequential({ layers: [tf.layers.dense({ units: 8, inputShape: [4] }), inner()] });
  const conv = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3 })] });
  const cases: [string, tf.LayersModel, number | null, string | null][] = [
    ['Sequential ending Dense -> Activation -> Dropout', nested, 5, 'head'],
    ['functional ending Dense -> Softmax', functional, 2, 'out'],
    ['Sequential ending in a nested Sequential (Dense -> BatchNorm)', endsInInner, 6, null],
    ['ends in a Conv2D: unknown, so not checked', conv, null, null],
  ];
  const dir = await mkdtemp(join(root, 'keras-'));
  for (const [index, [name, model, units, layer]] of cases.entries()) {
    const config = model.toJSON(null, false) as unknown as Record<string, unknown>;
    const got = layersOutputUnits(config);
    assert.equal(got?.units ?? null, units, name);
    if (layer) assert.equal(got?.layer, layer, name);
    if (units === null) continue;
    // the same through real Keras files (Keras 2 .h5, Keras 3 .keras translated back by the reader)
    for (const ext of ['h5', 'keras'] as const) {
      const path = join(dir, `${index}.${ext}`);
      await (ext === 'h5' ? writeKerasH5(path, model, config) : writeKerasV3(path, model, config));
      assert.equal(layersOutputUnits((await readKerasInfo(path)).modelConfig)?.units, units, `${name} .${ext}`);
    }
  }
  t.diagnostic('Keras output units read through readKerasInfo for .h5 and .keras');
});

test('a Keras .h5 with the wrong number of labels: budget exit 2', async () => {
  const dir = await project();
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [3], name: 'classes' })] });
  await mkdir(join(dir, 'keras'), { recursive: true });
  await writeKerasH5(
    join(dir, 'keras/model.h5'),
    model,
    model.toJSON(null, false) as unknown as Record<string, unknown>,
  );
  const config = JSON.parse(await readFile(join(dir, 'lambda-ml.config.json'), 'utf8'));
  config.models = [{ name: 'k', path: 'keras/model.h5', s3: 's3://my-models/k/', labels: 'models/m/labels.json' }];
  await writeFile(join(dir, 'lambda-ml.config.json'), JSON.stringify(config));
  const result = await runCli(['budget'], { cwd: dir });
  assert.equal(result.code, 2, result.stdout + result.stderr);
  assert.match(
    result.stderr,
    /^error: model "k": .*labels\.json has 3 labels, the model outputs 4 classes \(layer classes\)/,
  );
});

test('a graph model: output units from its signature, when it has one output', async () => {
  const signature = {
    outputs: {
      'Identity:0': { name: 'Identity:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '-1' }, { size: '5' }] } },
    },
  };
  assert.deepEqual(graphOutputUnits({ signature }), { layer: 'Identity:0', units: 5 });
  assert.deepEqual(graphOutputUnits({ userDefinedMetadata: { signature } }), { layer: 'Identity:0', units: 5 });
  assert.equal(
    graphOutputUnits({ signature: { outputs: { ...signature.outputs, 'b:0': signature.outputs['Identity:0'] } } }),
    null,
    'two outputs',
  );
  assert.equal(graphOutputUnits({}), null, 'no signature: unknown, skipped');
  const dir = await project();
  const weights = [{ name: 'w', shape: [2, 5], dtype: 'float32' }];
  await writeFile(
    join(dir, 'models/m/model.json'),
    JSON.stringify({
      format: 'graph-model',
      modelTopology: { node: [] },
      userDefinedMetadata: { signature },
      weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights }],
    }),
  );
  await writeFile(join(dir, 'models/m/group1-shard1of1.bin'), Buffer.alloc(40));
  await assert.rejects(scanModel(modelConfig(dir)), (error: unknown) => {
    assert.ok(error instanceof LambdaMlError);
    assert.match(error.message, /has 3 labels, the model outputs 5 classes \(layer Identity:0\)/);
    return true;
  });
});
