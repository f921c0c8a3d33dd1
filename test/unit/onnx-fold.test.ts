// The ONNX exporter's pure parts: TensorFlow's 'same' pads, kernel layouts, and the graph rewrites of fold.ts, each
// checked by running the graph before and after in ONNX Runtime (the rewrite must not change the result), plus the
// docs section listing every class of the table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { convKernel, depthwiseKernel, samePads } from '../../src/onnx/emit-conv.js';
import { foldGraph } from '../../src/onnx/fold.js';
import { float, Graph, ints, str, type Value } from '../../src/onnx/graph.js';
import { encodeModel, loadOrt } from '../../src/onnx/index.js';
import { toModelMessage } from '../../src/onnx/model-message.js';
import { ONNX_TABLE_BEGIN, ONNX_TABLE_END, onnxTableMarkdown } from '../../src/onnx/onnx-doc.js';
import { seeded } from '../helpers/keras-specs.js';

const ort = loadOrt();

// [size, kernel, stride, dilation] -> [before, after]: the odd pixel goes at the end, as TensorFlow pads
const SAME_PADS: [number[], [number, number]][] = [
  [
    [7, 3, 2, 1],
    [1, 1],
  ],
  [
    [7, 4, 2, 1],
    [1, 2],
  ],
  [
    [8, 3, 2, 1],
    [0, 1],
  ],
  [
    [5, 3, 1, 2],
    [2, 2],
  ],
  [
    [4, 1, 1, 1],
    [0, 0],
  ],
  [
    [224, 3, 2, 1],
    [0, 1],
  ],
  [
    [2, 5, 1, 1],
    [2, 2],
  ],
];

for (const [[size, kernel, stride, dilation], want] of SAME_PADS) {
  test(`same pads of ${size} with kernel ${kernel}, stride ${stride}, dilation ${dilation}: ${want}`, () => {
    assert.deepEqual(samePads(size, kernel, stride, dilation), want);
  });
}

test('kernels: Keras [kh, kw, cin, cout] to ONNX [cout, cin, kh, kw]; depthwise channel c * m + j', () => {
  // 1x1 kernel, cin 2, cout 2: Keras rows are inputs, ONNX rows outputs
  assert.deepEqual([...convKernel(Float32Array.of(1, 2, 3, 4), [1, 1, 2, 2])], [1, 3, 2, 4]);
  // 1x2 depthwise kernel, 2 channels, multiplier 1: [x0c0, x0c1, x1c0, x1c1] -> [c0x0, c0x1, c1x0, c1x1]
  assert.deepEqual([...depthwiseKernel(Float32Array.of(1, 2, 3, 4), [1, 2, 2, 1])], [1, 3, 2, 4]);
  // multiplier 2 on one channel keeps j order
  assert.deepEqual([...depthwiseKernel(Float32Array.of(5, 6), [1, 1, 1, 2])], [5, 6]);
});

// reset before each build, so the graph before and after folding holds the same weights
let random = seeded(3);
const values = (n: number, lo = -1, hi = 1) => Float32Array.from({ length: n }, () => lo + (hi - lo) * random());

/** Builds a graph on an NCHW input [1, 2, 5, 5] and returns it with its output. */
type Build = (g: Graph, x: Value) => string;

async function run(build: Build, fold: boolean, input: Float32Array) {
  random = seeded(3);
  const g = new Graph();
  g.reserve('x');
  const x: Value = { name: 'x', shape: [1, 2, 5, 5], layout: 'keras' };
  const out = build(g, x);
  const folds = fold ? foldGraph(g, new Set([out])) : undefined;
  const outValue: Value = { name: out, shape: [1, null, null, null], layout: 'keras' };
  const message = toModelMessage(g, {
    inputs: [x],
    outputs: [outValue],
    opset: 17,
    irVersion: 8,
    producerVersion: 'test',
    graphName: 'g',
  });
  const session = await ort.InferenceSession.create(encodeModel(message));
  const result = await session.run({ x: new ort.Tensor('float32', input, [1, 2, 5, 5]) });
  await session.release();
  return { data: result[out].data as Float32Array, ops: g.nodes.map((node) => node.op), folds };
}

async function sameResult(build: Build) {
  const input = Float32Array.from({ length: 50 }, seeded(9)).map((v) => 2 * v - 1);
  const before = await run(build, false, input);
  const after = await run(build, true, input);
  assert.equal(after.data.length, before.data.length);
  after.data.forEach((v, i) =>
    assert.ok(Math.abs(v - before.data[i]) <= 1e-5, `element ${i}: ${v} vs ${before.data[i]}`),
  );
  return after;
}

