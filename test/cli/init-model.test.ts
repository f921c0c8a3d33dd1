/**
 * `init --model PATH [--labels FILE]`: the user's own TF.js folder, model.json, graph model or Keras file, copied into
 * models/<name>/ with its labels (or class-N with a warning) and its input size, and the project budgets. Bad
 * --model / --labels inputs are rows of test/cli/bad-inputs/init.json; the ones here check what a run wrote.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { loadConfig } from '../../src/config/load.js';
import { unpackNsfwjsModel } from '../../src/example/nsfwjs-model.js';
import { writeTinyModel } from '../helpers/bad-input-project.js';
import { runCli } from '../helpers/cli.js';
import { assertOneLineError, tempDir } from '../helpers/cli-procs.js';
import { writeKerasH5, writeKerasV3 } from '../helpers/keras-writer.js';

tf.env().set('PROD', true);
let fixtures = '';

/** A seeded Sequential model with a 96×128 RGB input and `units` classes. */
function smallModel(units: number): tf.Sequential {
  const seed = (n: number) => tf.initializers.glorotUniform({ seed: n });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [96, 128, 3],
        filters: 2,
        kernelSize: 3,
        strides: 4,
        activation: 'relu',
        kernelInitializer: seed(1),
      }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units, kernelInitializer: seed(2) }),
      tf.layers.activation({ activation: 'softmax' }),
    ],
  });
}

before(async () => {
  fixtures = await mkdtemp(join(tmpdir(), 'lambda-ml-init-model-fixtures-'));
  await writeTinyModel(join(fixtures, 'tiny')); // TF.js layers, 224×224, Dense(3)
  await unpackNsfwjsModel(join(fixtures, 'graph'), 'mobilenet_v2_mid'); // TF.js graph, 224×224, 5 outputs
  const model = smallModel(4);
  const config = model.toJSON(null, false) as unknown as Record<string, unknown>;
  await writeKerasH5(join(fixtures, 'My Classifier.h5'), model, config);
  await writeKerasV3(join(fixtures, 'birds.keras'), model, config);
  model.dispose();
  await writeFile(join(fixtures, 'three.json'), '["cat", "dog", "bird"]\n');
  await writeFile(join(fixtures, 'four.txt'), 'robin\r\nsparrow\n\n  blue tit  \nwren\n');
  await writeFile(join(fixtures, 'five.json'), JSON.stringify({ 0: 'a', 1: 'b', 2: 'c', 3: 'd', 4: 'e' }));
});

after(() => rm(fixtures, { recursive: true, force: true }));

/** What each --model input gives: the model's name, format, labels and input size, and any warning. */
const MODEL_CASES: readonly {
  id: string;
  model: string;
  labels?: string;
  want: {
    name: string;
    kind: string;
    entry: string;
    labels: readonly string[];
    width: number;
    height: number;
    warning?: RegExp;
  };
}[] = [
  {
    id: 'a TF.js layers folder with JSON labels',
    model: 'tiny',
    labels: 'three.json',
    want: { name: 'tiny', kind: 'tfjs-layers', entry: '', labels: ['cat', 'dog', 'bird'], width: 224, height: 224 },
  },
  {
    id: 'its model.json, no labels: class-N with a warning',
    model: 'tiny/model.json',
    want: {
      name: 'tiny',
      kind: 'tfjs-layers',
      entry: '',
      labels: ['class-0', 'class-1', 'class-2'],
      width: 224,
      height: 224,
      warning: /no --labels: wrote class-0\.\.class-2/,
    },
  },
  {
    id: 'a TF.js graph model (signature) with {"0": ...} labels',
    model: 'graph',
    labels: 'five.json',
    want: { name: 'graph', kind: 'tfjs-graph', entry: '', labels: ['a', 'b', 'c', 'd', 'e'], width: 224, height: 224 },
  },
  {
    id: 'a Keras 2 .h5 (Dense then softmax) with a text labels file',
    model: 'My Classifier.h5',
    labels: 'four.txt',
    want: {
      name: 'my-classifier',
      kind: 'keras-h5',
      entry: 'My Classifier.h5',
      labels: ['robin', 'sparrow', 'blue tit', 'wren'],
      width: 128,
      height: 96,
    },
  },
  {
    id: 'a Keras 3 .keras, no labels',
    model: 'birds.keras',
    want: {
      name: 'birds',
      kind: 'keras-v3',
      entry: 'birds.keras',
      labels: ['class-0', 'class-1', 'class-2', 'class-3'],
      width: 128,
      height: 96,
      warning: /class-0\.\.class-3/,
    },
  },
];

