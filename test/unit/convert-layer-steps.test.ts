// The quantisation passes run a model as a flat list of layer calls (src/convert/layer-steps.ts) and start at the
// first changed layer (src/convert/evaluator.ts): both must give what predict gives. Checked on cpu and, when it
// loads, on wasm (where Dense runs unpacked and weights go straight into the heap).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '../../src/convert/compare.js';
import { denseUnpacked, Evaluator, renewWeights } from '../../src/convert/evaluator.js';
import { liveBefore, planSteps, runSteps, type StepValue } from '../../src/convert/layer-steps.js';
import { decodedAs, type SearchTensor } from '../../src/convert/quantize-auto.js';
import { selectBackend } from '../../src/handler/backend.js';
import type { RequireFrom } from '../../src/handler/require-from.js';

const req = Object.assign(createRequire(import.meta.url), { roots: [] }) as unknown as RequireFrom;

/** Seeded weights, so outputs are not trivially equal. */
function seedWeights(model: tf.LayersModel, seed: number): void {
  const random = seededRandom(seed);
  for (const weight of model.weights) {
    const count = weight.shape.reduce<number>((product, size) => product * (size ?? 1), 1);
    const isVariance = weight.originalName.endsWith('moving_variance');
    const values = Float32Array.from({ length: count }, () => (isVariance ? 0.5 + random() : random() - 0.5));
    weight.write(tf.tensor(values, weight.shape as number[]));
  }
}

const input = (shape: number[], seed: number) => {
  const random = seededRandom(seed);
  return tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random() * 2 - 1),
    shape,
  );
};

/** Models whose graphs exercise the step plan: branches, shared tensors, nesting, several inputs and outputs. */
const MODELS: { name: string; build: () => tf.LayersModel; inputs: number[][] }[] = [
  {
    name: 'residual Functional with two outputs and a linear Activation (returns its input object)',
    build: () => {
      const x = tf.input({ shape: [12] });
      const a = tf.layers.dense({ units: 10, activation: 'relu', name: 'a' }).apply(x) as tf.SymbolicTensor;
      const b = tf.layers.dense({ units: 10, name: 'b' }).apply(a) as tf.SymbolicTensor;
      const sum = tf.layers.add().apply([a, b]) as tf.SymbolicTensor;
      const same = tf.layers.activation({ activation: 'linear' }).apply(sum) as tf.SymbolicTensor;
      const head = tf.layers.dense({ units: 4, activation: 'softmax', name: 'head' }).apply(same);
      const side = tf.layers.dense({ units: 3, name: 'side' }).apply(a);
      return tf.model({ inputs: x, outputs: [head as tf.SymbolicTensor, side as tf.SymbolicTensor] });
    },
    inputs: [[5, 12]],
  },
  {
    name: 'nested Sequential inside a Functional inside a Sequential',
    build: () => {
      const inner = tf.sequential({ name: 'inner' });
      inner.add(tf.layers.dense({ inputShape: [6], units: 8, activation: 'tanh', name: 'in1' }));
      inner.add(tf.layers.dense({ units: 8, name: 'in2' }));
      const x = tf.input({ shape: [6] });
      const y = tf.layers.dense({ units: 5, activation: 'softmax', name: 'out' }).apply(inner.apply(x));
      const middle = tf.model({ inputs: x, outputs: y as tf.SymbolicTensor, name: 'middle' });
      const outer = tf.sequential({ name: 'outer' });
      outer.add(tf.layers.dense({ inputShape: [6], units: 6, name: 'pre' }));
      outer.add(middle);
      return outer;
    },
    inputs: [[4, 6]],
  },
  {
    name: 'two inputs concatenated',
    build: () => {
      const a = tf.input({ shape: [3] });
      const b = tf.input({ shape: [5] });
      const joined = tf.layers.concatenate().apply([a, b]) as tf.SymbolicTensor;
      const h = tf.layers.dense({ units: 7, activation: 'relu', name: 'h' }).apply(joined);
      const out = tf.layers.dense({ units: 2, activation: 'softmax', name: 'o' }).apply(h);
      return tf.model({ inputs: [a, b], outputs: out as tf.SymbolicTensor });
    },
    inputs: [
      [3, 3],
      [3, 5],
    ],
  },
  {
    name: 'masks: Embedding(maskZero) into an LSTM',
    build: () => {
      const model = tf.sequential();
      model.add(tf.layers.embedding({ inputDim: 10, outputDim: 4, inputLength: 6, maskZero: true, name: 'emb' }));
      model.add(tf.layers.lstm({ units: 5, name: 'lstm' }));
      model.add(tf.layers.dense({ units: 3, activation: 'softmax', name: 'cls' }));
      return model;
    },
    inputs: [[4, 6]],
  },
  {
    name: 'conv net: Conv2D, BatchNormalization, DepthwiseConv2D, pooling, Dense',
    build: () => {
      const model = tf.sequential();
      model.add(tf.layers.conv2d({ inputShape: [10, 10, 3], filters: 6, kernelSize: 3, name: 'conv' }));
      model.add(tf.layers.batchNormalization({ name: 'bn' }));
      model.add(tf.layers.depthwiseConv2d({ kernelSize: 3, name: 'dw' }));
      model.add(tf.layers.reLU({ maxValue: 6 }));
      model.add(tf.layers.globalAveragePooling2d({}));
      model.add(tf.layers.dense({ units: 4, activation: 'softmax', name: 'fc' }));
      return model;
    },
    inputs: [[3, 10, 10, 3]],
  },
];