const conv = (g: Graph, input: string, pads = [1, 1, 1, 1]) =>
  g.op('Conv', 'conv', [input, g.floats('w', values(3 * 2 * 9), [3, 2, 3, 3]), g.floats('b', values(3), [3])], {
    kernel_shape: ints([3, 3]),
    pads: ints(pads),
  });
const affine = (g: Graph, input: string) => {
  const mul = g.op('Mul', 'scale', [input, g.floats('s', values(3, 0.5, 2), [1, 3, 1, 1])]);
  return g.op('Add', 'shift', [mul, g.floats('t', values(3), [1, 3, 1, 1])]);
};

test('BatchNormalization as Mul/Add after a Conv is folded into its kernel and bias (same result)', async () => {
  const after = await sameResult((g, x) => affine(g, conv(g, x.name)));
  assert.deepEqual(after.ops, ['Conv']);
  assert.equal(after.folds?.affine, 2);
});

test('not folded when the Conv output is read by another node too', async () => {
  const after = await sameResult((g, x) => {
    const y = conv(g, x.name);
    return g.op('Add', 'both', [affine(g, y), y]);
  });
  assert.deepEqual(after.ops, ['Conv', 'Mul', 'Add', 'Add']);
  assert.equal(after.folds?.affine, 0);
});

test('a per-position constant (not per channel) is not folded', async () => {
  const after = await sameResult((g, x) => g.op('Mul', 'm', [conv(g, x.name), g.floats('s', values(5), [5])]));
  assert.deepEqual(after.ops, ['Conv', 'Mul']);
});

test("a zero Pad is folded into the next Conv's pads, but not into a MaxPool", async () => {
  const pad = (g: Graph, x: string) =>
    g.op('Pad', 'pad', [x, g.int64s('p', [0, 0, 1, 0, 0, 0, 2, 1]), g.floats('v', [-0], [])], {
      mode: str('constant'),
    });
  const folded = await sameResult((g, x) => conv(g, pad(g, x.name), [0, 1, 0, 0]));
  assert.deepEqual(folded.ops, ['Conv']);
  assert.equal(folded.folds?.pads, 1);
  const kept = await sameResult((g, x) =>
    g.op('MaxPool', 'pool', [pad(g, x.name)], { kernel_shape: ints([2, 2]), pads: ints([0, 0, 0, 0]) }),
  );
  assert.deepEqual(kept.ops, ['Pad', 'MaxPool']);
});

test('relu6(x + 3) / 6 becomes HardSigmoid, and x times it HardSwish (same result)', async () => {
  const hardSigmoid = (g: Graph, x: string) => {
    const plus = g.op('Add', 'plus3', [x, g.scalar(3)]);
    const clip = g.op('Clip', 'relu6', [plus, g.scalar(0), g.scalar(6)]);
    return g.op('Mul', 'div6', [clip, g.scalar(1 / 6)]);
  };
  const swish = await sameResult((g, x) => g.op('Mul', 'hard_silu', [x.name, hardSigmoid(g, x.name)]));
  assert.deepEqual(swish.ops, ['HardSwish']);
  const sigmoid = await sameResult((g, x) => hardSigmoid(g, x.name));
  assert.deepEqual(sigmoid.ops, ['HardSigmoid']);
  // a HardSigmoid of another slope (Keras 2's 0.2x + 0.5) times x is no HardSwish
  const other = await sameResult((g, x) =>
    g.op('Mul', 'm', [x.name, g.op('HardSigmoid', 'hs', [x.name], { alpha: float(0.2), beta: float(0.5) })]),
  );
  assert.deepEqual(other.ops, ['HardSigmoid', 'Mul']);
});

test('docs/convert.md "ONNX output" holds the class table generated from src/onnx/layer-table.ts', () => {
  const docs = readFileSync(new URL('../../docs/convert.md', import.meta.url), 'utf8');
  const section = docs.slice(docs.indexOf('## ONNX output'));
  assert.ok(docs.includes('## ONNX output'), 'docs/convert.md has an "## ONNX output" section');
  const start = section.indexOf(ONNX_TABLE_BEGIN);
  const end = section.indexOf(ONNX_TABLE_END);
  assert.ok(start >= 0 && end > start, 'the section has the table markers');
  const regenerate =
    'node --import tsx -e "import(\'./src/onnx/onnx-doc.ts\').then((m) => console.log(m.onnxTableMarkdown()))"';
  assert.equal(section.slice(start, end + ONNX_TABLE_END.length), onnxTableMarkdown(), `regenerate: ${regenerate}`);
});