for (const row of MODEL_CASES) {
  test(`init --model: ${row.id}`, { timeout: 120_000 }, async (t) => {
    const cwd = await tempDir(t, 'lambda-ml-init-model-');
    const labels = row.labels ? ['--labels', join(fixtures, row.labels)] : [];
    const args = ['init', 'shop', '--model', join(fixtures, row.model), ...labels];
    const human = await runCli(args, { cwd });
    assert.equal(human.code, 0, human.stderr);
    const { want } = row;
    const about = `your ${want.kind} model, ${want.labels.length} classes, input ${want.width}×${want.height}`;
    assert.match(human.stdout, new RegExp(`^  model "${want.name}": ${about}, tag ml:${want.name}$`, 'm'));
    if (want.warning) assert.match(human.stderr, new RegExp(`^warning: .*${want.warning.source}`, 'm'));
    else assert.equal(human.stderr, '');

    const again = await runCli([...args, '--force', '--json'], { cwd });
    assert.equal(again.code, 0, again.stderr);
    const body = JSON.parse(again.stdout);
    const input = { width: want.width, height: want.height };
    assert.deepEqual(body.model, { name: want.name, kind: want.kind, about, labels: want.labels.length, input });
    assert.equal(body.warnings.length, want.warning ? 1 : 0);

    const dir = join(cwd, 'shop');
    const modelDir = join(dir, 'models', want.name);
    const config = await loadConfig(dir);
    const [model] = config.models;
    assert.equal(model.name, want.name);
    assert.equal(model.tag, want.name);
    assert.equal(model.topK, 1);
    assert.equal(model.path, want.entry ? join(modelDir, want.entry) : modelDir);
    assert.deepEqual(model.input, { width: want.width, height: want.height, range: [0, 1] });
    assert.equal(model.s3, `s3://shop-models/${want.name}/`);
    assert.deepEqual(JSON.parse(await readFile(join(modelDir, 'labels.json'), 'utf8')), want.labels);
    const source = want.entry ? [want.entry] : await readdir(join(fixtures, row.model.replace(/\/model\.json$/, '')));
    assert.deepEqual((await readdir(modelDir)).sort(), [...source, 'labels.json'].sort(), 'model files, labels.json');
    assert.deepEqual(await readdir(join(dir, 'models')), [want.name], 'no bundled model beside it');

    await mkdir(join(dir, 'node_modules', 'tiny-a'), { recursive: true }); // stands in for npm install
    await writeFile(join(dir, 'node_modules', 'tiny-a', 'package.json'), '{ "name": "tiny-a", "version": "1.0.0" }\n');
    const budget = await runCli(['budget', '--json'], { cwd: dir });
    assert.equal(budget.code, 0, budget.stderr + budget.stdout.slice(0, 2000));
    const report = JSON.parse(budget.stdout);
    assert.equal(report.fits, true);
  });
}

test('labels disagreeing with the output units: exit 2 naming both files and counts, nothing written', async (t) => {
  const cwd = await tempDir(t, 'lambda-ml-init-model-');
  const labels = join(fixtures, 'three.json');
  const model = join(fixtures, 'My Classifier.h5');
  const result = await runCli(['init', 'shop', '--model', model, '--labels', labels], { cwd });
  assert.equal(result.code, 2);
  const want = `^error: --labels ${labels}: 3 labels, but the model \\(--model ${model}\\) has 4 output units$`;
  assertOneLineError(result.stderr, new RegExp(want));
  assert.match(result.stderr, /^hint: give exactly 4 labels/m);
  assert.equal(existsSync(join(cwd, 'shop')), false, 'not even the folder');
});