const maxDiff = (a: tf.Tensor[], b: tf.Tensor[]) =>
  Math.max(
    ...a.map((tensor, index) => {
      const x = tensor.dataSync() as Float32Array;
      const y = b[index].dataSync() as Float32Array;
      return x.reduce((max, value, i) => Math.max(max, Math.abs(value - y[i])), 0);
    }),
  );

const predict = (model: tf.LayersModel, inputs: tf.Tensor[]) => [model.predict(inputs)].flat() as tf.Tensor[];

for (const backend of ['cpu', 'wasm'] as const) {
  for (const [index, row] of MODELS.entries()) {
    test(`${backend}: ${row.name}: every tail of the step plan gives predict's outputs (<= 1e-5)`, async (t) => {
      if ((await selectBackend(tf, req, backend)).active !== backend) return t.skip(`${backend} did not load`);
      const model = row.build();
      seedWeights(model, 10 + index);
      const inputs = row.inputs.map((shape, i) =>
        // token ids with zeros (masked steps) for an Embedding, else floats in [-1, 1)
        model.inputs[i].dtype === 'int32'
          ? tf.tensor(
              Int32Array.from({ length: shape[0] * shape[1] }, (_, k) => (k * 7) % 10 && k % 3),
              shape,
              'int32',
            )
          : input(shape, 100 + i),
      );
      const expected = predict(model, inputs);
      const plan = planSteps(model);
      const start = new Map(plan.inputs.map((key, i) => [key, { tensor: inputs[i], mask: null }]));
      // cache before every step, then start from each cache in turn
      const snapshots = new Map(plan.steps.map((_, step) => [step, liveBefore(plan, step)] as const));
      const kept = new Map<number, Map<string, StepValue>>();
      const before = tf.memory().numTensors;
      // on wasm as the evaluator runs them: Dense through the unpacked product, XNNPACK state freed after each layer
      const how = backend === 'wasm' ? { compute: denseUnpacked, after: renewWeights } : {};
      const full = runSteps(plan, { from: 0, start, snapshots, kept, ...how });
      const toTensors = (outs: typeof full) => outs.map((out) => tf.tensor(out.values, [...out.shape]));
      assert.ok(maxDiff(toTensors(full), expected) <= 1e-5);
      for (const [step, cache] of kept) {
        const tail = runSteps(plan, { from: step, start: cache, ...how });
        assert.ok(maxDiff(toTensors(tail), expected) <= 1e-5, `from step ${step} (${plan.steps[step].layer.name})`);
      }
      // nothing leaks but the caches (and the tensors made here to compare)
      const values = [...kept.values()].flatMap((cache) => [...cache.values()]);
      const cached = new Set(values.flatMap((value) => (value.mask ? [value.tensor, value.mask] : [value.tensor])));
      const made = (1 + kept.size) * expected.length;
      assert.equal(tf.memory().numTensors - before, [...cached].filter((x) => !inputs.includes(x)).length + made);
      model.dispose();
    });
  }

  test(`${backend}: Evaluator: a pass changing only the last layers starts there, agrees with predict`, async (t) => {
    if ((await selectBackend(tf, req, backend)).active !== backend) return t.skip(`${backend} did not load`);
    const model = MODELS[0].build();
    seedWeights(model, 7);
    const originals = new Map(model.weights.map((w) => [w.originalName, w.read().dataSync().slice() as Float32Array]));
    const tensors: SearchTensor[] = model.weights.map((weight) => ({
      name: weight.originalName,
      count: originals.get(weight.originalName)!.length,
      read: () => originals.get(weight.originalName)!,
    }));
    // a skeleton of zeros: the evaluator writes the weights itself
    for (const weight of model.weights) weight.write(tf.zerosLike(weight.read()));
    const inputs = [input([6, 12], 3)];
    const before = tf.memory().numTensors;
    const evaluator = new Evaluator(model, inputs, tensors);
    evaluator.start();
    const reference = predict(model, inputs);
    const late = new Map([
      ['head/kernel', 'uint8'],
      ['head/bias', 'float16'],
    ] as const);
    const verdict = evaluator.verdict(late);
    const lastSteps = planSteps(model).steps;
    assert.equal(lastSteps[evaluator.lastBegin].layer.name, 'head', 'the pass started at the head');
    const changed = predict(model, inputs);
    assert.ok(Math.abs(verdict.maxDiff - maxDiff(changed, reference)) <= 1e-5, JSON.stringify(verdict));
    // the model holds exactly the decoded values
    const kernel = model.weights
      .find((w) => w.originalName === 'head/kernel')!
      .read()
      .dataSync() as Float32Array;
    assert.deepEqual(kernel, decodedAs(originals.get('head/kernel')!, 'uint8'));
    // back to float32 everywhere: the reference itself
    assert.deepEqual(evaluator.verdict(new Map()), { maxDiff: 0, flips: 0, inputs: 6 });
    evaluator.dispose();
    tf.dispose([...reference, ...changed]);
    assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
    model.dispose();
  });
}
